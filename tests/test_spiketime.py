"""Property tests for snnlit.spiketime against the naive loops of tests/oracles_spiketime.py."""
import os
import pytest, torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st, HealthCheck
from snnlit.spiketime import (first_spike_time, multi_spike_time, SpikeTime, FirstSpike, MultiSpike,
                              mse_temporal_loss, ce_temporal_loss)
from oracles import naive_times, naive_grad, naive_targets

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]



@st.composite
def records(draw, max_t=40, max_b=5, max_n=6):
    T, B, N = draw(st.integers(1, max_t)), draw(st.integers(1, max_b)), draw(st.integers(1, max_n))
    p = draw(st.sampled_from([0.0, 0.05, 0.3, 0.8, 1.0]))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    g = torch.Generator().manual_seed(seed)
    spikes = torch.rand(T, B, N, generator=g) < p
    # values > 0 of any size are spikes; 0, negatives and -0.0 are not
    values = torch.rand(T, B, N, generator=g, dtype=torch.float64) * 3 + 1e-3
    silent = torch.tensor([0.0, -0.0, -1.0, -1e-3], dtype=torch.float64)[torch.randint(0, 4, (T, B, N), generator=g)]
    return torch.where(spikes, values, silent), seed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.integers(1, 5))
def test_times_and_gradients_match_naive_loops(rec_seed, num_spikes):
    rec, seed = rec_seed
    ref = naive_times(rec, num_spikes)
    grad_out = torch.randn(ref.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = rec.clone().requires_grad_()
    out = multi_spike_time(x, num_spikes)
    assert torch.equal(out.detach(), ref)
    out.backward(grad_out)
    # where steps coincide the gradients are added, by scatter_add here and a loop there: equal to rounding
    torch.testing.assert_close(x.grad, naive_grad(rec.shape, ref, grad_out))
    x.grad = None
    first = first_spike_time(x)
    assert torch.equal(first.detach(), ref[0])
    first.backward(grad_out[0])
    assert torch.equal(x.grad, naive_grad(rec.shape, ref[:1], grad_out[:1]))


@pytest.mark.parametrize('T', [1, 2, 5, 255, 256, 257, 1000])
def test_edges(T):
    "Silent neurons give T-1, a spike at 0 gives 0, a spike only at T-1 gives T-1 and gradient there."
    rec = torch.zeros(T, 1, 4)
    rec[0, 0, 1] = 1.
    rec[T - 1, 0, 2] = 1.
    rec[:, 0, 3] = 1.
    x = rec.clone().requires_grad_()
    times = first_spike_time(x)
    assert times.tolist() == [[T - 1, 0, T - 1, 0]]
    times.sum().backward()
    expected = torch.zeros_like(rec)
    expected[T - 1, 0, 0] = expected[0, 0, 1] = expected[T - 1, 0, 2] = expected[0, 0, 3] = -1.
    assert torch.equal(x.grad, expected)


def test_multi_spike_shadow_gradients_add():
    "A neuron with one spike, at T-1, and F=3: three entries at T-1, gradient -(g0+g1+g2) there."
    T = 6
    x = torch.zeros(T, 1, 1)
    x[T - 1] = 1.
    x.requires_grad_()
    out = multi_spike_time(x, 3)
    assert out.flatten().tolist() == [T - 1] * 3
    g = torch.tensor([1., 2., 4.]).view(3, 1, 1)
    out.backward(g)
    assert x.grad.flatten().tolist() == [0.] * (T - 1) + [-7.]


def test_multi_spike_not_erased_by_other_neurons():
    "The reference zeroes whole time slices; here each neuron keeps its own spikes."
    rec = torch.zeros(8, 2, 3)
    rec[[1, 3, 5], 0, 0] = 1.
    rec[[3, 4], 1, 1] = 1.
    rec[[1, 2, 3, 6], 0, 2] = 1.
    assert torch.equal(multi_spike_time(rec, 3), naive_times(rec, 3).float())
    assert multi_spike_time(rec, 3)[:, 0, 0].tolist() == [1., 3., 5.]


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', [(7,), (7, 3), (7, 1, 1), (7, 2, 3, 4), (7, 2, 1, 3, 2)])
def test_any_rank_and_dtype(dtype, shape):
    g = torch.Generator().manual_seed(0)
    rec = (torch.rand(shape, generator=g) < 0.3).to(dtype)
    flat = rec.reshape(shape[0], 1, -1).double()
    ref = naive_times(flat, 2)
    x = rec.clone().requires_grad_()
    out = multi_spike_time(x, 2)
    assert out.dtype == dtype and out.shape == (2,) + shape[1:]
    assert torch.equal(out.double().reshape(2, 1, -1), ref)
    out.sum().backward()
    assert x.grad.dtype == dtype
    assert torch.equal(x.grad.double().reshape(flat.shape), naive_grad(flat.shape, ref, torch.ones(ref.shape)))
    first = first_spike_time(rec)
    assert first.shape == shape[1:] and torch.equal(first.double().reshape(1, 1, -1), ref[:1])


def test_noncontiguous_record():
    g = torch.Generator().manual_seed(2)
    rec = (torch.rand(3, 9, 4, generator=g) < 0.3).float().transpose(0, 1)   # [T=9, B=3, N=4], not contiguous
    x = rec.requires_grad_() if rec.is_leaf else rec
    assert torch.equal(first_spike_time(rec), naive_times(rec)[0].float())
    assert torch.equal(multi_spike_time(rec, 3), naive_times(rec, 3).float())


def test_input_never_modified():
    g = torch.Generator().manual_seed(3)
    rec = (torch.rand(10, 4, 5, generator=g) < 0.3).float()
    before = rec.clone()
    first_spike_time(rec); multi_spike_time(rec, 3)
    labels = torch.tensor([0, 4, 2, 1])
    lab_before = labels.clone()
    times = torch.tensor([[-1., 3., -10., 0., 2.]])
    times_before = times.clone()
    for loss in (mse_temporal_loss(), mse_temporal_loss(tolerance=2), ce_temporal_loss(),
                 mse_temporal_loss(on_target=(0, 2), off_target=(-1, -1), multi_spike=True)):
        loss(rec, labels)
    SpikeTime(target_is_time=True)(rec, times)
    mse_temporal_loss(target_is_time=True, tolerance=1)(rec, times)
    assert torch.equal(rec, before) and torch.equal(labels, lab_before) and torch.equal(times, times_before)


@settings(max_examples=60, deadline=None)
@given(records(max_t=20), st.integers(-20, 25), st.integers(-20, 25), st.sampled_from([0, 0.5, 1, 3]))
def test_spike_time_module_and_mse(rec_seed, on, off, tolerance):
    rec, seed = rec_seed
    T, B, N = rec.shape
    if on < -T or off < -T:
        with pytest.raises(ValueError, match='must be >= -T'):
            SpikeTime(on_target=on, off_target=off)(rec, torch.zeros(B, dtype=torch.long))
        return
    labels = torch.randint(0, N, (B,), generator=torch.Generator().manual_seed(seed))
    spike_times, target_times = SpikeTime(on_target=on, off_target=off, tolerance=tolerance)(rec, labels)
    ref_t = naive_times(rec)[0]
    ref_target = naive_targets(labels, N, T, on, off)
    assert torch.equal(target_times, ref_target)
    moved = (ref_t - ref_target).abs() < tolerance
    assert torch.equal(spike_times.detach(), torch.where(moved, ref_target, ref_t))
    # the loss and its gradient, from the formula: dL/dtau = 2 (tau - target) / T^2 / (B N), at the first-spike step, negated
    x = rec.clone().requires_grad_()
    loss = mse_temporal_loss(on_target=on, off_target=off, tolerance=tolerance)(x, labels)
    diff = torch.where(moved, 0., ref_t - ref_target)
    assert torch.allclose(loss, (diff / T).pow(2).mean(), rtol=1e-12, atol=0)
    loss.backward()
    dtau = 2 * diff / T ** 2 / (B * N)
    assert torch.allclose(x.grad, naive_grad(rec.shape, ref_t[None], dtau[None]), rtol=1e-12, atol=1e-15)


def test_multi_spike_targets_and_given_times():
    g = torch.Generator().manual_seed(4)
    rec = (torch.rand(12, 3, 4, generator=g) < 0.25).double()
    labels = torch.tensor([3, 0, 1])
    st_ = SpikeTime(on_target=[1, 5, -4], off_target=torch.tensor([-1, -1, -2]), multi_spike=True)
    spike_times, target_times = st_(rec, labels)
    assert torch.equal(spike_times, naive_times(rec, 3))
    for f, (on, off) in enumerate([(1, -1), (5, -1), (-4, -2)]):
        assert torch.equal(target_times[f], naive_targets(labels, 4, 12, on, off))
    given_t = torch.tensor([[2.], [-1.]]).expand(2, 4)            # [F=2, N], broadcast over B
    spike_times, target_times = SpikeTime(target_is_time=True, multi_spike=True)(rec, given_t)
    assert spike_times.shape == target_times.shape == (2, 3, 4)
    assert torch.equal(target_times[0], torch.full((3, 4), 2.).double())
    assert torch.equal(target_times[1], torch.full((3, 4), 11.).double())


def test_weight_and_reductions():
    g = torch.Generator().manual_seed(5)
    rec = (torch.rand(15, 6, 3, generator=g) < 0.2).double()
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    w = torch.tensor([0.5, 2., 1.5], dtype=torch.float64)
    per = ((naive_times(rec)[0] - naive_targets(labels, 3, 15, 0, -1)) / 15) ** 2
    weighted = per * w[labels][:, None]
    assert torch.allclose(mse_temporal_loss(reduction='none', weight=w)(rec, labels), weighted)
    assert torch.allclose(mse_temporal_loss(reduction='sum', weight=w)(rec, labels), weighted.sum())
    assert torch.allclose(mse_temporal_loss(weight=w)(rec, labels), weighted.mean())
    assert torch.allclose(mse_temporal_loss(reduction='none')(rec, labels), per)
    times = naive_times(rec)[0]
    for inverse, logits in (('negate', -times), ('reciprocal', 1 / (times + 1))):
        for red in ('mean', 'sum', 'none'):
            got = ce_temporal_loss(inverse, red, w)(rec, labels)
            assert torch.allclose(got, F.cross_entropy(logits, labels, weight=w, reduction=red))


def test_ce_on_more_dims_and_gradient():
    g = torch.Generator().manual_seed(6)
    rec = (torch.rand(9, 2, 3, 5, generator=g) < 0.2).double()
    labels = torch.randint(0, 5, (2, 3), generator=g)
    x = rec.clone().requires_grad_()
    loss = ce_temporal_loss()(x, labels)
    times = naive_times(rec.view(9, 6, 5))[0]
    tau = times.clone().requires_grad_()
    ref = F.cross_entropy(-tau, labels.view(6))
    assert torch.allclose(loss, ref)
    ref.backward(); loss.backward()
    assert torch.allclose(x.grad.view(9, 6, 5), naive_grad((9, 6, 5), times[None], tau.grad[None]))


def test_errors():
    rec = torch.zeros(5, 2, 3)
    labels = torch.tensor([0, 1])
    cases = [
        (lambda: first_spike_time([[0.]]), TypeError, '`spk_rec` must be a floating-point tensor [T, ...], got list [[0.0]]'),
        (lambda: first_spike_time(torch.zeros(4, 2, dtype=torch.int32)), TypeError, '`spk_rec` must be a floating-point tensor [T, ...], got a torch.int32 tensor of shape (4, 2)'),
        (lambda: first_spike_time(torch.tensor(1.)), ValueError, '`spk_rec` must be a floating-point tensor [T, ...] with at least 1 dimension, got a 0-d torch.float32 tensor holding 1.0'),
        (lambda: multi_spike_time(rec, True), TypeError, '`num_spikes` must be an int, got True'),
        (lambda: multi_spike_time(rec, -2), ValueError, '`num_spikes` must be an int >= 1, got -2'),
        (lambda: first_spike_time(torch.zeros(3000, 1, dtype=torch.float16)), ValueError, 'holds whole numbers exactly only up to 2048'),
        (lambda: SpikeTime()(torch.zeros(5), torch.tensor(0)), ValueError, '`spk_out` must be a floating-point tensor [T, ..., N] with at least 2 dimensions'),
        (lambda: SpikeTime()(rec, torch.tensor([0, 1, 2])), ValueError, '`targets` must be an integer tensor of class indices with shape [...] = (2,), got a torch.int64 tensor of shape (3,)'),
        (lambda: SpikeTime()(rec, torch.tensor([0, -1])), ValueError, 'in [0, 3), got values from -1 to 0'),
        (lambda: SpikeTime()(rec, [0, 1]), TypeError, '`targets` must be an integer tensor, got list [0, 1]'),
        (lambda: SpikeTime(target_is_time=True)(rec, [0, 1]), TypeError, '`targets` must be a real (not complex or bool) tensor of spike times (`target_is_time=True`), got list [0, 1]'),
        (lambda: SpikeTime(target_is_time=True)(rec, torch.tensor([-6., 0, 0])), ValueError, '`targets` must hold finite spike times >= -T = -5 (negative times count from the end), got values from -6.0 to 0.0'),
        (lambda: SpikeTime(multi_spike=True), ValueError, '`on_target` must be a non-empty sequence of finite times when `multi_spike=True`, got 0'),
        (lambda: SpikeTime(on_target='0'), TypeError, '`on_target` must be a finite real number, got \'0\''),
        (lambda: SpikeTime(target_is_time=1), TypeError, '`target_is_time` must be a bool (True or False), got 1'),
        (lambda: SpikeTime(tolerance=None), TypeError, '`tolerance` must be a finite real number, got None'),
        (lambda: mse_temporal_loss(weight=[1., 2.]), TypeError, '`weight` must be a floating-point tensor [N] of class weights, got list [1.0, 2.0]'),
        (lambda: mse_temporal_loss(weight=torch.ones(4))(rec, labels), ValueError, '`weight` must have one entry per output neuron (class), N=3, got shape (4,)'),
        (lambda: mse_temporal_loss(target_is_time=True, weight=torch.ones(3)), ValueError, '`weight` needs class labels'),
        (lambda: ce_temporal_loss(inverse=None), TypeError, "`inverse` must be one of 'negate', 'reciprocal', got None"),
        (lambda: ce_temporal_loss(reduction='max'), ValueError, "`reduction` must be one of 'mean', 'sum', 'none', got 'max'"),
        (lambda: ce_temporal_loss()(rec, torch.tensor([3, 0])), ValueError, 'in [0, 3), got values from 0 to 3'),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc) as info: fn()
        assert msg in str(info.value), (msg, str(info.value))


def test_reference_spellings():
    assert SpikeTime.FirstSpike is FirstSpike and SpikeTime.MultiSpike is MultiSpike
    rec = torch.zeros(4, 2, 2); rec[1, 0, 0] = 1.
    assert torch.equal(SpikeTime.FirstSpike.apply(rec, 'cpu'), first_spike_time(rec))
    assert torch.equal(SpikeTime.MultiSpike.apply(rec, 2, 'cpu'), multi_spike_time(rec, 2))


def test_nan_and_negative_records_take_the_exact_path():
    "NaN and negative entries are not spikes (`> 0` semantics) even though `to(bool)` would say so."
    rec = torch.tensor([[float('nan'), -2., 0.], [1., 1., 1.]]).view(2, 1, 3)
    assert first_spike_time(rec).tolist() == [[1., 1., 1.]]


def test_tolerance_trains_a_toy_problem():
    from snnlit.neuron import IFNode
    T, N = 30, 5
    target = torch.tensor([2., 5., 9., 14., 20.])
    drive = torch.full((N,), 0.25, requires_grad=True)
    neuron = IFNode(step_mode='m')
    loss_fn = mse_temporal_loss(target_is_time=True, tolerance=2)
    opt = torch.optim.Adam([drive], lr=0.02)
    losses = []
    for _ in range(100):
        neuron.reset()
        loss = loss_fn(neuron(drive.expand(T, 1, N)), target)
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]


