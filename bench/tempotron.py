"""Benchmark snnlit.tempotron against the reference methods, in one process.

Grid model: forward + backward of `Tempotron(500, 10, T=500)` on B = 64 samples beside a direct
implementation of the reference's method (three [B, in, T] tensors, then the linear layer).
Event model: `EventTempotron` beside spikingjelly 2.0.0's `timing_based.Tempotron` on the same events, at one
size and then in a scaling sweep from a tiny batch to the scale of spikingjelly's own `timing_based` MNIST
example (64 images, 784 pixels x 16 Gaussian-tuning afferents = 12,544 inputs, about 4,000 events per image,
10 outputs, the example's loss), plus one row at that scale with uniformly random event times (no two
events of a sample at the same time). The images are synthetic MNIST look-alikes (strokes, ~18 % ink,
values k/255) encoded as the example encodes MNIST: the Gaussian tuning of spikingjelly's
`GaussianTuning(m=16)`, written out here (it gives the same events), `duration` 100, float32. Weights are
drawn so that some outputs fire. `--csv PATH` also writes the sweep's rows (the notebook plots them).

Time: median of `--repeats` runs after two warm-up runs, reference and snnlit alternating. Peak memory: the most bytes the C allocator
held (glibc `mallinfo2`, heap + mmapped blocks) sampled after every aten op (forward and backward)
in a separate, untimed run, minus what it held before. Yardstick: copying a [B, in, T] float32
tensor into a preallocated buffer.

Usage: python bench/tempotron.py [--repeats 7] [--threads N] [--quick] [--sweep-only] [--csv PATH]
  --quick: 3 repeats and only the sweep.
"""
import argparse, csv, ctypes, datetime, math, statistics, subprocess, time, platform, os
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


# ------------------------------------------------------------ event model: scaling sweep
def mnist_like_images(B, side, seed=0):
    "[B, side*side] digit-like strokes (a few anti-aliased quadratic curves), quantised to k/255 like MNIST."
    g = torch.Generator().manual_seed(seed)
    c = torch.arange(side, dtype=torch.float32) * (28.0 / side)          # a 28-pixel canvas, resampled
    grid = torch.stack(torch.meshgrid(c, c, indexing='ij'), -1).view(-1, 2)
    s = torch.linspace(0, 1, 24)[:, None]
    images = torch.zeros(B, side * side)
    for b in range(B):
        curves = []
        for _ in range(int(torch.randint(2, 4, (1,), generator=g))):
            p = torch.rand(3, 2, generator=g) * 16.8 + 5.6
            curves.append((1 - s) ** 2 * p[0] + 2 * (1 - s) * s * p[1] + s ** 2 * p[2])
        distance = torch.cdist(grid, torch.cat(curves)).amin(1)
        images[b] = (2.2 - distance / 1.1).clamp(0, 1)
    return (images * 255).round() / 255


def gaussian_tuning_events(images, m=16, duration=100.0):
    "Ragged events of each pixel's m Gaussian receptive fields on [0, 1]: time = duration (1 - response)."
    B, P = images.shape
    j = torch.arange(1, m + 1, dtype=images.dtype)
    centres, sigma = (2 * j - 3) / (2 * (m - 2)), 1.0 / (1.5 * (m - 2))
    times = (duration * (1 - torch.exp(-0.5 * ((images[..., None] - centres) / sigma) ** 2))).view(B, P * m)
    keep = (times >= 0) & (times < duration)
    counts = keep.sum(1)
    offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    return times[keep], torch.arange(P * m).expand(B, -1)[keep], offsets


def example_loss(v_max, t_spike, label):
    "The loss of spikingjelly's MNIST example: cross-entropy of 5 v_max, plus the misfiring outputs' error."
    target = torch.nn.functional.one_hot(label, v_max.shape[1]).bool()
    wrong = target != torch.isfinite(t_spike)
    error = torch.where(target, 1.0 - v_max, v_max - 1.0)
    return torch.nn.functional.cross_entropy(5 * v_max, label) + (wrong * error).sum() / label.numel()


SWEEP = [('tiny', 1, 4), ('small', 4, 7), ('medium', 16, 14), ('large', 64, 14),
         ('example', 64, 28), ('example, random times', 64, 28)]


