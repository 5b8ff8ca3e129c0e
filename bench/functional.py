"""Benchmark snnlit.functional's tensor helpers against spikingjelly 2.0.0 in one process.

Prints a table: median time (ms) over repeats after warm-up, snnlit vs spikingjelly, their ratio, and two memory
yardsticks of the output's size, all four timed interleaved: a copy into a preallocated buffer (bandwidth) and `clone()` (fresh allocation).
Runs with MALLOC_MMAP_MAX_=0 and a huge MALLOC_TRIM_THRESHOLD_ (re-executes itself to set them) so that large fresh
tensors come from a warm heap.
    python bench/functional.py [--repeats 30] [--cpu-time]
"""
import argparse, os, statistics, sys, time

# a warm heap: no mmap for big blocks, and no giving freed memory back to the OS, so that every
# fresh tensor does not pay page faults (which would swamp the differences between libraries)
WARM_HEAP = {'MALLOC_MMAP_MAX_': '0', 'MALLOC_TRIM_THRESHOLD_': str(2**40)}
if any(os.environ.get(k) != v for k, v in WARM_HEAP.items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **WARM_HEAP})

import torch
from torch import nn
from snnlit import functional as F
try:
    from spikingjelly.activation_based import functional as sjf
except ImportError:
    sjf = None


CLOCK = time.perf_counter


def median_ms(fns, repeats, warmup=3):
    "Median time of each of `fns`, measured interleaved (one run of each per round) so that they share the load."
    for _ in range(warmup):
        for fn in fns: fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = CLOCK(); fn(); ts.append(CLOCK() - t0)
    return [statistics.median(ts) * 1e3 for ts in times]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeats', type=int, default=30)
    ap.add_argument('--cpu-time', action='store_true',
                    help='one thread, and time the CPU this process uses rather than the wall clock (steadier on a shared machine)')
    args = ap.parse_args()
    global CLOCK
    if args.cpu_time:
        torch.set_num_threads(1)
        CLOCK = time.process_time
    torch.manual_seed(0)

    x = torch.randn(64, 64, 1024)                                  # [T, B, N], 16 MiB
    spikes_tlast = (torch.rand(64 * 1024, 64) < 0.05).float()      # [B*N, T], 16 MiB
    labels = torch.randint(0, 10, (65536,))                        # -> [65536, 100], 25 MiB
    x_long = torch.randn(1024, 32, 256)                            # 32 MiB, chunks of 64 steps
    fc = nn.Linear(1024, 1024)

    cases = [
        ('delay(x, 3)  [64,64,1024]', lambda: F.delay(x, 3), lambda: sjf.delay(x, 3)),
        ('first_spike_index [65536,64]', lambda: F.first_spike_index(spikes_tlast), lambda: sjf.first_spike_index(spikes_tlast)),
        ('redundant_one_hot 65536x(10*10)', lambda: F.redundant_one_hot(labels, 10, 10), lambda: sjf.redundant_one_hot(labels, 10, 10)),
        ('seq_to_ann_forward relu', lambda: F.seq_to_ann_forward(x, torch.relu), lambda: sjf.seq_to_ann_forward(x, torch.relu)),
        ('multi_step_forward relu', lambda: F.multi_step_forward(x, torch.relu), lambda: sjf.multi_step_forward(x, torch.relu)),
        ('chunk_multi_step_forward 64 relu', lambda: F.chunk_multi_step_forward(64, x_long, torch.relu),
         lambda: sjf.chunk_multi_step_forward(64, x_long, torch.relu)),
    ]
    if sjf is None: cases = [(name, ours, lambda: None) for name, ours, _ in cases]
    with torch.no_grad():
        conv, bn = nn.Conv2d(64, 128, 3, bias=False), nn.BatchNorm2d(128).eval()
        bn.running_var.uniform_(0.5, 2)
        xi = torch.randn(16, 64, 32, 32)
        fused = F.fuse_convbn2d(conv, bn)
        cases.append(('fused conv vs conv+bn [16,64,32,32]', lambda: fused(xi), lambda: bn(conv(xi))))

    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, {"process CPU" if args.cpu_time else "wall-clock"} time, warm heap (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=2**40), '
          f'spikingjelly {"2.0.0" if sjf else "not installed"}; median of {args.repeats} after 3 warm-up runs')
    head = f'{"case":38s} {"snnlit ms":>10s} {"sj ms":>10s} {"sj/snnlit":>10s} {"copy ms":>9s} {"clone ms":>9s}'
    print(head); print('-' * len(head))
    with torch.no_grad():
        for name, ours, ref in cases:
            like = ours()                              # yardsticks move a tensor the size of the output
            buf = torch.empty_like(like)
            t_ours, t_ref, t_copy, t_clone = median_ms([ours, ref, lambda: buf.copy_(like), lambda: like.clone()], args.repeats)
            if sjf is None and not name.startswith('fused'): t_ref = float('nan')
            print(f'{name:38s} {t_ours:10.2f} {t_ref:10.2f} {t_ref / t_ours:10.2f} {t_copy:9.2f} {t_clone:9.2f}')
    print('(last row: "sj ms" is the unfused conv + batch norm pair, not a spikingjelly function)')
    print('(copy: into a preallocated buffer; clone: a fresh tensor; both the size of the snnlit output)')


if __name__ == '__main__':
    main()
