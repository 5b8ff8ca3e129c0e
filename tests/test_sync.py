"""The package, the README and the cleaned notebooks must all be in sync with nbs/."""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
# nbdev's notebook runner sets IN_TEST, which makes nbdev_export and nbdev_clean do nothing
ENV = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}

def test_export_leaves_package_unchanged(tmp_path):
    "Exporting the committed notebooks into a copy of the project reproduces snnlit/ exactly."
    for name in ('settings.ini', 'nbs'):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    (tmp_path / 'snnlit').mkdir()
    for init in (ROOT / 'snnlit').glob('*/**/__init__.py'):   # subpackages' hand-written docstrings: nbdev
        fresh_init = tmp_path / init.relative_to(ROOT)           # only adds an empty __init__.py where none is
        fresh_init.parent.mkdir(parents=True, exist_ok=True); fresh_init.write_text(init.read_text())
    subprocess.run([sys.executable, '-c', 'from nbdev.doclinks import nbdev_export; nbdev_export()'],
                   cwd=tmp_path, check=True, capture_output=True, env=ENV)
    fresh = {p.relative_to(tmp_path / 'snnlit'): p.read_text() for p in (tmp_path / 'snnlit').rglob('*.py')}
    ours = {p.relative_to(ROOT / 'snnlit'): p.read_text() for p in (ROOT / 'snnlit').rglob('*.py')}
    assert sorted(fresh) == sorted(ours), 'nbdev_export would add or remove modules: run `make export`'
    stale = [str(k) for k in fresh if fresh[k] != ours[k]]
    assert not stale, f'nbdev_export would change {stale}: run `make export`'

def test_notebooks_are_clean(tmp_path):
    "Committed notebooks are exactly what `nbdev_clean` makes of them."
    shutil.copytree(ROOT / 'nbs', tmp_path / 'nbs')
    shutil.copy(ROOT / 'settings.ini', tmp_path / 'settings.ini')
    subprocess.run([sys.executable, '-c', 'from nbdev.clean import nbdev_clean; nbdev_clean()'],
                   cwd=tmp_path, check=True, capture_output=True, env=ENV)
    dirty = [str(p.relative_to(ROOT)) for p in sorted((ROOT / 'nbs').rglob('*.ipynb'))
             if p.read_bytes() != (tmp_path / p.relative_to(ROOT)).read_bytes()]
    assert not dirty, f'not cleaned: {dirty}: run `make export`'

def test_readme_matches_index():
    res = subprocess.run([sys.executable, str(ROOT / 'tools' / 'readme.py'), '--check'], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
