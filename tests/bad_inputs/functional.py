"""Bad inputs for snnlit.functional: every public name, each case with its one right outcome.

Success cases are checked against the naive formulas of tests/oracles_functional.py (loops over time / channels).
Functions that change modules in place list the module in `updates`; error cases do not, so the sweep
checks that a refused call left every tensor of the caller's modules as it was.
"""
import math, warnings
import torch
from torch import nn
from badinputs import err, terr, ok, close, all_of, finite, dtype_is, zero_d, grad_of
from helpers import generator, stable_seed
from oracles import naive_lif, naive_delay, naive_one_hot, naive_first_spike, naive_margin
from snnlit import functional as F
import snnlit.losses, snnlit.online
from snnlit.base import MemoryModule
from snnlit.neuron import IFNode, LIFNode, StepModeContainer, SeqToANNContainer

g = generator('functional')
NAN, INF = float('nan'), float('inf')

def randn(*shape, dtype=torch.float32): return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
def rand(*shape, dtype=torch.float32): return torch.rand(*shape, generator=g, dtype=torch.float64).to(dtype)

def is_(expected):
    def check(result): assert result is expected, f'{result!r} is not {expected!r}'
    return check

def equals(expected):
    def check(result): assert result == expected, f'{result!r} != {expected!r}'
    return check

def differs(a, b): assert not torch.equal(a, b), 'the tensor did not change'

def not_sharing(x):
    def check(result): assert result.data_ptr() != x.data_ptr(), 'the result shares the input\'s memory'
    return check

def shape_is(*shape):
    def check(result): assert tuple(result.shape) == shape, f'shape {tuple(result.shape)}, expected {shape}'
    return check

def _raises(fn, exc, text):
    "Run fn, which must raise `exc` with `text` in its message (for cases that then inspect the module)."
    try: fn()
    except exc as e:
        assert text in str(e), f'message {str(e)!r} lacks {text!r}'
        return
    raise AssertionError(f'no {exc.__name__} raised')

def seeded(fn, *parts):
    "fn(...) run on the global generator seeded by `parts`, leaving the caller's generator state as it was."
    def run(*args):
        with torch.random.fork_rng():
            torch.manual_seed(stable_seed('functional', *parts))
            return fn(*args)
    return run

CASES = []

# =============================================================================================================
# naive references: tests/oracles_functional.py

# =============================================================================================================
# reset_net / detach_net

class Counter(nn.Module):             # a plain module with reset()/detach(): called, silently
    def __init__(self): super().__init__(); self.resets = self.detaches = 0
    def reset(self): self.resets += 1
    def detach(self): self.detaches += 1

class NeedsArgs(nn.Module):           # reset(seed)/detach(x): not snnlit's kind, skipped
    def __init__(self): super().__init__(); self.calls = 0
    def reset(self, seed): self.calls += 1
    def detach(self, x): self.calls += 1

class ResetBuffer(nn.Module):         # `reset` is a tensor, not a method
    def __init__(self): super().__init__(); self.register_buffer('reset', torch.ones(2)); self.detach = 3

x_mlp = rand(4, 2, 3, dtype=torch.float64) * 3
for name, fn in (('reset_net', F.reset_net), ('detach_net', F.detach_net)):
    t = f'functional.{name}'
    CASES += [
        terr(t, 'net is a tensor', fn, randn(3), match='`net` must be an nn.Module, got a torch.float32 tensor'),
        terr(t, 'net is None', fn, None, match='`net` must be an nn.Module, got None'),
        terr(t, 'net is a list of modules', fn, [LIFNode()], match='`net` must be an nn.Module, got list'),
        terr(t, 'net is a module class, not an instance', fn, LIFNode, match='`net` must be an nn.Module'),
        ok(t, 'no stateful module: nothing changes', fn, nn.Sequential(nn.Linear(3, 2), nn.ReLU()), check=is_(None)),
        ok(t, 'a module whose method needs arguments is skipped', lambda n, fn=fn: (fn(n), n[1].calls)[1],
           nn.Sequential(LIFNode(), NeedsArgs()), check=equals(0), updates=(0,)),
        ok(t, 'a plain module with the method is called', lambda n, fn=fn: (fn(n), n[1].resets + n[1].detaches)[1],
           nn.Sequential(LIFNode(), Counter()), check=equals(1), updates=(0,)),
        ok(t, 'an attribute of that name that is not callable is skipped', fn, ResetBuffer(), check=is_(None)),
        ok(t, 'a neuron that never ran', lambda n, fn=fn: (fn(n), n.v)[1], LIFNode(), check=equals(0.), updates=(0,)),
    ]

CASES += [
    ok('functional.reset_net', 'membranes back to v_reset after a run, nested containers included',
       lambda n, x: (n[0](x), n[1](x[0]), F.reset_net(n), (n[0].v, n[1][0].v))[-1],
       nn.Sequential(LIFNode(step_mode='m'), StepModeContainer(True, IFNode())), x_mlp,
       check=equals((0., 0.)), updates=(0,)),
    ok('functional.reset_net', 'batch size may change after a reset',
       lambda n, a, b: (n(a), F.reset_net(n), n(b))[-1], LIFNode(step_mode='m'), rand(3, 2, 4) * 3, rand(3, 5, 4) * 3,
       check=shape_is(3, 5, 4), updates=(0,)),
    ok('functional.reset_net', 'after a reset the same input gives the first run\'s spikes',
       lambda n, x: (n(x), F.reset_net(n), n(x))[-1], LIFNode(step_mode='m'), x_mlp,
       check=close(lambda: naive_lif(x_mlp)), updates=(0,)),
    ok('functional.detach_net', 'memories leave the graph',
       lambda n, x: (n(x), F.detach_net(n), (n.v.requires_grad, n.v.grad_fn))[-1],
       LIFNode(step_mode='m'), (rand(4, 2, 3) * 3).requires_grad_(), check=equals((False, None)), updates=(0,)),
    ok('functional.detach_net', 'memories keep their values',
       lambda n, x: (n(x), (n.v.detach().clone(), F.detach_net(n), n.v))[-1],
       LIFNode(step_mode='m', v_reset=None), (rand(4, 2, 3) * 3).requires_grad_(),
       check=lambda r: close(r[0])(r[2]), updates=(0,)),
    ok('functional.detach_net', 'backward through a second sequence after detach_net works',
       lambda n, x: (n(x).sum().backward(), F.detach_net(n), grad_of(lambda y: n(y), x))[-1],
       LIFNode(step_mode='m', v_reset=None), (rand(4, 2, 3) * 3).requires_grad_(), check=finite, updates=(0,)),
]

# =============================================================================================================
# set_step_mode

def modes(net): return [m.step_mode for m in net.modules() if hasattr(m, 'step_mode')]

class SingleOnly(MemoryModule):
    def supported_step_mode(self): return ('s',)

t = 'functional.set_step_mode'
CASES += [
    terr(t, 'net is a tensor', F.set_step_mode, randn(2), 'm', match='`net` must be an nn.Module'),
    terr(t, 'net is a string', F.set_step_mode, 'net', 'm', match="`net` must be an nn.Module, got 'net'"),
    err(t, "step_mode 'multi'", F.set_step_mode, LIFNode(), 'multi', match="`step_mode` must be one of 's', 'm', got 'multi'"),
    err(t, "step_mode 'M' (case matters)", F.set_step_mode, LIFNode(), 'M', match="`step_mode` must be one of 's', 'm', got 'M'"),
    err(t, 'step_mode empty string', F.set_step_mode, LIFNode(), '', match="`step_mode` must be one of 's', 'm'"),
    terr(t, 'step_mode None', F.set_step_mode, LIFNode(), None, match="`step_mode` must be one of 's', 'm', got None"),
    terr(t, 'step_mode an int', F.set_step_mode, LIFNode(), 1, match="`step_mode` must be one of 's', 'm', got 1"),
    terr(t, 'step_mode a bool', F.set_step_mode, LIFNode(), True, match="`step_mode` must be one of 's', 'm', got True"),
    ok(t, 'a mode one module does not support: refused, nothing switched',
       lambda n: (_raises(lambda: F.set_step_mode(n, 'm'), ValueError, "not supported by SingleOnly"), modes(n))[1],
       nn.Sequential(LIFNode(), SingleOnly()), check=equals(['s', 's'])),
    ok(t, 'nested modules switched, container children kept', lambda n: (F.set_step_mode(n, 'm'), modes(n))[1],
       nn.Sequential(nn.Sequential(LIFNode()), StepModeContainer(True, IFNode()), SeqToANNContainer(nn.Linear(2, 2))),
       check=equals(['m', 'm', 's']), updates=(0,)),
    ok(t, 'a network without step modes', lambda n: (F.set_step_mode(n, 'm'), modes(n))[1], nn.Linear(2, 2),
       check=equals([])),
    ok(t, 'setting the mode a module already has', lambda n: (F.set_step_mode(n, 's'), modes(n))[1], LIFNode(),
       check=equals(['s']), updates=(0,)),
]

