"""Run every notebook under nbs/ as a test, through nbdev's own runner and its test flags."""
from pathlib import Path
import pytest, torch
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook

NBS = Path(__file__).resolve().parent.parent / 'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_'))

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb):
    flags = get_config().tst_flags.split()
    # cuda-flagged cells run where a GPU is present and are skipped elsewhere
    force = ['cuda'] if torch.cuda.is_available() else []
    ok, seconds = run_notebook(nb, skip_flags=flags, force_flags=force)
    assert ok, f'{nb.name} failed (see the traceback above)'
