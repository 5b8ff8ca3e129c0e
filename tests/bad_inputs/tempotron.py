"""Bad-input cases for snnlit.tempotron: PSP kernel and peak time, the exponential filter, the grid and event
Tempotrons, and the tempotron rule. Right answers are checked against naive formulas written here (Python loops
in float64); wrong inputs must raise a named error before anything changes."""
import math
from decimal import Decimal, getcontext
import torch
import torch.nn.functional as F
from badinputs import err, terr, ok, close, all_of, finite, dtype_is, zero_d
from helpers import generator
from snnlit.tempotron import (psp_kernel, psp_peak_time, exp_filter, tempotron_voltage, Tempotron, EventOutput,
                              EventTempotron, tempotron_rule_step)

g = generator('tempotron')
TAU, TAU_S = 15.0, 3.75
nan, inf = math.nan, math.inf
CASES = []

# ------------------------------------------------------------------------------------------------ naive formulas
def naive_kernel(t, tau=TAU, tau_s=TAU_S):
    "e^{-t/tau} - e^{-t/tau_s} for t >= 0, else 0 (NaN: 0), element by element in float64."
    return torch.tensor([math.exp(-x / tau) - math.exp(-x / tau_s) if x >= 0 and x != inf else 0.0
                         for x in t.double().flatten().tolist()], dtype=torch.float64).reshape(t.shape)

def peak_time_50_digits(tau, tau_s):
    getcontext().prec = 50
    a, b = Decimal(tau), Decimal(tau_s)
    return float(a * b * (a / b).ln() / (a - b))

def unit_scale(tau=TAU, tau_s=TAU_S):
    t = peak_time_50_digits(tau, tau_s)
    return 1.0 / (math.exp(-t / tau) - math.exp(-t / tau_s))

def naive_filter(x, taus):
    "The recursion y[t] = e^{-1/tau} y[t-1] + x[t], in float64, one step at a time (IEEE: inf stays inf, inf - inf = NaN)."
    x = x.double()
    y = torch.zeros_like(x)
    for c, tau in enumerate(taus):
        d = math.exp(-1 / float(tau))
        for n in range(x.shape[1]):
            state = 0.0
            for t in range(x.shape[2]):
                state = state * d + x[c, n, t].item()
                y[c, n, t] = state
    return y

def naive_voltage(spikes, weight, T, tau=TAU, tau_s=TAU_S, v0=1.0):
    "v[b, o, t] = sum_i W[o, i] sum_k v0 K(t - s_bik); spikes < 0, NaN or > T - 1 count as none."
    s = spikes.double().reshape(spikes.shape[0], spikes.shape[1], -1)
    W = weight.double()
    v = torch.zeros(s.shape[0], W.shape[0], T, dtype=torch.float64)
    for b in range(s.shape[0]):
        for i in range(s.shape[1]):
            for sk in s[b, i].tolist():
                if not (0 <= sk <= T - 1): continue
                k = torch.tensor([v0 * (math.exp(-(t - sk) / tau) - math.exp(-(t - sk) / tau_s)) if t >= sk else 0.0
                                  for t in range(T)], dtype=torch.float64)
                v[b] += W[:, i, None] * k
    return v

def like(expected, dtype=None, **kw):
    "Result in `dtype` (default: expected's) and close to `expected` (float64) at that dtype's tolerance."
    def check(result):
        assert dtype is None or result.dtype == dtype, f'dtype {result.dtype}, expected {dtype}'
        exp = expected() if callable(expected) else expected
        torch.testing.assert_close(result.double(), exp.double(), equal_nan=True,
                                   **(kw or {torch.float16: dict(rtol=2e-3, atol=2e-3), torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
                                             torch.float32: dict(rtol=1e-5, atol=1e-6)}.get(result.dtype, {})))
    return check

def that(predicate, what):
    "A check that `predicate(result)` holds."
    def check(result): assert predicate(result), f'{what}: got {result}'
    return check

def shape_is(*shape):
    def check(result): assert tuple(result.shape) == shape, f'shape {tuple(result.shape)}, expected {shape}'
    return check

def hyper_errors(target, fn, name, values=(0.0, -1.0, nan, inf), expected='a finite real number > 0'):
    "One ValueError case per bad value, as a Python number and as a 0-d tensor; TypeErrors for a str, a bool, None."
    cases = []
    for v in values:
        cases.append(err(target, f'{name}={v}', lambda v=v: fn(v), match=f'`{name}` must be {expected}'))
        cases.append(err(target, f'{name}=0-d tensor {v}', lambda v=v: fn(zero_d(v)), match=f'`{name}` must be {expected}'))
    for v in ('15', True, torch.ones(2)):
        cases.append(terr(target, f'{name}={v!r} (wrong type)', lambda v=v: fn(v), match=f'`{name}` must be'))
    return cases

