"""Naive reference implementations for snnlit.online's tests (merged into tests/oracles.py by the lead)."""
import copy
import torch
from snnlit.base import MemoryModule


def plain_fptt(model, optimizer, x_seq, target_seq, f_loss, alpha, w_bar):
    "The spec's three steps, written plainly: backward/deepcopy/loops, no shared code with snnlit.online."
    params = [p for grp in optimizer.param_groups for p in grp['params']]
    g_prev = [torch.zeros_like(p) for p in params]
    stateful = [m for m in model.modules() if isinstance(m, MemoryModule)]
    T = len(x_seq)
    for t in range(T):
        optimizer.zero_grad()
        loss = f_loss(model(x_seq[t]), target_seq[t])
        reg = 0.
        for i, p in enumerate(params):
            target = w_bar[i] + g_prev[i] / (2 * alpha)
            reg = reg + ((p - target) ** 2).sum() / p.numel()
        (loss + alpha / 2 * reg).backward()
        optimizer.step()
        for m in stateful: m.detach()
        kept = [copy.deepcopy(m._memories) for m in stateful]
        if t < T - 1:
            optimizer.zero_grad()
            f_loss(model(x_seq[t]), target_seq[t]).backward()
            for i, p in enumerate(params):
                g = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
                g_prev[i] = g
                w_bar[i] = ((w_bar[i] + p.detach()) / 2 - g / (2 * alpha))
        for m, k in zip(stateful, kept): m._memories = k
    optimizer.zero_grad()