def test_ttfs_classifier_trains():
    "A one-layer LIF readout learns to fire its labelled neuron first on a separable toy problem."
    from snnlit.neuron import LIFNode
    g = torch.Generator().manual_seed(0)
    B, D, N, T = 64, 8, 4, 20
    labels = torch.randint(0, N, (B,), generator=g)
    x = torch.randn(B, D, generator=g) * 0.3 + F.one_hot(labels, D).double()[:, :D] * 2
    torch.manual_seed(0)
    fc = torch.nn.Linear(D, N).double()
    lif = LIFNode(tau=2., step_mode='m')
    opt = torch.optim.Adam(fc.parameters(), lr=0.05)
    loss_fn = ce_temporal_loss()
    first = None
    for _ in range(60):
        lif.reset()
        spk = lif(fc(x).expand(T, B, N))
        loss = loss_fn(spk, labels)
        first = first if first is not None else loss.item()
        opt.zero_grad(); loss.backward(); opt.step()
    lif.reset()
    pred = first_spike_time(lif(fc(x).expand(T, B, N))).argmin(-1)
    assert loss.item() < first and (pred == labels).double().mean() > 0.9


def _value_and_grad(fn, rec):
    x = rec.clone().requires_grad_()
    out = fn(x)
    (g,) = torch.autograd.grad(out.sum(), x)
    return out.detach(), g


