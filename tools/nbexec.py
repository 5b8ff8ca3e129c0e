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

def save_executed(nb_path, nb, key):
    "Write the executed notebook `nb` of `nb_path` under _build/executed/, stamped with `key`."
    from execnb.nbio import nb2str
    nb.metadata['snnlit_executed'] = {'key': key}
    dest = executed_path(nb_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f'.{dest.name}.{os.getpid()}.tmp')
    tmp.write_text(nb2str(nb), encoding='utf-8')
    os.replace(tmp, dest)
    return dest

def is_fresh(nb_path, key):
    "Is there an executed copy of `nb_path` made from exactly these sources?"
    p = executed_path(nb_path)
    if not p.exists(): return False
    try: return json.loads(p.read_text(encoding='utf-8'))['metadata'].get('snnlit_executed', {}).get('key') == key
    except (ValueError, KeyError): return False
