"""Bad-input cases for `snnlit.demo`: the data split, rate coding, the spiking MLP, evaluation,
training and the command line (also once as `python -m snnlit.demo` in a subprocess).

Results are checked against what they must be by construction: intensities 0 and 1 never / always spike, the
split is a partition of the 1797 digits, the MLP equals Linear and the LIF recursion written out per step.
"""
import contextlib, io, math, os, subprocess, sys
from pathlib import Path
import torch
from torch import nn
from badinputs import err, terr, ok, close, finite, dtype_is, all_of, zero_d
from helpers import generator
from snnlit.demo import (SURROGATES, load_digits_split, rate_encode, SpikingMLP, evaluate, train, parse_args,
                         main)

g = generator('demo')
inf, nan = math.inf, math.nan
HALF = (torch.float16, torch.bfloat16)
ROOT = Path(__file__).resolve().parents[2]

def that(predicate):
    "A check that `predicate(result)` holds."
    def check(result): assert predicate(result), result
    return check

def rand(*shape, dtype=torch.float32): return torch.rand(*shape, generator=g).to(dtype)

CASES = []

# ================================================================= SURROGATES
T_ = 'demo.SURROGATES'
for name, cls in SURROGATES.items():
    _v = torch.randn(50, generator=g)
    CASES.append(ok(T_, f'{name!r}: a spike function (Heaviside forward)', lambda c, v: c()(v), cls, _v,
                    check=close((_v >= 0).float())))
CASES.append(err(T_, 'an unknown name', lambda: SURROGATES['relu'], raises=KeyError, match='relu'))

# ================================================================= load_digits_split
T_ = 'demo.load_digits_split'
for value in (0., 1., -0.2, 1.5, nan, inf):
    CASES.append(err(T_, f'test_fraction = {value}', load_digits_split, value, match='`test_fraction` must be a finite real number > 0 and < 1'))
    CASES.append(err(T_, f'test_fraction = 0-d tensor {value}', load_digits_split, zero_d(value), match='`test_fraction` must be a finite real number > 0 and < 1'))
for value in (True, '0.2', None):
    CASES.append(terr(T_, f'test_fraction = {value!r}', load_digits_split, value, match='`test_fraction` must be a finite real number'))
CASES.append(err(T_, 'seed < 0', load_digits_split, seed=-1, match='`seed` must be an int >= 0, got -1'))
for value in (1.5, True):
    CASES.append(terr(T_, f'seed = {value!r}', load_digits_split, seed=value, match='`seed` must be an int'))

def _partition(sizes):
    def check(split):
        x_tr, y_tr, x_te, y_te = split
        assert (len(x_tr), len(x_te)) == sizes and len(y_tr) == len(x_tr) and len(y_te) == len(x_te)
        assert x_tr.dtype == torch.float32 and y_tr.dtype == torch.int64 and x_tr.shape[1] == 64
        from sklearn.datasets import load_digits
        images, labels = load_digits(return_X_y=True)
        whole = sorted(map(tuple, (torch.tensor(images, dtype=torch.float64) / 16).tolist()))
        mine = sorted(map(tuple, torch.cat([x_tr, x_te]).double().tolist()))
        assert mine == whole                                           # every digit exactly once, pixels / 16
        assert 0 <= x_tr.min() and x_tr.max() <= 1 and set(torch.cat([y_tr, y_te]).tolist()) == set(range(10))
    return check
CASES.append(ok(T_, 'default split: a partition of the 1797 digits', load_digits_split, check=_partition((1438, 359))))
CASES.append(ok(T_, 'test_fraction as a 0-d tensor', load_digits_split, zero_d(0.5), check=_partition((899, 898))))
CASES.append(ok(T_, 'the same seed gives the same split', lambda: (load_digits_split(seed=3)[3], load_digits_split(seed=3)[3]),
                check=lambda r: close(r[0])(r[1])))

