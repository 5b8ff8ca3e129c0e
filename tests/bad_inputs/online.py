"""Bad-input cases for `snnlit.online`: FPTT, OTTT/SLTT neurons, `OTTTSequential` and the OTTT training loop.

Success cases are checked against the methods written out plainly here (a copy of the network, `backward`,
one SGD step by hand), against `LIFNode` for the neurons' forward values, or against the LIF/trace recursion
per element. Every error case also checks (by the sweep's snapshot) that the model, optimizer, `w_ra` and data
were left as they were.
"""
import copy, math
import torch
from torch import nn
import torch.nn.functional as F
from badinputs import err, terr, ok, close, finite, dtype_is, all_of, zero_d
from helpers import generator
from snnlit.base import MemoryModule
from snnlit.neuron import LIFNode
from snnlit.online import (fptt_online_training_init_w_ra, fptt_online_training, OTTTLIFNode, SLTTLIFNode,
                           OTTTSequential, ottt_online_training, fptt_online_training_init_dual, sltt_paper_node)
from snnlit.surrogate import PiecewiseQuadratic
from oracles_onl import authors_fptt, authors_sltt_k

g = generator('online')
inf, nan = math.inf, math.nan
HALF = (torch.float16, torch.bfloat16)

def rand(*shape, scale=1., dtype=torch.float32): return (torch.rand(*shape, generator=g) * scale).to(dtype)

def spiking_net(seed=0, dtype=torch.float32):
    "Linear -> LIF -> Linear -> LIF, single-step, firing on these inputs."
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 8), LIFNode(), nn.Linear(8, 3), LIFNode(v_reset=None))
    with torch.no_grad(): net[0].weight.mul_(3.); net[2].weight.mul_(3.); net[2].bias.add_(0.5)
    return net.to(dtype)

def linear_net(seed=0, dtype=torch.float32):
    "A stateless model: FPTT's arithmetic alone, no spike that rounding could flip."
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).to(dtype)

def ottt_net(seed=0, dtype=torch.float32, out=None):
    torch.manual_seed(seed)
    net = OTTTSequential(nn.Linear(5, 8), OTTTLIFNode(), nn.Linear(8, 3), out if out is not None else LIFNode())
    with torch.no_grad(): net[0].weight.mul_(3.); net[2].weight.mul_(3.); net[2].bias.add_(0.5)
    return net.to(dtype)

def sgd(net, lr=0.1): return torch.optim.SGD(net.parameters(), lr=lr)

def memories(net): return [v.detach().clone() if isinstance(v, torch.Tensor) else v
                           for m in net.modules() if isinstance(m, MemoryModule) for v in m._memories.values()]

# ---- naive oracles, written from the papers' steps with nothing shared with snnlit.online

def naive_fptt(net, lr, x_seq, target_seq, f_loss, alpha):
    "FPTT with plain SGD on a copy of `net`: returns (per-step losses, final weights, final w_ra), float64."
    net = copy.deepcopy(net).double()
    params = list(net.parameters())
    w_bar = [p.detach().clone() for p in params]
    g_prev = [torch.zeros_like(p) for p in params]
    stateful = [m for m in net.modules() if isinstance(m, MemoryModule)]
    losses = []
    for t in range(len(x_seq)):
        x, y = (s[t].double() if s.is_floating_point() else s[t] for s in (x_seq, target_seq))
        loss = f_loss(net(x), y)
        losses.append(loss.item())
        reg = sum(((p - (w + gp / (2 * alpha))) ** 2).mean() for p, w, gp in zip(params, w_bar, g_prev))
        grads = torch.autograd.grad(loss + alpha / 2 * reg, params)
        with torch.no_grad():
            for p, gr in zip(params, grads): p -= lr * gr
        for m in stateful: m.detach()
        if t < len(x_seq) - 1:
            kept = [copy.deepcopy(m._memories) for m in stateful]
            grads = torch.autograd.grad(f_loss(net(x), y), params)
            g_prev = [gr.detach() for gr in grads]
            w_bar = [((w + p.detach()) / 2 - gr / (2 * alpha)) for w, p, gr in zip(w_bar, params, g_prev)]
            for m, k in zip(stateful, kept): m._memories = k
    return torch.tensor(losses, dtype=torch.float64), [p.detach() for p in params], w_bar

def fptt_result(net, opt, x, target, f, alpha, w_ra):
    "What the cases compare: the losses, the weights after the call, and w_ra."
    losses = fptt_online_training(net, opt, x, target, f, alpha, w_ra)
    return losses, [p.detach().clone() for p in net.parameters()], [w.clone() for w in w_ra]

def fptt_matches_naive(net, lr, x, target, f, alpha, **tol):
    naive = naive_fptt(net, lr, x, target, f, alpha)
    def check(result):
        losses, weights, w_ra = result
        dtype = losses.dtype
        torch.testing.assert_close(losses, naive[0].to(dtype), **tol)
        for a, b in zip(weights, naive[1]): torch.testing.assert_close(a, b.to(dtype), **tol)
        for a, b in zip(w_ra, naive[2]): torch.testing.assert_close(a, b.to(dtype), **tol)
    return check

def naive_ottt_sgd(net, lr, x_seq, target_seq, f_loss, online):
    "OTTT/SLTT training loop on a copy: per-step forward/backward/step (online) or one step on the summed gradient."
    net = copy.deepcopy(net)
    params = list(net.parameters())
    total, outs, acc = 0., [], [torch.zeros_like(p) for p in params]
    for t in range(x_seq.shape[1]):
        y = net(x_seq[:, t]); y = y[0] if isinstance(y, list) else y
        loss = f_loss(y, target_seq[:, t])
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(params, grads)]
        if online:
            with torch.no_grad():
                for p, gr in zip(params, grads): p -= lr * gr
        else: acc = [a + gr for a, gr in zip(acc, grads)]
        for m in net.modules():
            if isinstance(m, MemoryModule): m.detach()
        total = total + loss.detach(); outs.append(y.detach())
    if not online:
        with torch.no_grad():
            for p, a in zip(params, acc): p -= lr * a
    return total, torch.stack(outs, 1), [p.detach() for p in params]

def ottt_result(net, opt, x, target, f, online):
    loss, y = ottt_online_training(net, opt, x, target, f, online)
    return loss, y, [p.detach().clone() for p in net.parameters()]

