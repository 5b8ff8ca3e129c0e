"""Run a notebook exactly as nbdev's test runner does, and keep the executed copy for the docs.

`nbs/` holds notebooks without outputs. The notebook tests (tests/test_notebooks.py) run each one and save
the executed copy, outputs and plots included, under `_build/executed/`, stamped with a key of everything the
outputs depend on (the notebook, the package sources, settings.ini and the test flags). `make docs`
(tools/docs.py) publishes those copies and executes only the notebooks whose key has changed since.
"""
import hashlib, json, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
EXECUTED = ROOT / '_build' / 'executed'

def notebooks():
    "Every notebook under nbs/ that is tested and published (checkpoints and `_`-prefixed names excluded)."
    return sorted(p for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_'))

def flags():
    "(skip_flags, force_flags) as the tests use them: cuda cells run where CUDA exists, triton and nir cells where those packages are installed."
    import importlib.util, torch
    from nbdev.config import get_config
    force = (['cuda'] if torch.cuda.is_available() else []) + [f for f in ('triton', 'nir') if importlib.util.find_spec(f)]
    return get_config().tst_flags.split(), force

def source_key(nb_path, force_flags=()):
    "A digest of everything an executed notebook's outputs depend on."
    h = hashlib.sha256()
    files = [Path(nb_path).resolve(), ROOT / 'settings.ini'] + sorted((ROOT / 'snnlit').rglob('*.py'))
    for f in files: h.update(str(f.relative_to(ROOT)).encode() + b'\0' + f.read_bytes() + b'\0')
    h.update(' '.join(sorted(force_flags)).encode())
    return h.hexdigest()

def run_notebook(fn, skip_flags=None, force_flags=None):
    "nbdev.test.test_nb, returning the executed notebook too: (ok, seconds, nb)."
    from fastcore.foundation import L
    from fastcore.basics import str2bool
    from fastcore.xtras import working_directory
    from nbdev.process import NBProcessor, nb_lang
    from nbdev.frontmatter import FrontmatterProc
    from execnb.shell import CaptureShell
    from execnb.nbio import read_nb
    fn = Path(fn)
    os.environ['IN_TEST'] = '1'
    skip = set(L(skip_flags)) - set(L(force_flags))
    proc = NBProcessor(fn, procs=FrontmatterProc)
    for i, cell in enumerate(proc.nb.cells): cell.src_idx_ = i   # to copy outputs back to the unprocessed cells
    proc.process()
    nb = proc.nb
    fm = getattr(nb, 'frontmatter_', {})
    if str2bool(fm.get('skip_exec', False)) or nb_lang(nb) != 'python': return True, 0, read_nb(fn)

    def _no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return skip & direc.keys()

    start = time.time()
    k = CaptureShell(fn)
    try:
        with working_directory(fn.parent):
            k.run_all(nb, exc_stop=True, preproc=_no_eval)
        ok = True
    except Exception:
        sys.stderr.write(k.prettytb(fname=fn) + '\n')
        ok = False
    out = read_nb(fn)   # the notebook as written, directives and title cell included, with the outputs
    for cell in nb.cells:
        i = getattr(cell, 'src_idx_', None)
        if i is not None and cell.cell_type == 'code' and out.cells[i].cell_type == 'code':
            out.cells[i]['outputs'] = cell.get('outputs', [])
            out.cells[i]['execution_count'] = cell.get('execution_count')
    return ok, time.time() - start, out

def executed_path(nb_path): return EXECUTED / Path(nb_path).resolve().relative_to(NBS)

def _write_executed(nb_path, nb, key, to_text):
    "Write `to_text(nb)` under _build/executed/, stamped with `key`, atomically (a rename)."
    nb.metadata['snnlit_executed'] = {'key': key}
    dest = executed_path(nb_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f'.{dest.name}.{os.getpid()}.tmp')
    tmp.write_text(to_text(nb), encoding='utf-8')
    os.replace(tmp, dest)
    return dest

def save_executed(nb_path, nb, key):
    "Write the executed notebook `nb` of `nb_path` under _build/executed/, stamped with `key`."
    from execnb.nbio import nb2str
    return _write_executed(nb_path, nb, key, nb2str)

def is_fresh(nb_path, key):
    "Is there an executed copy of `nb_path` made from exactly these sources?"
    p = executed_path(nb_path)
    if not p.exists(): return False
    try: return json.loads(p.read_text(encoding='utf-8'))['metadata'].get('snnlit_executed', {}).get('key') == key
    except (ValueError, KeyError): return False

# ---------------------------------------------------------------------------------------------------------
# The tutorials (and the home page) run the way a user runs them: in a real Jupyter kernel (nbclient +
# ipykernel, as JupyterLab and `jupyter nbconvert --execute` do), not in nbdev's in-process shell. What nbdev's
# runner gives is kept: cells whose test flag is not forced (`#| cuda` without a GPU), `#| eval: false` cells and
# `nbdev_export()` cells are not run, a `skip_exec` front matter skips the notebook, IN_TEST=1 is set, the
# working directory is the notebook's folder, and the first error stops the run.

def in_kernel(nb_path):
    "Is `nb_path` tested (and published) from a run in a real Jupyter kernel? The tutorials and the home page."
    rel = Path(nb_path).resolve().relative_to(NBS)
    return rel.parts[0] == 'tutorials' or rel.as_posix() == 'index.ipynb'

SKIP_TAG = 'skip-execution'   # nbclient's own tag for cells it must not run

def kernel_env():
    "The kernel's environment: the tests' own, with IN_TEST=1 and matplotlib's inline backend (as in JupyterLab)."
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}
    env['IN_TEST'] = '1'
    env['PYTHONPATH'] = os.pathsep.join([str(ROOT)] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    return env

def run_in_kernel(fn, skip_flags=None, force_flags=None, timeout=900):
    "Execute `fn` in a fresh ipykernel with nbclient: (ok, seconds, nb, error). `nb` is an nbformat notebook."
    import nbformat
    from fastcore.foundation import L
    from fastcore.basics import str2bool
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    fn = Path(fn)
    nb = nbformat.read(fn, as_version=4)
    skip = set(L(skip_flags)) - set(L(force_flags))
    proc = NBProcessor(fn, procs=FrontmatterProc)
    for i, cell in enumerate(proc.nb.cells): cell.src_idx_ = i
    proc.process()
    if str2bool(getattr(proc.nb, 'frontmatter_', {}).get('skip_exec', False)): return True, 0, nb, None
    run = set()
    for cell in proc.nb.cells:
        if cell.cell_type != 'code' or getattr(cell, 'src_idx_', None) is None: continue
        direc = getattr(cell, 'directives_', {}) or {}
        if 'nbdev_export' + '(' in cell.source or direc.get('eval:', [''])[0].lower() == 'false' or skip & direc.keys(): continue
        run.add(cell.src_idx_)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code': continue
        cell.outputs, cell.execution_count = [], None
        tags = [t for t in cell.metadata.get('tags', []) if t != SKIP_TAG]
        if i not in run: tags.append(SKIP_TAG)
        if tags: cell.metadata['tags'] = tags
        else: cell.metadata.pop('tags', None)
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', skip_cells_with_tag=SKIP_TAG,
                            resources={'metadata': {'path': str(fn.parent)}})
    start, error = time.time(), None
    try: client.execute(env=kernel_env())
    except CellExecutionError as e: error = str(e)
    except Exception as e: error = f'{type(e).__name__}: {e}'
    for cell in nb.cells:                                 # the notebook as written: no tags added here
        tags = [t for t in cell.metadata.get('tags', []) if t != SKIP_TAG]
        if tags: cell.metadata['tags'] = tags
        else: cell.metadata.pop('tags', None)
    return error is None, time.time() - start, nb, error

def save_executed_nbformat(nb_path, nb, key):
    "As save_executed, for a notebook that nbclient executed."
    import nbformat
    return _write_executed(nb_path, nb, key, nbformat.writes)
