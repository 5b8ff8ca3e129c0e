"""Benchmark snnlit.online's training functions against spikingjelly 2.0.0's, in one process, over a sweep of sizes.

One training call on one sequence (T steps, batch B) of a 3-layer spiking MLP n_in-H-H-10, the same weights and
data in both libraries: OTTT (OTTTSequential + OTTTLIFNode, `ottt_online_training(online=True)`), SLTT (SLTTLIFNode,
same function) and FPTT (LIFNode, `fptt_online_training`, spikingjelly's formulation). snnlit-only rows: SLTT-K
(K=2 of T, the SLTT authors' default, `k=2`) and FPTT in its authors' formulation (`formulation='authors'`), each
beside the spikingjelly method it replaces. Median time over repeats after warm-up, measured interleaved; the
yardstick is a plain BPTT step (forward over T, one backward) of the snnlit network with LIFNode, on the same data.

Sizes run from a tiny network (where per-step overhead is everything) to an MNIST-sized 784-1024-1024-10 MLP at
batch 128 (where the matrix products are). The rows are printed as a table and written to
nbs/data/bench/online.csv (--csv to change, --csv '' not to write). Then, at the default size, where the OTTT step's
time goes: the matrix products alone (what each library's step must compute at least: spikingjelly runs every
layer after a neuron on the trace as well, snnlit's fused trace-linear does not), the T optimizer steps alone, and
the rest (neurons, autograd bookkeeping, Python). Runs with MALLOC_MMAP_MAX_=0 (re-executes itself to set it).
    python bench/online.py [--sizes tiny small ...] [--T 16] [--threads 1] [--csv PATH]
"""
import argparse, csv, os, statistics, sys, time
from pathlib import Path

if os.environ.get('MALLOC_MMAP_MAX_') != '0':
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, 'MALLOC_MMAP_MAX_': '0'})

import torch
from torch import nn
import torch.nn.functional as F
from snnlit import online as ol
from snnlit.neuron import LIFNode
from snnlit.functional import reset_net
try:
    from spikingjelly.activation_based import neuron as sjn, layer as sjl, functional as sjf, surrogate as sjs
    from spikingjelly.activation_based.learning import online_learning as sjo
except ImportError:
    sjo = None

ROOT = Path(__file__).resolve().parent.parent
# name: (n_in, hidden, batch)
SIZES = {'tiny': (16, 16, 4), 'small': (64, 64, 16), 'medium': (256, 256, 32), 'default': (256, 512, 64),
         'mnist': (784, 800, 64), 'large': (784, 1024, 128)}
FIELDS = ['method', 'size', 'n_in', 'hidden', 'batch', 'T', 'macs_per_sequence', 'snnlit_ms', 'spikingjelly_ms',
          'snnlit_over_spikingjelly', 'bptt_ms', 'snnlit_over_bptt', 'reference']


def median_ms(fns, budget_s=1.5, min_repeats=3, max_repeats=15, warmup=2):
    "Interleaved medians; the repeat count fits the slowest function into about `budget_s` seconds."
    t0 = time.perf_counter()
    for _ in range(warmup):
        for fn in fns: fn()
    per_round = (time.perf_counter() - t0) / warmup
    repeats = max(min_repeats, min(max_repeats, int(budget_s * len(fns) / max(per_round, 1e-9))))
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) * 1e3 for ts in times]


def linears(n_in, h, n_out=10):
    torch.manual_seed(0)
    return [nn.Linear(n_in, h), nn.Linear(h, h), nn.Linear(h, n_out)]


def build(kind, lib, n_in, h):
    fc = linears(n_in, h)
    if lib == 'snnlit':
        node = {'ottt': ol.OTTTLIFNode, 'sltt': ol.SLTTLIFNode, 'fptt': lambda: LIFNode(tau=2.),
                'bptt': lambda: LIFNode(tau=2.)}[kind]
        seq = ol.OTTTSequential if kind == 'ottt' else nn.Sequential
    else:
        node = {'ottt': lambda: sjn.OTTTLIFNode(surrogate_function=sjs.Sigmoid()),
                'sltt': lambda: sjn.SLTTLIFNode(surrogate_function=sjs.Sigmoid()),
                'fptt': lambda: sjn.LIFNode(tau=2., surrogate_function=sjs.Sigmoid())}[kind]
        seq = sjl.OTTTSequential if kind == 'ottt' else nn.Sequential
    return seq(fc[0], node(), fc[1], node(), fc[2])


