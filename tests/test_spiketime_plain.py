"""The plain-call routes of snnlit.spiketime against the general route and the naive loops of tests/oracles.py:
`first_spike_time`'s classic ctx Function (exactly: the same kernels do the same arithmetic) and the losses'
native-node CPU route (to rounding: its sums run in another order)."""
import pytest, torch
import snnlit.spiketime as S
from snnlit.spiketime import first_spike_time, mse_temporal_loss, ce_temporal_loss, _PlainFirstSpike
from oracles import naive_times, naive_grad, naive_targets, naive_mse
from helpers import assert_close, generator

DTYPES = [torch.float32, torch.float64]
SHAPES = [(1, 1, 1), (2, 1, 3), (25, 4, 10), (255, 3, 4), (256, 2, 3), (300, 3, 5), (40, 300, 70)]


def record(shape, dtype, *parts, p=0.05, nan=True):
    g = generator('plain', shape, dtype, p, *parts)
    spikes = torch.rand(shape, generator=g) < p
    values = torch.rand(shape, generator=g, dtype=torch.float64) * 2 + 1e-3          # any value > 0 spikes
    silent = torch.tensor([0.0, -0.0, -1.0, float('nan') if nan else -0.5], dtype=torch.float64)
    return torch.where(spikes, values, silent[torch.randint(0, 4, shape, generator=g)]).to(dtype)


def fwd_bwd(fn, rec, *args, scale=1.0):
    x = rec.detach().requires_grad_()
    out = fn(x, *args)
    (out * scale).sum().backward()
    return out.detach(), x.grad


@pytest.fixture
def general(monkeypatch):
    "Turn the plain route off, so that the same calls take the general `setup_context` route."
    def run(fn, *args, **kw):
        with monkeypatch.context() as m:
            m.setattr(S, '_eager_only', lambda *a: False)
            return fwd_bwd(fn, *args, **kw)
    return run