# ------------------------------------------------------------------------------------------------ psp_kernel
P = 'tempotron.psp_kernel'
t32 = torch.linspace(-800, 120, 93)
t_int = torch.arange(-5, 60)
CASES += [
    ok(P, 'float32, far negative times (no NaN, unlike the reference)', psp_kernel, t32, TAU, TAU_S, check=like(naive_kernel(t32), torch.float32)),
    ok(P, 'float64', psp_kernel, t32.double(), TAU, TAU_S, check=like(naive_kernel(t32), torch.float64, rtol=1e-12, atol=1e-14)),
    ok(P, 'int64 times give the default float dtype', psp_kernel, t_int, TAU, TAU_S, check=like(naive_kernel(t_int), torch.float32)),
    ok(P, 'float16', psp_kernel, torch.arange(-3., 60.).half(), TAU, TAU_S,
       check=like(naive_kernel(torch.arange(-3., 60.)), torch.float16)),
    ok(P, 'bfloat16', psp_kernel, torch.arange(-3., 60.).bfloat16(), TAU, TAU_S,
       check=like(naive_kernel(torch.arange(-3., 60.)), torch.bfloat16)),
    ok(P, 'NaN and ±inf times give 0', psp_kernel, torch.tensor([nan, inf, -inf, 0.0]), TAU, TAU_S,
       check=close(torch.zeros(4))),
    ok(P, 'empty t', psp_kernel, torch.zeros(0, 3), TAU, TAU_S, check=shape_is(0, 3)),
    ok(P, '0-d t', psp_kernel, torch.tensor(5.0), TAU, TAU_S, check=like(naive_kernel(torch.tensor(5.0)), torch.float32)),
    ok(P, 'tau, tau_s as 0-d tensors', psp_kernel, t32.double(), zero_d(TAU, torch.float64), zero_d(TAU_S, torch.float64),
       check=like(naive_kernel(t32), torch.float64, rtol=1e-12, atol=1e-14)),
    ok(P, 'tau == tau_s: identically 0', psp_kernel, t32, 5.0, 5.0, check=close(torch.zeros(93))),
    ok(P, 'tau_s > tau: negative kernel', psp_kernel, t32.double(), TAU_S, TAU, check=like(-naive_kernel(t32), torch.float64)),
    terr(P, 't a list', psp_kernel, [0.0, 1.0], TAU, TAU_S, match='`t` must be a real'),
    terr(P, 't bool', psp_kernel, torch.ones(3, dtype=torch.bool), TAU, TAU_S, match='`t` must be a real'),
]
CASES += hyper_errors(P, lambda v: psp_kernel(t32, v, TAU_S), 'tau')
CASES += hyper_errors(P, lambda v: psp_kernel(t32, TAU, v), 'tau_s', values=(0.0, -3.75, nan, -inf))

# ------------------------------------------------------------------------------------------------ psp_peak_time
Q = 'tempotron.psp_peak_time'
def peak_close(expected):
    def check(result):
        assert isinstance(result, float), type(result)
        assert abs(result - expected) <= 4e-16 * expected, (result, expected)
    return check
for tau, tau_s in [(15.0, 3.75), (3.75, 15.0), (15.0, 15.0 * (1 - 1e-15)), (15.0, 15.0 * (1 + 1e-9)), (15.0, 15.0 * (1 - 1e-6)),
                   (15.0, 14.0), (2.0, 1.0), (15.0, 1e-6), (1e-300, 1e-299)]:
    CASES.append(ok(Q, f'tau={tau!r}, tau_s={tau_s!r} against 50-digit arithmetic', psp_peak_time, tau, tau_s,
                    check=peak_close(peak_time_50_digits(tau, tau_s))))
CASES += [
    ok(Q, 'tau == tau_s: the limit tau', psp_peak_time, 15.0, 15.0, check=peak_close(15.0)),
    ok(Q, 'tau == tau_s as 0-d tensors', psp_peak_time, zero_d(4.0), zero_d(4.0), check=peak_close(4.0)),
    ok(Q, '0-d float64 tensors', psp_peak_time, zero_d(TAU, torch.float64), zero_d(TAU_S, torch.float64),
       check=peak_close(peak_time_50_digits(TAU, TAU_S))),
]
CASES += hyper_errors(Q, lambda v: psp_peak_time(v, TAU_S), 'tau')
CASES += hyper_errors(Q, lambda v: psp_peak_time(TAU, v), 'tau_s', values=(0.0, -1.0, nan, inf))

# ------------------------------------------------------------------------------------------------ exp_filter
X = 'tempotron.exp_filter'
x = torch.randn(2, 3, 150, generator=g, dtype=torch.float64)
x_ref = naive_filter(x, (TAU, TAU_S))
def with_bad(x, *where_what):
    x = x.clone()
    for (c, n, t), v in where_what: x[c, n, t] = v
    return x