# ================================================================= rate_encode
T_ = 'demo.rate_encode'
for what, value in (('> 1', 1.5), ('< 0', -0.25), ('NaN', nan), ('+inf', inf), ('-inf', -inf), ('255 (a uint8 image as float)', 255.)):
    _x = rand(3, 4); _x[1, 2] = value
    CASES.append(err(T_, f'an intensity {what}', rate_encode, _x, 4, match='`x` must hold intensities in [0, 1] (spike probabilities)'))
for dtype in (torch.uint8, torch.int64, torch.bool):
    CASES.append(terr(T_, f'{dtype} intensities', rate_encode, torch.ones(3, 4, dtype=dtype), 4,
                      match=f'`x` must be a floating-point tensor [B, ...] of intensities, got a {dtype} tensor'))
CASES.append(terr(T_, 'a list', rate_encode, [0.5, 0.2], 4, match='`x` must be a floating-point tensor'))
for value in (0, -1):
    CASES.append(err(T_, f'T = {value}', rate_encode, rand(3), value, match=f'`T` must be an int >= 1, got {value}'))
for value in (2.0, True, '4', torch.tensor(2.)):
    CASES.append(terr(T_, f'T = {value!r}', rate_encode, rand(3), value, match='`T` must be an int'))
CASES.append(terr(T_, 'generator a seed', rate_encode, rand(3), 4, 7, match='`generator` must be a torch.Generator or None, got 7'))

def _spike_train_of(x, T):
    "Intensities 0 and 1 never / always spike: the exact answer."
    def check(spikes):
        assert spikes.shape == (T, *x.shape) and spikes.dtype == x.dtype
        torch.testing.assert_close(spikes, x.expand(T, *x.shape), rtol=0, atol=0)
    return check
_binary = (rand(4, 6) > 0.5).float()
CASES.append(ok(T_, 'intensities 0 and 1', rate_encode, _binary, 5, check=_spike_train_of(_binary, 5)))
for dtype in HALF + (torch.float64,):
    _b = _binary.to(dtype)
    CASES.append(ok(T_, f'{dtype}: dtype kept', rate_encode, _b, 3, check=_spike_train_of(_b, 3)))
CASES.append(ok(T_, 'T = 1, B = 1', rate_encode, _binary[:1], 1, check=_spike_train_of(_binary[:1], 1)))
CASES.append(ok(T_, 'T as a 0-d integer tensor', rate_encode, _binary, torch.tensor(2), check=_spike_train_of(_binary, 2)))
CASES.append(ok(T_, 'empty batch', rate_encode, torch.empty(0, 3), 4, check=that(lambda s: s.shape == (4, 0, 3))))
CASES.append(ok(T_, 'a 0-d intensity', rate_encode, torch.tensor(1.), 3, check=close(torch.ones(3))))
_p = torch.tensor([0.1, 0.5, 0.9])
CASES.append(ok(T_, 'the spike rate is the intensity', lambda x: rate_encode(x.expand(4000, 3), 5, torch.Generator().manual_seed(0)).mean((0, 1)),
                _p, check=close(_p, rtol=0, atol=0.02)))

# ================================================================= SpikingMLP
T_ = 'demo.SpikingMLP'
for name in ('n_in', 'n_hidden', 'n_out'):
    for value in (0, -3):
        CASES.append(err(T_, f'{name} = {value}', SpikingMLP, match=f'`{name}` must be an int >= 1, got {value}', **{name: value}))
    for value in (2.5, True, None):
        CASES.append(terr(T_, f'{name} = {value!r}', SpikingMLP, match=f'`{name}` must be an int', **{name: value}))
for value in (1., 0.5, nan, inf, -2.):
    CASES.append(err(T_, f'tau = {value}', SpikingMLP, tau=value, match='`tau` must be a finite real number > 1'))
    CASES.append(err(T_, f'tau = 0-d tensor {value}', SpikingMLP, tau=zero_d(value), match='`tau` must be a finite real number > 1'))
