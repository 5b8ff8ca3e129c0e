"""snnlit.tempotron against naive implementations of the formulas, written here with loops."""
import math
import pytest, torch
import torch.nn.functional as F
from snnlit.tempotron import (Tempotron, EventTempotron, tempotron_rule_step, psp_kernel, psp_peak_time, exp_filter,
                              tempotron_voltage)
from helpers import assert_close
from oracles import (unit_scale, peak_time_50_digits, exp_filter_recursion, naive_grid,
                               brute_force_events, event_voltage_at)

TAU, TAU_S = 15.0, 3.75


@pytest.mark.parametrize('B,n_in,out,T,K', [(1, 8, 1, 60, 1), (3, 10, 4, 500, 1), (2, 6, 3, 130, 3), (1, 4, 2, 1, 1), (5, 9, 1, 65, 2)])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_grid_equals_naive(B, n_in, out, T, K, dtype):
    torch.manual_seed(B * 100 + T + K)
    model = Tempotron(n_in, out, T, tau=13.0, tau_s=3.0, v_threshold=0.7).to(dtype)
    with torch.no_grad(): model.fc.weight.normal_(0.1, 0.5)
    spikes = torch.rand(B, n_in, K, dtype=dtype) * (T + 20) - 10
    spikes[torch.rand(spikes.shape) < 0.15] = float('nan')
    if K == 1: spikes = spikes[..., 0]
    ref = naive_grid(spikes, model.fc.weight.detach(), T, 13.0, 3.0, 0.7)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=2e-6)
    v = model(spikes, 'v')
    assert v.shape == (B, out, T) and v.dtype == dtype
    torch.testing.assert_close(v.detach().double(), ref, **tol)
    v_max = model(spikes, 'v_max')
    assert v_max.shape == (B, out)
    torch.testing.assert_close(v_max.detach().double(), ref.amax(-1), **tol)


def test_grid_late_spikes_no_nan():
    "The reference's method gives NaN for spikes later than ~333 steps; the spec formula does not."
    model = Tempotron(3, 2, 1000)
    spikes = torch.tensor([[900.0, 400.0, 999.0]])
    v = model(spikes, 'v')
    assert torch.isfinite(v).all()
    torch.testing.assert_close(v.double().detach(), naive_grid(spikes, model.fc.weight.detach(), 1000, TAU, TAU_S, 1.0),
                               rtol=1e-5, atol=1e-6)


def test_spikes_hard_forward_soft_backward():
    torch.manual_seed(3)
    for B, out in [(1, 1), (6, 3)]:
        model = Tempotron(30, out, 200).double()
        with torch.no_grad(): model.fc.weight.normal_(0.03, 0.3)
        spikes = torch.rand(B, 30, dtype=torch.float64) * 200
        y = model(spikes, 'spikes')
        v = model(spikes, 'v')
        v_max = v.detach().amax(-1)
        sign = torch.where(v_max >= 1.0, 1.0, -1.0)
        hard = torch.tensor([[float(max(range(200), key=lambda t: (v[b, o, t].item(), -t))) for o in range(out)] for b in range(B)],
                            dtype=torch.float64)
        assert torch.equal(y.detach(), sign * hard)
        assert y.shape == (B, out)
        if B > 1: assert (sign > 0).any() and (sign < 0).any()
        g = torch.randn(B, out, dtype=torch.float64)
        (grad,) = torch.autograd.grad(y, model.fc.weight, g)
        t = torch.arange(200, dtype=torch.float64)
        soft = (torch.softmax(v * 200, -1) * t).sum(-1)
        (ref,) = torch.autograd.grad(sign * soft, model.fc.weight, g)
        torch.testing.assert_close(grad, ref, rtol=1e-10, atol=1e-12)


def test_grid_validation():
    model = Tempotron(4, 2, 10)
    x = torch.rand(3, 4)
    with pytest.raises(ValueError, match=r"`ret_type` must be one of 'v', 'v_max', 'spikes', got 'V'"): model(x, 'V')
    with pytest.raises(ValueError, match=r"`in_spikes` must have shape \[B, 4\] or \[B, 4, K\], got \(3, 5\)"): model(torch.rand(3, 5), 'v')
    with pytest.raises(ValueError, match=r"got \(4,\)"): model(torch.rand(4), 'v')
    with pytest.raises(TypeError, match="`in_spikes` must be a floating-point tensor"): model(torch.ones(3, 4, dtype=torch.long), 'v')
    for tau, tau_s in [(3.0, 3.0), (2.0, 3.0)]:
        with pytest.raises(ValueError, match="`tau` must be greater than `tau_s`"): Tempotron(4, 2, 10, tau=tau, tau_s=tau_s)
    with pytest.raises(ValueError, match="`tau_s` must be a finite real number > 0, got -1"): Tempotron(4, 2, 10, tau_s=-1.0)
    with pytest.raises(ValueError, match="`in_features` must be an int >= 1, got 0"): Tempotron(0, 2, 10)
    with pytest.raises(TypeError, match="`T` must be an int, got 2.5"): Tempotron(4, 2, 2.5)
    before = x.clone()
    model(x, 'spikes')
    assert torch.equal(x, before)


