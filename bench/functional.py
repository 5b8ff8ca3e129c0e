"""snnlit.functional's tensor helpers from small to large tensors, against spikingjelly 2.0.0 in one process.

    python bench/functional.py [--quick] [--allocator warm|default] [--repeats 30] [--cpu-time] [--threads 1]
                               [--csv PATH | --no-csv]

Each case runs at three sizes of its [T, B, N] input (T=8, B=16, N=128; T=32, B=32, N=512; T=64, B=64, N=1024,
the last 16 MiB of float32; the other inputs scaled alike). Prints, per row, the median time (ms) over repeats
after warm-up, snnlit vs spikingjelly, their ratio, and two memory yardsticks of the output's size, all four
timed interleaved: a copy into a preallocated buffer (bandwidth) and `clone()` (fresh allocation). The rows
also go to nbs/data/bench/functional.csv.
"""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _common import set_allocator, allocator_text, median_ms, Rows, finish, machine_line, add_common_args
ALLOCATOR = set_allocator()

import torch
from torch import nn
from snnlit import functional as F
try:
    from spikingjelly.activation_based import functional as sjf
except ImportError:
    sjf = None

SIZES = [(8, 16, 128), (32, 32, 512), (64, 64, 1024)]


def cases_at(T, B, N):
    "The (name, snnlit call, spikingjelly call, size) cases for a [T, B, N] input."
    x = torch.randn(T, B, N)
    spikes_tlast = (torch.rand(B * N, T) < 0.05).float()       # [B*N, T]
    labels = torch.randint(0, 10, (B * N,))                     # -> [B*N, 100]
    x_long = torch.randn(16 * T, max(B // 2, 1), max(N // 4, 1))   # chunks of T steps
    return [
        ('delay(x, 3)', lambda: F.delay(x, 3), lambda: sjf.delay(x, 3), x.numel()),
        ('first_spike_index [B*N, T]', lambda: F.first_spike_index(spikes_tlast),
         lambda: sjf.first_spike_index(spikes_tlast), spikes_tlast.numel()),
        ('redundant_one_hot B*N x (10*10)', lambda: F.redundant_one_hot(labels, 10, 10),
         lambda: sjf.redundant_one_hot(labels, 10, 10), labels.numel() * 100),
        ('seq_to_ann_forward relu', lambda: F.seq_to_ann_forward(x, torch.relu),
         lambda: sjf.seq_to_ann_forward(x, torch.relu), x.numel()),
        ('multi_step_forward relu', lambda: F.multi_step_forward(x, torch.relu),
         lambda: sjf.multi_step_forward(x, torch.relu), x.numel()),
        ('chunk_multi_step_forward T relu', lambda: F.chunk_multi_step_forward(T, x_long, torch.relu),
         lambda: sjf.chunk_multi_step_forward(T, x_long, torch.relu), x_long.numel()),
    ]


def main():
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument('--repeats', type=int, default=30)
    ap.add_argument('--cpu-time', action='store_true',
                    help='time the CPU this process uses rather than the wall clock (steadier on a shared machine)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.cpu_time: _common.time.perf_counter = time.process_time
    repeats = 5 if args.quick else args.repeats
    torch.manual_seed(0)
    rows = Rows('functional', ALLOCATOR, torch.get_num_threads())
    print(f'# functional helpers; {machine_line(torch)}; {"process CPU" if args.cpu_time else "wall-clock"} time; '
          f'{allocator_text(ALLOCATOR)}; spikingjelly {"2.0.0" if sjf else "not installed"}; median of {repeats}')
    print('| case | T | B | N | snnlit ms | sj ms | sj / snnlit | copy ms | clone ms |')
    print('|---|---|---|---|---|---|---|---|---|')
    sizes = SIZES[1:] if args.quick else SIZES
    with torch.no_grad():
        for T, B, N in sizes:
            cases = cases_at(T, B, N)
            if T == sizes[-1][0]:
                conv, bn = nn.Conv2d(64, 128, 3, bias=False), nn.BatchNorm2d(128).eval()
                bn.running_var.uniform_(0.5, 2)
                xi = torch.randn(16, 64, 32, 32)
                fused = F.fuse_convbn2d(conv, bn)
                cases.append(('fused conv vs conv+bn [16,64,32,32]', lambda: fused(xi), lambda: bn(conv(xi)), xi.numel()))
            for name, ours, ref, size in cases:
                like = ours()                              # yardsticks move a tensor the size of the output
                buf = torch.empty_like(like)
                fns = [ours, lambda: buf.copy_(like), lambda: like.clone()]
                if sjf is not None or name.startswith('fused'): fns.append(ref)
                t_ours, t_copy, t_clone, *t_ref = median_ms(fns, repeats, warmup=3, max_s=10)
                t_ref = t_ref[0] if t_ref else float('nan')
                ref_name = 'conv+bn' if name.startswith('fused') else 'spikingjelly'
                for impl, ms in (('snnlit', t_ours), (ref_name, t_ref), ('copy', t_copy), ('clone', t_clone)):
                    rows.add(name, impl, ms, size, T, B, N)
                print(f'| {name} | {T} | {B} | {N} | {t_ours:.3f} | {t_ref:.3f} | {t_ref / t_ours:.2f} | '
                      f'{t_copy:.3f} | {t_clone:.3f} |', flush=True)
    print('(last row: the reference is the unfused conv + batch norm pair, not a spikingjelly function)')
    finish(rows, args)


if __name__ == '__main__':
    main()
