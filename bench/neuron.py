"""Multi-step IF/LIF neurons, forward + backward, from tiny to large layers: snnlit's backends beside spikingjelly 2.0.0.

    python bench/neuron.py [--quick] [--allocator warm|default] [--repeats 15] [--threads 1] [--device cpu]
                           [--csv PATH | --no-csv] [--cpu-time]

The sweep runs LIF (τ=2, hard reset) over [T, B, N] float32 inputs from T=4, B=64, N=100 through spikingjelly's
LIF MNIST sizes (T=4..100, B=64..128, N=784) to T=100, B=128, N=1024, with snnlit's 'torch' and 'fused' (and on
CUDA 'triton') backends and spikingjelly's default backend for the device; at T=32, B=128, N=1024 four more
cases (soft reset, decay_input=False, IF, forward only). Each row backpropagates a fixed gradient into the
input; all its entries are timed interleaved in this one process (median of repeats after warm-up) with
`x.clone()` of the input as the yardstick. The time floor of a fused layer is 6 passes over [T, B, N]
(forward reads X, writes S and H; backward reads H and the spikes' gradient, writes X's) = 3 clones (2 passes
forward only = 1 clone). Peak MB: the peak extra memory of one call (torch.profiler's allocation events on the
CPU); its floor is 3 tensors of the input's size (the spikes, one saved state, the input's gradient; 1 forward
only). The rows also go to nbs/data/bench/neuron.csv. --cpu-time times this process's CPU time instead of
the wall clock (on a shared, loaded machine the wall clock also counts the time other processes hold the core);
such runs print only, unless --csv is given.
"""
import argparse, importlib.util, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import set_allocator, allocator_text, median_ms, peak_mb, Rows, finish, machine_line, add_common_args
ALLOCATOR = set_allocator()

import torch
from snnlit.neuron import IFNode, LIFNode
try:
    from spikingjelly.activation_based import neuron as sjn
except ImportError:
    sjn = None

LIF = ('LIF τ=2, hard reset', LIFNode, 'LIFNode', dict(tau=2.0), True)
GOAL_CASES = [  # name, snnlit class, spikingjelly class name, keyword arguments, backward?
    ('LIF τ=2, soft reset, detach_reset', LIFNode, 'LIFNode', dict(tau=2.0, v_reset=None, detach_reset=True), True),
    ('LIF τ=3, decay_input=False', LIFNode, 'LIFNode', dict(tau=3.0, decay_input=False), True),
    ('IF, hard reset', IFNode, 'IFNode', {}, True),
    ('LIF τ=2, hard reset (fwd)', LIFNode, 'LIFNode', dict(tau=2.0), False),
]
SIZES = [(4, 64, 100), (4, 64, 784), (8, 128, 784), (16, 128, 784), (32, 128, 1024), (100, 64, 784),
         (100, 128, 1024)]
QUICK = [(4, 64, 784), (32, 128, 1024)]
GOAL = (32, 128, 1024)


def step(neuron, x, grad, backward):
    def run():
        neuron.reset()
        if not backward:
            with torch.no_grad(): neuron(x)
            return
        xg = x.detach().requires_grad_()
        torch.autograd.grad(neuron(xg), xg, grad)
    return run


def main():
    p = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--device', default='cpu')
    p.add_argument('--cpu-time', action='store_true', help="time this process's CPU time, not the wall clock")
    args = p.parse_args()
    if args.cpu_time and args.csv is None: args.no_csv = True   # the CSV holds wall-clock rows
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    backends = ('torch', 'fused') + (('triton',) if dev.type == 'cuda' and importlib.util.find_spec('triton') else ())
    repeats = 5 if args.quick else args.repeats
    rows = Rows('neuron', ALLOCATOR, torch.get_num_threads(), dev)
    torch.manual_seed(0)
    print(f'# multi-step neurons, float32 on {args.device}; {machine_line(torch)}; {allocator_text(ALLOCATOR)}; '
          f'median of {repeats}; {"CPU" if args.cpu_time else "wall-clock"} times in ms')
    print(f'# spikingjelly: {"2.0.0, default backend for the device" if sjn is not None else "not installed"}; '
          f'×floor: time / (3 clones, 1 forward only); mem ×floor: peak / (3 inputs, 1 forward only)')
    best = backends[-1]
    head = (['neuron', 'T', 'B', 'N'] + [f'snnlit {b}' for b in backends] + ['spikingjelly', 'clone', f'{best} ×floor']
            + [f'{b} / sj' for b in backends] + [f'{best} peak MB', 'sj peak MB', f'{best} mem ×floor'])
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    fmt = lambda t: '–' if t != t else f'{t:.2f}'
    runs = [(LIF, size) for size in (QUICK if args.quick else SIZES)] + [(case, GOAL) for case in GOAL_CASES]
    for (name, cls, sj_name, kw, backward), (T, B, N) in runs:
        x = torch.rand(T, B, N, device=dev) * 1.5
        grad = torch.rand_like(x)
        fns = [step(cls(step_mode='m', backend=b, **kw).to(dev), x, grad, backward) for b in backends]
        if sjn is not None: fns.append(step(getattr(sjn, sj_name)(step_mode='m', **kw).to(dev), x, grad, backward))
        fns.append(lambda: x.clone())   # the yardstick, timed in the same allocator state as the row
        clock = time.process_time if args.cpu_time else time.perf_counter
        *times, t_clone = median_ms(fns, repeats, sync=sync, max_s=30, clock=clock)
        if sjn is None: times.append(float('nan'))
        *ours, t_sj = times
        peak_ours = peak_mb(fns[len(backends) - 1], dev)
        peak_sj = peak_mb(fns[len(backends)], dev) if sjn is not None else float('nan')
        floor_t = t_clone * (3 if backward else 1)
        floor_mb = x.numel() * 4 / 1e6 * (3 if backward else 1)
        for b, t in zip(backends, ours):
            rows.add(name, f'snnlit {b}', t, x.numel(), T, B, N, peak_ours if b == best else None)
        rows.add(name, 'spikingjelly', t_sj, x.numel(), T, B, N, None if peak_sj != peak_sj else peak_sj)
        rows.add(name, 'clone', t_clone, x.numel(), T, B, N)
        cells = ([name, T, B, N] + [fmt(t) for t in times] + [fmt(t_clone), f'{ours[-1] / floor_t:.1f}']
                 + [('–' if t_sj != t_sj else f'{t / t_sj:.2f}') for t in ours]
                 + [f'{peak_ours:.0f}', fmt(peak_sj), f'{peak_ours / floor_mb:.1f}'])
        print('| ' + ' | '.join(map(str, cells)) + ' |', flush=True)
    finish(rows, args)


if __name__ == '__main__':
    main()
