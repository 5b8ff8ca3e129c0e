"""The documentation site, as a reader's browser shows it.

Builds `_docs/` (tools/docs.py, i.e. `make docs`), serves it on 127.0.0.1 and opens every page in headless
Chromium: a page per notebook must exist, and no page may log a console error, request a file that is not
there, show TeX that MathJax did not typeset, raw `$`/`\\(` TeX or backtick-quoted markup in its text, backticks
inside math, a code block, table or figure wider than its box or the window, a figure rendered below 70 % of
its width, an API entry without a signature, a broken image, or a link to a page or anchor that does not
exist; each of these checks is proven once on a defect injected into a page. A screenshot of the top of every
page goes to `_docs/_screenshots/`. The workflows are checked to build and deploy with these same targets.

Without Chromium and chromedriver (Debian's `chromium` and `chromium-driver`; `make docs-check` installs them)
the browser tests skip, saying so. These tests run after all the others (tests/_docs_last.py), so that the
site reuses the notebooks that tests/test_notebooks.py and tests/test_tutorials_kernel.py have just executed.
"""
import configparser, functools, http.server, importlib, json, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, unquote
import pytest

pytest_plugins = ['_docs_last']

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / '_docs'
SHOTS = DOCS / '_screenshots'
sys.path.insert(0, str(ROOT / 'tools'))
import nbexec

def _expected_pages():
    "nbdev's page name for every notebook (00_surrogate.ipynb -> surrogate.html), plus the site's own pages."
    from nbdev.doclinks import _nbpath2html
    pages = [_nbpath2html(p.relative_to(nbexec.NBS)).as_posix() for p in nbexec.notebooks()]
    return sorted(set(pages) | {'index.html', 'api.html'})

PAGES = _expected_pages()

def _missing_engine():
    for mod in ('sphinx', 'myst_nb', 'furo', 'mathjax'):
        try: importlib.import_module(mod)
        except ImportError: return mod

def _browser():
    "(chromium, chromedriver) paths, or None."
    chrome = next((shutil.which(n) for n in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(n)), None)
    driver = shutil.which('chromedriver')
    return (chrome, driver) if chrome and driver else None

def test_quarto_config_is_nbdevs():
    "nbs/_quarto.yml and nbs/nbdev.yml are what nbdev 2 expects, so `nbdev_docs` works where Quarto is installed."
    import yaml
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml
    cfg = get_config()
    q = yaml.safe_load((ROOT / 'nbs' / '_quarto.yml').read_text())
    assert q['project']['type'] == 'website'
    assert q['metadata-files'] == ['nbdev.yml', 'sidebar.yml']
    assert (ROOT / 'nbs' / q['format']['html']['css']).exists()
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    vals['doc_path'] = cfg.doc_path.name
    assert (ROOT / 'nbs' / 'nbdev.yml').read_text() == _nbdev_yml.format(**vals), \
        'nbs/nbdev.yml is not what nbdev writes from settings.ini: run `make docs`'

def _steps(job):
    "(uses, run, with) of each step of a workflow job."
    return [(s.get('uses', '').split('@')[0], s.get('run', ''), s.get('with', {}) or {}) for s in job.get('steps', [])]

def _make_targets():
    return set(re.findall(r'^([A-Za-z][\w-]*):', (ROOT / 'Makefile').read_text(), flags=re.M))

def _runs_make(run, target):
    return any(re.match(rf'make\s+{re.escape(target)}(\s|$)', line.strip()) for line in run.splitlines())