def test_psp_kernel_and_mse_loss():
    t = torch.tensor([-1e4, -400.0, -1.0, 0.0, 1.0, 50.0])
    k = Tempotron.psp_kernel(t, TAU, TAU_S)
    ref = torch.tensor([0 if x < 0 else math.exp(-x / TAU) - math.exp(-x / TAU_S) for x in t.tolist()])
    torch.testing.assert_close(k, ref)
    torch.manual_seed(4)
    v_max = torch.rand(7, 4, dtype=torch.float64) * 2
    label = torch.randint(0, 4, (7,))
    loss = 0.0
    for b in range(7):
        for o in range(4):
            if (v_max[b, o] >= 1.0).item() != (label[b] == o).item(): loss += (v_max[b, o].item() - 1.0) ** 2
    torch.testing.assert_close(Tempotron.mse_loss(v_max, 1.0, label, 4), torch.tensor(loss / 7, dtype=torch.float64))


def test_exp_filter_equals_recursion():
    torch.manual_seed(5)
    for T, block in [(1, 64), (63, 64), (64, 64), (65, 64), (300, 16)]:
        x = torch.randn(2, 3, T, dtype=torch.float64)
        y = exp_filter(x, (7.0, 1.5), block=block)
        torch.testing.assert_close(y, exp_filter_recursion(x, (7.0, 1.5)), rtol=1e-12, atol=1e-12)


def test_grid_gradcheck():
    torch.manual_seed(6)
    model = Tempotron(5, 2, 30).double()
    s = torch.rand(2, 5, 2, dtype=torch.float64) * 30
    for ret_type in ('v', 'v_max', 'spikes'):
        f = lambda w: torch.func.functional_call(model, {'fc.weight': w}, (s, ret_type))
        w = (torch.randn(2, 5, dtype=torch.float64) * 0.5).requires_grad_()
        if ret_type == 'spikes':   # straight-through: the gradient is the soft argmax's, not the (zero) hard one's
            continue
        assert torch.autograd.gradcheck(f, (w,))


# ---------------------------------------------------------------- event model
def random_events(B, n_in, duration, per=3, seed=0, out_of_window=True):
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, n_in * per, (B,), generator=g)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    E = int(offsets[-1])
    lo, hi = (-0.1 * duration, 1.1 * duration) if out_of_window else (0.0, duration)
    times = torch.rand(E, dtype=torch.float64, generator=g) * (hi - lo) + lo
    idx = torch.randint(0, n_in, (E,), generator=g)
    return times, idx, offsets


@pytest.mark.parametrize('seed,tau,tau_s,duration,dt', [(0, 15.0, 3.75, 150.0, 0.005), (1, 10.0, 2.0, 120.0, 0.005),
                                                        (2, 4.0, 9.0, 100.0, 0.005), (3, 2.0, 0.5, 600.0, 0.01)])
def test_event_equals_brute_force(seed, tau, tau_s, duration, dt):
    "(seed 3: duration > 500 tau_s, so the cumulative sums run over two segments)"
    torch.manual_seed(seed)
    n_in = 10
    m = EventTempotron(n_in, 3, duration, tau=tau, tau_s=tau_s, v_threshold=1.0).double()
    with torch.no_grad(): m.weight.normal_(0.3, 0.4)
    times, idx, offsets = random_events(5, n_in, duration, per=2 if duration < 500 else 4, seed=seed)
    out = m(times, idx, offsets)
    ref = brute_force_events(m, times, idx, offsets, dt)
    fired = torch.isfinite(out.t_spike)
    assert fired.any() and not fired.all()
    assert torch.equal(fired, torch.isfinite(ref[2]))
    torch.testing.assert_close(out.v_max.detach(), ref[0], rtol=0, atol=1e-4)
    torch.testing.assert_close(out.t_spike.detach(), ref[2], rtol=0, atol=dt * 1.01)
    # t_peak: the grid's argmax, or (on exact ties, e.g. two lone PSPs of one afferent) another time with the same V
    far = (out.t_peak.detach() - ref[1]).abs() > max(20 * dt, 0.05)
    for b, o in far.nonzero().tolist():
        v_there = event_voltage_at(m, times, idx, offsets, b, o, out.t_peak[b, o].item(), out.t_spike[b, o].item())
        assert abs(v_there - out.v_max[b, o].item()) < 1e-12, (b, o)
    assert far.sum() <= 2