def ottt_matches_naive(net, lr, x, target, f, online, **tol):
    naive = naive_ottt_sgd(net, lr, x, target, f, online)
    def check(result):
        for a, b in zip(result[:2], naive[:2]): torch.testing.assert_close(a, b, **tol)
        for a, b in zip(result[2], naive[2]): torch.testing.assert_close(a, b, **tol)
    return check

def raises_and_keeps_state(call, net, exc, match):
    "Call, expect `exc` with `match`, and return the model's memories afterwards (to compare with those before)."
    try: call()
    except exc as e:
        assert match in str(e), str(e)
        return memories(net)
    raise AssertionError('no error raised')

def same_memories_as(before):
    def check(after):
        assert len(after) == len(before)
        for a, b in zip(after, before):
            if isinstance(b, torch.Tensor): torch.testing.assert_close(a, b)
            else: assert a == b, (a, b)
    return check

def that(predicate):
    "A check that `predicate(result)` holds."
    def check(result): assert predicate(result), result
    return check

CASES = []
T_ = 'online.fptt_online_training_init_w_ra'

# ================================================================= fptt_online_training_init_w_ra

def _copies_of(params):
    def check(w_ra):
        assert isinstance(w_ra, list) and len(w_ra) == len(params)
        for w, p in zip(w_ra, params):
            torch.testing.assert_close(w, p.detach(), rtol=0, atol=0)     # a copy: bit-identical by definition
            assert w.dtype == p.dtype and not w.requires_grad
            assert p.numel() == 0 or w.untyped_storage().data_ptr() != p.untyped_storage().data_ptr()
    return check

for bad in (nn.Linear(2, 2), None, [nn.Parameter(torch.ones(2))], 'sgd'):
    CASES.append(terr(T_, f'not an optimizer: {type(bad).__name__}', fptt_online_training_init_w_ra, bad,
                      match='`optimizer` must be a torch.optim.Optimizer'))
_net = linear_net(1)
_opt = torch.optim.Adam([{'params': _net[2].parameters()}, {'params': _net[0].parameters(), 'lr': 0.1}], lr=0.01)
CASES.append(ok(T_, 'two param groups: copies in param_groups order', fptt_online_training_init_w_ra, _opt,
                check=_copies_of([*_net[2].parameters(), *_net[0].parameters()])))
for dtype in HALF + (torch.float64,):
    _net = linear_net(2, dtype)
    CASES.append(ok(T_, f'{dtype} parameters: copies keep the dtype', fptt_online_training_init_w_ra, sgd(_net),
                    check=_copies_of(list(_net.parameters()))))
_net = linear_net(3); _net[0].bias.requires_grad_(False)
CASES.append(ok(T_, 'a frozen parameter is copied too', fptt_online_training_init_w_ra, sgd(_net),
                check=_copies_of(list(_net.parameters()))))
_p = nn.Parameter(torch.empty(0, 3))
CASES.append(ok(T_, 'an empty parameter', fptt_online_training_init_w_ra, torch.optim.SGD([_p], lr=0.1),
                check=_copies_of([_p])))

# ================================================================= fptt_online_training
T_ = 'online.fptt_online_training'

def fptt_args(net=None, **change):
    net = net if net is not None else spiking_net()
    opt = sgd(net)
    base = dict(model=net, optimizer=opt, x_seq=rand(4, 2, 5, scale=2.), target_seq=rand(4, 2, 3), f_loss_t=F.mse_loss,
                alpha=0.5, w_ra=fptt_online_training_init_w_ra(opt))
    for k, v in change.items(): base[k] = v(base) if callable(v) and k != 'f_loss_t' else v
    return base

def fptt_err(label, exc, match, **change):
    a = fptt_args(**change)
    CASES.append(err(T_, label, fptt_online_training, *a.values(), match=match, raises=exc))

# wrong kind of argument
fptt_err('model not a module', TypeError, "`model` must be an nn.Module, got 'net'", model='net')
fptt_err('optimizer not an optimizer', TypeError, '`optimizer` must be a torch.optim.Optimizer', optimizer=lambda b: b['model'])
fptt_err('optimizer of another network', ValueError, '`optimizer` must hold parameters of `model`, got none of them',
         optimizer=lambda b: sgd(spiking_net(1)), w_ra=lambda b: fptt_online_training_init_w_ra(b['optimizer']))
_m = spiking_net(); _m.requires_grad_(False)
fptt_err('every parameter frozen', ValueError, '`optimizer` must hold trainable parameters of `model`, got only frozen ones', net=_m)
fptt_err('x_seq a list', TypeError, '`x_seq` must be a real (not complex or bool) tensor [T, B, ...]',
         x_seq=lambda b: b['x_seq'].tolist())
fptt_err('target_seq a numpy array', TypeError, '`target_seq` must be a real (not complex or bool) tensor [T, B, ...]',
         target_seq=lambda b: b['target_seq'].numpy())
fptt_err('bool x_seq', TypeError, '`x_seq` must be a real (not complex or bool) tensor', x_seq=lambda b: b['x_seq'] > 1)
fptt_err('complex x_seq', TypeError, '`x_seq` must be a real (not complex or bool) tensor', x_seq=lambda b: b['x_seq'].to(torch.complex64))
fptt_err('f_loss_t not callable', TypeError, "`f_loss_t` must be callable, got 'mse'", f_loss_t='mse')
fptt_err('f_loss_t None', TypeError, '`f_loss_t` must be callable, got None', f_loss_t=None)
# shapes
fptt_err('x_seq [T] only (no batch axis)', ValueError, '`x_seq` must be a real (not complex or bool) tensor [T, B, ...] with at least 2 dimensions',
         x_seq=lambda b: b['x_seq'][:, 0, 0])
fptt_err('0-d target_seq', ValueError, '`target_seq` must be a real (not complex or bool) tensor [T, B, ...] with at least 2 dimensions',
         target_seq=torch.tensor(1.))
fptt_err('T differs', ValueError, '`target_seq` must have the same [T, B] as `x_seq` [4, 2], got [3, 2]',
         target_seq=lambda b: b['target_seq'][:3])
fptt_err('B differs', ValueError, '`target_seq` must have the same [T, B] as `x_seq` [4, 2], got [4, 1]',
         target_seq=lambda b: b['target_seq'][:, :1])
fptt_err('batch-first data given (transposed)', ValueError, '`target_seq` must have the same [T, B] as `x_seq` [4, 2], got [2, 4]',
         target_seq=lambda b: b['target_seq'].transpose(0, 1))