def node_names(out):
    "The type names of every node in `out`'s autograd graph."
    seen, todo = set(), [out.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen: continue
        seen.add(node)
        todo += [f for f, _ in node.next_functions]
    return {type(node).__name__ for node in seen}


def takes_plain_route(fn, rec, *args):
    "first_spike_time: its classic Function; a loss: native nodes (the handle's gather), no spike-time Function."
    x = rec.detach().requires_grad_()
    out = fn(x, *args)
    if type(out.grad_fn).__name__ == '_PlainFirstSpikeBackward': return True
    names = node_names(out)
    return 'GatherBackward0' in names and not any('FirstSpike' in n for n in names)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_mse_plain_route_matches_general_route(general, shape, dtype, reduction):
    T, B, N = shape
    rec = record(shape, dtype, reduction, nan=False)
    labels = torch.randint(0, N, (B,), generator=generator('labels', shape))
    for on, off in [(0, -1), (2.5, T - 1), (-T, 0.25)]:
        loss = mse_temporal_loss(on_target=on, off_target=off, reduction=reduction)
        wrapped = [t + T if t < 0 else t for t in (on, off)]
        assert takes_plain_route(loss, rec, labels) == (max(wrapped) < T * T / 2)   # smooth L1's quadratic part
        for scale in (1.0, -3.7):
            a, ga = fwd_bwd(loss, rec, labels, scale=scale)
            b, gb = general(loss, rec, labels, scale=scale)
            assert_close(a, b); assert_close(ga, gb)
            assert torch.equal(ga != 0, gb != 0)
    # against the naive loops (in float64), NaN in the record included (the call is redone on the general route)
    rec = record(shape, dtype, reduction)
    loss = mse_temporal_loss(on_target=1, off_target=-1, reduction=reduction)
    a, ga = fwd_bwd(loss, rec, labels)
    target = naive_targets(labels, N, T, on=1, off=-1)
    assert_close(a, naive_mse(rec, target, reduction=reduction).to(dtype))
    tau = naive_times(rec.double())[0]
    dtau = 2 * (tau - target) / T ** 2 / (B * N if reduction == 'mean' else 1)
    assert_close(ga, naive_grad(shape, tau[None], dtau[None]).to(dtype))


@pytest.mark.parametrize('shape', [(25, 4, 10), (3, 2, 3, 4), (6, 5)])
def test_ce_plain_route_against_naive_loops(shape):
    T, N = shape[0], shape[-1]
    rec = record(shape, torch.float64, 'ce naive', p=0.2)
    labels = torch.randint(0, N, shape[1:-1], generator=generator('ce naive', shape))
    flat = rec.reshape(T, -1, N)
    tau = naive_times(flat)[0]                                           # [M, N]
    p = torch.softmax(-tau, -1)
    y = labels.reshape(-1)
    M = y.numel()
    expected = -torch.log(p[torch.arange(M), y]).mean()
    dz = (p - torch.nn.functional.one_hot(y, N)) / M                       # dL/dz, z = -tau
    a, ga = fwd_bwd(ce_temporal_loss(), rec, labels)
    assert_close(a, expected)
    assert_close(ga.reshape(T, -1, N), naive_grad((T, M, N), tau[None], -dz[None]))


@pytest.mark.parametrize('dtype', DTYPES)
def test_mse_plain_given_times_and_other_layouts(general, dtype):
    T, B, C, N = 30, 3, 2, 5
    rec = record((T, B, C, N), dtype, '4d', nan=False)
    times = torch.randint(-T, T, (B, C, N), generator=generator('times')).to(dtype)
    loss = mse_temporal_loss(target_is_time=True)
    for targets in (times, times[0, 0]):                      # [B, C, N], and [N] broadcast to every sample
        assert not takes_plain_route(loss, rec, targets)      # given times: the general one-node route
        a, ga = fwd_bwd(loss, rec, targets)
        b, gb = general(loss, rec, targets)
        assert torch.equal(a, b) and torch.equal(ga, gb)
    labels = torch.randint(0, N, (B, C), generator=generator('labels4d'))
    loss = mse_temporal_loss()
    for r in (rec, rec.transpose(1, 2), rec[:, :, :1]):        # 4-D, non-contiguous, [T, B, 1, N]
        lab = labels if r.shape[1:-1] == labels.shape else labels[:, :1] if r.shape[2] == 1 else labels.t()
        assert takes_plain_route(loss, r, lab)
        a, ga = fwd_bwd(loss, r, lab)
        b, gb = general(loss, r, lab)
        assert_close(a, b); assert_close(ga, gb)
    two = record((T, N), dtype, '2d', nan=False)                 # [T, N] with a 0-d label
    assert takes_plain_route(loss, two, torch.tensor(2))
    a, ga = fwd_bwd(loss, two, torch.tensor(2))
    b, gb = general(loss, two, torch.tensor(2))
    assert_close(a, b); assert_close(ga, gb)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', [(1,), (7,), (1, 1, 1), (25, 4, 10), (255, 3, 4), (400, 2, 3), (40, 300, 70)])
def test_first_spike_time_plain_route_equals_general_route(general, shape, dtype):
    rec = record(shape, dtype, 'fst')
    assert takes_plain_route(first_spike_time, rec)
    a, ga = fwd_bwd(first_spike_time, rec, scale=-2.5)
    b, gb = general(first_spike_time, rec, scale=-2.5)
    assert a.shape == b.shape == shape[1:] and a.dtype == b.dtype == dtype
    assert torch.equal(a, b) and torch.equal(ga, gb)


@pytest.mark.parametrize('inverse', ['negate', 'reciprocal'])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_ce_plain_route_matches_general_route(general, inverse, reduction):
    T, B, N = 25, 6, 10
    rec = record((T, B, N), torch.float32, 'ce', p=0.1)
    labels = torch.randint(0, N, (B,), generator=generator('ce labels'))
    for dtype, nan in [(d, n) for d in DTYPES for n in (False, True)]:
        r = record((T, B, N), torch.float32, 'ce', p=0.1, nan=False).to(dtype)
        if nan: r[:, 0, 0] = 0; r[-1, 0, 0] = float('nan')     # a silent neuron holding NaN at its last step
        loss = ce_temporal_loss(inverse, reduction)
        assert takes_plain_route(loss, r, labels) == (reduction != 'none' and not nan)  # NaN: the general route
        a, ga = fwd_bwd(loss, r, labels, scale=-1.7)
        b, gb = general(loss, r, labels, scale=-1.7)
        # native nodes against F.cross_entropy: the same sums in another order
        assert_close(a, b); assert_close(ga, gb)
        assert torch.equal(ga != 0, gb != 0)
    for value in (N, -1, -100):   # (-100 is F.cross_entropy's ignore_index: refused here too)
        bad = labels.clone(); bad[0] = value
        with pytest.raises(ValueError, match=r"`targets` must hold class indices in \[0, 10\)"):
            ce_temporal_loss(inverse, reduction)(rec, bad)


def test_other_calls_take_the_general_route():
    rec, labels = record((10, 3, 4), torch.float32, 'routes'), torch.tensor([0, 1, 3])
    loss = mse_temporal_loss()
    assert not takes_plain_route(loss, rec.half(), labels)                      # float16: the general node
    assert not takes_plain_route(loss, rec, labels.int())                       # int32 labels
    assert not takes_plain_route(mse_temporal_loss(tolerance=1), rec, labels)
    assert not takes_plain_route(mse_temporal_loss(weight=torch.ones(4)), rec, labels)
    assert type(first_spike_time(torch.nn.Parameter(rec)).grad_fn).__name__ == 'FirstSpikeBackward'  # a subclass
    # results stay right there
    a, ga = fwd_bwd(loss, rec, labels.int())
    b, gb = fwd_bwd(loss, rec, labels)
    assert torch.equal(a, b) and torch.equal(ga, gb)


def test_plain_route_keeps_the_named_errors():
    rec = record((10, 3, 4), torch.float32, 'errors')
    loss = mse_temporal_loss()
    for bad in (torch.tensor([0, 4, 1]), torch.tensor([0, -1, 1]), torch.tensor([0, -100, 1])):
        with pytest.raises(ValueError, match=r"`targets` must hold class indices in \[0, 4\)"):
            loss(rec, bad)
    with pytest.raises(ValueError, match="`on_target` must be >= -T = -10"):
        mse_temporal_loss(on_target=-11)(rec, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="`targets` must hold finite spike times >= -T = -10"):
        mse_temporal_loss(target_is_time=True)(rec, torch.full((3, 4), -11.))
    with pytest.raises(ValueError, match="`spk_rec` must be a non-empty"):
        loss(rec[:, :0], torch.zeros(0, dtype=torch.long))
    labels = torch.tensor([0, 1, 2])
    snapshot = rec.clone(), labels.clone()
    fwd_bwd(loss, rec, labels)
    torch.testing.assert_close(rec, snapshot[0], rtol=0, atol=0, equal_nan=True)   # the caller's tensors untouched
    assert torch.equal(labels, snapshot[1])


def surrogate_mse(rec, rec0, steps, target, T, M):
    "The loss as a smooth function of the record's values x at the first-spike steps of `rec0`: tau = steps - (x - x0)."
    tau = steps.to(rec.dtype) - (rec.gather(0, steps) - rec0.gather(0, steps))
    return ((tau - target) ** 2).sum() / (T * T * M)


def test_plain_backward_is_the_gradient_of_the_sign_estimator_float64():
    "gradcheck the smooth surrogate in float64, then require the plain node's backward to equal its gradient."
    T, B, N = 12, 3, 4
    rec = record((T, B, N), torch.float64, 'gradcheck', p=0.2).nan_to_num()
    target = naive_targets(torch.tensor([0, 3, 1]), N, T, on=0, off=-1)[None]
    steps = naive_times(rec)[0].long()[None]
    x = rec.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda r: surrogate_mse(r, rec, steps, target, T, B * N), (x,))
    expected, = torch.autograd.grad(surrogate_mse(x, rec, steps, target, T, B * N), x)
    assert expected.count_nonzero() == B * N - (steps[0] == target[0]).sum()
    loss = mse_temporal_loss(on_target=0, off_target=-1)
    assert takes_plain_route(loss, rec, torch.tensor([0, 3, 1]))
    loss(x, torch.tensor([0, 3, 1])).backward()
    assert_close(x.grad, expected)
    y = rec.clone().requires_grad_()
    g = torch.randn(B, N, dtype=torch.float64, generator=generator('g'))
    (_PlainFirstSpike.apply(y) * g).sum().backward()
    assert torch.equal(y.grad, naive_grad((T, B, N), steps.double(), g[None]))


