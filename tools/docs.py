"""Build the documentation site in `_docs/` from the notebooks (`make docs`), offline.

1. Executed notebooks: the copies that the notebook tests saved under `_build/executed/` (see tools/nbexec.py);
   a notebook whose sources changed since is executed again here, with the same runner (nbdev's for the
   component notebooks, a Jupyter kernel for the tutorials and the home page).
2. nbdev processes them into `_proc/`, exactly as `nbdev_proc_nbs` does (its own processors: frontmatter,
   a show_doc section for every exported symbol, links from `name` to its docs, hidden cells removed).
   Quarto, nbdev's renderer, is not needed: only `nbdev_proc_nbs`'s install-Quarto step is skipped.
3. Each processed notebook becomes a MyST-NB page under `_build/site/`, named as nbdev names pages
   (`00_surrogate.ipynb` -> `surrogate.html`), so that nbdev's links and anchors hold: show_doc outputs become
   markdown sections, links between notebooks become relative page URLs, Quarto cell options become MyST-NB
   tags. `api.md` lists every public symbol of every module with a link to its section.
4. Sphinx (docs/conf.py: MyST-NB, the Furo theme, MathJax served from the site) writes `_docs/`.
"""
import ast, inspect, json, os, posixpath, re, shutil, subprocess, sys, time
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import nbexec

NBS, BUILD = nbexec.NBS, ROOT / '_build'
EXECUTED, SITE, PROC, OUT = nbexec.EXECUTED, BUILD / 'site', ROOT / '_proc', ROOT / '_docs'
HTML = BUILD / 'html'          # Sphinx's own output folder (MyST-NB keeps its files beside it), copied to _docs/
NBS_OWN_FILES = {'_quarto.yml', 'nbdev.yml', 'sidebar.yml', 'styles.css'}   # nbdev's Quarto project files

def log(*args): print('[docs]', *args, flush=True)

# ---------------------------------------------------------------------------------------------------------
# 1. executed notebooks

def execute_stale(notebooks, execute=True):
    """Make sure every notebook has a fresh executed copy; return (reused, executed) counts. With
    `execute=False` (`--no-exec`, to work on the site's look), existing copies are used even if stale."""
    skip, force = nbexec.flags()
    reused, ran = 0, 0
    for nb in notebooks:
        key = nbexec.source_key(nb, force)
        if nbexec.is_fresh(nb, key): reused += 1; continue
        if not execute and nbexec.executed_path(nb).exists():
            log(f'{nb.relative_to(ROOT)}: publishing an executed copy made from older sources (--no-exec)')
            reused += 1; continue
        log(f'executing {nb.relative_to(ROOT)} (no executed copy from the tests for its current sources)')
        if nbexec.in_kernel(nb):                          # tutorials: in a Jupyter kernel, as their tests run them
            ok, seconds, executed, error = nbexec.run_in_kernel(nb, skip, force)
            if not ok: sys.exit(f'[docs] {nb.relative_to(ROOT)} failed in a Jupyter kernel:\n{error}\nThe site is not built')
            nbexec.save_executed_nbformat(nb, executed, key)
            ran += 1; continue
        ok, seconds, executed = nbexec.run_notebook(nb, skip, force)
        if not ok: sys.exit(f'[docs] {nb.relative_to(ROOT)} failed to run (traceback above): the site is not built')
        nbexec.save_executed(nb, executed, key)
        ran += 1
    wanted = {nbexec.executed_path(nb) for nb in notebooks}
    for p in EXECUTED.rglob('*.ipynb'):
        if p not in wanted: p.unlink()                    # a notebook that no longer exists
    return reused, ran

# ---------------------------------------------------------------------------------------------------------
# 2. nbdev's processing

MIXED = []   # cells that mix imports with other code (nbdev's FAQ: keep imports in cells of their own)

def _patch_exec_show_docs():
    """nbdev executes, to render show_doc, every cell that imports something; a cell that imports *and* computes
    (say `import matplotlib.pyplot as plt` and a plot of earlier results) then fails out of context. The executed
    copies already hold those cells' outputs, so here such cells are only reported, not run again."""
    import nbdev.processors as P
    def _do_eval(cell):
        if P.cell_lang(cell) != 'python': return
        if not cell.source or 'nbdev_export' + '()' in cell.source: return
        trees = cell.parsed_()
        if cell.cell_type != 'code' or not trees: return
        if cell.directives_.get('eval:', [''])[0].lower() == 'false': return
        if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: return True
        if P._ast_contains(trees, (ast.Import, ast.ImportFrom)):
            if all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees): return True
            MIXED.append(cell.source.splitlines()[0][:70])
            return False
        if P._show_docs(trees): return True
    P._do_eval = _do_eval