def test_inside_torch_compile():
    "One graph (fullgraph) with the default inductor backend: the times exactly (whole numbers), the losses and gradients to rounding."
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(7)
    rec = (torch.rand(20, 4, 5, generator=g) < 0.2).float()
    labels = torch.randint(0, 5, (4,), generator=g)
    mse, ce = mse_temporal_loss(tolerance=1), ce_temporal_loss()
    fn = lambda r: torch.cat([mse(r, labels)[None], ce(r, labels)[None], multi_spike_time(r, 3).flatten()])
    eager, compiled = _value_and_grad(fn, rec), _value_and_grad(torch.compile(fn, fullgraph=True), rec)
    assert torch.equal(compiled[0][2:], eager[0][2:])
    torch.testing.assert_close(compiled[0], eager[0])
    torch.testing.assert_close(compiled[1], eager[1])
    with torch.no_grad():   # without grad dynamo inlines the forwards instead of the autograd.Function
        assert torch.equal(torch.compile(lambda r: first_spike_time(r), fullgraph=True)(rec), first_spike_time(rec))


@pytest.mark.parametrize('T', [20, 300, 40000])
def test_compiled_extraction_matches_loops(T):
    "fullgraph (aot_eager) on every route: byte and grouped first-spike weights, F rounds (T <= 255), the two- and four-byte count."
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(T)
    rec = (torch.rand(T, 2, 3, generator=g) < 12 / T).double()
    rec[T - 1, 0, 0] = 1.
    fn = lambda r: torch.cat([first_spike_time(r)[None], multi_spike_time(r, 3), multi_spike_time(r, 10)])
    compiled = _value_and_grad(torch.compile(fn, fullgraph=True, backend='aot_eager'), rec)
    ref = naive_times(rec, 10)
    expected = torch.cat([ref[:1], ref[:3], ref])
    assert torch.equal(compiled[0], expected)
    assert torch.equal(compiled[1], naive_grad(rec.shape, expected, torch.ones(expected.shape)))


