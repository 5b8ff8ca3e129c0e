"""Bad inputs for snnlit.compat.snntorch.surrogate: every public name, each case with its one right outcome.

Success cases compare the spikes with the step (1 at 0) and the gradient with the naive formula written in the
case, in float64 on random inputs."""
import math
import torch
from badinputs import err, terr, ok, close, all_of, grad_of
from helpers import generator
from oracles_st import naive_triangle_grad, naive_leaky_operator_grad, naive_atan_grad
from snnlit.compat.snntorch import surrogate as S

g = generator('compat_snntorch_surrogate')
x = torch.randn(2, 7, generator=g, dtype=torch.float64)
x[0, 0] = 0.   # exactly at the threshold: a spike
NAN, INF = float('nan'), float('inf')

def spikes_of(inputs):
    def check(result): assert torch.equal(result, (inputs >= 0).to(inputs.dtype)), result
    return check

def fsig(slope): return 1 / (1 + slope * x.abs()) ** 2
def sig(k): return k * torch.sigmoid(k * x) * (1 - torch.sigmoid(k * x))
def escape(beta, slope): return slope * torch.exp(-beta * (x - 1).abs())
def fired(t): return (t >= 0).double()

# class: (its hyper-parameters' bad value and the message, apply with its defaults, the naive g' at the defaults)
CLASSES = {
    'ATan': (('alpha', 0.), naive_atan_grad(x, 2.0)),
    'Sigmoid': (('slope', -1.), sig(25.)),
    'FastSigmoid': (('slope', 0.), fsig(25.)),
    'Triangular': (('threshold', 0.), naive_triangle_grad(x, 1.0)),
    'SpikeRateEscape': (('beta', -2.), escape(1., 25.)),
    'SparseFastSigmoid': (('slope', 0.), fsig(25.) * (x > 1)),
    'StraightThroughEstimator': (None, torch.ones_like(x)),
    'Heaviside': (None, fired(x)),
    'LeakySpikeOperator': (('slope', NAN), naive_leaky_operator_grad(x, 0.1)),
    'StochasticSpikeOperator': (('variance', INF), None),
}

CASES = []
for name, (bad, grad) in CLASSES.items():
    cls, target = getattr(S, name), f'compat.snntorch.surrogate.{name}'
    CASES += [
        terr(target, 'x an int tensor', cls.apply, x.long(), match='`x` must be a floating-point tensor, got a torch.int64'),
        terr(target, 'x a list', cls.apply, x.tolist(), match='`x` must be a floating-point tensor, got list'),
        terr(target, 'a hyper-parameter too many', cls.apply, x, *([1.] * (len(cls.defaults) + 1)),
             match=f'`{name}.apply(x, ...)` takes {len(cls.defaults)} hyper-parameter'),
        terr(target, 'an unknown keyword', cls.apply, x, gamma=1., match=f'`{name}.apply` got unexpected keyword arguments'),
        ok(target, 'defaults: spikes are the step (1 at 0)', cls.apply, x, check=spikes_of(x)),
        ok(target, 'batch of one, float16 kept', cls.apply, x[:1, :1].half(), check=all_of(spikes_of(x[:1, :1].half()))),
    ]
    if bad is not None:
        k, v = bad
        values = [cls.defaults[p] if p != k else v for p in cls.defaults]
        CASES.append(err(target, f'{k}={v}', cls.apply, x, *values, match=f'`{k}` must be a finite real number'))
        CASES.append(terr(target, f'{k} a string', cls.apply, x, **{k: 'a'}, match=f'`{k}` must be a finite real number'))
    if grad is not None:
        CASES.append(ok(target, 'gradient at the defaults', lambda t, c=cls: grad_of(c.apply, t), x, check=close(grad)))

CASES += [
    terr('compat.snntorch.surrogate.CustomSurrogate', 'x an int tensor', S.CustomSurrogate.apply, x.long(), lambda *a: a[1],
         match='`x` must be a floating-point tensor'),
    ok('compat.snntorch.surrogate.CustomSurrogate', 'the user backward', lambda t: grad_of(S.CustomSurrogate.apply, t,
       lambda inp, gr, spk: gr * 3 * spk), x, check=close(3 * fired(x))),
]

# factory: (keyword arguments, a bad value and its error type and message, the naive g')
FACTORIES = {
    'atan': (dict(alpha=1.5), ('alpha', -1., ValueError, '> 0, got -1.0'), naive_atan_grad(x, 1.5)),
    'sigmoid': (dict(slope=4.), ('slope', 0, ValueError, '> 0, got 0'), sig(4.)),
    'fast_sigmoid': (dict(slope=3.), ('slope', 'x', TypeError, "got 'x'"), fsig(3.)),
    'triangular': (dict(threshold=0.5), ('threshold', -0.5, ValueError, '> 0, got -0.5'), naive_triangle_grad(x, 0.5)),
    'spike_rate_escape': (dict(beta=2., slope=3.), ('slope', NAN, ValueError, 'got nan'), escape(2., 3.)),
    'SFS': (dict(slope=2., B=-0.5), ('B', INF, ValueError, 'got inf'), fsig(2.) * (x > -0.5)),
    'LSO': (dict(slope=0.3), ('slope', None, TypeError, 'got None'), naive_leaky_operator_grad(x, 0.3)),
    'SSO': (dict(mean=0.1, variance=0.), ('variance', [0.2], TypeError, 'got list'), fired(x)),
    'straight_through_estimator': ({}, None, torch.ones_like(x)),
    'heaviside': ({}, None, fired(x)),
}
for name, (kw, bad, grad) in FACTORIES.items():
    factory, target = getattr(S, name), f'compat.snntorch.surrogate.{name}'
    CASES += [
        terr(target, 'called on an int tensor', lambda t, f=factory, kw=kw: f(**kw)(t), x.long(),
             match='`x` must be a floating-point tensor, got a torch.int64'),
        ok(target, 'spikes are the step (1 at 0)', lambda t, f=factory, kw=kw: f(**kw)(t), x, check=spikes_of(x)),
        ok(target, 'the gradient', lambda t, f=factory, kw=kw: grad_of(f(**kw), t), x, check=close(grad)),
    ]
    if bad is not None:
        k, v, error, text = bad
        CASES.append(err(target, f'{k}={v!r}', factory, **{**kw, k: v}, raises=error, match=f'`{k}` must be a finite real number'))
        CASES.append(err(target, f'{k}={v!r}: the message', factory, **{**kw, k: v}, raises=error, match=text))

CC = 'compat.snntorch.surrogate.custom_surrogate'
CASES += [
    terr(CC, 'not callable', S.custom_surrogate, 3, match='`custom_surrogate_function` must be'),
    terr(CC, 'called on an int tensor', lambda t: S.custom_surrogate(lambda *a: a[1])(t), x.long(),
         match='`x` must be a floating-point tensor'),
    ok(CC, 'the user backward, which changes its grad in place', lambda t: grad_of(S.custom_surrogate(
       lambda inp, gr, spk: gr.mul_(2) / (1 + inp.abs())), t), x, check=close(2 / (1 + x.abs()))),
]