CASES.append(terr(T_, 'tau a bool', SpikingMLP, tau=True, match='`tau` must be a finite real number, got True'))
CASES.append(err(T_, 'an unknown surrogate', SpikingMLP, surrogate_name='relu', match="`surrogate_name` must be one of 'atan'"))
CASES.append(terr(T_, 'surrogate_name not a string', SpikingMLP, surrogate_name=None, match='`surrogate_name` must be one of'))

def naive_mlp(net, x_seq):
    "Linear -> LIF (tau 2, hard reset to 0, decay_input) -> Linear -> LIF, one step and one element at a time in float64."
    W1, b1, W2, b2 = (p.detach().double() for p in (net[0].weight, net[0].bias, net[2].weight, net[2].bias))
    tau = net[1].tau
    v1 = torch.zeros(x_seq.shape[1], W1.shape[0], dtype=torch.float64); v2 = torch.zeros(x_seq.shape[1], W2.shape[0], dtype=torch.float64)
    out = []
    for x in x_seq.double():
        h1 = v1 + (x @ W1.T + b1 - v1) / tau; s1 = (h1 >= 1).double(); v1 = h1 * (1 - s1)
        h2 = v2 + (s1 @ W2.T + b2 - v2) / tau; s2 = (h2 >= 1).double(); v2 = h2 * (1 - s2)
        out.append(s2)
    return torch.stack(out)

def mlp(seed=0, dtype=torch.float64, **kw):
    torch.manual_seed(seed)
    net = SpikingMLP(**{'n_in': 6, 'n_hidden': 16, 'n_out': 4, **kw})
    with torch.no_grad(): net[0].weight.mul_(4.); net[2].weight.mul_(4.); net[2].bias.add_(0.5)
    return net.to(dtype)

_x = (rand(5, 3, 6) > 0.4).double()
_net = mlp(1)
CASES.append(ok(T_, 'forward: Linear and the LIF recursion', lambda n, x: n(x), _net, _x,
                check=all_of(close(naive_mlp(_net, _x)), that(lambda y: y.sum() > 0)), updates=(0,)))
for name in sorted(SURROGATES):
    _n = mlp(2, surrogate_name=name)
    CASES.append(ok(T_, f'surrogate {name!r}: the same forward', lambda n, x: n(x), _n, _x, check=close(naive_mlp(_n, _x)), updates=(0,)))
_n = mlp(3, tau=zero_d(3.))
CASES.append(ok(T_, 'tau as a 0-d tensor', lambda n, x: n(x), _n, _x, check=close(naive_mlp(_n, _x)), updates=(0,)))
_n = mlp(4)
CASES.append(ok(T_, 'T = 1, B = 1', lambda n, x: n(x), _n, _x[:1, :1], check=close(naive_mlp(_n, _x[:1, :1])), updates=(0,)))
for dtype in HALF:
    CASES.append(ok(T_, f'{dtype}: dtype kept', lambda n, x: n(x), mlp(5, dtype), _x.to(dtype),
                    check=all_of(dtype_is(dtype), that(lambda y: set(y.unique().tolist()) <= {0., 1.})), updates=(0,)))
CASES.append(err(T_, 'a [B, n_in] batch without time axis', lambda n, x: n(x), mlp(6), _x[0],
                 match='`x` must be a floating-point tensor [T, B, n_in] with 3 dimensions'))
CASES.append(err(T_, 'T = 0', lambda n, x: n(x), mlp(6), _x[:0], match='`x` must be a tensor [T, B, n_in] with T >= 1 and n_in = 6'))
CASES.append(err(T_, 'wrong n_in', lambda n, x: n(x), mlp(6), _x[..., :5], match='`x` must be a tensor [T, B, n_in] with T >= 1 and n_in = 6'))
CASES.append(terr(T_, 'integer spikes', lambda n, x: n(x), mlp(6), _x.long(), match='`x` must be a floating-point tensor'))
CASES.append(err(T_, 'batch size changed without reset', lambda n, a, b: (n(a), n(b)), mlp(7), _x, _x[:, :2],
                 match='reset_net', updates=(0,)))