# =============================================================================================================
# set_backend

def backends(net): return [m.backend for m in net.modules() if hasattr(m, 'backend')]

t = 'functional.set_backend'
CASES += [
    terr(t, 'net is a tensor', F.set_backend, randn(2), 'torch', match='`net` must be an nn.Module'),
    terr(t, 'net is None', F.set_backend, None, 'torch', match='`net` must be an nn.Module, got None'),
    terr(t, 'backend None', F.set_backend, LIFNode(), None, match="`backend` must be a str such as 'torch', got None"),
    terr(t, 'backend an int', F.set_backend, LIFNode(), 1, match="`backend` must be a str such as 'torch', got 1"),
    terr(t, 'backend a tuple', F.set_backend, LIFNode(), ('torch',), match="`backend` must be a str such as 'torch'"),
    terr(t, 'instance a string', F.set_backend, LIFNode(), 'torch', instance='LIFNode',
         match="`instance` must be a type or a non-empty tuple of types, got 'LIFNode'"),
    terr(t, 'instance an empty tuple', F.set_backend, LIFNode(), 'torch', instance=(),
         match='`instance` must be a type or a non-empty tuple of types, got tuple ()'),
    terr(t, 'instance a list of types', F.set_backend, LIFNode(), 'torch', instance=[LIFNode],
         match='`instance` must be a type or a non-empty tuple of types'),
    terr(t, 'instance holds a non-type', F.set_backend, LIFNode(), 'torch', instance=(LIFNode, 3),
         match='`instance` must be a type or a non-empty tuple of types'),
    ok(t, 'an unsupported backend leaves the module as it was', lambda n: (F.set_backend(n, 'cupy'), backends(n))[1],
       nn.Sequential(LIFNode(), IFNode()), check=equals(['torch', 'torch'])),
    ok(t, 'an empty backend name is unsupported everywhere', lambda n: (F.set_backend(n, ''), backends(n))[1],
       LIFNode(), check=equals(['torch'])),
    ok(t, "'fused' set on every neuron", lambda n: (F.set_backend(n, 'fused'), backends(n))[1],
       nn.Sequential(LIFNode(step_mode='m'), nn.Linear(3, 3), IFNode(step_mode='m')), check=equals(['fused', 'fused']),
       updates=(0,)),
    ok(t, 'instance restricts the modules switched', lambda n: (F.set_backend(n, 'fused', instance=IFNode), backends(n))[1],
       nn.Sequential(LIFNode(), IFNode()), check=equals(['torch', 'fused']), updates=(0,)),
    ok(t, "'fused' gives the 'torch' spikes (naive LIF loop)",
       lambda n, x: (F.set_backend(n, 'fused'), n(x))[1], LIFNode(step_mode='m'), x_mlp,
       check=close(lambda: naive_lif(x_mlp)), updates=(0,)),
]

# =============================================================================================================
# set_threshold_margin

def margin(layer, labels, *args, **kw):
    F.set_threshold_margin(layer, labels, *args, **kw)
    return layer.v_threshold

onehot = nn.functional.one_hot(torch.tensor([2, 0, 1, 2]), 3).float()
square = nn.functional.one_hot(torch.tensor([1, 2, 0]), 3).float()   # B == C: class indices would broadcast silently
t = 'functional.set_threshold_margin'
CASES += [
    terr(t, 'output_layer is a tensor', F.set_threshold_margin, randn(2), onehot, match='`output_layer` must be an nn.Module'),
    terr(t, 'output_layer without v_threshold', F.set_threshold_margin, nn.Linear(3, 3), onehot,
         match='`output_layer` must be a spiking neuron layer with a `v_threshold`'),
    terr(t, 'labels a nested list', F.set_threshold_margin, IFNode(), onehot.tolist(), match='`label_one_hot` must be a tensor [B, C], got list'),
    terr(t, 'class indices [B] instead of one-hot [B, C]', F.set_threshold_margin, IFNode(), torch.tensor([2, 0, 1, 2]),
         match='`label_one_hot` must be a one-hot tensor [B, C], not class indices [B]'),
    terr(t, 'class indices with B == C (the silent wrong answer before)', F.set_threshold_margin, IFNode(), torch.tensor([1, 2, 0]),
         match='convert them with `nn.functional.one_hot(labels, num_classes)`'),
    terr(t, 'int32 class indices', F.set_threshold_margin, IFNode(), torch.tensor([1, 0], dtype=torch.int32),
         match='not class indices [B]'),
    err(t, 'float labels [B]', F.set_threshold_margin, IFNode(), torch.tensor([1., 0., 1.]),
        match='`label_one_hot` must be a one-hot tensor [B, C] with 2 dimensions, got a torch.float32 tensor of shape (3,)'),
    err(t, 'bool labels [B]', F.set_threshold_margin, IFNode(), torch.tensor([True, False]),
        match='`label_one_hot` must be a one-hot tensor [B, C] with 2 dimensions, got a torch.bool tensor of shape (2,)'),
    err(t, 'labels [B, C, 1]', F.set_threshold_margin, IFNode(), onehot[..., None], match='with 2 dimensions, got a torch.float32 tensor of shape (4, 3, 1)'),
    err(t, '0-d labels', F.set_threshold_margin, IFNode(), torch.tensor(1.), match='with 2 dimensions, got a 0-d torch.float32 tensor holding 1.0'),
    terr(t, 'complex labels', F.set_threshold_margin, IFNode(), onehot.to(torch.complex64), match='`label_one_hot` must be a real one-hot tensor [B, C]'),
    err(t, 'soft labels (label smoothing)', F.set_threshold_margin, IFNode(), onehot * 0.9 + 0.1 / 3,
        match='`label_one_hot` must be a one-hot tensor [B, C] holding only 0s and 1s'),
    err(t, 'NaN in the labels', F.set_threshold_margin, IFNode(), torch.tensor([[NAN, 1.]]), match='holding only 0s and 1s'),
    err(t, 'a label 2 in an integer one-hot', F.set_threshold_margin, IFNode(), torch.tensor([[0, 2]]), match='holding only 0s and 1s'),
    err(t, 'soft labels refused in eval mode too', F.set_threshold_margin, IFNode().eval(), torch.full((2, 3), 0.5), match='holding only 0s and 1s'),
]
for arg in ('eval_threshold', 'threshold0', 'threshold1'):
    for label, value, exc, text in (('NaN', NAN, ValueError, 'a finite real number, got nan'),
                                    ('inf', INF, ValueError, 'a finite real number, got inf'),
                                    ('-inf', -INF, ValueError, 'a finite real number, got -inf'),
                                    ('0-d NaN', zero_d(NAN), ValueError, 'a finite real number, got a 0-d torch.float32 tensor holding nan'),
                                    ('0-d inf', zero_d(INF), ValueError, 'a finite real number'),
                                    ('a string', '1.1', TypeError, "a finite real number, got '1.1'"),
                                    ('None', None, TypeError, 'a finite real number, got None'),
                                    ('a bool', True, TypeError, 'a finite real number, got True'),
                                    ('a 0-d bool tensor', torch.tensor(True), TypeError, 'a finite real number'),
                                    ('a 1-d tensor', torch.tensor([1.]), TypeError, 'a finite real number')):
        CASES.append(err(t, f'{arg} {label}', F.set_threshold_margin, IFNode(), onehot, raises=exc,
                         match=f'`{arg}` must be {text}', **{arg: value}))