def nbdev_process():
    "nbdev_proc_nbs on the executed notebooks, without its install-Quarto step: writes `_proc/`."
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    refresh_quarto_yml()                                  # nbs/nbdev.yml from settings.ini, as nbdev_docs does
    if PROC.exists() and PROC.stat().st_mtime < max(Path(__file__).stat().st_mtime, (ROOT / 'snnlit/_modidx.py').stat().st_mtime):
        shutil.rmtree(PROC)                               # this converter or the symbol index changed: redo all
    _patch_exec_show_docs()
    with nbexec_cwd(ROOT): proc_nbs(str(EXECUTED), n_workers=0)   # in this process, so the patch applies
    if MIXED:
        log(f'note: {len(MIXED)} cell(s) mix imports with other code; nbdev_docs (Quarto) would run them to render '
            f'show_doc and may fail there. First lines: ' + '; '.join(repr(m) for m in MIXED))

class nbexec_cwd:
    def __init__(self, d): self.d = d
    def __enter__(self): self.old = os.getcwd(); os.chdir(self.d)
    def __exit__(self, *a): os.chdir(self.old)

# ---------------------------------------------------------------------------------------------------------
# 3. processed notebooks -> MyST-NB pages

def page_of(rel):
    "nbdev's page for the notebook at `rel` (relative to nbs/): `00_surrogate.ipynb` -> `surrogate.html`."
    from nbdev.doclinks import _nbpath2html
    return PurePosixPath(_nbpath2html(Path(rel)).as_posix())

def _settings():
    from nbdev.config import get_config
    cfg = get_config()
    return cfg, cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'

_re_link = re.compile(r'(\]\(|href=")([^)"\s]+)')

def fix_links(text, src_rel, page, site_url, documented=None):
    """Links to notebooks (`x.ipynb`, relative to the notebook) and to the published site (`site_url/...`, from
    nbdev's links to symbols) become page URLs relative to `page`. A link nbdev made to a symbol that has no
    show_doc section (a private helper) would point at a missing anchor: it becomes plain code."""
    if documented is not None:
        def unlink(m):
            path, _, frag = m.group(2)[len(site_url):].partition('#')
            return m.group(1) if frag and path in documented and frag not in documented[path] else m.group(0)
        text = re.sub(r'\[(`[^`\]]+`)\]\((' + re.escape(site_url) + r'[^)\s]*)\)', unlink, text)
    def repl(m):
        url = m.group(2)
        if url.startswith(site_url): target = url[len(site_url):]
        elif re.match(r'^[a-z][a-z0-9+.-]*:', url) or url.startswith(('#', '/')): return m.group(0)
        else:
            path, _, frag = url.partition('#')
            if not path.endswith('.ipynb'): return m.group(0)
            rel = posixpath.normpath(posixpath.join(PurePosixPath(src_rel).parent.as_posix(), path))
            target = page_of(rel).as_posix() + (f'#{frag}' if frag else '')
        path, _, frag = target.partition('#')
        new = posixpath.relpath(path or page.as_posix(), page.parent.as_posix() or '.') + (f'#{frag}' if frag else '')
        return m.group(1) + new
    return _re_link.sub(repl, text)

_re_text_macro = re.compile(r'\\(text|textrm|textit|textbf|texttt|mbox)\{([^{}$]*)\}')

def fix_text_underscores(md):
    """`\\text{v_seq}` is an error in LaTeX (and in MathJax with textmacros, which the site loads so that
    `\\text{correct\\_rate}` shows an underscore, not a backslash): escape bare underscores inside text macros."""
    return _re_text_macro.sub(lambda m: f'\\{m.group(1)}{{' + re.sub(r'(?<!\\)_', r'\\_', m.group(2)) + '}', md)

_re_math = re.compile(r'\$\$.*?\$\$|\$[^$\n]+\$', flags=re.S)