def test_event_hand_cases():
    m = EventTempotron(2, 1, 50.0).double()
    t_max = TAU * TAU_S * math.log(4) / (TAU - TAU_S)
    with torch.no_grad(): m.weight.fill_(0.7)
    # two events at the same time on one afferent add up; an event at exactly `duration` counts but adds 0
    out = m(torch.tensor([5.0, 5.0, 50.0], dtype=torch.float64), torch.tensor([0, 0, 1]), torch.tensor([0, 3]))
    torch.testing.assert_close(out.v_max.detach(), torch.tensor([[1.4]], dtype=torch.float64), rtol=0, atol=1e-12)
    t_s = out.t_spike.detach().item()
    assert 5 < t_s < 5 + t_max
    assert abs(1.4 * unit_scale(TAU, TAU_S) * (math.exp(-(t_s - 5) / TAU) - math.exp(-(t_s - 5) / TAU_S)) - 1.0) < 1e-12
    # a peak cut by the end of the trial: V still rising at `duration`
    out = m(torch.tensor([48.0], dtype=torch.float64), torch.tensor([0]), torch.tensor([0, 1]))
    assert out.t_peak.item() == 50.0
    # events out of the window are ignored
    out2 = m(torch.tensor([48.0, -3.0, 51.0], dtype=torch.float64), torch.tensor([0, 1, 1]), torch.tensor([0, 3]))
    assert_close(out.v_max, out2.v_max); assert_close(out.t_peak, out2.t_peak)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_event_gradcheck(seed):
    torch.manual_seed(seed)
    m = EventTempotron(6, 4, 80.0).double()
    times, idx, offsets = random_events(3, 6, 80.0, per=3, seed=seed + 10)
    w0 = torch.randn(4, 6, dtype=torch.float64) * 0.5 + 0.4
    def f(w):
        out = torch.func.functional_call(m, {'weight': w}, (times, idx, offsets))
        return out.v_max, out.t_peak, torch.where(torch.isfinite(out.t_spike), out.t_spike, 0.)
    fired = torch.isfinite(torch.func.functional_call(m, {'weight': w0}, (times, idx, offsets)).t_spike)
    assert fired.any()
    assert torch.autograd.gradcheck(f, (w0.requires_grad_(),))


def test_event_validation_and_no_inplace():
    m = EventTempotron(3, 2, 10.0)
    times, idx, offsets = torch.tensor([1.0, 2.0]), torch.tensor([0, 2]), torch.tensor([0, 2])
    kept = [x.clone() for x in (times, idx, offsets)]
    m(times, idx, offsets)
    assert all(torch.equal(a, b) for a, b in zip(kept, (times, idx, offsets)))
    with pytest.raises(TypeError, match="`input_indices` must be int64, got torch.int32"): m(times, idx.int(), offsets)
    with pytest.raises(ValueError, match=r"`spike_times` and `input_indices` must both have shape \[E\]"): m(times, idx[:1], offsets)
    with pytest.raises(ValueError, match="`batch_offsets` must start at 0"): m(times, idx, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="`spike_times` must be finite"): m(torch.tensor([1.0, math.nan]), idx, offsets)
    with pytest.raises(TypeError, match="`spike_times` must be a floating-point tensor"): m(idx, idx, offsets)
    with pytest.raises(ValueError, match="`duration` must be a finite real number > 0, got 0"): EventTempotron(3, 2, 0)
    with pytest.raises(ValueError, match="`tau` and `tau_s` must differ"): EventTempotron(3, 2, 10.0, 4.0, 4.0)


# ---------------------------------------------------------------- the tempotron rule
def test_rule_step_grid_equals_naive():
    torch.manual_seed(7)
    B, n_in, out, T = 4, 12, 3, 80
    model = Tempotron(n_in, out, T).double()
    with torch.no_grad(): model.fc.weight.normal_(0.2, 0.3)
    spikes = torch.rand(B, n_in, 2, dtype=torch.float64) * 90 - 5
    target = torch.randint(0, 2, (B, out))
    w = model.fc.weight.detach().clone()
    v = naive_grid(spikes, w, T, TAU, TAU_S, 1.0)
    v0 = unit_scale(TAU, TAU_S)
    expected = w.clone()
    n_err = 0
    for b in range(B):
        for o in range(out):
            t_max = max(range(T), key=lambda t: (v[b, o, t].item(), -t))
            fired = v[b, o, t_max].item() >= 1.0
            if fired == bool(target[b, o]): continue
            n_err += 1
            for i in range(n_in):
                for s in spikes[b, i].tolist():
                    if s >= 0 and s < t_max:
                        expected[o, i] += (1 if target[b, o] else -1) * 0.05 * v0 * (math.exp(-(t_max - s) / TAU) - math.exp(-(t_max - s) / TAU_S))
    errors = tempotron_rule_step(model, spikes, target, lr=0.05)
    assert errors.sum().item() == n_err > 0
    torch.testing.assert_close(model.fc.weight.detach(), expected, rtol=1e-10, atol=1e-12)


def test_rule_step_event_equals_naive():
    torch.manual_seed(8)
    m = EventTempotron(8, 3, 100.0).double()
    with torch.no_grad(): m.weight.normal_(0.3, 0.4)
    times, idx, offsets = random_events(4, 8, 100.0, per=2, seed=3, out_of_window=False)
    out = m(times, idx, offsets)
    target = torch.randint(0, 2, (4, 3))
    w = m.weight.detach().clone()
    expected = w.clone()
    scale = unit_scale(TAU, TAU_S)
    for b in range(4):
        for o in range(3):
            fired = math.isfinite(out.t_spike[b, o].item())
            if fired == bool(target[b, o]): continue
            t_peak, t_spike = out.t_peak[b, o].item(), out.t_spike[b, o].item()
            for e in range(int(offsets[b]), int(offsets[b + 1])):
                s = times[e].item()
                if s < t_peak and s < t_spike:
                    expected[o, idx[e]] += (1 if target[b, o] else -1) * 0.1 * scale * (math.exp(-(t_peak - s) / TAU) - math.exp(-(t_peak - s) / TAU_S))
    errors = tempotron_rule_step(m, (times, idx, offsets), target, lr=0.1)
    assert errors.any()
    torch.testing.assert_close(m.weight.detach(), expected, rtol=1e-10, atol=1e-12)