_n = mlp(8)
CASES.append(ok(T_, 'reset() between batches: as a fresh network', lambda n, a, b: (n(a), n.reset(), n(b))[2], _n, _x, _x[:, :2],
                check=close(naive_mlp(_n, _x[:, :2])), updates=(0,)))

# ================================================================= evaluate
T_ = 'demo.evaluate'
_net = mlp(10)
_xe = (rand(9, 6) > 0.5).double()
_ye = torch.randint(0, 4, (9,), generator=g)

def naive_accuracy(net, x, y, T):
    "Intensities 0/1 make the spike trains deterministic: x repeated T times; class = most output spikes (first on ties)."
    counts = naive_mlp(net, x.expand(T, *x.shape)).sum(0)
    return (counts.argmax(1) == y).double().mean().item()

for bs in (512, 4, 1):
    CASES.append(ok(T_, f'batch_size {bs}: the accuracy of a plain forward', evaluate, _net, _xe, _ye, 3, bs,
                    check=close(naive_accuracy(_net, _xe, _ye, 3)), updates=(0,)))
CASES.append(ok(T_, 'training mode restored', lambda n, x, y: (evaluate(n, x, y, 2), n.training)[1], mlp(11).train(), _xe, _ye,
                check=that(lambda training: training is True), updates=(0,)))
_bad = lambda **kw: dict(dict(net=mlp(12), x=_xe, y=_ye, T=2), **kw)
for label, kw, exc, match in (
        ('net not a module', dict(net='mlp'), TypeError, "`net` must be an nn.Module, got 'mlp'"),
        ('net without reset()', dict(net=nn.Linear(6, 4)), TypeError, '`net` must be a SpikingMLP (a module with `reset()`)'),
        ('x without a batch axis', dict(x=_xe[0]), ValueError, '`x` must be a floating-point tensor [N, n_in] with 2 dimensions'),
        ('x integer', dict(x=_xe.long()), TypeError, '`x` must be a floating-point tensor [N, n_in]'),
        ('x float32 for a float64 network', dict(x=_xe.float()), ValueError, "`x` must be a torch.float64 tensor, as the network's weights"),
        ('x empty', dict(x=_xe[:0], y=_ye[:0]), ValueError, '`x` must be a non-empty tensor [N, n_in]'),
        ('x intensities > 1', dict(x=_xe * 2), ValueError, '`x` must hold intensities in [0, 1]'),
        ('x NaN', dict(x=torch.where(_xe > 0, nan, 0.)), ValueError, '`x` must hold intensities in [0, 1]'),
        ('y float', dict(y=_ye.double()), TypeError, '`y` must be an integer tensor [N]'),
        ('y one-hot', dict(y=nn.functional.one_hot(_ye, 4)), ValueError, '`y` must be an integer tensor [N] with 1 dimension'),
        ('y shorter than x', dict(y=_ye[:5]), ValueError, '`y` must be a tensor [N] of class labels with N = len(x) = 9'),
        ('y = n_out', dict(y=torch.full((9,), 4)), ValueError, '`y` must hold class labels in [0, 4), got values from 4 to 4'),
        ('y negative', dict(y=torch.full((9,), -1)), ValueError, '`y` must hold class labels in [0, 4)'),
        ('T = 0', dict(T=0), ValueError, '`T` must be an int >= 1, got 0'),
        ('T a float', dict(T=2.), TypeError, '`T` must be an int, got 2.0'),
        ('batch_size = 0', dict(batch_size=0), ValueError, '`batch_size` must be an int >= 1, got 0')):
    CASES.append(err(T_, label, evaluate, raises=exc, match=match, **_bad(**kw)))

# ================================================================= train
T_ = 'demo.train'
_xt, _yt = (rand(12, 6) > 0.5).float(), torch.randint(0, 4, (12,), generator=g)
def _small(seed=13): return mlp(seed, torch.float32)
_tbad = lambda **kw: dict(dict(net=_small(), x_train=_xt, y_train=_yt, x_test=_xt, y_test=_yt, epochs=1, T=2, batch_size=4,
                               progress=False), **kw)