def _math_code(tex):
    "A markdown link nbdev made inside math is TeX noise: undone. `code` (a quote mark in TeX) becomes \\texttt{code}."
    tex = re.sub(r'\[(`[^`\]]+`)\]\([^)\s]+\)', r'\1', tex)
    return re.sub(r'`([^`$]+)`', lambda m: '\\texttt{' + re.sub(r'([{}])', r'\\\1', m.group(1)) + '}', tex)

def unlink_math(md):
    """nbdev links every `name` it knows, also inside math, where a markdown link is TeX noise: undo those; and
    `code` inside math is typeset as code instead of TeX's quote marks."""
    return _re_math.sub(lambda m: _math_code(m.group(0)), md)

def docutils_id(text):
    from docutils.nodes import make_id
    return make_id(text)

_re_source = re.compile(r'^\[source\]\((\S+?)\)(\{[^}]*\})?\s*$')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*$')

_re_src_module = re.compile(r'/blob/[^/]+/(.+?)\.py(?:#|$)')

def showdoc_markdown(md, page=None, site_url=None, documented=None):
    """show_doc's markdown (a Quarto rule, a `[source](url){attrs}` link, `### name`, signature, docstring) as
    MyST: a section headed `name`, with nbdev's anchor (`name.lower()`) where Sphinx's own id differs. nbdev
    writes the signature as Python with the docments as comments, where their markup shows raw; when the
    object can be found (its module from the source link), the signature is written without them and the
    docments follow the docstring as a parameter table (name, type, default, description), where they render."""
    out, source, heading_done, obj, name = [], None, False, None, None
    lines, i = md.strip().splitlines(), 0
    while i < len(lines):
        line = lines[i]; i += 1
        if not out and not heading_done and line.strip() in ('---', ''): continue
        m = _re_source.match(line)
        if m and source is None: source = re.sub(r'#LNone$', '', m.group(1)); continue
        h = _re_heading.match(line)
        if h and not heading_done:
            heading_done = True
            name = h.group(2)
            anchor = name.lower()
            if docutils_id(name) != anchor: out.append(f'<div id="{anchor}" class="nbdev-anchor"></div>\n')
            out.append(f'### {name}\n')
            if source: out.append(f'<a class="nbdev-source reference external" href="{source}" target="_blank" rel="noopener">[source]</a>\n')
            if source and page is not None and (sm := _re_src_module.search(source)):
                obj = resolve(name, sm.group(1).replace('/', '.'))
            continue
        if heading_done and obj is not None and line.startswith('```') and not any(l.startswith('```') for l in out):
            j = next((k for k in range(i, len(lines)) if lines[k].startswith('```')), None)
            sig = signature_block(obj, name) if j is not None else None
            if sig:
                out.append(sig); i = j + 1; continue
        out.append(line)
    if obj is not None and page is not None:
        table = params_markdown(obj, page, site_url, documented)
        if table: out += ['', table]
    return '\n'.join(out).strip() + '\n'

_re_ansi = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')

def clean_stream(text):
    "What a terminal would show: ANSI codes removed, each line only after its last carriage return."
    lines = []
    for line in _re_ansi.sub('', text).split('\n'):
        parts = [p for p in line.split('\r') if p]
        lines.append(parts[-1] if parts else '')
    return '\n'.join(lines)

_re_dir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def split_directives(src):
    "Quarto cell options that nbdev leaves at the top of a cell (`#| echo: false`), and the code below them."
    lines, opts = src.splitlines(), {}
    while lines and (m := _re_dir.match(lines[0])):
        opts[m.group(1)] = m.group(2).strip('"\'').lower(); lines.pop(0)
    while lines and lines[0].startswith('#|'): lines.pop(0)
    return opts, '\n'.join(lines)

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _md_cell(text): return {'cell_type': 'markdown', 'metadata': {}, 'source': text}

def showdoc_cells(nb):
    "The markdown outputs of a processed notebook's show_doc cells."
    for cell in nb['cells']:
        if cell['cell_type'] == 'code' and split_directives(_src(cell))[0].get('output') == 'asis':
            yield ''.join(''.join(o['data']['text/markdown']) if isinstance(o['data']['text/markdown'], list)
                          else o['data']['text/markdown'] for o in cell.get('outputs', []) if 'text/markdown' in o.get('data', {}))

