"""Forward + backward of `mse_temporal_loss`: snnlit beside snntorch 1.0.0, in one process, on the same records.

Also times `rec.clone()` (a fresh allocation of the record's size, one read and one write pass: the memory
yardstick) and, for the forward extraction alone, a plain loop-free `argmax` over the time axis; `multi F=3` is
forward + backward of `multi_spike_time(rec, 3).sum()`.
Medians over repeats after warm-up; for the ratio to the clone also the best of the repeats, which
matters on a shared machine, where a call of many small operations is interrupted more often than
one copy. Run with `python bench/spiketime.py [--threads K] [--quick] [--allocator warm|default]`.

Allocator: with glibc's defaults a process whose working set holds several tensors of a few MB returns
freed memory to the OS and page-faults it in again on the next allocation, which can cost more than
the work itself. `--allocator warm` (the default) re-runs the script with `MALLOC_MMAP_MAX_=0` and a
large `MALLOC_TRIM_THRESHOLD_` so that freed memory stays in the heap; `--allocator default` keeps
glibc's defaults. Both libraries and the clone yardstick run under the same setting.
"""
import argparse, os, statistics, sys, time
import torch
from snnlit.spiketime import mse_temporal_loss, first_spike_time, multi_spike_time

try:
    import snntorch.functional as SF
except ImportError:   # the table is still useful without the reference
    SF = None


def median_ms(fn, repeats, warmup=2, best=False):
    "Median (or, with `best`, (median, minimum)) wall time of `fn()` in ms."
    for _ in range(warmup): fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    med = statistics.median(times) * 1e3
    return (med, min(times) * 1e3) if best else med


def fwd_bwd(loss_fn, rec, labels):
    def run():
        x = rec.detach().requires_grad_()
        loss_fn(x, labels).backward()
        return x.grad
    return run


def multi_fwd_bwd(rec, num_spikes=3):
    def run():
        x = rec.detach().requires_grad_()
        multi_spike_time(x, num_spikes).sum().backward()
        return x.grad
    return run


def argmax_first_spike(rec):
    "The obvious loop-free extraction: first index of the maximum of the mask over time."
    mask = rec > 0
    idx = mask.to(torch.uint8).argmax(0)
    return torch.where(mask.any(0), idx, rec.shape[0] - 1).to(rec.dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--quick', action='store_true', help='fewer repeats')
    ap.add_argument('--allocator', choices=('warm', 'default'), default='warm')
    args = ap.parse_args()
    warm_env = {'MALLOC_MMAP_MAX_': '0', 'MALLOC_TRIM_THRESHOLD_': str(16 * 2 ** 30)}
    if args.allocator == 'warm' and any(os.environ.get(k) != v for k, v in warm_env.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **warm_env})
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reps, ref_reps = (10, 1) if args.quick else (100, 3)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.allocator} allocator, '
          'float32 records with 5% spikes; times in ms (median)')
    head = ('T', 'B', 'N', 'snntorch', 'snnlit', 'speed-up', 'clone', 'snnlit/clone', 'best snnlit/clone', 'argmax fwd', 'snnlit fwd', 'multi F=3')
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    # snntorch's defaults give every neuron target 0; both sides use on=0, off=T-1 spelled out
    for T in (25, 100, 400):
        for B in (32, 128):
            for N in (10, 100):
                rec = (torch.rand(T, B, N) < 0.05).float()
                labels = torch.randint(0, N, (B,))
                ours = mse_temporal_loss(on_target=0, off_target=T - 1)
                t_ours, b_ours = median_ms(fwd_bwd(ours, rec, labels), reps, best=True)
                t_clone, b_clone = median_ms(lambda: rec.clone(), reps, best=True)
                t_argmax = median_ms(lambda: argmax_first_spike(rec), reps)
                t_fwd = median_ms(lambda: first_spike_time(rec), reps)
                t_multi = median_ms(multi_fwd_bwd(rec), reps)
                if SF is not None:
                    ref = SF.mse_temporal_loss(on_target=0, off_target=T - 1)
                    g_ours = fwd_bwd(ours, rec, labels)()
                    g_ref = fwd_bwd(lambda x, y: ref(x, y.clone()), rec, labels)()
                    torch.testing.assert_close(g_ours, g_ref)   # same work, same answer
                    t_ref = median_ms(fwd_bwd(lambda x, y: ref(x, y.clone()), rec, labels), ref_reps, warmup=1)
                    ref_s, speed = f'{t_ref:.1f}', f'{t_ref / t_ours:.0f}x'
                else:
                    ref_s, speed = 'n/a', 'n/a'
                print(f'| {T} | {B} | {N} | {ref_s} | {t_ours:.3f} | {speed} | {t_clone:.3f} | '
                      f'{t_ours / t_clone:.1f} | {b_ours / b_clone:.1f} | {t_argmax:.3f} | {t_fwd:.3f} | {t_multi:.3f} |', flush=True)


if __name__ == '__main__':
    main()