def trainers(n_in, h, B, T):
    "The training calls, each a closure over its own network, optimizer and the shared data."
    torch.manual_seed(1)
    x = torch.rand(B, n_in); labels = torch.randint(0, 10, (B,))
    x_bt, l_bt = x[:, None].expand(-1, T, -1), labels[:, None].expand(-1, T)
    x_tb, l_tb = x.expand(T, -1, -1), labels.expand(T, -1)
    loss_t = lambda y, t: F.cross_entropy(y, t) / T

    def trainer(kind, lib, **options):
        net = build(kind, lib, n_in, h)
        opt = torch.optim.SGD(net.parameters(), lr=1e-4)
        reset = reset_net if lib == 'snnlit' else sjf.reset_net
        mod = ol if lib == 'snnlit' else sjo
        if kind == 'fptt':
            w_ra = mod.fptt_online_training_init_w_ra(opt)
            if options.get('authors'):
                dual = ol.fptt_online_training_init_dual(opt)
                def run(): ol.fptt_online_training(net, opt, x_tb, l_tb, F.cross_entropy, 0.5, w_ra, 'authors', dual); reset(net)
            else:
                def run(): mod.fptt_online_training(net, opt, x_tb, l_tb, F.cross_entropy, 0.5, w_ra); reset(net)
        elif 'k' in options:
            gen = torch.Generator().manual_seed(0)
            def run(): ol.ottt_online_training(net, opt, x_bt, l_bt, loss_t, False, k=options['k'], generator=gen); reset(net)
        else:
            def run(): mod.ottt_online_training(net, opt, x_bt, l_bt, loss_t, True); reset(net)
        return run

    bptt_net = build('bptt', 'snnlit', n_in, h)
    bptt_opt = torch.optim.SGD(bptt_net.parameters(), lr=1e-4)
    def bptt():
        loss = sum(loss_t(bptt_net(x), labels) for _ in range(T))
        bptt_opt.zero_grad(); loss.backward(); bptt_opt.step(); reset_net(bptt_net)
    return trainer, bptt


# (label, snnlit trainer, spikingjelly trainer it is compared with, reference description)
METHODS = [('OTTT', ('ottt', {}), 'ottt', 'spikingjelly OTTT'),
           ('SLTT', ('sltt', {}), 'sltt', 'spikingjelly SLTT'),
           ('SLTT-K (K=2)', ('sltt', {'k': 2}), 'sltt', 'spikingjelly full SLTT'),
           ('FPTT', ('fptt', {}), 'fptt', 'spikingjelly FPTT'),
           ('FPTT (authors)', ('fptt', {'authors': True}), 'fptt', 'spikingjelly FPTT')]


def sweep(sizes, T):
    rows = []
    for size in sizes:
        n_in, h, B = SIZES[size]
        trainer, bptt = trainers(n_in, h, B, T)
        macs = T * B * (n_in * h + h * h + h * 10)
        refs = {kind: trainer(kind, 'sj') for kind in ('ottt', 'sltt', 'fptt')} if sjo else {}
        for label, (kind, options), ref_kind, ref_label in METHODS:
            ours = trainer(kind, 'snnlit', **options)
            ref = refs.get(ref_kind, lambda: None)
            t_ours, t_ref, t_bptt = median_ms([ours, ref, bptt])
            if not sjo: t_ref = float('nan')
            rows.append(dict(method=label, size=size, n_in=n_in, hidden=h, batch=B, T=T, macs_per_sequence=macs,
                             snnlit_ms=round(t_ours, 3), spikingjelly_ms=round(t_ref, 3),
                             snnlit_over_spikingjelly=round(t_ours / t_ref, 3), bptt_ms=round(t_bptt, 3),
                             snnlit_over_bptt=round(t_ours / t_bptt, 3), reference=ref_label))
            r = rows[-1]
            print(f"| {size} | {n_in}-{h}-{h}-10 | {B} | {label} | {t_ours:.1f} | {t_ref:.1f} | "
                  f"{r['snnlit_over_spikingjelly']:.2f} | {t_bptt:.1f} | {r['snnlit_over_bptt']:.2f} |", flush=True)
    return rows


