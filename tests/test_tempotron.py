"""snnlit.tempotron against naive implementations of the formulas, written here with loops."""
import math
import pytest, torch
import torch.nn.functional as F
from snnlit.tempotron import Tempotron, EventTempotron, tempotron_rule_step, psp_kernel, exp_filter
from helpers import assert_close

TAU, TAU_S = 15.0, 3.75


def unit_scale(tau, tau_s):
    t_max = tau * tau_s * math.log(tau / tau_s) / (tau - tau_s)
    return 1.0 / (math.exp(-t_max / tau) - math.exp(-t_max / tau_s))


def naive_grid(spikes, weight, T, tau, tau_s, v_threshold):
    "Spec: v_out[b, o, t] = sum_i W[o, i] sum_k v0 K(t - s_bik), K = 0 before the spike and for s < 0 / NaN."
    v0 = v_threshold * unit_scale(tau, tau_s)
    s = spikes.double().reshape(spikes.shape[0], spikes.shape[1], -1).tolist()
    W = weight.double().tolist()
    B, n_in, out = len(s), len(s[0]), len(W)
    v = torch.zeros(B, out, T, dtype=torch.float64)
    for b in range(B):
        v_in = [[0.0] * T for _ in range(n_in)]
        for i in range(n_in):
            for sk in s[b][i]:
                if not sk >= 0: continue                     # negative or NaN: no spike
                for t in range(T):
                    if t >= sk: v_in[i][t] += v0 * (math.exp(-(t - sk) / tau) - math.exp(-(t - sk) / tau_s))
        v_in = torch.tensor(v_in, dtype=torch.float64)
        v[b] = torch.tensor(W, dtype=torch.float64) @ v_in
    return v


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
        for c, tau in enumerate((7.0, 1.5)):
            state = torch.zeros(3, dtype=torch.float64)
            for t in range(T):
                state = state * math.exp(-1 / tau) + x[c, :, t]
                torch.testing.assert_close(y[c, :, t], state, rtol=1e-12, atol=1e-12)


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


def brute_force(m, times, idx, offsets, dt):
    "Dense grid: V as a sum of PSPs, spike at the first grid point >= threshold, input at/after it removed."
    grid = torch.arange(0, m.duration + dt / 2, dt, dtype=torch.float64)
    scale = unit_scale(m.tau, m.tau_s)
    B, O = offsets.numel() - 1, m.out_features
    res = torch.zeros(3, B, O, dtype=torch.float64)
    for b in range(B):
        t, i = times[offsets[b]:offsets[b + 1]], idx[offsets[b]:offsets[b + 1]]
        inside = (t >= 0) & (t <= m.duration)
        t, i = t[inside], i[inside]
        for o in range(O):
            d = grid[:, None] - t
            psp = torch.where(d >= 0, scale * ((-d.clamp_min(0) / m.tau).exp() - (-d.clamp_min(0) / m.tau_s).exp()), 0.)
            psp = psp * m.weight.detach().double()[o, i]
            v = psp.sum(-1)
            above = (v >= m.v_threshold).nonzero()
            t_spike = grid[above[0, 0]].item() if len(above) else math.inf
            if len(above): v = (psp * (t < t_spike)).sum(-1)
            res[:, b, o] = torch.tensor([v.max().item(), grid[v.argmax()].item(), t_spike])
    return res


def voltage_at(m, times, idx, offsets, b, o, t, t_spike):
    "V of output o in sample b at time t, summing the PSPs of the events before `t_spike`."
    scale = unit_scale(m.tau, m.tau_s)
    v = 0.0
    for e in range(int(offsets[b]), int(offsets[b + 1])):
        s = times[e].item()
        if 0 <= s <= m.duration and s < t_spike and s <= t:
            v += m.weight[o, idx[e]].item() * scale * (math.exp(-(t - s) / m.tau) - math.exp(-(t - s) / m.tau_s))
    return v


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
    ref = brute_force(m, times, idx, offsets, dt)
    fired = torch.isfinite(out.t_spike)
    assert fired.any() and not fired.all()
    assert torch.equal(fired, torch.isfinite(ref[2]))
    torch.testing.assert_close(out.v_max.detach(), ref[0], rtol=0, atol=1e-4)
    torch.testing.assert_close(out.t_spike.detach(), ref[2], rtol=0, atol=dt * 1.01)
    # t_peak: the grid's argmax, or (on exact ties, e.g. two lone PSPs of one afferent) another time with the same V
    far = (out.t_peak.detach() - ref[1]).abs() > max(20 * dt, 0.05)
    for b, o in far.nonzero().tolist():
        v_there = voltage_at(m, times, idx, offsets, b, o, out.t_peak[b, o].item(), out.t_spike[b, o].item())
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
    ref = torch.zeros_like(x)
    for c, tau in enumerate((7.0, 1.5)):
        state = torch.zeros(3, dtype=torch.float64)
        for t in range(150):
            state = state * math.exp(-1 / tau) + x[c, :, t]
            ref[c, :, t] = state
    eager = exp_filter(x, (7.0, 1.5))
    assert_close(eager, ref, rtol=1e-12, atol=1e-12)
    compiled = torch.compile(lambda d: exp_filter(d, (7.0, 1.5)), fullgraph=True)(x)
    assert_close(compiled, ref, rtol=1e-12, atol=1e-12)