fptt_err('T = 0', ValueError, '`x_seq` must be a tensor [T, B, ...] with at least one time step',
         x_seq=lambda b: b['x_seq'][:0], target_seq=lambda b: b['target_seq'][:0])
fptt_err('B = 0', ValueError, '`x_seq` must be a tensor [T, B, ...] with at least one sample',
         x_seq=lambda b: b['x_seq'][:, :0], target_seq=lambda b: b['target_seq'][:, :0])
# values
for what, value in (('NaN', nan), ('+inf', inf), ('-inf', -inf)):
    def _poison(key, value=value):
        def f(b):
            x = b[key].clone(); x[2, 1, 0] = value; return x
        return f
    fptt_err(f'{what} in x_seq', ValueError, '`x_seq` must hold finite values (no NaN or inf)', x_seq=_poison('x_seq'))
    fptt_err(f'{what} in target_seq', ValueError, '`target_seq` must hold finite values (no NaN or inf)', target_seq=_poison('target_seq'))
# alpha, as a number and as a 0-d tensor
for value, exc, text in ((0., ValueError, '> 0'), (-1., ValueError, '> 0'), (nan, ValueError, '> 0'), (inf, ValueError, '> 0')):
    fptt_err(f'alpha = {value}', exc, f'`alpha` must be a finite real number {text}', alpha=value)
    fptt_err(f'alpha = 0-d tensor {value}', exc, f'`alpha` must be a finite real number {text}', alpha=zero_d(value))
fptt_err('alpha a bool', TypeError, '`alpha` must be a finite real number, got True', alpha=True)
fptt_err('alpha a string', TypeError, "`alpha` must be a finite real number, got '0.5'", alpha='0.5')
fptt_err('alpha a 1-element 1-d tensor', TypeError, '`alpha` must be a finite real number', alpha=torch.tensor([0.5]))
# w_ra of the wrong structure
fptt_err('w_ra a tuple', TypeError, '`w_ra` must be the list made by `fptt_online_training_init_w_ra`', w_ra=lambda b: tuple(b['w_ra']))
fptt_err('w_ra one short', ValueError, '`w_ra` must hold one tensor per optimizer parameter', w_ra=lambda b: b['w_ra'][:-1])
fptt_err('w_ra wrong shapes', ValueError, '`w_ra` must hold one tensor per optimizer parameter', w_ra=lambda b: [w[None] for w in b['w_ra']])
fptt_err('w_ra holds a float', ValueError, '`w_ra` must hold one tensor per optimizer parameter', w_ra=lambda b: [0.] + b['w_ra'][1:])
fptt_err('w_ra float64 for float32 parameters', ValueError, '`w_ra[0]` must be a torch.float32 tensor on cpu, as its parameter',
         w_ra=lambda b: [w.double() for w in b['w_ra']])
fptt_err('w_ra aliases the parameters (old spikingjelly)', ValueError, '`w_ra[0]` shares memory with its parameter',
         w_ra=lambda b: [p.data for p in b['model'].parameters()])
fptt_err('w_ra requires grad (a clone of the parameters)', ValueError, '`w_ra[0]` must be a detached tensor (not requiring grad)',
         w_ra=lambda b: [p.clone() for p in b['model'].parameters()])
# step mode
_m = spiking_net(); _m[1].step_mode = 'm'
fptt_err('a neuron in multi-step mode', ValueError, "`model` must run in single-step mode (one time step per call), but its module 1 (LIFNode) has step_mode='m'",
         net=_m)

# errors found after the first forward: the state is put back, nothing trained
def _loss_cases(target, call, make, make_args):
    for label, f, exc, match in (
            ('f_loss_t returns a [B, N] tensor', lambda y, t: (y - t) ** 2, ValueError,
             '`f_loss_t` must be a function returning a scalar tensor (one number), got a torch.float32 tensor of shape (2, 3)'),
            ('f_loss_t returns a float', lambda y, t: 1.0, TypeError, '`f_loss_t` must be a function returning a scalar tensor, got 1.0'),
            ('f_loss_t returns a constant tensor', lambda y, t: t.sum(), ValueError, '`f_loss_t` returned a loss without gradient at step 0')):
        net = make()
        net(make_args[0])                          # a state from an earlier step, which the error must leave alone
        for m in net.modules():
            if isinstance(m, MemoryModule): m.detach()
        before = memories(net)
        args = make_args[1](net)
        CASES.append(ok(target, f'{label}: error, state unchanged', raises_and_keeps_state,
                        (lambda args=args, f=f: call(*args, f)), net, exc, match, check=same_memories_as(before)))

_loss_cases(T_, lambda net, opt, x, t, w, f: fptt_online_training(net, opt, x, t, f, 0.5, w), spiking_net,
            (rand(2, 5, scale=2.), lambda net: (lambda o: (net, o, rand(4, 2, 5, scale=2.), rand(4, 2, 3), fptt_online_training_init_w_ra(o)))(sgd(net))))

# success: against the plain three steps (float64 oracle)
def fptt_ok(label, net, T, B, lr=0.1, alpha=0.5, dtype=torch.float32, f=F.mse_loss, target=None, alpha_arg=None, **tol):
    x = rand(T, B, 5, scale=2., dtype=dtype)
    target = rand(T, B, 3, dtype=dtype) if target is None else target
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    w_ra = fptt_online_training_init_w_ra(opt)
    CASES.append(ok(T_, label, fptt_result, net, opt, x, target, f, alpha if alpha_arg is None else alpha_arg, w_ra,
                    check=fptt_matches_naive(net, lr, x, target, f, alpha, **tol), updates=(0, 1, 6)))

fptt_ok('spiking net, float32', spiking_net(4), 5, 3, rtol=1e-4, atol=1e-5)
fptt_ok('B = 1', spiking_net(5), 4, 1, rtol=1e-4, atol=1e-5)
fptt_ok('T = 1 (one plain step: the regulariser is 0 at w_ra = w)', spiking_net(6), 1, 3, rtol=1e-4, atol=1e-5)
fptt_ok('alpha as a 0-d tensor', spiking_net(7), 3, 2, alpha=0.3, alpha_arg=zero_d(0.3), rtol=1e-4, atol=1e-5)
fptt_ok('float64', linear_net(8, torch.float64), 4, 3, dtype=torch.float64)
for dtype in HALF:
    fptt_ok(f'{dtype}: dtype kept, values of the float64 steps', linear_net(9, dtype), 3, 4, dtype=dtype, rtol=3e-2, atol=3e-2)