def sweep_case(B, side, uniform, seed=0):
    torch.manual_seed(seed)
    n_in, out, duration = side * side * 16, 10, 100.0
    times, idx, offsets = gaussian_tuning_events(mnist_like_images(B, side, seed), 16, duration)
    if uniform:                                      # as many events, at distinct random times and afferents
        E = times.numel()
        times = torch.rand(E) * duration
        idx = torch.randint(0, n_in, (E,))
    per_sample = times.numel() / B
    ours = EventTempotron(n_in, out, duration)
    with torch.no_grad(): ours.weight.normal_(0.0, 1.3 / math.sqrt(per_sample))  # some outputs fire
    return ours, (times, idx, offsets), torch.arange(B) % out


def event_sweep(repeats, csv_path=None, sizes=SWEEP):
    from spikingjelly.timing_based.neuron import Tempotron as SJTempotron
    rows = []
    for name, B, side in sizes:
        ours, ev, label = sweep_case(B, side, uniform='random' in name)
        sj = SJTempotron(ours.in_features, ours.out_features, ours.duration)
        with torch.no_grad(): sj.weight.copy_(ours.weight)
        a, b = ours(*ev), sj(*ev)
        for x, y in zip(a, b): torch.testing.assert_close(x.detach(), y.detach(), rtol=1e-5, atol=1e-5)
        def step(m):
            def f():
                v_max, _, t_spike = m(*ev)
                example_loss(v_max, t_spike, label).backward(); m.weight.grad = None
            return f
        t_sj, t_ours = compare(step(sj), step(ours), repeats)
        m_sj, m_ours = peak_of(step(sj)), peak_of(step(ours))
        groups = sum(len(torch.unique(ev[0][ev[2][i]:ev[2][i + 1]])) for i in range(B)) / B
        rows.append(dict(size=name, batch=B, pixels=side * side, inputs=ours.in_features, outputs=10,
                         events_per_sample=round(ev[0].numel() / B, 1), times_per_sample=round(groups, 1),
                         events=ev[0].numel(), fired=round(torch.isfinite(b[2]).float().mean().item(), 3),
                         spikingjelly_ms=round(t_sj * 1e3, 2), snnlit_ms=round(t_ours * 1e3, 2),
                         time_ratio=round(t_ours / t_sj, 3), spikingjelly_peak_mb=round(m_sj / 2**20, 2),
                         snnlit_peak_mb=round(m_ours / 2**20, 2), memory_ratio=round(m_ours / max(m_sj, 1), 3)))
    print('Event model, scaling sweep: forward + backward of the MNIST example\'s loss, float32 '
          '(median of %d, alternating; peak = C-allocator high-water mark above the start)' % repeats)
    print('| size | B | inputs | events/sample (distinct times) | fire | spikingjelly ms | snnlit ms | '
          'time snnlit/sj | spikingjelly peak MB | snnlit peak MB | memory snnlit/sj |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['size']} | {r['batch']} | {r['inputs']} | {r['events_per_sample']:.0f} "
              f"({r['times_per_sample']:.0f}) | {r['fired']:.0%} | {r['spikingjelly_ms']:.1f} | "
              f"{r['snnlit_ms']:.1f} | {r['time_ratio']:.2f} | {r['spikingjelly_peak_mb']:.1f} | "
              f"{r['snnlit_peak_mb']:.1f} | {r['memory_ratio']:.2f} |")
    if csv_path:
        setting = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
                       commit=_commit(), torch=torch.__version__, threads=torch.get_num_threads(),
                       cpu=_cpu(), malloc_mmap_max=os.environ.get('MALLOC_MMAP_MAX_', 'default'))
        os.makedirs(os.path.dirname(csv_path) or '.', exist_ok=True)
        with open(csv_path, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=[*rows[0], *setting])
            w.writeheader()
            for r in rows: w.writerow({**r, **setting})
    return rows


def _commit():
    try: return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                               timeout=10).stdout.strip() or 'unknown'
    except (OSError, subprocess.SubprocessError): return 'unknown'


def _cpu():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s choice)')
    p.add_argument('--quick', action='store_true', help='3 repeats, the sweep only')
    p.add_argument('--sweep-only', action='store_true', help='only the event-model sweep')
    p.add_argument('--csv', default=None, help='write the sweep rows to this CSV file')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else args.repeats
    if not (args.quick or args.sweep_only): main(repeats)
    try:
        import spikingjelly.timing_based.neuron  # noqa: F401
    except ImportError:
        print('(spikingjelly is not installed: no event-model sweep)')
    else:
        print(); event_sweep(repeats, args.csv)
