"""Naive reference implementations for snnlit.tempotron, written from the equations with loops (test-only).

Used by tests/test_tempotron.py; the lead merges them into tests/oracles.py.
"""
import math
from decimal import Decimal, getcontext
import torch


def unit_scale(tau, tau_s):
    "1 / K(t_max) for tau > tau_s: the factor that makes the PSP kernel peak at 1."
    t_max = tau * tau_s * math.log(tau / tau_s) / (tau - tau_s)
    return 1.0 / (math.exp(-t_max / tau) - math.exp(-t_max / tau_s))


def peak_time_50_digits(tau, tau_s):
    "t_max = tau tau_s ln(tau/tau_s) / (tau - tau_s) in 50-digit decimal arithmetic, as a float."
    getcontext().prec = 50
    a, b = Decimal(tau), Decimal(tau_s)
    return float(a * b * (a / b).ln() / (a - b))


def exp_filter_recursion(x, taus):
    "y[c, n, t] = e^(-1/tau_c) y[c, n, t-1] + x[c, n, t], one step at a time."
    y = torch.zeros_like(x)
    for c, tau in enumerate(taus):
        state = torch.zeros_like(x[c, :, 0])
        for t in range(x.shape[-1]):
            state = state * math.exp(-1 / tau) + x[c, :, t]
            y[c, :, t] = state
    return y


def naive_grid(spikes, weight, T, tau, tau_s, v_threshold):
    "Spec: v_out[b, o, t] = sum_i W[o, i] sum_k v0 K(t - s_bik), K = 0 before the spike and for s < 0 / NaN."
    v0 = v_threshold * unit_scale(tau, tau_s)
    s = spikes.double().reshape(spikes.shape[0], spikes.shape[1], -1).tolist()
    W = weight.double().tolist()
    B, n_in, out = len(s), len(s[0]), len(W)
    v = torch.zeros(B, out, T, dtype=torch.float64)
    for b in range(B):
        v_in = [[0.0] * T for _ in range(n_in)]
        for i in range(n_in):
            for sk in s[b][i]:
                if not sk >= 0: continue                     # negative or NaN: no spike
                for t in range(T):
                    if t >= sk: v_in[i][t] += v0 * (math.exp(-(t - sk) / tau) - math.exp(-(t - sk) / tau_s))
        v_in = torch.tensor(v_in, dtype=torch.float64)
        v[b] = torch.tensor(W, dtype=torch.float64) @ v_in
    return v


def brute_force_events(m, times, idx, offsets, dt):
    "Dense grid: V as a sum of PSPs, spike at the first grid point >= threshold, input at/after it removed."
    grid = torch.arange(0, m.duration + dt / 2, dt, dtype=torch.float64)
    scale = unit_scale(m.tau, m.tau_s)                   # negative when tau < tau_s, like the model's
    B, O = offsets.numel() - 1, m.out_features
    res = torch.zeros(3, B, O, dtype=torch.float64)
    for b in range(B):
        t, i = times[offsets[b]:offsets[b + 1]].double(), idx[offsets[b]:offsets[b + 1]]
        inside = (t >= 0) & (t <= m.duration)
        t, i = t[inside], i[inside]
        for o in range(O):
            d = grid[:, None] - t
            psp = torch.where(d >= 0, scale * ((-d.clamp_min(0) / m.tau).exp() - (-d.clamp_min(0) / m.tau_s).exp()), 0.)
            psp = psp * m.weight.detach().double()[o, i]
            v = psp.sum(-1)
            above = (v >= m.v_threshold).nonzero()
            t_spike = grid[above[0, 0]].item() if len(above) else math.inf
            if len(above): v = (psp * (t < t_spike)).sum(-1)
            res[:, b, o] = torch.tensor([v.max().item(), grid[v.argmax()].item(), t_spike])
    return res


def event_voltage_at(m, times, idx, offsets, b, o, t, t_spike):
    "V of output o in sample b at time t, summing the PSPs of the events before `t_spike`."
    scale = unit_scale(m.tau, m.tau_s)
    v = 0.0
    for e in range(int(offsets[b]), int(offsets[b + 1])):
        s = times[e].item()
        if 0 <= s <= m.duration and s < t_spike and s <= t:
            v += m.weight[o, idx[e]].item() * scale * (math.exp(-(t - s) / m.tau) - math.exp(-(t - s) / m.tau_s))
    return v
