"""Bad inputs for snnlit.losses: every public name, each case with its one right outcome.

Success cases are checked against the naive loops of tests/oracles_losses.py (Python floats, float64), on the
same (possibly half-precision) inputs; half-precision results must keep their dtype and lie within a few
roundings of float64.
"""
import math
import torch
import torch.nn.functional as F
from badinputs import err, terr, ok, close, all_of, finite, dtype_is, zero_d
from helpers import generator
from oracles import naive_kernel, naive_spike_similar, naive_tet, naive_family
from snnlit import losses as L

g = generator('losses')
NAN, INF = float('nan'), float('inf')
LOW = (torch.float16, torch.bfloat16)

def rand(*shape, dtype=torch.float32): return torch.rand(*shape, generator=g, dtype=torch.float64).to(dtype)
def randn(*shape, dtype=torch.float32): return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
def labels(n, *shape): return torch.randint(0, n, shape, generator=g)

def near(expected, dtype):
    "`expected` (a float64 tensor, or a callable giving one) within a few roundings of `dtype`, and the dtype kept."
    tol = {torch.float16: dict(rtol=4e-3, atol=1e-3), torch.bfloat16: dict(rtol=3e-2, atol=1e-2)}.get(dtype, {})
    def check(result):
        assert result.dtype == dtype, f'dtype {result.dtype}, expected {dtype}'
        exp = expected() if callable(expected) else expected
        torch.testing.assert_close(result.double(), exp.double(), equal_nan=True, **(tol or dict(rtol=1e-5, atol=1e-6)))
    return check

def is_nan(result): assert result.isnan().all(), f'expected NaN, got {result}'

CASES = []

# =============================================================================================================
# kernel_dot_product
KDP = 'losses.kernel_dot_product'
kdp = L.kernel_dot_product
x, y = rand(4, 3), rand(2, 3)
PARAMS = {'linear': (), 'polynomial': (2,), 'sigmoid': (0.5,), 'gaussian': (1.5,)}
CASES += [
    err(KDP, 'x 1-D', kdp, x[0], y, match='`x` must be a floating-point tensor [N, M] with 2 dimensions'),
    err(KDP, 'y 3-D', kdp, x, y[None], match='`y` must be a floating-point tensor [K, M] with 2 dimensions'),
    terr(KDP, 'x int64', kdp, x.long(), y, match='`x` must be a floating-point tensor'),
    terr(KDP, 'y bool', kdp, x, y > 0.5, match='`y` must be a floating-point tensor'),
    terr(KDP, 'y a list', kdp, x, y.tolist(), match='`y` must be a floating-point tensor [K, M], got list'),
    terr(KDP, 'x and y dtypes differ', kdp, x, y.double(), match='`x` and `y` must have the same dtype'),
    err(KDP, 'M differs', kdp, x, rand(2, 4), match='must have the same M, got shapes (4, 3) and (2, 4)'),
    err(KDP, 'N = 0', kdp, x[:0], y, match='`x` must be a non-empty tensor'),
    err(KDP, 'M = 0', kdp, x[:, :0], y[:, :0], match='`x` must be a non-empty tensor'),
    err(KDP, 'unknown kernel', kdp, x, y, 'rbf', match="`kernel` must be one of 'linear', 'polynomial' (d), 'sigmoid' (alpha), 'gaussian' (sigma), got 'rbf'"),
    terr(KDP, 'kernel None', kdp, x, y, None, match="`kernel` must be one of 'linear'"),
    err(KDP, 'gaussian without sigma', kdp, x, y, 'gaussian', match="`kernel='gaussian'` takes one extra argument, sigma, got 0"),
    err(KDP, 'linear with a parameter', kdp, x, y, 'linear', 1.0, match="`kernel='linear'` takes no extra argument, got 1"),
]
for kernel, name, bad in [('gaussian', 'sigma', 0.), ('gaussian', 'sigma', -1.), ('gaussian', 'sigma', NAN), ('gaussian', 'sigma', INF),
                          ('sigmoid', 'alpha', NAN), ('sigmoid', 'alpha', INF), ('polynomial', 'd', NAN), ('polynomial', 'd', -INF)]:
    for as_tensor in (False, True):
        value = zero_d(bad) if as_tensor else bad
        CASES.append(err(KDP, f'{name}={bad}{" (0-d tensor)" if as_tensor else ""}', kdp, x, y, kernel, value,
                         match=f"`{name}` must be a finite real number"))
