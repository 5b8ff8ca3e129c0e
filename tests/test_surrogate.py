"""The surrogate sweeps: every surrogate against its primitive and the per-element oracle, gradcheck, dtypes and
sizes, extreme inputs, no input changed in place, and torch.func (moved here from nbs/00_surrogate.ipynb)."""
import math
import pytest, torch
from snnlit import surrogate as S
from oracles import naive_derivative

CLASSES = [S.PiecewiseQuadratic, S.PiecewiseExp, S.Sigmoid, S.SoftSign, S.ATan, S.NonzeroSignLogAbs, S.Erf,
           S.PiecewiseLeakyReLU, S.FastSigmoid, S.Triangular, S.StraightThroughEstimator, S.SpikeRateEscape]
ids = lambda c: c.__name__
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

def params_of(sg): return list(sg.hyper_parameters().values())

def test_kernel_ids_are_distinct_strings():
    kids = [c.kernel_id for c in CLASSES]
    assert all(isinstance(k, str) for k in kids) and len(set(kids)) == len(kids)
    assert S.MultiArgsSurrogateFunctionBase.kernel_id is None

def test_docstrings_name_no_private_function():
    for c in CLASSES:
        fn = c.spiking_function.__self__
        for doc in (c.__doc__, fn.__doc__, S.__dict__[fn.__name__.removesuffix('_unchecked')].__doc__):
            assert doc and '_backward' not in doc and '_primitive' not in doc, (c, doc)

@pytest.mark.parametrize('cls', CLASSES, ids=ids)
def test_backward_is_derivative_of_primitive(cls):
    sg = cls()
    S.check_manual_grad(sg.primitive_function, sg.spiking_function, *params_of(sg), eps=1e-5)
    S.check_manual_grad(sg.primitive_function, sg.spiking_function, *params_of(sg), eps=1e-12, dtype=torch.float64)

@pytest.mark.parametrize('cls', CLASSES, ids=ids)
def test_spike_function_against_oracle(cls):
    torch.manual_seed(0)
    x = torch.randn(2000, dtype=torch.float64) * 3
    x[:3] = torch.tensor([0.0, 1.0, -1.0])   # window edges and the threshold itself
    n = len(cls()._param_names)
    p = [1.7, 0.05] if cls is S.PiecewiseLeakyReLU else [0.7, 13.0][:n]
    xg = x.clone().requires_grad_()
    out = cls.spiking_function(xg, *p)
    assert torch.equal(out.detach(), S.heaviside(x))
    grad_out = torch.rand_like(x)
    out.backward(grad_out)
    torch.testing.assert_close(xg.grad, naive_derivative(cls.kernel_id, x, p, grad_out), rtol=1e-12, atol=1e-12)

