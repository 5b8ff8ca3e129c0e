"""snnlit.online as the papers' authors run it: SLTT-K (Meng et al., ICCV 2023, train_SLTTK.py), the authors' SLTT
neuron settings, and FPTT's dual formulation (Kag & Saligrama, ICML 2021, train.py), each against a plain
re-implementation of the authors' code (tests/oracles_onl.py) and against what the method must equal by
construction (SLTT-K's gradient is the full SLTT gradient restricted to the drawn steps).

Exact comparisons only between runs of the same code on the same data (k = T against k = None); everything else is
compared with a tolerance, in float64."""
import copy
import pytest, torch
from torch import nn
import torch.nn.functional as F
from helpers import stable_seed, generator, assert_close
from snnlit.base import MemoryModule
from snnlit.neuron import LIFNode, IFNode
from snnlit.functional import reset_net, detach_net
from snnlit.surrogate import PiecewiseQuadratic
from snnlit.online import (fptt_online_training_init_w_ra, fptt_online_training_init_dual, fptt_online_training,
                           OTTTLIFNode, SLTTLIFNode, OTTTSequential, ottt_online_training, sltt_paper_node)
from oracles_onl import authors_fptt, authors_sltt_k


def sltt_net(seed, dtype=torch.float64, node=sltt_paper_node):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 9), node(), nn.Linear(9, 7), node(), nn.Linear(7, 3)).to(dtype)
    with torch.no_grad(): net[0].weight.mul_(3.); net[2].weight.mul_(3.)     # firing on these inputs
    return net

def ottt_net(seed, dtype=torch.float64):
    torch.manual_seed(seed)
    net = OTTTSequential(nn.Linear(5, 9), OTTTLIFNode(), nn.Linear(9, 3)).to(dtype)
    with torch.no_grad(): net[0].weight.mul_(3.)
    return net

def fptt_net(seed, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 9), LIFNode(tau=2.), nn.Linear(9, 3), IFNode(v_reset=None)).to(dtype)

def batch_first(B, T, seed, dtype=torch.float64):
    g = generator('onl', seed)
    return (torch.rand(B, T, 5, generator=g, dtype=torch.float64) * 2).to(dtype), \
           torch.rand(B, T, 3, generator=g, dtype=torch.float64).to(dtype)

def weights(net): return [p.detach().clone() for p in net.parameters()]


# ---------------------------------------------------------------- SLTT-K
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('K', [1, 2, 5])
def test_sltt_k_matches_the_authors_loop(seed, K):
    nets = [sltt_net(seed), sltt_net(seed)]
    opts = [torch.optim.SGD(n.parameters(), lr=0.3, momentum=0.9) for n in nets]
    for batch in range(3):                                   # momentum carries across batches
        x, target = batch_first(4, 6, (seed, K, batch))
        draw_seed = stable_seed('draw', seed, K, batch)
        loss, y = ottt_online_training(nets[0], opts[0], x, target, F.mse_loss, False, k=K,
                                       generator=torch.Generator().manual_seed(draw_seed))
        drawn, total, outs = authors_sltt_k(nets[1], opts[1], x, target, F.mse_loss, K,
                                            torch.Generator().manual_seed(draw_seed))
        assert len(drawn) == K
        assert_close(loss, total); assert_close(y, outs)
        for a, b in zip(nets[0].parameters(), nets[1].parameters()): assert_close(a, b)
        reset_net(nets[0]); reset_net(nets[1])


def test_sltt_k_draws_from_the_global_generator_like_the_authors():
    nets = [sltt_net(3), sltt_net(3)]
    opts = [torch.optim.SGD(n.parameters(), lr=0.2) for n in nets]
    x, target = batch_first(3, 8, 3)
    torch.manual_seed(2022)
    ottt_online_training(nets[0], opts[0], x, target, F.mse_loss, False, k=3)
    after_ours = torch.rand(1)
    torch.manual_seed(2022)
    authors_sltt_k(nets[1], opts[1], x, target, F.mse_loss, 3)
    assert torch.equal(after_ours, torch.rand(1))           # the same draws consumed
    for a, b in zip(nets[0].parameters(), nets[1].parameters()): assert_close(a, b)


