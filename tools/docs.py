"""Build the documentation site in `_docs/` from the notebooks (`make docs`), offline.

1. Executed notebooks: the copies that the notebook tests saved under `_build/executed/` (see tools/nbexec.py);
   a notebook whose sources changed since is executed again here, with the same runner.
2. nbdev processes them into `_proc/`, exactly as `nbdev_proc_nbs` does (its own processors: frontmatter,
   a show_doc section for every exported symbol, links from `name` to its docs, hidden cells removed).
   Quarto, nbdev's renderer, is not needed: only `nbdev_proc_nbs`'s install-Quarto step is skipped.
3. Each processed notebook becomes a MyST-NB page under `_build/site/`, named as nbdev names pages
   (`00_surrogate.ipynb` -> `surrogate.html`), so that nbdev's links and anchors hold: show_doc outputs become
   markdown sections, links between notebooks become relative page URLs, Quarto cell options become MyST-NB
   tags. `api.md` lists every public symbol of every module with a link to its section.
4. Sphinx (docs/conf.py: MyST-NB, the Furo theme, MathJax served from the site) writes `_docs/`.
"""
import ast, json, os, posixpath, re, shutil, subprocess, sys, time
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

def unlink_math(md):
    "nbdev links every `name` it knows, also inside math, where a markdown link is TeX noise: undo those."
    return _re_math.sub(lambda m: re.sub(r'\[(`[^`\]]+`)\]\([^)\s]+\)', r'\1', m.group(0)), md)

def docutils_id(text):
    from docutils.nodes import make_id
    return make_id(text)

_re_source = re.compile(r'^\[source\]\((\S+?)\)(\{[^}]*\})?\s*$')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*$')

def showdoc_markdown(md):
    """show_doc's markdown (a Quarto rule, a `[source](url){attrs}` link, `### name`, signature, docstring) as
    MyST: a section headed `name`, with nbdev's anchor (`name.lower()`) where Sphinx's own id differs."""
    out, source, heading_done = [], None, False
    for line in md.strip().splitlines():
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
            continue
        out.append(line)
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
            if md.strip(): cells.append(_md_cell(fix_text_underscores(unlink_math(fix_links(showdoc_markdown(md), src_rel, page, site_url, documented)))))
            continue
        tags = []
        if opts.get('echo') == 'false': tags.append('remove-input')
        if opts.get('output') == 'false': tags.append('remove-output')
        new_outputs = []
        for o in outputs:
            if o['output_type'] == 'stream':
                text = clean_stream(''.join(o['text']) if isinstance(o['text'], list) else o['text'])
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
    for i, c in enumerate(cells): c['id'] = f'cell-{i}'
    meta = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'},
            'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}
    return page, {'cells': cells, 'metadata': meta, 'nbformat': 4, 'nbformat_minor': 5}, title

def write_if_changed(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding='utf-8') == text: return
    path.write_text(text, encoding='utf-8')

def _default_exp(nb_path):
    for cell in json.loads(nb_path.read_text(encoding='utf-8'))['cells']:
        if cell['cell_type'] == 'code' and (m := re.search(r'^#\|\s*default_exp\s+(\S+)', _src(cell), re.M)): return m.group(1)

def api_page(modules):
    "Markdown of the API index: every name in every module's `__all__`, linked to the section documenting it."
    import importlib, inspect
    from snnlit._modidx import d as modidx
    cfg, _ = _settings()
    lines = ['# API reference', '',
             'Every public name of every `snnlit` module (its `__all__`), linked to the section of the notebook that '
             'documents it, with the first line of its docstring.', '']
    for mod, (page, title) in modules.items():
        m = importlib.import_module(f'{cfg.lib_name}.{mod}')
        syms = modidx['syms'].get(f'{cfg.lib_name}.{mod}', {})
        lines += [f'## {cfg.lib_name}.{mod}', '', f'Documented in [{title}]({page.as_posix()}).', '',
                  '| name | kind | summary |', '|---|---|---|']
        for name in getattr(m, '__all__', []):
            obj = getattr(m, name, None)
            entry = syms.get(f'{cfg.lib_name}.{mod}.{name}')
            link = entry[0] if entry else page.as_posix()
            kind = ('class' if inspect.isclass(obj) else 'function' if callable(obj) else type(obj).__name__)
            doc = (inspect.getdoc(obj) or '').strip().split('\n\n')[0].replace('\n', ' ') if (inspect.isclass(obj) or callable(obj)) else ''
            if inspect.isclass(obj) and doc == (inspect.getdoc(object) or ''): doc = ''
            doc = doc.replace('|', '\\|')
            lines.append(f'| [`{name}`]({link}) | {kind} | {doc} |')
        lines.append('')
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
    write_if_changed(api, api_page(modules)); written.add(api)
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
