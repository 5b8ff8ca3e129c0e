"""Naive reference implementations (oracles) for the tests: loops over every index, written for clarity, one
home for each. Test modules and the bad-input case tables import them from here; no test module imports another."""
import copy, itertools, math
from decimal import Decimal, getcontext
import torch
from torch import nn
from snnlit import surrogate as sl
from snnlit.base import MemoryModule
from snnlit.neuron import IFNode, LIFNode

# ====================================================================================================
# snnlit.functional

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


# ====================================================================================================
# snnlit.losses

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


# ====================================================================================================
# snnlit.neuron

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


# ====================================================================================================
# snnlit.online

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


# ====================================================================================================
# snnlit.spiketime

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


# ====================================================================================================
# snnlit.surrogate

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


# ====================================================================================================
# snnlit.tempotron

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
