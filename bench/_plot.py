"""The one plotting helper of the bench/ sweeps: notebooks' Performance sections draw the CSVs with it.

Not a benchmark itself (bench/run.py skips files whose name starts with `_`). A notebook loads it without
touching sys.path:  `plot_sweep = runpy.run_path('../bench/_plot.py')['plot_sweep']`.
"""
import csv
import matplotlib.pyplot as plt

YLABELS = {'ms': 'time (ms)', 'peak_mb': 'peak extra memory (MB)'}


def read_rows(path, case, column='ms', allocator='warm'):
    "The rows of one case of a sweep's CSV that have a value in `column`, under one allocator setting."
    with open(path) as f:
        return [r for r in csv.DictReader(f) if r['case'] == case and r['allocator'] == allocator and r[column]]


def plot_sweep(path, case, impls, column='ms', ax=None, allocator='warm', prefix=''):
    "Log-log `column` of each implementation in `impls` against the input's size (elements), from a CSV."
    rows = read_rows(path, case, column, allocator)
    ax = ax or plt.gca()
    for impl in impls:
        points = sorted((float(r['size']), float(r[column])) for r in rows if r['impl'] == impl)
        if points: ax.loglog(*zip(*points), 'o-', ms=3, label=prefix + impl)
    ax.set(xlabel='elements of the input', ylabel=YLABELS[column], title=case)
    ax.legend(fontsize=7)
    return ax