CASES += [
    ok(t, 'float32 one-hot: threshold1 on the label, threshold0 elsewhere', margin, IFNode(), onehot, 1.0, 0.7, 1.4,
       check=close(lambda: naive_margin(onehot, 0.7, 1.4).float()), updates=(0,)),
    ok(t, 'B == C one-hot: margins along the class axis', margin, IFNode(), square,
       check=close(lambda: naive_margin(square, 0.9, 1.1).float()), updates=(0,)),
    ok(t, 'float16 one-hot keeps float16', margin, IFNode(), onehot.half(),
       check=all_of(dtype_is(torch.float16), close(lambda: naive_margin(onehot, 0.9, 1.1).half())), updates=(0,)),
    ok(t, 'bfloat16 one-hot keeps bfloat16', margin, IFNode(), onehot.bfloat16(),
       check=all_of(dtype_is(torch.bfloat16), close(lambda: naive_margin(onehot, 0.9, 1.1).bfloat16())), updates=(0,)),
    ok(t, 'float64 one-hot keeps float64', margin, IFNode(), onehot.double(),
       check=all_of(dtype_is(torch.float64), close(lambda: naive_margin(onehot, 0.9, 1.1))), updates=(0,)),
    ok(t, 'int64 one-hot: default dtype', margin, IFNode(), onehot.long(),
       check=all_of(dtype_is(torch.get_default_dtype()), close(lambda: naive_margin(onehot, 0.9, 1.1).float())), updates=(0,)),
    ok(t, 'bool one-hot', margin, IFNode(), onehot.bool(),
       check=close(lambda: naive_margin(onehot, 0.9, 1.1).float()), updates=(0,)),
    ok(t, 'multi-hot rows', margin, IFNode(), torch.tensor([[1., 1., 0.], [0., 0., 0.]]),
       check=close(torch.tensor([[1.1, 1.1, 0.9], [0.9, 0.9, 0.9]])), updates=(0,)),
    ok(t, 'batch of one', margin, IFNode(), onehot[:1], check=close(lambda: naive_margin(onehot[:1], 0.9, 1.1).float()), updates=(0,)),
    ok(t, 'empty batch B=0', margin, IFNode(), onehot[:0], check=shape_is(0, 3), updates=(0,)),
    ok(t, 'thresholds as 0-d tensors', margin, IFNode(), onehot, zero_d(1.), zero_d(0.5), zero_d(2.),
       check=close(lambda: naive_margin(onehot, 0.5, 2.).float()), updates=(0,)),
    err(t, 'threshold1 1e5 overflows float16 labels', F.set_threshold_margin, IFNode(), onehot.half(), threshold1=1e5,
        match="`threshold1` must be representable in the labels' dtype torch.float16, got 100000.0"),
    err(t, 'threshold0 -1e39 overflows float32 labels', F.set_threshold_margin, IFNode(), onehot, threshold0=-1e39,
        match="`threshold0` must be representable in the labels' dtype torch.float32"),
    ok(t, 'threshold1 1e5 with float32 labels', margin, IFNode(), onehot, 1.0, 0.9, 1e5,
       check=close(lambda: naive_margin(onehot, 0.9, 1e5).float()), updates=(0,)),
    ok(t, 'eval mode: eval_threshold', margin, IFNode().eval(), onehot, 0.75, check=equals(0.75), updates=(0,)),
    ok(t, 'the layer fires by its per-sample thresholds',
       lambda n, y, x: (F.set_threshold_margin(n, y), n(x))[1], IFNode(), square, torch.tensor([[1.0, 1.0, 1.05]] * 3),
       check=close(lambda: (torch.tensor([[1.0, 1.0, 1.05]] * 3).double() >= naive_margin(square, 0.9, 1.1)).float()),
       updates=(0,)),
]

# =============================================================================================================
# multi_step_forward

x_seq = randn(6, 3, 4)
x64 = x_seq.double()
fc = nn.Linear(4, 2)

def shrinking():
    "A module whose output has 3 rows on the first call, 2 after."
    calls = []
    return lambda x: (calls.append(1), x[:3 if len(calls) == 1 else 2])[1]

def float_then_double():
    "A module whose first output is float32 and second float64."
    dtypes = iter([torch.float32, torch.float64])
    return lambda x: x.to(next(dtypes))

t = 'functional.multi_step_forward'
CASES += [
    terr(t, 'x_seq a list', F.multi_step_forward, x_seq.tolist(), fc, match='`x_seq` must be a tensor [T, B, ...], got list'),
    err(t, '0-d x_seq', F.multi_step_forward, torch.tensor(1.), fc, match='`x_seq` must be a tensor [T, B, ...] with at least 1 dimension'),
    err(t, 'T=0', F.multi_step_forward, x_seq[:0], fc, match='`x_seq` must be a tensor [T, B, ...] with at least one time step, got a torch.float32 tensor of shape (0, 3, 4)'),
    terr(t, 'module an int', F.multi_step_forward, x_seq, 3, match='`single_step_module` must be a module, a callable, or a list/tuple of them, got 3'),
    terr(t, 'module None', F.multi_step_forward, x_seq, None, match='`single_step_module` must be a module, a callable, or a list/tuple of them, got None'),
    err(t, 'an empty list of modules', F.multi_step_forward, x_seq, [], match='`single_step_module` must be a module or a non-empty list/tuple of modules, got list []'),
    terr(t, 'a string in the list', F.multi_step_forward, x_seq, [fc, 'relu'], match="`single_step_module[1]` must be callable, got 'relu'"),
    terr(t, 'module returns a tuple', F.multi_step_forward, x_seq, lambda x: (x, x),
         match='`single_step_module` must return a tensor at every step, got tuple'),
    terr(t, 'module returns None', F.multi_step_forward, x_seq, lambda x: None,
         match='`single_step_module` must return a tensor at every step, got None at step 0'),
    err(t, 'output shape changes between steps', lambda x: F.multi_step_forward(x, shrinking()), x_seq,
        match='`single_step_module` must return outputs of one shape at every step, got (3, 4) at step 0 and (2, 4) at step 1'),
    err(t, 'a multi-step neuron', F.multi_step_forward, x_seq, [fc, LIFNode(step_mode='m')],
        match="`single_step_module` must run in step mode 's', but it holds a LIFNode in step mode 'm'"),
    err(t, 'a multi-step neuron inside nn.Sequential', F.multi_step_forward, x_seq, nn.Sequential(fc, nn.Sequential(IFNode(step_mode='m'))),
        match="holds a IFNode in step mode 'm': switch it with `functional.set_step_mode(module, 's')`"),
    err(t, 'a SeqToANNContainer (always multi-step)', F.multi_step_forward, x_seq, SeqToANNContainer(fc),
        match="`single_step_module` must run in step mode 's', but it holds a SeqToANNContainer in step mode 'm'"),
    ok(t, 'a single-step StepModeContainer with single-step children', F.multi_step_forward, x64 * 3,
       StepModeContainer(False, LIFNode()), check=close(lambda: naive_lif(x64 * 3)), updates=(1,)),
    ok(t, 'LIF step by step vs the naive LIF loop', F.multi_step_forward, x64 * 3, LIFNode(),
       check=close(lambda: naive_lif(x64 * 3)), updates=(1,)),
    ok(t, 'a list is applied in order', F.multi_step_forward, x_seq, [torch.tanh, lambda x: x * 2],
       check=close(torch.tanh(x_seq) * 2)),
    ok(t, 'T=1', F.multi_step_forward, x_seq[:1], fc, check=close(lambda: fc(x_seq[0])[None])),
    ok(t, 'batch size 0', F.multi_step_forward, x_seq[:, :0], [fc, LIFNode()], check=shape_is(6, 0, 2), updates=(1,)),
    ok(t, 'x_seq [T]: 0-d steps', F.multi_step_forward, x_seq[:, 0, 0], torch.sin, check=close(torch.sin(x_seq[:, 0, 0]))),
    ok(t, 'float16 kept, values vs float64', F.multi_step_forward, x_seq.half(), torch.tanh,
       check=all_of(dtype_is(torch.float16), close(lambda: torch.tanh(x_seq.half().double()).half()))),
    ok(t, 'bfloat16 kept, values vs float64', F.multi_step_forward, x_seq.bfloat16(), torch.tanh,
       check=all_of(dtype_is(torch.bfloat16), close(lambda: torch.tanh(x_seq.bfloat16().double()).bfloat16()))),
    ok(t, 'integer input to a module that takes integers', F.multi_step_forward, torch.arange(6).view(3, 2), lambda x: x * 2,
       check=all_of(dtype_is(torch.int64), close(torch.arange(6).view(3, 2) * 2))),
    ok(t, 'NaN at the last step leaves the earlier steps alone (LIF is causal)', F.multi_step_forward,
       torch.cat([x64[:5] * 3, torch.full((1, 3, 4), NAN, dtype=torch.float64)]), LIFNode(),
       check=lambda y: close(lambda: naive_lif(x64[:5] * 3))(y[:5]), updates=(1,)),
]

