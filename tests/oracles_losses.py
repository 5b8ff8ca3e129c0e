"""Naive reference implementations of snnlit.losses, written from the formulas: Python loops over every index,
on Python floats, returning float64. Used by tests/test_losses.py and tests/bad_inputs/losses.py."""
import math, itertools
import torch

def naive_kernel(x, y, kernel, *args):
    out = []
    for xi in x.tolist():
        row = []
        for yj in y.tolist():
            dot = sum(a * b for a, b in zip(xi, yj))
            if kernel == 'linear': v = dot
            elif kernel == 'polynomial': v = dot ** args[0]
            elif kernel == 'sigmoid': v = 1 / (1 + math.exp(-args[0] * dot))
            else: v = math.exp(-sum((a - b) ** 2 for a, b in zip(xi, yj)) / (2 * args[0] ** 2))
            row.append(v)
        out.append(row)
    return torch.tensor(out, dtype=torch.float64)

def naive_spike_similar(spikes, labels, kernel, loss, *args):
    s = spikes.double().reshape(spikes.shape[0], -1)
    k = naive_kernel(s, s, kernel, *args).tolist()
    rows, lab = s.tolist(), labels.tolist()
    total = 0.
    for i in range(len(rows)):
        for j in range(len(rows)):
            p = k[i][j]
            if kernel == 'linear':
                p /= math.sqrt(sum(a * a for a in rows[i])) * math.sqrt(sum(a * a for a in rows[j])) + 1e-8
            p = min(p, 1.)
            if loss == 'bce': p = max(p, 0.)
            q = min(sum(a * b for a, b in zip(lab[i], lab[j])), 1)
            if loss == 'mse': total += (p - q) ** 2
            elif loss == 'l1': total += abs(p - q)
            else:
                log_p = max(math.log(p), -100) if p > 0 else -100
                log_1mp = max(math.log1p(-p), -100) if p < 1 else -100
                total -= q * log_p + (1 - q) * log_1mp
    return total / len(rows) ** 2

def naive_ce(row, y):
    m = max(row)
    return m + math.log(sum(math.exp(v - m) for v in row)) - row[y]

def naive_groups(row, C):
    G = len(row) // C
    return [sum(row[c * G:(c + 1) * G]) for c in range(C)]

def naive_tet(x_seq, target):
    "Mean over t, then over every (n, *) position, of the cross-entropy over the class dimension 2."
    x = x_seq.double()
    T, N, C = x.shape[:3]
    rest = list(itertools.product(*[range(d) for d in x.shape[3:]]))
    total, count = 0., 0
    for t in range(T):
        for n in range(N):
            for pos in rest:
                row = [x[(t, n, c) + pos].item() for c in range(C)]
                total += naive_ce(row, target[(n,) + pos].item()); count += 1
    return total / count

def naive_family(name, out, ys, reduction='mean', weight=None, C=None, **kw):
    T, B, N = out.shape
    o, ys_l = out.double().tolist(), ys.tolist()
    w = None if weight is None else weight.double().tolist()
    group = (lambda r: naive_groups(r, C)) if C else (lambda r: r)
    tv = kw.get('time_var_targets', False)
    per = []
    for b in range(B):
        if name == 'ce_rate_loss': per.append(sum(naive_ce(group(o[t][b]), ys_l[b]) for t in range(T)) / T)
        elif name == 'ce_count_loss': per.append(naive_ce(group([sum(o[t][b][n] for t in range(T)) for n in range(N)]), ys_l[b]))
        elif name == 'ce_max_membrane_loss': per.append(naive_ce([max(o[t][b][n] for t in range(T)) for n in range(N)], ys_l[b]))
        elif name == 'mse_count_loss':
            counts = group([sum(o[t][b][n] for t in range(T)) for n in range(N)])
            G = N // len(counts)
            on, off = int(T * kw.get('correct_rate', 1) * G), int(T * kw.get('incorrect_rate', 0) * G)
            per.append(sum((cnt - (on if c == ys_l[b] else off)) ** 2 for c, cnt in enumerate(counts)) / len(counts) / T)
        elif name == 'mse_membrane_loss':
            on, off = kw.get('on_target', 1), kw.get('off_target', 0)
            total = 0.
            for t in range(T):
                label = ys_l[t][b] if tv else ys_l[b]
                step = sum((o[t][b][n] - (on if n == label else off)) ** 2 for n in range(N)) / N
                total += step * (w[label] if tv and w else 1.)
            per.append(total / T)
    sample_w = [1.] * B if (w is None or tv) else [w[ys_l[b]] for b in range(B)]
    scaled = [wi * l for wi, l in zip(sample_w, per)]
    if reduction == 'none': return torch.tensor(scaled, dtype=torch.float64)
    if reduction == 'sum': return torch.tensor(sum(scaled), dtype=torch.float64)
    denominator = sum(sample_w) if name.startswith('ce') else B
    return torch.tensor(sum(scaled) / denominator, dtype=torch.float64)