CASES += [
    terr(KDP, 'sigma True', kdp, x, y, 'gaussian', True, match='`sigma` must be a finite real number, got True'),
    terr(KDP, 'alpha a string', kdp, x, y, 'sigmoid', '0.5', match="`alpha` must be a finite real number, got '0.5'"),
    terr(KDP, 'sigma a 1-D tensor', kdp, x, y, 'gaussian', torch.ones(1), match='`sigma` must be a finite real number, got a torch.float32 tensor of shape (1,)'),
    terr(KDP, 'sigma a bool 0-d tensor', kdp, x, y, 'gaussian', torch.tensor(True), match='`sigma` must be a finite real number'),
]
for kernel, args in PARAMS.items():
    for dtype in LOW + (torch.float64,):
        xs, ys_ = rand(3, 5, dtype=dtype), rand(2, 5, dtype=dtype)
        CASES.append(ok(KDP, f'{kernel} {dtype}', kdp, xs, ys_, kernel, *args,
                        check=near(naive_kernel(xs.double(), ys_.double(), kernel, *args), dtype)))
    CASES.append(ok(KDP, f'{kernel} N = K = M = 1', kdp, x[:1, :1], y[:1, :1], kernel, *args,
                    check=near(naive_kernel(x[:1, :1], y[:1, :1], kernel, *args), torch.float32)))
    xn = x.clone(); xn[1, 2] = NAN
    CASES.append(ok(KDP, f'{kernel} NaN in a row of x: NaN in that row only', kdp, xn, y, kernel, *args,
                    check=near(naive_kernel(xn, y, kernel, *args), torch.float32)))
CASES += [
    ok(KDP, 'sigma a float64 0-d tensor: float32 result', kdp, x, y, 'gaussian', zero_d(1.5, torch.float64),
       check=near(naive_kernel(x, y, 'gaussian', 1.5), torch.float32)),
    ok(KDP, 'alpha an int 0-d tensor', kdp, x, y, 'sigmoid', torch.tensor(2), check=near(naive_kernel(x, y, 'sigmoid', 2), torch.float32)),
]
xi = x.clone(); xi[1, 2] = INF
CASES.append(ok(KDP, 'gaussian, +inf in x: 0 against finite rows', kdp, xi, y, 'gaussian', 1.0,
                check=near(naive_kernel(xi, y, 'gaussian', 1.0), torch.float32)))