def documented_anchors(nb):
    "nbdev's anchors (`name.lower()`) of the show_doc sections of a processed notebook."
    return {h.group(2).lower() for md in showdoc_cells(nb) for line in md.splitlines() if (h := _re_heading.match(line))}

def convert(nb, src_rel, site_url, documented=None):
    "A processed notebook (nbdev's `_proc/` copy of nbs/`src_rel`) as a MyST-NB notebook; returns (page, nb)."
    import yaml
    page, cells, fm = page_of(src_rel), [], {}
    for cell in nb['cells']:
        src = _src(cell)
        if cell['cell_type'] == 'raw':
            m = re.match(r'^---\s*\n(.*?)\n---\s*$', src.strip(), flags=re.S)
            if m and not fm: fm = yaml.safe_load(m.group(1)) or {}
            continue                                      # other raw cells are for Quarto only
        if cell['cell_type'] == 'markdown':
            if src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
            cells.append(_md_cell(fix_text_underscores(unlink_math(fix_links(src, src_rel, page, site_url, documented)))))
            continue
        opts, code = split_directives(src)
        if opts.get('include') == 'false': continue
        outputs = cell.get('outputs', [])
        if opts.get('output') == 'asis':                  # show_doc: its markdown is the page's markdown
            md = ''.join(''.join(o['data']['text/markdown']) if isinstance(o['data']['text/markdown'], list) else o['data']['text/markdown']
                         for o in outputs if 'text/markdown' in o.get('data', {}))
            if md.strip(): cells.append(_md_cell(fix_text_underscores(unlink_math(fix_links(showdoc_markdown(md, page, site_url, documented), src_rel, page, site_url, documented)))))
            continue
        tags = []
        if opts.get('echo') == 'false': tags.append('remove-input')
        elif opts.get('code-fold') in ('true', 'show'): tags.append('hide-input')   # Quarto's fold: a collapsed source
        if opts.get('output') == 'false': tags.append('remove-output')
        new_outputs = []
        merged = []                                       # a stream, as a terminal receives it: consecutive
        for o in outputs:                                 # pieces joined before carriage returns are applied
            if o['output_type'] == 'stream' and merged and merged[-1]['output_type'] == 'stream' and merged[-1]['name'] == o['name']:
                merged[-1] = {**merged[-1], 'text': merged[-1]['text'] + (''.join(o['text']) if isinstance(o['text'], list) else o['text'])}
            elif o['output_type'] == 'stream': merged.append({**o, 'text': ''.join(o['text']) if isinstance(o['text'], list) else o['text']})
            else: merged.append(o)
        for o in merged:
            if o['output_type'] == 'stream':
                text = clean_stream(o['text'])
                if text.strip(): new_outputs.append({**o, 'text': text})
            elif o['output_type'] in ('display_data', 'execute_result'):
                data = {k: v for k, v in o.get('data', {}).items() if not k.startswith('application/vnd.jupyter.widget')}
                if data: new_outputs.append({**o, 'data': data})
            else: new_outputs.append(o)
        if not code.strip() and not new_outputs: continue
        if not code.strip(): tags.append('remove-input')
        cells.append({'cell_type': 'code', 'execution_count': cell.get('execution_count'),
                      'metadata': {'tags': tags} if tags else {}, 'outputs': new_outputs, 'source': code})
    title = fm.get('title') or src_rel.stem
    head = f'# {title}\n'
    if fm.get('description'): head += f'\n{{.description}}\n{fm["description"]}\n'
    cells.insert(0, _md_cell(head))
    cells.insert(1, _md_cell(run_note(src_rel, page)))
    for i, c in enumerate(cells): c['id'] = f'cell-{i}'
    meta = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'},
            'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}
    return page, {'cells': cells, 'metadata': meta, 'nbformat': 4, 'nbformat_minor': 5}, title

NOTEBOOKS_DIR = '_notebooks'   # the site's copies of the notebooks (nbs/, without outputs), for download

def run_note(src_rel, page):
    "The line under each page's title: download the notebook, and how to run it (`make lab`)."
    cfg, _ = _settings()
    rel = PurePosixPath(src_rel.as_posix() if hasattr(src_rel, 'as_posix') else str(src_rel))
    href = posixpath.relpath(f'{NOTEBOOKS_DIR}/{rel}', page.parent.as_posix() or '.')
    return (f'{{.snnlit-run}}\n<a class="snnlit-download" href="{href}" download="{rel.name}">Download {rel.name}</a> '
            f'&nbsp;·&nbsp; **Run it:** in a clone of the [repository]({cfg.git_url}), `make lab` starts JupyterLab in '
            f"the project's environment; this notebook is `nbs/{rel}`.\n")

