"""snnlit.spiketime against snntorch 1.0.0 where snntorch is right; its known defects are checked to differ."""
import pytest, torch
snntorch = pytest.importorskip('snntorch')
import snntorch.functional as SF
from snnlit.spiketime import first_spike_time, multi_spike_time, SpikeTime, mse_temporal_loss, ce_temporal_loss

SIZES = [(1, 1, 1), (2, 1, 3), (7, 3, 1), (25, 4, 10), (60, 8, 5)]


def binary_record(T, B, N, p, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, N, generator=g) < p).to(dtype)


def both(fn_ours, fn_ref, rec, grad_out=None):
    "Values and gradients w.r.t. the record of two functions of it."
    out = []
    for fn in (fn_ours, fn_ref):
        x = rec.clone().requires_grad_()
        y = fn(x)
        y.backward(torch.ones_like(y) if grad_out is None else grad_out)
        out.append((y.detach(), x.grad))
    return out


@pytest.mark.parametrize('T,B,N', SIZES)
@pytest.mark.parametrize('p', [0.0, 0.1, 0.5, 1.0])
def test_first_spike(T, B, N, p):
    rec = binary_record(T, B, N, p, seed=T * 100 + B * 10 + N)
    g = torch.randn(B, N, generator=torch.Generator().manual_seed(1))
    (a, ga), (b, gb) = both(first_spike_time, lambda x: SF.SpikeTime.FirstSpike.apply(x, 'cpu'), rec, g)
    assert torch.equal(a, b) and torch.equal(ga, gb)


@pytest.mark.parametrize('T', [1, 4, 30])
@pytest.mark.parametrize('F', [1, 2, 4])
def test_multi_spike_single_neuron(T, F):
    "With one sample and one neuron snntorch's slice erasure erases nothing else: forwards agree."
    for seed in range(5):
        rec = binary_record(T, 1, 1, 0.3, seed)
        assert torch.equal(multi_spike_time(rec, F), SF.SpikeTime.MultiSpike.apply(rec, F, 'cpu'))


@pytest.mark.parametrize('F', [1, 2, 3])
def test_multi_spike_gradient_without_coincidences(F):
    "snntorch's backward assigns with `=`; it is right when no two extracted steps coincide."
    for seed in range(5):
        rec = binary_record(40, 1, 1, 0.0, seed)
        rec[torch.randperm(39, generator=torch.Generator().manual_seed(seed))[:F], 0, 0] = 1.   # F spikes before T-1
        g = torch.randn(F, 1, 1, generator=torch.Generator().manual_seed(seed))
        (a, ga), (b, gb) = both(lambda x: multi_spike_time(x, F), lambda x: SF.SpikeTime.MultiSpike.apply(x, F, 'cpu'), rec, g)
        assert torch.equal(a, b) and torch.equal(ga, gb)


def test_multi_spike_reference_defects_differ():
    "Where snntorch is wrong (erasure across neurons, lost gradient at coinciding steps), snnlit differs."
    rec = torch.zeros(5, 1, 2)
    rec[[1, 2], 0, 0] = 1.
    rec[[2, 4], 0, 1] = 1.
    ref = SF.SpikeTime.MultiSpike.apply(rec, 2, 'cpu')
    assert ref[:, 0, 0].tolist() == [1., 4.]                  # snntorch: neuron 0's second spike erased
    assert multi_spike_time(rec, 2)[:, 0, 0].tolist() == [1., 2.]
    x = torch.zeros(6, 1, 1, requires_grad=True)              # silent: three shadow spikes at T-1
    SF.SpikeTime.MultiSpike.apply(x, 3, 'cpu').sum().backward()
    assert x.grad[-1].item() == -1.
    x.grad = None
    multi_spike_time(x, 3).sum().backward()
    assert x.grad[-1].item() == -3.


# (on, off) pairs where snntorch's label conversion is right: off >= 0, or on < off
TARGETS = [(0, 24), (2, 7), (-3, 5), (0, 0)]