def test_compiled_checks_raise_at_run_time():
    "Under compile the value checks are assertions inside the graph: a RuntimeError (not ValueError) on bad input, nothing on good."
    torch._dynamo.reset()
    rec = (torch.rand(10, 3, 4, generator=torch.Generator().manual_seed(9)) < 0.3).double()
    for loss in (mse_temporal_loss(), ce_temporal_loss(), mse_temporal_loss(tolerance=1)):
        fn = torch.compile(lambda r, l: loss(r, l), fullgraph=True, backend='aot_eager')
        good = torch.tensor([0, 3, 1])
        torch.testing.assert_close(fn(rec, good), loss(rec, good))
        for bad in (torch.tensor([0, 4, 1]), torch.tensor([-1, 0, 0])):
            with pytest.raises(ValueError, match=r'`targets` must hold class indices in \[0, 4\)'): loss(rec, bad)
            with pytest.raises(RuntimeError, match=r'`targets` must hold class indices in \[0, 4\)'): fn(rec, bad)
    given = mse_temporal_loss(target_is_time=True)
    fn = torch.compile(lambda r, t: given(r, t), fullgraph=True, backend='aot_eager')
    ok = torch.tensor([-10., 2., -1., 9.])
    torch.testing.assert_close(fn(rec, ok), given(rec, ok))
    with pytest.raises(RuntimeError, match=r'`targets` must hold finite spike times >= -T = -10'): fn(rec, ok - 1)