# =============================================================================================================
# spike_similar_loss
SSL = 'losses.spike_similar_loss'
ssl = L.spike_similar_loss
spk = (rand(5, 3, 4) < 0.4).float()
onehot = F.one_hot(torch.tensor([0, 1, 0, 2, 1]), 3)
CASES += [
    err(SSL, 'spikes 1-D', ssl, spk[0, 0], onehot, match='`spikes` must be a floating-point tensor [N, M, T] with at least 2 dimensions'),
    terr(SSL, 'spikes int64', ssl, spk.long(), onehot, match='`spikes` must be a floating-point tensor'),
    terr(SSL, 'spikes bool', ssl, spk.bool(), onehot, match='`spikes` must be a floating-point tensor'),
    err(SSL, 'N = 0', ssl, spk[:0], onehot[:0], match='`spikes` must be a non-empty tensor'),
    err(SSL, 'M·T = 0', ssl, spk[:, :0], onehot, match='`spikes` must be a non-empty tensor'),
    err(SSL, 'labels 1-D (class indices)', ssl, spk, torch.tensor([0, 1, 0, 2, 1]), match='`labels` must be a tensor [N, C] with N = 5 rows like `spikes`'),
    err(SSL, 'labels with fewer rows', ssl, spk, onehot[:4], match='`labels` must be a tensor [N, C] with N = 5 rows like `spikes`, got a torch.int64 tensor of shape (4, 3)'),
    terr(SSL, 'labels a list', ssl, spk, onehot.tolist(), match='`labels` must be a real (not complex or bool) tensor [N, C], got list'),
    err(SSL, 'labels holding 2', ssl, spk, 2 * onehot, match='`labels` must hold one-hot or multi-hot values in [0, 1], got values from 0 to 2'),
    err(SSL, 'labels holding -1', ssl, spk, onehot - 1, match='`labels` must hold one-hot or multi-hot values in [0, 1], got values from -1 to 0'),
    err(SSL, 'labels holding NaN', ssl, spk, torch.where(onehot.bool(), NAN, 0.), match='`labels` must hold one-hot or multi-hot values in [0, 1]'),
    err(SSL, 'unknown loss_type', ssl, spk, onehot, 'linear', 'ce', match="`loss_type` must be one of 'mse', 'l1', 'bce', got 'ce'"),
    terr(SSL, 'loss_type None', ssl, spk, onehot, 'linear', None, match="`loss_type` must be one of 'mse', 'l1', 'bce', got None"),
    err(SSL, 'polynomial kernel (values outside [0, 1])', ssl, spk, onehot, 'polynomial', 'mse', 2,
        match="`kernel_type` must be one of 'linear', 'sigmoid' (alpha), 'gaussian' (sigma), got 'polynomial'"),
    err(SSL, 'sigma missing', ssl, spk, onehot, 'gaussian', 'mse', match="`kernel_type='gaussian'` takes one extra argument, sigma"),
    err(SSL, 'sigma 0', ssl, spk, onehot, 'gaussian', 'mse', 0., match='`sigma` must be a finite real number > 0, got 0.0'),
    err(SSL, 'sigma NaN (0-d tensor)', ssl, spk, onehot, 'gaussian', 'mse', zero_d(NAN), match='`sigma` must be a finite real number > 0'),
    err(SSL, 'alpha inf', ssl, spk, onehot, 'sigmoid', 'bce', INF, match='`alpha` must be a finite real number, got inf'),
    err(SSL, 'alpha -inf (0-d tensor)', ssl, spk, onehot, 'sigmoid', 'bce', zero_d(-INF), match='`alpha` must be a finite real number'),
    ok(SSL, 'bool labels', ssl, spk, onehot.bool(), check=near(torch.tensor(naive_spike_similar(spk, onehot, 'linear', 'mse')), torch.float32)),
    ok(SSL, 'soft float labels in [0, 1]', ssl, spk, onehot * 0.5, 'linear', 'l1',
       check=near(torch.tensor(naive_spike_similar(spk, onehot * 0.5, 'linear', 'l1')), torch.float32)),
    ok(SSL, 'N = 1', ssl, spk[:1], onehot[:1], 'gaussian', 'bce', 2.0,
       check=near(torch.tensor(naive_spike_similar(spk[:1], onehot[:1], 'gaussian', 'bce', 2.0)), torch.float32)),
    ok(SSL, 'a silent sample (zero norm)', ssl, torch.cat([spk[:4], torch.zeros(1, 3, 4)]), onehot, 'linear', 'bce',
       check=near(torch.tensor(naive_spike_similar(torch.cat([spk[:4], torch.zeros(1, 3, 4)]), onehot, 'linear', 'bce')), torch.float32)),
]
spk_nan = spk.clone(); spk_nan[2, 1, 1] = NAN
spk_inf = spk.clone(); spk_inf[2, 1, 1] = INF
for loss in ('mse', 'l1', 'bce'):
    CASES.append(ok(SSL, f'NaN in spikes, {loss}: NaN', ssl, spk_nan, onehot, 'linear', loss, check=is_nan))
    CASES.append(ok(SSL, f'+inf in spikes, linear {loss}: NaN (inf/inf cosine)', ssl, spk_inf, onehot, 'linear', loss, check=is_nan))
