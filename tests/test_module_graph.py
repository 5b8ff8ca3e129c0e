"""The package's import graph, read from the code (function-level imports included): no cycles, and no module
takes another module's `_private` name (public names of private modules, like `snnlit._checks.check_real`,
are fine)."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / 'snnlit'
MODULES = {p.stem: p for p in PKG.glob('*.py') if p.stem not in ('__init__', '_modidx')}

def _imports(path):
    "[(imported snnlit module, [names])] for every import of a snnlit module anywhere in `path`."
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1 and not mod:            # from . import surrogate
                out += [(a.name, []) for a in node.names]
            elif node.level == 1 or mod.startswith('snnlit.') or mod == 'snnlit':
                name = mod.split('.')[-1] if mod not in ('', 'snnlit') else None
                if name is None: out += [(a.name, []) for a in node.names]
                else: out.append((name, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name.split('.')[1], []) for a in node.names if a.name.startswith('snnlit.')]
    return [(m, names) for m, names in out if m in MODULES]

GRAPH = {m: _imports(p) for m, p in MODULES.items()}

def test_no_private_names_across_modules():
    bad = [f'{m} imports {n} from {dep}' for m, deps in GRAPH.items() for dep, names in deps
           for n in names if n.startswith('_') and dep != m]
    assert not bad, bad

def test_no_import_cycles():
    edges = {m: {dep for dep, _ in deps if dep != m} for m, deps in GRAPH.items()}
    state, stack, cycles = {}, [], []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for d in sorted(edges[m]):
            if state.get(d) == 'open': cycles.append(stack[stack.index(d):] + [d])
            elif d not in state: visit(d)
        stack.pop(); state[m] = 'done'
    for m in sorted(edges):
        if m not in state: visit(m)
    assert not cycles, 'import cycles: ' + '; '.join(' -> '.join(c) for c in cycles)

def test_functional_is_a_leaf():
    "snnlit.functional collects spikingjelly's helpers and re-exports: no other snnlit module imports it."
    users = [m for m, deps in GRAPH.items() if any(dep == 'functional' for dep, _ in deps) and m != 'functional']
    assert not users, users