@pytest.mark.parametrize('on,off', TARGETS)
@pytest.mark.parametrize('tolerance', [0, 1, 3])
def test_mse_temporal_loss(on, off, tolerance):
    T, B, N = 25, 6, 10
    rec = binary_record(T, B, N, 0.08, seed=on + 10 * off + tolerance)
    labels = torch.randint(0, N, (B,), generator=torch.Generator().manual_seed(0))
    ours = mse_temporal_loss(on_target=on, off_target=off, tolerance=tolerance)
    ref = SF.mse_temporal_loss(on_target=on, off_target=off, tolerance=tolerance)
    (a, ga), (b, gb) = both(lambda x: ours(x, labels), lambda x: ref(x, labels.clone()), rec)
    torch.testing.assert_close(a, b, rtol=1e-6, atol=0)
    torch.testing.assert_close(ga, gb, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_mse_temporal_loss_given_times(reduction):
    T, B, N = 30, 4, 5
    rec = binary_record(T, B, N, 0.1, seed=3)
    targets = torch.tensor([[3., -1., 10., 0., -5.]]).expand(B, N).clone()
    ours = mse_temporal_loss(target_is_time=True, tolerance=2, reduction=reduction)
    ref = SF.mse_temporal_loss(target_is_time=True, tolerance=2, reduction=reduction)
    grad = None if reduction != 'none' else torch.randn(B, N, generator=torch.Generator().manual_seed(0))
    (a, ga), (b, gb) = both(lambda x: ours(x, targets), lambda x: ref(x, targets.clone()), rec, grad)
    torch.testing.assert_close(a, b, rtol=1e-6, atol=0)
    torch.testing.assert_close(ga, gb, rtol=1e-6, atol=1e-12)


def test_mse_temporal_loss_multi_spike_single_neuron_per_sample():
    T, F = 20, 3
    rec = binary_record(T, 1, 1, 0.0, seed=0)
    rec[[2, 5, 9], 0, 0] = 1.
    labels = torch.tensor([0])
    ours = mse_temporal_loss(on_target=(1, 4, 8), off_target=(19, 19, 19), multi_spike=True)
    ref = SF.mse_temporal_loss(on_target=(1, 4, 8), off_target=(19, 19, 19), multi_spike=True)
    (a, ga), (b, gb) = both(lambda x: ours(x, labels), lambda x: ref(x, labels.clone()), rec)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(ga, gb)


@pytest.mark.parametrize('inverse', ['negate', 'reciprocal'])
@pytest.mark.parametrize('T,B,N', SIZES)
def test_ce_temporal_loss(inverse, T, B, N):
    rec = binary_record(T, B, N, 0.1, seed=T + B + N)
    labels = torch.randint(0, N, (B,), generator=torch.Generator().manual_seed(1))
    ours, ref = ce_temporal_loss(inverse), SF.ce_temporal_loss(inverse)
    (a, ga), (b, gb) = both(lambda x: ours(x, labels), lambda x: ref(x, labels.clone()), rec)
    torch.testing.assert_close(a, b, rtol=1e-6, atol=0)
    torch.testing.assert_close(ga, gb, rtol=1e-6, atol=1e-12)


def test_label_conversion_defect_differs():
    "snntorch 1.0 clamps the one-hot code at off_target: with the defaults every neuron's target is 0."
    rec = torch.zeros(10, 2, 4)
    labels = torch.tensor([1, 3])
    _, ref = SF.SpikeTime()(rec, labels.clone())
    assert ref.eq(0).all()
    _, ours = SpikeTime()(rec, labels)
    assert ours.tolist() == [[9., 0., 9., 9.], [9., 9., 9., 0.]]


def test_targets_not_modified_unlike_reference():
    rec = torch.zeros(10, 2, 4)
    targets = torch.tensor([[2., 3., -1., -1.]])
    SF.SpikeTime(target_is_time=True)(rec, ref_t := targets.clone())
    assert not torch.equal(ref_t, targets)                    # snntorch rewrote -1 as 9 in place
    SpikeTime(target_is_time=True)(rec, targets)
    assert targets.tolist() == [[2., 3., -1., -1.]]


def test_rank_defects_differ():
    "snntorch's FirstSpike backward indexes two trailing dims: it fails on [T, N] and misplaces gradient on 4-D."
    g = torch.Generator().manual_seed(0)
    rec = (torch.rand(6, 2, 3, 4, generator=g) < 0.3).float()
    a, b = rec.clone().requires_grad_(), rec.clone().requires_grad_()
    SF.SpikeTime.FirstSpike.apply(a, 'cpu').sum().backward()
    first_spike_time(b).sum().backward()
    assert b.grad.sum().item() == -24. and a.grad.sum().item() != -24.   # one -1 per neuron
    x = (torch.rand(6, 4, generator=g) < 0.3).float().requires_grad_()
    with pytest.raises(IndexError): SF.SpikeTime.FirstSpike.apply(x, 'cpu').sum().backward()
    first_spike_time(x).sum().backward()
    assert x.grad.sum().item() == -4.