_W = torch.rand(5, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
FUNC_CASES = {
    'first_spike_time': lambda x, y: first_spike_time(x),
    'multi_spike_time_3': lambda x, y: multi_spike_time(x, 3),
    'multi_spike_time_10': lambda x, y: multi_spike_time(x, 10),
    'FirstSpike.apply': lambda x, y: SpikeTime.FirstSpike.apply(x, 'cpu'),
    'MultiSpike.apply': lambda x, y: SpikeTime.MultiSpike.apply(x, 2, 'cpu'),
    'mse_temporal_loss': lambda x, y: mse_temporal_loss()(x, y),
    'mse_temporal_loss_sum': lambda x, y: mse_temporal_loss(on_target=2, off_target=-3, reduction='sum')(x, y),
    'mse_temporal_loss_tolerance': lambda x, y: mse_temporal_loss(tolerance=2)(x, y),
    'mse_temporal_loss_multi': lambda x, y: mse_temporal_loss(on_target=(0, 3), off_target=(-1, -1), multi_spike=True)(x, y),
    'ce_temporal_loss': lambda x, y: ce_temporal_loss()(x, y),
    'ce_temporal_loss_reciprocal': lambda x, y: ce_temporal_loss('reciprocal', weight=_W)(x, y),
}


@pytest.mark.parametrize('name', list(FUNC_CASES))
@pytest.mark.parametrize('T', [12, 300])
def test_torch_func_grad_and_vmap(name, T):
    "`torch.func.grad` equals autograd; `vmap` and `vmap(grad)` over a stack of records equal a loop over the stack."
    from torch.func import grad, vmap
    fn = FUNC_CASES[name]
    g = torch.Generator().manual_seed(T)
    stack = (torch.rand(4, T, 3, 5, generator=g) < 6 / T).double()
    stack[0, :, 0, 0] = 0.   # a silent neuron
    stack[3] *= -1           # no spikes at all: every time is T - 1
    labels = torch.randint(0, 5, (3,), generator=g)
    loops = [_value_and_grad(lambda x: fn(x, labels), s) for s in stack]
    for s, (_, expected) in zip(stack, loops):
        got = grad(lambda x: fn(x, labels).sum())(s)
        # an eager loss takes the plain CPU route, whose sums run in another order than the general route's
        if name.startswith(('ce_', 'mse_')): torch.testing.assert_close(got, expected)
        else: assert torch.equal(got, expected)
    values = vmap(lambda x: fn(x, labels))(stack)
    grads = vmap(grad(lambda x: fn(x, labels).sum()))(stack)
    exact = 'loss' not in name   # the times bit for bit; batched reductions in the losses may round differently in the last bit
    tol = dict(rtol=0, atol=0) if exact else {}   # (float64's default tolerance)
    torch.testing.assert_close(values, torch.stack([v for v, _ in loops]), **tol)
    torch.testing.assert_close(grads, torch.stack([g_ for _, g_ in loops]), **tol)
    assert grads.abs().sum() > 0


def test_vmap_over_records_and_labels():
    "Per-sample losses and gradients with vmap over records and labels; labels out of range, unreadable there, still fail."
    from torch.func import grad, vmap
    g = torch.Generator().manual_seed(12)
    recs = (torch.rand(5, 8, 2, 3, generator=g) < 0.3).double()
    labels = torch.randint(0, 3, (5, 2), generator=g)
    for loss in (mse_temporal_loss(), mse_temporal_loss(tolerance=1, weight=_W[:3]), ce_temporal_loss(),
                 mse_temporal_loss(on_target=(0, 3), off_target=(-1, -1), multi_spike=True)):
        loops = [_value_and_grad(lambda x: loss(x, l), r) for r, l in zip(recs, labels)]
        values, grads = vmap(lambda r, l: (loss(r, l), grad(loss)(r, l)))(recs, labels)
        torch.testing.assert_close(values, torch.stack([v for v, _ in loops]))   # batched reductions: to rounding
        torch.testing.assert_close(grads, torch.stack([g_ for _, g_ in loops]))
        with pytest.raises((RuntimeError, IndexError)): vmap(loss)(recs, labels + 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), st.integers(1, 45))
