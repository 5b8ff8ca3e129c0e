"""The tutorials (nbs/tutorials/) and the home page (nbs/index.ipynb), run the way a user runs them.

Each notebook is executed in a real Jupyter kernel (nbclient + ipykernel: what JupyterLab and
`jupyter nbconvert --execute` do), not in nbdev's in-process shell; nbdev's test flags still apply (tools/nbexec.py:
`#| cuda` cells run only where CUDA is, `#| eval: false` cells never). This IS these notebooks' test:
tests/test_notebooks.py runs the component notebooks only, so nothing is executed twice. The executed copy is
saved for the documentation site, which then shows exactly what a kernel printed.

A notebook passes when no cell errs, and when its output stays bounded: a cell may not leave more than
MAX_OUTPUTS outputs, nor more than MAX_LINES lines of text once carriage returns are applied as a terminal does,
nor MAX_CHARS characters of stream text. A progress bar that prints a line (or a `\\r` update) per batch grows
with the data and fails; one that updates a single display in place (tqdm.notebook, fastprogress) passes.
"""
import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))
import nbexec

NBS = nbexec.NBS
NOTEBOOKS = [nb for nb in nbexec.notebooks() if nbexec.in_kernel(nb)]
IDS = [nb.relative_to(NBS).as_posix() for nb in NOTEBOOKS]

MAX_OUTPUTS = 16        # outputs of one cell
MAX_LINES = 80          # lines of one cell's stream text, as a terminal would show it
MAX_CHARS = 20_000      # characters of one cell's stream text as saved in the notebook

# Notebooks known to grow their output with the number of batches (strict xfails: an entry that starts to pass
# fails and must be deleted). None now: the tutorials' training loops show one tqdm bar per run.
GROWING = {}

_runs = {}

def _run(nb):
    "Execute `nb` in a kernel once per session (both tests below read the same run)."
    if nb not in _runs:
        skip, force = nbexec.flags()
        key = nbexec.source_key(nb, force)
        ok, seconds, out, error = nbexec.run_in_kernel(nb, skip, force)
        if ok: nbexec.save_executed_nbformat(nb, out, key)
        _runs[nb] = ok, seconds, out, error
    return _runs[nb]

def output_problems(nb):
    "What grows or errs in an executed notebook: a list of messages, one per offending cell."
    sys.path.insert(0, str(ROOT / 'tools'))
    from docs import clean_stream
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code': continue
        outs = cell.get('outputs', [])
        first = (cell.source.splitlines() or [''])[0][:60]
        errors = [o for o in outs if o.get('output_type') == 'error']
        if errors: problems.append(f'cell {i} ({first!r}): error output {errors[0].get("ename")}: {errors[0].get("evalue")}')
        text = ''.join(''.join(o.get('text', '')) for o in outs if o.get('output_type') == 'stream')
        lines = clean_stream(text).strip('\n').count('\n') + 1 if text.strip() else 0
        if len(outs) > MAX_OUTPUTS: problems.append(f'cell {i} ({first!r}): {len(outs)} outputs (at most {MAX_OUTPUTS})')
        if lines > MAX_LINES: problems.append(f'cell {i} ({first!r}): {lines} lines of text (at most {MAX_LINES})')
        if len(text) > MAX_CHARS: problems.append(f'cell {i} ({first!r}): {len(text)} characters of stream text (at most {MAX_CHARS})')
    return problems

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=IDS)
def test_runs_in_a_jupyter_kernel(nb):
    ok, seconds, out, error = _run(nb)
    assert ok, f'{nb.relative_to(NBS)} failed in a Jupyter kernel:\n{error}'
    errors = [p for p in output_problems(out) if 'error output' in p]
    assert not errors, errors

@pytest.mark.parametrize('nb', [pytest.param(nb, marks=pytest.mark.xfail(strict=True, reason=GROWING[i])) if i in GROWING
                                else nb for nb, i in zip(NOTEBOOKS, IDS)], ids=IDS)
def test_output_is_bounded(nb):
    ok, seconds, out, error = _run(nb)
    if not ok: pytest.skip('the notebook failed to run (see test_runs_in_a_jupyter_kernel)')
    problems = output_problems(out)
    assert not problems, f'{nb.relative_to(NBS)}: output that grows with the data:\n' + '\n'.join(problems)

def test_growing_output_is_caught():
    "The bounds catch a per-batch progress line, and accept one display updated in place."
    import nbformat
    from nbformat.v4 import new_notebook, new_code_cell, new_output
    per_batch = new_code_cell('train()', outputs=[new_output('stream', name='stdout', text=f'\rbatch {i}/344') for i in range(344)])
    in_place = new_code_cell('train()', outputs=[new_output('display_data', data={'text/plain': 'epoch 8/8 100% 43/43'})])
    lines = new_code_cell('train()', outputs=[new_output('stream', name='stdout', text=''.join(f'batch {i}\n' for i in range(344)))])
    err = new_code_cell('1/0', outputs=[new_output('error', ename='ZeroDivisionError', evalue='division by zero', traceback=[])])
    assert output_problems(new_notebook(cells=[in_place])) == []
    assert 'outputs' in output_problems(new_notebook(cells=[per_batch]))[0]
    assert 'lines of text' in output_problems(new_notebook(cells=[lines]))[0]
    assert 'error output' in output_problems(new_notebook(cells=[err]))[0]

def test_tutorial_notebooks_are_not_run_twice():
    "The component notebooks go through nbdev's runner (tests/test_notebooks.py), the tutorials through a kernel."
    import test_notebooks
    assert not set(test_notebooks.NOTEBOOKS) & set(NOTEBOOKS)
    assert set(test_notebooks.NOTEBOOKS) | set(NOTEBOOKS) == set(nbexec.notebooks())