_labels = torch.randint(0, 3, (4, 2), generator=g)
fptt_ok('integer class targets [T, B] with cross_entropy', linear_net(10), 4, 2, f=F.cross_entropy, target=_labels, rtol=1e-4, atol=1e-5)
torch.manual_seed(11)
_emb = nn.Sequential(nn.Embedding(7, 4), nn.Linear(4, 3))
_tokens, _tt = torch.randint(0, 7, (3, 2), generator=g), rand(3, 2, 3)
_opt = sgd(_emb)
CASES.append(ok(T_, 'integer x_seq (token indices into an Embedding)', fptt_result, _emb, _opt, _tokens, _tt, F.mse_loss, 0.5,
                fptt_online_training_init_w_ra(_opt), check=fptt_matches_naive(_emb, 0.1, _tokens, _tt, F.mse_loss, 0.5, rtol=1e-4, atol=1e-5),
                updates=(0, 1, 6)))
_x, _t = rand(4, 2, 5, scale=2.), rand(4, 2, 3)
_x_view = _x.expand(3, 4, 2, 5)[1]
_net = spiking_net(12); _opt = sgd(_net)
CASES.append(ok(T_, 'x_seq an expanded (non-contiguous) view', fptt_result, _net, _opt, _x_view, _t, F.mse_loss, 0.5,
                fptt_online_training_init_w_ra(_opt), check=fptt_matches_naive(_net, 0.1, _x, _t, F.mse_loss, 0.5, rtol=1e-4, atol=1e-5),
                updates=(0, 1, 6)))

# ================================================================= OTTTLIFNode / SLTTLIFNode

def naive_lif(x_seq, tau, v_th, v_reset, decay_input):
    "Per element, in float64: spikes, the final membrane, and the trace lambda*a + s."
    lam = 1 - 1 / tau
    v = torch.full_like(x_seq[0], 0. if v_reset is None else v_reset, dtype=torch.float64)
    a = torch.zeros_like(v); spikes = []
    for x in x_seq.double():
        rest = 0. if v_reset is None else v_reset
        h = v + (x - (v - rest)) / tau if decay_input else v - (v - rest) / tau + x
        s = (h >= v_th).double()
        v = h - s * v_th if v_reset is None else h * (1 - s) + v_reset * s
        a = lam * a + s; spikes.append(s)
    return torch.stack(spikes), v, a

def run_node(node, x_seq):
    "Feed `x_seq` step by step; return (spikes [T, ...], final v, final trace or None)."
    outs = [node(x) for x in x_seq]
    spikes = torch.stack([o[0] if isinstance(o, list) else o for o in outs])
    trace = outs[-1][1] if isinstance(outs[-1], list) else None
    return spikes.detach(), node.v.detach(), trace

def node_matches(x_seq, tau, v_th, v_reset, decay_input, with_trace, **tol):
    s, v, a = naive_lif(x_seq, tau, v_th, v_reset, decay_input)
    def check(result):
        spikes, v_out, trace = result
        dtype = spikes.dtype
        torch.testing.assert_close(spikes, s.to(dtype), rtol=0, atol=0)   # exact 0/1 away from the threshold
        torch.testing.assert_close(v_out, v.to(dtype), **tol)
        if with_trace: torch.testing.assert_close(trace, a.to(dtype), **tol)
        else: assert trace is None
    return check