# =============================================================================================================
# chunk_multi_step_forward

def lif_m(): return LIFNode(step_mode='m')

def in_mode(module, step_mode):
    module.step_mode = step_mode
    return module
t = 'functional.chunk_multi_step_forward'
CASES += [
    terr(t, 'split_size a float', F.chunk_multi_step_forward, 2.0, x_seq, lif_m(), match='`split_size` must be an int, got 2.0'),
    terr(t, 'split_size a bool', F.chunk_multi_step_forward, True, x_seq, lif_m(), match='`split_size` must be an int, got True'),
    terr(t, 'split_size a string', F.chunk_multi_step_forward, '2', x_seq, lif_m(), match="`split_size` must be an int, got '2'"),
    terr(t, 'split_size None', F.chunk_multi_step_forward, None, x_seq, lif_m(), match='`split_size` must be an int, got None'),
    terr(t, 'split_size a 0-d float tensor', F.chunk_multi_step_forward, zero_d(2.), x_seq, lif_m(), match='`split_size` must be an int, got a 0-d torch.float32 tensor'),
    err(t, 'split_size 0', F.chunk_multi_step_forward, 0, x_seq, lif_m(), match='`split_size` must be an int >= 1, got 0'),
    err(t, 'split_size -3', F.chunk_multi_step_forward, -3, x_seq, lif_m(), match='`split_size` must be an int >= 1, got -3'),
    err(t, 'split_size a 0-d int tensor 0', F.chunk_multi_step_forward, zero_d(0, torch.int64), x_seq, lif_m(), match='`split_size` must be an int >= 1'),
    terr(t, 'x_seq a list', F.chunk_multi_step_forward, 2, x_seq.tolist(), lif_m(), match='`x_seq` must be a tensor [T, B, ...], got list'),
    err(t, 'T=0', F.chunk_multi_step_forward, 2, x_seq[:0], lif_m(), match='`x_seq` must be a tensor [T, B, ...] with at least one time step'),
    err(t, '0-d x_seq', F.chunk_multi_step_forward, 2, torch.tensor(1.), lif_m(), match='with at least 1 dimension'),
    terr(t, 'module a string', F.chunk_multi_step_forward, 2, x_seq, 'lif', match='`multi_step_module` must be a module, a callable, or a list/tuple of them'),
    terr(t, 'module returns a list', F.chunk_multi_step_forward, 2, x_seq, lambda x: [x],
         match='`multi_step_module` must return a tensor [t, ...] for a chunk, got list'),
    err(t, 'module drops the time axis', F.chunk_multi_step_forward, 4, x_seq, lambda x: x.sum(0),
        match='`multi_step_module` must map a chunk [t, ...] with t=4 to an output [t, ...], got shape (3, 4)'),
    err(t, 'module returns a 0-d tensor', F.chunk_multi_step_forward, 4, x_seq, lambda x: x.sum(),
        match='`multi_step_module` must map a chunk [t, ...] with t=4 to an output [t, ...], got shape ()'),
    err(t, 'chunks of different dtypes', lambda x: F.chunk_multi_step_forward(3, x, float_then_double()), x_seq,
        match='`multi_step_module` returned chunks of different shapes or dtypes'),
    err(t, 'a single-step neuron', F.chunk_multi_step_forward, 2, x_seq, LIFNode(),
        match="`multi_step_module` must run in step mode 'm', but it holds a LIFNode in step mode 's': switch it with `functional.set_step_mode(module, 'm')`"),
    err(t, 'a single-step neuron in a list', F.chunk_multi_step_forward, 2, x_seq, [SeqToANNContainer(fc), IFNode()],
        match="holds a IFNode in step mode 's'"),
    ok(t, 'a stateful StepModeContainer looping single-step children', F.chunk_multi_step_forward, 4, x64 * 3,
       in_mode(StepModeContainer(True, LIFNode()), 'm'), check=close(lambda: naive_lif(x64 * 3)), updates=(2,)),
    ok(t, 'chunks of 4 (last shorter) vs the naive LIF loop', F.chunk_multi_step_forward, 4, x64 * 3, lif_m(),
       check=close(lambda: naive_lif(x64 * 3)), updates=(2,)),
    ok(t, 'split_size 1', F.chunk_multi_step_forward, 1, x64 * 3, lif_m(),
       check=close(lambda: naive_lif(x64 * 3)), updates=(2,)),
    ok(t, 'split_size > T', F.chunk_multi_step_forward, 100, x64 * 3, lif_m(),
       check=close(lambda: naive_lif(x64 * 3)), updates=(2,)),
    ok(t, 'split_size a 0-d int tensor', F.chunk_multi_step_forward, zero_d(4, torch.int64), x64 * 3, lif_m(),
       check=close(lambda: naive_lif(x64 * 3)), updates=(2,)),
    ok(t, 'T=1', F.chunk_multi_step_forward, 2, x_seq[:1], torch.tanh, check=close(torch.tanh(x_seq[:1]))),
    ok(t, 'batch size 0', F.chunk_multi_step_forward, 2, x_seq[:, :0], lif_m(), check=shape_is(6, 0, 4), updates=(2,)),
    ok(t, 'float16 kept, values vs float64', F.chunk_multi_step_forward, 4, x_seq.half(), torch.tanh,
       check=all_of(dtype_is(torch.float16), close(lambda: torch.tanh(x_seq.half().double()).half()))),
    ok(t, 'bfloat16 kept', F.chunk_multi_step_forward, 4, x_seq.bfloat16(), torch.tanh,
       check=all_of(dtype_is(torch.bfloat16), close(lambda: torch.tanh(x_seq.bfloat16().double()).bfloat16()))),
    ok(t, 'a list of modules', F.chunk_multi_step_forward, 4, x_seq, [torch.tanh, lambda x: x + 1],
       check=close(torch.tanh(x_seq) + 1)),
    ok(t, 'NaN in the last chunk leaves earlier chunks finite', F.chunk_multi_step_forward, 3,
       torch.cat([x64[:5] * 3, torch.full((1, 3, 4), NAN, dtype=torch.float64)]), lif_m(),
       check=lambda y: close(lambda: naive_lif(x64[:5] * 3))(y[:5]), updates=(2,)),
]

# =============================================================================================================
# seq_to_ann_forward

def per_step(fn, x): return torch.stack([fn(x_t) for x_t in x])