def test_rule_step_momentum_and_labels():
    torch.manual_seed(9)
    model = Tempotron(10, 3, 50).double()
    spikes = torch.rand(5, 10, dtype=torch.float64) * 50
    labels = torch.randint(0, 3, (5,))
    twin = Tempotron(10, 3, 50).double(); twin.load_state_dict(model.state_dict())
    e1 = tempotron_rule_step(model, spikes, labels, lr=0.1)
    e2 = tempotron_rule_step(twin, spikes, F.one_hot(labels, 3), lr=0.1)
    assert torch.equal(e1, e2) and torch.equal(model.fc.weight, twin.fc.weight)
    buf = torch.zeros_like(model.fc.weight)
    w0 = model.fc.weight.detach().clone()
    tempotron_rule_step(model, spikes, labels, lr=0.1, momentum=buf, mu=0.9)
    step1 = model.fc.weight.detach() - w0
    torch.testing.assert_close(buf, step1, rtol=1e-12, atol=1e-15)
    assert buf.abs().sum() > 0


def test_grid_compiles_without_graph_breaks():
    torch.manual_seed(10)
    model = Tempotron(20, 3, 60).double()                  # float64: the 'spikes' gradient (softmax of 60 v) amplifies rounding
    spikes = torch.rand(4, 20, dtype=torch.float64) * 60
    compiled = torch.compile(model, fullgraph=True)
    for ret_type in ('v', 'v_max', 'spikes'):
        y = compiled(spikes, ret_type)
        torch.testing.assert_close(y.detach(), model(spikes, ret_type).detach(), rtol=1e-10, atol=1e-10)
        (g,) = torch.autograd.grad(y.sum(), model.fc.weight)
        (g_ref,) = torch.autograd.grad(model(spikes, ret_type).sum(), model.fc.weight)
        torch.testing.assert_close(g, g_ref, rtol=1e-8, atol=1e-8)


def test_exp_filter_nonfinite_causal_eager_and_compiled():
    "A late NaN / inf changes only the later steps; compiled, the masks are always on and give the same values."
    x = torch.randn(2, 3, 150, dtype=torch.float64, generator=torch.Generator().manual_seed(15))
    x[0, 1, 120], x[1, 2, 70], x[1, 0, 5], x[1, 0, 90] = math.nan, math.inf, -math.inf, math.inf
    ref = exp_filter_recursion(x, (7.0, 1.5))
    eager = exp_filter(x, (7.0, 1.5))
    assert_close(eager, ref, rtol=1e-12, atol=1e-12)
    compiled = torch.compile(lambda d: exp_filter(d, (7.0, 1.5)), fullgraph=True)(x)
    assert_close(compiled, ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- moved from nbs/05_tempotron.ipynb (edge cases and bad input)
def fails(f, message, exc=(ValueError, TypeError)):
    "`f()` raises `exc` with `message` in its text."
    with pytest.raises(exc) as info: f()
    assert message in str(info.value), str(info.value)


def test_psp_peak_time_against_50_digits():
    "tau log1p(x)/x without cancellation near tau = tau_s; symmetric; the limit tau at tau = tau_s."
    assert psp_peak_time(15.0, 15.0) == 15.0
    assert psp_peak_time(torch.tensor(15.0), torch.tensor(3.75)) == psp_peak_time(15.0, 3.75)
    for tau_s in (15.0 * (1 - 1e-15), 15.0 * (1 - 1e-9), 15.0 * (1 + 1e-6), 14.0, 30.0, 3.75, 1e-6):
        ref = peak_time_50_digits(15.0, tau_s)
        assert abs(psp_peak_time(15.0, tau_s) - ref) <= 4e-16 * ref
        assert psp_peak_time(tau_s, 15.0) == psp_peak_time(15.0, tau_s)


def test_psp_kernel_edge_cases_and_bad_input():
    t = torch.linspace(-700, 60, 7601, dtype=torch.float32)
    fails(lambda: psp_kernel(t, 0., 3.75), "`tau` must be a finite real number > 0, got 0.0")
    fails(lambda: psp_kernel(t, 15.0, torch.tensor(-1.0)),
          "`tau_s` must be a finite real number > 0, got a 0-d torch.float32 tensor holding -1.0")
    fails(lambda: psp_peak_time(15.0, math.inf), "`tau_s` must be a finite real number > 0, got inf")
    fails(lambda: psp_kernel(t > 0, 15.0, 3.75), "`t` must be a real (not complex or bool) tensor")
    assert torch.equal(psp_kernel(torch.arange(-2, 40), 15.0, 3.75), psp_kernel(torch.arange(-2, 40).float(), 15.0, 3.75))
    half = psp_kernel(torch.arange(40.).half(), 15.0, 3.75)
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.double(), psp_kernel(torch.arange(40.).double(), 15.0, 3.75), rtol=0, atol=1e-3)
    assert psp_kernel(t, 15.0, 15.0).abs().max() == 0


