"""Naive reference implementations (loops over every index) for snnlit.spiketime, shared by its tests."""
import math
import torch


def naive_times(rec, num_spikes=1):
    "[T, B, N] -> [F, B, N]: the f-th step with rec > 0, T - 1 where missing, by plain loops."
    T, B, N = rec.shape
    vals = rec.tolist()
    out = [[[float(T - 1)] * N for _ in range(B)] for _ in range(num_spikes)]
    for b in range(B):
        for n in range(N):
            found = 0
            for t in range(T):
                if vals[t][b][n] > 0 and found < num_spikes:
                    out[found][b][n] = float(t)
                    found += 1
    return torch.tensor(out, dtype=torch.float64)


def naive_grad(shape, times, grad_out):
    "-grad_out at every extracted step, summed where steps coincide."
    g = torch.zeros(shape, dtype=torch.float64)
    for f in range(times.shape[0]):
        for b in range(shape[1]):
            for n in range(shape[2]):
                g[int(times[f, b, n]), b, n] -= float(grad_out[f, b, n])
    return g


def naive_targets(labels, N, T, on=0, off=-1):
    "[B] labels -> [B, N] target times, `on` at the label and `off` elsewhere; negative ones count from the end."
    wrap = lambda t: t + T if t < 0 else t
    out = torch.zeros(len(labels), N, dtype=torch.float64)
    for b, lab in enumerate(labels.tolist()):
        for n in range(N):
            out[b, n] = wrap(on) if n == lab else wrap(off)
    return out


def naive_mse(rec, targets_bn, weight=None, labels=None, reduction='mean'):
    "mean/sum over (b, n) of ((tau - target) / T)^2 (times `weight[label_b]`)."
    T = rec.shape[0]
    tau = naive_times(rec.double())[0]
    sq = ((tau - targets_bn) / T) ** 2
    if weight is not None: sq = sq * weight.double()[labels].unsqueeze(-1)
    return sq if reduction == 'none' else sq.sum() if reduction == 'sum' else sq.mean()


def naive_ce_temporal(rec, labels, inverse='negate', weight=None):
    "Mean over samples of -log softmax(logits)[label], logits -tau or 1 / (tau + 1), by loops."
    tau = naive_times(rec.double())[0].tolist()
    total, wsum = 0., 0.
    for b, lab in enumerate(labels.tolist()):
        logits = [-t if inverse == 'negate' else 1 / (t + 1) for t in tau[b]]
        m = max(logits)
        w = 1. if weight is None else float(weight[lab])
        total += w * (m + math.log(sum(math.exp(v - m) for v in logits)) - logits[lab]); wsum += w
    return torch.tensor(total / wsum, dtype=torch.float64)