t = 'functional.seq_to_ann_forward'
CASES += [
    terr(t, 'x_seq a list of tensors', F.seq_to_ann_forward, [x_seq, x_seq], fc, match='`x_seq` must be a tensor [T, B, ...] or a tuple of them, got list'),
    terr(t, 'x_seq None', F.seq_to_ann_forward, None, fc, match='`x_seq` must be a tensor [T, B, ...] or a tuple of them, got None'),
    err(t, 'x_seq 1-d', F.seq_to_ann_forward, x_seq[:, 0, 0], torch.sin, match='`x_seq` must be a tensor [T, B, ...] with at least 2 dimensions, got a torch.float32 tensor of shape (6,)'),
    err(t, 'an empty tuple', F.seq_to_ann_forward, (), torch.sin, match='`x_seq` must be a tensor [T, B, ...] or a non-empty tuple of them, got tuple ()'),
    terr(t, 'a string in the tuple', F.seq_to_ann_forward, (x_seq, 'x'), torch.add, match="`x_seq[1]` must be a tensor [T, B, ...], got 'x'"),
    err(t, 'tuple items of different [T, B]', F.seq_to_ann_forward, (x_seq, x_seq[:, :2]), torch.add,
        match='the tensors in `x_seq` must share their first two dimensions [T, B], got [(6, 3, 4), (6, 2, 4)]'),
    terr(t, 'module an int', F.seq_to_ann_forward, x_seq, 1, match='`stateless_module` must be a module, a callable, or a list/tuple of them, got 1'),
    terr(t, 'module returns a list', F.seq_to_ann_forward, x_seq, lambda x: [x],
         match='`stateless_module` must return a tensor (or a tuple of them), got list'),
    err(t, 'module reduces the folded batch', F.seq_to_ann_forward, x_seq, lambda x: x.mean(0),
        match='`stateless_module` must keep the folded batch T*B = 18 as the first dimension of its output, got shape (4,)'),
    err(t, 'module returns a 0-d tensor', F.seq_to_ann_forward, x_seq, lambda x: x.sum(),
        match='`stateless_module` must keep the folded batch T*B = 18 as the first dimension of its output, got shape ()'),
    err(t, 'a stateful neuron', F.seq_to_ann_forward, x_seq, [fc, LIFNode()],
        match='`stateless_module` must hold no stateful module, got a LIFNode'),
    err(t, 'a stateful neuron deep inside a container', F.seq_to_ann_forward, x_seq, nn.Sequential(fc, StepModeContainer(True, IFNode())),
        match='`stateless_module` must hold no stateful module, got a IFNode'),
    ok(t, 'Linear over T*B vs per step (different kernels: tolerance)', F.seq_to_ann_forward, x_seq, fc,
       check=close(lambda: per_step(fc, x_seq))),
    ok(t, 'a list: Linear then ReLU', F.seq_to_ann_forward, x_seq, [fc, nn.ReLU()], check=close(lambda: per_step(lambda x: torch.relu(fc(x)), x_seq))),
    ok(t, 'T=0', F.seq_to_ann_forward, x_seq[:0], fc, check=shape_is(0, 3, 2)),
    ok(t, 'B=0', F.seq_to_ann_forward, x_seq[:, :0], fc, check=shape_is(6, 0, 2)),
    ok(t, 'T=1, B=1', F.seq_to_ann_forward, x_seq[:1, :1], fc, check=close(lambda: fc(x_seq[0, :1])[None])),
    ok(t, 'float16 kept, values vs float64', F.seq_to_ann_forward, x_seq.half(), torch.tanh,
       check=all_of(dtype_is(torch.float16), close(lambda: torch.tanh(x_seq.half().double()).half()))),
    ok(t, 'bfloat16 kept', F.seq_to_ann_forward, x_seq.bfloat16(), torch.tanh,
       check=all_of(dtype_is(torch.bfloat16), close(lambda: torch.tanh(x_seq.bfloat16().double()).bfloat16()))),
    ok(t, 'a tuple in, a tuple out', F.seq_to_ann_forward, (x_seq, 2 * x_seq), lambda a, b: (a + b, a * b),
       check=lambda y: (close(3 * x_seq)(y[0]), close(2 * x_seq * x_seq)(y[1]))),
    ok(t, 'NaN in one feature stays in that feature', F.seq_to_ann_forward, torch.where(torch.arange(4) == 1, NAN, x_seq), torch.tanh,
       check=close(lambda: torch.tanh(torch.where(torch.arange(4) == 1, NAN, x_seq)))),
]

# =============================================================================================================
# delay

t = 'functional.delay'
CASES += [
    terr(t, 'x_seq a list', F.delay, [1., 2.], 1, match='`x_seq` must be a tensor [T, ...], got list'),
    err(t, '0-d x_seq', F.delay, torch.tensor(1.), 1, match='`x_seq` must be a tensor [T, ...] with at least 1 dimension, got a 0-d torch.float32 tensor holding 1.0'),
    err(t, 'delay -1', F.delay, x_seq, -1, match='`delay_steps` must be an int >= 0, got -1'),
    err(t, 'delay a 0-d int tensor -2', F.delay, x_seq, zero_d(-2, torch.int64), match='`delay_steps` must be an int >= 0, got a 0-d torch.int64 tensor holding -2'),
    terr(t, 'delay 1.5', F.delay, x_seq, 1.5, match='`delay_steps` must be an int, got 1.5'),
    terr(t, 'delay 2.0 (a float, even if whole)', F.delay, x_seq, 2.0, match='`delay_steps` must be an int, got 2.0'),
    terr(t, 'delay NaN', F.delay, x_seq, NAN, match='`delay_steps` must be an int, got nan'),
    terr(t, 'delay inf', F.delay, x_seq, INF, match='`delay_steps` must be an int, got inf'),
    terr(t, 'delay True', F.delay, x_seq, True, match='`delay_steps` must be an int, got True'),
    terr(t, 'delay None', F.delay, x_seq, None, match='`delay_steps` must be an int, got None'),
    terr(t, 'delay a 0-d float tensor', F.delay, x_seq, zero_d(1.), match='`delay_steps` must be an int, got a 0-d torch.float32 tensor'),
    ok(t, 'delay 2 vs naive', F.delay, x_seq, 2, check=close(lambda: naive_delay(x_seq, 2))),
    ok(t, 'delay 0: a copy, not the input', F.delay, x_seq, 0, check=all_of(close(x_seq), not_sharing(x_seq))),
    ok(t, 'delay = T: zeros', F.delay, x_seq, 6, check=close(torch.zeros(6, 3, 4))),
    ok(t, 'delay 10**9: zeros', F.delay, x_seq, 10**9, check=close(torch.zeros(6, 3, 4))),
    ok(t, 'delay a 0-d int tensor', F.delay, x_seq, zero_d(3, torch.int64), check=close(lambda: naive_delay(x_seq, 3))),
    ok(t, 'T=0', F.delay, x_seq[:0], 2, check=shape_is(0, 3, 4)),
    ok(t, 'T=1', F.delay, x_seq[:1], 1, check=close(torch.zeros(1, 3, 4))),
    ok(t, 'x_seq [T]', F.delay, x_seq[:, 0, 0], 1, check=close(lambda: naive_delay(x_seq[:, 0, 0], 1))),
    ok(t, 'bool spikes', F.delay, x_seq > 0, 2, check=all_of(dtype_is(torch.bool), close(lambda: naive_delay(x_seq > 0, 2)))),
    ok(t, 'int64 input', F.delay, torch.arange(6), 4, check=close(torch.tensor([0, 0, 0, 0, 0, 1]))),
    ok(t, 'float16 kept', F.delay, x_seq.half(), 1, check=all_of(dtype_is(torch.float16), close(lambda: naive_delay(x_seq.half(), 1)))),
    ok(t, 'bfloat16 kept', F.delay, x_seq.bfloat16(), 1, check=all_of(dtype_is(torch.bfloat16), close(lambda: naive_delay(x_seq.bfloat16(), 1)))),
    ok(t, 'NaN and inf move with their step', F.delay, torch.tensor([1., NAN, INF, 2.]), 1,
       check=close(torch.tensor([0., 1., NAN, INF]))),
    ok(t, 'gradient: the last d inputs get none', grad_of, lambda x: F.delay(x, 2) * torch.arange(1., 7.).view(6, 1, 1), x_seq,
       check=close(torch.tensor([3., 4., 5., 6., 0., 0.]).view(6, 1, 1).expand(6, 3, 4))),
    ok(t, 'gradient with delay >= T: zeros, backward still works', grad_of, lambda x: F.delay(x, 9), x_seq,
       check=close(torch.zeros(6, 3, 4))),
]

# =============================================================================================================
# redundant_one_hot

