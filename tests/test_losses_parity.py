"""snnlit.losses against spikingjelly 2.0.0 and snntorch 1.0.0 (test-only oracles), where they are right,
and the documented differences where they are not. Skips when the reference is not installed."""
import pytest, torch
import torch.nn.functional as F
from snnlit import losses as L

REDUCTIONS = ('mean', 'sum', 'none')

# ---------------------------------------------------------------- spikingjelly
@pytest.fixture(scope='module')
def sj():
    pytest.importorskip('spikingjelly')
    from spikingjelly.activation_based.functional import loss
    return loss

@pytest.mark.parametrize('kernel,args', [('linear', ()), ('polynomial', (2,)), ('sigmoid', (0.3,)), ('gaussian', (1.7,))])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_kernel_dot_product_matches_spikingjelly(sj, kernel, args, dtype):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(6, 9, generator=g).to(dtype), torch.rand(6, 9, generator=g).to(dtype)   # K == N: where the reference works
    torch.testing.assert_close(L.kernel_dot_product(x, y, kernel, *args), sj.kernel_dot_product(x, y, kernel, *args))

def test_gaussian_kernel_where_spikingjelly_fails(sj):
    x, y = torch.rand(5, 4, dtype=torch.float64), torch.rand(3, 4, dtype=torch.float64)
    with pytest.raises(RuntimeError): sj.kernel_dot_product(x, y, 'gaussian', 1.0)   # K != N
    expected = torch.exp(-((x[:, None] - y[None]) ** 2).sum(-1) / 2)
    torch.testing.assert_close(L.kernel_dot_product(x, y, 'gaussian', 1.0), expected)
    big = torch.randn(20, 300) * 100   # large norms: the reference's expansion cancels, snnlit's distances do not
    assert (sj.kernel_dot_product(big, big, 'gaussian', 1.0).diagonal() < 0.99).any()
    assert torch.equal(L.kernel_dot_product(big, big, 'gaussian', 1.0).diagonal(), torch.ones(20))

@pytest.mark.parametrize('kernel,args', [('linear', ()), ('sigmoid', (0.3,)), ('gaussian', (2.0,))])
@pytest.mark.parametrize('loss_type', ['mse', 'l1', 'bce'])
def test_spike_similar_loss_matches_spikingjelly(sj, kernel, args, loss_type):
    g = torch.Generator().manual_seed(1)
    spikes = (torch.rand(8, 5, 6, generator=g) < 0.3).float()
    labels = F.one_hot(torch.randint(0, 3, (8,), generator=g), 3)
    labels[0, 1] = 1
    s1, s2 = spikes.clone().requires_grad_(), spikes.clone().requires_grad_()
    ours, ref = L.spike_similar_loss(s1, labels, kernel, loss_type, *args), sj.spike_similar_loss(s2, labels, kernel, loss_type, *args)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    ours.backward(); ref.backward()
    torch.testing.assert_close(s1.grad, s2.grad, rtol=1e-4, atol=1e-6)

@pytest.mark.parametrize('shape', [(4, 8, 10), (8, 3, 5, 6), (2, 3, 4, 2, 2)])
def test_tet_matches_spikingjelly(sj, shape):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    target = torch.randint(0, shape[2], (shape[1], *shape[3:]), generator=g)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours, ref = L.temporal_efficient_training_cross_entropy(x1, target), sj.temporal_efficient_training_cross_entropy(x2, target)
    torch.testing.assert_close(ours, ref)
    ours.backward(); ref.backward()
    torch.testing.assert_close(x1.grad, x2.grad)

# ---------------------------------------------------------------- snntorch
@pytest.fixture(scope='module')
def SF():
    pytest.importorskip('snntorch')
    import snntorch.functional as SF
    return SF

NAMES = ['ce_rate_loss', 'ce_count_loss', 'ce_max_membrane_loss', 'mse_count_loss', 'mse_membrane_loss']