def test_multi_spike_both_routes_match_naive_loops(rec_seed, num_spikes):
    "F rounds (F <= 8) and the cumsum + searchsorted count (F > 8; forced here for every F) against loops, also for F > T."
    from unittest import mock
    import snnlit.spiketime as S
    rec, seed = rec_seed
    ref = naive_times(rec, num_spikes)
    grad_out = torch.randn(ref.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    for loop_max in (S._LOOP_MAX_SPIKES, 0, 100):
        with mock.patch.object(S, '_LOOP_MAX_SPIKES', loop_max):
            x = rec.clone().requires_grad_()
            out = multi_spike_time(x, num_spikes)
            assert torch.equal(out.detach(), ref), loop_max
            out.backward(grad_out)
            torch.testing.assert_close(x.grad, naive_grad(rec.shape, ref, grad_out), msg=lambda m: f'{loop_max}: {m}')   # sums: to rounding


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('T', [20, 250, 1000])
def test_losses_in_every_dtype_batch_one(dtype, T):
    "Batch size 1, every float dtype (float16 up to T = 2048, bfloat16 up to 257): close to float64, finite."
    if dtype == torch.bfloat16 and T > 257: pytest.skip('bfloat16 holds steps exactly only up to 256')
    g = torch.Generator().manual_seed(T)
    rec = (torch.rand(T, 1, 5, generator=g) < 2 / T)
    labels = torch.tensor([3])
    for loss_fn in (mse_temporal_loss(), mse_temporal_loss(tolerance=2, weight=torch.ones(5)), ce_temporal_loss(),
                    ce_temporal_loss('reciprocal'), mse_temporal_loss(on_target=(0, 3), off_target=(-1, -1), multi_spike=True)):
        grads = []
        for dt in (torch.float64, dtype):
            x = rec.to(dt).requires_grad_()
            loss = loss_fn(x, labels)
            loss.backward()
            assert loss.dtype == dt and x.grad.dtype == dt and torch.isfinite(loss) and torch.isfinite(x.grad).all()
            grads.append((loss.detach().double(), x.grad.double()))
        tol = dict(rtol=2e-2, atol=1e-3) if dtype in (torch.float16, torch.bfloat16) else dict(rtol=1e-6, atol=1e-9)
        torch.testing.assert_close(grads[1][0], grads[0][0], **tol)
        torch.testing.assert_close(grads[1][1], grads[0][1], **tol)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(200, 3000), st.integers(1, 3), st.integers(1, 3), st.sampled_from([0.0, 0.0005, 0.005, 0.1]),
       st.integers(0, 2 ** 31 - 1))
