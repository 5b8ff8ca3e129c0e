"""Sphinx configuration of the snnlit documentation site (`make docs`; see tools/docs.py).

The pages are the notebooks, executed and then processed by nbdev (show_doc API sections, links between
symbols), converted by tools/docs.py for MyST-NB; this file only styles and assembles them. Everything the
pages load is served from the site itself: MathJax comes from the `django-static-mathjax` package.
"""
import shutil
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_cfg = ConfigParser(delimiters=['='])
_cfg.read(ROOT / 'settings.ini', encoding='utf-8')
cfg = _cfg['DEFAULT']

project = cfg['lib_name']
author = cfg['author']
copyright = cfg['copyright']
release = version = cfg['version']

extensions = ['myst_nb', 'sphinx.ext.mathjax']
source_suffix = {'.ipynb': 'myst-nb', '.md': 'myst-nb'}
exclude_patterns = ['_build', '**.ipynb_checkpoints']
# show_doc sections are H3 wherever they stand; signatures with reprs like <class ...> are not valid Python
suppress_warnings = ['myst.header', 'misc.highlighting_failure']

# MyST: $...$ and $$...$$ math, {.class} attributes, ::: fences. Links are kept as written: tools/docs.py has
# already turned every link between notebooks into the relative URL of the page (nbdev's page names).
myst_enable_extensions = ['dollarmath', 'amsmath', 'attrs_block', 'colon_fence']
myst_dmath_double_inline = True
myst_all_links_external = True
smartquotes = False                        # code names and quotes stay as typed

# The notebooks are executed before the build (by the tests, or by tools/docs.py); never here.
nb_execution_mode = 'off'
nb_merge_streams = True
nb_output_stderr = 'show'

html_theme = 'furo'
html_title = project
html_short_title = project
html_static_path = [str(Path(__file__).parent / '_static')]
html_css_files = ['snnlit.css']
html_js_files = ['snnlit.js']   # wide figures: room beside the text column instead of shrinking (see the file)
html_favicon = str(Path(__file__).parent / '_static' / 'snnlit-icon.svg')
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {'top_of_page_buttons': []}   # pages are built from processed notebooks: no "edit" link
html_last_updated_fmt = None

# MathJax 3 from the django-static-mathjax package (no CDN): its es5 build, less the speech engine.
import mathjax as _mathjax_pkg
MATHJAX_ES5 = Path(_mathjax_pkg.__file__).parent / 'static' / 'mathjax' / 'es5'
mathjax_path = 'mathjax/tex-chtml.js'
# textmacros: `\_`, `\%`... inside `\text{}` typeset as in LaTeX instead of showing the backslash
mathjax3_config = {'loader': {'load': ['[tex]/textmacros']}, 'tex': {'packages': {'[+]': ['textmacros']}}}

def _copy_mathjax(app, exc):
    if exc is not None or app.builder.format != 'html': return
    dest = Path(app.outdir) / '_static' / 'mathjax'
    if dest.exists(): shutil.rmtree(dest)
    shutil.copytree(MATHJAX_ES5, dest, ignore=shutil.ignore_patterns('sre', 'node-main.js', '*-full*.js', '*svg*', 'mml-*.js',
                                                                       'tex-mml-*.js'))

def setup(app):
    app.connect('build-finished', _copy_mathjax)
