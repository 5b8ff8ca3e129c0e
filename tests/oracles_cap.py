"""Naive oracles for the Tempotron capacity work: the grid membrane with shunting after the output spike, and one
trial of Gütig & Sompolinsky's rule with their momentum heuristic, written with plain Python loops in float64."""
import math


def unit_scale(tau, tau_s):
    "V0 = 1 / K(t_peak): the factor that makes the PSP kernel peak at 1 (tau > tau_s)."
    t = tau * tau_s * math.log(tau / tau_s) / (tau - tau_s)
    return 1.0 / (math.exp(-t / tau) - math.exp(-t / tau_s))


def kernel(t, tau, tau_s):
    "V0 K(t): the unit-peak PSP, 0 for t <= 0."
    if t <= 0: return 0.0
    return unit_scale(tau, tau_s) * (math.exp(-t / tau) - math.exp(-t / tau_s))


def per_afferent(times):
    "Spike times as one list per afferent (a bare number is one spike)."
    return [a if isinstance(a, (list, tuple)) else [a] for a in times]


def membrane(times, w, T, tau, tau_s, before=math.inf):
    "[T] list: V(t) = sum_i w[i] sum_k V0 K(t - s_ik) at t = 0..T-1, only spikes s_ik < before (and >= 0)."
    times = per_afferent(times)
    return [sum(w[i] * kernel(t - s, tau, tau_s) for i, spikes in enumerate(times) for s in spikes
                if s == s and 0 <= s < before and s <= T - 1)
            for t in range(T)]


def shunted_membrane(times, w, T, tau, tau_s, v_threshold=1.0):
    "(V with shunting, the first step t* at or above threshold or None): input at or after t* removed."
    v = membrane(times, w, T, tau, tau_s)
    t_star = next((t for t in range(T) if v[t] >= v_threshold), None)
    if t_star is None: return v, None
    return membrane(times, w, T, tau, tau_s, before=t_star), t_star


def paper_rule_trial(times, w, label, prev, lr, mu, T, tau, tau_s, shunting=True, v_threshold=1.0):
    """One trial of the tempotron rule with the paper's momentum, for one neuron and one pattern.

    times: per afferent a list of spike times; w, prev: lists (weights, the change made at the last error trial).
    Returns (new w, new prev, error). On an error: dw_i = sign * lr * sum_{s < t_max, accepted} V0 K(t_max - s)
    + mu * prev_i, w += dw, prev = dw. A correct trial changes neither w nor prev."""
    if shunting: v, t_star = shunted_membrane(times, w, T, tau, tau_s, v_threshold)
    else: v, t_star = membrane(times, w, T, tau, tau_s), None
    v_max = max(v)
    t_max = v.index(v_max)                                     # the earliest step of the peak
    fired = v_max >= v_threshold
    if fired == bool(label): return list(w), list(prev), False
    sign = 1.0 if label else -1.0
    cut = math.inf if t_star is None else t_star
    dw = []
    for i, spikes in enumerate(per_afferent(times)):
        corr = sum(kernel(t_max - s, tau, tau_s) for s in spikes if s == s and 0 <= s < t_max and s < cut)
        dw.append(sign * lr * corr + mu * prev[i])
    return [a + b for a, b in zip(w, dw)], dw, True
