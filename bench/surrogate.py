"""Forward + backward of every surrogate from 10^3 to 10^7 float32 elements, beside spikingjelly, snntorch and the yardsticks.

    python bench/surrogate.py [--quick] [--allocator warm|default] [--sizes 1000 ... ] [--repeats 15]
                              [--device cpu|cuda] [--threads 1] [--csv PATH | --no-csv]

On CUDA (`--device cuda`) snnlit's backward is its one-pass Triton kernel when `triton` is installed.
Every row is measured in this one process, interleaved (snnlit, the reference, `x.clone()` and a copy into a
preallocated buffer), so the ratios hold even on a noisy shared machine. The floor of forward + backward is
the five passes over memory it must make (read x, write the spikes; read x and the incoming gradient, write
x's gradient) = 2.5 copies. `peak MB` (largest size only): the peak extra memory of one snnlit call.
With the warm heap (the default) the numbers measure the kernels; `--allocator default` keeps glibc's own
settings, where every large tensor is a fresh mmap whose pages fault in on first touch (what a training loop
sees). The rows also go to nbs/data/bench/surrogate.csv (one file holds both settings).
"""
import argparse, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import set_allocator, allocator_text, median_ms, peak_mb, Rows, finish, machine_line, add_common_args
ALLOCATOR = set_allocator()

import torch
from snnlit import surrogate as sl

SJ_NAMES = ['PiecewiseQuadratic', 'PiecewiseExp', 'Sigmoid', 'SoftSign', 'ATan', 'NonzeroSignLogAbs', 'Erf',
            'PiecewiseLeakyReLU']
SNT_NAMES = ['fast_sigmoid', 'triangular', 'straight_through_estimator', 'spike_rate_escape']


def fwd_bwd(spike_fn, x, grad_out):
    def run():
        xg = x.detach().requires_grad_()
        y = spike_fn(xg)
        torch.autograd.grad(y, xg, grad_out)
    return run


def main():
    p = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument('--sizes', type=int, nargs='*', default=None, help='numbers of elements (default 10^3 .. 10^7)')
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--device', default='cpu')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    sizes = args.sizes or ([10 ** 4, 10 ** 6] if args.quick else [10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6, 10 ** 7])
    repeats = 5 if args.quick else args.repeats
    try:
        from spikingjelly.activation_based import surrogate as sj
    except ImportError:
        sj = None
    try:
        from snntorch import surrogate as snt
    except ImportError:
        snt = None
    rows = Rows('surrogate', ALLOCATOR, torch.get_num_threads(), dev)
    torch.manual_seed(0)
    print(f'# surrogate forward+backward, float32 on {args.device}; {machine_line(torch)}; {allocator_text(ALLOCATOR)}; '
          f'median of {repeats}; times in ms')
    print('# floor: 2.5 copies into a preallocated buffer (five passes over memory); ×clone: time / x.clone()')
    print('| surrogate | n | snnlit ms | ×clone | ×floor | reference ms | ×clone | snnlit / reference | peak MB |')
    print('|---|---|---|---|---|---|---|---|---|')
    fmt = lambda t: '–' if t != t else (f'{t:.3f}' if t < 1 else f'{t:.2f}')
    for n in sizes:
        x = torch.randn(n, device=dev)
        grad_out = torch.rand(n, device=dev)
        buf = torch.empty_like(x)
        cases = [(name, getattr(sl, name)().to(dev), getattr(sj, name)().to(dev) if sj else None, 'spikingjelly')
                 for name in SJ_NAMES]
        cases += [(name, getattr(sl, name)().to(dev), getattr(snt, name)() if snt else None, 'snntorch')
                  for name in SNT_NAMES]
        if snt is not None:
            cases.append(('Sigmoid vs snntorch', sl.Sigmoid().to(dev), snt.sigmoid(slope=4.0), 'snntorch'))
        for name, ours, ref, ref_name in cases:
            fns = [fwd_bwd(ours, x, grad_out), lambda: x.clone(), lambda: buf.copy_(x)]
            if ref is not None: fns.append(fwd_bwd(ref, x, grad_out))
            t_ours, t_clone, t_copy, *t_ref = median_ms(fns, repeats, sync=sync, max_s=15)
            t_ref = t_ref[0] if t_ref else float('nan')
            peak = peak_mb(fns[0], dev) if n == max(sizes) else None
            rows.add(name, 'snnlit', t_ours, n, peak=peak)
            rows.add(name, ref_name, t_ref, n)
            rows.add(name, 'clone', t_clone, n); rows.add(name, 'copy', t_copy, n)
            print(f'| {name} | {n:.0e} | {fmt(t_ours)} | {t_ours / t_clone:.1f} | {t_ours / (2.5 * t_copy):.1f} | '
                  f'{fmt(t_ref)} ({ref_name}) | {t_ref / t_clone:.1f} | {t_ours / t_ref:.2f} | '
                  f'{"" if peak is None else f"{peak:.0f}"} |', flush=True)
    finish(rows, args)


if __name__ == '__main__':
    main()