for kernel, args in [('linear', ()), ('sigmoid', (0.3,)), ('gaussian', (2.0,))]:
    for dtype in LOW:
        s16 = spk.to(dtype)
        CASES.append(ok(SSL, f'{kernel} bce {dtype}', ssl, s16, onehot, kernel, 'bce', *args,
                        check=near(torch.tensor(naive_spike_similar(spk, onehot, kernel, 'bce', *args)), dtype)))

# =============================================================================================================
# temporal_efficient_training_cross_entropy and tet_loss
TET, TETL = 'losses.temporal_efficient_training_cross_entropy', 'losses.tet_loss'
tetce, tetl = L.temporal_efficient_training_cross_entropy, L.tet_loss
xs, ts = randn(4, 3, 5), labels(5, 3)
def tet_cases(target, fn, *extra):
    return [
        err(target, 'x_seq 2-D', fn, xs[0], ts, *extra, match='`x_seq` must be a floating-point tensor [T, N, C, *] with at least 3 dimensions'),
        terr(target, 'x_seq int64', fn, xs.long(), ts, *extra, match='`x_seq` must be a floating-point tensor'),
        err(target, 'T = 0', fn, xs[:0], ts, *extra, match='`x_seq` must be a non-empty tensor'),
        err(target, 'N = 0', fn, xs[:, :0], ts[:0], *extra, match='`x_seq` must be a non-empty tensor'),
        terr(target, 'target float', fn, xs, ts.float(), *extra, match='`target` must be an integer tensor, got a torch.float32 tensor'),
        terr(target, 'target bool', fn, xs, ts > 2, *extra, match='`target` must be an integer tensor'),
        terr(target, 'target a list', fn, xs, ts.tolist(), *extra, match='`target` must be an integer tensor, got list'),
        err(target, 'target = C', fn, xs, torch.tensor([0, 5, 1]), *extra, match='`target` must hold class indices in [0, 5), got values from 0 to 5'),
        err(target, 'target -1', fn, xs, torch.tensor([0, -1, 1]), *extra, match='`target` must hold class indices in [0, 5), got values from -1 to 1'),
        err(target, 'target [N, 1]', fn, xs, ts[:, None], *extra, match='`target` must be an integer tensor of class indices with shape [N, *] = (3,)'),
        err(target, 'target for another N', fn, xs, ts[:2], *extra, match='with shape [N, *] = (3,), got a torch.int64 tensor of shape (2,)'),
    ]
CASES += tet_cases(TET, tetce) + tet_cases(TETL, tetl, 0.05)
for dtype in LOW:
    xl = xs.to(dtype)
    CASES.append(ok(TET, f'{dtype}', tetce, xl, ts, check=near(torch.tensor(naive_tet(xl, ts)), dtype)))
    CASES.append(ok(TETL, f'{dtype}', tetl, xl, ts, 0.05, 0.5,
                    check=near(0.95 * torch.tensor(naive_tet(xl, ts)) + 0.05 * ((xl.double() - 0.5) ** 2).mean(), dtype)))
    CASES.append(ok(TETL, f'{dtype}, lamb a float64 0-d tensor: dtype kept', tetl, xl, ts, zero_d(0.05, torch.float64),
                    check=near(0.95 * torch.tensor(naive_tet(xl, ts)) + 0.05 * ((xl.double() - 1) ** 2).mean(), dtype)))