for label, kw, exc, match in (
        ('epochs = 0', dict(epochs=0), ValueError, '`epochs` must be an int >= 1, got 0'),
        ('T = -1', dict(T=-1), ValueError, '`T` must be an int >= 1, got -1'),
        ('batch_size = 0', dict(batch_size=0), ValueError, '`batch_size` must be an int >= 1, got 0'),
        ('batch_size a float', dict(batch_size=4.), TypeError, '`batch_size` must be an int, got 4.0'),
        ('lr < 0', dict(lr=-1.), ValueError, '`lr` must be a finite real number > 0, got -1.0'),
        ('lr = 0', dict(lr=0.), ValueError, '`lr` must be a finite real number > 0'),
        ('lr NaN', dict(lr=nan), ValueError, '`lr` must be a finite real number > 0'),
        ('lr 0-d tensor inf', dict(lr=zero_d(inf)), ValueError, '`lr` must be a finite real number > 0'),
        ('lr a string', dict(lr='3e-3'), TypeError, '`lr` must be a finite real number'),
        ('rate_scale = 0', dict(rate_scale=0.), ValueError, '`rate_scale` must be a finite real number > 0'),
        ('seed < 0', dict(seed=-1), ValueError, '`seed` must be an int >= 0, got -1'),
        ('progress an int', dict(progress=1), TypeError, '`progress` must be a bool (True or False), got 1'),
        ('x_train intensities > 1', dict(x_train=_xt * 16), ValueError, '`x_train` must hold intensities in [0, 1]'),
        ('y_train out of range', dict(y_train=_yt + 4), ValueError, '`y_train` must hold class labels in [0, 4)'),
        ('y_test of another length', dict(y_test=_yt[:3]), ValueError, '`y_test` must be a tensor [N] of class labels with N = len(x_test) = 12'),
        ('x_test empty', dict(x_test=_xt[:0], y_test=_yt[:0]), ValueError, '`x_test` must be a non-empty tensor [N, n_in]'),
        ('net not a module', dict(net=None), TypeError, '`net` must be an nn.Module, got None')):
    CASES.append(err(T_, label, train, raises=exc, match=match, **_tbad(**kw)))

def train_twice(**kw):
    "Two runs from the same weights and seed: the same history (the same computation), and the weights moved."
    nets = [_small(14), _small(14)]
    init = [p.detach().clone() for p in nets[0].parameters()]
    hist = [train(n, _xt, _yt, _xt, _yt, **kw) for n in nets]
    return hist, init, nets
def _trained(epochs):
    def check(r):
        hist, init, nets = r
        assert hist[0] == hist[1] and len(hist[0]) == epochs and all(0 <= a <= 1 for a in hist[0])
        assert all(not torch.equal(a, p) for a, p in zip(init, nets[0].parameters()) if a.numel() > 1)
        for p, q in zip(*(n.parameters() for n in nets)): torch.testing.assert_close(p, q, rtol=0, atol=0)
    return check
CASES.append(ok(T_, 'two epochs, reproducible, weights move', train_twice, epochs=2, T=2, batch_size=5, progress=False, check=_trained(2)))
CASES.append(ok(T_, 'lr and rate_scale as 0-d tensors, batch_size 1', train_twice, epochs=1, T=1, batch_size=1, lr=zero_d(1e-2),
                rate_scale=zero_d(5.), progress=False, check=_trained(1)))

def train_with_bar(progress):
    "One epoch with stderr captured: what the progress bar (tqdm) wrote."
    with contextlib.redirect_stderr(io.StringIO()) as err_:
        hist = train(_small(15), _xt, _yt, _xt, _yt, epochs=2, T=1, batch_size=4, progress=progress)
    return hist, err_.getvalue()
CASES.append(ok(T_, 'progress=True: one tqdm bar on stderr over all batches, accuracy in its postfix', train_with_bar, True,
                check=that(lambda r: '6/6' in r[1] and f'test accuracy {r[0][-1]:.4f}' in r[1] and r[1].count('\n') <= 1)))
