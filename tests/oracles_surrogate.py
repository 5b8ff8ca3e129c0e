"""Naive per-element oracles for the surrogates: g'(x), the surrogate gradient, for one Python float at a time,
written from the papers' and reference libraries' formulas, independently of snnlit. Keyed by the surrogate
class's `kernel_id`. The one home of these formulas in tests/ (the lead merges this into tests/oracles.py)."""
import math
import torch

def _exp(z): return math.exp(z) if z < 700 else math.inf
def _sigmoid(z): return 1 / (1 + math.exp(-z)) if z > -700 else 0.0
def _sq(t): return t * t   # never raises OverflowError, unlike t ** 2

DERIVATIVES = {   # kernel_id: g'(v, *params)
    'piecewise_quadratic': lambda v, a: max(0.0, a - a * a * abs(v)),
    'piecewise_exp': lambda v, a: a / 2 * _exp(-a * abs(v)),
    'sigmoid': lambda v, a: a * _sigmoid(a * v) * (1 - _sigmoid(a * v)),
    'soft_sign': lambda v, a: a / (2 * _sq(1 + abs(a * v))),
    'atan': lambda v, a: a / (2 * (1 + _sq(math.pi / 2 * a * v))),
    'nonzero_sign_log_abs': lambda v, a: a / (1 + abs(a * v)),
    'erf': lambda v, a: a / math.sqrt(math.pi) * _exp(-_sq(a * v)),
    'piecewise_leaky_relu': lambda v, w, c: 1 / (2 * w) if abs(v) <= w else c,
    'fast_sigmoid': lambda v, k: 1 / _sq(1 + k * abs(v)),
    'triangular': lambda v, w: max(0.0, 1 - abs(v) / w) / w,
    'straight_through': lambda v: 1.0,
    'spike_rate_escape': lambda v, b, k: k * _exp(-b * abs(v - 1)),
}

def naive_derivative(kernel_id:str, x:torch.Tensor, params, grad_out:torch.Tensor=None) -> torch.Tensor:
    "g'(x) of the surrogate `kernel_id`, element by element in float64, times `grad_out` where given."
    d = DERIVATIVES[kernel_id]
    out = torch.tensor([d(v, *params) for v in x.double().reshape(-1).tolist()], dtype=torch.float64).reshape(x.shape)
    return out if grad_out is None else out * grad_out.double()
