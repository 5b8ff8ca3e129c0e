"""Multi-step IF/LIF neurons, forward + backward: snnlit's 'torch', 'fused' (and on CUDA 'triton') backends beside spikingjelly 2.0.0.

    python bench/neuron.py [--T 32] [--B 128] [--N 1024] [--repeats 15] [--threads 1] [--device cpu]

Each row runs one neuron layer over a [T, B, N] float32 input and backpropagates a fixed gradient into the
input (`fwd` rows: forward only, under no_grad). spikingjelly runs with its default backend for the device
(on CPU its native multi-step function; on CUDA the Triton kernels it selects itself). With `--device cuda` and
the `triton` package installed, snnlit's 'triton' backend gets a column too. All rows are timed interleaved in this one process (median of
repeats after warm-up), so the ratios hold on a noisy shared machine. The yardstick is `x.clone()` of the
[T, B, N] input, timed within each row (its cost swings with whether the allocator must fault in fresh pages).
Prints a markdown table.
"""
import argparse, importlib.util, platform, statistics, time
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
    backends = ('torch', 'fused') + (('triton',) if dev.type == 'cuda' and importlib.util.find_spec('triton') else ())
    torch.manual_seed(0)
    x = torch.rand(args.T, args.B, args.N, device=dev) * 1.5
    grad = torch.rand_like(x)
    rows = []
    for name, cls, sj_name, kw, backward in CASES:
        fns = [step(cls(step_mode='m', backend=b, **kw).to(dev), x, grad, backward) for b in backends]
        if sjn is not None: fns.append(step(getattr(sjn, sj_name)(step_mode='m', **kw).to(dev), x, grad, backward))
        fns.append(lambda: x.clone())   # the yardstick, timed in the same allocator state as the row
        *times, t_clone = median_times(fns, args.repeats, sync)
        if sjn is None: times.append(float('nan'))
        # memory-traffic floor in [T, B, N] passes: forward reads X, writes S (and H when a backward follows);
        # backward reads H and the spikes' gradient, writes X's; a clone is two passes
        floor = t_clone * (3 if backward else 1)
        rows.append((name, times, t_clone, floor))
    print(f'# multi-step neurons, forward+backward, [T={args.T}, B={args.B}, N={args.N}] float32 on {args.device}; '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}; median of {args.repeats}')
    print(f'# spikingjelly: {"2.0.0, default backend for the device" if sjn is not None else "not installed"}; '
          f'clone: x.clone() of the [T, B, N] input, timed with each row; floor: the memory passes a fused layer must '
          f'make (6 for forward+backward, 2 forward only), in clones (2 passes each)')
    best = backends[-1]
    head = [f'snnlit {b} ms' for b in backends] + ['spikingjelly ms', 'clone ms', f'{best} ×floor'] + \
           [f'{b} / spikingjelly' for b in backends]
    print('| neuron | ' + ' | '.join(head) + ' |')
    print('|---|' + '---|' * len(head))
    fmt = lambda t: '–' if t != t else f'{t * 1e3:.1f}'
    ratio = lambda a, b: '–' if b != b else f'{a / b:.2f}'
    for name, times, t_clone, floor in rows:
        *ours, t_sj = times
        cells = [fmt(t) for t in times] + [fmt(t_clone), f'{ours[-1] / floor:.1f}'] + [ratio(t, t_sj) for t in ours]
        print(f'| {name} | ' + ' | '.join(cells) + ' |')

if __name__ == '__main__': main()