def test_exp_filter_edge_cases_and_bad_input():
    x = torch.randn(2, 3, 150, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = exp_filter_recursion(x, (15.0, 3.75))
    torch.testing.assert_close(exp_filter(x, (15.0, 3.75), block=150), ref, rtol=1e-12, atol=1e-12)
    assert torch.equal(exp_filter(x[..., :1], (15.0, 3.75)), x[..., :1])
    x_bad = x.clone()
    x_bad[0, 1, 100], x_bad[1, 2, 70], x_bad[1, 0, 5], x_bad[1, 0, 9] = math.nan, math.inf, -math.inf, math.inf
    y = exp_filter(x_bad, (15.0, 3.75), block=64)
    torch.testing.assert_close(y[0, 1, :100], ref[0, 1, :100], rtol=1e-12, atol=1e-12)
    assert y[0, 1, 100:].isnan().all() and (y[1, 2, 70:] == math.inf).all()
    torch.testing.assert_close(y[1, 2, :70], ref[1, 2, :70], rtol=1e-12, atol=1e-12)
    assert (y[1, 0, 5:9] == -math.inf).all() and y[1, 0, 9:].isnan().all()
    torch.testing.assert_close(y[0, 0], ref[0, 0], rtol=1e-12, atol=1e-12)          # other rows untouched
    fails(lambda: exp_filter(torch.ones(1, 2, 5, dtype=torch.long), (3.0,)), "`drive` must be a floating-point tensor [C, N, T]")
    fails(lambda: exp_filter(torch.ones(2, 5), (3.0,)), "`drive` must be a floating-point tensor [C, N, T] with 3 dimensions")
    fails(lambda: exp_filter(x, (15.0,)), "`taus` must be 2 time constants")
    fails(lambda: exp_filter(x, (15.0, 0.0)), "`taus[1]` must be a finite real number > 0, got 0.0")
    fails(lambda: exp_filter(x, 15.0), "`taus` must be a tuple or list of 2 time constants")
    fails(lambda: exp_filter(x, (15.0, 3.75), block=0), "`block` must be an int >= 1")
    torch.testing.assert_close(exp_filter(x, (torch.tensor(15.0), torch.tensor(3.75))), ref, rtol=1e-12, atol=1e-12)
    half = exp_filter(x.half(), (15.0, 3.75))
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.double(), ref, rtol=0, atol=0.1)
    assert exp_filter(x[..., :0], (15.0, 3.75)).shape == (2, 3, 0)
    x_big = x.float().clone(); x_big[0, 0, 140:142] = 3e38                          # the float32 state overflows at 141
    y = exp_filter(x_big, (15.0, 3.75))
    torch.testing.assert_close(y[:, :, :140], ref[:, :, :140].float(), rtol=1e-4, atol=1e-4)
    assert y[0, 0, 141].item() == math.inf


def test_tempotron_voltage_edge_cases_and_bad_input():
    v0 = unit_scale(15.0, 3.75)
    s, w = torch.tensor([[10.3]], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64)
    v = tempotron_voltage(s, w, 100, 15.0, 3.75, v0)
    assert tempotron_voltage(s[:0], w, 100, 15.0, 3.75, v0).shape == (0, 1, 100)
    assert tempotron_voltage(s, w, 100, 15.0, 15.0, v0).abs().max() < 1e-12      # the two filters: equal to rounding
    torch.testing.assert_close(tempotron_voltage(s, w, 100, torch.tensor(15.0), torch.tensor(3.75),
                                                 torch.tensor(v0, dtype=torch.float64)), v, rtol=1e-13, atol=1e-13)
    fails(lambda: tempotron_voltage(s, w[0], 100, 15.0, 3.75, v0), "`weight` must be a floating-point tensor [out, in] with 2 dimensions")
    fails(lambda: tempotron_voltage(s, w.long(), 100, 15.0, 3.75, v0), "`weight` must be a floating-point tensor")
    fails(lambda: tempotron_voltage(s.long(), w, 100, 15.0, 3.75, v0), "`in_spikes` must be a floating-point tensor")
    fails(lambda: tempotron_voltage(s[0], w, 100, 15.0, 3.75, v0), "`in_spikes` must have shape [B, 1] or [B, 1, K], got (1,)")
    fails(lambda: tempotron_voltage(s, w, 0, 15.0, 3.75, v0), "`T` must be an int >= 1, got 0")
    fails(lambda: tempotron_voltage(s, w, 100, 15.0, -3.75, v0), "`tau_s` must be a finite real number > 0")
    fails(lambda: tempotron_voltage(s, w, 100, 15.0, 3.75, math.nan), "`v0` must be a finite real number, got nan")


def test_grid_module_bad_input_and_empty_batch():
    model = Tempotron(3, 1, 60).double()
    spikes = torch.tensor([[5.0, 20.0, -1.0]], dtype=torch.float64)
    fails(lambda: model(spikes[:, :2], 'v'), "`in_spikes` must have shape [B, 3] or [B, 3, K], got (1, 2)")
    fails(lambda: model(torch.tensor([[1, 2, 3]]), 'v'),
          "`in_spikes` must be a floating-point tensor [B, in] or [B, in, K] of spike times, got a torch.int64 tensor")
    fails(lambda: Tempotron(3, 1, 60, tau=2.0, tau_s=2.0), "`tau` must be greater than `tau_s`, got tau=2.0, tau_s=2.0")
    fails(lambda: Tempotron(3, 1, 0), "`T` must be an int >= 1, got 0")
    fails(lambda: Tempotron(3, 1, 60, tau=torch.tensor(0.0)),
          "`tau` must be a finite real number > 0, got a 0-d torch.float32 tensor holding 0.0")
    assert Tempotron(3, 1, torch.tensor(60), tau=torch.tensor(15.0)).tau == 15.0   # 0-d tensors read once
    assert [tuple(model(spikes[:0], r).shape) for r in ('v', 'v_max', 'spikes')] == [(0, 1, 60), (0, 1), (0, 1)]
    assert torch.equal(Tempotron(20, 2, 100)(torch.zeros(3, 20, 0), 'v_max').detach(), torch.zeros(3, 2))  # K = 0
    with torch.no_grad(): model.fc.weight.copy_(torch.tensor([[0.6, 0.2, 3.0]]))
    out = model(spikes, 'spikes').detach()
    assert out[0, 0] < 0 and -out[0, 0] == model(spikes, 'v')[0, 0].argmax()   # below threshold: negative