labels = torch.randint(0, 5, (9,), generator=g)
t = 'functional.redundant_one_hot'
CASES += [
    terr(t, 'float labels', F.redundant_one_hot, labels.float(), 5, 2, match='`labels` must be an integer tensor of class labels, got a torch.float32 tensor of shape (9,)'),
    terr(t, 'bool labels', F.redundant_one_hot, labels > 2, 5, 2, match='`labels` must be an integer tensor of class labels, got a torch.bool tensor'),
    terr(t, 'labels a list', F.redundant_one_hot, labels.tolist(), 5, 2, match='`labels` must be an integer tensor of class labels, got list'),
    terr(t, 'complex labels', F.redundant_one_hot, labels.to(torch.complex64), 5, 2, match='`labels` must be an integer tensor'),
    err(t, 'a label = num_classes', F.redundant_one_hot, torch.tensor([0, 5]), 5, 2,
        match='`labels` must hold class labels in [0, num_classes=5), got values from 0 to 5'),
    err(t, 'a negative label', F.redundant_one_hot, torch.tensor([-1, 2]), 5, 2,
        match='`labels` must hold class labels in [0, num_classes=5), got values from -1 to 2'),
    err(t, 'uint8 label out of range', F.redundant_one_hot, torch.tensor([200], dtype=torch.uint8), 5, 2,
        match='`labels` must hold class labels in [0, num_classes=5), got values from 200 to 200'),
    err(t, 'num_classes 0', F.redundant_one_hot, labels, 0, 2, match='`num_classes` must be an int >= 1, got 0'),
    err(t, 'n 0', F.redundant_one_hot, labels, 5, 0, match='`n` must be an int >= 1, got 0'),
    err(t, 'n -1', F.redundant_one_hot, labels, 5, -1, match='`n` must be an int >= 1, got -1'),
    err(t, 'n a 0-d int tensor 0', F.redundant_one_hot, labels, 5, zero_d(0, torch.int64), match='`n` must be an int >= 1'),
    terr(t, 'num_classes 5.0', F.redundant_one_hot, labels, 5.0, 2, match='`num_classes` must be an int, got 5.0'),
    terr(t, 'num_classes True', F.redundant_one_hot, labels, True, 2, match='`num_classes` must be an int, got True'),
    terr(t, 'num_classes NaN', F.redundant_one_hot, labels, NAN, 2, match='`num_classes` must be an int, got nan'),
    terr(t, 'n a 0-d float tensor', F.redundant_one_hot, labels, 5, zero_d(2.), match='`n` must be an int, got a 0-d torch.float32 tensor'),
    terr(t, 'n None', F.redundant_one_hot, labels, 5, None, match='`n` must be an int, got None'),
    ok(t, 'random labels vs naive', F.redundant_one_hot, labels, 5, 3,
       check=all_of(dtype_is(torch.get_default_dtype()), close(lambda: naive_one_hot(labels, 5, 3)))),
    ok(t, 'n and num_classes as 0-d int tensors', F.redundant_one_hot, labels, zero_d(5, torch.int64), zero_d(2, torch.int64),
       check=close(lambda: naive_one_hot(labels, 5, 2))),
    ok(t, 'int32 labels', F.redundant_one_hot, labels.int(), 5, 2, check=close(lambda: naive_one_hot(labels, 5, 2))),
    ok(t, 'uint8 labels', F.redundant_one_hot, labels.to(torch.uint8), 5, 2, check=close(lambda: naive_one_hot(labels, 5, 2))),
    ok(t, 'no labels', F.redundant_one_hot, labels[:0], 5, 2, check=shape_is(0, 10)),
    ok(t, 'one label', F.redundant_one_hot, labels[:1], 5, 1, check=close(lambda: naive_one_hot(labels[:1], 5, 1))),
    ok(t, '0-d label', F.redundant_one_hot, torch.tensor(3), 5, 2, check=close(lambda: naive_one_hot(torch.tensor(3), 5, 2))),
    ok(t, '[B, K] labels', F.redundant_one_hot, labels[:8].view(2, 4), 5, 2, check=close(lambda: naive_one_hot(labels[:8].view(2, 4), 5, 2))),
    ok(t, 'C=1, n=1', F.redundant_one_hot, torch.zeros(3, dtype=torch.long), 1, 1, check=close(torch.ones(3, 1))),
]

# =============================================================================================================
# first_spike_index

spk = torch.where(rand(3, 4, 9) < 0.3, randn(3, 4, 9), torch.zeros(()))   # graded, signed, some neurons silent
t = 'functional.first_spike_index'
CASES += [
    terr(t, 'spikes a list', F.first_spike_index, [0., 1.], match='`spikes` must be a tensor [*, T], got list'),
    err(t, '0-d spikes', F.first_spike_index, torch.tensor(1.), match='`spikes` must be a tensor [*, T] with at least 1 dimension, got a 0-d torch.float32 tensor holding 1.0'),
    err(t, 'NaN spikes', F.first_spike_index, torch.tensor([[0., NAN, 1.]]), match='`spikes` must hold spikes, not NaN'),
    err(t, 'NaN spikes in float16', F.first_spike_index, torch.tensor([[0., NAN, 1.]]).half(), match='`spikes` must hold spikes, not NaN'),
    terr(t, 'complex spikes', F.first_spike_index, spk.to(torch.complex64), match='`spikes` must be a real tensor [*, T]'),
    ok(t, 'graded signed spikes vs naive', F.first_spike_index, spk, check=close(lambda: naive_first_spike(spk))),
    ok(t, '0/1 spikes vs naive', F.first_spike_index, (spk != 0).float(), check=close(lambda: naive_first_spike(spk))),
    ok(t, 'bool spikes', F.first_spike_index, spk != 0, check=all_of(dtype_is(torch.bool), close(lambda: naive_first_spike(spk)))),
    ok(t, 'int spikes', F.first_spike_index, (spk != 0).long(), check=close(lambda: naive_first_spike(spk))),
    ok(t, 'float16 spikes', F.first_spike_index, spk.half(), check=close(lambda: naive_first_spike(spk.half()))),
    ok(t, 'bfloat16 spikes', F.first_spike_index, spk.bfloat16(), check=close(lambda: naive_first_spike(spk.bfloat16()))),
    ok(t, '+-inf count as spikes', F.first_spike_index, torch.tensor([[0., INF, 1.], [-INF, 0., 0.]]),
       check=close(torch.tensor([[False, True, False], [True, False, False]]))),
    ok(t, 'T=0', F.first_spike_index, spk[..., :0], check=shape_is(3, 4, 0)),
    ok(t, 'T=1', F.first_spike_index, spk[..., :1], check=close(lambda: spk[..., :1] != 0)),
    ok(t, 'no neurons', F.first_spike_index, spk[:0], check=shape_is(0, 4, 9)),
    ok(t, 'a silent record', F.first_spike_index, torch.zeros(2, 5), check=close(torch.zeros(2, 5, dtype=torch.bool))),
    ok(t, 'non-contiguous time axis', F.first_spike_index, spk.transpose(0, 2).contiguous().transpose(0, 2),
       check=close(lambda: naive_first_spike(spk))),
    ok(t, 'no gradient flows', lambda s: F.first_spike_index(s).requires_grad, spk.clone().requires_grad_(), check=equals(False)),
]

# =============================================================================================================
# conv-BN fusion

