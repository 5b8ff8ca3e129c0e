"""Helpers shared by the bench/ scripts: the allocator setting, interleaved timing, peak memory, CSV rows.

Not a benchmark itself (bench/run.py skips files whose name starts with `_`).

Allocator: with glibc's defaults every tensor of more than a few MB is a fresh mmap whose pages fault in on first
touch (what a training loop with large tensors sees); `warm` re-executes the script with MALLOC_MMAP_MAX_=0 and a
huge MALLOC_TRIM_THRESHOLD_ so that freed memory stays in the heap and the numbers measure the kernels. Both
libraries and the yardsticks always run under the same setting in one process.

Every script writes its rows to nbs/data/bench/<name>.csv with the columns of `COLUMNS`: one row per
(case, size, implementation), `size` the number of elements of the main input (the x axis of the plots),
`ms` the median time, `peak_mb` the peak extra memory of one call where measured (else empty).
"""
import csv, os, platform, statistics, sys, time
from pathlib import Path

CSV_DIR = Path(__file__).resolve().parent.parent / 'nbs' / 'data' / 'bench'
WARM_HEAP = {'MALLOC_MMAP_MAX_': '0', 'MALLOC_TRIM_THRESHOLD_': str(2 ** 40)}
COLUMNS = ('bench', 'case', 'T', 'B', 'N', 'size', 'impl', 'ms', 'peak_mb', 'allocator', 'threads', 'device')


def allocator_from_argv(argv=None) -> str:
    "'default' if the command line asks for glibc's allocator (`--allocator default` or `=default`), else 'warm'."
    argv = sys.argv if argv is None else argv
    for i, a in enumerate(argv):
        if a == '--allocator=default' or (a == '--allocator' and i + 1 < len(argv) and argv[i + 1] == 'default'):
            return 'default'
    return 'warm'


def set_allocator() -> str:
    "Re-execute this script with the warm heap unless the default allocator is asked for; return the setting."
    setting = allocator_from_argv()
    if setting == 'warm' and any(os.environ.get(k) != v for k, v in WARM_HEAP.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **WARM_HEAP})
    return setting


def allocator_text(setting: str) -> str:
    if setting == 'warm': return 'warm heap (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=2**40)'
    return "glibc's default allocator (large tensors are fresh mmaps, page-faulted on first touch)"


def median_ms(fns, repeats, warmup=2, sync=lambda: None, max_s=None, clock=time.perf_counter):
    """Median time in ms of each of `fns`, measured interleaved (one call of each per round) so that they share
    the machine's load; with `max_s`, stop after the round that passes that many seconds (at least 3 rounds).
    `clock=time.process_time` counts this process's CPU time only (on a loaded machine: not the waits)."""
    for _ in range(warmup):
        for fn in fns: fn()
    times = [[] for _ in fns]
    start = time.perf_counter()
    for r in range(repeats):
        for fn, ts in zip(fns, times):
            sync(); t0 = clock(); fn(); sync()
            ts.append(clock() - t0)
        if max_s is not None and r >= 2 and time.perf_counter() - start > max_s: break
    return [statistics.median(ts) * 1e3 for ts in times]


def peak_mb(fn, device='cpu'):
    """Peak memory allocated by torch above what was live before, during one call of `fn`, in MB (10^6 bytes):
    on CUDA from the allocator's statistics, on the CPU from torch.profiler's allocation and free events."""
    import torch
    if str(device).startswith('cuda'):
        torch.cuda.synchronize(); base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats(); fn(); torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 1e6
    from torch.profiler import profile, ProfilerActivity
    sys.stderr.flush(); saved = os.dup(2); devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)   # the profiler's start/stop lines go to the C stderr
    try:
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            fn()
    finally:
        os.dup2(saved, 2); os.close(saved); os.close(devnull)
    steps = []   # (time, bytes): an op's own allocations at its start, frees as '[memory]' events
    for e in prof.events():
        if e.name == '[memory]':
            if e.cpu_memory_usage < 0: steps.append((e.time_range.start, e.cpu_memory_usage))
        elif e.self_cpu_memory_usage > 0: steps.append((e.time_range.start, e.self_cpu_memory_usage))
    cur = peak = 0
    for _, b in sorted(steps, key=lambda s: s[0]):
        cur += b; peak = max(peak, cur)
    return peak / 1e6


class Rows:
    "Rows for one bench's CSV; `add` one per (case, size, implementation)."
    def __init__(self, bench, allocator, threads, device='cpu'):
        self.bench, self.allocator, self.threads, self.device, self.rows = bench, allocator, threads, str(device), []

    def add(self, case, impl, ms, size, T='', B='', N='', peak=None):
        self.rows.append(dict(bench=self.bench, case=case, T=T, B=B, N=N, size=size, impl=impl,
                              ms=f'{ms:.4g}' if ms == ms else '', peak_mb='' if peak is None else f'{peak:.4g}',
                              allocator=self.allocator, threads=self.threads, device=self.device))

    def write(self, path=None):
        """Write the rows to `path` (default nbs/data/bench/<bench>.csv), replacing earlier rows of the same
        allocator and device, so that one file holds both allocator settings."""
        path = Path(path) if path else CSV_DIR / f'{self.bench}.csv'
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = []
        if path.exists():
            with path.open(newline='') as f:
                kept = [r for r in csv.DictReader(f)
                        if (r.get('allocator'), r.get('device')) != (self.allocator, self.device)]
        with path.open('w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader(); w.writerows(kept + self.rows)
        return path


def finish(rows: Rows, args):
    """Write the rows where asked: to --csv, or by default to nbs/data/bench/<name>.csv, except for --quick runs
    (which would replace a full sweep's rows with a few) and --no-csv."""
    if args.no_csv or (args.quick and args.csv is None):
        print('\n(rows not written: --quick or --no-csv; pass --csv PATH to keep them)')
    else: print(f'\nrows written to {rows.write(args.csv)}')


def machine_line(torch) -> str:
    return (f'torch {torch.__version__}, {platform.machine()}, {os.cpu_count()} logical CPUs, '
            f'{torch.get_num_threads()} torch thread(s)')


def add_common_args(p, csv_default=True):
    "The flags every sweep takes: --quick, --allocator, --csv/--no-csv, --threads."
    p.add_argument('--quick', action='store_true', help='fewer sizes and repeats (about a minute)')
    p.add_argument('--allocator', default='warm', choices=('warm', 'default'),
                   help="warm: freed memory stays in glibc's heap; default: glibc's own settings")
    p.add_argument('--threads', type=int, default=1, help="torch threads (default 1: the machine is shared)")
    p.add_argument('--csv', default=None,
                   help='where to write the rows (default nbs/data/bench/<name>.csv; with --quick, nowhere)')
    p.add_argument('--no-csv', action='store_true', help='print the table only')
    return p