def test_mse_loss_bad_input():
    v_max = torch.tensor([[0.4, 1.3, 0.9], [1.2, 0.1, 1.0]], dtype=torch.float64)
    label = torch.tensor([2, 0])
    assert Tempotron.mse_loss(torch.tensor([[0.5, 1.5]]), 1.0, torch.tensor([1]), 2) == 0
    fails(lambda: Tempotron.mse_loss(v_max, 1.0, label.float(), 3), "`label` must be an integer tensor")
    fails(lambda: Tempotron.mse_loss(v_max, 1.0, torch.tensor([2, 3]), 3),
          "`label` must hold class indices in [0, 3), got values from 2 to 3")
    fails(lambda: Tempotron.mse_loss(v_max, 1.0, torch.tensor([-1, 0]), 3), "`label` must hold class indices in [0, 3)")
    fails(lambda: Tempotron.mse_loss(v_max, 1.0, label[:1], 3),
          "`label` must be an integer tensor of class indices with shape [B] = (2,)")
    fails(lambda: Tempotron.mse_loss(v_max[:0], 1.0, label[:0], 3), "`v_max` must be a non-empty batch")
    fails(lambda: Tempotron.mse_loss(v_max, 1.0, label, 4), "`v_max` must be of shape [B, 4]")


def test_event_module_bad_input_empty_batch_and_long_trial():
    m = EventTempotron(3, 2, 100.0).double()
    with torch.no_grad(): m.weight.copy_(torch.tensor([[0.5, 0.7, -1.0], [2.0, 0.7, -1.0]]))
    fails(lambda: m(torch.tensor([1.0]), torch.tensor([3]), torch.tensor([0, 1])),
          "`input_indices` must lie in [0, 3), got values in [3, 3]")
    fails(lambda: m(torch.tensor([1.0]), torch.tensor([0]), torch.tensor([0, 2])),
          "`batch_offsets` must start at 0, never decrease and end at E=1")
    fails(lambda: m(torch.tensor([1.0], requires_grad=True), torch.tensor([0]), torch.tensor([0, 1])),
          "differentiates w.r.t. its weights only")
    fails(lambda: EventTempotron(3, 1, 100.0, tau=5.0, tau_s=5.0), "`tau` and `tau_s` must differ")
    fails(lambda: EventTempotron(3, 1, 100.0, tau_s=0.0), "`tau_s` must be a finite real number > 0, got 0.0")
    fails(lambda: m(torch.tensor([1]), torch.tensor([0]), torch.tensor([0, 1])), "`spike_times` must be a floating-point tensor [E]")
    empty = m(torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.long), torch.tensor([0]))
    assert [tuple(o.shape) for o in empty] == [(0, 2)] * 3
    # a trial of 1e12 ms with two events: only the segments holding events are visited (returns at once)
    m_long = EventTempotron(3, 2, 1e12).double()
    with torch.no_grad(): m_long.weight.copy_(m.weight)
    short = m(torch.tensor([10.0], dtype=torch.float64), torch.tensor([0]), torch.tensor([0, 1]))
    out = m_long(torch.tensor([10.0, 5e11], dtype=torch.float64), torch.tensor([0, 1]), torch.tensor([0, 2]))
    t_max = psp_peak_time(15.0, 3.75)
    torch.testing.assert_close(out.v_max, torch.stack([m.weight[0, 1], m.weight[1, 0]])[None], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out.t_peak, torch.tensor([[5e11 + t_max, 10 + t_max]], dtype=torch.float64), rtol=0, atol=1e-3)
    torch.testing.assert_close(out.t_spike[0, 1], short.t_spike[0, 1], rtol=1e-12, atol=1e-12)


