"""Benchmark snnlit.online's training functions against spikingjelly 2.0.0's, in one process.

One training call on one sequence (T steps, batch B) of a 3-layer spiking MLP, the same weights and data in
both libraries: OTTT (OTTTSequential + OTTTLIFNode, `ottt_online_training(online=True)`), SLTT (SLTTLIFNode,
same function) and FPTT (LIFNode, `fptt_online_training`). Median time over repeats after warm-up, measured
interleaved; the yardstick is a plain BPTT step (forward over T, one backward) of the snnlit network with
LIFNode, on the same data. Runs with MALLOC_MMAP_MAX_=0 (re-executes itself to set it).
    python bench/online.py [--repeats 15] [--T 16] [--B 64] [--threads 1]
"""
import argparse, copy, os, statistics, sys, time

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


def median_ms(fns, repeats, warmup=2):
    for _ in range(warmup):
        for fn in fns: fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) * 1e3 for ts in times]


def linears(n_in=256, h=512, n_out=10):
    torch.manual_seed(0)
    return [nn.Linear(n_in, h), nn.Linear(h, h), nn.Linear(h, n_out)]


def build(kind, lib):
    fc = linears()
    if lib == 'snnlit':
        node = {'ottt': lambda: ol.OTTTLIFNode(), 'sltt': lambda: ol.SLTTLIFNode(), 'fptt': lambda: LIFNode(tau=2.),
                'bptt': lambda: LIFNode(tau=2.)}[kind]
        seq = ol.OTTTSequential if kind == 'ottt' else nn.Sequential
    else:
        node = {'ottt': lambda: sjn.OTTTLIFNode(surrogate_function=sjs.Sigmoid()),
                'sltt': lambda: sjn.SLTTLIFNode(surrogate_function=sjs.Sigmoid()),
                'fptt': lambda: sjn.LIFNode(tau=2., surrogate_function=sjs.Sigmoid())}[kind]
        seq = sjl.OTTTSequential if kind == 'ottt' else nn.Sequential
    return seq(fc[0], node(), fc[1], node(), fc[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--T', type=int, default=16)
    ap.add_argument('--B', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1, help='torch threads (1: the machine is shared, the matrices small)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    T, B = args.T, args.B
    torch.manual_seed(1)
    x = torch.rand(B, 256); labels = torch.randint(0, 10, (B,))
    x_bt, l_bt = x[:, None].expand(-1, T, -1), labels[:, None].expand(-1, T)
    x_tb, l_tb = x.expand(T, -1, -1), labels.expand(T, -1)
    loss_t = lambda y, t: F.cross_entropy(y, t) / T

    def trainer(kind, lib):
        net = build(kind, lib)
        opt = torch.optim.SGD(net.parameters(), lr=1e-4)
        reset = reset_net if lib == 'snnlit' else sjf.reset_net
        mod = ol if lib == 'snnlit' else sjo
        if kind == 'fptt':
            w_ra = mod.fptt_online_training_init_w_ra(opt)
            def run(): mod.fptt_online_training(net, opt, x_tb, l_tb, F.cross_entropy, 0.5, w_ra); reset(net)
        else:
            def run(): mod.ottt_online_training(net, opt, x_bt, l_bt, loss_t, True); reset(net)
        return run

    bptt_net = build('bptt', 'snnlit'); bptt_opt = torch.optim.SGD(bptt_net.parameters(), lr=1e-4)
    def bptt():
        loss = sum(loss_t(bptt_net(x), labels) for _ in range(T))
        bptt_opt.zero_grad(); loss.backward(); bptt_opt.step(); reset_net(bptt_net)

    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, MALLOC_MMAP_MAX_=0, '
          f'spikingjelly {"2.0.0" if sjo else "not installed"}; 256-512-512-10 MLP, T={T}, B={B}; '
          f'median of {args.repeats} after 2 warm-up runs')
    head = f'{"method":8s} {"snnlit ms":>10s} {"sj ms":>10s} {"sj/snnlit":>10s} {"BPTT ms":>9s} {"snnlit/BPTT":>12s}'
    print(head); print('-' * len(head))
    for kind in ('ottt', 'sltt', 'fptt'):
        fns = [trainer(kind, 'snnlit'), trainer(kind, 'sj') if sjo else (lambda: None), bptt]
        t_ours, t_ref, t_bptt = median_ms(fns, args.repeats)
        if not sjo: t_ref = float('nan')
        print(f'{kind.upper():8s} {t_ours:10.1f} {t_ref:10.1f} {t_ref / t_ours:10.2f} {t_bptt:9.1f} {t_ours / t_bptt:12.2f}')
    print('(BPTT: one forward over T and one backward of the snnlit LIFNode network, the same data; online methods do T'
          ' backward passes and T optimizer steps, FPTT also a second forward and backward per step)')


if __name__ == '__main__':
    main()