x_nan = with_bad(x, ((0, 1, 120), nan))
x_inf = with_bad(x, ((1, 2, 70), inf), ((0, 0, 3), -inf))
x_both = with_bad(x, ((1, 0, 5), -inf), ((1, 0, 90), inf))
x_big = with_bad(x, ((0, 0, 140), 3e38), ((0, 0, 141), 3e38)).float()       # 3e38 e^{-1/15} + 3e38 > float32 max
CASES += [
    ok(X, 'float64, 3 blocks, ragged last', exp_filter, x, (TAU, TAU_S), check=like(x_ref, torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'float32', exp_filter, x.float(), (TAU, TAU_S), check=like(x_ref, torch.float32)),
    ok(X, 'float16: computed in float32, dtype kept', exp_filter, x.half(), (TAU, TAU_S),
       check=like(lambda: naive_filter(x.half(), (TAU, TAU_S)), torch.float16, rtol=5e-3, atol=1e-2)),
    ok(X, 'bfloat16: computed in float32, dtype kept', exp_filter, x.bfloat16(), (TAU, TAU_S),
       check=like(lambda: naive_filter(x.bfloat16(), (TAU, TAU_S)), torch.bfloat16, rtol=2e-2, atol=5e-2)),
    ok(X, 'T=1', exp_filter, x[..., :1], (TAU, TAU_S), check=close(x[..., :1])),
    ok(X, 'T=block', exp_filter, x[..., :64], (TAU, TAU_S), check=like(x_ref[..., :64], torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'T=block+1', exp_filter, x[..., :65], (TAU, TAU_S), check=like(x_ref[..., :65], torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'block=1', exp_filter, x[..., :20], (TAU, TAU_S), block=1, check=like(x_ref[..., :20], torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'T=0: empty', exp_filter, x[..., :0], (TAU, TAU_S), check=shape_is(2, 3, 0)),
    ok(X, 'N=0: empty', exp_filter, x[:, :0], (TAU, TAU_S), check=shape_is(2, 0, 150)),
    ok(X, 'C=0 with taus=()', exp_filter, x[:0], (), check=shape_is(0, 3, 150)),
    ok(X, 'N=1, C=1', exp_filter, x[:1, :1], [TAU], check=like(x_ref[:1, :1], torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'taus as 0-d tensors', exp_filter, x, (zero_d(TAU), zero_d(TAU_S, torch.float64)),
       check=like(x_ref, torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'tiny tau: no decay beyond one step', exp_filter, x[:1], (1e-310,), check=close(x[:1])),
    ok(X, 'a late NaN leaves the earlier steps finite (causal)', exp_filter, x_nan, (TAU, TAU_S),
       check=like(lambda: naive_filter(x_nan, (TAU, TAU_S)), torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, '+inf and -inf: ±inf from there on, earlier steps finite', exp_filter, x_inf, (TAU, TAU_S),
       check=like(lambda: naive_filter(x_inf, (TAU, TAU_S)), torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, '-inf then +inf: NaN after both', exp_filter, x_both, (TAU, TAU_S),
       check=like(lambda: naive_filter(x_both, (TAU, TAU_S)), torch.float64, rtol=1e-12, atol=1e-12)),
    ok(X, 'a late NaN in float32', exp_filter, x_nan.float(), (TAU, TAU_S),
       check=like(lambda: naive_filter(x_nan, (TAU, TAU_S)), torch.float32)),
    ok(X, 'a float32 state that overflows late: earlier steps (and blocks) stay finite', exp_filter, x_big, (TAU, TAU_S),
       check=all_of(that(lambda y: y.dtype == torch.float32 and y[0, 0, 141].item() == inf, 'inf where the state overflows'),
                    lambda y: torch.testing.assert_close(y[..., :140].double(), x_ref[..., :140], rtol=1e-5, atol=1e-5))),
    terr(X, 'int64 drive (would be returned unfiltered)', exp_filter, torch.ones(1, 2, 10, dtype=torch.long), (TAU,),
         match='`drive` must be a floating-point tensor [C, N, T]'),
    terr(X, 'bool drive', exp_filter, torch.ones(1, 2, 10, dtype=torch.bool), (TAU,), match='`drive` must be a floating-point tensor'),
    terr(X, 'drive a list', exp_filter, [[[1.0]]], (TAU,), match='`drive` must be a floating-point tensor'),
    err(X, 'drive 2-D', exp_filter, x[0], (TAU,), match='`drive` must be a floating-point tensor [C, N, T] with 3 dimensions'),
    err(X, 'drive 4-D', exp_filter, x[None], (TAU,), match='with 3 dimensions'),
    err(X, 'fewer taus than channels', exp_filter, x, (TAU,), match='`taus` must be 2 time constants'),
    err(X, 'more taus than channels', exp_filter, x, (TAU, TAU_S, 1.0), match='`taus` must be 2 time constants'),
    terr(X, 'taus a number', exp_filter, x[:1], TAU, match='`taus` must be a tuple or list'),
    terr(X, 'taus a 1-d tensor', exp_filter, x, torch.tensor([TAU, TAU_S]), match='`taus` must be a tuple or list'),
    err(X, 'block=0', exp_filter, x, (TAU, TAU_S), block=0, match='`block` must be an int >= 1'),
    terr(X, 'block=2.5', exp_filter, x, (TAU, TAU_S), block=2.5, match='`block` must be an int'),
]
CASES += hyper_errors(X, lambda v: exp_filter(x, (TAU, v)), 'taus[1]')

# ------------------------------------------------------------------------------------------------ tempotron_voltage
V = 'tempotron.tempotron_voltage'
W = torch.randn(3, 5, generator=g, dtype=torch.float64) * 0.5 + 0.2
S = torch.rand(4, 5, generator=g, dtype=torch.float64) * 70 - 5
S_K = torch.rand(2, 5, 3, generator=g, dtype=torch.float64) * 70 - 5
S_K[0, 1, 2] = S_K[1, 4, 0] = nan
S_odd = torch.tensor([[inf, -inf, nan, 59.0, 60.0]], dtype=torch.float64)    # none counts but 59 (the last step)
V0 = 1.7
def volt(s, w=W, T=60, tau=TAU, tau_s=TAU_S, v0=V0): return tempotron_voltage(s, w, T, tau, tau_s, v0)
CASES += [
    ok(V, 'float64 against the naive sum', volt, S, check=like(naive_voltage(S, W, 60, v0=V0), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(V, 'float32', volt, S.float(), W.float(), check=like(naive_voltage(S, W, 60, v0=V0), torch.float32)),
    ok(V, 'K=3 spikes per afferent with NaN padding', volt, S_K, check=like(naive_voltage(S_K, W, 60, v0=V0), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(V, '±inf, NaN and late spikes count as none', volt, S_odd, check=like(naive_voltage(S_odd, W, 60, v0=V0), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(V, 'float16 weight: dtype kept', volt, S.float(), W.half(), check=like(naive_voltage(S, W.half(), 60, v0=V0), torch.float16, rtol=5e-3, atol=5e-3)),
    ok(V, 'bfloat16 weight: dtype kept', volt, S.float(), W.bfloat16(), check=like(naive_voltage(S, W.bfloat16(), 60, v0=V0), torch.bfloat16, rtol=2e-2, atol=3e-2)),
    ok(V, 'B=0: empty membrane', volt, S[:0], check=shape_is(0, 3, 60)),
    ok(V, 'B=0 with K', volt, S_K[:0], check=shape_is(0, 3, 60)),
    ok(V, 'K=0: no spikes', volt, S_K[..., :0], check=close(torch.zeros(2, 3, 60, dtype=torch.float64))),
    ok(V, 'B=1, out=1', volt, S[:1], W[:1], check=like(naive_voltage(S[:1], W[:1], 60, v0=V0), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(V, 'T=1', volt, S, W, 1, check=like(naive_voltage(S, W, 1, v0=V0), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(V, 'tau == tau_s: identically 0', volt, S, W, 60, 4.0, 4.0, check=close(torch.zeros(4, 3, 60, dtype=torch.float64))),
    ok(V, 'hyper-parameters as 0-d tensors', volt, S, W, torch.tensor(60), zero_d(TAU), zero_d(TAU_S), zero_d(V0, torch.float64),
       check=like(naive_voltage(S, W, 60, v0=V0), torch.float64, rtol=1e-11, atol=1e-12)),
    terr(V, 'int64 spike times', volt, S.long(), match='`in_spikes` must be a floating-point tensor'),
    terr(V, 'int64 weight', volt, S, W.long(), match='`weight` must be a floating-point tensor [out, in]'),
    terr(V, 'in_spikes a list', volt, S.tolist(), match='`in_spikes` must be a floating-point tensor'),
    err(V, 'in_spikes 1-D', volt, S[0], match='`in_spikes` must have shape [B, 5] or [B, 5, K], got (5,)'),
    err(V, 'in_spikes 4-D', volt, S_K[None], match='`in_spikes` must have shape [B, 5] or [B, 5, K]'),
    err(V, 'in_spikes afferents differ from weight', volt, S[:, :4], match='`in_spikes` must have shape [B, 5] or [B, 5, K], got (4, 4)'),
    err(V, 'weight 1-D', volt, S, W[0], match='`weight` must be a floating-point tensor [out, in] with 2 dimensions'),
    err(V, 'weight 3-D', volt, S, W[None], match='with 2 dimensions'),
    err(V, 'T=0', volt, S, W, 0, match='`T` must be an int >= 1, got 0'),
    terr(V, 'T=2.5', volt, S, W, 2.5, match='`T` must be an int'),
    err(V, 'v0=nan', volt, S, W, 60, TAU, TAU_S, nan, match='`v0` must be a finite real number, got nan'),
    err(V, 'v0=inf as 0-d tensor', volt, S, W, 60, TAU, TAU_S, zero_d(inf), match='`v0` must be a finite real number'),
]
CASES += hyper_errors(V, lambda v: volt(S, W, 60, v, TAU_S), 'tau', values=(0.0, -1.0, nan))
CASES += hyper_errors(V, lambda v: volt(S, W, 60, TAU, v), 'tau_s', values=(0.0, inf))

# ------------------------------------------------------------------------------------------------ Tempotron
M = 'tempotron.Tempotron'
def grid_model(n_in=5, out=3, T=60, dtype=torch.float64, weight=W, **kw):
    m = Tempotron(n_in, out, T, **kw).to(dtype)
    with torch.no_grad(): m.fc.weight.copy_(weight)
    return m
def v_ref(s, T=60): return naive_voltage(s, W, T, v0=unit_scale())
def spikes_ref(s):
    v = v_ref(s)
    v_max = v.amax(-1)
    return torch.where(v_max >= 1.0, 1.0, -1.0) * v.argmax(-1).double()
CASES += [
    ok(M, "'v' against the naive sum", lambda m, s: m(s, 'v'), grid_model(), S, check=like(v_ref(S), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(M, "'v_max' B=1 keeps its axes", lambda m, s: m(s, 'v_max'), grid_model(), S[:1], check=like(v_ref(S[:1]).amax(-1), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(M, "'spikes': signed argmax steps", lambda m, s: m(s, 'spikes'), grid_model(), S, check=close(spikes_ref(S))),
    ok(M, "B=0: empty 'v'", lambda m, s: m(s, 'v'), grid_model(), S[:0], check=shape_is(0, 3, 60)),
    ok(M, "B=0: empty 'v_max'", lambda m, s: m(s, 'v_max'), grid_model(), S[:0], check=shape_is(0, 3)),
    ok(M, "B=0: empty 'spikes'", lambda m, s: m(s, 'spikes'), grid_model(), S_K[:0], check=shape_is(0, 3)),
    ok(M, 'T=1', lambda m, s: m(s, 'v'), grid_model(T=1), S, check=like(v_ref(S, 1), torch.float64, rtol=1e-11, atol=1e-12)),
    ok(M, 'float16 model: dtype kept', lambda m, s: m(s, 'v_max'), grid_model(dtype=torch.float16), S.float(),
       check=like(naive_voltage(S, W.half(), 60, v0=unit_scale()).amax(-1), torch.float16, rtol=5e-3, atol=5e-3)),
    ok(M, 'bfloat16 model: dtype kept', lambda m, s: m(s, 'v_max'), grid_model(dtype=torch.bfloat16), S.float(),
       check=like(naive_voltage(S, W.bfloat16(), 60, v0=unit_scale()).amax(-1), torch.bfloat16, rtol=2e-2, atol=3e-2)),
    ok(M, 'hyper-parameters as 0-d tensors', lambda: Tempotron(torch.tensor(5), 3, torch.tensor(60), zero_d(TAU), zero_d(TAU_S), zero_d(1.0)),
       check=that(lambda m: (m.in_features, m.T, m.tau, m.tau_s, m.v_threshold) == (5, 60, TAU, TAU_S, 1.0), 'read as numbers')),
    err(M, "ret_type 'V'", lambda m, s: m(s, 'V'), grid_model(), S, match="`ret_type` must be one of 'v', 'v_max', 'spikes', got 'V'"),
    terr(M, 'ret_type an int', lambda m, s: m(s, 0), grid_model(), S, match='`ret_type` must be one of'),
    terr(M, 'int64 spike times', lambda m, s: m(s, 'v'), grid_model(), S.long(), match='`in_spikes` must be a floating-point tensor'),
    err(M, 'in_spikes of the wrong width', lambda m, s: m(s, 'v'), grid_model(), S[:, :3], match='`in_spikes` must have shape [B, 5] or [B, 5, K], got (4, 3)'),
    err(M, 'in_spikes 1-D', lambda m, s: m(s, 'v'), grid_model(), S[0], match='`in_spikes` must have shape [B, 5]'),
    err(M, 'in_features=0', Tempotron, 0, 3, 60, match='`in_features` must be an int >= 1, got 0'),
    terr(M, 'out_features=2.0', Tempotron, 5, 2.0, 60, match='`out_features` must be an int'),
    terr(M, 'T=True', Tempotron, 5, 3, True, match='`T` must be an int'),
    err(M, 'T=0 as 0-d tensor', Tempotron, 5, 3, torch.tensor(0), match='`T` must be an int >= 1'),
    err(M, 'tau == tau_s', Tempotron, 5, 3, 60, 4.0, 4.0, match='`tau` must be greater than `tau_s`, got tau=4.0, tau_s=4.0'),
    err(M, 'tau < tau_s', Tempotron, 5, 3, 60, 3.0, 4.0, match='`tau` must be greater than `tau_s`'),
    # mse_loss
    ok(M, 'mse_loss against the naive sum', Tempotron.mse_loss, torch.tensor([[0.4, 1.3, 0.9], [1.2, 0.1, 1.0]]), 1.0, torch.tensor([2, 0]), 3,
       check=close(torch.tensor((0.3**2 + 0.1**2 + 0.0**2) / 2))),
    ok(M, 'mse_loss B=1, v_threshold a 0-d tensor', Tempotron.mse_loss, torch.tensor([[0.5, 1.5]]), zero_d(1.0), torch.tensor([0]), 2,
       check=close(torch.tensor(0.5**2 + 0.5**2))),
    err(M, 'mse_loss label = num_classes', Tempotron.mse_loss, torch.rand(2, 3), 1.0, torch.tensor([0, 3]), 3,
        match='`label` must hold class indices in [0, 3), got values from 0 to 3'),
    err(M, 'mse_loss label -1', Tempotron.mse_loss, torch.rand(2, 3), 1.0, torch.tensor([-1, 0]), 3, match='`label` must hold class indices in [0, 3)'),
    terr(M, 'mse_loss float label', Tempotron.mse_loss, torch.rand(2, 3), 1.0, torch.tensor([0.0, 1.0]), 3, match='`label` must be an integer tensor'),
    err(M, 'mse_loss label of the wrong length', Tempotron.mse_loss, torch.rand(2, 3), 1.0, torch.tensor([0]), 3,
        match='`label` must be an integer tensor of class indices with shape [B] = (2,)'),
    err(M, 'mse_loss B=0', Tempotron.mse_loss, torch.rand(0, 3), 1.0, torch.zeros(0, dtype=torch.long), 3, match='`v_max` must be a non-empty batch'),
    err(M, 'mse_loss num_classes differs from v_max', Tempotron.mse_loss, torch.rand(2, 3), 1.0, torch.tensor([0, 1]), 4,
        match='`v_max` must be of shape [B, 4]'),
    err(M, 'mse_loss v_max 1-D', Tempotron.mse_loss, torch.rand(3), 1.0, torch.tensor([0]), 3, match='`v_max` must be a floating-point tensor [B, num_classes] with 2 dimensions'),
    terr(M, 'mse_loss int v_max', Tempotron.mse_loss, torch.ones(2, 3, dtype=torch.long), 1.0, torch.tensor([0, 1]), 3, match='`v_max` must be a floating-point tensor'),
    err(M, 'mse_loss v_threshold nan', Tempotron.mse_loss, torch.rand(2, 3), nan, torch.tensor([0, 1]), 3, match='`v_threshold` must be a finite real number'),
    err(M, 'mse_loss num_classes=0', Tempotron.mse_loss, torch.rand(2, 0), 1.0, torch.tensor([0, 1]), 0, match='`num_classes` must be an int >= 1'),
]
def naive_shunted(s, weight=W, T=60):
    "Naive shunting: per (b, o), the first step t* at or above 1, then the membrane of the spikes before t* only."
    v = naive_voltage(s, weight, T, v0=unit_scale())
    out = v.clone()
    for b in range(v.shape[0]):
        for o in range(v.shape[1]):
            hit = (v[b, o] >= 1.0).nonzero()
            if len(hit) == 0: continue
            kept = torch.where(s[b:b + 1] < int(hit[0]), s[b:b + 1], -1.0)     # spikes at or after t*: none
            out[b, o] = naive_voltage(kept, weight[o:o + 1], T, v0=unit_scale())[0, 0]
    return out
W_FIRE = W.abs() * 2 + 0.3               # weights that make most outputs fire, so that shunting matters
assert not torch.equal(naive_shunted(S, W_FIRE), naive_voltage(S, W_FIRE, 60, v0=unit_scale()))
CASES += [
    ok(M, "shunting=True: 'v' against the naive shunted membrane", lambda m, s: m(s, 'v'), grid_model(weight=W_FIRE, shunting=True), S,
       check=like(naive_shunted(S, W_FIRE), torch.float64, rtol=1e-11, atol=1e-12)),
    terr(M, 'shunting an int', Tempotron, 5, 3, 60, shunting=1, match='`shunting` must be a bool (True or False), got 1'),
]
CASES += hyper_errors(M, lambda v: Tempotron(5, 3, 60, tau=v, tau_s=1.0), 'tau', values=(0.0, -1.0, nan, inf))
CASES += hyper_errors(M, lambda v: Tempotron(5, 3, 60, tau_s=v), 'tau_s', values=(0.0, -1.0, nan))
CASES += hyper_errors(M, lambda v: Tempotron(5, 3, 60, v_threshold=v), 'v_threshold', values=(0.0, -1.0, nan, inf))

# ------------------------------------------------------------------------------------------------ EventOutput
O = 'tempotron.EventOutput'
a, b, c = torch.zeros(2, 3), torch.ones(2, 3), torch.full((2, 3), inf)
CASES += [
    ok(O, 'fields by name', lambda: EventOutput(a, b, c), check=that(lambda r: r.v_max is a and r.t_peak is b and r.t_spike is c, 'the fields')),
    ok(O, 'unpacks as a tuple of three', lambda: tuple(EventOutput(v_max=a, t_peak=b, t_spike=c)), check=that(lambda r: len(r) == 3 and r[2] is c, 'three')),
    terr(O, 'a missing field', EventOutput, a, b, match="missing 1 required positional argument: 't_spike'"),
]

# ------------------------------------------------------------------------------------------------ EventTempotron
E = 'tempotron.EventTempotron'
def event_model(w=((0.5, 0.7, -1.0), (2.0, 0.7, -1.0)), duration=100.0, dtype=torch.float64, **kw):
    m = EventTempotron(3, 2, duration, **kw).to(dtype)
    with torch.no_grad(): m.weight.copy_(torch.tensor(w, dtype=torch.float64))
    return m
def events(*samples, dtype=torch.float64):
    times = [t for s in samples for t, _ in s]
    idx = [i for s in samples for _, i in s]
    offsets = [0]
    for s in samples: offsets.append(offsets[-1] + len(s))
    return torch.tensor(times, dtype=dtype), torch.tensor(idx, dtype=torch.int64), torch.tensor(offsets)
T_MAX = peak_time_50_digits(TAU, TAU_S)
def one_event_outputs(t0=10.0):
    "One event at t0 on afferent 0: output 0 (w=0.5) peaks at 0.5 at t0 + t_max, silent; output 1 (w=2) peaks at 2 and fires."
    # the spike of output 1: 2 K(d)/K(t_max) = 1 on the rising flank, by bisection in Python floats
    f = lambda d: 2 * unit_scale() * (math.exp(-d / TAU) - math.exp(-d / TAU_S)) - 1.0
    lo, hi = 0.0, T_MAX
    for _ in range(200): lo, hi = ((lo + hi) / 2, hi) if f((lo + hi) / 2) < 0 else (lo, (lo + hi) / 2)
    return (torch.tensor([[0.5, 2.0]], dtype=torch.float64), torch.tensor([[t0 + T_MAX] * 2], dtype=torch.float64),
            torch.tensor([[inf, t0 + lo]], dtype=torch.float64))
def outputs_like(expected, dtype=torch.float64, rtol=1e-9, atol=1e-9):
    def check(result):
        assert isinstance(result, EventOutput), type(result)
        for r, e in zip(result, expected):
            assert r.dtype == dtype, (r.dtype, dtype)
            torch.testing.assert_close(r.detach().double(), e, rtol=rtol, atol=atol)
    return check
ONE = events([(10.0, 0)])
empty_out = (torch.zeros(0, 2, dtype=torch.float64),) * 2 + (torch.zeros(0, 2, dtype=torch.float64),)
CASES += [
    ok(E, 'one event against the closed form', lambda m, *ev: m(*ev), event_model(), *ONE, check=outputs_like(one_event_outputs())),
    ok(E, 'float32 model and times', lambda m, *ev: m(*ev), event_model(dtype=torch.float32), *events([(10.0, 0)], dtype=torch.float32),
       check=outputs_like(one_event_outputs(), torch.float32, 1e-5, 1e-5)),
    ok(E, 'float16 model: dtype kept', lambda m, *ev: m(*ev), event_model(dtype=torch.float16), *ONE,
       check=outputs_like(one_event_outputs(), torch.float16, 1e-2, 5e-2)),
    ok(E, 'bfloat16 model: dtype kept', lambda m, *ev: m(*ev), event_model(dtype=torch.bfloat16), *ONE,
       check=outputs_like(one_event_outputs(), torch.bfloat16, 2e-2, 2e-1)),
    ok(E, 'events outside [0, duration] are ignored', lambda m, *ev: m(*ev), event_model(), *events([(10.0, 0), (-3.0, 1), (100.5, 1)]),
       check=outputs_like(one_event_outputs())),
    ok(E, 'duration 1e12 (6.7e10 tau), two events: no loop over empty segments', lambda m, *ev: m(*ev), event_model(duration=1e12),
       *events([(10.0, 0), (5e11, 1)]),
       check=outputs_like((torch.tensor([[0.7, 2.0]], dtype=torch.float64), torch.tensor([[5e11 + T_MAX, 10.0 + T_MAX]], dtype=torch.float64),
                           one_event_outputs()[2]), rtol=1e-9, atol=1e-3)),
    ok(E, 'B=0: empty outputs', lambda m, *ev: m(*ev), event_model(), *events(), check=outputs_like(empty_out)),
    ok(E, 'B=0 with grad: v_max.sum().backward() works', lambda m, *ev: torch.autograd.grad(m(*ev).v_max.sum(), m.weight, allow_unused=True)[0],
       event_model(), *events(), check=that(lambda r: r is None or bool((r == 0).all()), 'no gradient')),
    ok(E, 'B=2, E=0: silent, (0, 0, inf)', lambda m, *ev: m(*ev), event_model(), *events([], []),
       check=outputs_like((torch.zeros(2, 2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64), torch.full((2, 2), inf, dtype=torch.float64)))),
    ok(E, 'hyper-parameters as 0-d tensors', lambda *ev: event_model(duration=zero_d(100.0), tau=zero_d(TAU), tau_s=zero_d(TAU_S), v_threshold=zero_d(1.0))(*ev),
       *ONE, check=outputs_like(one_event_outputs())),
    terr(E, 'int64 spike times', lambda m, *ev: m(*ev), event_model(), torch.tensor([10]), *ONE[1:], match='`spike_times` must be a floating-point tensor [E]'),
    terr(E, 'int32 input_indices', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1].int(), ONE[2], match='`input_indices` must be int64, got torch.int32'),
    terr(E, 'float input_indices', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1].double(), ONE[2], match='`input_indices` must be an integer tensor'),
    terr(E, 'batch_offsets a list', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1], [0, 1], match='`batch_offsets` must be an integer tensor'),
    err(E, 'spike_times 2-D', lambda m, *ev: m(*ev), event_model(), ONE[0][None], ONE[1][None], ONE[2], match='`spike_times` and `input_indices` must both have shape [E]'),
    err(E, 'index/time length mismatch', lambda m, *ev: m(*ev), event_model(), ONE[0], torch.tensor([0, 1]), ONE[2], match='must both have shape [E]'),
    err(E, 'NaN spike time', lambda m, *ev: m(*ev), event_model(), torch.tensor([nan], dtype=torch.float64), *ONE[1:], match='`spike_times` must be finite'),
    err(E, 'inf spike time', lambda m, *ev: m(*ev), event_model(), torch.tensor([inf], dtype=torch.float64), *ONE[1:], match='`spike_times` must be finite'),
    err(E, 'input index = in_features', lambda m, *ev: m(*ev), event_model(), *events([(1.0, 3)]), match='`input_indices` must lie in [0, 3), got values in [3, 3]'),
    err(E, 'negative input index', lambda m, *ev: m(*ev), event_model(), *events([(1.0, -1)]), match='`input_indices` must lie in [0, 3)'),
    err(E, 'batch_offsets not ending at E', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1], torch.tensor([0, 2]), match='`batch_offsets` must start at 0, never decrease and end at E=1'),
    err(E, 'batch_offsets not starting at 0', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1], torch.tensor([1, 1]), match='`batch_offsets` must start at 0'),
    err(E, 'batch_offsets decreasing', lambda m, *ev: m(*ev), event_model(), *events([(1.0, 0)], [(2.0, 0)])[:2], torch.tensor([0, 2, 1, 2]), match='never decrease'),
    err(E, 'batch_offsets empty', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1], torch.zeros(0, dtype=torch.long), match='`batch_offsets` must have shape [B+1]'),
    err(E, 'batch_offsets 2-D', lambda m, *ev: m(*ev), event_model(), ONE[0], ONE[1], torch.tensor([[0, 1]]), match='`batch_offsets` must have shape [B+1]'),
    err(E, 'spike_times requiring grad', lambda m, *ev: m(*ev), event_model(), ONE[0].clone().requires_grad_(), *ONE[1:], match='differentiates w.r.t. its weights only'),
    err(E, 'tau == tau_s', EventTempotron, 3, 2, 100.0, 4.0, 4.0, match='`tau` and `tau_s` must differ, got tau = tau_s = 4.0'),
    err(E, 'in_features=0', EventTempotron, 0, 2, 100.0, match='`in_features` must be an int >= 1, got 0'),
    terr(E, 'out_features=None', EventTempotron, 3, None, 100.0, match='`out_features` must be an int'),
]
CASES += hyper_errors(E, lambda v: EventTempotron(3, 2, v), 'duration')
CASES += hyper_errors(E, lambda v: EventTempotron(3, 2, 100.0, tau=v), 'tau', values=(0.0, -1.0, nan, inf))
CASES += hyper_errors(E, lambda v: EventTempotron(3, 2, 100.0, tau_s=v), 'tau_s', values=(0.0, nan))
CASES += hyper_errors(E, lambda v: EventTempotron(3, 2, 100.0, v_threshold=v), 'v_threshold', values=(0.0, -1.0, inf))

# ------------------------------------------------------------------------------------------------ tempotron_rule_step
R = 'tempotron.tempotron_rule_step'
RULE_SPIKES = torch.tensor([[10.0, 60.0]], dtype=torch.float64)
def rule_model(frozen=False):
    m = Tempotron(2, 1, 100).double()
    with torch.no_grad(): m.fc.weight.copy_(torch.tensor([[0.5, 0.3]], dtype=torch.float64))
    return m.requires_grad_(not frozen)
def rule_expected(lr=0.1, sign=1):
    "Naive rule: the peak step of the single PSP at 10 (weight 0.5) is the grid argmax; only afferent 0 spiked before it."
    v = naive_voltage(RULE_SPIKES, torch.tensor([[0.5, 0.3]]), 100, v0=unit_scale())[0, 0]
    t_peak = int(v.argmax())
    k = unit_scale() * (math.exp(-(t_peak - 10) / TAU) - math.exp(-(t_peak - 10) / TAU_S))
    return torch.tensor([[0.5 + sign * lr * k, 0.3]], dtype=torch.float64)
def rule(m, *args, **kw):
    "The rule's error mask and the weight after the step."
    errors = tempotron_rule_step(m, *args, **kw)
    return errors, (m.fc.weight if isinstance(m, Tempotron) else m.weight).detach().clone()
def rule_result(errors, weight):
    def check(result):
        assert torch.equal(result[0], torch.tensor(errors)), result[0]
        torch.testing.assert_close(result[1], weight, rtol=1e-12, atol=1e-12)
    return check
w_start = torch.tensor([[0.5, 0.3]], dtype=torch.float64)
CASES += [
    ok(R, 'grid: a missed pattern against the naive rule', rule, rule_model(), RULE_SPIKES, torch.tensor([[1]]), lr=0.1, updates=(0,),
       check=rule_result([[True]], rule_expected())),
    ok(R, 'grid: class labels', rule, rule_model(), RULE_SPIKES, torch.tensor([0]), lr=0.1, updates=(0,), check=rule_result([[True]], rule_expected())),
    ok(R, 'grid: a correct trial changes nothing', rule, rule_model(), RULE_SPIKES, torch.tensor([[0]]), lr=0.1, updates=(0,), check=rule_result([[False]], w_start)),
    ok(R, 'grid: a frozen weight (requires_grad=False) learns too', rule, rule_model(frozen=True), RULE_SPIKES, torch.tensor([[1]]), lr=0.1, updates=(0,),
       check=rule_result([[True]], rule_expected())),
    ok(R, 'grid: lr and mu as 0-d tensors, momentum buffer', rule, rule_model(), RULE_SPIKES, torch.tensor([[1]]), lr=zero_d(0.1, torch.float64),
       momentum=torch.zeros(1, 2, dtype=torch.float64), mu=zero_d(0.9), updates=(0, 'momentum'), check=rule_result([[True]], rule_expected())),
    ok(R, 'grid: B=0 changes nothing', rule, rule_model(), RULE_SPIKES[:0], torch.zeros(0, dtype=torch.long), updates=(0,),
       check=that(lambda r: r[0].shape == (0, 1) and torch.equal(r[1], w_start), 'no errors, no change')),
    ok(R, 'event: fired but should not have', rule, event_model(), *[events([(10.0, 0)])], torch.tensor([[0, 0]]), lr=0.1, updates=(0,),
       # output 1 fired (weight 2): its peak is the unit-peak PSP's, so the rule takes 0.1 * 1 off weight [1, 0]
       check=rule_result([[False, True]], torch.tensor([[0.5, 0.7, -1.0], [2.0 - 0.1, 0.7, -1.0]], dtype=torch.float64))),
    ok(R, 'event: B=0 changes nothing', rule, event_model(), events(), torch.zeros(0, 2), updates=(0,),
       check=that(lambda r: r[0].shape == (0, 2) and torch.equal(r[1], event_model().weight.detach()), 'no errors, no change')),
    err(R, 'label = out (grid)', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([1]), match='`target` must hold class indices in [0, 1), got values from 1 to 1'),
    err(R, 'label -1 (event)', tempotron_rule_step, event_model(), ONE, torch.tensor([-1]), match='`target` must hold class indices in [0, 2)'),
    err(R, 'labels of the wrong length', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([0, 0]), match='`target` must be an integer tensor of class indices with shape [B] = (1,)'),
    err(R, 'target 0.5', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[0.5]]), match='`target` must be [B, out] = [1, 1] of 0s and 1s'),
    err(R, 'target 2', tempotron_rule_step, event_model(), ONE, torch.tensor([[2, 0]]), match='of 0s and 1s'),
    err(R, 'target NaN', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[nan]]), match='of 0s and 1s'),
    err(R, 'target of the wrong shape', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[0, 1]]), match='`target` must have shape [1, 1] or [1]'),
    terr(R, '[B] target of bools (labels must be integers)', tempotron_rule_step, event_model(), ONE, torch.tensor([True]),
         match='`target` must be [B] integer class labels (or [B, out] = [1, 2] of 0s and 1s)'),
    terr(R, '[B] target of floats', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([0.0]), match='`target` must be [B] integer class labels'),
    terr(R, 'target a list', tempotron_rule_step, rule_model(), RULE_SPIKES, [[1]], match='`target` must be a tensor'),
    terr(R, 'model an nn.Linear', tempotron_rule_step, torch.nn.Linear(2, 1), RULE_SPIKES, torch.tensor([[1]]), match='`model` must be a Tempotron or an EventTempotron'),
    terr(R, 'event inputs not a triple', tempotron_rule_step, event_model(), ONE[:2], torch.tensor([[1, 0]]), match='`inputs` must be a tuple (spike_times, input_indices, batch_offsets)'),
    terr(R, 'grid inputs int64', tempotron_rule_step, rule_model(), RULE_SPIKES.long(), torch.tensor([[1]]), match='`in_spikes` must be a floating-point tensor'),
    err(R, 'momentum of the wrong shape', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[1]]), momentum=torch.zeros(2), mu=0.9,
        match="`momentum` must be a tensor of the weight's shape (1, 2)"),
    ok(R, "grid: momentum_on='errors', a correct trial changes neither weight nor buffer", rule, rule_model(), RULE_SPIKES, torch.tensor([[0]]),
       momentum=torch.full((1, 2), 0.25, dtype=torch.float64), mu=0.9, updates=(0,), check=rule_result([[False]], w_start)),
    ok(R, "grid: momentum_on='every_step' (heavy ball) moves on a correct trial", rule, rule_model(), RULE_SPIKES, torch.tensor([[0]]),
       momentum=torch.full((1, 2), 0.25, dtype=torch.float64), mu=0.8, momentum_on='every_step', updates=(0, 'momentum'),
       check=rule_result([[False]], w_start + 0.8 * 0.25)),
    err(R, "momentum_on 'always'", tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[1]]), momentum_on='always',
        match="`momentum_on` must be one of 'errors', 'every_step', got 'always'"),
    terr(R, 'momentum_on an int', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[1]]), momentum_on=1, match='`momentum_on` must be one of'),
    terr(R, 'momentum int64', tempotron_rule_step, rule_model(), RULE_SPIKES, torch.tensor([[1]]), momentum=torch.zeros(1, 2, dtype=torch.long),
         match='`momentum` must be a floating-point tensor'),
]
CASES += hyper_errors(R, lambda v: tempotron_rule_step(rule_model(), RULE_SPIKES, torch.tensor([[1]]), lr=v), 'lr', values=(0.0, -0.1, nan, inf))
CASES += hyper_errors(R, lambda v: tempotron_rule_step(rule_model(), RULE_SPIKES, torch.tensor([[1]]), mu=v), 'mu', values=(-0.5, nan),
                      expected='a finite real number >= 0')
