"""The one-kernel surrogate backward against g'(x) written out per element in Python (tests/oracles_surrogate.py),
and against the PyTorch formulas in float32, float16 and bfloat16 (moved here from nbs/00_surrogate_triton.ipynb).

Runs where `triton` is installed: on a GPU when there is one, otherwise in Triton's interpreter (TRITON_INTERPRET=1).
"""
import math
import pytest, torch

triton = pytest.importorskip('triton')
from snnlit import surrogate as sg
from snnlit.surrogate_triton import triton_surrogate_backward
from snnlit._triton import SURROGATE_CODES, surrogate_code
from oracles import naive_derivative

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

@pytest.fixture(autouse=True)
def interpreter(monkeypatch):
    if DEVICE == 'cpu': monkeypatch.setenv('TRITON_INTERPRET', '1')

# every surrogate with a kernel branch, with hyper-parameters other than the defaults where that is instructive
MODULES = [sg.PiecewiseQuadratic(alpha=1.5), sg.PiecewiseExp(alpha=2.0), sg.Sigmoid(alpha=4.0), sg.SoftSign(alpha=2.0),
           sg.ATan(alpha=2.0), sg.NonzeroSignLogAbs(alpha=1.0), sg.Erf(alpha=2.0), sg.PiecewiseLeakyReLU(w=0.5, c=0.05),
           sg.FastSigmoid(slope=25.0), sg.Triangular(threshold=0.8), sg.SpikeRateEscape(beta=1.0, slope=25.0)]
ids = [type(m).__name__ for m in MODULES]

def formula_and_params(module):
    params = tuple(torch.tensor(v, dtype=torch.float64) for v in module.hyper_parameters().values())
    return type(module).spiking_function.__self__.surrogate_backward, params   # as 0-d float64 tensors

def test_every_kernel_id_has_one_code():
    "One table: every surrogate with a formula in `surrogate_grad` has one code, 1..11; 0 means none."
    assert sorted(type(m).kernel_id for m in MODULES) == sorted(SURROGATE_CODES)
    assert sorted(SURROGATE_CODES.values()) == list(range(1, len(SURROGATE_CODES) + 1))
    for m in MODULES:
        assert surrogate_code(formula_and_params(m)[0]) == SURROGATE_CODES[type(m).kernel_id]
    assert surrogate_code(sg._straight_through_backward) == 0 and surrogate_code(lambda g, x: g) == 0

@pytest.mark.parametrize('module', MODULES, ids=ids)
def test_kernel_matches_per_element_formula(module):
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(400, generator=g) * 1.5, torch.tensor([0., 0.5, -0.5, 1., -1., 1e4, -1e4])])
    grad_out = torch.rand(x.shape, generator=g)
    backward, params = formula_and_params(module)
    params = tuple(p.to(DEVICE) for p in params)
    x_d, g_d = x.to(DEVICE), grad_out.to(DEVICE)
    x_copy, g_copy = x_d.clone(), g_d.clone()
    got = triton_surrogate_backward(backward, g_d, x_d, params).cpu().double()
    p = [v.item() for v in params]
    expected = naive_derivative(type(module).kernel_id, x, p, grad_out)
    assert 0 < (expected != 0).sum() and torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, rtol=2e-6, atol=1e-6 * expected.abs().max().item())
    assert torch.equal(x_d, x_copy) and torch.equal(g_d, g_copy)            # the caller's tensors are left alone
    # a scalar incoming gradient (as from `.sum()`) broadcasts
    got = triton_surrogate_backward(backward, torch.tensor(0.5, device=DEVICE), x_d, params).cpu().double()
    torch.testing.assert_close(got, 0.5 * naive_derivative(type(module).kernel_id, x, p),
                               rtol=2e-6, atol=1e-6 * expected.abs().max().item())

@pytest.mark.parametrize('module', MODULES, ids=ids)
def test_kernel_matches_pytorch_formula_in_every_dtype(module):
    "float32, float16 and bfloat16 (to one rounding of the result), window edges and far tails included."
    gen = torch.Generator().manual_seed(0)
    edges = torch.tensor([0., 0.5, -0.5, 1., -1., 2., -2., 1e4, -1e4, 40., -40.])
    backward, params = formula_and_params(module)
    params = tuple(p.to(DEVICE) for p in params)
    for dtype, eps in ((torch.float32, 1e-6), (torch.float16, 2e-3), (torch.bfloat16, 1.6e-2)):
        x = torch.cat([torch.randn(3000, generator=gen) * 2, edges]).to(dtype=dtype, device=DEVICE)
        full = torch.rand(x.shape, generator=gen).to(dtype=dtype, device=DEVICE)
        for g in (full, torch.tensor(0.7, dtype=dtype, device=DEVICE)):
            expected = backward(g.float(), x.float(), *params)            # the PyTorch formula, in float32
            got = triton_surrogate_backward(backward, g, x, params)
            assert (got.dtype, got.shape) == (dtype, x.shape) and torch.isfinite(got).all()
            torch.testing.assert_close(got.float(), expected, rtol=eps, atol=eps * expected.abs().max().item())

def test_python_number_parameters_and_fallbacks():
    x = torch.randn(50, generator=torch.Generator().manual_seed(1)).to(DEVICE)
    got = triton_surrogate_backward(sg._atan_backward, torch.ones_like(x), x, (2.0,))
    torch.testing.assert_close(got.cpu().double(), naive_derivative('atan', x.cpu(), [2.0]), rtol=2e-6, atol=1e-7)
    assert triton_surrogate_backward(sg._atan_backward, torch.ones_like(x).double(), x.double(), (2.0,)) is None
    assert triton_surrogate_backward(sg._straight_through_backward, torch.ones_like(x), x, ()) is None
    assert triton_surrogate_backward(sg._atan_backward, torch.ones(8, device=DEVICE), x, (2.0,)) is None  # broadcast