def copy_notebooks(dest):
    "nbs/'s notebooks as they are in the repository (no outputs) under `dest/_notebooks/`, linked from each page."
    for nb in nbexec.notebooks():
        target = dest / NOTEBOOKS_DIR / nb.relative_to(NBS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, target)

def write_if_changed(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding='utf-8') == text: return
    path.write_text(text, encoding='utf-8')

def _default_exp(nb_path):
    for cell in json.loads(nb_path.read_text(encoding='utf-8'))['cells']:
        if cell['cell_type'] == 'code' and (m := re.search(r'^#\|\s*default_exp\s+(\S+)', _src(cell), re.M)): return m.group(1)

# ---------------------------------------------------------------------------------------------------------
# API entries, generated from the code: signature, parameter table (type, default, docment), return, docstring

def _empty(v): return v is inspect.Parameter.empty

def _is_autograd_function(obj):
    import torch
    return inspect.isclass(obj) and issubclass(obj, torch.autograd.Function)

def _anno_str(a):
    "A type annotation as a reader writes it: `Tensor`, `float`, `Optional[Tensor]`."
    if _empty(a) or a is None: return ''
    if isinstance(a, str): return a
    if isinstance(a, type) and not getattr(a, '__args__', None): return a.__name__
    return re.sub(r'\b(typing|torch|collections\.abc|builtins|torch\.nn\.modules\.module)\.', '', inspect.formatannotation(a))

def _default_str(v):
    if inspect.isclass(v) or inspect.isfunction(v) or inspect.isbuiltin(v): return getattr(v, '__qualname__', repr(v))
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + '...'

def _value_str(v, width=90):
    "A module-level constant as a reader wants it: classes and functions by name, long values one item a line."
    name = lambda x: getattr(x, '__qualname__', None) if (inspect.isclass(x) or inspect.isfunction(x)) else repr(x)
    if isinstance(v, dict):
        items = [f'{k!r}: {name(x)}' for k, x in v.items()]
        one = '{' + ', '.join(items) + '}'
        return one if len(one) <= width else '{\n' + ''.join(f'    {i},\n' for i in items) + '}'
    r = repr(v)
    return r if len(r) <= 400 else r[:397] + '...'

def signature_target(obj):
    "(callable whose signature documents `obj`, parameters to drop, shown name suffix)."
    if _is_autograd_function(obj): return obj.forward, {'ctx'}, '.apply'
    if inspect.isclass(obj): return obj, {'self'}, ''
    return obj, {'self', 'cls'}, ''

def _docments(fn):
    "fastcore's docments of `fn` (and, for a class, of the same parameters of its base classes' __init__)."
    from fastcore.docments import docments
    try: d = {k: dict(v) for k, v in docments(fn, full=True).items()}
    except Exception: return {}
    if inspect.isclass(fn):
        for base in fn.__mro__[1:]:
            if '__init__' not in base.__dict__ or base.__module__.split('.')[0] != fn.__module__.split('.')[0]: continue
            try: bd = docments(base, full=True)
            except Exception: continue
            for k, v in d.items():
                if not v.get('docment') and k in bd and bd[k].get('docment'): v['docment'] = bd[k]['docment']
    return d

def format_signature(name, sig, drop=(), width=90):
    "`name(a: T = d, *, b=1) -> R`, one parameter per line when longer than `width`."
    P, parts, star, pos_only = inspect.Parameter, [], False, False
    params = [p for p in sig.parameters.values() if p.name not in drop]
    for i, p in enumerate(params):
        if p.kind == P.VAR_POSITIONAL: star = True
        if p.kind == P.KEYWORD_ONLY and not star: parts.append('*'); star = True
        a = _anno_str(p.annotation)
        s = {P.VAR_POSITIONAL: '*', P.VAR_KEYWORD: '**'}.get(p.kind, '') + p.name
        if a: s += f': {a}'
        if not _empty(p.default): s += (' = ' if a else '=') + _default_str(p.default)
        parts.append(s)
        if p.kind == P.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind != P.POSITIONAL_ONLY): parts.append('/')
    ret = _anno_str(sig.return_annotation)
    ret = f' -> {ret}' if ret else ''
    one = f'{name}({", ".join(parts)}){ret}'
    if len(one) <= width: return one
    return f'{name}(\n' + ''.join(f'    {p},\n' for p in parts) + f'){ret}'