x4, t4 = randn(2, 3, 4, 5), labels(4, 3, 5)
x_ninf = xs.clone(); x_ninf[1, 0, (ts[0] + 1) % 5] = -INF
x_nan = xs.clone(); x_nan[2, 1, 3] = NAN
CASES += [
    ok(TET, 'T = N = 1', tetce, xs[:1, :1], ts[:1], check=near(torch.tensor(naive_tet(xs[:1, :1], ts[:1])), torch.float32)),
    ok(TET, '[T, N, C, d] with target [N, d]', tetce, x4, t4, check=near(torch.tensor(naive_tet(x4, t4)), torch.float32)),
    ok(TET, 'uint8 target', tetce, xs, ts.to(torch.uint8), check=near(torch.tensor(naive_tet(xs, ts)), torch.float32)),
    ok(TET, '-inf logit of a wrong class: finite', tetce, x_ninf, ts, check=all_of(finite, near(torch.tensor(naive_tet(x_ninf, ts)), torch.float32))),
    ok(TET, 'NaN logit: NaN', tetce, x_nan, ts, check=is_nan),
    ok(TETL, 'lamb = 0: the TET loss alone', tetl, xs, ts, 0, check=near(torch.tensor(naive_tet(xs, ts)), torch.float32)),
    ok(TETL, 'lamb = 1: the MSE alone', tetl, xs, ts, 1, 2.0, check=near(((xs.double() - 2) ** 2).mean(), torch.float32)),
    ok(TETL, 'lamb and means 0-d tensors', tetl, xs, ts, zero_d(0.2), zero_d(-1.0),
       check=near(0.8 * torch.tensor(naive_tet(xs, ts)) + 0.2 * ((xs.double() + 1) ** 2).mean(), torch.float32)),
]
for bad in (-0.1, 1.5, NAN, INF):
    CASES.append(err(TETL, f'lamb={bad}', tetl, xs, ts, bad, match='`lamb` must be a finite real number >= 0 and <= 1'))
    CASES.append(err(TETL, f'lamb={bad} (0-d tensor)', tetl, xs, ts, zero_d(bad), match='`lamb` must be a finite real number >= 0 and <= 1'))
for bad in (NAN, INF, -INF):
    CASES.append(err(TETL, f'means={bad}', tetl, xs, ts, 0.1, bad, match='`means` must be a finite real number'))
    CASES.append(err(TETL, f'means={bad} (0-d tensor)', tetl, xs, ts, 0.1, zero_d(bad), match='`means` must be a finite real number'))
CASES += [
    ok(TETL, 'lamb an int 0-d tensor holding 0: the TET loss alone', tetl, xs, ts, torch.tensor(0), check=near(torch.tensor(naive_tet(xs, ts)), torch.float32)),
    terr(TETL, 'lamb True', tetl, xs, ts, True, match='`lamb` must be a finite real number, got True'),
    terr(TETL, 'lamb a string', tetl, xs, ts, '0.1', match="`lamb` must be a finite real number, got '0.1'"),
    terr(TETL, 'lamb a 1-D tensor', tetl, xs, ts, torch.tensor([0.1]), match='`lamb` must be a finite real number'),
    terr(TETL, 'means None', tetl, xs, ts, 0.1, None, match='`means` must be a finite real number, got None'),
]

# =============================================================================================================
# SpikeLossBase: the options every snntorch-style loss shares
BASE = 'losses.SpikeLossBase'
Base = L.SpikeLossBase
def attr(name, expected):
    def check(result):
        got = getattr(result, name)
        if isinstance(expected, torch.Tensor): torch.testing.assert_close(got, expected)
        else: assert got == expected and type(got) is type(expected), f'{name} = {got!r}, expected {expected!r}'
    return check