for cls, defaults in ((OTTTLIFNode, dict(decay_input=False, v_reset=None)), (SLTTLIFNode, dict(decay_input=True, v_reset=0.))):
    T_ = f'online.{cls.__name__}'
    # hyper-parameters: numbers and 0-d tensors
    for name, value, exc, match in (
            ('tau', 1., ValueError, '`tau` must be a finite real number > 1, got 1.0'),
            ('tau', 0.5, ValueError, '`tau` must be a finite real number > 1'),
            ('tau', -2., ValueError, '`tau` must be a finite real number > 1'),
            ('tau', nan, ValueError, '`tau` must be a finite real number > 1'),
            ('tau', -inf, ValueError, '`tau` must be a finite real number > 1'),
            ('tau', inf, ValueError, '`tau` must be a finite real number > 1'),   # no leak: IFNode
            ('v_threshold', nan, ValueError, '`v_threshold` must be a finite real number'),
            ('v_threshold', inf, ValueError, '`v_threshold` must be a finite real number'),
            ('v_threshold', -inf, ValueError, '`v_threshold` must be a finite real number'),
            ('v_reset', nan, ValueError, '`v_reset` must be a finite real number'),
            ('v_reset', -inf, ValueError, '`v_reset` must be a finite real number')):
        CASES.append(err(T_, f'{name} = {value}', cls, match=match, raises=exc, **{name: value}))
        CASES.append(err(T_, f'{name} = 0-d tensor {value}', cls, match=match.split(', got')[0], raises=exc, **{name: zero_d(value)}))
    for name in ('tau', 'v_threshold', 'v_reset'):
        CASES.append(terr(T_, f'{name} a bool', cls, match=f'`{name}` must be a', **{name: True}))
        CASES.append(terr(T_, f'{name} a string', cls, match=f'`{name}` must be a', **{name: '2'}))
        CASES.append(terr(T_, f'{name} a 0-d bool tensor', cls, match=f'`{name}` must be a', **{name: torch.tensor(True)}))
    for name in ('decay_input', 'detach_reset', 'store_v_seq'):
        CASES.append(terr(T_, f'{name} not a bool', cls, match=f'`{name}` must be a bool (True or False), got 1', **{name: 1}))
    CASES.append(err(T_, "step_mode 'm'", cls, step_mode='m', match=f"`step_mode` must be 's' for {cls.__name__}"))
    CASES.append(terr(T_, 'step_mode not a string', cls, step_mode=1, match=f"`step_mode` must be 's' for {cls.__name__}"))
    CASES.append(err(T_, "backend 'fused' (single-step only)", cls, backend='fused', match="`backend` must be one of 'torch', got 'fused'"))
    CASES.append(terr(T_, 'backend not a string', cls, backend=None, match="`backend` must be one of 'torch', got None"))
    CASES.append(terr(T_, 'surrogate_function not callable', cls, surrogate_function='atan', match='`surrogate_function` must be callable'))
    # forward values against the LIF recursion
    x_seq = rand(6, 3, 4, scale=2.5)
    for tau, tau_arg in ((2., 2.), (3., zero_d(3.))):
        kw = dict(defaults); kw_arg = dict(kw, tau=tau_arg)
        CASES.append(ok(T_, f'forward, tau = {tau_arg!r}', run_node, cls(**kw_arg), x_seq,
                        check=node_matches(x_seq, tau, 1., kw['v_reset'], kw['decay_input'], cls is OTTTLIFNode), updates=(0,)))
    CASES.append(ok(T_, 'v_threshold and v_reset as 0-d tensors', run_node, cls(v_threshold=zero_d(0.8), v_reset=zero_d(-0.1)), x_seq,
                    check=node_matches(x_seq, 2., 0.8, -0.1, defaults['decay_input'], cls is OTTTLIFNode), updates=(0,)))
    for dtype in HALF + (torch.float64,):
        xq = (torch.tensor([[0.3, 1.5, 2.25, 0.75]]) * torch.tensor([[1.], [0.5], [1.]])[:, :, None]).to(dtype)   # [3, 1, 4]
        CASES.append(ok(T_, f'{dtype} input: dtype kept, B = 1', run_node, cls(), xq,
                        check=node_matches(xq, 2., 1., defaults['v_reset'], defaults['decay_input'], cls is OTTTLIFNode,
                                           rtol=1e-2, atol=1e-2), updates=(0,)))
    CASES.append(ok(T_, 'B = 0: empty spikes', run_node, cls(), torch.empty(2, 0, 4),
                    check=that(lambda r: r[0].shape == (2, 0, 4)), updates=(0,)))
    _xn = rand(3, 2, 4, scale=2.); _xn[1, 0, 1] = nan; _xn[1, 1, 2] = inf
    CASES.append(ok(T_, 'NaN and inf input: spikes and membrane as LIFNode', lambda n, x: run_node(n, x)[:2], cls(), _xn,
                    check=close(lambda d=defaults, x=_xn: run_node(LIFNode(tau=2., detach_reset=True, **d), x)[:2]), updates=(0,)))
    # wrong inputs and stateful misuse
    CASES.append(terr(T_, 'integer input', lambda n, x: n(x), cls(), torch.ones(2, 3, dtype=torch.int64),
                      match='`x` must be a floating-point tensor'))
    CASES.append(err(T_, 'batch size changed without reset', lambda n, a, b: (n(a), n(b)), cls(), rand(2, 4), rand(3, 4),
                     match='reset_net', updates=(0,)))
    CASES.append(terr(T_, "after an OTTTLIFNode in a plain nn.Sequential (gets [spike, trace])",
                      lambda n, x: n(x), nn.Sequential(OTTTLIFNode(), cls()), rand(2, 4, scale=2.),
                      match='must sit in an `OTTTSequential`', updates=(0,)))
    CASES.append(err(T_, "step_mode switched to 'm' mid-sequence", lambda n, x: (n(x), setattr(n, 'step_mode', 'm')),
                     cls(), rand(2, 4), match="`step_mode` must be one of ('s',)", updates=(0,)))
    CASES.append(ok(T_, 'reset between batches of different sizes', lambda n, a, b: (n(a), n.reset(), run_node(n, b))[2],
                    cls(), rand(2, 4, scale=2.), x_seq,
                    check=node_matches(x_seq, 2., 1., defaults['v_reset'], defaults['decay_input'], cls is OTTTLIFNode), updates=(0,)))

T_ = 'online.OTTTLIFNode'
CASES.append(ok(T_, 'eval mode returns spikes only, no trace', lambda n, x: n(x), OTTTLIFNode().eval(), rand(2, 4, scale=2.),
                check=that(lambda r: isinstance(r, torch.Tensor)), updates=(0,)))
CASES.append(ok(T_, 'membrane carries no graph to the previous step',
                lambda n, a, b: (n(a), n(b)[0].sum().backward(), (a.grad, b.grad))[2],
                OTTTLIFNode(), rand(2, 4, scale=2.).requires_grad_(), rand(2, 4, scale=2.).requires_grad_(),
                check=that(lambda r: r[0] is None and r[1] is not None), updates=(0,)))

# ================================================================= OTTTSequential
T_ = 'online.OTTTSequential'

def _plain_copy(net): return nn.Sequential(*copy.deepcopy(list(net))).eval()

_s = ottt_net(20)
_x = rand(3, 5, scale=2.)
CASES.append(ok(T_, 'eval: nn.Sequential on spikes', lambda n, x: n.eval()(x), _s, _x,
                check=close(lambda x=_x: _plain_copy(ottt_net(20))(x)), updates=(0,)))
for dtype in HALF + (torch.float64,):
    _s = ottt_net(21, dtype).eval(); _x = rand(1, 5, scale=2., dtype=dtype)
    CASES.append(ok(T_, f'{dtype} eval, B = 1: dtype kept', lambda n, x: n(x), _s, _x,
                    check=all_of(dtype_is(dtype), close(lambda d=dtype, x=_x: _plain_copy(ottt_net(21, d))(x))), updates=(0,)))

def weight_grad_and_value(net, x, c):
    "One training step: the readout's weight gradient for the loss sum(c * y), and y."
    net.zero_grad()
    y = net(x)
    (y * c).sum().backward()
    return net[1].weight.grad.clone(), y.detach()

_x2, _c2 = rand(2, 3, 5, scale=2.5), torch.randn(2, 3, 4, generator=g)
def _naive_readout(x_seq, c_seq, seed):
    "Trace a_t = 0.5 a_{t-1} + s_t; dW = c_t^T a_t; y = W s_t + b, at the last step."
    torch.manual_seed(seed); fc = nn.Linear(5, 4)
    s, _, a = naive_lif(x_seq, 2., 1., None, False)
    return (c_seq[-1].double().T @ a).float(), (s[-1].float() @ fc.weight.detach().T + fc.bias.detach())

def _two_steps(net, x_seq, c_seq):
    weight_grad_and_value(net, x_seq[0], c_seq[0])
    return weight_grad_and_value(net, x_seq[1], c_seq[1])

torch.manual_seed(22)
CASES.append(ok(T_, 'weight gradient = delta x trace, value from spikes', _two_steps,
                OTTTSequential(OTTTLIFNode(), (torch.manual_seed(22), nn.Linear(5, 4))[1]), _x2, _c2,
                check=close(lambda: _naive_readout(_x2, _c2, 22), rtol=1e-5, atol=1e-5), updates=(0,)))
CASES.append(ok(T_, 'no modules: the identity', lambda n, x: n(x), OTTTSequential(), _x,
                check=close(_x), updates=(0,)))