def _cell(text): return ' '.join(str(text).split()).replace('|', '\\|')

def _md_linkify(text, page, site_url, documented):
    "nbdev's links from `name` to its docs (as in show_doc), then as relative page URLs."
    if not text: return ''
    try:
        from nbdev.doclinks import NbdevLookup
        text = NbdevLookup().linkify(text) or text
    except Exception: pass
    return fix_links(text, PurePosixPath(page.name).with_suffix('.ipynb'), page, site_url, documented)

def signature_block(obj, name):
    "A fenced Python block with the call signature of `obj`, or None where Python has none to give."
    fn, drop, suffix = signature_target(obj)
    try: sig = inspect.signature(fn)
    except (TypeError, ValueError): return None
    return f'```python\n{format_signature(name + suffix, sig, drop)}\n```\n'

def params_markdown(obj, page, site_url, documented=None):
    "The parameter table (name, type, default, docment) and the return of `obj`, as MyST markdown."
    fn, drop, _ = signature_target(obj)
    try: sig = inspect.signature(fn)
    except (TypeError, ValueError): return ''
    docs = _docments(fn)
    link = lambda t: _md_linkify(t, page, site_url, documented) if t else ''
    rows = []
    for p in sig.parameters.values():
        if p.name in drop: continue
        star = {inspect.Parameter.VAR_POSITIONAL: '*', inspect.Parameter.VAR_KEYWORD: '**'}.get(p.kind, '')
        typ = _anno_str(p.annotation) or ('' if _empty(p.default) or p.default is None else type(p.default).__name__)
        default = '' if _empty(p.default) else f'`{_cell(_default_str(p.default))}`'
        doc = (docs.get(p.name) or {}).get('docment') or ''
        rows.append(f'| `{star}{p.name}` | {f"`{_cell(typ)}`" if typ else ""} | {default} | {_cell(link(doc))} |')
    out = ''
    if rows and any(not re.fullmatch(r'\| `[^`]*` \|  \|  \|  \|', r) for r in rows):   # a table that says more than the signature
        out += '{.api-params}\n| Parameter | Type | Default | Description |\n|---|---|---|---|\n' + '\n'.join(rows) + '\n\n'
    if not inspect.isclass(obj) or _is_autograd_function(obj):
        ret, rdoc = _anno_str(sig.return_annotation), (docs.get('return') or {}).get('docment') or ''
        if ret or rdoc:
            out += '**Returns**' + (f' `{ret}`' if ret else '') + (f': {" ".join(link(rdoc).split())}' if rdoc else '') + '\n\n'
    return out