def test_long_records_grouped_path(T, B, N, p, seed):
    """From T = 256 the first group with a spike is found first, then the step inside it (or, for records of up
    to 2^21 entries, the two-byte weights find the step at once): check both routes against loops."""
    import snnlit.spiketime as S
    for wide_max in (S._WIDE_KEY_MAX, 0):   # 0: every record takes the groups
        saved, S._WIDE_KEY_MAX = S._WIDE_KEY_MAX, wide_max
        try: _check_long_record(T, B, N, p, seed)
        finally: S._WIDE_KEY_MAX = saved


def _check_long_record(T, B, N, p, seed):
    g = torch.Generator().manual_seed(seed)
    rec = (torch.rand(T, B, N, generator=g) < p).float()
    rec[T - 1, 0, 0] = 1.
    x = rec.clone().requires_grad_()
    ref = naive_times(rec, 2)
    out = multi_spike_time(x, 2)
    assert torch.equal(out.detach().double(), ref)
    assert torch.equal(first_spike_time(rec).double(), ref[0])
    first_spike_time(x).sum().backward()
    assert torch.equal(x.grad.double(), naive_grad(rec.shape, ref[:1], torch.ones(ref[:1].shape)))


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', [(9, 4), (9, 1, 4), (9, 3, 4), (9, 2, 3, 4)])
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_fused_mse_equals_general_path(dtype, shape, reduction):
    "The one-node loss (no tolerance, no weight) and the autograd path over SpikeTime agree in value and gradient."
    g = torch.Generator().manual_seed(8)
    rec = (torch.rand(shape, generator=g) < 0.2).to(dtype)
    labels = torch.randint(0, shape[-1], shape[1:-1], generator=g)
    fused = mse_temporal_loss(on_target=1, off_target=-2, reduction=reduction)
    general = mse_temporal_loss(on_target=1, off_target=-2, reduction=reduction, weight=torch.ones(shape[-1]))
    times = torch.randint(-9, 9, shape[1:], generator=g).to(dtype)
    given_fused = mse_temporal_loss(target_is_time=True, reduction=reduction)
    given_general = mse_temporal_loss(target_is_time=True, reduction=reduction, tolerance=1e-9)   # < 1 step: moves nothing
    for a_fn, b_fn, tg in ((fused, general, labels), (given_fused, given_general, times)):
        out = []
        for fn in (a_fn, b_fn):
            x = rec.clone().requires_grad_()
            loss = fn(x, tg)
            loss.backward()
            out.append((loss.detach(), x.grad))
        tol = dict(rtol=1e-2, atol=1e-3) if dtype in (torch.float16, torch.bfloat16) else dict(rtol=1e-6, atol=1e-9)
        torch.testing.assert_close(out[0][0], out[1][0], **tol)
        torch.testing.assert_close(out[0][1], out[1][1], **tol)