def test_deploy_workflow_publishes_what_make_docs_builds():
    "deploy.yaml builds with `make docs` and publishes its output folder with GitHub's own Pages actions."
    import yaml
    from nbdev.config import get_config
    wf = yaml.safe_load((ROOT / '.github' / 'workflows' / 'deploy.yaml').read_text())
    jobs = wf['jobs']
    steps = {name: _steps(job) for name, job in jobs.items()}
    assert 'docs' in _make_targets()
    build = [n for n, st in steps.items() if any(_runs_make(r, 'docs') for _, r, _ in st)]
    assert len(build) == 1, 'deploy.yaml must build the site with `make docs`'
    uses = [u for u, _, _ in steps[build[0]]]
    assert 'actions/configure-pages' in uses and 'actions/upload-pages-artifact' in uses, uses
    i_make = next(i for i, (_, r, _) in enumerate(steps[build[0]]) if _runs_make(r, 'docs'))
    i_up, (_, _, with_) = next((i, s) for i, s in enumerate(steps[build[0]]) if s[0] == 'actions/upload-pages-artifact')
    assert i_make < i_up, 'the artifact is uploaded before `make docs` has built it'
    assert Path(with_.get('path', '')).as_posix().strip('/') == get_config().doc_path.name == '_docs', with_
    deploy = [n for n, st in steps.items() if any(u == 'actions/deploy-pages' for u, _, _ in st)]
    assert len(deploy) == 1, 'deploy.yaml must publish with actions/deploy-pages'
    job = jobs[deploy[0]]
    assert build[0] in ([job['needs']] if isinstance(job.get('needs'), str) else job.get('needs', [])) or deploy == build
    perms = {**(wf.get('permissions') or {}), **(job.get('permissions') or {})}
    assert perms.get('pages') == 'write' and perms.get('id-token') == 'write', perms
    assert job['environment']['name'] == 'github-pages'
    text = (ROOT / '.github' / 'workflows' / 'deploy.yaml').read_text()
    assert 'quarto' not in text.lower() and 'fastai/workflows' not in text, 'the site is built by `make docs`, not Quarto'

def test_ci_runs_the_tested_targets():
    "test.yaml (and .ci/run) run `make test`, `make test-portable` where the Makefile has it, and `make docs-check`."
    import yaml
    wf = yaml.safe_load((ROOT / '.github' / 'workflows' / 'test.yaml').read_text())
    runs = [r for job in wf['jobs'].values() for _, r, _ in _steps(job)]
    wanted = ['test'] + (['test-portable'] if 'test-portable' in _make_targets() else []) + ['docs-check']
    for target in wanted:
        assert target in _make_targets(), f'the Makefile has no `{target}` target'
        assert any(_runs_make(r, target) for r in runs), f'.github/workflows/test.yaml does not run `make {target}`'
    if (ROOT / '.ci' / 'run').exists():
        ci = (ROOT / '.ci' / 'run').read_text()
        for target in wanted: assert _runs_make(ci, target), f'.ci/run does not run `make {target}`'

# ---------------------------------------------------------------------------------------------------------
# the converter (tools/docs.py), without building the site

def _docs_module():
    import docs
    return docs

