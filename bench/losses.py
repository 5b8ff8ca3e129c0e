"""Forward + backward time of snnlit's losses beside the reference libraries', in one process.

    MALLOC_MMAP_MAX_=0 python bench/losses.py [--threads 1] [--reps 50]

snntorch-family losses at T=100 and T=400 (B=128, N=10) against snntorch 1.0.0, and
temporal_efficient_training_cross_entropy at T=8..64 against spikingjelly 2.0.0. Prints the median
of `--reps` timed repeats after warm-up (snnlit and the reference alternately), the ratio reference / snnlit (> 1: snnlit is faster), and a
copy of the input into a preallocated buffer as the memory-bandwidth yardstick.
"""
import argparse, os, platform, statistics, time, warnings
import torch
from snnlit import losses as L

warnings.filterwarnings('ignore')

def timed(fn, reps, warmup=5):
    for _ in range(warmup): fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)

def timed_pair(ours, ref, reps, warmup=5):
    "Medians of `ours` and `ref`, timed alternately so that both see the same load on a shared machine."
    for _ in range(warmup): ours(); ref()
    t_ours, t_ref = [], []
    for _ in range(reps):
        t = time.perf_counter(); ours(); t_ours.append(time.perf_counter() - t)
        t = time.perf_counter(); ref(); t_ref.append(time.perf_counter() - t)
    return statistics.median(t_ours), statistics.median(t_ref)

def fwd_bwd(loss_fn, x, y):
    def run():
        x.grad = None
        loss_fn(x, y).sum().backward()
    return run

def copy_yardstick(x):
    buf = torch.empty_like(x)
    return lambda: buf.copy_(x)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--reps', type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads={args.threads}, MALLOC_MMAP_MAX_={os.environ.get('MALLOC_MMAP_MAX_', 'unset')}, float32, median of {args.reps} alternating repeats")
    rows = []
    try:
        import snntorch.functional as SF
        B, N = 128, 10
        for T in (100, 400):
            spk = (torch.rand(T, B, N) < 0.3).float().requires_grad_()
            mem = torch.randn(T, B, N).requires_grad_()
            y = torch.randint(0, N, (B,))
            w = torch.rand(N) + 0.5
            cases = [('ce_rate_loss', spk, {}), ('ce_count_loss', spk, {}), ('ce_max_membrane_loss', mem, {}),
                     ('mse_count_loss', spk, dict(correct_rate=0.8, incorrect_rate=0.2)), ('mse_membrane_loss', mem, {}),
                     ('ce_rate_loss', spk, dict(weight=w, reduction='none')), ('mse_membrane_loss', mem, dict(reduction='sum'))]
            for name, x, kw in cases:
                ours, ref = getattr(L, name)(**kw), getattr(SF, name)(**kw)
                t_ours, t_ref = timed_pair(fwd_bwd(ours, x, y), fwd_bwd(ref, x, y), args.reps)
                label = name + ''.join(f", {k}={'w' if k == 'weight' else repr(v)}" for k, v in kw.items())
                rows.append((label, f"T={T} B={B} N={N}", t_ours, t_ref, timed(copy_yardstick(x), args.reps), 'snntorch'))
    except ImportError: print('snntorch not installed: skipping the snntorch family')
    try:
        from spikingjelly.activation_based.functional import temporal_efficient_training_cross_entropy as sj_tet
        B = 128
        for C in (10, 100):
            for T in (8, 16, 32, 64):
                x = torch.randn(T, B, C).requires_grad_()
                y = torch.randint(0, C, (B,))
                t_ours, t_ref = timed_pair(fwd_bwd(L.temporal_efficient_training_cross_entropy, x, y), fwd_bwd(sj_tet, x, y), args.reps)
                rows.append(('temporal_efficient_training_cross_entropy', f"T={T} B={B} C={C}", t_ours, t_ref,
                             timed(copy_yardstick(x), args.reps), 'spikingjelly'))
    except ImportError: print('spikingjelly not installed: skipping TET')
    print()
    print('| loss | shape | snnlit (µs) | reference (µs) | reference / snnlit | copy (µs) |')
    print('|---|---|---:|---:|---:|---:|')
    for label, shape, t_ours, t_ref, t_copy, ref in rows:
        print(f"| {label} | {shape} | {t_ours * 1e6:.0f} | {t_ref * 1e6:.0f} ({ref}) | {t_ref / t_ours:.1f}× | {t_copy * 1e6:.1f} |")

if __name__ == '__main__': main()
