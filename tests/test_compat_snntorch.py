"""snnlit.compat.snntorch against snntorch 1.0.0 (a test-only oracle; those tests skip without it) and against
the naive loops of tests/oracles_st.py: every surrogate through an snntorch neuron, every loss and accuracy
helper on random inputs, and the documented differences."""
import pickle
import pytest, torch
from helpers import assert_close, generator
from oracles import naive_family
from oracles_st import (naive_accuracy_rate, naive_accuracy_temporal, naive_triangle_grad,
                        naive_leaky_operator_grad, naive_atan_grad)
from snnlit.compat.snntorch import surrogate as S
import snnlit.compat.snntorch.functional as SF
import snnlit.losses as L

@pytest.fixture(scope='module')
def snn():
    return pytest.importorskip('snntorch')

@pytest.fixture(scope='module')
def ref_surrogate(snn):
    from snntorch import surrogate
    return surrogate

@pytest.fixture(scope='module')
def sf(snn):
    import snntorch.functional as sf
    return sf

def _custom(x, grad, spikes):
    grad *= 2                     # in place, as snntorch's own example does
    return grad / (10 * x.abs() + 1) ** 2 + 0.1 * spikes

# (id, spike_grad built from a surrogate module m): the same line against snntorch's module and ours
SAME = [
    ('atan()', lambda m: m.atan()),
    ('atan(3)', lambda m: m.atan(alpha=3.0)),
    ('sigmoid(5)', lambda m: m.sigmoid(slope=5)),
    ('fast_sigmoid()', lambda m: m.fast_sigmoid()),
    ('fast_sigmoid(10)', lambda m: m.fast_sigmoid(slope=10)),
    ('straight_through_estimator()', lambda m: m.straight_through_estimator()),
    ('spike_rate_escape(2, 3)', lambda m: m.spike_rate_escape(beta=2, slope=3)),
    ('heaviside()', lambda m: m.heaviside()),
    ('SFS(10, -0.5)', lambda m: m.SFS(slope=10, B=-0.5)),
    ('custom_surrogate', lambda m: m.custom_surrogate(_custom)),
    ('ATan.apply(x, 3)', lambda m: (lambda x: m.ATan.apply(x, 3.0))),
    ('Sigmoid.apply(x, 5)', lambda m: (lambda x: m.Sigmoid.apply(x, 5))),
    ('FastSigmoid.apply(x, 10)', lambda m: (lambda x: m.FastSigmoid.apply(x, 10))),
    ('SpikeRateEscape.apply(x, 2, 3)', lambda m: (lambda x: m.SpikeRateEscape.apply(x, 2, 3))),
    ('SparseFastSigmoid.apply(x, 10, 0.2)', lambda m: (lambda x: m.SparseFastSigmoid.apply(x, 10, 0.2))),
    ('StraightThroughEstimator.apply', lambda m: m.StraightThroughEstimator.apply),
    ('Heaviside.apply', lambda m: m.Heaviside.apply),
    ('CustomSurrogate.apply', lambda m: (lambda x: m.CustomSurrogate.apply(x, _custom))),
]

def _run_leaky(snn, spike_grad, x, beta=0.8, reset='subtract'):
    "Spikes, membranes [T, B, N] and d(loss)/dx of an snn.Leaky driven by x [T, B, N]."
    lif = snn.Leaky(beta=beta, spike_grad=spike_grad, reset_mechanism=reset)
    xg = x.clone().requires_grad_()
    mem, spikes, mems = lif.init_leaky(), [], []
    for t in range(x.shape[0]):
        spk, mem = lif(xg[t], mem)
        spikes.append(spk); mems.append(mem)
    spikes, mems = torch.stack(spikes), torch.stack(mems)
    weights = torch.linspace(0.5, 1.5, x.numel()).view(x.shape)   # a loss that weighs every spike
    ((spikes * weights).sum() + 0.1 * (mems ** 2).sum()).backward()
    return spikes.detach(), mems.detach(), xg.grad

@pytest.mark.parametrize('reset', ['subtract', 'zero'])
@pytest.mark.parametrize('case', SAME, ids=[c[0] for c in SAME])
def test_surrogate_through_leaky_matches_snntorch(snn, ref_surrogate, case, reset):
    x = torch.rand(12, 3, 5, generator=generator('leaky', case[0], reset)) * 0.9
    ref = _run_leaky(snn, case[1](ref_surrogate), x, reset=reset)
    ours = _run_leaky(snn, case[1](S), x, reset=reset)
    assert ref[0].sum() > 0 and ref[0].sum() < ref[0].numel()     # some spikes, not all
    assert torch.equal(ours[0], ref[0]) and torch.equal(ours[1], ref[1])   # same kernels, same order
    assert_close(ours[2], ref[2])