def test_convert_cell_options_streams_and_math():
    "Quarto cell options become MyST-NB tags; a kernel's stream pieces show as a terminal shows them; `code` in math."
    d = _docs_module()
    _, site_url = d._settings()
    code = lambda src, outputs=(): {'cell_type': 'code', 'source': src, 'outputs': list(outputs), 'metadata': {}, 'execution_count': 1}
    nb = {'cells': [{'cell_type': 'markdown', 'source': '$$H \\quad\\text{(`decay_input=True`)}$$', 'metadata': {}},
                    code('#| code-fold: true\ndef plot_it(): pass'), code('#| echo: false\nx = 1'),
                    code('train()', [{'output_type': 'stream', 'name': 'stdout', 'text': f'\rbatch {i}/3'} for i in range(1, 4)]
                                    + [{'output_type': 'stream', 'name': 'stdout', 'text': '\ndone\n'}])],
          'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    page, out, title = d.convert(nb, Path('06_online.ipynb'), site_url)
    md = ''.join(c['source'] for c in out['cells'] if c['cell_type'] == 'markdown')
    assert '\\texttt{decay\\_input=True}' in md and '`' not in md.split('$$')[1]
    assert 'make lab' in md and '_notebooks/06_online.ipynb' in md
    tags = [c['metadata'].get('tags', []) for c in out['cells'] if c['cell_type'] == 'code']
    assert tags[:2] == [['hide-input'], ['remove-input']], tags
    streams = out['cells'][-1]['outputs']
    assert len(streams) == 1 and streams[0]['text'] == 'batch 3/3\ndone\n', streams

def test_showdoc_signature_and_parameter_table():
    "A show_doc section: the signature without docment comments, then the docments in a table where markup renders."
    d = _docs_module()
    _, site_url = d._settings()
    md = ('---\n\n[source](https://github.com/snnlit/snnlit/blob/main/snnlit/tempotron.py#L34){target="_blank"}\n\n'
          '### psp_kernel\n\n```python\ndef psp_kernel(\n    t:Tensor, # time\n)->Tensor: # $e^{-t/\\tau}$\n```\n\n*The kernel.*')
    out = d.showdoc_markdown(md, PurePosixPath('tempotron.html'), site_url, {})
    assert '```python\npsp_kernel(t: Tensor, tau: float, tau_s: float) -> Tensor\n```' in out, out
    assert '| Parameter | Type | Default | Description |' in out and '| `tau_s` | `float` |' in out
    assert re.search(r'\*\*Returns\*\* `Tensor`: \S', out), out   # the return's docment follows its type
    assert '# time' not in out                             # nbdev's comments are gone from the signature

def test_api_page_has_signatures_and_tables():
    "Every public name gets an entry with its signature; functions with docments get a parameter table."
    d = _docs_module()
    from snnlit._modidx import d as modidx
    modules = {m.split('.', 1)[1]: (PurePosixPath(m.split('.', 1)[1] + '.html'), m) for m in modidx['syms']}
    md = d.api_page(modules, {})
    assert '_checks' not in md.split('\n## ')[0] and '## snnlit._checks' not in md
    for mod in modidx['syms']:
        if mod.split('.')[-1].startswith('_'): continue
        m = importlib.import_module(mod)
        for name in getattr(m, '__all__', []):
            anchor = f'<div id="{mod}.{name}" class="api-anchor"></div>'
            assert anchor in md, f'{mod}.{name} has no entry'
            entry = md.split(anchor, 1)[1].split('class="api-anchor"', 1)[0]
            if callable(getattr(m, name)): assert f'```python\n{name}' in entry, f'{mod}.{name}: no signature'
    entry = md.split('<div id="snnlit.neuron.LIFNode" class="api-anchor"></div>', 1)[1].split('api-anchor', 1)[0]
    assert '| `tau` | `float` | `2.0` | membrane time constant' in entry, entry[:2000]
    assert '| `v_threshold` | `float` | `1.0` |' in entry                 # docments inherited from BaseNode

@pytest.fixture(scope='module')
def site():
    "Build the site once for this module (reusing the executed notebooks of the notebook tests)."
    if (mod := _missing_engine()):
        pytest.skip(f'the documentation engine is not installed (no module {mod!r}): `make docs` installs it')
    start = time.time()
    res = subprocess.run([sys.executable, str(ROOT / 'tools' / 'docs.py')], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, 'MPLBACKEND': 'Agg'})
    print(res.stdout[-4000:], res.stderr[-4000:])
    assert res.returncode == 0, f'tools/docs.py failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}'
    print(f'site built in {time.time() - start:.0f} s')
    return DOCS

def test_site_has_a_page_per_notebook(site):
    missing = [p for p in PAGES if not (site / p).is_file()]
    assert not missing, f'pages missing from _docs/: {missing}'
    assert (site / 'search.html').is_file() and (site / 'searchindex.js').is_file()
    # nothing the pages need comes from the internet: no CDN scripts, styles or fonts
    for p in PAGES:
        html = (site / p).read_text(encoding='utf-8')
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        assert not remote, f'{p} loads {remote}'

def test_each_notebook_page_offers_its_notebook(site):
    "Under each notebook page's title: a link that downloads its .ipynb (as in nbs/), and `make lab` to run it."
    import html as H
    assert re.search(r'^lab:', (ROOT / 'Makefile').read_text(), flags=re.M), 'the Makefile has no `lab` target'
    from nbdev.doclinks import _nbpath2html
    for nb in nbexec.notebooks():
        rel = nb.relative_to(nbexec.NBS)
        page = site / _nbpath2html(rel)
        text = page.read_text(encoding='utf-8')
        m = re.search(r'<a class="snnlit-download" href="([^"]+)" download', text)
        assert m, f'{page.name}: no download link'
        target = (page.parent / H.unescape(m.group(1))).resolve()
        assert target.is_file() and target.read_bytes() == nb.read_bytes(), f'{page.name}: {m.group(1)} is not nbs/{rel}'
        assert 'make lab' in re.sub(r'\s+', ' ', H.unescape(re.sub(r'<[^>]+>', '', text))), f'{page.name}: no instructions to run it'

