"""Benchmark snnlit.tempotron against the reference methods, in one process.

Grid model: forward + backward of `Tempotron(500, 10, T=500)` on B = 64 samples beside a direct
implementation of the reference's method (three [B, in, T] tensors, then the linear layer).
Event model: `EventTempotron` beside spikingjelly 2.0.0's `timing_based.Tempotron` on the same events.

Time: median of `--repeats` runs after two warm-up runs, reference and snnlit alternating. Peak memory: the most bytes the C allocator
held (glibc `mallinfo2`, heap + mmapped blocks) sampled after every aten op (forward and backward)
in a separate, untimed run, minus what it held before. Yardstick: copying a [B, in, T] float32
tensor into a preallocated buffer.

Usage: python bench/tempotron.py [--repeats 7] [--threads N]
"""
import argparse, ctypes, math, statistics, time, platform, os
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from snnlit.tempotron import Tempotron, EventTempotron, psp_kernel


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
                                               'fsmblks', 'uordblks', 'fordblks', 'keepcost')]

_libc = ctypes.CDLL('libc.so.6')
_libc.mallinfo2.restype = _MallInfo2

def allocated_bytes():
    info = _libc.mallinfo2()
    return info.uordblks + info.hblkhd


class PeakMemory(TorchDispatchMode):
    "Sample the allocator after every aten op; `peak` is the largest increase over the start."
    def __enter__(self):
        self.start = self.peak_abs = allocated_bytes()
        return super().__enter__()
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.peak_abs = max(self.peak_abs, allocated_bytes())
        return out
    @property
    def peak(self): return self.peak_abs - self.start


def reference_grid(in_spikes, fc, T, tau, tau_s, v0):
    "The reference's method, written directly from its description: three [B, in, T] tensors, then fc."
    B, n = in_spikes.shape
    t = torch.arange(T, device=in_spikes.device).view(1, 1, T).repeat(B, n, 1)
    s = in_spikes.unsqueeze(-1).repeat(1, 1, T)
    d = t - s
    v_in = v0 * (torch.exp(-d / tau) - torch.exp(-d / tau_s)) * (d >= 0).float() * (s >= 0).float()
    return fc(v_in.permute(0, 2, 1)).permute(0, 2, 1)


def timeit(fn, repeats):
    for _ in range(2): fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compare(ref_fn, our_fn, repeats):
    "Median times of the two, run alternately (so that load from other processes hits both alike)."
    for _ in range(2): ref_fn(); our_fn()
    ref_t, our_t = [], []
    for _ in range(repeats):
        t0 = time.perf_counter(); ref_fn(); t1 = time.perf_counter(); our_fn(); t2 = time.perf_counter()
        ref_t.append(t1 - t0); our_t.append(t2 - t1)
    return statistics.median(ref_t), statistics.median(our_t)


def peak_of(fn):
    fn()
    with PeakMemory() as pm: fn()
    return pm.peak


def main(repeats):
    torch.manual_seed(0)
    B, n_in, out, T = 64, 500, 10, 500
    rows = []
    # ------------------------------------------------------------ grid model
    model = Tempotron(n_in, out, T)
    # spikes before step 300: later ones (> ~333) make the reference method NaN (exp overflow times a zero mask)
    spikes = torch.rand(B, n_in) * 300
    def ours():
        v = model(spikes, 'v'); v.sum().backward(); model.fc.weight.grad = None; return v
    def ref():
        v = reference_grid(spikes, model.fc, T, model.tau, model.tau_s, model.v0); v.sum().backward()
        model.fc.weight.grad = None; return v
    with torch.no_grad():
        torch.testing.assert_close(model(spikes, 'v'), reference_grid(spikes, model.fc, T, model.tau, model.tau_s, model.v0),
                                   rtol=1e-5, atol=1e-5)
    rows.append(('grid fwd+bwd, B=64 in=500 out=10 T=500, float32', *compare(ref, ours, repeats),
                 peak_of(ref), peak_of(ours)))
    def ours_vmax():
        v = model(spikes, 'v_max'); v.sum().backward(); model.fc.weight.grad = None
    def ref_vmax():
        v = reference_grid(spikes, model.fc, T, model.tau, model.tau_s, model.v0).amax(-1); v.sum().backward()
        model.fc.weight.grad = None
    rows.append(("grid 'v_max' fwd+bwd, same sizes", *compare(ref_vmax, ours_vmax, repeats),
                 peak_of(ref_vmax), peak_of(ours_vmax)))
    # ------------------------------------------------------------ event model
    try:
        from spikingjelly.timing_based.neuron import Tempotron as SJTempotron
    except ImportError:
        SJTempotron = None
    if SJTempotron is not None:
        for dtype in (torch.float64, torch.float32):
            ev_model = EventTempotron(n_in, out, float(T)).to(dtype)
            sj = SJTempotron(n_in, out, float(T)).to(dtype)
            with torch.no_grad():
                ev_model.weight.normal_(0.015, 0.05); sj.weight.copy_(ev_model.weight)
            times = (torch.rand(B * n_in, dtype=torch.float64) * T).to(dtype)
            idx = torch.arange(n_in).repeat(B)
            offsets = torch.arange(B + 1) * n_in
            def run(m):
                def f():
                    o = m(times, idx, offsets)
                    loss = o[0].sum() + torch.where(torch.isfinite(o[2]), o[2], 0.).sum()
                    loss.backward(); m.weight.grad = None
                return f
            a, b = ev_model(times, idx, offsets), sj(times, idx, offsets)
            for x, y in zip(a, b): torch.testing.assert_close(x.detach(), y.detach(), rtol=1e-5, atol=1e-5)
            fired = torch.isfinite(a.t_spike).float().mean().item()
            rows.append((f'event fwd+bwd, B=64 in=500 out=10, 500 events/sample, {str(dtype)[6:]} ({fired:.0%} fire)',
                         *compare(run(sj), run(ev_model), repeats), peak_of(run(sj)), peak_of(run(ev_model))))
            def fwd(m):
                def f():
                    with torch.no_grad(): m(times, idx, offsets)
                return f
            rows.append((f'event forward only (no_grad), {str(dtype)[6:]}', *compare(fwd(sj), fwd(ev_model), repeats),
                         peak_of(fwd(sj)), peak_of(fwd(ev_model))))
    # ------------------------------------------------------------ yardstick
    x = torch.rand(B, n_in, T); buf = torch.empty_like(x)
    copy_time = timeit(lambda: buf.copy_(x), repeats)

    print(f'torch {torch.__version__}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, '
          f'MALLOC_MMAP_MAX_={os.environ.get("MALLOC_MMAP_MAX_", "default")}')
    print(f'| case | reference ms | snnlit ms | time ratio (ref/snnlit) | reference peak MB | snnlit peak MB | memory ratio (snnlit/ref) |')
    print('|---|---|---|---|---|---|---|')
    for name, t_ref, t_ours, m_ref, m_ours in rows:
        print(f'| {name} | {t_ref * 1e3:.1f} | {t_ours * 1e3:.1f} | {t_ref / t_ours:.1f}x | {m_ref / 2**20:.1f} | '
              f'{m_ours / 2**20:.1f} | {m_ours / max(m_ref, 1):.2f} |')
    print(f'| yardstick: copy of a [64, 500, 500] float32 tensor (64 MB) into a preallocated buffer | | {copy_time * 1e3:.1f} | | | | |')


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s choice)')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    main(args.repeats)