@pytest.mark.parametrize('case', SAME, ids=[c[0] for c in SAME])
def test_surrogate_alone_matches_snntorch(ref_surrogate, case):
    x = torch.randn(200, generator=generator('alone', case[0])) * 2
    grads = []
    for m in (ref_surrogate, S):
        xg = x.clone().requires_grad_()
        spk = case[1](m)(xg)
        spk.backward(torch.linspace(-1, 1, 200))
        grads.append((spk.detach(), xg.grad))
    assert torch.equal(grads[0][0], grads[1][0])
    assert_close(grads[1][1], grads[0][1])

def test_stochastic_spike_operator_matches_snntorch_with_the_same_seed(ref_surrogate):
    x = torch.randn(300, generator=generator('sso'))
    grads = []
    for m in (ref_surrogate, S):
        xg = x.clone().requires_grad_()
        torch.manual_seed(7)
        m.SSO(mean=0.1, variance=0.4)(xg).sum().backward()
        grads.append(xg.grad)
    assert_close(grads[1], grads[0])

def test_triangular_is_a_triangle_not_snntorchs_signed_constant(ref_surrogate):
    x = torch.randn(100, generator=generator('tri')) * 2
    for w in (1.0, 0.5, 3.0):
        xg = x.clone().requires_grad_(); S.triangular(w)(xg).sum().backward()
        assert_close(xg.grad.double(), naive_triangle_grad(x, w))
        xg = x.clone().requires_grad_(); S.Triangular.apply(xg, w).sum().backward()
        assert_close(xg.grad.double(), naive_triangle_grad(x, w))
    xg = x.clone().requires_grad_(); ref_surrogate.triangular(2.0)(xg).sum().backward()
    assert set(xg.grad.unique().tolist()) == {-2.0, 2.0}              # the documented defect

def test_lso_works_where_snntorch_raises(ref_surrogate):
    x = torch.randn(50, generator=generator('lso'))
    with pytest.raises(TypeError): ref_surrogate.LSO(0.3)(x.clone().requires_grad_())
    for sg in (S.LSO(0.3), lambda t: S.LeakySpikeOperator.apply(t, 0.3)):
        xg = x.clone().requires_grad_(); sg(xg).sum().backward()
        assert_close(xg.grad.double(), naive_leaky_operator_grad(x, 0.3))

def test_step_at_zero_and_dtype_are_snnlits(ref_surrogate):
    x = torch.tensor([-1., 0., 1.], dtype=torch.float64)
    assert torch.equal(S.atan()(x), torch.tensor([0., 1., 1.], dtype=torch.float64))
    assert torch.equal(ref_surrogate.atan()(x), torch.tensor([0., 0., 1.]))      # snntorch: float32, 0 at 0