@pytest.mark.parametrize('T', [255, 256, 257, 300, 510, 511, 1000, 40000, 70000])
def test_long_records_at_group_boundaries(T):
    "The grouped weights (from T = 256) give exact first-spike times, at the group boundaries too."
    g = torch.Generator().manual_seed(T)
    first = torch.randint(0, T, (64,), generator=g)
    first[:3] = torch.tensor([0, T - 1, T - 1])
    later = (torch.arange(T)[:, None] >= first) & (torch.rand(T, 64, generator=g) < 0.5)
    rec = later.float()
    rec[first, torch.arange(64)] = 1.
    rec[:, 2] = 0.                                          # a silent neuron
    expected = first.float(); expected[2] = T - 1
    assert torch.equal(first_spike_time(rec), expected)


@pytest.mark.parametrize('T, num_spikes', [(1, 3), (6, 2), (6, 8), (6, 9), (6, 20), (40, 8), (40, 9),
                                           (300, 2), (300, 12)])
def test_multi_spike_rounds_and_count_at_their_limits(T, num_spikes):
    "F rounds over bytes (2 <= F <= 8, T <= 255) and the cumsum count otherwise, also for F > T."
    g = torch.Generator().manual_seed(5)
    rec = (torch.rand(T, 3, 4, generator=g) < 0.3).double()
    rec[:, 0, 0] = 0.                                       # a silent neuron
    x = rec.clone().requires_grad_()
    out = multi_spike_time(x, num_spikes)
    ref = naive_times(rec, num_spikes)
    assert torch.equal(out.detach(), ref)
    grad_out = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    out.backward(grad_out)
    torch.testing.assert_close(x.grad, naive_grad(rec.shape, ref, grad_out))


@pytest.mark.parametrize('labels', [[0, 4, 1], [0, -1, 1], [2, 3, 9]])
def test_label_range_checked_on_every_path(labels):
    "The CPU fast path leaves the range of the labels to scatter's bounds check: the named error still comes."
    rec = (torch.rand(6, 3, 4) < 0.3).float()
    for loss in (mse_temporal_loss(), mse_temporal_loss(tolerance=1), mse_temporal_loss(reduction='none'),
                 mse_temporal_loss(multi_spike=True, on_target=(0, 1), off_target=(-1, -1))):
        with pytest.raises(ValueError, match=r'`targets` must hold class indices in \[0, 4\)'):
            loss(rec.clone().requires_grad_(), torch.tensor(labels))
    with pytest.raises(ValueError, match=r'`targets` must hold class indices in \[0, 4\)'):
        SpikeTime().labels_to_spike_times(torch.tensor(labels), rec)


def test_kept_step_weights_are_not_written():
    "The weights kept per (T, device) come back unchanged after calls that overwrite their mask."
    import snnlit.spiketime as S
    for T in (7, 300, 600):
        _, before = S._step_weights(T, 'cpu', wide=T > 255)
        before = before.clone()
        rec = (torch.rand(T, 5, 3) < 0.2).float()
        first_spike_time(rec); multi_spike_time(rec, 2); mse_temporal_loss()(rec, torch.zeros(5, dtype=torch.long))
        assert torch.equal(S._step_weights(T, 'cpu', wide=T > 255)[1], before)
        with torch.inference_mode():
            assert torch.equal(first_spike_time(rec), naive_times(rec)[0].float())
