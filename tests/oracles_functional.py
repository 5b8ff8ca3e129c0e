"""Naive reference implementations for snnlit.functional, written from the definitions with loops over every
index (used by tests/test_functional.py and tests/bad_inputs/functional.py; to be merged into tests/oracles.py)."""
import math
import torch
from torch import nn


def naive_delay(x, d):
    "y[t] = x[t - d], zeros before."
    y = torch.zeros_like(x)
    for t in range(d, x.shape[0]): y[t] = x[t - d]
    return y

def naive_first_spike(s):
    "True at the first nonzero entry of every row along the last (time) axis."
    flat = s.reshape(-1, s.shape[-1]).tolist()
    out = torch.zeros(len(flat), s.shape[-1], dtype=torch.bool)
    for i, row in enumerate(flat):
        for t, v in enumerate(row):
            if v != 0: out[i, t] = True; break
    return out.reshape(s.shape)

def naive_one_hot(labels, C, n):
    "Class k becomes n ones at positions k*n ... k*n + n - 1 of a C*n vector (default dtype)."
    flat = labels.reshape(-1).tolist()
    out = torch.zeros(len(flat), C * n)
    for i, k in enumerate(flat):
        for j in range(n): out[i, k * n + j] = 1.
    return out.reshape(*labels.shape, C * n)

def naive_lif(x_seq, tau=2., v_th=1.):
    "Multi-step LIF, hard reset to 0, decay_input: v += (x - v) / tau; spike where v >= v_th (float64 loop)."
    x = x_seq.double().reshape(x_seq.shape[0], -1)
    out, v = torch.zeros_like(x), torch.zeros(x.shape[1], dtype=torch.float64)
    for t in range(x.shape[0]):
        for i in range(x.shape[1]):
            v[i] = v[i] + (x[t, i] - v[i]) / tau
            if v[i] >= v_th: out[t, i], v[i] = 1., 0.
    return out.reshape(x_seq.shape)

def naive_margin(one_hot, t0, t1):
    "Threshold t1 where the one-hot label is 1, t0 elsewhere (float64)."
    out = torch.empty(one_hot.shape, dtype=torch.float64)
    for b in range(one_hot.shape[0]):
        for c in range(one_hot.shape[1]): out[b, c] = t1 if one_hot[b, c] == 1 else t0
    return out

def naive_fused(conv, bn):
    "Fused conv-BN weight and bias, channel by channel: W' = W gamma / sqrt(var + eps), b' = beta - mu gamma / sqrt(var + eps)."
    ones, zeros = torch.ones(bn.num_features, dtype=bn.running_var.dtype), torch.zeros(bn.num_features, dtype=bn.running_var.dtype)
    gamma = bn.weight if bn.weight is not None else ones
    beta = bn.bias if bn.bias is not None else zeros
    w, b = torch.empty_like(conv.weight), torch.empty(bn.num_features, dtype=conv.weight.dtype)
    for c in range(bn.num_features):
        s = gamma[c] / math.sqrt(bn.running_var[c] + bn.eps)
        w[c] = conv.weight[c] * s
        b[c] = beta[c] - bn.running_mean[c] * s
    return w.detach(), b.detach()


# ---- inputs that make the comparisons exact or meaningful
def on_grid(x, step=2.**-6):
    "`x` rounded to multiples of `step`: small multiples of a power of two add up exactly in any order."
    return torch.round(x / step) * step

def params_on_grid(net):
    "`net` with every parameter rounded onto the grid of `on_grid` (in place)."
    with torch.no_grad():
        for p in net.parameters(): p.copy_(on_grid(p))
    return net

def make_convbn(in_ch, out_ch, seed, dtype=torch.float64, affine=True, **kw):
    "A bias-free conv and an eval-mode batch norm with seeded random weights and running statistics."
    g = torch.Generator().manual_seed(seed)
    conv = nn.Conv2d(in_ch, out_ch, bias=False, dtype=dtype, **kw)
    bn = nn.BatchNorm2d(out_ch, affine=affine, dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        bn.running_mean.copy_(torch.randn(out_ch, generator=g))
        bn.running_var.copy_(torch.rand(out_ch, generator=g) * 2 + 0.1)
        if affine:
            bn.weight.copy_(torch.randn(out_ch, generator=g))
            bn.bias.copy_(torch.randn(out_ch, generator=g))
    return conv, bn.eval()
