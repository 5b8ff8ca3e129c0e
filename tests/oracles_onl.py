"""Naive oracles for the authors' online-training variants (snnlit.online), written from the authors' released code.

- `authors_fptt`: Kag & Saligrama's FPTT (github.com/anilkagak2/FPTT, train.py: get_regularizer_named_params and
  post_optimizer_updates, with their defaults beta = 1/2, rho = 0, regulariser weight 1): the regulariser built into
  the graph as they write it, one backward, one optimizer step, then the dual and running-average updates.
- `authors_sltt_k`: Meng et al.'s SLTT-K loop (github.com/qymeng94/SLTT, train_SLTTK.py): the steps drawn by
  `torch.randperm(T)[:K]` are run with autograd and back-propagated, the others under `torch.no_grad()`, one
  optimizer step per batch.

Nothing here is shared with snnlit.online: plain loops over parameters and steps.
"""
import torch
from snnlit.base import MemoryModule


def _detach_state(net):
    for m in net.modules():
        if isinstance(m, MemoryModule): m.detach()


def authors_fptt(net, optimizer, x_seq, target_seq, f_loss, alpha, w_bar, lam):
    "One [T, B, ...] sequence of the authors' FPTT on `net` in place; `w_bar`, `lam` updated in place; losses."
    params = [p for group in optimizer.param_groups for p in group['params']]
    losses = []
    for t in range(len(x_seq)):
        optimizer.zero_grad()
        loss = f_loss(net(x_seq[t]), target_seq[t])
        losses.append(loss.detach().clone())
        reg = torch.zeros([], dtype=loss.dtype)
        for p, sm, lm in zip(params, w_bar, lam):       # get_regularizer_named_params, rho = 0, _lambda = 1
            reg = reg + (0. - 1.) * torch.sum(p * lm)
            reg = reg + 1.0 * 0.5 * alpha * torch.sum(torch.square(p - sm))
        (loss + reg).backward()
        optimizer.step()
        _detach_state(net)
        beta = 0.5
        for p, sm, lm in zip(params, w_bar, lam):       # post_optimizer_updates
            lm.data.add_(-alpha * (p.data - sm))
            sm.data.mul_(1.0 - beta)
            sm.data.add_(beta * p.data - (beta / alpha) * lm)
    return torch.stack(losses)


def authors_sltt_k(net, optimizer, x_bt, target_bt, f_loss, K, generator=None):
    "One [B, T, ...] batch of SLTT-K on `net` in place; returns (the drawn steps, the summed loss, outputs [B, T, ...])."
    T = x_bt.shape[1]
    train_step = torch.randperm(T, generator=generator)[:K]
    optimizer.zero_grad()
    total, outs = 0., []
    for t in range(T):
        if t in train_step:
            out = net(x_bt[:, t])
            loss = f_loss(out, target_bt[:, t])
            loss.backward()
        else:
            with torch.no_grad():
                out = net(x_bt[:, t])
                loss = f_loss(out, target_bt[:, t])
        _detach_state(net)
        total = total + loss.detach()
        outs.append(out.detach())
    optimizer.step()
    return sorted(train_step.tolist()), total, torch.stack(outs, 1)