@pytest.mark.parametrize('make', [sltt_net, ottt_net], ids=['SLTT', 'OTTT'])
@pytest.mark.parametrize('seed', [0, 1])
def test_sltt_k_gradient_is_the_full_gradient_restricted_to_the_drawn_steps(make, seed):
    "One backward through every step's graph, of the loss summed over the drawn steps only: the same gradient."
    net, ref = make(seed), make(seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.)          # lr 0: p.grad holds the accumulated gradient
    x, target = batch_first(4, 7, seed)
    ottt_online_training(net, opt, x, target, F.mse_loss, False, k=3, generator=generator('k', seed))
    drawn = torch.randperm(7, generator=generator('k', seed))[:3].tolist()
    loss = 0.
    for t in range(7):                                       # graphs of all steps kept, one backward at the end
        y = ref(x[:, t]); y = y[0] if isinstance(y, list) else y
        if t in drawn: loss = loss + F.mse_loss(y, target[:, t])
    loss.backward()
    for p, q in zip(net.parameters(), ref.parameters()): assert_close(p.grad, q.grad)


def test_sltt_k_steps_outside_the_draw_build_no_graph_and_do_not_step():
    net = sltt_net(4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    steps = []
    opt.register_step_post_hook(lambda *a: steps.append(1))
    with_grad = []
    def f(y, t):
        with_grad.append(y.requires_grad); return F.mse_loss(y, t)
    x, target = batch_first(2, 9, 4)
    ottt_online_training(net, opt, x, target, f, True, k=4, generator=generator('graph'))
    drawn = torch.randperm(9, generator=generator('graph'))[:4].tolist()
    assert with_grad == [t in drawn for t in range(9)]
    assert len(steps) == 4                                   # online=True: one step per drawn step


def test_sltt_k_equal_to_T_is_full_sltt():
    nets = [sltt_net(5, torch.float32), sltt_net(5, torch.float32)]
    opts = [torch.optim.Adam(n.parameters(), lr=0.01) for n in nets]
    x, target = batch_first(3, 5, 5, torch.float32)
    a = ottt_online_training(nets[0], opts[0], x, target, F.mse_loss, True)
    b = ottt_online_training(nets[1], opts[1], x, target, F.mse_loss, True, k=5, generator=torch.Generator())
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])   # the same code on the same data
    for p, q in zip(nets[0].parameters(), nets[1].parameters()): assert torch.equal(p, q)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize('B', [1, 3])
def test_sltt_k_dtypes_and_batch_size_one(dtype, B):
    net = sltt_net(6, dtype)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, target = batch_first(B, 4, 6, dtype)
    before = weights(net)
    loss, y = ottt_online_training(net, opt, x, target, F.mse_loss, False, k=2, generator=generator(dtype))
    assert loss.dtype == dtype and y.dtype == dtype and y.shape == (B, 4, 3)
    assert torch.isfinite(loss) and any(not torch.equal(a, p) for a, p in zip(before, net.parameters()))


def test_sltt_paper_node_is_the_authors_neuron():
    "tau 1.1, v = (1 - 1/tau) v + x, soft reset, triangle surrogate: against the recursion written out."
    node = sltt_paper_node()
    assert (node.tau, node.decay_input, node.v_reset, node.detach_reset) == (1.1, False, None, False)
    assert type(node.surrogate_function) is PiecewiseQuadratic and node.surrogate_function.alpha == 1.0
    g = generator('paper-node')
    xs = torch.rand(6, 4, 5, generator=g, dtype=torch.float64) * 1.5
    v = torch.zeros(4, 5, dtype=torch.float64)
    for x in xs:
        x = x.clone().requires_grad_(True)
        s = node(x)
        h = v * (1 - 1 / 1.1) + x.detach()
        assert torch.equal(s.detach(), (h >= 1.).double())
        s.sum().backward()
        assert_close(x.grad, (1. - (h - 1.).abs()).clamp(min=0))
        v = h - (h >= 1.).double()
        assert_close(node.v, v)
    assert sltt_paper_node(tau=3.).tau == 3.