CASES.append(ok(T_, 'dropout after the node: one mask for spike and trace',
                lambda n, x: (torch.manual_seed(0), n(x))[1], OTTTSequential(OTTTLIFNode(), nn.Dropout(0.5)), rand(64, 32, scale=4.),
                check=that(lambda r: not ((r[0] != 0) & (r[1] == 0)).any() and not ((r[0] == 0) & (r[1] != 0) & (r[1] < 1)).all()),
                updates=(0,)))
CASES.append(terr(T_, 'batch norm after an OTTT node', lambda n, x: n(x), OTTTSequential(OTTTLIFNode(), nn.BatchNorm1d(5)), _x,
                  match='BatchNorm1d contains batch norm, which OTTT cannot train', updates=(0,)))
class _StatefulLinear(MemoryModule):
    def __init__(self):
        super().__init__(); self.fc = nn.Linear(5, 5)
    def single_step_forward(self, x): return self.fc(x)
CASES.append(terr(T_, 'a stateful module with parameters after an OTTT node', lambda n, x: n(x),
                  OTTTSequential(OTTTLIFNode(), _StatefulLinear()), _x,
                  match='_StatefulLinear has state and parameters', updates=(0,)))
CASES.append(err(T_, 'a triple where a [spike, trace] pair belongs', lambda n, x: n([x, x, x]), OTTTSequential(nn.Linear(5, 2)), _x,
                 match='`x` must be a tensor [B, ...] or a [spike, trace] pair, got list'))
CASES.append(terr(T_, 'a module that is not an nn.Module', OTTTSequential, OTTTLIFNode(), 'linear', match='is not a Module subclass'))
CASES.append(err(T_, 'batch size changed without reset', lambda n, a, b: (n(a), n(b)), ottt_net(23), rand(2, 5), rand(3, 5),
                 match='reset_net', updates=(0,)))

# ================================================================= ottt_online_training
T_ = 'online.ottt_online_training'

def ottt_args(net=None, **change):
    net = net if net is not None else ottt_net()
    base = dict(model=net, optimizer=sgd(net), x_seq=rand(2, 4, 5, scale=2.), target_seq=rand(2, 4, 3), f_loss_t=F.mse_loss,
                online=True)
    for k, v in change.items(): base[k] = v(base) if callable(v) and k != 'f_loss_t' else v
    return base

def ottt_err(label, exc, match, **change):
    a = ottt_args(**change)
    CASES.append(err(T_, label, ottt_online_training, *a.values(), match=match, raises=exc))

ottt_err('model not a module', TypeError, '`model` must be an nn.Module, got None', model=None)
ottt_err('optimizer not an optimizer', TypeError, '`optimizer` must be a torch.optim.Optimizer', optimizer='sgd')
ottt_err('optimizer of another network', ValueError, '`optimizer` must hold parameters of `model`', optimizer=lambda b: sgd(ottt_net(1)))
_m = ottt_net(); _m.requires_grad_(False)
ottt_err('every parameter frozen', ValueError, '`optimizer` must hold trainable parameters of `model`, got only frozen ones', net=_m)
ottt_err('x_seq a list', TypeError, '`x_seq` must be a real (not complex or bool) tensor [B, T, ...] (batch first)', x_seq=lambda b: b['x_seq'].tolist())
ottt_err('bool target_seq', TypeError, '`target_seq` must be a real (not complex or bool) tensor', target_seq=lambda b: b['target_seq'] > 0.5)
ottt_err('f_loss_t not callable', TypeError, '`f_loss_t` must be callable, got 3', f_loss_t=3)
ottt_err('online an int', TypeError, '`online` must be a bool (True or False), got 1', online=1)
ottt_err('online a string', TypeError, "`online` must be a bool (True or False), got 'yes'", online='yes')
ottt_err('x_seq [B] only', ValueError, 'with at least 2 dimensions', x_seq=lambda b: b['x_seq'][:, 0, 0])
ottt_err('time-first data given (transposed)', ValueError, '`target_seq` must have the same [B, T] as `x_seq` [2, 4], got [4, 2]',
         target_seq=lambda b: b['target_seq'].transpose(0, 1))
ottt_err('T differs', ValueError, '`target_seq` must have the same [B, T] as `x_seq` [2, 4], got [2, 3]', target_seq=lambda b: b['target_seq'][:, :3])
ottt_err('B differs', ValueError, '`target_seq` must have the same [B, T] as `x_seq` [2, 4], got [1, 4]', target_seq=lambda b: b['target_seq'][:1])
ottt_err('T = 0', ValueError, '`x_seq` must be a tensor [B, T, ...] (batch first) with at least one time step',
         x_seq=lambda b: b['x_seq'][:, :0], target_seq=lambda b: b['target_seq'][:, :0])
ottt_err('B = 0', ValueError, '`x_seq` must be a tensor [B, T, ...] (batch first) with at least one sample',
         x_seq=lambda b: b['x_seq'][:0], target_seq=lambda b: b['target_seq'][:0])
for what, value in (('NaN', nan), ('+inf', inf), ('-inf', -inf)):
    def _poison(key, value=value):
        def f(b):
            x = b[key].clone(); x[1, 2, 0] = value; return x
        return f
    ottt_err(f'{what} in x_seq', ValueError, '`x_seq` must hold finite values (no NaN or inf)', x_seq=_poison('x_seq'))
    ottt_err(f'{what} in target_seq', ValueError, '`target_seq` must hold finite values (no NaN or inf)', target_seq=_poison('target_seq'))
_m = nn.Sequential(nn.Linear(5, 3), LIFNode(step_mode='m'))
ottt_err('a LIF layer in multi-step mode (would take B for T)', ValueError, "its module 1 (LIFNode) has step_mode='m'", net=_m)
_m = ottt_net(); _used = rand(3, 5)
_m(_used)
ottt_err('batch size changed without reset', ValueError, 'reset_net', net=_m)

_loss_cases(T_, lambda net, opt, x, t, f: ottt_online_training(net, opt, x, t, f, True), ottt_net,
            (rand(2, 5, scale=2.), lambda net: (net, sgd(net), rand(2, 4, 5, scale=2.), rand(2, 4, 3))))

