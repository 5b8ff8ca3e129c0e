"""JupyterLab, as a user meets it: `make lab` starts it in the project's environment, a tutorial opens in a real
browser and its first cells run in the kernel.

The test starts JupyterLab on 127.0.0.1 (a free port, a random token, a copy of the notebook in a temporary folder
so that nothing under nbs/ is touched, Jupyter's config/runtime/workspace folders temporary too), opens
`tutorials/getting_started.ipynb` in headless Chromium, runs its first cells with Shift+Enter and waits for
their execution counts, their outputs and a plot, failing on any error output. Each wait is bounded, the whole
test by about three minutes. Without Chromium and chromedriver it skips, saying that `make docs-check` installs
them and runs it.
"""
import os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / 'nbs' / 'tutorials' / 'getting_started.ipynb'
CODE_CELLS = 4              # imports, imports, a surrogate gradient, its plot
SERVER_START_S, LAB_LOAD_S, RUN_S = 90, 120, 120

def _browser():
    chrome = next((shutil.which(n) for n in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(n)), None)
    driver = shutil.which('chromedriver')
    return (chrome, driver) if chrome and driver else None

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server on 127.0.0.1 serving a copy of the tutorial: (base URL, token, notebook name)."
    if not _browser():
        pytest.skip('no browser: the JupyterLab browser test needs Chromium and chromedriver '
                    '(Debian packages chromium and chromium-driver; `make docs-check` installs them and runs it)')
    pytest.importorskip('jupyterlab', reason='JupyterLab is not installed: `make lab` / `make docs-check` installs it')
    pytest.importorskip('selenium', reason='selenium is not installed: `make docs-check` installs it')
    tmp = tmp_path_factory.mktemp('lab')
    work = tmp / 'notebooks'; work.mkdir()
    shutil.copy2(TUTORIAL, work / TUTORIAL.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}      # the kernel draws inline, as for a user
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]),
               JUPYTER_CONFIG_DIR=str(tmp / 'config'), JUPYTER_RUNTIME_DIR=str(tmp / 'runtime'),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / 'workspaces'), JUPYTERLAB_SETTINGS_DIR=str(tmp / 'settings'),
               IPYTHONDIR=str(tmp / 'ipython'))
    log = open(tmp / 'jupyterlab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1',
                             f'--ServerApp.port={port}', '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}',
                             f'--ServerApp.root_dir={work}'] + (['--allow-root'] if os.geteuid() == 0 else []),
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=5) as r:
                    if r.status == 200: break
            except OSError: pass
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                pytest.fail(f'JupyterLab did not start within {SERVER_START_S} s:\n' + (tmp / 'jupyterlab.log').read_text()[-3000:])
            time.sleep(0.5)
        yield base, token, TUTORIAL.name, tmp / 'jupyterlab.log'
    finally:
        proc.terminate()                                  # the server shuts its kernels down on SIGTERM
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait(10)
        log.close()

@pytest.fixture(scope='module')
def chrome(lab, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    binary, driver_path = _browser()
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in ('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage',
                 '--disable-background-networking', '--window-size=1440,1000',
                 f'--user-data-dir={tmp_path_factory.mktemp("chromium-lab")}'):
        opts.add_argument(flag)
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=driver_path))
    drv.set_page_load_timeout(LAB_LOAD_S)
    yield drv
    drv.quit()

# the state of the notebook's first cells, read from JupyterLab's DOM
_CELLS = """
const n = arguments[0];
const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
const code = cells.filter(c => c.classList.contains('jp-CodeCell')).slice(0, n);
return code.map(c => ({
  prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
  errors: [...c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(e => e.textContent).filter(t => /Traceback|Error/.test(t)).map(t => t.slice(0, 300)),
  images: c.querySelectorAll('.jp-OutputArea-output img').length,
  outputs: c.querySelectorAll('.jp-OutputArea-output').length}));
"""

def test_tutorial_runs_in_jupyterlab(lab, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    base, token, name, log = lab
    start = time.time()
    chrome.get(f'{base}/lab/tree/{name}?token={token}')
    try:
        WebDriverWait(chrome, LAB_LOAD_S).until(lambda d: len(d.execute_script(_CELLS, CODE_CELLS)) == CODE_CELLS)
        # the kernel is ready when the toolbar's status says idle
        WebDriverWait(chrome, LAB_LOAD_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]'))
    except Exception:
        pytest.fail(f'JupyterLab did not show {name} with an idle kernel within {LAB_LOAD_S} s\n' + log.read_text()[-2000:])
    loaded = time.time() - start
    first = chrome.find_elements(By.CSS_SELECTOR, '.jp-NotebookPanel .jp-Notebook .jp-Cell')[0]
    first.find_element(By.CSS_SELECTOR, '.jp-InputPrompt').click()          # select it (command mode)
    # Shift+Enter on every cell up to the last of the first CODE_CELLS code cells (markdown cells render)
    cells = chrome.execute_script("return [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')].map(c => c.classList.contains('jp-CodeCell'))")
    upto = [i for i, is_code in enumerate(cells) if is_code][CODE_CELLS - 1] + 1
    for _ in range(upto):
        ActionChains(chrome).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        time.sleep(0.3)
    def done(d):
        state = d.execute_script(_CELLS, CODE_CELLS)
        return state if all(s['prompt'].strip() not in ('[ ]:', '[*]:', '') for s in state) else False
    try: state = WebDriverWait(chrome, RUN_S).until(done)
    except Exception:
        pytest.fail(f'the first {CODE_CELLS} code cells did not finish within {RUN_S} s: {chrome.execute_script(_CELLS, CODE_CELLS)}')
    counts = [s['prompt'].strip() for s in state]
    assert counts == [f'[{i}]:' for i in range(1, CODE_CELLS + 1)], f'cells ran out of order or not at all: {counts}'
    errors = [e for s in state for e in s['errors']]
    assert not errors, f'error output in JupyterLab: {errors}'
    shots = ROOT / '_build' / 'screenshots'
    shots.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(shots / 'jupyterlab.png'))  # to look at: the tutorial after its first cells
    assert state[-1]['images'] >= 1, f'the plot cell shows no image: {state}'
    print(f'JupyterLab showed {name} in {loaded:.0f} s; its first {CODE_CELLS} code cells ran in '
          f'{time.time() - start - loaded:.0f} s')