def convbn(in_ch=4, out_ch=6, dtype=torch.float32, affine=True, **kw):
    "A bias-free conv and an eval-mode batch norm with random affine parameters and running statistics."
    kw.setdefault('kernel_size', 3)
    conv = nn.Conv2d(in_ch, out_ch, bias=False, dtype=dtype, **kw)
    bn = nn.BatchNorm2d(out_ch, affine=affine, dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(randn(*conv.weight.shape))
        bn.running_mean.copy_(randn(out_ch)); bn.running_var.copy_(rand(out_ch) * 2 + 0.2)
        if affine: bn.weight.copy_(rand(out_ch) + 0.5); bn.bias.copy_(randn(out_ch))
    return conv, bn.eval()

def naive_fused(conv, bn):
    "Per-channel float64 formula: W' = W gamma / sqrt(var + eps), b' = beta - mean gamma / sqrt(var + eps)."
    C = bn.num_features
    w, b = conv.weight.detach().double().clone(), torch.zeros(C, dtype=torch.float64)
    for c in range(C):
        gamma = bn.weight[c].item() if bn.weight is not None else 1.
        beta = bn.bias[c].item() if bn.bias is not None else 0.
        s = gamma / math.sqrt(bn.running_var[c].item() + bn.eps)
        w[c] *= s; b[c] = beta - bn.running_mean[c].item() * s
    return w, b

xi = randn(2, 4, 7, 6)

def fusion_errors(t, fn):
    conv, bn = convbn()
    return [
        terr(t, 'conv2d a Conv1d', fn, nn.Conv1d(4, 6, 3, bias=False), bn, match='`conv2d` must be an nn.Conv2d, got Conv1d'),
        terr(t, 'conv2d a ConvTranspose2d', fn, nn.ConvTranspose2d(4, 6, 3, bias=False), bn, match='`conv2d` must be an nn.Conv2d, got ConvTranspose2d'),
        terr(t, 'conv2d None', fn, None, bn, match='`conv2d` must be an nn.Conv2d, got None'),
        terr(t, 'bn2d a BatchNorm1d', fn, conv, nn.BatchNorm1d(6), match='`bn2d` must be an nn.BatchNorm2d, got BatchNorm1d'),
        terr(t, 'bn2d a tensor', fn, conv, torch.ones(6), match='`bn2d` must be an nn.BatchNorm2d, got a torch.float32 tensor'),
        err(t, 'conv2d with a bias', fn, nn.Conv2d(4, 6, 3), bn, match='`conv2d` must have no bias (create it with bias=False)'),
        err(t, 'channel counts differ', fn, conv, nn.BatchNorm2d(5), match='`bn2d` has 5 features but `conv2d` has 6 output channels'),
        err(t, 'bn2d without running statistics', fn, conv, nn.BatchNorm2d(6, track_running_stats=False),
            match='`bn2d` keeps no running statistics (track_running_stats=False)'),
        # (lazy and meta modules are built inside the call: the sweep's snapshot cannot copy their parameters)
        err(t, 'a lazy conv2d that never ran', lambda b: fn(nn.LazyConv2d(6, 3, bias=False), b), bn,
            match='`conv2d` is a lazy convolution whose weight is not initialized yet'),
        err(t, 'conv2d and bn2d on different devices', lambda b: fn(nn.Conv2d(4, 6, 3, bias=False, device='meta'), b), bn,
            match='arguments must lie on one device, got `conv2d` on meta, `bn2d` on cpu'),
    ]

def zero_gamma(conv, bn):
    with torch.no_grad(): bn.weight[2] = 0.
    return conv, bn

def formula_cases(t, fn, formula):
    "fused weight / bias against the float64 formula, channel by channel."
    out = []
    for label, (c, b) in (('float32 vs the float64 formula', convbn()), ('float64', convbn(dtype=torch.float64)),
                          ('bn2d without affine parameters', convbn(affine=False)),
                          ('grouped, strided, dilated conv', convbn(kernel_size=2, stride=2, dilation=2, groups=2)),
                          ('a channel with gamma = 0', zero_gamma(*convbn())), ('one output channel', convbn(out_ch=1)),
                          ('float16 kept, rounded once from float64', tuple(m.half() for m in convbn())),
                          ('bfloat16 kept, rounded once from float64', tuple(m.bfloat16() for m in convbn())),
                          ('float16 conv, float32 bn2d: promoted to float32', (convbn()[0].half(), convbn()[1]))):
        dtype = torch.promote_types(c.weight.dtype, b.running_var.dtype)
        out.append(ok(t, label, lambda c, b: fn(c, b).detach(), c, b,
                      check=all_of(dtype_is(dtype), close(formula(c, b).to(dtype)))))
    return out

def pair_cases(t, fn):
    "the fused conv's output against the pair's, bn2d in eval mode."
    out = []
    for label, (c, b), x, tol in (('float32: fused conv equals bn(conv(x))', convbn(), xi, 1e-5),
                                  ('float64', convbn(dtype=torch.float64), xi.double(), 1e-10),
                                  ('bn2d without affine parameters', convbn(affine=False), xi, 1e-5),
                                  ('grouped, strided, padded, dilated', convbn(kernel_size=2, stride=2, padding=1, dilation=2, groups=2), xi, 1e-5),
                                  ("'same' reflect padding", convbn(padding='same', padding_mode='reflect'), xi, 1e-5),
                                  ('a channel with gamma = 0', zero_gamma(*convbn()), xi, 1e-5),
                                  ('batch of one', convbn(), xi[:1], 1e-5)):
        out.append(ok(t, label, lambda c, b, x: fn(c, b)(x).detach(), c, b, x,
                      check=close(b(c(x)).detach(), rtol=tol, atol=tol)))
    c16, b16 = (m.half() for m in convbn())
    cb, bb = (m.bfloat16() for m in convbn())
    c32, b64 = (lambda c, b: (c, b.double()))(*convbn())
    c, b = convbn()
    out += [
        ok(t, 'float16: weight rounded once from the float64 formula', lambda c, b: fn(c, b).weight.detach(), c16, b16,
           check=all_of(dtype_is(torch.float16), close(naive_fused(c16, b16)[0].half()))),
        ok(t, 'bfloat16: bias rounded once from the float64 formula', lambda c, b: fn(c, b).bias.detach(), cb, bb,
           check=all_of(dtype_is(torch.bfloat16), close(naive_fused(cb, bb)[1].bfloat16()))),
        ok(t, 'float32 conv, float64 bn2d: folded in float64, rounded once', lambda c, b: fn(c, b).weight.detach(), c32, b64,
           check=all_of(dtype_is(torch.float32), close(naive_fused(c32, b64)[0].float(), rtol=0, atol=0))),
        ok(t, 'bn2d in training mode: fused with its running statistics',
           lambda c, b, x: (b.train(), fn(c, b)(x).detach(), b.eval())[1], c, b, xi,
           check=close(b(c(xi)).detach(), rtol=1e-5, atol=1e-5)),
    ]
    return out

for t, fn, formula in (('functional.fused_conv2d_weight_of_convbn2d', F.fused_conv2d_weight_of_convbn2d, lambda c, b: naive_fused(c, b)[0]),
                       ('functional.fused_conv2d_bias_of_convbn2d', F.fused_conv2d_bias_of_convbn2d, lambda c, b: naive_fused(c, b)[1])):
    CASES += fusion_errors(t, fn) + formula_cases(t, fn, formula)
CASES += fusion_errors('functional.fuse_convbn2d', F.fuse_convbn2d) + pair_cases('functional.fuse_convbn2d', F.fuse_convbn2d)

# -------------------------------------------------------------------------------------------------------------
# scale_fused_conv2d_weight_of_convbn2d / scale_fused_conv2d_bias_of_convbn2d

def scaled_weight(conv, bn, k=None, b=None):
    F.scale_fused_conv2d_weight_of_convbn2d(conv, bn, k, b)
    return F.fused_conv2d_weight_of_convbn2d(conv, bn).detach()

def scaled_bias(conv, bn, k=None, b=None):
    F.scale_fused_conv2d_bias_of_convbn2d(conv, bn, k, b)
    return F.fused_conv2d_bias_of_convbn2d(conv, bn).detach()

def expect_weight(conv, bn, k, b):
    w = naive_fused(conv, bn)[0]
    k = 1. if k is None else (k.double() if torch.is_tensor(k) else k)
    b = 0. if b is None else (b.double() if torch.is_tensor(b) else b)
    return close(lambda: (k * w + b).to(conv.weight.dtype), rtol=1e-5, atol=1e-5)

def expect_bias(conv, bn, k, b):
    v = naive_fused(conv, bn)[1]
    k = 1. if k is None else (k.double() if torch.is_tensor(k) else k)
    b = 0. if b is None else (b.double() if torch.is_tensor(b) else b)
    return close(lambda: (k * v + b).to(bn.running_mean.dtype), rtol=1e-5, atol=1e-5)

for t, fn, shape, scaled, expect in (
        ('functional.scale_fused_conv2d_weight_of_convbn2d', F.scale_fused_conv2d_weight_of_convbn2d, (6, 4, 3, 3), scaled_weight, expect_weight),
        ('functional.scale_fused_conv2d_bias_of_convbn2d', F.scale_fused_conv2d_bias_of_convbn2d, (6,), scaled_bias, expect_bias)):
    conv, bn = convbn()
    CASES += [
        terr(t, 'conv2d a Linear', fn, nn.Linear(4, 6), bn, 2., match='`conv2d` must be an nn.Conv2d, got Linear'),
        terr(t, 'bn2d a LayerNorm', fn, conv, nn.LayerNorm(6), 2., match='`bn2d` must be an nn.BatchNorm2d, got LayerNorm'),
        err(t, 'conv2d with a bias', fn, nn.Conv2d(4, 6, 3), bn, 2., match='`conv2d` must have no bias'),
        terr(t, 'k a string', fn, conv, bn, '2', match="`k` must be a finite real number, got '2'"),
        terr(t, 'k a bool', fn, conv, bn, True, match='`k` must be a finite real number, got True'),
        terr(t, 'b a list', fn, conv, bn, None, [1.], match='`b` must be a finite real number, got list'),
        err(t, 'k NaN', fn, conv, bn, NAN, match='`k` must be a finite real number, got nan'),
        err(t, 'k inf', fn, conv, bn, INF, match='`k` must be a finite real number, got inf'),
        err(t, 'b -inf', fn, conv, bn, None, -INF, match='`b` must be a finite real number, got -inf'),
        err(t, 'k a 0-d NaN tensor', fn, conv, bn, zero_d(NAN), match='`k` must be a number or a finite real tensor that broadcasts to shape'),
        terr(t, 'k a 0-d bool tensor', fn, conv, bn, torch.tensor(True), match='`k` must be a number or a finite real tensor'),
        terr(t, 'k a complex tensor', fn, conv, bn, torch.ones(6, dtype=torch.complex64).view(-1, *[1] * (len(shape) - 1)),
             match='`k` must be a number or a finite real tensor'),
        err(t, 'k of a shape that does not broadcast', fn, conv, bn, torch.ones(5),
            match=f'`k` must be a number or a finite real tensor that broadcasts to shape {shape}, got a torch.float32 tensor of shape (5,)'),
        err(t, 'b that broadcasts to a larger shape', fn, conv, bn, None, torch.ones(2, *shape),
            match=f'`b` must be a number or a finite real tensor that broadcasts to shape {shape}'),
        err(t, 'b holding NaN (k given too: nothing applied)', fn, conv, bn, 2., torch.full(shape, NAN),
            match='(no NaN or inf)'),
        err(t, 'k on another device', lambda c, b, fn=fn, n=len(shape): fn(c, b, torch.ones(6, device='meta').view(-1, *[1] * (n - 1))),
            conv, bn, match='arguments must lie on one device'),
        ok(t, 'k and b None: nothing changes', fn, conv, bn, check=is_(None)),
    ]
    for label, k, b in (('k a number', 0.5, None), ('b a number', None, 0.25), ('k and b numbers', -2., 0.25),
                        ('k and b 0-d tensors', zero_d(3.), zero_d(-1.)), ('k an int', 3, None),
                        ('k a per-channel tensor', randn(6).view(-1, *[1] * (len(shape) - 1)), None),
                        ('b a full-shape tensor', None, randn(*shape)), ('k an integer tensor', torch.arange(6).view(-1, *[1] * (len(shape) - 1)), None),
                        ('k = 0', 0., None)):
        c, bn_ = convbn()
        CASES.append(ok(t, label, scaled, c, bn_, k, b, check=expect(c, bn_, k, b), updates=(0, 1)))
    c, bn_ = convbn(dtype=torch.float64)
    CASES.append(ok(t, 'float64 model', scaled, c, bn_, 0.5, 0.25, check=expect(c, bn_, 0.5, 0.25), updates=(0, 1)))

t = 'functional.scale_fused_conv2d_weight_of_convbn2d'
CASES += [
    err(t, 'b with a channel of gamma = 0: refused before k is applied', F.scale_fused_conv2d_weight_of_convbn2d,
        *zero_gamma(*convbn()), 2., 1., match='`bn2d.weight` (gamma) is 0 for some channel'),
    err(t, 'b with running_var + eps = 0: refused before k is applied', F.scale_fused_conv2d_weight_of_convbn2d,
        *(lambda c, b: (c, (b.running_var.zero_(), setattr(b, 'eps', 0.), b)[-1]))(*convbn()), 2., 1.,
        match='gamma / sqrt(running_var + eps) of `bn2d` is not finite for some channel'),
    ok(t, 'k with a channel of gamma = 0 is fine (no b)', scaled_weight, *zero_gamma(*convbn()), 2.,
       check=lambda w: close(torch.zeros_like(w[2]))(w[2]), updates=(0, 1)),
    ok(t, 'bn2d without affine parameters', scaled_weight, *convbn(affine=False), 2., 1.,
       check=lambda w: finite(w), updates=(0, 1)),
]
t = 'functional.scale_fused_conv2d_bias_of_convbn2d'
CASES += [
    err(t, 'b on a batch norm without shift (k given too: nothing applied)', F.scale_fused_conv2d_bias_of_convbn2d,
        *convbn(affine=False), 2., 1., match='`b` needs a batch norm with a shift: `bn2d` was created with affine=False'),
    ok(t, 'k on a batch norm without shift', scaled_bias, *convbn(affine=False), -2.,
       check=lambda v: finite(v), updates=(0, 1)),
]

# =============================================================================================================
# kaiming_normal_conv_linear_weight

def kaiming_std(net):
    F.kaiming_normal_conv_linear_weight(net)
    return [m.weight.detach().double().std().item() * math.sqrt(3 * m.weight[0].numel()) for m in net
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))]

