"""snnlit's surrogates and neurons against spikingjelly 2.0.0 and snntorch 1.0.0 (test-only oracles).

These tests skip when the reference libraries are not installed. They are not the only tests of these
functions: the notebooks check every formula against naive loops written from the equations.
"""
import pytest, torch
from snnlit import surrogate as sl, neuron as nl

SJ_NAMES = ['PiecewiseQuadratic', 'PiecewiseExp', 'Sigmoid', 'SoftSign', 'ATan', 'NonzeroSignLogAbs', 'Erf',
            'PiecewiseLeakyReLU']

@pytest.fixture(scope='module')
def sj():
    return pytest.importorskip('spikingjelly.activation_based.surrogate')

@pytest.mark.parametrize('name', SJ_NAMES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_surrogate_matches_spikingjelly(sj, name, dtype):
    torch.manual_seed(0)
    x = torch.randn(10_000, dtype=dtype) * 2
    params = (0.7, 0.03) if name == 'PiecewiseLeakyReLU' else (1.7,)
    ref_cls, our_cls = getattr(sj, name), getattr(sl, name)
    # primitives
    torch.testing.assert_close(our_cls.primitive_function(x, *params), ref_cls.primitive_function(x, *params))
    # spike forward and surrogate backward
    grads = []
    for fn in (our_cls.spiking_function, ref_cls.spiking_function):
        xg = x.clone().requires_grad_()
        y = fn(xg, *params)
        y.backward(torch.linspace(0.1, 1, len(x), dtype=dtype))
        grads.append((y.detach(), xg.grad))
    assert torch.equal(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1])

@pytest.fixture(scope='module')
def sjn():
    return pytest.importorskip('spikingjelly.activation_based.neuron')

CASES = [('IFNode', {}), ('LIFNode', dict(tau=2.0)), ('LIFNode', dict(tau=3.0, decay_input=False))]

@pytest.mark.parametrize('name,kw', CASES, ids=lambda c: str(c))
@pytest.mark.parametrize('v_reset', [0.0, -0.2, None])
@pytest.mark.parametrize('detach_reset', [False, True])
def test_neuron_matches_spikingjelly(sjn, name, kw, v_reset, detach_reset):
    torch.manual_seed(1)
    x_seq = (torch.rand(24, 4, 33, dtype=torch.float64) * 2.5 - 0.3)
    from spikingjelly.activation_based import surrogate as sjs
    ours = getattr(nl, name)(v_reset=v_reset, detach_reset=detach_reset, surrogate_function=sl.ATan(),
                             step_mode='m', store_v_seq=True, **kw)
    ref = getattr(sjn, name)(v_reset=v_reset, detach_reset=detach_reset, surrogate_function=sjs.ATan(),
                             step_mode='m', store_v_seq=True, **kw)
    outs = []
    for n in (ours, ref):
        xg = x_seq.clone().requires_grad_()
        s = n(xg)
        s.backward(torch.rand_like(s, generator=torch.Generator().manual_seed(2)))
        outs.append((s.detach(), n.v_seq.detach(), xg.grad))
    assert torch.equal(outs[0][0], outs[1][0])
    assert 0 < outs[0][0].sum() < outs[0][0].numel()
    torch.testing.assert_close(outs[0][1], outs[1][1])
    torch.testing.assert_close(outs[0][2], outs[1][2])

@pytest.mark.parametrize('name', ['IFNode', 'LIFNode'])
def test_single_step_matches_spikingjelly(sjn, name):
    torch.manual_seed(3)
    x_seq = torch.rand(10, 2, 5) * 2
    ours, ref = getattr(nl, name)(), getattr(sjn, name)()
    for x in x_seq:
        assert torch.equal(ours(x), ref(x))
        torch.testing.assert_close(ours.v, ref.v)

@pytest.fixture(scope='module')
def snn():
    return pytest.importorskip('snntorch.surrogate')

@pytest.mark.parametrize('ours,theirs', [
    (lambda: sl.fast_sigmoid(slope=25), lambda s: s.fast_sigmoid(slope=25)),
    (lambda: sl.straight_through_estimator(), lambda s: s.straight_through_estimator()),
    (lambda: sl.spike_rate_escape(beta=1.5, slope=20), lambda s: s.spike_rate_escape(beta=1.5, slope=20)),
], ids=['fast_sigmoid', 'straight_through_estimator', 'spike_rate_escape'])
def test_snntorch_surrogates_match_where_snntorch_is_right(snn, ours, theirs):
    torch.manual_seed(4)
    x = torch.randn(5000)
    x = x[x != 0]   # snntorch fires only for x > 0; snnlit (and spikingjelly) fire at x >= 0
    grads = []
    for fn in (ours(), theirs(snn)):
        xg = x.clone().requires_grad_()
        y = fn(xg)
        y.backward(torch.ones_like(y))
        grads.append((y.detach(), xg.grad))
    assert torch.equal(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1])

def test_snntorch_sigmoid_is_nan_where_snnlit_is_not(snn):
    "The defect the spec lists: snntorch's sigmoid gradient overflows for very negative inputs."
    x = torch.tensor([-5.0, -50.0], requires_grad=True)
    snn.sigmoid(slope=25)(x).sum().backward()
    assert torch.isnan(x.grad).any()
    x.grad = None
    sl.Sigmoid(alpha=25)(x).sum().backward()
    assert torch.isfinite(x.grad).all()

def test_spikingjelly_stays_nan_after_inf_where_snnlit_resets(sjn):
    "The documented difference: after a +inf input, spikingjelly's hard-reset neuron is NaN for good; snnlit's resets."
    x_seq = torch.tensor([[0.5], [float('inf')], [0.6], [1.0]])
    ref = sjn.IFNode(step_mode='m', store_v_seq=True)
    ref(x_seq)
    assert torch.isnan(ref.v_seq[1:]).all()
    ours = nl.IFNode(step_mode='m', store_v_seq=True)
    assert ours(x_seq).flatten().tolist() == [0., 1., 0., 1.]
    torch.testing.assert_close(ours.v_seq.flatten(), torch.tensor([0.5, 0., 0.6, 0.]))