def _own_doc(obj):
    "The docstring written for `obj` itself (a class does not inherit nn.Module's)."
    doc = obj.__dict__.get('__doc__') if inspect.isclass(obj) else getattr(obj, '__doc__', None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else ''

def public_methods(cls):
    "The documented public methods (and properties) a class defines itself."
    if not inspect.isclass(cls) or _is_autograd_function(cls): return []
    return [(k, v) for k, v in cls.__dict__.items() if not k.startswith('_')
            and (inspect.isfunction(v) or isinstance(v, (property, staticmethod, classmethod))) and _own_doc(v)]

def resolve(qualname_in_module, module):
    "The object `module.a.b` names, or None."
    import importlib
    try: obj = importlib.import_module(module)
    except Exception: return None
    for part in qualname_in_module.split('.'):
        obj = inspect.getattr_static(obj, part, None) if inspect.isclass(obj) else getattr(obj, part, None)
        if obj is None: return None
    return obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj

def api_entry(mod, name, obj, page, site_url, documented, explained, anchor):
    "One entry of the API page: heading, kind and links, signature, docstring, parameters, return, methods."
    cfg, _ = _settings()
    full = f'{cfg.lib_name}.{mod}.{name}'
    kind = ('autograd function' if _is_autograd_function(obj) else 'class' if inspect.isclass(obj)
            else 'function' if callable(obj) else type(obj).__name__)
    lines = [f'<div id="{anchor}" class="api-anchor"></div>', '', f'### `{name}`', '']
    home = getattr(obj, '__module__', None)
    meta = [f'*{kind}*']
    if explained: meta.append(f'explained in {explained}')
    if home and home != f'{cfg.lib_name}.{mod}' and home.startswith(cfg.lib_name + '.') and callable(obj):
        meta.append(f'the same object as `{home}.{name}`')
    lines += [' · '.join(meta), '']
    if callable(obj):
        sig = signature_block(obj, name)
        if sig: lines.append(sig)
        doc = _own_doc(obj)
        if doc: lines += [_md_linkify(doc, page, site_url, documented), '']
        lines.append(params_markdown(obj, page, site_url, documented))
        for mname, m in public_methods(obj):
            f = m.fget if isinstance(m, property) else getattr(m, '__func__', m)
            lines += [f'**`{name}.{mname}`**' + (' *(property)*' if isinstance(m, property) else ''), '']
            if not isinstance(m, property) and (sig := signature_block(f, f'{name}.{mname}')): lines.append(sig)
            lines += [_md_linkify(_own_doc(m), page, site_url, documented), '']
            if not isinstance(m, property): lines.append(params_markdown(f, page, site_url, documented))
    else:
        lines += ['```python', f'{name}: {type(obj).__name__} = {_value_str(obj)}', '```', '']
    return '\n'.join(lines) + '\n'

def api_page(modules, documented):
    "Markdown of the API reference: every name in every module's `__all__`, generated from the code."
    import importlib
    from snnlit._modidx import d as modidx
    cfg, site_url = _settings()
    page = PurePosixPath('api.html')
    lines = ['# API reference', '', '{.description}',
             f'Every public name of every `{cfg.lib_name}` module (its `__all__`): the signature, each parameter with '
             'its type, default and description, what it returns, and a link to the notebook section that explains it.', '']
    for mod, (mpage, title) in modules.items():
        if mod.split('.')[-1].startswith('_'): continue   # private modules (snnlit._checks)
        m = importlib.import_module(f'{cfg.lib_name}.{mod}')
        names = getattr(m, '__all__', [])
        if not names: continue
        syms = modidx['syms'].get(f'{cfg.lib_name}.{mod}', {})
        lines += [f'## {cfg.lib_name}.{mod}', '', f'Explained in [{title}]({mpage.as_posix()}).', '',
                  '| name | summary |', '|---|---|']
        entries = []
        for name in names:
            obj = getattr(m, name, None)
            anchor = f'{cfg.lib_name}.{mod}.{name}'      # an HTML id: case kept (`atan` and `ATan` differ)
            doc = _own_doc(obj).split('\n\n')[0] if (inspect.isclass(obj) or callable(obj)) else ''
            lines.append(f'| [`{name}`](#{anchor}) | {_cell(_md_linkify(doc, page, site_url, documented))} |')
            home = getattr(obj, '__module__', '') or ''
            key = f'{home}.{name}' if home.startswith(cfg.lib_name + '.') else f'{cfg.lib_name}.{mod}.{name}'
            entry = modidx['syms'].get(home, {}).get(key) or syms.get(f'{cfg.lib_name}.{mod}.{name}')
            explained = None
            if entry:
                path, _, frag = entry[0].partition('#')
                where = next((t for p, t in modules.values() if p.as_posix() == path), title)
                if frag and frag in documented.get(path, set()): explained = f'[{where} › {name}]({path}#{frag})'
                else: explained = f'[{where}]({path})'
            else: explained = f'[{title}]({mpage.as_posix()})'
            entries.append(api_entry(mod, name, obj, page, site_url, documented, explained, anchor))
        lines += [''] + entries
    return '\n'.join(lines)

def make_site_sources(notebooks):
    "Write `_build/site/`: one MyST-NB notebook per notebook, the API page, nbs/'s other files (images)."
    cfg, site_url = _settings()
    written, components, tutorials, modules, index_nb = set(), [], [], {}, None
    processed = {}
    for nb_path in notebooks:
        rel = nb_path.relative_to(NBS)
        if not (PROC / rel).exists(): sys.exit(f'[docs] nbdev did not process {rel}')
        processed[nb_path] = json.loads((PROC / rel).read_text(encoding='utf-8'))
    documented = {page_of(p.relative_to(NBS)).as_posix(): documented_anchors(nb) for p, nb in processed.items()}
    for nb_path in notebooks:
        rel = nb_path.relative_to(NBS)
        page, out, title = convert(processed[nb_path], rel, site_url, documented)
        dest = SITE / page.with_suffix('.ipynb')
        docname = page.with_suffix('').as_posix()
        if docname == 'index': index_nb = (dest, out)
        elif rel.parts[0] == 'tutorials': tutorials.append((rel, docname))
        else: components.append((rel, docname))
        if (mod := _default_exp(nb_path)): modules[mod] = (page, title)
        if docname != 'index': write_if_changed(dest, json.dumps(out, indent=1, ensure_ascii=False))
        written.add(dest)
    if index_nb is None: sys.exit('[docs] nbs/index.ipynb is missing: it is the home page')
    # the home page gets the site's navigation: components in notebook order, then tutorials, then the API
    tutorials.sort(key=lambda t: (t[1] != 'tutorials/getting_started', t[0]))
    toc = ''
    for caption, docs in (('Notebooks', [d for _, d in components]), ('Tutorials', [d for _, d in tutorials]),
                          ('Reference', ['api'])):
        if docs: toc += f'```{{toctree}}\n:hidden:\n:caption: {caption}\n\n' + '\n'.join(docs) + '\n```\n\n'
    dest, out = index_nb
    out['cells'].append({**_md_cell(toc), 'id': 'toctree'})
    write_if_changed(dest, json.dumps(out, indent=1, ensure_ascii=False))
    api = SITE / 'api.md'
    write_if_changed(api, api_page(modules, documented)); written.add(api)
    for f in NBS.rglob('*'):                              # images and other files the notebooks refer to
        rel = f.relative_to(NBS)
        if (f.is_file() and f.suffix != '.ipynb' and str(rel) not in NBS_OWN_FILES
                and not any(p.startswith(('.', '_')) for p in rel.parts)):
            dest = SITE / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest); written.add(dest)
    for f in SITE.rglob('*'):                             # pages of notebooks that no longer exist
        if f.is_file() and f not in written: f.unlink()
    return len(components) + len(tutorials) + 1