CASES += [
    err(BASE, "reduction 'avg'", Base, 'avg', match="`reduction` must be one of 'mean', 'sum', 'none', got 'avg'"),
    terr(BASE, 'reduction None', Base, None, match="`reduction` must be one of 'mean', 'sum', 'none', got None"),
    err(BASE, 'weight 2-D', Base, 'mean', torch.ones(2, 3), match='`weight` must be a real (not complex or bool) tensor [C] of per-class weights with 1 dimension'),
    err(BASE, 'weight empty', Base, 'mean', torch.ones(0), match='`weight` must be a non-empty'),
    terr(BASE, 'weight bool', Base, 'mean', torch.ones(3, dtype=torch.bool), match='`weight` must be a real (not complex or bool) tensor'),
    terr(BASE, 'weight a string', Base, 'mean', 'balanced', match="`weight` must be a real (not complex or bool) tensor [C] of per-class weights, got 'balanced'"),
    err(BASE, 'weight with NaN', Base, 'mean', torch.tensor([1., NAN]), match='`weight` must hold finite per-class weights >= 0'),
    err(BASE, 'weight with inf', Base, 'mean', torch.tensor([1., INF]), match='`weight` must hold finite per-class weights >= 0'),
    err(BASE, 'weight negative', Base, 'mean', [1., -0.5], match='`weight` must hold finite per-class weights >= 0, got values from -0.5 to 1.0'),
    terr(BASE, 'population_code 1', Base, 'mean', None, 1, 2, match='`population_code` must be a bool (True or False), got 1'),
    err(BASE, 'population code without num_classes', Base, 'mean', None, True, match='`num_classes` must be an int >= 1 when `population_code=True`, got False'),
    err(BASE, 'num_classes 0', Base, 'mean', None, True, 0, match='`num_classes` must be an int >= 1, got 0'),
    terr(BASE, 'num_classes 2.5', Base, 'mean', None, True, 2.5, match='`num_classes` must be an int, got 2.5'),
    terr(BASE, 'num_classes True', Base, 'mean', None, True, True, match='`num_classes` must be an int, got True'),
    terr(BASE, 'num_classes a float 0-d tensor', Base, 'mean', None, True, zero_d(2.), match='`num_classes` must be an int'),
    err(BASE, 'weight a 0-d tensor', Base, 'mean', zero_d(1.), match='`weight` must be a real (not complex or bool) tensor [C] of per-class weights with 1 dimension'),
    ok(BASE, 'num_classes an int 0-d tensor', Base, 'mean', None, True, torch.tensor(3), check=attr('num_classes', 3)),
    ok(BASE, 'weight a list', Base, 'sum', [1, 2], check=attr('weight', torch.tensor([1, 2]))),
]

# =============================================================================================================
# the five snntorch-style losses
T, B, N = 4, 3, 5
rec, mem, ys = (rand(T, B, N) < 0.5).float(), randn(T, B, N), torch.tensor([0, 4, 2])
FAMILY = {'ce_rate_loss': ('spk_out', rec), 'ce_count_loss': ('spk_out', rec), 'ce_max_membrane_loss': ('mem_out', mem),
          'mse_count_loss': ('spk_out', rec), 'mse_membrane_loss': ('mem_out', mem)}
