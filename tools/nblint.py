"""What each notebook's content needs for the documentation site (issue 15, item 1), notebook by notebook.

    python tools/nblint.py            # every notebook under nbs/
    python tools/nblint.py nbs/00_surrogate.ipynb

Reports, per notebook: code lines longer than 100 columns; figures wider than 8 inches (the `figsize` in the
source, and the width of the images in the executed copy under _build/executed/, drawn at 100 dpi); plotting
helpers defined in cells that are shown (not `#| echo: false` / `#| code-fold`); docments and docstrings of
the public names the notebook exports that contain markup ($math$, `code`, links) — rendered on the site's
parameter tables, but shown raw by nbdev's own show_doc/Quarto signatures; backticks inside math; hand-written
progress bars. Exit status 0: this is a report, not a test.
"""
import ast, base64, json, re, struct, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import nbexec

MAX_COLS, MAX_INCHES, DPI = 100, 8.0, 100

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _png_width(b64):
    head = base64.b64decode(b64[:48])
    return struct.unpack('>I', head[16:20])[0] if head[:8] == b'\x89PNG\r\n\x1a\n' else None

def _directives(src):
    return {m.group(1): m.group(2) for m in re.finditer(r'^#\|\s*([\w-]+)\s*:?\s*(.*)$', src, flags=re.M)}

def lint(nb_path):
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    out, module = [], None
    for i, cell in enumerate(nb['cells']):
        src = _src(cell)
        if cell['cell_type'] == 'markdown':
            for m in re.finditer(r'\$\$.*?\$\$|\$[^$\n]+\$', src, flags=re.S):
                if '`' in m.group(0): out.append(f'cell {i}: backticks inside math: {m.group(0)[:70]!r}')
            continue
        if cell['cell_type'] != 'code': continue
        if (m := re.search(r'^#\|\s*default_exp\s+(\S+)', src, flags=re.M)): module = m.group(1)
        d = _directives(src)
        for n, line in enumerate(src.splitlines(), 1):
            if len(line) > MAX_COLS and not line.startswith('#|'):
                out.append(f'cell {i} line {n}: {len(line)} columns: {line[:60]!r}...')
        for m in re.finditer(r'figsize\s*=\s*\(\s*([\d.]+)\s*,\s*([\d.]+)', src):
            if float(m.group(1)) > MAX_INCHES: out.append(f'cell {i}: figsize=({m.group(1)}, {m.group(2)}) wider than {MAX_INCHES:g} in')
        shown = d.get('echo', '').strip().lower() != 'false' and 'code-fold' not in d and 'hide' not in d
        try: tree = ast.parse(re.sub(r'^\s*[%!].*$', '', src, flags=re.M))
        except SyntaxError: tree = None
        if shown and tree and 'export' not in d and 'exports' not in d:
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and re.search(r'\b(plt|ax|axes|fig)\.', ast.get_source_segment(src, node) or ''):
                    out.append(f'cell {i}: plotting helper `{node.name}` shown in full (fold or hide it: `#| code-fold: true` / `#| echo: false`)')
        if re.search(r'\bProgressBar\(', src) and 'class ProgressBar' not in src:
            out.append(f'cell {i}: hand-written ProgressBar (one stream output per batch in a Jupyter kernel)')
    executed = nbexec.executed_path(nb_path)
    if executed.exists():
        for i, cell in enumerate(json.loads(executed.read_text(encoding='utf-8'))['cells']):
            for o in cell.get('outputs', []):
                png = (o.get('data') or {}).get('image/png')
                if not png: continue
                png = ''.join(png) if isinstance(png, list) else png
                meta = (o.get('metadata') or {}).get('image/png') or {}
                px = meta.get('width') or _png_width(png)
                if px and px / DPI > MAX_INCHES: out.append(f'cell {i}: figure {px} px wide ({px / DPI:.1f} in at {DPI} dpi) in the executed copy')
            n_out = len(cell.get('outputs', []))
            if n_out > 16: out.append(f'cell {i}: {n_out} outputs in the executed copy (grows with the data?)')
    if module and not module.startswith('_'):
        out += docment_markup(module)
    return out

def docment_markup(module):
    "Docments and docstring first lines with markup, for the public names of `module`."
    import importlib, inspect
    from fastcore.docments import docments
    res = []
    try: m = importlib.import_module(f'snnlit.{module}')
    except Exception as e: return [f'cannot import snnlit.{module}: {e}']
    for name in getattr(m, '__all__', []):
        obj = getattr(m, name, None)
        if getattr(obj, '__module__', None) != m.__name__: continue
        fn = obj.forward if inspect.isclass(obj) and hasattr(obj, 'apply') and hasattr(obj, 'backward') else obj
        try: d = docments(fn, full=True)
        except Exception: continue
        for p, v in d.items():
            doc = v.get('docment') or ''
            if re.search(r'\$|`|\]\(', doc):
                res.append(f'{name}: docment of `{p}` has markup (raw in nbdev signatures): {doc[:70]!r}')
    return res

def main(paths):
    nbs = [Path(p).resolve() for p in paths] or nbexec.notebooks()
    total = 0
    for nb in nbs:
        found = lint(nb)
        total += len(found)
        if found:
            print(f'\n{nb.relative_to(ROOT)} ({len(found)})')
            for f in found: print('  ' + f)
    print(f'\n{total} findings in {len(nbs)} notebooks')

if __name__ == '__main__': main(sys.argv[1:])
