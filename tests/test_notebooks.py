"""Run every component notebook under nbs/ as a test, through nbdev's own runner and its test flags.

The tutorials and the home page are run in a real Jupyter kernel instead (tests/test_tutorials_kernel.py), as a
user runs them; each notebook is executed once.

Each executed notebook, outputs and plots included, is saved under _build/executed/ (tools/nbexec.py) so that
`make docs` publishes it without executing it again.
"""
import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import nbexec

NBS = nbexec.NBS
NOTEBOOKS = [nb for nb in nbexec.notebooks() if not nbexec.in_kernel(nb)]

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb):
    # cuda-flagged cells run where a GPU is present and are skipped elsewhere
    skip_flags, force_flags = nbexec.flags()
    key = nbexec.source_key(nb, force_flags)
    ok, seconds, executed = nbexec.run_notebook(nb, skip_flags=skip_flags, force_flags=force_flags)
    assert ok, f'{nb.name} failed (see the traceback above)'
    nbexec.save_executed(nb, executed, key)