def test_large_records_take_the_general_route(monkeypatch):
    "Above `_NATIVE_MAX` entries the losses take the general route (the handle's random accesses cost more there)."
    rec, labels = record((10, 3, 4), torch.float32, 'large', nan=False), torch.tensor([0, 1, 3])
    mse, ce = mse_temporal_loss(), ce_temporal_loss()
    assert takes_plain_route(mse, rec, labels) and takes_plain_route(ce, rec, labels)
    small = fwd_bwd(mse, rec, labels), fwd_bwd(ce, rec, labels)
    monkeypatch.setattr(S, '_NATIVE_MAX', rec.numel() - 1)
    mse, ce = mse_temporal_loss(), ce_temporal_loss()          # (a module keeps its plan per shape)
    assert not takes_plain_route(mse, rec, labels) and not takes_plain_route(ce, rec, labels)
    for (a, ga), (b, gb) in zip(small, (fwd_bwd(mse, rec, labels), fwd_bwd(ce, rec, labels))):
        assert_close(a, b); assert_close(ga, gb)


def test_kept_plans_follow_the_options():
    "A plan is kept per shapes and options: changing an option after a call gives the new option's answer."
    T, B, N = 12, 3, 4
    rec, labels = record((T, B, N), torch.float64, 'plans', p=0.2, nan=False), torch.tensor([0, 3, 1])
    loss = mse_temporal_loss()
    loss(rec, labels)                                               # a plan is made and kept
    for name, value in [('on_target', 2.), ('off_target', 5.), ('tolerance', 1.)]:
        setattr(loss.spk_time_fn, name, value)
        fresh = mse_temporal_loss(**{k: getattr(loss.spk_time_fn, k) for k in ('on_target', 'off_target', 'tolerance')})
        assert_close(loss(rec, labels), fresh(rec, labels))
    loss.reduction = 'sum'
    assert_close(loss(rec, labels), mse_temporal_loss(on_target=2., off_target=5., tolerance=1., reduction='sum')(rec, labels))
    loss.reduction = 'avg'                                              # not an option: refused, not summed
    with pytest.raises(ValueError, match='avg'): loss(rec, labels)
    loss.reduction = 'sum'
    loss.weight = torch.rand(N, dtype=torch.float64)
    assert not takes_plain_route(loss, rec, labels)
    ce = ce_temporal_loss()
    a = ce(rec, labels); ce.reduction = 'sum'
    assert_close(ce(rec, labels), a * B)
    for shape in [(T, b, N) for b in range(1, 40)]:                   # many shapes: at most 32 plans kept
        ce(record(shape, torch.float64, 'many', nan=False), torch.zeros(shape[1], dtype=torch.long))
    assert len(ce._plain_plans) <= S._MAX_PLANS
    assert list(ce.state_dict()) == []