# ---------------------------------------------------------------------------------------------------------
# 4. Sphinx

def sphinx():
    warnings = BUILD / 'sphinx-warnings.txt'
    # -a: write every page, so that each page's navigation lists pages added since the last build
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-a', '-j', 'auto', '-c', str(ROOT / 'docs'),
           '-d', str(BUILD / 'doctrees'), '-w', str(warnings), str(SITE), str(HTML)]
    res = subprocess.run(cmd, cwd=ROOT)
    if res.returncode: sys.exit(f'[docs] sphinx-build failed ({res.returncode})')
    tmp = OUT.with_name('_docs.tmp')
    if tmp.exists(): shutil.rmtree(tmp)
    shutil.copytree(HTML, tmp, ignore=shutil.ignore_patterns('.buildinfo*', '.doctrees', '_sources'))
    copy_notebooks(tmp)
    (tmp / '.nojekyll').touch()                          # GitHub Pages: serve _static/ and _images/ as they are
    if OUT.exists(): shutil.rmtree(OUT)
    tmp.rename(OUT)
    text = warnings.read_text() if warnings.exists() else ''
    if text.strip(): log(f'Sphinx warnings (also in {warnings.relative_to(ROOT)}):\n' + text)
    return text

def main():
    start = time.time()
    notebooks = nbexec.notebooks()
    reused, ran = execute_stale(notebooks, execute='--no-exec' not in sys.argv)
    log(f'{len(notebooks)} notebooks: {reused} executed copies reused from the tests, {ran} executed now '
        f'({time.time() - start:.0f} s)')
    nbdev_process()
    n = make_site_sources(notebooks)
    log(f'nbdev processed and converted {n} pages ({time.time() - start:.0f} s)')
    sphinx()
    log(f'site written to {OUT.relative_to(ROOT)}/ in {time.time() - start:.0f} s: open {OUT.relative_to(ROOT)}/index.html')

if __name__ == '__main__':
    os.environ.setdefault('MPLBACKEND', 'Agg')
    main()
