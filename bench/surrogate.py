"""Forward + backward of every surrogate on 10^7 float32 elements, beside spikingjelly, snntorch and `x.clone()`.

On CUDA (`--device cuda`) snnlit's backward is its one-pass Triton kernel when `triton` is installed.

Run: `python bench/surrogate.py [--n 10000000] [--repeats 15] [--device cpu] [--allocator=default]`. Prints a markdown table.
Every row is measured in this one process, interleaved, so the ratios hold even on a noisy shared machine.
glibc would otherwise mmap and page-fault every 40 MB tensor anew; MALLOC_MMAP_MAX_=0 keeps freed tensors in the
heap and a huge MALLOC_TRIM_THRESHOLD_ stops glibc returning it to the system, so the numbers measure the kernels
rather than the page faults (the script re-executes itself with both).
"""
import os, sys
WARM_HEAP = {'MALLOC_MMAP_MAX_': '0', 'MALLOC_TRIM_THRESHOLD_': str(2**40)}
if '--allocator=default' not in sys.argv and any(os.environ.get(k) != v for k, v in WARM_HEAP.items()):
    os.environ.update(WARM_HEAP)
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse, platform, statistics, time
import torch
from snnlit import surrogate as sl

def timeit(fn, repeats, sync):
    fn(); fn()   # warm-up
    times = []
    for _ in range(repeats):
        sync(); t0 = time.perf_counter(); fn(); sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)

def fwd_bwd(spike_fn, x, grad_out):
    def run():
        xg = x.detach().requires_grad_()
        y = spike_fn(xg)
        torch.autograd.grad(y, xg, grad_out)
    return run

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=10**7)
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--device', default='cpu')
    p.add_argument('--allocator', default='warm', choices=('warm', 'default'),
                   help="warm: glibc keeps freed tensors in its heap (kernels only); default: glibc's own settings, "
                        "where every large tensor is a fresh mmap whose pages fault in on first touch (what a training "
                        "loop sees); pass it as --allocator=default")
    args = p.parse_args()
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    torch.manual_seed(0)
    x = torch.randn(args.n, device=dev)
    grad_out = torch.rand(args.n, device=dev)
    buf = torch.empty_like(x)
    clone = timeit(lambda: x.clone(), args.repeats, sync)
    copy = timeit(lambda: buf.copy_(x), args.repeats, sync)

    try:
        from spikingjelly.activation_based import surrogate as sj
    except ImportError:
        sj = None
    try:
        from snntorch import surrogate as snt
    except ImportError:
        snt = None

    rows = []
    for name in ['PiecewiseQuadratic', 'PiecewiseExp', 'Sigmoid', 'SoftSign', 'ATan', 'NonzeroSignLogAbs', 'Erf',
                 'PiecewiseLeakyReLU']:
        ours = getattr(sl, name)().to(dev)
        t_ours = timeit(fwd_bwd(ours, x, grad_out), args.repeats, sync)
        t_sj = timeit(fwd_bwd(getattr(sj, name)().to(dev), x, grad_out), args.repeats, sync) if sj else float('nan')
        t_snt = float('nan')
        if snt is not None and name == 'Sigmoid':
            t_snt = timeit(fwd_bwd(snt.sigmoid(slope=4.0), x, grad_out), args.repeats, sync)
        rows.append((name, t_ours, t_sj, t_snt))
    for name, ours, theirs in [('fast_sigmoid', sl.fast_sigmoid(), 'fast_sigmoid'), ('triangular', sl.triangular(), 'triangular'),
                               ('straight_through_estimator', sl.straight_through_estimator(), 'straight_through_estimator'),
                               ('spike_rate_escape', sl.spike_rate_escape(), 'spike_rate_escape')]:
        t_ours = timeit(fwd_bwd(ours.to(dev), x, grad_out), args.repeats, sync)
        t_snt = timeit(fwd_bwd(getattr(snt, theirs)(), x, grad_out), args.repeats, sync) if snt else float('nan')
        rows.append((name, t_ours, float('nan'), t_snt))

    heap = 'warm heap' if args.allocator == 'warm' else "glibc's default allocator"
    print(f'# surrogate forward+backward, {args.n:.0e} float32 elements on {args.device}, {heap}; torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}; median of {args.repeats}')
    print(f'# yardsticks: x.clone() {clone * 1e3:.2f} ms, copy into a preallocated buffer {copy * 1e3:.2f} ms; floor: the five '
          f'passes over memory forward+backward must make (read x, write spikes; read x and the gradient, write its gradient) '
          f'= 2.5 copies')
    print('| surrogate | snnlit ms | ×clone | ×copy | ×floor | spikingjelly ms | ×clone | snntorch ms | ×clone | snnlit / spikingjelly | snnlit / snntorch |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    fmt = lambda t: '–' if t != t else f'{t * 1e3:.2f}'
    fmtx = lambda t: '–' if t != t else f'{t / clone:.1f}'
    fmtr = lambda a, b: '–' if b != b else f'{a / b:.2f}'
    for name, ours, t_sj, t_snt in rows:
        print(f'| {name} | {fmt(ours)} | {fmtx(ours)} | {ours / copy:.1f} | {ours / (2.5 * copy):.1f} | {fmt(t_sj)} | {fmtx(t_sj)} | {fmt(t_snt)} | {fmtx(t_snt)} | '
              f'{fmtr(ours, t_sj)} | {fmtr(ours, t_snt)} |')

if __name__ == '__main__': main()