def test_rule_step_bad_input_leaves_weights_and_frozen_weight_learns():
    model = Tempotron(2, 1, 100).double()
    with torch.no_grad(): model.fc.weight.copy_(torch.tensor([[0.5, 0.3]]))
    spikes = torch.tensor([[10.0, 60.0]], dtype=torch.float64)
    w_before = model.fc.weight.detach().clone()
    for bad, msg in [(torch.tensor([1]), "`target` must hold class indices in [0, 1), got values from 1 to 1"),
                     (torch.tensor([[0.5]]), "`target` must be [B, out] = [1, 1] of 0s and 1s"),
                     ([1], "`target` must be a tensor [B, out] or [B]"),
                     (torch.tensor([[0, 1]]), "`target` must have shape [1, 1] or [1]")]:
        fails(lambda: tempotron_rule_step(model, spikes, bad), msg)
    fails(lambda: tempotron_rule_step(torch.nn.Linear(2, 1), spikes, torch.tensor([[0]])), "`model` must be a Tempotron or an EventTempotron")
    fails(lambda: tempotron_rule_step(model, spikes, torch.tensor([0]), lr=0), "`lr` must be a finite real number > 0, got 0")
    fails(lambda: tempotron_rule_step(model, spikes, torch.tensor([0]), momentum=torch.zeros(2)),
          "`momentum` must be a tensor of the weight's shape (1, 2)")
    assert torch.equal(model.fc.weight.detach(), w_before)
    assert tempotron_rule_step(model, spikes[:0], torch.tensor([], dtype=torch.long)).shape == (0, 1)
    assert torch.equal(model.fc.weight.detach(), w_before)
    model.requires_grad_(False)
    assert tempotron_rule_step(model, spikes, torch.tensor([[1]]), lr=0.1).tolist() == [[True]]
    assert model.fc.weight[0, 0] > w_before[0, 0]



def test_dtypes_batch_one_and_inputs_untouched():
    torch.manual_seed(14)
    spikes = torch.rand(1, 20) * 100
    spikes_before = spikes.clone()
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        model = Tempotron(20, 2, 100).to(dtype)
        for ret_type in ('v', 'v_max', 'spikes'):
            y = model(spikes, ret_type)
            assert y.dtype == dtype
            y.float().sum().backward()
            assert torch.isfinite(model.fc.weight.grad).all()
        ref = naive_grid(spikes, model.fc.weight.detach(), 100, 15.0, 3.75, 1.0)
        torch.testing.assert_close(model(spikes, 'v').detach().double(), ref, rtol=2e-2, atol=2e-2)
    assert torch.equal(spikes, spikes_before)
    times = torch.rand(30, dtype=torch.float64) * 100
    idx = torch.randint(0, 20, (30,))
    kept = times.clone(), idx.clone()
    ref = None
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16):
        m = EventTempotron(20, 2, 100.0)
        with torch.no_grad(): m.weight.copy_(torch.linspace(-0.3, 1.2, 40).view(2, 20))
        m = m.to(dtype)
        out = m(times, idx, torch.tensor([0, 30]))
        assert [o.dtype for o in out] == [dtype] * 3 and out.v_max.shape == (1, 2)
        out.v_max.float().sum().backward()
        assert torch.isfinite(m.weight.grad).all()
        if ref is None: ref = out
        torch.testing.assert_close(out.v_max.double(), ref.v_max.detach(), rtol=1e-2, atol=1e-2)
    assert torch.equal(times, kept[0]) and torch.equal(idx, kept[1])


@pytest.mark.parametrize('block', [1, 3])
def test_event_blocks_and_ties_change_nothing(monkeypatch, block):
    "Groups visited a few at a time (the carry between blocks), with many simultaneous events: same outputs and gradients."
    import snnlit.tempotron as tempotron
    torch.manual_seed(21)
    m = EventTempotron(8, 3, 120.0).double()
    with torch.no_grad(): m.weight.normal_(0.25, 0.4)
    times, idx, offsets = random_events(4, 8, 120.0, per=4, seed=21)
    times = torch.where(torch.arange(times.numel()) % 2 == 0, (times / 10).round() * 10, times)   # ties
    def run():
        out = m(times, idx, offsets)
        loss = out.v_max.sum() + out.t_peak.sum() + torch.where(torch.isfinite(out.t_spike), out.t_spike, 0.).sum()
        (g,) = torch.autograd.grad(loss, m.weight)
        return [o.detach() for o in out], g
    ref, g_ref = run()
    fired = torch.isfinite(ref[2])
    assert fired.any() and not fired.all()
    monkeypatch.setattr(tempotron, '_block_size', lambda B, n_out: block)
    got, g_got = run()
    for x, y in zip(got, ref): torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_got, g_ref, rtol=1e-10, atol=1e-10)
    f = lambda w: [o if i < 2 else torch.where(torch.isfinite(o), o, 0.)
                   for i, o in enumerate(torch.func.functional_call(m, {'weight': w}, (times, idx, offsets)))]
    assert torch.autograd.gradcheck(f, (m.weight.detach().clone().requires_grad_(),))


# ---------------------------------------------------------------- shunting on the grid, the paper's momentum
from oracles_cap import shunted_membrane, paper_rule_trial


@pytest.mark.parametrize('B,n_in,out,T,K', [(3, 8, 2, 80, 1), (2, 6, 3, 130, 2), (1, 12, 1, 40, 1)])
def test_grid_shunting_equals_naive(B, n_in, out, T, K):
    torch.manual_seed(B * 31 + T + K)
    model = Tempotron(n_in, out, T, shunting=True).double()
    with torch.no_grad(): model.fc.weight.normal_(0.6, 0.4)
    spikes = torch.rand(B, n_in, K, dtype=torch.float64) * (T + 10) - 5
    spikes[0, 0, 0] = math.nan
    v = model(spikes, 'v').detach()
    w = model.fc.weight.detach().tolist()
    n_fired = n_cut = 0
    for b in range(B):
        times = spikes[b].tolist()
        for o in range(out):
            ref, t_star = shunted_membrane(times, w[o], T, TAU, TAU_S)
            assert_close(v[b, o], torch.tensor(ref, dtype=torch.float64))
            n_fired += t_star is not None
            n_cut += t_star is not None and any(t_star <= s <= T - 1 for a in times for s in a)
    assert n_fired and n_cut           # the cases include outputs whose later input is shunted
    plain = Tempotron(n_in, out, T).double(); plain.load_state_dict(model.state_dict())
    silent = plain(spikes, 'v_max').detach() < 1.0
    assert_close(v.amax(-1)[silent], plain(spikes, 'v_max').detach()[silent])
    assert torch.equal(v.amax(-1) >= 1.0, ~silent)           # the same decisions


