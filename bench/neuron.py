"""Multi-step IF/LIF neurons, forward + backward: snnlit's 'torch' and 'fused' backends beside spikingjelly 2.0.0.

    python bench/neuron.py [--T 32] [--B 128] [--N 1024] [--repeats 15] [--threads 1] [--device cpu]

Each row runs one neuron layer over a [T, B, N] float32 input and backpropagates a fixed gradient into the
input (`fwd` rows: forward only, under no_grad). spikingjelly runs with its default backend for the device
(on CPU its native multi-step function). All rows are timed interleaved in this one process (median of
repeats after warm-up), so the ratios hold on a noisy shared machine. The yardstick is `x.clone()` of the
[T, B, N] input, timed within each row (its cost swings with whether the allocator must fault in fresh pages).
Prints a markdown table.
"""
import argparse, platform, statistics, time
import torch
from snnlit.neuron import IFNode, LIFNode

try:
    from spikingjelly.activation_based import neuron as sjn
except ImportError:
    sjn = None

CASES = [  # name, snnlit class, spikingjelly class name, keyword arguments, backward?
    ('LIF τ=2, hard reset', LIFNode, 'LIFNode', dict(tau=2.0), True),
    ('LIF τ=2, soft reset, detach_reset', LIFNode, 'LIFNode', dict(tau=2.0, v_reset=None, detach_reset=True), True),
    ('LIF τ=3, decay_input=False', LIFNode, 'LIFNode', dict(tau=3.0, decay_input=False), True),
    ('IF, hard reset', IFNode, 'IFNode', {}, True),
    ('LIF τ=2, hard reset (fwd)', LIFNode, 'LIFNode', dict(tau=2.0), False),
]

def step(neuron, x, grad, backward):
    def run():
        neuron.reset()
        if not backward:
            with torch.no_grad(): neuron(x)
            return
        xg = x.detach().requires_grad_()
        torch.autograd.grad(neuron(xg), xg, grad)
    return run

def median_times(fns, repeats, sync):
    for _ in range(2):
        for fn in fns: fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            sync(); t0 = time.perf_counter(); fn(); sync()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--T', type=int, default=32)
    p.add_argument('--B', type=int, default=128)
    p.add_argument('--N', type=int, default=1024)
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--threads', type=int, default=1, help="torch threads (default 1: the machine is shared); 0 keeps torch's choice")
    p.add_argument('--device', default='cpu')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    torch.manual_seed(0)
    x = torch.rand(args.T, args.B, args.N, device=dev) * 1.5
    grad = torch.rand_like(x)
    rows = []
    for name, cls, sj_name, kw, backward in CASES:
        fns = [step(cls(step_mode='m', backend=b, **kw).to(dev), x, grad, backward) for b in ('torch', 'fused')]
        if sjn is not None: fns.append(step(getattr(sjn, sj_name)(step_mode='m', **kw).to(dev), x, grad, backward))
        fns.append(lambda: x.clone())   # the yardstick, timed in the same allocator state as the row
        *times, t_clone = median_times(fns, args.repeats, sync)
        rows.append((name, *times, *([float('nan')] if sjn is None else []), t_clone))
    print(f'# multi-step neurons, forward+backward, [T={args.T}, B={args.B}, N={args.N}] float32 on {args.device}; '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}; median of {args.repeats}')
    print(f'# spikingjelly: {"2.0.0, default backend" if sjn is not None else "not installed"}; '
          f'clone: x.clone() of the [T, B, N] input, timed with each row')
    print('| neuron | snnlit torch ms | snnlit fused ms | spikingjelly ms | clone ms | fused ×clone | torch / spikingjelly | fused / spikingjelly |')
    print('|---|---|---|---|---|---|---|---|')
    fmt = lambda t: '–' if t != t else f'{t * 1e3:.1f}'
    ratio = lambda a, b: '–' if b != b else f'{a / b:.2f}'
    for name, t_torch, t_fused, t_sj, t_clone in rows:
        print(f'| {name} | {fmt(t_torch)} | {fmt(t_fused)} | {fmt(t_sj)} | {fmt(t_clone)} | {t_fused / t_clone:.1f} | '
              f'{ratio(t_torch, t_sj)} | {ratio(t_fused, t_sj)} |')

if __name__ == '__main__': main()
