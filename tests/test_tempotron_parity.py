"""EventTempotron against spikingjelly 2.0.0's event-driven `timing_based.Tempotron` (test-only oracle)."""
import pytest, torch

sj_neuron = pytest.importorskip('spikingjelly.timing_based.neuron')
from snnlit.tempotron import EventTempotron
from helpers import stable_seed


def random_events(B, n_in, duration, per, seed):
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, n_in * per, (B,), generator=g)
    counts[0] = 0                                                   # an empty sample
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    E = int(offsets[-1])
    times = torch.rand(E, dtype=torch.float64, generator=g) * 1.2 * duration - 0.1 * duration
    times[::7] = times[::7].round()                                 # some simultaneous events
    idx = torch.randint(0, n_in, (E,), generator=g)
    return times, idx, offsets


CASES = [(seed, *taus) for seed in range(6) for taus in [(15.0, 3.75, 1.0), (10.0, 2.0, 0.7), (5.0, 12.0, 1.3)]]


@pytest.mark.parametrize('seed,tau,tau_s,v_threshold', CASES)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_event_tempotron_matches_spikingjelly(seed, tau, tau_s, v_threshold, dtype):
    torch.manual_seed(seed)
    B, n_in, out, duration = 7, 25, 4, 200.0
    ours = EventTempotron(n_in, out, duration, tau, tau_s, v_threshold).to(dtype)
    ref = sj_neuron.Tempotron(n_in, out, duration, tau, tau_s, v_threshold).to(dtype)
    with torch.no_grad():
        ours.weight.normal_(0.06, 0.3)
        ref.weight.copy_(ours.weight)
    times, idx, offsets = random_events(B, n_in, duration, per=2, seed=seed)
    times = times.to(dtype)
    a, b = ours(times, idx, offsets), ref(times, idx, offsets)
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-5)
    for x, y in zip(a, b):
        torch.testing.assert_close(x.detach(), y.detach(), **tol)
    fired = torch.isfinite(b[2])
    assert fired.any() and not fired.all()
    g = [torch.randn(B, out, dtype=dtype) for _ in range(3)]
    loss = lambda o: (o[0] * g[0]).sum() + (o[1] * g[1]).sum() + (torch.where(torch.isfinite(o[2]), o[2], 0.) * g[2]).sum()
    (ga,) = torch.autograd.grad(loss(a), ours.weight)
    (gb,) = torch.autograd.grad(loss(b), ref.weight)
    scale = gb.abs().max().item()
    torch.testing.assert_close(ga, gb, rtol=tol['rtol'] * 100, atol=tol['atol'] * 100 * max(1.0, scale))


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_event_tempotron_matches_spikingjelly_on_gaussian_tuning(dtype):
    "Events as spikingjelly's MNIST example makes them: most pixels blank, so hundreds of events share a time."
    encoding = pytest.importorskip('spikingjelly.timing_based.encoding')
    g = torch.Generator().manual_seed(stable_seed('gaussian tuning', str(dtype)))
    B, pixels, m, out, duration = 5, 60, 16, 6, 100.0
    images = torch.where(torch.rand(B, pixels, generator=g) < 0.25, torch.rand(B, pixels, generator=g), 0.)
    images = ((images * 255).round() / 255).to(dtype)
    encoder = encoding.GaussianTuning(1, m, torch.zeros(1, dtype=dtype), torch.ones(1, dtype=dtype))
    times, idx, offsets = encoder(images.unsqueeze(1), duration)
    assert times.numel() > 3 * len(torch.unique(times))              # many simultaneous events
    ours = EventTempotron(pixels * m, out, duration).to(dtype)
    ref = sj_neuron.Tempotron(pixels * m, out, duration).to(dtype)
    with torch.no_grad():
        ours.weight.copy_(torch.randn(out, pixels * m, generator=g) * 0.04 + 0.004)
        ref.weight.copy_(ours.weight)
    a, b = ours(times, idx, offsets), ref(times, idx, offsets)
    fired = torch.isfinite(b[2])
    assert fired.any() and not fired.all()
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-5)
    for x, y in zip(a, b):
        torch.testing.assert_close(x.detach(), y.detach(), **tol)
    grads = [torch.randn(B, out, generator=g).to(dtype) for _ in range(3)]
    loss = lambda o: ((o[0] * grads[0]).sum() + (o[1] * grads[1]).sum()
                      + (torch.where(torch.isfinite(o[2]), o[2], 0.) * grads[2]).sum())
    (ga,) = torch.autograd.grad(loss(a), ours.weight)
    (gb,) = torch.autograd.grad(loss(b), ref.weight)
    torch.testing.assert_close(ga, gb, rtol=tol['rtol'] * 100, atol=tol['atol'] * 100 * max(1.0, gb.abs().max().item()))