def test_sltt_paper_node_matches_spikingjelly_configured_like_the_authors():
    sj_neuron = pytest.importorskip('spikingjelly.activation_based.neuron')
    sj_surrogate = pytest.importorskip('spikingjelly.activation_based.surrogate')
    ours = sltt_paper_node()
    ref = sj_neuron.SLTTLIFNode(tau=1.1, decay_input=False, v_reset=None, detach_reset=False,
                                surrogate_function=sj_surrogate.PiecewiseQuadratic())
    g = generator('sj-paper-node')
    for x in torch.rand(5, 3, 4, generator=g, dtype=torch.float64) * 1.5:
        a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        sa, sb = ours(a), ref(b)
        assert_close(sa, sb)
        (sa * x).sum().backward(); (sb * x).sum().backward()
        assert_close(a.grad, b.grad)
        assert_close(ours.v, ref.v)


# ---------------------------------------------------------------- FPTT, the authors' formulation
@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('opt_cls,kw', [(torch.optim.SGD, dict(lr=0.2)), (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
                                        (torch.optim.Adam, dict(lr=0.02))])
def test_fptt_authors_matches_their_code(seed, opt_cls, kw):
    nets = [fptt_net(seed), fptt_net(seed)]
    # two param groups, in an order other than the module order
    opts = [opt_cls([{'params': n[2].parameters()}, {'params': n[0].parameters()}], **kw) for n in nets]
    w_ra, dual = fptt_online_training_init_w_ra(opts[0]), fptt_online_training_init_dual(opts[0])
    w_bar = [p.detach().clone() for g in opts[1].param_groups for p in g['params']]
    lam = [torch.zeros_like(w) for w in w_bar]
    g = generator('fptt-authors', seed)
    for sequence in range(3):                                # the dual and w_ra carry across sequences
        x = torch.rand(6, 4, 5, generator=g, dtype=torch.float64) * 2
        target = torch.rand(6, 4, 3, generator=g, dtype=torch.float64)
        losses = fptt_online_training(nets[0], opts[0], x, target, F.mse_loss, 0.3, w_ra, 'authors', dual)
        expected = authors_fptt(nets[1], opts[1], x, target, F.mse_loss, 0.3, w_bar, lam)
        assert_close(losses, expected)
        for a, b in zip(nets[0].parameters(), nets[1].parameters()): assert_close(a, b)
        for a, b in zip(w_ra + dual, w_bar + lam): assert_close(a, b)
        for m0, m1 in zip(nets[0].modules(), nets[1].modules()):
            if isinstance(m0, MemoryModule): assert_close(m0.v, m1.v)
        reset_net(nets[0]); reset_net(nets[1])
    assert any(d.abs().sum() > 0 for d in dual)


def test_fptt_authors_runs_one_forward_per_step_and_keeps_the_state():
    net, plain = fptt_net(3), fptt_net(3)
    opt = torch.optim.SGD(net.parameters(), lr=0.)
    calls = []
    def f(y, t): calls.append(1); return F.mse_loss(y, t)
    x = torch.rand(7, 2, 5, generator=generator('one-forward'), dtype=torch.float64) * 2
    fptt_online_training(net, opt, x, torch.rand(7, 2, 3, dtype=torch.float64), f, 0.5,
                         fptt_online_training_init_w_ra(opt), 'authors', fptt_online_training_init_dual(opt))
    assert len(calls) == 7
    with torch.no_grad():
        for xt in x: plain(xt)
    for m0, m1 in zip(net.modules(), plain.modules()):
        if isinstance(m0, MemoryModule): assert torch.equal(m0.v, m1.v)


def test_fptt_authors_frozen_and_unused_parameters():
    "A frozen parameter never moves; an unused trainable one feels only the regulariser, as autograd would give it."
    nets = [fptt_net(4), fptt_net(4)]
    unused = torch.randn(3, generator=generator('unused'), dtype=torch.float64)
    extra = [nn.Parameter(unused.clone()) for _ in nets]
    for n, e in zip(nets, extra): n[0].bias.requires_grad_(False); n.register_parameter('unused', e)
    opts = [torch.optim.SGD(n.parameters(), lr=0.1, momentum=0.5) for n in nets]
    w_ra, dual = fptt_online_training_init_w_ra(opts[0]), fptt_online_training_init_dual(opts[0])
    at = [p is extra[0] for p in nets[0].parameters()].index(True)
    w_ra[at] += 0.5                                          # w_ra away from w: the unused one is pulled
    w_bar = [w.clone() for w in w_ra]
    lam = [torch.zeros_like(w) for w in w_bar]
    frozen = nets[0][0].bias.detach().clone()
    g = generator('frozen')
    for _ in range(2):
        x = torch.rand(5, 3, 5, generator=g, dtype=torch.float64) * 2
        target = torch.rand(5, 3, 3, generator=g, dtype=torch.float64)
        fptt_online_training(nets[0], opts[0], x, target, F.mse_loss, 0.4, w_ra, 'authors', dual)
        authors_fptt(nets[1], opts[1], x, target, F.mse_loss, 0.4, w_bar, lam)
        reset_net(nets[0]); reset_net(nets[1])
    assert torch.equal(nets[0][0].bias.detach(), frozen)
    assert not torch.equal(extra[0].detach(), unused)         # pulled by the regulariser alone
    for a, b in zip(nets[0].parameters(), nets[1].parameters()): assert_close(a, b)
    for a, b in zip(w_ra + dual, w_bar + lam): assert_close(a, b)


def test_fptt_default_is_spikingjelly_formulation():
    "Without `formulation` the call is spikingjelly's (a second forward per step but the last); dual refused there."
    net = fptt_net(5)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    calls = []
    def f(y, t): calls.append(1); return F.mse_loss(y, t)
    x = torch.rand(4, 2, 5, dtype=torch.float64)
    w_ra = fptt_online_training_init_w_ra(opt)
    fptt_online_training(net, opt, x, torch.rand(4, 2, 3, dtype=torch.float64), f, 0.5, w_ra)
    assert len(calls) == 4 + 3
    with pytest.raises(ValueError, match="`dual` must be None with formulation='spikingjelly'"):
        fptt_online_training(net, opt, x, x[..., :3], F.mse_loss, 0.5, w_ra, dual=fptt_online_training_init_dual(opt))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize('B', [1, 3])
def test_fptt_authors_dtypes_and_batch_size_one(dtype, B):
    torch.manual_seed(7)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).to(dtype)
    ref = copy.deepcopy(net).double()
    opt, ref_opt = torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    w_ra, dual = fptt_online_training_init_w_ra(opt), fptt_online_training_init_dual(opt)
    w_bar, lam = [w.double().clone() for w in w_ra], [d.double().clone() for d in dual]
    g = generator('fptt-dtype', str(dtype), B)
    x, target = torch.rand(3, B, 5, generator=g), torch.rand(3, B, 3, generator=g)
    losses = fptt_online_training(net, opt, x.to(dtype), target.to(dtype), F.mse_loss, 0.5, w_ra, 'authors', dual)
    expected = authors_fptt(ref, ref_opt, x.to(dtype).double(), target.to(dtype).double(), F.mse_loss, 0.5, w_bar, lam)
    tol = dict(rtol=3e-2, atol=3e-2) if dtype in (torch.float16, torch.bfloat16) else dict(rtol=1e-4, atol=1e-5)
    assert losses.dtype == dtype and all(w.dtype == dtype for w in w_ra + dual)
    assert_close(losses, expected.to(dtype), **tol)
    for a, b in zip(list(net.parameters()) + w_ra + dual, list(ref.parameters()) + w_bar + lam):
        assert_close(a.detach(), b.detach().to(dtype), **tol)
