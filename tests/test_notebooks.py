"""Run every notebook under nbs/ as a test, through nbdev's own runner and its test flags.

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
NOTEBOOKS = nbexec.notebooks()

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb):
    # cuda-flagged cells run where a GPU is present and are skipped elsewhere
    skip_flags, force_flags = nbexec.flags()
    key = nbexec.source_key(nb, force_flags)
    ok, seconds, executed = nbexec.run_notebook(nb, skip_flags=skip_flags, force_flags=force_flags)
    assert ok, f'{nb.name} failed (see the traceback above)'
    nbexec.save_executed(nb, executed, key)