for name, (arg, out) in FAMILY.items():
    target, loss = f'losses.{name}', getattr(L, name)()
    nan_out = out.clone(); nan_out[1, 2, 3] = NAN
    CASES += [
        err(target, f'{arg} 2-D', loss, out[0], ys, match=f'`{arg}` must be a floating-point tensor [T, B, N] with 3 dimensions'),
        err(target, f'{arg} 4-D', loss, out[None], ys, match=f'`{arg}` must be a floating-point tensor [T, B, N] with 3 dimensions'),
        terr(target, f'{arg} int64', loss, out.long(), ys, match=f'`{arg}` must be a floating-point tensor [T, B, N], got a torch.int64'),
        terr(target, f'{arg} bool', loss, out > 0, ys, match=f'`{arg}` must be a floating-point tensor [T, B, N], got a torch.bool'),
        terr(target, f'{arg} a list', loss, out.tolist(), ys, match=f'`{arg}` must be a floating-point tensor [T, B, N], got list'),
        err(target, 'T = 0', loss, out[:0], ys, match=f'`{arg}` must be a non-empty tensor [T, B, N]'),
        err(target, 'B = 0', loss, out[:, :0], ys[:0], match=f'`{arg}` must be a non-empty tensor [T, B, N]'),
        err(target, 'N = 0', loss, out[..., :0], ys, match=f'`{arg}` must be a non-empty tensor [T, B, N]'),
        terr(target, 'targets float', loss, out, ys.float(), match='`targets` must be an integer tensor, got a torch.float32'),
        terr(target, 'targets bool', loss, out, ys > 1, match='`targets` must be an integer tensor, got a torch.bool'),
        terr(target, 'targets a list', loss, out, ys.tolist(), match='`targets` must be an integer tensor, got list'),
        err(target, 'targets = N', loss, out, torch.tensor([0, 5, 1]), match='`targets` must hold class indices in [0, 5), got values from 0 to 5'),
        err(target, 'targets -1', loss, out, torch.tensor([0, -1, 1]), match='`targets` must hold class indices in [0, 5), got values from -1 to 1'),
        err(target, 'targets [B, 1]', loss, out, ys[:, None], match='`targets` must be an integer tensor of class indices with shape [B] = (3,)'),
        err(target, 'targets one-hot [B, N]', loss, out, F.one_hot(ys, N), match='`targets` must be an integer tensor of class indices with shape [B] = (3,), got a torch.int64 tensor of shape (3, 5)'),
        err(target, 'weight of the wrong length', getattr(L, name)(weight=torch.ones(4)), out, ys, match='`weight` must have one entry per class, C=5, got shape (4,)'),
        ok(target, 'T = B = 1', loss, out[:1, :1], ys[:1], check=near(naive_family(name, out[:1, :1], ys[:1]), torch.float32)),
        ok(target, 'N = 1', loss, out[..., :1], torch.zeros(B, dtype=torch.long), check=near(naive_family(name, out[..., :1], torch.zeros(B, dtype=torch.long)), torch.float32)),
        ok(target, 'int32 targets', loss, out, ys.int(), check=near(naive_family(name, out, ys), torch.float32)),
        ok(target, 'NaN in the output: NaN', loss, nan_out, ys, check=is_nan),
    ]
    for reduction in ('none', 'sum'):
        w = rand(N) + 0.1
        CASES.append(ok(target, f'reduction={reduction!r} with weight', getattr(L, name)(reduction=reduction, weight=w), out, ys,
                        check=near(naive_family(name, out, ys, reduction, w), torch.float32)))
    for dtype in LOW:
        o16 = out.to(dtype)
        CASES.append(ok(target, f'{dtype}', loss, o16, ys, check=near(naive_family(name, o16, ys), dtype)))
        CASES.append(ok(target, f"{dtype}, float32 weight, reduction='none'", getattr(L, name)(reduction='none', weight=rand(N) + 0.1), o16, ys,
                        check=dtype_is(dtype)))
    if name in ('ce_rate_loss', 'ce_count_loss', 'mse_count_loss'):
        CASES += [
            err(target, 'population code: N not a multiple of num_classes', getattr(L, name)(population_code=True, num_classes=2), out, ys % 2,
                match='`num_classes`=2 must divide the number of outputs N=5 for a population code'),
            err(target, 'num_classes differs from N without a population code', getattr(L, name)(num_classes=4), out, ys % 4,
                match='`num_classes`=4 differs from the number of outputs N=5'),
            err(target, 'population code: targets >= num_classes', getattr(L, name)(population_code=True, num_classes=5), torch.cat([out, out], -1), torch.tensor([0, 5, 1]),
                match='`targets` must hold class indices in [0, 5), got values from 0 to 5'),
            ok(target, 'population code, 2 groups of 5', getattr(L, name)(population_code=True, num_classes=2), torch.cat([out, out], -1), ys % 2,
               check=near(naive_family(name, torch.cat([out, out], -1), ys % 2, C=2), torch.float32)),
        ]

