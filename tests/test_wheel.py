"""The release artefacts: `python -m build` makes an sdist and, from it, a wheel that holds the package only;
the wheel installs into a fresh virtual environment (with the pinned CPU torch) where every module imports
and `snnlit.__version__` is settings.ini's version."""
import configparser, json, os, subprocess, sys, tarfile, venv, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
_cfg = configparser.ConfigParser(delimiters=['='])
_cfg.read(ROOT / 'settings.ini', encoding='utf-8')
NAME, VERSION = _cfg['DEFAULT']['lib_name'], _cfg['DEFAULT']['version']
TORCH = os.environ.get('TORCH', 'torch==2.13.0')          # the Makefile's pin (override as for `make`)

def _modules(paths):
    "Dotted names of the modules and subpackages for `.py` paths like 'snnlit/x.py', 'snnlit/sub/__init__.py'."
    names = set()
    for p in map(Path, paths):
        parts = p.with_suffix('').parts
        if p.name == '__init__.py': parts = parts[:-1]
        if len(parts) > 1: names.add('.'.join(parts))
    return sorted(names)

MODULES = _modules(p.relative_to(ROOT).as_posix() for p in (ROOT / NAME).rglob('*.py') if '__pycache__' not in p.parts)

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    pytest.importorskip('build', reason='`python -m build` is not installed (`make wheel` and `make test` install it)')
    out = tmp_path_factory.mktemp('dist')
    res = subprocess.run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(out), str(ROOT)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out

def test_build_makes_an_sdist_and_a_wheel(dist):
    assert sorted(p.name for p in dist.iterdir()) == sorted([f'{NAME}-{VERSION}.tar.gz', f'{NAME}-{VERSION}-py3-none-any.whl'])
    with tarfile.open(dist / f'{NAME}-{VERSION}.tar.gz') as t:
        names = {n.split('/', 1)[1] for n in t.getnames() if '/' in n}
    for f in ['setup.py', 'settings.ini', 'pyproject.toml', 'README.md', 'LICENSE', f'{NAME}/__init__.py']:
        assert f in names, f'{f} missing from the sdist'

def test_wheel_holds_the_package_only(dist):
    with zipfile.ZipFile(dist / f'{NAME}-{VERSION}-py3-none-any.whl') as z:
        names = z.namelist()
        meta = z.read(f'{NAME}-{VERSION}.dist-info/METADATA').decode()
    stray = [n for n in names if not n.startswith((f'{NAME}/', f'{NAME}-{VERSION}.dist-info/'))]
    assert not stray, f'the wheel holds more than the package: {stray}'
    assert _modules(n for n in names if n.endswith('.py')) == MODULES
    assert f'Version: {VERSION}' in meta
    requires = [l.split(':', 1)[1].strip() for l in meta.splitlines() if l.startswith('Requires-Dist:') and 'extra ==' not in l]
    assert sorted(r.split('>')[0].split('=')[0].strip() for r in requires) == ['matplotlib', 'torch', 'tqdm'], requires

def test_wheel_installs_and_imports_in_a_fresh_venv(dist, tmp_path):
    env_dir = tmp_path / 'venv'
    venv.create(env_dir, with_pip=False)                   # this interpreter's pip installs into it (--python)
    py = env_dir / 'bin' / 'python'
    extra = ['--extra-index-url', os.environ['TORCH_INDEX_URL']] if os.environ.get('TORCH_INDEX_URL') else []
    res = subprocess.run([sys.executable, '-m', 'pip', '--python', str(py), 'install', '--no-compile', '-q', *extra,
                          TORCH, str(dist / f'{NAME}-{VERSION}-py3-none-any.whl')], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    script = f"""
import importlib, json, pkgutil, {NAME}, {NAME}.surrogate, {NAME}.neuron, torch
mods = sorted(m.name for m in pkgutil.walk_packages({NAME}.__path__, '{NAME}.'))
for m in mods: importlib.import_module(m)
x = torch.full((4, 2, 3), 1.5)
spikes = {NAME}.neuron.LIFNode(step_mode='m')(x)
print(json.dumps(dict(version={NAME}.__version__, file={NAME}.__file__, modules=mods, spikes=spikes.sum().item(),
                      torch=torch.__version__)))
"""
    res = subprocess.run([str(py), '-c', script], cwd=tmp_path, capture_output=True, text=True, env={'PATH': os.environ['PATH']})
    assert res.returncode == 0, res.stderr[-3000:]
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info['version'] == VERSION
    assert Path(info['file']).resolve().is_relative_to(env_dir.resolve()), f'imported {info["file"]}, not the installed wheel'
    assert [m for m in info['modules'] if not m.split('.')[-1].startswith('_')] == [m for m in MODULES if not m.split('.')[-1].startswith('_')]
    assert info['spikes'] > 0
    res = subprocess.run([str(py), '-m', f'{NAME}.demo', '--help'], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0 and 'usage' in res.stdout, res.stderr[-2000:]
    res = subprocess.run([sys.executable, '-m', 'pip', '--python', str(py), 'check'], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