def ottt_breakdown(n_in, h, B, T):
    "Where one OTTT training call's time goes, per library: matrix products alone, optimizer steps alone, rest."
    trainer, _ = trainers(n_in, h, B, T)
    torch.manual_seed(2)
    x, s1, s2 = torch.rand(B, n_in), (torch.rand(B, h) > 0.8).float(), (torch.rand(B, h) > 0.8).float()
    W = [lin.weight.detach() for lin in linears(n_in, h)]
    g1, g2, g3 = torch.randn(B, h), torch.randn(B, h), torch.randn(B, 10)
    def products(trace_forwards):
        def run():
            for _ in range(T):
                F.linear(x, W[0]); F.linear(s1, W[1]); F.linear(s2, W[2])          # forward
                if trace_forwards: F.linear(s1, W[1]); F.linear(s2, W[2])          # spikingjelly: layers on the trace
                g3 @ W[2]; g2 @ W[1]                                                # gradients to the spikes
                g3.T @ s2; g2.T @ s1; g1.T @ x                                      # weight gradients
        return run
    net = build('ottt', 'snnlit', n_in, h)
    opt = torch.optim.SGD(net.parameters(), lr=1e-4)
    for p in net.parameters(): p.grad = torch.randn_like(p)
    def steps():
        for _ in range(T): opt.step()
    fns = [trainer('ottt', 'snnlit'), trainer('ottt', 'sj') if sjo else (lambda: None), products(False), products(True),
           steps]
    ours, ref, mm_ours, mm_ref, opt_ms = median_ms(fns, budget_s=3.0)
    return dict(snnlit=ours, spikingjelly=ref, products_snnlit=mm_ours, products_spikingjelly=mm_ref, optimizer=opt_ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sizes', nargs='*', default=list(SIZES), choices=list(SIZES))
    ap.add_argument('--T', type=int, default=16)
    ap.add_argument('--threads', type=int, default=1, help='torch threads (1: the machine is shared)')
    ap.add_argument('--csv', default=str(ROOT / 'nbs' / 'data' / 'bench' / 'online.csv'),
                    help="where to write the rows ('' not to write them)")
    ap.add_argument('--no-breakdown', action='store_true', help='skip the OTTT time breakdown')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, MALLOC_MMAP_MAX_=0, '
          f'spikingjelly {"2.0.0" if sjo else "not installed"}; n_in-H-H-10 spiking MLP, T={args.T}; '
          f'median of 3-15 interleaved repeats after 2 warm-up runs\n')
    print('| size | MLP | B | method | snnlit ms | spikingjelly ms | snnlit / sj | BPTT ms | snnlit / BPTT |')
    print('|---|---|---|---|---|---|---|---|---|')
    rows = sweep(args.sizes, args.T)
    print('\n(spikingjelly column: the spikingjelly method named in the CSV `reference` column -- for SLTT-K its full '
          'SLTT, for the authors\' FPTT its FPTT. BPTT: one forward over T and one backward of the snnlit LIFNode '
          'network on the same data.)')
    if args.csv:
        path = Path(args.csv); path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=FIELDS); w.writeheader(); w.writerows(rows)
        print(f'\nrows written to {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}')
    if not args.no_breakdown:
        n_in, h, B = SIZES['default']
        b = ottt_breakdown(n_in, h, B, args.T)
        print(f'\nOTTT at the default size ({n_in}-{h}-{h}-10, B={B}, T={args.T}): where the time of one call goes, ms')
        print('| | snnlit | spikingjelly |\n|---|---|---|')
        print(f"| whole call | {b['snnlit']:.1f} | {b['spikingjelly']:.1f} |")
        print(f"| matrix products alone | {b['products_snnlit']:.1f} | {b['products_spikingjelly']:.1f} |")
        print(f"| T optimizer steps alone | {b['optimizer']:.1f} | {b['optimizer']:.1f} |")
        rest = [b['snnlit'] - b['products_snnlit'] - b['optimizer'],
                b['spikingjelly'] - b['products_spikingjelly'] - b['optimizer']]
        print(f'| rest (neurons, autograd, Python) | {rest[0]:.1f} | {rest[1]:.1f} |')
        floor = (b['products_snnlit'] + b['optimizer']) / (b['products_spikingjelly'] + b['optimizer'])
        print(f"\nsnnlit / spikingjelly: {b['snnlit'] / b['spikingjelly']:.2f}; with nothing but the products and the "
              f'optimizer steps left in both: {floor:.2f}; with snnlit\'s rest at zero: '
              f"{(b['products_snnlit'] + b['optimizer']) / b['spikingjelly']:.2f}")


if __name__ == '__main__':
    main()