def ottt_ok(label, net, B, T, online=True, lr=0.1, dtype=torch.float32, f=F.mse_loss, target=None, **tol):
    x = rand(B, T, 5, scale=2., dtype=dtype)
    target = rand(B, T, 3, dtype=dtype) if target is None else target
    CASES.append(ok(T_, label, ottt_result, net, torch.optim.SGD(net.parameters(), lr=lr), x, target, f, online,
                    check=ottt_matches_naive(net, lr, x, target, f, online, **tol), updates=(0, 1)))

for online in (True, False):
    ottt_ok(f'OTTT, online={online}', ottt_net(30), 3, 5, online)
    ottt_ok(f'SLTT, online={online}', nn.Sequential(nn.Linear(5, 8), SLTTLIFNode(), nn.Linear(8, 3), SLTTLIFNode()), 3, 5, online)
ottt_ok('B = 1', ottt_net(31), 1, 4)
ottt_ok('T = 1', ottt_net(32), 3, 1)
ottt_ok('an OTTT node at the output ([spike, trace])', ottt_net(33, out=OTTTLIFNode()), 2, 4)
ottt_ok('integer class targets with cross_entropy', ottt_net(34), 3, 4, f=F.cross_entropy, target=torch.randint(0, 3, (3, 4), generator=g))
for dtype in HALF + (torch.float64,):
    ottt_ok(f'{dtype}: dtype kept', ottt_net(35, dtype), 2, 3, dtype=dtype)


# ================================================================= fptt_online_training_init_dual
T_ = 'online.fptt_online_training_init_dual'

def _zeros_like_each(params):
    def check(dual):
        assert isinstance(dual, list) and len(dual) == len(params)
        for d, p in zip(dual, params):
            assert d.shape == p.shape and d.dtype == p.dtype and not d.requires_grad
            assert torch.count_nonzero(d) == 0
    return check

for bad in (nn.Linear(2, 2), None, 'adam'):
    CASES.append(terr(T_, f'not an optimizer: {type(bad).__name__}', fptt_online_training_init_dual, bad,
                      match='`optimizer` must be a torch.optim.Optimizer'))
_net = linear_net(41)
_opt = torch.optim.SGD([{'params': _net[2].parameters()}, {'params': _net[0].parameters()}], lr=0.1)
CASES.append(ok(T_, 'two param groups: zeros in param_groups order', fptt_online_training_init_dual, _opt,
                check=_zeros_like_each([*_net[2].parameters(), *_net[0].parameters()])))
for dtype in HALF + (torch.float64,):
    _net = linear_net(42, dtype)
    CASES.append(ok(T_, f'{dtype} parameters: zeros of that dtype', fptt_online_training_init_dual, sgd(_net),
                    check=_zeros_like_each(list(_net.parameters()))))

# ================================================================= fptt_online_training(formulation='authors')
T_ = 'online.fptt_online_training'
_dual = lambda b: fptt_online_training_init_dual(b['optimizer'])
fptt_err('formulation unknown', ValueError, "`formulation` must be one of 'spikingjelly', 'authors', got 'paper'",
         formulation='paper')
fptt_err('formulation not a string', TypeError, "`formulation` must be one of 'spikingjelly', 'authors', got 1",
         formulation=1)
fptt_err("formulation='authors' without dual", TypeError,
         "`dual` must be the list made by `fptt_online_training_init_dual` (formulation='authors' needs it)",
         formulation='authors')
fptt_err("dual given with formulation='spikingjelly'", ValueError,
         "`dual` must be None with formulation='spikingjelly'", formulation='spikingjelly', dual=_dual)
fptt_err('dual a tuple', TypeError, '`dual` must be the list made by `fptt_online_training_init_dual`',
         formulation='authors', dual=lambda b: tuple(_dual(b)))
fptt_err('dual one short', ValueError, '`dual` must hold one tensor per optimizer parameter',
         formulation='authors', dual=lambda b: _dual(b)[:-1])
fptt_err('dual float64 for float32 parameters', ValueError, '`dual[0]` must be a torch.float32 tensor on cpu',
         formulation='authors', dual=lambda b: [d.double() for d in _dual(b)])
fptt_err('dual requires grad', ValueError, '`dual[0]` must be a detached tensor (not requiring grad)',
         formulation='authors', dual=lambda b: [d.requires_grad_() for d in _dual(b)])
fptt_err('dual aliases the parameters', ValueError, '`dual[0]` shares memory with its parameter',
         formulation='authors', dual=lambda b: [p.data for p in b['model'].parameters()])
fptt_err('dual is w_ra (both updated in place)', ValueError, '`dual` must be tensors apart from `w_ra`',
         formulation='authors', dual=lambda b: b['w_ra'])

def authors_fptt_result(net, opt, x, target, f, alpha, w_ra, dual):
    losses = fptt_online_training(net, opt, x, target, f, alpha, w_ra, 'authors', dual)
    return losses, [p.detach().clone() for p in net.parameters()], [w.clone() for w in w_ra + dual]

def authors_fptt_matches(net, lr, x, target, f, alpha, **tol):
    "Against the authors' code (tests/oracles_onl.py) on a float64 copy with plain SGD."
    ref = copy.deepcopy(net).double()
    opt = torch.optim.SGD(ref.parameters(), lr=lr)
    w_bar = [p.detach().clone() for p in ref.parameters()]
    lam = [torch.zeros_like(w) for w in w_bar]
    cast = lambda s: s.double() if s.is_floating_point() else s
    losses = authors_fptt(ref, opt, cast(x), cast(target), f, alpha, w_bar, lam)
    def check(result):
        got_losses, got_w, got_state = result
        dtype = got_losses.dtype
        torch.testing.assert_close(got_losses, losses.to(dtype), **tol)
        for a, b in zip(got_w + got_state, list(ref.parameters()) + w_bar + lam):
            torch.testing.assert_close(a, b.detach().to(dtype), **tol)
    return check

def authors_fptt_ok(label, net, T, B, lr=0.1, alpha=0.5, dtype=torch.float32, f=F.mse_loss, target=None, **tol):
    x = rand(T, B, 5, scale=2., dtype=dtype)
    target = rand(T, B, 3, dtype=dtype) if target is None else target
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    CASES.append(ok(T_, f"formulation='authors': {label}", authors_fptt_result, net, opt, x, target, f, alpha,
                    fptt_online_training_init_w_ra(opt), fptt_online_training_init_dual(opt),
                    check=authors_fptt_matches(net, lr, x, target, f, alpha, **tol), updates=(0, 1, 6, 7)))

