"""Naive oracles for snnlit.compat.snntorch (tests/test_compat_snntorch.py, tests/bad_inputs/compat_snntorch_*.py):
plain loops over every index, in Python floats. The lead merges them into tests/oracles.py."""
import math
import torch

def naive_accuracy_rate(spk_out, targets, num_classes=None):
    "Fraction of samples whose most active output (group of N / num_classes) is their label; ties: lowest."
    T, B, N = spk_out.shape
    C = num_classes or N
    G = N // C
    s, y = spk_out.double().tolist(), targets.tolist()
    correct = 0
    for b in range(B):
        scores = [sum(s[t][b][n] for t in range(T) for n in range(c * G, (c + 1) * G)) for c in range(C)]
        best = 0
        for c in range(1, C):
            if scores[c] > scores[best]: best = c
        correct += best == y[b]
    return correct / B

def naive_accuracy_temporal(spk_out, targets):
    "Fraction of samples whose earliest-firing output (a silent one at T - 1) is their label; ties: lowest."
    T, B, N = spk_out.shape
    s, y = spk_out.tolist(), targets.tolist()
    correct = 0
    for b in range(B):
        first = []
        for n in range(N):
            t_first = T - 1
            for t in range(T):
                if s[t][b][n] > 0: t_first = t; break
            first.append(t_first)
        best = 0
        for n in range(1, N):
            if first[n] < first[best]: best = n
        correct += best == y[b]
    return correct / B

def naive_triangle_grad(x, w):
    "The triangle surrogate gradient of half-width w and area 1, elementwise."
    return torch.tensor([max(0.0, (w - abs(v)) / (w * w)) for v in x.double().flatten().tolist()],
                        dtype=torch.float64).view(x.shape)

def naive_leaky_operator_grad(x, slope):
    "1 where x >= 0, slope below."
    return torch.tensor([1.0 if v >= 0 else float(slope) for v in x.double().flatten().tolist()],
                        dtype=torch.float64).view(x.shape)

def naive_atan_grad(x, alpha):
    return torch.tensor([alpha / 2 / (1 + (math.pi / 2 * alpha * v) ** 2) for v in x.double().flatten().tolist()],
                        dtype=torch.float64).view(x.shape)