@pytest.mark.parametrize('cls', CLASSES, ids=ids)
def test_derivative_method_against_oracle(cls):
    sg = cls()
    x = torch.randn(300, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 2
    before = x.clone()
    torch.testing.assert_close(sg.derivative(x), naive_derivative(cls.kernel_id, x, params_of(sg)),
                               rtol=1e-12, atol=1e-12)
    assert torch.equal(x, before)
    for dtype in FLOATS: assert sg.derivative(x.to(dtype)).dtype == dtype

def test_derivative_without_formula():
    class Mine(S.MultiArgsSurrogateFunctionBase):
        spiking_function = staticmethod(lambda x: S.heaviside(x))
    with pytest.raises(NotImplementedError, match='Mine has no backward formula'): Mine().derivative(torch.ones(2))
    with pytest.raises(TypeError, match='`x` must be a floating-point tensor'): S.ATan().derivative(torch.arange(2))

@pytest.mark.parametrize('cls', CLASSES, ids=ids)
def test_primitive_gradcheck(cls):
    sg = cls()
    x = (torch.rand(64, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 4 - 2).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: sg.primitive_function(t, *params_of(sg)), (x,))

@pytest.mark.parametrize('cls', CLASSES, ids=ids)
def test_dtypes_and_sizes(cls):
    sg = cls().train()
    for dtype in FLOATS:
        for shape in [(1,), (0,), (2, 3, 5)]:
            x = torch.randn(shape, dtype=dtype, requires_grad=True)
            y = sg(x)
            assert y.dtype == dtype and torch.equal(y.detach(), S.heaviside(x.detach()))
            y.sum().backward()
            assert x.grad.dtype == dtype and x.grad.shape == shape and torch.isfinite(x.grad).all()

@pytest.mark.parametrize('cls', CLASSES, ids=ids)
def test_no_input_changed_and_huge_negative_finite(cls):
    x = torch.tensor([-1e4, -50.0, 0.0, 3.0], requires_grad=True)
    before = x.detach().clone()
    cls()(x).sum().backward()
    assert torch.equal(x.detach(), before) and torch.isfinite(x.grad).all()

EXTREME_PRIMITIVES = [S.PiecewiseQuadratic(spiking=False), S.SoftSign(spiking=False), S.SpikeRateEscape(spiking=False),
                      S.FastSigmoid(spiking=False), S.PiecewiseLeakyReLU(c=0.0, spiking=False), S.ATan(),
                      S.SpikeRateEscape()]

@pytest.mark.parametrize('sg', EXTREME_PRIMITIVES, ids=repr)
def test_extreme_inputs_give_finite_limits(sg):
    x = torch.tensor([-math.inf, -1e30, -1.0, 0.0, 0.5, 95.0, 1e30, math.inf], requires_grad=True)
    y = sg(x)
    assert not y.isnan().any()
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.equal(x.grad[[0, -1]], torch.zeros(2))   # the limit at ±inf

def test_extreme_primitive_values_and_dtypes():
    x = torch.tensor([-math.inf, -1e30, 1e30, math.inf])
    torch.testing.assert_close(S.FastSigmoid(spiking=False)(x), torch.tensor([-1., -1., 1., 1.]) / 25)
    for dtype in FLOATS:
        assert S.PiecewiseLeakyReLU(spiking=False)(torch.randn(5, dtype=dtype)).dtype == dtype
        assert S.ATan(spiking=False)(torch.tensor(0.3, dtype=dtype)).dtype == dtype   # 0-d x: float hyper-parameters do not promote
    got = S.NonzeroSignLogAbs(alpha=2.0, spiking=False)(torch.tensor([6e4], dtype=torch.float16)).float()
    torch.testing.assert_close(got, torch.tensor([math.log1p(1.2e5)]), rtol=1e-2, atol=1e-2)   # 2·6e4 overflows fp16

def test_torch_func():
    x = torch.randn(7, dtype=torch.float64)
    d = lambda kid, p, t=x: naive_derivative(kid, t, p)
    torch.testing.assert_close(torch.func.grad(lambda t: S.atan.apply(t, 2.0).sum())(x), d('atan', [2.0]))
    torch.testing.assert_close(torch.func.vmap(torch.func.grad(lambda t: S.erf.apply(t, 2.0)))(x), d('erf', [2.0]))
    # jacrev batches the cotangent, which the in-place `.mul_(grad_output)` could not absorb without functionalize
    torch.testing.assert_close(torch.func.jacrev(lambda t: S.erf.apply(t, 2.0))(x), torch.diag(d('erf', [2.0])))
    alphas = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)   # a batch of hyper-parameters in one vmap
    got = torch.func.vmap(lambda a: torch.func.grad(lambda t: S.piecewise_quadratic.apply(t, a).sum())(x))(alphas)
    torch.testing.assert_close(got, torch.stack([d('piecewise_quadratic', [a.item()]) for a in alphas]))

def test_spike_function_checks_and_doc():
    rect = S.spike_function('rect', lambda g, x, w: g * (x.abs() < w / 2) / w, params={'w': dict(gt=0)})
    with pytest.raises(TypeError, match=r'`rect.apply\(x, ...\)` takes 1 hyper-parameter after `x` \(`w`\), got 0'):
        rect.apply(torch.tensor([0.2]))
    with pytest.raises(TypeError, match='`params` must be None or a dict'):
        S.spike_function('rect', rect.surrogate_backward, params=['w'])
    assert S.atan.__doc__.startswith('ATan as a spike function')