def test_home_page_is_the_readme(site):
    "The README's text is the home page's text."
    import html as H
    page = (site / 'index.html').read_text(encoding='utf-8')
    text = re.sub(r'\s+', ' ', H.unescape(re.sub(r'<[^>]+>', ' ', page)))
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    for para in re.findall(r'^[A-Za-z][^\n`|\[*]{40,}$', readme, flags=re.M)[:8]:
        words = ' '.join(para.split()[:8])
        assert words in text, f'README line {para!r} is not on the home page'

def test_api_reference_lists_every_public_symbol(site):
    "api.html links every name in every module's __all__ to a section that exists."
    from snnlit._modidx import d
    html = (site / 'api.html').read_text(encoding='utf-8')
    for mod in d['syms']:
        m = importlib.import_module(mod)
        for name in getattr(m, '__all__', []):
            assert re.search(rf'<code[^>]*><span class="pre">{re.escape(name)}</span></code>', html), f'{mod}.{name} not in api.html'

# ---------------------------------------------------------------------------------------------------------
# in the browser

class _Handler(http.server.SimpleHTTPRequestHandler):
    missing = []
    def log_message(self, *args): pass
    def send_error(self, code, message=None, explain=None):
        if code == 404: self.missing.append(self.path)
        super().send_error(code, message, explain)

@pytest.fixture(scope='module')
def server(site):
    _Handler.missing = []
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Handler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}/'
    httpd.shutdown()

@pytest.fixture(scope='module')
def browser(server, tmp_path_factory):
    found = _browser()
    if not found:
        pytest.skip('no browser: the docs browser check needs Chromium and chromedriver '
                    '(Debian packages chromium and chromium-driver; `make docs-check` installs them and runs it)')
    try: from selenium import webdriver
    except ImportError: pytest.skip('selenium is not installed: `make docs-check` installs it')
    from selenium.webdriver.chrome.service import Service
    chrome, driver_path = found
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--disable-dev-shm-usage', '--window-size=1440,1000', '--hide-scrollbars',
                 f'--user-data-dir={tmp_path_factory.mktemp("chromium-profile")}'):
        opts.add_argument(flag)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=driver_path))
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(60)
    yield drv
    drv.quit()

# JavaScript run in each page once it has loaded and MathJax has typeset it
_WAIT_MATHJAX = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(function wait() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise)
    MathJax.startup.promise.then(() => done('ok'), e => done('MathJax failed: ' + e));
  else if (!document.querySelector('.math')) done('no math');
  else if (Date.now() - t0 > 20000) done('MathJax never started');
  else setTimeout(wait, 50);
})();
"""

_INSPECT = r"""
const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
const texLike = /\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$]*\$/;
const backticks = /`[^`\s][^`]*`/;          // markdown code that was not rendered
const raw = [], rawCode = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const n = walker.currentNode;
  if (!n.parentElement || n.parentElement.closest(skip)) continue;
  if (texLike.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 120));
  if (backticks.test(n.textContent)) rawCode.push(n.textContent.trim().slice(0, 120));
}
// backticks inside math: TeX typesets them as quote marks, so look at the TeX MathJax was given
const mathItems = (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.document.math)
  ? [...MathJax.startup.document.math].map(m => m.math) : [];
const mathBackticks = mathItems.filter(t => t.includes('`')).map(t => t.slice(0, 120));
const untypeset = [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80));
// TeX errors: MathJax's error boxes, and undefined macros, which it typesets as their own name in red
const texErrors = [...document.querySelectorAll('mjx-merror')].map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80))
  .concat([...document.querySelectorAll('mjx-container')].filter(e => e.textContent.includes('\\')).map(e => e.textContent.slice(0, 80)));
const images = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
// horizontal overflow: a code block, table or figure whose content is wider than its box (cut off, or hidden
// behind a scroll bar), or that runs past the window's right edge
const viewport = document.documentElement.clientWidth;
const describe = e => (e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '')
  + ': ' + (e.textContent || e.getAttribute('src') || '').trim().slice(0, 60));
const boxes = 'article pre, article div.highlight, article table, article .table-wrapper, ' +
              'article div.cell_output a.image-reference, article div.cell_output .snnlit-figure, article img';