def test_grid_shunting_t_max_is_the_shunted_peak():
    "A hand-built case: the crossing at step t* and a later strong input that would move the unshunted peak."
    model = Tempotron(2, 1, 80, shunting=True).double()
    with torch.no_grad(): model.fc.weight.copy_(torch.tensor([[1.3, 2.0]], dtype=torch.float64))
    spikes = torch.tensor([[10.0, 30.0]], dtype=torch.float64)
    v = model(spikes, 'v').detach()[0, 0]
    one = model.v0 * psp_kernel(torch.arange(80, dtype=torch.float64) - 10, TAU, TAU_S)
    assert_close(v, 1.3 * one)                               # afferent 1 at 30 comes after the spike
    assert int(model(spikes, 'spikes').detach()) == int(one.argmax()) < 30
    model.shunting = False
    assert int(model(spikes, 'spikes').detach()) > 30


@pytest.mark.parametrize('shunting', [True, False])
def test_rule_paper_momentum_sequence_equals_naive(shunting):
    "Forty single-pattern trials with mu = 0.9: the weights and the remembered change follow the paper's rule."
    gen = torch.Generator().manual_seed(11 + shunting)
    n_in, T, lr, mu = 12, 60, 0.02, 0.9
    model = Tempotron(n_in, 1, T, shunting=shunting).double()
    with torch.no_grad(): model.fc.weight.copy_(torch.randn(1, n_in, generator=gen, dtype=torch.float64) * 0.1 + 0.15)
    patterns = torch.rand(6, n_in, dtype=torch.float64, generator=gen) * T
    labels = torch.randint(0, 2, (6,), generator=gen)
    buf = torch.zeros(1, n_in, dtype=torch.float64)
    w, prev = model.fc.weight.detach()[0].tolist(), [0.0] * n_in
    n_err = n_ok = 0
    for trial in range(40):
        p = int(torch.randint(0, 6, (1,), generator=gen))
        err = tempotron_rule_step(model, patterns[p:p + 1], labels[p:p + 1, None], lr=lr, momentum=buf, mu=mu)
        w, prev, ref_err = paper_rule_trial(patterns[p].tolist(), w, int(labels[p]), prev, lr, mu, T, TAU, TAU_S,
                                            shunting=shunting)
        assert bool(err) == ref_err
        n_err += ref_err; n_ok += not ref_err
        assert_close(model.fc.weight.detach()[0], torch.tensor(w, dtype=torch.float64))
        assert_close(buf[0], torch.tensor(prev, dtype=torch.float64))
    assert n_err >= 5 and n_ok >= 5                           # both kinds of trial were exercised


def test_rule_momentum_only_outputs_that_erred_and_heavy_ball_variant():
    torch.manual_seed(12)
    model = Tempotron(10, 3, 50).double()
    with torch.no_grad(): model.fc.weight.normal_(0.1, 0.2)
    spikes = torch.rand(4, 10, dtype=torch.float64) * 50
    fired = model(spikes, 'v_max').detach() >= 1.0
    target = fired.long().clone(); target[1, 0] = 1 - target[1, 0]     # only output 0 errs (sample 1)
    buf = torch.randn(3, 10, dtype=torch.float64)
    buf0, w0 = buf.clone(), model.fc.weight.detach().clone()
    twin = Tempotron(10, 3, 50).double(); twin.load_state_dict(model.state_dict())
    errors = tempotron_rule_step(model, spikes, target, lr=0.1, momentum=buf, mu=0.5)
    assert errors.sum() == 1 and errors[1, 0]
    plain = twin.fc.weight.detach().clone()
    tempotron_rule_step(twin, spikes, target, lr=0.1)                   # no momentum: the correction c
    c = twin.fc.weight.detach() - plain
    assert_close(buf[0], c[0] + 0.5 * buf0[0])
    assert torch.equal(buf[1:], buf0[1:]) and torch.equal(model.fc.weight.detach()[1:], w0[1:])
    assert_close(model.fc.weight.detach()[0], w0[0] + buf[0])
    # the old heavy-ball momentum, by name: every row moves, error or not
    buf = buf0.clone(); heavy = Tempotron(10, 3, 50).double(); heavy.fc.weight.data.copy_(w0)
    tempotron_rule_step(heavy, spikes, target, lr=0.1, momentum=buf, mu=0.5, momentum_on='every_step')
    assert_close(buf, 0.5 * buf0 + c)
    assert_close(heavy.fc.weight.detach(), w0 + buf)
    with pytest.raises(ValueError, match="`momentum_on` must be one of 'errors', 'every_step', got 'never'"):
        tempotron_rule_step(heavy, spikes, target, momentum_on='never')