authors_fptt_ok('spiking net, float32', spiking_net(43), 5, 3, rtol=1e-4, atol=1e-5)
authors_fptt_ok('B = 1', spiking_net(44), 4, 1, rtol=1e-4, atol=1e-5)
authors_fptt_ok('T = 1', spiking_net(45), 1, 3, rtol=1e-4, atol=1e-5)
authors_fptt_ok('float64', linear_net(46, torch.float64), 4, 3, dtype=torch.float64)
for dtype in HALF:
    authors_fptt_ok(f'{dtype}: dtype kept', linear_net(47, dtype), 3, 4, dtype=dtype, rtol=3e-2, atol=3e-2)
authors_fptt_ok('integer class targets with cross_entropy', linear_net(48), 4, 2, f=F.cross_entropy,
                target=torch.randint(0, 3, (4, 2), generator=g), rtol=1e-4, atol=1e-5)

# ================================================================= ottt_online_training(k=...): SLTT-K
T_ = 'online.ottt_online_training'
for k, exc, match in ((0, ValueError, '`k` must be an int or None >= 1 and <= 4, got 0'),
                      (5, ValueError, '`k` must be an int or None >= 1 and <= 4, got 5'),
                      (-1, ValueError, '`k` must be an int or None >= 1 and <= 4, got -1'),
                      (2.0, TypeError, '`k` must be an int or None, got 2.0'),
                      (True, TypeError, '`k` must be an int or None, got True'),
                      ('2', TypeError, "`k` must be an int or None, got '2'")):
    ottt_err(f'k = {k!r}', exc, match, online=False, k=k)
ottt_err('generator an int seed', TypeError, '`generator` must be None or a CPU torch.Generator (it draws the k steps), got 0',
         online=False, k=2, generator=0)
ottt_err('generator a numpy-like object', TypeError, '`generator` must be None or a CPU torch.Generator',
         online=False, k=2, generator=torch.Generator().get_state())

def sltt_k_result(net, opt, x, target, f, online, k, seed):
    loss, y = ottt_online_training(net, opt, x, target, f, online, k, torch.Generator().manual_seed(seed))
    return loss, y, [p.detach().clone() for p in net.parameters()]

def sltt_k_matches_authors(net, lr, x, target, f, k, seed, **tol):
    "Against the authors' loop (tests/oracles_onl.py) on a float64 copy, the same draw."
    ref = copy.deepcopy(net).double()
    cast = lambda s: s.double() if s.is_floating_point() else s
    _, total, outs = authors_sltt_k(ref, torch.optim.SGD(ref.parameters(), lr=lr), cast(x), cast(target), f, k,
                                    torch.Generator().manual_seed(seed))
    def check(result):
        loss, y, w = result
        torch.testing.assert_close(loss, total.to(loss.dtype), **tol)
        torch.testing.assert_close(y, outs.to(y.dtype), **tol)
        for a, b in zip(w, ref.parameters()): torch.testing.assert_close(a, b.detach().to(a.dtype), **tol)
    return check

def sltt_k_ok(label, net, B, T, k, dtype=torch.float32, f=F.mse_loss, target=None, seed=0, **tol):
    x = rand(B, T, 5, scale=2., dtype=dtype)
    target = rand(B, T, 3, dtype=dtype) if target is None else target
    CASES.append(ok(T_, f'SLTT-K: {label}', sltt_k_result, net, torch.optim.SGD(net.parameters(), lr=0.1), x, target,
                    f, False, k, seed, check=sltt_k_matches_authors(net, 0.1, x, target, f, k, seed, **tol),
                    updates=(0, 1)))

def paper_net(seed, dtype=torch.float32):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 8), sltt_paper_node(), nn.Linear(8, 3))
    with torch.no_grad(): net[0].weight.mul_(3.)
    return net.to(dtype)

sltt_k_ok('k = 2 of 6, the authors\' neuron', paper_net(50), 3, 6, 2, rtol=1e-4, atol=1e-5)
sltt_k_ok('k = 1 of 1', paper_net(51), 2, 1, 1, rtol=1e-4, atol=1e-5)
sltt_k_ok('B = 1', paper_net(52), 1, 5, 3, seed=3, rtol=1e-4, atol=1e-5)
sltt_k_ok('k = T', paper_net(53), 2, 4, 4, rtol=1e-4, atol=1e-5)
sltt_k_ok('float64', paper_net(54, torch.float64), 3, 5, 2, dtype=torch.float64)
for dtype in HALF:
    sltt_k_ok(f'{dtype}: dtype kept', paper_net(55, dtype), 2, 4, 2, dtype=dtype, rtol=5e-2, atol=5e-2)
sltt_k_ok('integer class targets with cross_entropy', paper_net(56), 3, 4, 2, f=F.cross_entropy,
          target=torch.randint(0, 3, (3, 4), generator=g), rtol=1e-4, atol=1e-5)
ottt_err('SLTT-K: f_loss_t returns a [B, N] tensor, also on a step run without autograd', ValueError,
         '`f_loss_t` must be a function returning a scalar tensor (one number)',
         f_loss_t=lambda y, t: (y - t) ** 2, online=False, k=1, generator=torch.Generator().manual_seed(0))

# ================================================================= sltt_paper_node
T_ = 'online.sltt_paper_node'

def _settings(**expected):
    def check(node):
        assert type(node) is SLTTLIFNode
        for name, value in expected.items(): assert getattr(node, name) == value, (name, getattr(node, name))
        assert type(node.surrogate_function) is PiecewiseQuadratic and node.surrogate_function.alpha == 1.0
    return check

CASES.append(ok(T_, "the authors' settings", sltt_paper_node,
                check=_settings(tau=1.1, decay_input=False, v_reset=None, detach_reset=False, v_threshold=1.)))
CASES.append(ok(T_, 'an override wins', sltt_paper_node, tau=zero_d(1.5), v_threshold=0.5,
                check=_settings(tau=1.5, v_threshold=0.5, v_reset=None)))
CASES.append(err(T_, 'tau = 1 (no leak)', sltt_paper_node, tau=1.0, match='`tau` must be a finite real number > 1'))
CASES.append(err(T_, "step_mode 'm'", sltt_paper_node, step_mode='m', match="`step_mode` must be 's' for SLTTLIFNode"))
CASES.append(terr(T_, 'decay_input not a bool', sltt_paper_node, decay_input=1, match='`decay_input` must be a bool'))
CASES.append(terr(T_, 'an unknown setting', sltt_paper_node, taus=2., match="unexpected keyword argument 'taus'"))