MCL, MML = 'losses.mse_count_loss', 'losses.mse_membrane_loss'
for rate in ('correct_rate', 'incorrect_rate'):
    for bad in (-0.1, NAN, INF):
        CASES.append(err(MCL, f'{rate}={bad}', L.mse_count_loss, **{rate: bad}, match=f'`{rate}` must be a finite real number >= 0'))
        CASES.append(err(MCL, f'{rate}={bad} (0-d tensor)', L.mse_count_loss, **{rate: zero_d(bad)}, match=f'`{rate}` must be a finite real number >= 0'))
    CASES.append(terr(MCL, f'{rate} a string', L.mse_count_loss, **{rate: '1'}, match=f"`{rate}` must be a finite real number, got '1'"))
    CASES.append(terr(MCL, f'{rate} True', L.mse_count_loss, **{rate: True}, match=f'`{rate}` must be a finite real number, got True'))
CASES += [
    ok(MCL, 'rates as 0-d tensors', lambda o, y: L.mse_count_loss(zero_d(0.75), zero_d(0.25))(o, y), rec, ys,
       check=near(naive_family('mse_count_loss', rec, ys, correct_rate=0.75, incorrect_rate=0.25), torch.float32)),
    ok(MCL, 'correct_rate 2 (more spikes than steps, as snntorch allows)', L.mse_count_loss(2, 0.5), rec, ys,
       check=near(naive_family('mse_count_loss', rec, ys, correct_rate=2, incorrect_rate=0.5), torch.float32)),
]
for tname in ('on_target', 'off_target'):
    for bad in (NAN, INF, -INF):
        CASES.append(err(MML, f'{tname}={bad}', L.mse_membrane_loss, **{tname: bad}, match=f'`{tname}` must be a finite real number'))
        CASES.append(err(MML, f'{tname}={bad} (0-d tensor)', L.mse_membrane_loss, **{tname: zero_d(bad)}, match=f'`{tname}` must be a finite real number'))
    CASES.append(terr(MML, f'{tname} None', L.mse_membrane_loss, **{tname: None}, match=f'`{tname}` must be a finite real number, got None'))
ys_t = labels(N, T, B)
CASES += [
    ok(MML, 'on/off targets as 0-d tensors', lambda o, y: L.mse_membrane_loss(on_target=zero_d(2.), off_target=zero_d(-0.5))(o, y), mem, ys,
       check=near(naive_family('mse_membrane_loss', mem, ys, on_target=2., off_target=-0.5), torch.float32)),
    terr(MML, 'time_var_targets 1', L.mse_membrane_loss, 1, match='`time_var_targets` must be a bool (True or False), got 1'),
    err(MML, 'time_var_targets with [B] targets', L.mse_membrane_loss(True), mem, ys,
        match='`targets` must be an integer tensor of class indices with shape [T, B] (time_var_targets=True) = (4, 3)'),
    err(MML, 'time_var_targets with a label out of range', L.mse_membrane_loss(True), mem, ys_t.index_fill(0, torch.tensor([2]), N),
        match='`targets` must hold class indices in [0, 5)'),
    ok(MML, 'time_var_targets, T = 1', L.mse_membrane_loss(True), mem[:1], ys_t[:1],
       check=near(naive_family('mse_membrane_loss', mem[:1], ys_t[:1], time_var_targets=True), torch.float32)),
    ok(MML, 'time_var_targets, bfloat16, weight', L.mse_membrane_loss(True, weight=rand(N) + 0.1, reduction='none'), mem.bfloat16(), ys_t,
       check=dtype_is(torch.bfloat16)),
]
mem_inf = mem.clone(); mem_inf[0, 1, 2] = -INF
CASES += [
    ok('losses.ce_max_membrane_loss', '-inf at one step: the peak of the others counts', L.ce_max_membrane_loss(), mem_inf, ys,
       check=all_of(finite, near(naive_family('ce_max_membrane_loss', mem_inf, ys), torch.float32))),
    ok(MML, '-inf membrane: inf loss', L.mse_membrane_loss(), mem_inf, ys, check=lambda r: torch.testing.assert_close(r, torch.tensor(INF))),
]
