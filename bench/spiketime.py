"""Forward + backward of `mse_temporal_loss` (and `ce_temporal_loss`) from tiny to large records: snnlit beside snntorch 1.0.0, in one process.

    python bench/spiketime.py [--quick] [--allocator warm|default] [--threads 1] [--csv PATH | --no-csv]

Records [T, B, N] of float32 with 5% spikes, labels as targets (the labelled neuron's target 0, the others T - 1,
spelled out on both sides); the sizes run from one sample (T=5, B=1, N=10) through snntorch's tutorial sizes
(T=25, B=128, N=10) to T=100, B=256, N=1000. Each row checks that both libraries give the same gradient, then
times them interleaved (medians; snntorch, whose backward loops in Python over B * N, with fewer repeats).
`clone` is `rec.clone()`, one allocation of the record's size and one read and one write pass: the memory
yardstick. `snnlit fwd` is `first_spike_time` alone; `multi F=3` is forward + backward of
`multi_spike_time(rec, 3).sum()`; `peak MB` the peak extra memory of one snnlit forward + backward
(torch.profiler's allocation events); `ce` columns: forward + backward of `ce_temporal_loss()` (logits -tau) in
both libraries. The rows also go to nbs/data/bench/spiketime.csv.
"""
import argparse, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import set_allocator, allocator_text, median_ms, peak_mb, Rows, finish, machine_line, add_common_args
ALLOCATOR = set_allocator()

import torch
from snnlit.spiketime import mse_temporal_loss, ce_temporal_loss, first_spike_time, multi_spike_time
try:
    import snntorch.functional as SF
except ImportError:   # the table is still useful without the reference
    SF = None

SIZES = [(5, 1, 10), (25, 1, 10), (25, 32, 10), (25, 128, 10), (25, 32, 100), (25, 128, 100), (100, 32, 10),
         (100, 128, 10), (100, 32, 100), (100, 128, 100), (400, 32, 10), (400, 128, 10), (400, 32, 100),
         (400, 128, 100), (100, 256, 1000)]
QUICK = [(25, 32, 10), (25, 128, 10), (100, 32, 10), (100, 128, 100), (400, 128, 100)]


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


def main():
    ap = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = Rows('spiketime', ALLOCATOR, torch.get_num_threads())
    sizes = QUICK if args.quick else SIZES
    print(f'# mse_temporal_loss forward + backward, float32, 5% spikes; {machine_line(torch)}; {allocator_text(ALLOCATOR)}')
    print(f'# snntorch {"1.0.0" if SF is not None else "not installed"}; times in ms (medians)')
    head = ('T', 'B', 'N', 'snntorch', 'snnlit', 'speed-up', 'clone', 'snnlit/clone', 'snnlit fwd', 'multi F=3',
            'snnlit peak MB', 'ce snntorch', 'ce snnlit', 'ce speed-up')
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    for T, B, N in sizes:
        rec = (torch.rand(T, B, N) < 0.05).float()
        labels = torch.randint(0, N, (B,))
        size = rec.numel()
        reps = 5 if args.quick else max(7, min(200, int(2e7 / size)))
        ours = mse_temporal_loss(on_target=0, off_target=T - 1)
        fns = [fwd_bwd(ours, rec, labels), lambda: rec.clone(), lambda: first_spike_time(rec), multi_fwd_bwd(rec),
               fwd_bwd(ce_temporal_loss(), rec, labels)]
        t_ours, t_clone, t_fwd, t_multi, t_ce = median_ms(fns, reps, max_s=20)
        peak = peak_mb(fns[0])
        t_ref = t_ce_ref = float('nan')
        if SF is not None:
            ref = SF.mse_temporal_loss(on_target=0, off_target=T - 1)
            run_ref = fwd_bwd(lambda x, y: ref(x, y.clone()), rec, labels)
            if size <= 2 * 10 ** 6: torch.testing.assert_close(fns[0](), run_ref())   # same work, same answer
            ce_ref = SF.ce_temporal_loss()
            run_ce_ref = fwd_bwd(lambda x, y: ce_ref(x, y.clone()), rec, labels)
            if size <= 2 * 10 ** 6: torch.testing.assert_close(fns[4](), run_ce_ref())
            t_ref, t_ce_ref = median_ms([run_ref, run_ce_ref], 1 if args.quick or size > 10 ** 6 else 3, warmup=1)
        for impl, ms, pk in (('snntorch', t_ref, None), ('snnlit', t_ours, peak), ('clone', t_clone, None),
                             ('snnlit first_spike_time', t_fwd, None), ('snnlit multi F=3', t_multi, None)):
            rows.add('mse_temporal_loss fwd+bwd', impl, ms, size, T, B, N, pk)
        for impl, ms in (('snntorch', t_ce_ref), ('snnlit', t_ce)):
            rows.add('ce_temporal_loss fwd+bwd', impl, ms, size, T, B, N, None)
        ref_s = '–' if t_ref != t_ref else f'{t_ref:.2f}'
        speed = '–' if t_ref != t_ref else f'{t_ref / t_ours:.0f}x'
        ce_s = '–' if t_ce_ref != t_ce_ref else f'{t_ce_ref:.2f}'
        ce_speed = '–' if t_ce_ref != t_ce_ref else f'{t_ce_ref / t_ce:.0f}x'
        print(f'| {T} | {B} | {N} | {ref_s} | {t_ours:.3f} | {speed} | {t_clone:.3f} | {t_ours / t_clone:.1f} | '
              f'{t_fwd:.3f} | {t_multi:.3f} | {peak:.2f} | {ce_s} | {t_ce:.3f} | {ce_speed} |', flush=True)
    finish(rows, args)


if __name__ == '__main__':
    main()