CASES.append(ok(T_, 'progress=False: nothing on stderr', train_with_bar, False, check=that(lambda r: r[1] == '')))

# ================================================================= parse_args / main
def usage_error(fn, argv):
    "Run the parser on `argv`; return (exit status, stderr)."
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try: fn(argv)
        except SystemExit as e: return e.code, stderr.getvalue()
    return None, stderr.getvalue()

def is_usage_error(flag, text):
    def check(r):
        code, message = r
        assert code == 2 and 'usage: python -m snnlit.demo' in message, r
        assert f'argument {flag}: {text}' in message, message
    return check

T_ = 'demo.parse_args'
for flag, value, text in (
        ('--epochs', '0', "must be an integer >= 1, got '0'"), ('--epochs', '1.5', "must be an integer >= 1, got '1.5'"),
        ('--T', '-2', "must be an integer >= 1, got '-2'"), ('--T', 'x', "must be an integer >= 1, got 'x'"),
        ('--hidden', '0', "must be an integer >= 1"), ('--batch-size', '0', "must be an integer >= 1"),
        ('--lr', '-1', "must be a finite number > 0, got '-1'"), ('--lr', '0', "must be a finite number > 0"),
        ('--lr', 'nan', "must be a finite number > 0, got 'nan'"), ('--lr', 'inf', "must be a finite number > 0"),
        ('--lr', 'fast', "must be a finite number > 0, got 'fast'"), ('--seed', '-1', "must be an integer >= 0, got '-1'"),
        ('--surrogate', 'relu', "invalid choice: 'relu'")):
    CASES.append(ok(T_, f'{flag} {value}', usage_error, parse_args, [flag, value], check=is_usage_error(flag, text)))
CASES.append(ok(T_, 'an unknown flag', usage_error, parse_args, ['--gpu'], check=that(lambda r: r[0] == 2 and 'unrecognized arguments: --gpu' in r[1])))
CASES.append(ok(T_, 'defaults', parse_args, [], check=that(lambda a: (a.epochs, a.T, a.hidden, a.surrogate, a.lr, a.batch_size, a.seed, a.no_progress)
                                                           == (30, 16, 512, 'atan', 3e-3, 32, 0, False))))
CASES.append(ok(T_, 'every flag given', parse_args, ['--epochs', '2', '--T', '4', '--hidden', '8', '--surrogate', 'sigmoid', '--lr', '0.01',
                                                     '--batch-size', '1', '--seed', '5', '--no-progress'],
                check=that(lambda a: (a.epochs, a.T, a.hidden, a.surrogate, a.lr, a.batch_size, a.seed, a.no_progress)
                                     == (2, 4, 8, 'sigmoid', 0.01, 1, 5, True))))

T_ = 'demo.main'
CASES.append(ok(T_, '--lr -1: a usage error, not a traceback from Adam', usage_error, main, ['--lr', '-1'],
                check=is_usage_error('--lr', "must be a finite number > 0, got '-1'")))
CASES.append(ok(T_, '--epochs 0', usage_error, main, ['--epochs', '0'], check=is_usage_error('--epochs', 'must be an integer >= 1')))

def run_module(*argv):
    env = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    res = subprocess.run([sys.executable, '-m', 'snnlit.demo', *argv], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    return res.returncode, res.stderr
CASES.append(ok(T_, 'python -m snnlit.demo --lr -1 (a subprocess): exit status 2 and the usage', run_module, '--lr', '-1',
                check=all_of(is_usage_error('--lr', "must be a finite number > 0, got '-1'"), that(lambda r: 'Traceback' not in r[1]))))

def quiet_main(argv):
    with contextlib.redirect_stdout(io.StringIO()) as out: acc = main(argv)
    return acc, out.getvalue()
CASES.append(ok(T_, 'a short run: the accuracy it prints', quiet_main,
                ['--epochs', '1', '--hidden', '16', '--T', '2', '--batch-size', '256', '--no-progress'],
                check=that(lambda r: 0 <= r[0] <= 1 and f'test accuracy: {r[0]:.4f}' in r[1])))
