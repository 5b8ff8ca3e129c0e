"""The one-kernel surrogate backward against g'(x) written out per element in Python, independently of snnlit.

Runs where `triton` is installed: on a GPU when there is one, otherwise in Triton's interpreter (TRITON_INTERPRET=1).
"""
import math
import pytest, torch

triton = pytest.importorskip('triton')
from snnlit import surrogate as sg
from snnlit.surrogate_triton import triton_surrogate_backward

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

@pytest.fixture(autouse=True)
def interpreter(monkeypatch):
    if DEVICE == 'cpu': monkeypatch.setenv('TRITON_INTERPRET', '1')

def sigmoid(z): return 1 / (1 + math.exp(-z)) if z > -700 else 0.0

# (module, g'(x) for one Python float, from the formulas in the papers / reference docs)
CASES = [
    (sg.PiecewiseQuadratic(alpha=1.5), lambda x: max(0.0, 1.5 - 1.5 ** 2 * abs(x))),
    (sg.PiecewiseExp(alpha=2.0), lambda x: 1.0 * math.exp(-2.0 * abs(x))),
    (sg.Sigmoid(alpha=4.0), lambda x: 4.0 * sigmoid(4.0 * x) * (1 - sigmoid(4.0 * x))),
    (sg.SoftSign(alpha=2.0), lambda x: 2.0 / (2 * (1 + abs(2.0 * x)) ** 2)),
    (sg.ATan(alpha=2.0), lambda x: 1.0 / (1 + (math.pi / 2 * 2.0 * x) ** 2)),
    (sg.NonzeroSignLogAbs(alpha=1.0), lambda x: 1.0 / (1 + abs(x))),
    (sg.Erf(alpha=2.0), lambda x: 2.0 / math.sqrt(math.pi) * math.exp(-4.0 * x * x)),
    (sg.PiecewiseLeakyReLU(w=0.5, c=0.05), lambda x: 1.0 if abs(x) <= 0.5 else 0.05),
    (sg.FastSigmoid(slope=25.0), lambda x: 1 / (1 + 25.0 * abs(x)) ** 2),
    (sg.Triangular(threshold=0.8), lambda x: max(0.0, 1 / 0.8 - abs(x) / 0.64)),
    (sg.SpikeRateEscape(beta=1.0, slope=25.0), lambda x: 25.0 * math.exp(-abs(x - 1))),
]

@pytest.mark.parametrize('module,derivative', CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_kernel_matches_per_element_formula(module, derivative):
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(400, generator=g) * 1.5, torch.tensor([0., 0.5, -0.5, 1., -1., 1e4, -1e4])])
    grad_out = torch.rand(x.shape, generator=g)
    backward = type(module).spiking_function.__self__.surrogate_backward
    params = tuple(getattr(module, k).to(DEVICE) for k in module._param_names)
    x_d, g_d = x.to(DEVICE), grad_out.to(DEVICE)
    x_copy, g_copy = x_d.clone(), g_d.clone()
    got = triton_surrogate_backward(backward, g_d, x_d, params).cpu().double()
    expected = torch.tensor([go * derivative(v) for go, v in zip(grad_out.tolist(), x.tolist())], dtype=torch.float64)
    assert 0 < (expected != 0).sum() and torch.isfinite(got).all()
    torch.testing.assert_close(got, expected, rtol=2e-6, atol=1e-6 * expected.abs().max().item())
    assert torch.equal(x_d, x_copy) and torch.equal(g_d, g_copy)            # the caller's tensors are left alone
    # a scalar incoming gradient (as from `.sum()`) broadcasts
    got = triton_surrogate_backward(backward, torch.tensor(0.5, device=DEVICE), x_d, params).cpu().double()
    torch.testing.assert_close(got, torch.tensor([0.5 * derivative(v) for v in x.tolist()], dtype=torch.float64),
                               rtol=2e-6, atol=1e-6 * expected.abs().max().item())

def test_python_number_parameters_and_fallbacks():
    x = torch.randn(50, generator=torch.Generator().manual_seed(1)).to(DEVICE)
    got = triton_surrogate_backward(sg._atan_backward, torch.ones_like(x), x, (2.0,))
    torch.testing.assert_close(got.cpu().double(), torch.tensor([1 / (1 + (math.pi * v) ** 2) for v in x.tolist()], dtype=torch.float64),
                               rtol=2e-6, atol=1e-7)
    assert triton_surrogate_backward(sg._atan_backward, torch.ones_like(x).double(), x.double(), (2.0,)) is None
    assert triton_surrogate_backward(sg._straight_through_backward, torch.ones_like(x), x, ()) is None