def _data(name, T=7, B=5, N=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(T, B, N, generator=g) if 'membrane' in name else (torch.rand(T, B, N, generator=g) < 0.4).float()
    return out, torch.randint(0, N, (B,), generator=g)

def _both(ours_fn, ref_fn, out, ys):
    o1, o2 = out.clone().requires_grad_(), out.clone().requires_grad_()
    a, b = ours_fn(o1, ys), ref_fn(o2, ys)
    return a, b, o1, o2

@pytest.mark.parametrize('name', NAMES)
def test_default_mean_matches_snntorch(SF, name):
    out, ys = _data(name)
    kw = dict(correct_rate=0.8, incorrect_rate=0.2) if name == 'mse_count_loss' else {}
    a, b, o1, o2 = _both(getattr(L, name)(**kw), getattr(SF, name)(**kw), out, ys)
    torch.testing.assert_close(a, b.reshape(()))
    a.backward(); b.sum().backward()
    torch.testing.assert_close(o1.grad, o2.grad)

@pytest.mark.parametrize('name', NAMES)
def test_none_and_sum_relate_to_snntorch(SF, name):
    "CE: identical. MSE: snntorch's 'none' is [B, N] (ours is its mean over N) and its 'sum' also sums over N."
    out, ys = _data(name, seed=1)
    N = out.shape[-1]
    for reduction in ('none', 'sum'):
        a, b, _, _ = _both(getattr(L, name)(reduction=reduction), getattr(SF, name)(reduction=reduction), out, ys)
        if name.startswith('ce'): torch.testing.assert_close(a, b.reshape(a.shape))
        elif reduction == 'none': torch.testing.assert_close(a, b.mean(-1))
        else: torch.testing.assert_close(a * N, b.reshape(()))

@pytest.mark.parametrize('name', ['ce_rate_loss', 'ce_count_loss', 'ce_max_membrane_loss'])
def test_ce_weight_none_matches_and_mean_differs(SF, name):
    "With weight, 'none' agrees; snntorch's 'mean' divides by B, snnlit's (nn.CrossEntropyLoss) by the total weight."
    out, ys = _data(name, seed=2)
    w = torch.rand(out.shape[-1]) + 0.1
    a, b, _, _ = _both(getattr(L, name)(reduction='none', weight=w), getattr(SF, name)(reduction='none', weight=w), out, ys)
    torch.testing.assert_close(a, b)
    ours_mean = getattr(L, name)(weight=w)(out, ys)
    ref_mean = getattr(SF, name)(weight=w)(out.clone(), ys)
    torch.testing.assert_close(ref_mean.reshape(()), b.mean())
    torch.testing.assert_close(ours_mean, (b.sum() / w[ys].sum()))
    torch.testing.assert_close(ours_mean, F.cross_entropy(_ce_logits(name, out), ys, weight=w) if name != 'ce_rate_loss' else ours_mean)

def _ce_logits(name, out):
    return out.sum(0) if name == 'ce_count_loss' else out.max(0).values

@pytest.mark.parametrize('name', ['ce_count_loss', 'mse_count_loss'])
@pytest.mark.parametrize('N,C', [(6, 3), (12, 4), (10, 2)])
def test_population_code_matches_snntorch(SF, name, N, C):
    g = torch.Generator().manual_seed(N + C)
    T, B = 9, 6
    spk = (torch.rand(T, B, N, generator=g) < 0.4).float()
    ys = torch.randint(0, C, (B,), generator=g)
    kw = dict(correct_rate=0.75, incorrect_rate=0.1) if name == 'mse_count_loss' else {}
    a, b, o1, o2 = _both(getattr(L, name)(population_code=True, num_classes=C, **kw),
                         getattr(SF, name)(population_code=True, num_classes=C, **kw), spk, ys)
    torch.testing.assert_close(a, b.reshape(()))
    a.backward(); b.backward()
    torch.testing.assert_close(o1.grad, o2.grad)

def test_ce_rate_population_code_differs_from_snntorch(SF):
    "snntorch raises without weight, and with weight ignores the groups; snnlit sums each group, step by step."
    spk, _ = _data('ce_rate_loss', N=6)
    ys = torch.tensor([0, 2, 1, 1, 0])
    with pytest.raises(TypeError): SF.ce_rate_loss(population_code=True, num_classes=3)(spk.clone(), ys)
    grouped = spk.unflatten(-1, (3, 2)).sum(-1)
    torch.testing.assert_close(L.ce_rate_loss(population_code=True, num_classes=3)(spk, ys), SF.ce_rate_loss()(grouped, ys).reshape(()))

def test_mse_weight_where_snntorch_crashes(SF):
    out, ys = _data('mse_count_loss', B=5, N=6)
    w = torch.rand(6) + 0.1
    with pytest.raises(RuntimeError): SF.mse_count_loss(weight=w)(out.clone(), ys)   # N != B
    per_sample = L.mse_count_loss(reduction='none')(out, ys)
    torch.testing.assert_close(L.mse_count_loss(weight=w)(out, ys), (per_sample * w[ys]).mean())

def test_time_var_targets_against_snntorch_per_step(SF):
    "snntorch's time_var_targets crashes on [T, B] labels (its one-hot accepts 1-D labels only); its per-step loss is the oracle."
    g = torch.Generator().manual_seed(3)
    mem = torch.randn(6, 4, 5, generator=g)
    ys = torch.randint(0, 5, (6, 4), generator=g)
    with pytest.raises(RuntimeError): SF.mse_membrane_loss(time_var_targets=True)(mem.clone(), ys)
    ref_fn = SF.mse_membrane_loss(on_target=1.5, off_target=0.25)
    per_step = torch.stack([ref_fn(mem[t:t + 1], ys[t]).reshape(()) for t in range(6)])
    torch.testing.assert_close(L.mse_membrane_loss(True, on_target=1.5, off_target=0.25)(mem, ys), per_step.mean())

def test_negative_off_target_where_snntorch_ignores_it(SF):
    "snntorch builds targets as clamp(one_hot * on, min=off): an off_target below 0 is silently replaced by 0."
    mem, ys = _data('mse_membrane_loss', seed=4)
    ours = L.mse_membrane_loss(on_target=1.0, off_target=-0.5)(mem, ys)
    target = torch.full(mem.shape[1:], -0.5); target[torch.arange(len(ys)), ys] = 1.0
    torch.testing.assert_close(ours, ((mem - target) ** 2).mean())
    torch.testing.assert_close(SF.mse_membrane_loss(on_target=1.0, off_target=-0.5)(mem.clone(), ys).reshape(()),
                               L.mse_membrane_loss(on_target=1.0, off_target=0.0)(mem, ys))

@pytest.mark.parametrize('name', ['ce_rate_loss', 'mse_membrane_loss'])
def test_float64_kept_where_snntorch_drops_to_float32(SF, name):
    out, ys = _data(name)
    out = out.double()
    assert getattr(SF, name)()(out.clone(), ys).dtype == torch.float32
    assert getattr(L, name)()(out, ys).dtype == torch.float64

@pytest.mark.parametrize('name', NAMES)
def test_input_unchanged(SF, name):
    out, ys = _data(name)
    before = out.clone()
    getattr(L, name)()(out, ys)
    assert torch.equal(out, before)