const overflow = [...document.querySelectorAll(boxes)].filter(e => {
  const r = e.getBoundingClientRect();
  if (r.width === 0) return false;
  return e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'IMG' || r.right > viewport + 1;
}).map(describe);
// figures rendered far below the width they were drawn for (a retina PNG's width attribute, else its pixels)
const small = [...document.querySelectorAll('article img')].filter(i => {
  const natural = parseFloat(i.getAttribute('width')) || i.naturalWidth;
  return natural >= 100 && i.getBoundingClientRect().width < 0.7 * natural - 1;
}).map(i => `${i.getAttribute('src').slice(-40)}: ${Math.round(i.getBoundingClientRect().width)} px of ${parseFloat(i.getAttribute('width')) || i.naturalWidth}`);
// API entries (api.html): every entry shows its signature in a code block that starts with its name
const unsigned = !document.querySelector('div.api-anchor') ? [] :
  [...document.querySelectorAll('article section')].filter(sec => sec.querySelector(':scope > h3')).map(sec => {
    const name = sec.querySelector(':scope > h3').textContent.replace(/[#¶]/g, '').trim();
    const pre = sec.querySelector('div.highlight pre');
    return pre && pre.textContent.trim().startsWith(name) ? null : name;
  }).filter(Boolean);
return {raw, rawCode, mathBackticks, untypeset, texErrors, images, links, overflow, small, unsigned, title: document.title,
        nav: document.querySelectorAll('.sidebar-tree a.reference').length,
        math: document.querySelectorAll('mjx-container').length, apiEntries: document.querySelectorAll('div.api-anchor').length};
"""

# what each browser check reports, and how the page test words it
CHECKS = {'raw': 'raw TeX in the text', 'rawCode': 'raw backtick-quoted markup in the text',
          'mathBackticks': 'backticks inside math (TeX shows quote marks)', 'untypeset': 'math not typeset by MathJax',
          'texErrors': 'TeX errors', 'images': 'broken images', 'overflow': 'content wider than its box (clipped or scrolled)',
          'small': 'figures rendered below 70 % of their width', 'unsigned': 'API entries without a signature'}

def _ids(path):
    html = path.read_text(encoding='utf-8')
    return set(re.findall(r'\bid="([^"]+)"', html)) | set(re.findall(r'\bname="([^"]+)"', html))

@functools.lru_cache(maxsize=None)
def _cached_ids(path): return _ids(Path(path))

def _check_link(site, base, href):
    "None if `href` (absolute URL) is external or resolves to a file (and anchor) in the site, else the problem."
    if not href.startswith(base): return None
    parts = urlsplit(href)
    path = site / unquote(parts.path.lstrip('/'))
    if path.is_dir(): path = path / 'index.html'
    if not path.is_file(): return f'{href}: no such page'
    if parts.fragment and path.suffix == '.html' and unquote(parts.fragment) not in _cached_ids(str(path)):
        return f'{href}: no anchor #{parts.fragment} in {path.relative_to(site)}'

@pytest.mark.parametrize('page', PAGES)
def test_page_in_browser(page, site, server, browser):
    _Handler.missing.clear()
    browser.get_log('browser')                            # drop what earlier pages logged
    browser.get(server + page)
    status = browser.execute_async_script(_WAIT_MATHJAX)
    assert status in ('ok', 'no math'), f'{page}: {status}'
    time.sleep(0.2)
    info = browser.execute_script(_INSPECT)
    errors = [e['message'] for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert not errors, f'{page}: console errors {errors}'
    assert not _Handler.missing, f'{page}: requests for files that do not exist: {_Handler.missing}'
    problems = {what: info[key][:5] for key, what in CHECKS.items() if info[key]}
    assert not problems, f'{page}: {problems}'
    if page == 'api.html': assert info['apiEntries'] >= 50, info['apiEntries']
    broken = [p for p in {_check_link(site, server, h) for h in info['links']} if p]
    assert not broken, f'{page}: broken links: {sorted(broken)[:10]}'
    assert info['nav'] >= len(PAGES) - 1, f'{page}: the navigation sidebar lists {info["nav"]} pages'
    SHOTS.mkdir(exist_ok=True)                            # the top of every page, to look at
    browser.save_screenshot(str(SHOTS / page.replace('/', '_').replace('.html', '.png')))

# Each check, proven: one defect of its kind injected into a page that passes, then the same inspection
_IMG = "(() => { const c = document.createElement('canvas'); c.width = 1600; c.height = 120; return c.toDataURL(); })()"
INJECTIONS = {
    'code block too wide': ('overflow', 'losses.html',
        "d.className = 'highlight'; d.innerHTML = '<pre style=\"white-space: pre\">test_fail(lambda: kernel_dot_product(x, y), '"
        " + 'contains=\"a message \" '.repeat(30) + ')</pre>';"),
    'table too wide': ('overflow', 'losses.html',
        "d.className = 'table-wrapper'; d.innerHTML = '<table class=\"docutils\"><tr><td style=\"white-space: nowrap\">' + "
        "'target potential '.repeat(60) + '</td></tr></table>';"),
    'figure past the edge': ('overflow', 'losses.html',
        "d.innerHTML = '<img style=\"max-width: none; width: 2600px\" src=\"' + " + _IMG + " + '\">';"),
    'figure squeezed': ('small', 'losses.html',
        "d.innerHTML = '<img width=\"1600\" style=\"width: 500px\" src=\"' + " + _IMG + " + '\">';"),
    'raw $math$': ('raw', 'losses.html', r"d.innerHTML = '<p>returns $e^{-t/\\tau} - e^{-t/\\tau_s}$ where t >= 0</p>';"),
    r'raw \( math \)': ('raw', 'losses.html', r"d.innerHTML = '<p>the step \\(\\Theta(x)\\) at 0</p>';"),
    'raw `code` markup': ('rawCode', 'losses.html', "d.innerHTML = '<p>a surrogate layer, e.g. [`ATan()`](surrogate.html#atan)</p>';"),
    'backticks in math': ('mathBackticks', 'losses.html',
        r"d.innerHTML = '<span class=\"math notranslate nohighlight\">\\(H[t] \\quad\\text{(`decay_input=True`)}\\)</span>';"),
    'API entry without a signature': ('unsigned', 'api.html',
        "const sec = [...document.querySelectorAll('article section')].find(s => s.querySelector(':scope > h3'));"
        "sec.querySelectorAll('div.highlight').forEach(h => h.remove());"),
}

_INJECT = """
const done = arguments[arguments.length - 1];
const d = document.createElement('div');
%s
if (d.innerHTML) document.querySelector('article section').appendChild(d);
const imgs = [...d.querySelectorAll('img')];
Promise.all(imgs.map(i => i.complete ? null : new Promise(r => i.addEventListener('load', r))))
  .then(() => (d.querySelector('.math') && window.MathJax) ? MathJax.typesetPromise([d]) : null)
  .then(() => done('ok'), e => done('failed: ' + e));
"""

@pytest.mark.parametrize('name', list(INJECTIONS))
def test_browser_check_catches(name, site, server, browser):
    "The page check reports a defect injected into a page that passes it."
    key, page, js = INJECTIONS[name]
    browser.get(server + page)
    assert browser.execute_async_script(_WAIT_MATHJAX) in ('ok', 'no math')
    before = browser.execute_script(_INSPECT)[key]
    assert not before, f'{page} already has {CHECKS[key]}: {before}'
    assert browser.execute_async_script(_INJECT % js) == 'ok'
    after = browser.execute_script(_INSPECT)[key]
    assert after, f'{name}: the check for {CHECKS[key]} did not see it'

def test_search_finds_a_symbol(site, server, browser):
    "The search page, from its offline index, finds `LIFNode` on the neuron page."
    browser.get(server + 'search.html?q=LIFNode')
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.common.by import By
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#search-results li a'))
    hrefs = [a.get_attribute('href') for a in browser.find_elements(By.CSS_SELECTOR, '#search-results li a')]
    assert any('neuron.html' in h for h in hrefs), hrefs
    errors = [e['message'] for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert not errors, errors

def test_screenshots_saved(site, browser):
    "Run after the page checks: both screenshots exist and are real PNG images."
    for name in ('index.png', 'surrogate.png'):
        p = SHOTS / name
        assert p.is_file() and p.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and p.stat().st_size > 20_000, p