def test_sigmoid_is_finite_where_snntorch_1_0_is_nan():
    x = torch.tensor([-5., -1000., 1000.], requires_grad=True)
    S.sigmoid()(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad[1:].eq(0).all()

FACTORIES = [S.atan(), S.sigmoid(), S.fast_sigmoid(), S.triangular(), S.straight_through_estimator(),
             S.spike_rate_escape(), S.heaviside(), S.SSO(), S.LSO(), S.SFS(B=0.), S.custom_surrogate(_custom)]

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize('sg', FACTORIES, ids=repr)
def test_every_factory_keeps_dtype_batch_one_and_empty(sg, dtype):
    for shape in ((1,), (1, 1), (0, 3), (4, 6)):
        x = torch.randn(shape, generator=generator('dtype', repr(sg), shape)).to(dtype).requires_grad_()
        spk = sg(x)
        assert spk.dtype == dtype and spk.shape == x.shape
        assert torch.equal(spk.detach(), (x.detach() >= 0).to(dtype))
        spk.sum().backward()
        assert x.grad.dtype == dtype and x.grad.shape == x.shape

def test_factory_matches_formula_in_float64():
    x = torch.randn(64, dtype=torch.float64, generator=generator('f64')).requires_grad_()
    S.atan(alpha=1.5)(x).sum().backward()
    assert_close(x.grad, naive_atan_grad(x.detach(), 1.5))

def test_vmap_and_grad_of_a_class():
    x = torch.randn(3, 5, generator=generator('vmap'))
    g = torch.func.vmap(torch.func.grad(lambda t: S.ATan.apply(t, 2.0).sum()))(x)
    assert_close(g.double(), naive_atan_grad(x, 2.0))

def test_a_network_holding_a_factory_pickles(snn, tmp_path):
    net = snn.Leaky(beta=0.9, spike_grad=S.fast_sigmoid(slope=10))
    torch.save(net, tmp_path / 'net.pt')
    net2 = torch.load(tmp_path / 'net.pt', weights_only=False)
    assert repr(net2.spike_grad) == 'fast_sigmoid(slope=10)' and net2.spike_grad.function is S.FastSigmoid
    assert 'spike_grad.slope' not in net.state_dict()

# ------------------------------------------------------------------------------------------- functional
T, B, N = 7, 5, 4

def _data(*case, C=N, time_var=False):
    g = generator('functional', *case)
    spk = (torch.rand(T, B, N, generator=g) < 0.4).float()
    mem = torch.randn(T, B, N, generator=g)
    y = torch.randint(0, C, (T, B) if time_var else (B,), generator=g)
    w = torch.rand(C, generator=g) + 0.2
    return spk, mem, y, w

CE = ['ce_rate_loss', 'ce_count_loss', 'ce_max_membrane_loss']

@pytest.mark.parametrize('name', CE)
@pytest.mark.parametrize('reduction', ['mean', 'none'])
@pytest.mark.parametrize('weighted', [False, True])
def test_ce_losses_match_snntorch(sf, name, reduction, weighted):
    spk, mem, y, w = _data(name, reduction, weighted)
    out = mem if name == 'ce_max_membrane_loss' else spk
    kw = dict(reduction=reduction, weight=w if weighted else None)
    out_g, ref_g = out.clone().requires_grad_(), out.clone().requires_grad_()
    ours, ref = getattr(SF, name)(**kw)(out_g, y), getattr(sf, name)(**kw)(ref_g, y)
    assert_close(ours, ref.reshape(ours.shape))
    ours.sum().backward(); ref.sum().backward()
    assert_close(out_g.grad, ref_g.grad)

@pytest.mark.parametrize('name', CE)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_weighted_ce_losses_match_naive(name, reduction):
    spk, mem, y, w = _data(name, 'naive', reduction)
    out = mem if name == 'ce_max_membrane_loss' else spk
    per_sample = naive_family(name, out, y, reduction='none', weight=w)   # weight[y_b] * loss_b
    expected = {'mean': per_sample.mean(), 'sum': per_sample.sum(), 'none': per_sample}[reduction]
    assert_close(getattr(SF, name)(reduction=reduction, weight=w)(out.double(), y), expected)

def test_weighted_ce_mean_differs_from_pytorchs_normalisation():
    spk, _, y, w = _data('pytorch')
    ours, pytorch = SF.ce_count_loss(weight=w)(spk, y), L.ce_count_loss(weight=w)(spk, y)
    per_sample = L.ce_count_loss(reduction='none', weight=w)(spk, y)
    assert_close(ours, per_sample.mean()); assert_close(pytorch, per_sample.sum() / w[y].sum())

def test_ce_count_population_code_matches_snntorch(sf):
    spk, _, y, _ = _data('pop', C=2)
    ours = SF.ce_count_loss(population_code=True, num_classes=2)(spk, y)
    assert_close(ours, sf.ce_count_loss(population_code=True, num_classes=2)(spk, y))

@pytest.mark.parametrize('kw', [{}, dict(correct_rate=0.8, incorrect_rate=0.2),
                                dict(population_code=True, num_classes=2)], ids=str)
def test_mse_count_loss_matches_snntorch(sf, kw):
    spk, _, y, _ = _data('mse_count', str(kw), C=kw.get('num_classes', N))
    assert SF.mse_count_loss is L.mse_count_loss
    spk_g, ref_g = spk.clone().requires_grad_(), spk.clone().requires_grad_()
    ours, ref = SF.mse_count_loss(**kw)(spk_g, y), sf.mse_count_loss(**kw)(ref_g, y)
    assert_close(ours, ref.reshape(()))
    ours.backward(); ref.backward()
    assert_close(spk_g.grad, ref_g.grad)
    C = kw.get('num_classes', N)
    # the documented conventions: 'sum' is snntorch's divided by C, 'none' its mean over outputs
    assert_close(SF.mse_count_loss(reduction='sum', **kw)(spk, y) * C,
                 sf.mse_count_loss(reduction='sum', **kw)(spk, y).reshape(()))
    assert_close(SF.mse_count_loss(reduction='none', **kw)(spk, y),
                 sf.mse_count_loss(reduction='none', **kw)(spk, y).mean(-1))

@pytest.mark.parametrize('kw', [{}, dict(on_target=0.7, off_target=0.2), dict(time_var_targets=True)], ids=str)
def test_mse_membrane_loss_matches_snntorch(sf, kw):
    _, mem, y, _ = _data('mse_mem', str(kw), time_var=kw.get('time_var_targets', False))
    if kw.get('time_var_targets'):
        # snntorch's time-varying targets are one-hot [T, B, N] already converted: give both the same
        ref = sf.mse_membrane_loss(time_var_targets=False)
        ours = SF.mse_membrane_loss(time_var_targets=True)
        expected = sum(torch.nn.functional.mse_loss(mem[t], torch.nn.functional.one_hot(y[t], N).float())
                       for t in range(T)) / T
        assert_close(ours(mem, y), expected)
        return
    assert_close(SF.mse_membrane_loss(**kw)(mem, y), sf.mse_membrane_loss(**kw)(mem, y).reshape(()))
    assert_close(SF.mse_membrane_loss(reduction='none', **kw)(mem, y),
                 sf.mse_membrane_loss(reduction='none', **kw)(mem, y).mean(-1))

def test_mse_membrane_negative_off_target_is_snnlits(sf):
    _, mem, y, _ = _data('mse_mem_negative')
    target = torch.where(torch.nn.functional.one_hot(y, N).bool(), 0.7, -0.2)
    assert_close(SF.mse_membrane_loss(on_target=0.7, off_target=-0.2)(mem, y),
                 torch.nn.functional.mse_loss(mem, target.expand_as(mem)))
    clamped = torch.where(torch.nn.functional.one_hot(y, N).bool(), 0.7, 0.)   # snntorch's label conversion
    assert_close(sf.mse_membrane_loss(on_target=0.7, off_target=-0.2)(mem, y).reshape(()),
                 torch.nn.functional.mse_loss(mem, clamped.expand_as(mem)))

@pytest.mark.parametrize('kw', [dict(on_target=0, off_target=0), dict(on_target=2, off_target=6),
                                dict(on_target=1, off_target=5, tolerance=2),
                                dict(on_target=(1, 3), off_target=(5, 6), multi_spike=True)], ids=str)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_mse_temporal_loss_matches_snntorch(sf, kw, reduction):
    spk, _, y, _ = _data('mse_temporal', str(kw), reduction)
    if kw.get('multi_spike'):   # where snntorch's multi-spike extraction is right: one spike per step
        spk = torch.zeros(T, B, N); spk[torch.arange(T), :, torch.arange(T) % N] = 1.
    spk_g, ref_g = spk.clone().requires_grad_(), spk.clone().requires_grad_()
    ours = SF.mse_temporal_loss(reduction=reduction, **kw)(spk_g, y)
    ref = sf.mse_temporal_loss(reduction=reduction, **kw)(ref_g, y.clone())
    assert_close(ours, ref)
    ours.sum().backward(); ref.sum().backward()
    assert_close(spk_g.grad, ref_g.grad)

def test_mse_temporal_loss_default_targets_are_snnlits(sf):
    spk, _, y, _ = _data('temporal-defaults')
    ref_default = sf.mse_temporal_loss()(spk, y.clone())
    assert_close(SF.mse_temporal_loss(on_target=0, off_target=0)(spk, y), ref_default)   # how to get it
    times = SF.SpikeTime()(spk, y)[1]
    assert torch.equal(times, torch.where(torch.nn.functional.one_hot(y, N).bool(), 0., T - 1.))

@pytest.mark.parametrize('inverse', ['negate', 'reciprocal'])
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('weighted', [False, True])
def test_ce_temporal_loss_matches_snntorch(sf, inverse, reduction, weighted):
    spk, _, y, w = _data('ce_temporal', inverse, reduction, weighted)
    kw = dict(inverse=inverse, reduction=reduction, weight=w if weighted else None)
    spk_g, ref_g = spk.clone().requires_grad_(), spk.clone().requires_grad_()
    ours, ref = SF.ce_temporal_loss(**kw)(spk_g, y), sf.ce_temporal_loss(**kw)(ref_g, y.clone())
    assert_close(ours, ref)
    ours.sum().backward(); ref.sum().backward()
    assert_close(spk_g.grad, ref_g.grad)

def test_l1_rate_sparsity_matches_snntorch(sf):
    spk, *_ = _data('l1')
    assert_close(SF.l1_rate_sparsity(1e-3)(spk), sf.l1_rate_sparsity(1e-3)(spk))
    assert_close(SF.reg.l1_rate_sparsity()(spk), 1e-5 * spk.sum())

# snntorch's own test-suite checks, against the compat module: 'none' averages to 'mean', weighted 'mean' is
# the batch mean of weight[label] * 'none' (mse_temporal_loss: of every [B, N] term scaled by its sample's weight)
@pytest.mark.parametrize('name', CE + ['mse_count_loss', 'mse_membrane_loss', 'mse_temporal_loss'])
def test_snntorch_suite_conventions(name):
    spk, mem, y, w = _data('suite', name)
    out = mem if 'membrane' in name else spk
    fn = getattr(SF, name)
    assert fn().weight is None and fn().reduction == 'mean'
    vanilla = fn(reduction='none')(out, y)
    assert_close(vanilla.mean(), fn()(out, y))
    scale = w[y] if vanilla.dim() == 1 else w[y][:, None]
    assert_close(fn(weight=w)(out, y), (vanilla * scale).mean())

# ------------------------------------------------------------------------------------------- accuracy
def _records(*case, C=N):
    g = generator('acc', *case)
    spk = (torch.rand(T, 40, C * 2 if C != N else N, generator=g) < 0.3).float()
    return spk, torch.randint(0, C, (40,), generator=g)

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_accuracy_rate_matches_snntorch_and_naive(sf, dtype):
    spk, y = _records('rate', str(dtype))
    spk = spk.to(dtype)
    acc = SF.accuracy_rate(spk, y)
    assert isinstance(acc, float) and acc == naive_accuracy_rate(spk, y)
    assert acc == sf.accuracy_rate(spk, y)
    assert SF.acc.accuracy_rate(spk, y) == acc

def test_accuracy_rate_population_code_matches_snntorch_and_naive(sf):
    spk, y = _records('pop', C=3)
    acc = SF.accuracy_rate(spk, y, population_code=True, num_classes=3)
    assert acc == naive_accuracy_rate(spk, y, num_classes=3)
    assert acc == sf.accuracy_rate(spk, y, population_code=True, num_classes=3)

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_accuracy_temporal_matches_snntorch_and_naive(sf, dtype):
    spk, y = _records('temporal', str(dtype))
    spk = spk.to(dtype)
    acc = SF.accuracy_temporal(spk, y)
    assert isinstance(acc, float) and acc == naive_accuracy_temporal(spk, y)
    assert acc == sf.accuracy_temporal(spk.float(), y)

def test_accuracy_without_snntorch_batch_one_and_ties():
    spk = torch.zeros(3, 1, 4); spk[:, 0, 1] = spk[:, 0, 2] = 1.        # a tie: the lower index
    assert SF.accuracy_rate(spk, torch.tensor([1])) == 1.0
    assert SF.accuracy_temporal(spk, torch.tensor([2])) == 0.0
    assert SF.accuracy_temporal(torch.zeros(3, 1, 4), torch.tensor([0])) == 1.0   # all silent: neuron 0

def test_snntorch_test_acc_cases():
    spk_out = torch.zeros((5, 2, 4)); spk_out[:, 0, 0] = 1; spk_out[:, 1, 3] = 1
    assert SF.acc.accuracy_rate(spk_out, torch.tensor([0, 3])) == 1.0
    spk_out = torch.zeros((5, 2, 4)); spk_out[:, 0, 0:2] = 1; spk_out[:, 1, 2:4] = 1
    assert SF.acc.accuracy_rate(spk_out, torch.tensor([0, 1]), population_code=True, num_classes=2) == 1.0
    close = torch.tensor([[[1.00000002, 1.00000005]]], dtype=torch.float64)   # float64 not downcast
    assert SF.accuracy_rate(close, torch.tensor([1]), population_code=True, num_classes=2) == 1.0
