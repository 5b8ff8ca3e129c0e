"""Forward + backward of snnlit's losses from tiny to large inputs, beside the reference libraries', in one process.

    python bench/losses.py [--quick] [--allocator warm|default] [--threads 1] [--reps 50] [--csv PATH | --no-csv]

The snntorch family against snntorch 1.0.0 on [T, B, N] float32 records (spikes with rate 0.3, membranes
standard normal) from one sample (T=5, B=1, N=10) through snntorch's tutorial sizes (T=25, B=128, N=10) to
T=400, B=128, N=100; `temporal_efficient_training_cross_entropy` against spikingjelly 2.0.0 at its CIFAR sizes
(T=4..64, B=64..128, C=10..100). Each row: the median of alternating repeats (snnlit, the reference, and a copy
of the input into a preallocated buffer, the memory-bandwidth yardstick), the ratio reference / snnlit (> 1:
snnlit is faster). The rows also go to nbs/data/bench/losses.csv.
"""
import argparse, sys, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import set_allocator, allocator_text, median_ms, Rows, finish, machine_line, add_common_args
ALLOCATOR = set_allocator()

import torch
from snnlit import losses as L

warnings.filterwarnings('ignore')
SNNTORCH_SIZES = [(5, 1, 10), (25, 32, 10), (25, 128, 10), (100, 128, 10), (25, 128, 100), (400, 128, 10),
                  (100, 128, 100), (400, 128, 100)]
SNNTORCH_QUICK = [(25, 128, 10), (100, 128, 100)]
SNNTORCH_CASES = [('ce_rate_loss', 'spk', {}), ('ce_count_loss', 'spk', {}), ('ce_max_membrane_loss', 'mem', {}),
                  ('mse_count_loss', 'spk', dict(correct_rate=0.8, incorrect_rate=0.2)),
                  ('mse_membrane_loss', 'mem', {}), ('ce_rate_loss', 'spk', dict(weight='w', reduction='none')),
                  ('mse_membrane_loss', 'mem', dict(reduction='sum'))]
TET_SIZES = [(4, 64, 10), (8, 128, 10), (16, 128, 10), (32, 128, 10), (64, 128, 10), (4, 64, 100), (8, 128, 100),
             (16, 128, 100), (32, 128, 100), (64, 128, 100)]
TET_QUICK = [(4, 64, 10), (32, 128, 100)]


def fwd_bwd(loss_fn, x, y):
    def run():
        x.grad = None
        loss_fn(x, y).sum().backward()
    return run


def copy_yardstick(x):
    buf = torch.empty_like(x)
    return lambda: buf.copy_(x)


def main():
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    ap.add_argument('--reps', type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reps = 7 if args.quick else args.reps
    rows = Rows('losses', ALLOCATOR, torch.get_num_threads())
    print(f'# loss forward + backward, float32; {machine_line(torch)}; {allocator_text(ALLOCATOR)}; '
          f'median of {reps} alternating repeats; times in µs')
    print()
    print('| loss | T | B | N | snnlit | reference | reference / snnlit | copy |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|')
    try:
        import snntorch.functional as SF
        for T, B, N in SNNTORCH_QUICK if args.quick else SNNTORCH_SIZES:
            inputs = dict(spk=(torch.rand(T, B, N) < 0.3).float().requires_grad_(),
                          mem=torch.randn(T, B, N).requires_grad_())
            y = torch.randint(0, N, (B,))
            w = torch.rand(N) + 0.5
            for name, which, kw in SNNTORCH_CASES:
                x = inputs[which]
                kw = {k: (w if v == 'w' else v) for k, v in kw.items()}
                ours, ref = getattr(L, name)(**kw), getattr(SF, name)(**kw)
                t_ours, t_ref, t_copy = median_ms([fwd_bwd(ours, x, y), fwd_bwd(ref, x, y), copy_yardstick(x)],
                                                  reps, warmup=3, max_s=10)
                label = name + ''.join(f", {k}={'w' if k == 'weight' else repr(v)}" for k, v in kw.items())
                for impl, ms in (('snnlit', t_ours), ('snntorch', t_ref), ('copy', t_copy)):
                    rows.add(label, impl, ms, x.numel(), T, B, N)
                print(f'| {label} | {T} | {B} | {N} | {t_ours * 1e3:.0f} | {t_ref * 1e3:.0f} (snntorch) | '
                      f'{t_ref / t_ours:.1f}× | {t_copy * 1e3:.1f} |', flush=True)
    except ImportError: print('snntorch not installed: skipping the snntorch family')
    try:
        from spikingjelly.activation_based.functional import temporal_efficient_training_cross_entropy as sj_tet
        for T, B, C in TET_QUICK if args.quick else TET_SIZES:
            x = torch.randn(T, B, C).requires_grad_()
            y = torch.randint(0, C, (B,))
            t_ours, t_ref, t_copy = median_ms([fwd_bwd(L.temporal_efficient_training_cross_entropy, x, y),
                                               fwd_bwd(sj_tet, x, y), copy_yardstick(x)], reps, warmup=3, max_s=10)
            for impl, ms in (('snnlit', t_ours), ('spikingjelly', t_ref), ('copy', t_copy)):
                rows.add('temporal_efficient_training_cross_entropy', impl, ms, x.numel(), T, B, C)
            print(f'| temporal_efficient_training_cross_entropy | {T} | {B} | {C} | {t_ours * 1e3:.0f} | '
                  f'{t_ref * 1e3:.0f} (spikingjelly) | {t_ref / t_ours:.1f}× | {t_copy * 1e3:.1f} |', flush=True)
    except ImportError: print('spikingjelly not installed: skipping TET')
    finish(rows, args)


if __name__ == '__main__':
    main()
