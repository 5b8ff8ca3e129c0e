"""What the neuron backend tests share: the neuron settings they sweep, a naive per-element loop written from the
equations (charge, fire, reset, and the BPTT recursion by hand, one scalar at a time, independently of every backend),
and a runner that gives a backend an initial membrane with a graph and gradients at all three outputs.

Imported by tests/test_neuron_fused.py and tests/test_neuron_triton.py (no test module imports another).
"""
import math
import torch
from snnlit import surrogate as sl
from snnlit.neuron import IFNode, LIFNode

NEURONS = [(IFNode, {}), (LIFNode, dict(tau=2.0)), (LIFNode, dict(tau=3.0, decay_input=False))]
RESETS = [0.0, -0.2, 0.3, None]

def charge_coeffs(cls, kw):
    "k_v, k_x for H = k_v V + k_x X + c (c unused by the gradient)."
    if cls is IFNode: return 1.0, 1.0
    tau = kw['tau']
    return 1 - 1 / tau, (1 / tau if kw.get('decay_input', True) else 1.0)

def naive(cls, kw, x_seq, v0, v_reset, detach_reset, gs, gvs, gvf, vth=1.0, alpha=2.0):
    "Scalar forward and hand-derived backward for the ATan surrogate; returns spikes, v_seq, grad_x, grad_v0."
    T = x_seq.shape[0]
    X, V0 = x_seq.reshape(T, -1).tolist(), v0.reshape(-1).tolist()
    GS, GVS, GVF = gs.reshape(T, -1).tolist(), gvs.reshape(T, -1).tolist(), gvf.reshape(-1).tolist()
    n = len(V0)
    k_v, k_x = charge_coeffs(cls, kw)
    rest = 0.0 if v_reset is None else v_reset
    S = [[0.0] * n for _ in range(T)]; VS = [[0.0] * n for _ in range(T)]
    GX = [[0.0] * n for _ in range(T)]; GV0 = [0.0] * n
    dg = lambda u: alpha / 2 / (1 + (math.pi / 2 * alpha * u) ** 2)
    for i in range(n):
        v, H = V0[i], []
        for t in range(T):
            x = X[t][i]
            if cls is IFNode: h = v + x
            elif kw.get('decay_input', True): h = v + (x - (v - rest)) / kw['tau']
            else: h = v - (v - rest) / kw['tau'] + x
            s = 1.0 if h - vth >= 0 else 0.0
            v = (h - s * vth) if v_reset is None else (h * (1 - s) + v_reset * s)
            S[t][i], VS[t][i] = s, v
            H.append(h)
        gv = GVF[i]
        for t in reversed(range(T)):
            gv += GVS[t][i]
            sg = dg(H[t] - vth)
            if v_reset is None: d = 1 - (0 if detach_reset else vth * sg)
            else: d = 1 - S[t][i] + (0 if detach_reset else (v_reset - H[t]) * sg)
            gh = sg * GS[t][i] + d * gv
            GX[t][i] = k_x * gh
            gv = k_v * gh
        GV0[i] = gv
    as_t = lambda a, shape: torch.tensor(a, dtype=torch.float64).reshape(shape)
    return (as_t(S, x_seq.shape), as_t(VS, x_seq.shape), as_t(GX, x_seq.shape), as_t(GV0, v0.shape))

def run(cls, kw, backend, x_seq, v0, grads, **node_kw):
    n = cls(step_mode='m', store_v_seq=True, backend=backend, **kw, **node_kw)
    xg, v0g = x_seq.clone().requires_grad_(), v0.clone().requires_grad_()
    n.v = v0g * 1
    s = n(xg)
    torch.autograd.backward([s, n.v_seq, n.v], list(grads))
    return s.detach(), n.v_seq.detach(), n.v.detach(), xg.grad, v0g.grad

SURROGATES = [sl.PiecewiseQuadratic(), sl.PiecewiseExp(), sl.Sigmoid(), sl.SoftSign(), sl.ATan(), sl.NonzeroSignLogAbs(),
              sl.Erf(), sl.PiecewiseLeakyReLU(), sl.FastSigmoid(), sl.Triangular(), sl.StraightThroughEstimator(),
              sl.SpikeRateEscape()]