t = 'functional.kaiming_normal_conv_linear_weight'
with warnings.catch_warnings():
    warnings.simplefilter('ignore')          # torch's own init warns about the zero-element weight
    empty_linear = nn.Linear(3, 0)
wide = nn.Sequential(nn.Conv1d(16, 64, 3), nn.Conv2d(16, 64, 3), nn.Conv3d(8, 32, 2), nn.Linear(300, 200))
CASES += [
    terr(t, 'net a tensor', F.kaiming_normal_conv_linear_weight, randn(3, 3), match='`net` must be an nn.Module, got a torch.float32 tensor'),
    terr(t, 'net a list of layers', F.kaiming_normal_conv_linear_weight, [nn.Linear(2, 2)], match='`net` must be an nn.Module, got list'),
    terr(t, 'net None', F.kaiming_normal_conv_linear_weight, None, match='`net` must be an nn.Module, got None'),
    # (the lazy layer is built inside the call; the sweep checks that the Linear before it was not re-drawn)
    err(t, 'a lazy layer that never ran: nothing drawn', lambda lin: F.kaiming_normal_conv_linear_weight(nn.Sequential(lin, nn.LazyLinear(2))),
        nn.Linear(3, 4), match='`net` holds a lazy LazyLinear whose weight is not initialized yet'),
    ok(t, 'standard deviation 1/sqrt(3 fan_in) for each layer kind', seeded(kaiming_std, 'kaiming std'), wide,
       check=lambda stds: close(torch.ones(4, dtype=torch.float64), rtol=0, atol=0.06)(torch.tensor(stds, dtype=torch.float64)), updates=(0,)),
    ok(t, 'biases untouched, weights re-drawn',
       lambda n: (b := [n[0].bias.detach().clone(), n[1].bias.detach().clone()], w := n[1].weight.detach().clone(),
                  F.kaiming_normal_conv_linear_weight(n), (b, [n[0].bias, n[1].bias], w, n[1].weight))[-1],
       nn.Sequential(nn.Conv2d(2, 3, 2), nn.Linear(3, 4)),
       check=lambda r: (close(r[0])(r[1]), differs(r[2], r[3])), updates=(0,)),
    ok(t, 'no conv or linear layer: nothing changes', F.kaiming_normal_conv_linear_weight,
       nn.Sequential(nn.BatchNorm1d(3), nn.ConvTranspose2d(2, 2, 2), LIFNode()), check=is_(None)),
    ok(t, 'a layer with zero outputs is skipped', F.kaiming_normal_conv_linear_weight, empty_linear, check=is_(None)),
    ok(t, 'float16 layer keeps float16', lambda n: (F.kaiming_normal_conv_linear_weight(n), n.weight.dtype)[1],
       nn.Linear(64, 64).half(), check=equals(torch.float16), updates=(0,)),
    ok(t, 'same draws as nn.init.kaiming_normal_ on the same generator state',
       seeded(lambda n: (F.kaiming_normal_conv_linear_weight(n), n.weight.detach())[-1], 'kaiming draws'), nn.Linear(5, 4),
       check=close(lambda: seeded(lambda: nn.init.kaiming_normal_(torch.empty(4, 5), a=math.sqrt(5)), 'kaiming draws')()), updates=(0,)),
]

# =============================================================================================================
# re-exports: the very objects of their home modules (their own cases live in losses.py / online.py)

for home, names in ((snnlit.losses, ('spike_similar_loss', 'kernel_dot_product', 'temporal_efficient_training_cross_entropy')),
                    (snnlit.online, ('fptt_online_training', 'fptt_online_training_init_w_ra', 'ottt_online_training'))):
    for name in names:
        CASES.append(ok(f'functional.{name}', f'is {home.__name__}.{name} itself', lambda name=name: getattr(F, name),
                        check=is_(getattr(home, name))))
