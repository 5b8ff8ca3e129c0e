"""snnlit.online: FPTT against a plain re-implementation of its three steps, OTTT/SLTT gradients against
hand-computed ones, graph truncation, reset discipline, input checks, dtypes and batch size 1.

Exact comparisons (`torch.equal`) are kept only between runs of the same code on the same data and shapes (a
network and its reset or freshly loaded twin, an online node and the `LIFNode` code it calls, a copy and its
source); results of different computations (a re-implementation, another path or library) use a tolerance."""
import copy
import pytest, torch
from torch import nn
import torch.nn.functional as F
from snnlit.base import MemoryModule
from snnlit.neuron import LIFNode, IFNode
from snnlit.functional import reset_net, detach_net
from snnlit.online import (fptt_online_training_init_w_ra, fptt_online_training, OTTTLIFNode, SLTTLIFNode,
                           OTTTSequential, ottt_online_training, _value_with_grad_of)
from oracles import plain_fptt


# ---------------------------------------------------------------- helpers
def make_net(seed, n_in=5, n_hidden=9, n_out=3, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, n_hidden), LIFNode(tau=2.), nn.Linear(n_hidden, n_out),
                         IFNode(v_reset=None)).to(dtype)

def seqs(T, B, n_in, n_out, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, n_in, generator=g, dtype=torch.float64) * 2).to(dtype), \
           torch.rand(T, B, n_out, generator=g, dtype=torch.float64).to(dtype)

def states(net): return [copy.deepcopy(m._memories) for m in net.modules() if isinstance(m, MemoryModule)]


# ---------------------------------------------------------------- FPTT
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('opt_cls,kw', [(torch.optim.SGD, dict(lr=0.2)), (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
                                        (torch.optim.Adam, dict(lr=0.02))])
def test_fptt_matches_plain_reimplementation(seed, opt_cls, kw):
    nets = [make_net(seed), make_net(seed)]
    # two param groups, in an order other than the module order
    opts = [opt_cls([{'params': n[2].parameters()}, {'params': n[0].parameters()}], **kw) for n in nets]
    w_ras = [fptt_online_training_init_w_ra(o) for o in opts]
    alpha = [0.1, 0.5, 2.0][seed]
    for s in range(3):
        x, target = seqs(6, 4, 5, 3, 10 * seed + s)
        losses = fptt_online_training(nets[0], opts[0], x, target, F.mse_loss, alpha, w_ras[0])
        plain_fptt(nets[1], opts[1], x, target, F.mse_loss, alpha, w_ras[1])
        assert losses.shape == (6,)
        for a, b in zip(states(nets[0]), states(nets[1])):
            for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-10, atol=1e-12)
        reset_net(nets[0]); reset_net(nets[1])
    for p, q in zip(nets[0].parameters(), nets[1].parameters()): torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12)
    for a, b in zip(*w_ras): torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert all(p.grad is None for p in nets[0].parameters())


def test_fptt_w_ra_is_a_copy_and_aliasing_is_refused():
    net = make_net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w_ra = fptt_online_training_init_w_ra(opt)
    for w, p in zip(w_ra, net.parameters()):
        assert torch.equal(w, p.detach()) and not w.requires_grad
        assert w.untyped_storage().data_ptr() != p.untyped_storage().data_ptr()
    with torch.no_grad():
        for p in net.parameters(): p.mul_(2.)
    assert not any(torch.equal(w, p.detach()) for w, p in zip(w_ra, net.parameters()) if p.abs().sum() > 0)
    x, target = seqs(4, 2, 5, 3, 0)
    with pytest.raises(ValueError, match=r"`w_ra\[0\]` shares memory with its parameter"):
        fptt_online_training(net, opt, x, target, F.mse_loss, 0.5, [p.data for p in net.parameters()])
    with pytest.raises(ValueError, match=r"`w_ra\[1\]` shares memory"):
        fptt_online_training(net, opt, x, target, F.mse_loss, 0.5, [w_ra[0], net[0].bias.data[:], *w_ra[2:]])


def test_fptt_state_is_restored_after_the_second_forward():
    # with lr = 0, every forward sees the same weights: the state after the call must be that of a plain forward
    net = make_net(3)
    opt = torch.optim.SGD(net.parameters(), lr=0.)
    x, target = seqs(9, 3, 5, 3, 4)
    fptt_online_training(net, opt, x, target, F.mse_loss, 0.5, fptt_online_training_init_w_ra(opt))
    after = states(net)
    reset_net(net)
    with torch.no_grad():
        for x_t in x: net(x_t)
    for a, b in zip(after, states(net)):
        for k in a: assert torch.equal(a[k], b[k])
    # and the state carries no graph
    assert not any(v.requires_grad for m in net.modules() if isinstance(m, MemoryModule) for v in m._memories.values())


def test_fptt_reset_between_sequences_leaves_no_state():
    x1, t1 = seqs(5, 3, 5, 3, 1)
    x2, t2 = seqs(5, 3, 5, 3, 2)
    used = make_net(4)
    opt = torch.optim.SGD(used.parameters(), lr=0.1)
    w = fptt_online_training_init_w_ra(opt)
    fptt_online_training(used, opt, x1, t1, F.mse_loss, 0.5, w)
    reset_net(used)
    fresh = make_net(4); fresh.load_state_dict(used.state_dict())
    opt_f = torch.optim.SGD(fresh.parameters(), lr=0.1)
    w_f = [v.clone() for v in w]
    la = fptt_online_training(used, opt, x2, t2, F.mse_loss, 0.5, w)
    lb = fptt_online_training(fresh, opt_f, x2, t2, F.mse_loss, 0.5, w_f)
    assert torch.equal(la, lb)
    for p, q in zip(used.parameters(), fresh.parameters()): assert torch.equal(p, q)
    # the same without a reset differs (the test can fail)
    leaky = make_net(4); opt_l = torch.optim.SGD(leaky.parameters(), lr=0.1); w_l = fptt_online_training_init_w_ra(opt_l)
    fptt_online_training(leaky, opt_l, x1, t1, F.mse_loss, 0.5, w_l)
    fresh = make_net(4); fresh.load_state_dict(leaky.state_dict()); opt_f = torch.optim.SGD(fresh.parameters(), lr=0.1)
    assert not torch.equal(fptt_online_training(leaky, opt_l, x2, t2, F.mse_loss, 0.5, w_l),
                           fptt_online_training(fresh, opt_f, x2, t2, F.mse_loss, 0.5, [v.clone() for v in w_l]))


def test_fptt_unused_and_frozen_parameters_count_as_zero_gradient():
    net = make_net(5)
    extra = nn.Parameter(torch.randn(3, dtype=torch.float64))     # in the optimizer, not in the model
    net[0].bias.requires_grad_(False)
    opt = torch.optim.SGD([*net.parameters(), extra], lr=0.1)
    w = fptt_online_training_init_w_ra(opt)
    x, target = seqs(4, 2, 5, 3, 5)
    bias0, extra0 = net[0].bias.detach().clone(), extra.detach().clone()
    fptt_online_training(net, opt, x, target, F.mse_loss, 0.5, w)     # the reference would fail on `None.grad`
    # their gradient is 0 and they do not move, so w_ra <- (w_ra + p)/2 keeps them equal to p
    assert torch.equal(net[0].bias, bias0) and torch.equal(extra.detach(), extra0)
    assert torch.equal(w[1], bias0) and torch.equal(w[-1], extra0)
    assert not torch.equal(w[0], net[0].weight.detach())               # while a trained one's w_ra moved away


def test_fptt_does_not_change_inputs_and_checks_arguments():
    net = make_net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w = fptt_online_training_init_w_ra(opt)
    x, target = seqs(4, 2, 5, 3, 0)
    x0, t0 = x.clone(), target.clone()
    fptt_online_training(net, opt, x, target, F.mse_loss, 0.5, w)
    assert torch.equal(x, x0) and torch.equal(target, t0)
    cases = [
        (dict(model='net'), TypeError, "`model` must be an nn.Module, got 'net'"),
        (dict(optimizer=net), TypeError, "`optimizer` must be a torch.optim.Optimizer, got Sequential"),
        (dict(x_seq=x.numpy()), TypeError, r"`x_seq` must be a real \(not complex or bool\) tensor \[T, B, ...\], got ndarray"),
        (dict(target_seq=target[:3]), ValueError, r"`target_seq` must have the same \[T, B\] as `x_seq` \[4, 2\], got \[3, 2\]"),
        (dict(f_loss_t=None), TypeError, "`f_loss_t` must be callable, got None"),
        (dict(alpha=-1.), ValueError, "`alpha` must be a finite real number > 0, got -1.0"),
        (dict(alpha=True), TypeError, "`alpha` must be a finite real number, got True"),
        (dict(w_ra=tuple(w)), TypeError, "`w_ra` must be the list made by `fptt_online_training_init_w_ra`, got tuple"),
        (dict(w_ra=w[:-1]), ValueError, "`w_ra` must hold one tensor per optimizer parameter"),
        (dict(w_ra=[v[None] for v in w]), ValueError, "`w_ra` must hold one tensor per optimizer parameter"),
        (dict(x_seq=x[:0], target_seq=target[:0]), ValueError, r"`x_seq` must be a tensor \[T, B, ...\] with at least one time step, got a torch.float64 tensor of shape \(0, 2, 5\)"),
    ]
    base = dict(model=net, optimizer=opt, x_seq=x, target_seq=target, f_loss_t=F.mse_loss, alpha=0.5, w_ra=w)
    for change, exc, msg in cases:
        with pytest.raises(exc, match=msg): fptt_online_training(**{**base, **change})


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_fptt_dtypes_and_batch_size_one(dtype):
    net = make_net(1, dtype=dtype)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    w = fptt_online_training_init_w_ra(opt)
    x, target = seqs(5, 1, 5, 3, 1, dtype=dtype)
    losses = fptt_online_training(net, opt, x, target, F.mse_loss, 0.5, w)
    assert losses.dtype == dtype and losses.shape == (5,)
    assert all(v.dtype == dtype for v in w) and all(torch.isfinite(p).all() for p in net.parameters())


# ---------------------------------------------------------------- OTTT / SLTT neurons and container
def test_value_with_grad_of_backward_is_identity_to_second_argument():
    for dtype in (torch.float32, torch.float64):
        a = torch.randn(4, 3, dtype=dtype, requires_grad=True)
        b = torch.randn(4, 3, dtype=dtype, requires_grad=True)
        out = _value_with_grad_of(a, b)
        assert torch.equal(out.detach(), a.detach())
        up = torch.randn(4, 3, dtype=dtype)
        out.backward(up)
        assert torch.equal(b.grad, up) and a.grad is None
        a.data.add_(1.)                      # the output is not a view of `value`
        assert not torch.equal(out.detach(), a.detach())


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('tau', [1.5, 2.0, 4.0])
def test_ottt_weight_gradient_is_delta_times_trace(seed, tau):
    "One layer after an OTTT node: dL_t/dW = sum over the batch of delta_t outer trace_t, at every step."
    torch.manual_seed(seed)
    B, N_in, N_out, T = 3, 6, 4, 9
    net = OTTTSequential(OTTTLIFNode(tau=tau), nn.Linear(N_in, N_out)).double()
    x_seq = torch.rand(T, B, N_in, dtype=torch.float64) * 2.5
    c_seq = torch.randn(T, B, N_out, dtype=torch.float64)
    lam = 1 - 1 / tau
    # naive neuron and trace, one scalar at a time
    v = [[0.] * N_in for _ in range(B)]
    a = [[0.] * N_in for _ in range(B)]
    for t in range(T):
        net.zero_grad()
        y = net(x_seq[t])
        loss = (y * c_seq[t]).sum()                        # delta_t = c_t
        loss.backward()
        s = [[0.] * N_in for _ in range(B)]
        for b in range(B):
            for i in range(N_in):
                h = lam * v[b][i] + x_seq[t, b, i].item()       # decay_input=False
                s[b][i] = 1. if h >= 1. else 0.
                v[b][i] = h - s[b][i]                           # soft reset
                a[b][i] = lam * a[b][i] + s[b][i]
        grad = [[sum(c_seq[t, b, o].item() * a[b][i] for b in range(B)) for i in range(N_in)] for o in range(N_out)]
        torch.testing.assert_close(net[1].weight.grad, torch.tensor(grad, dtype=torch.float64))
        torch.testing.assert_close(net[0].trace, torch.tensor(a, dtype=torch.float64))
        torch.testing.assert_close(y.detach(), torch.tensor(s, dtype=torch.float64) @ net[1].weight.detach().T + net[1].bias.detach())


def test_ottt_and_sltt_membranes_carry_no_graph_across_steps():
    for node in (OTTTLIFNode(), SLTTLIFNode(), OTTTSequential(nn.Linear(3, 4), OTTTLIFNode(), nn.Linear(4, 2))):
        xs = [(torch.rand(2, 3) * 3).requires_grad_() for _ in range(4)]
        outs = [node(x) for x in xs]
        last = outs[-1][0] if isinstance(outs[-1], list) else outs[-1]
        last.sum().backward()
        assert all(x.grad is None for x in xs[:-1]), type(node).__name__
        assert xs[-1].grad is not None


def test_online_neurons_forward_equals_lif_and_trace_has_no_grad():
    torch.manual_seed(0)
    x_seq = torch.rand(20, 4, 7) * 2.5
    o, s = OTTTLIFNode(tau=3.), SLTTLIFNode(tau=3.)
    lo, ls = LIFNode(tau=3., decay_input=False, v_reset=None), LIFNode(tau=3.)
    for x in x_seq:
        spike, trace = o(x.requires_grad_())
        assert torch.equal(spike, lo(x)) and torch.equal(s(x), ls(x))
        assert not trace.requires_grad
    assert torch.equal(o.v.detach(), lo.v.detach()) and torch.equal(s.v.detach(), ls.v.detach())
    o.eval()
    assert isinstance(o(x_seq[0]), torch.Tensor)


def test_online_neurons_are_single_step_only():
    for cls in (OTTTLIFNode, SLTTLIFNode):
        with pytest.raises(ValueError, match=f"`step_mode` must be 's' for {cls.__name__}"): cls(step_mode='m')
        with pytest.raises(ValueError, match=r"`step_mode` must be one of \('s',\)"): setattr(cls(), 'step_mode', 'm')
    with pytest.raises(ValueError, match="`tau` must be a finite real number > 1, got 1.0"): OTTTLIFNode(tau=1.)


def test_ottt_sequential_dropout_shares_one_mask_and_eval_is_plain():
    torch.manual_seed(0)
    net = OTTTSequential(OTTTLIFNode(), nn.Dropout(0.5), nn.Flatten())
    for _ in range(5):
        spike, trace = net(torch.rand(8, 4, 16) * 3)
        kept_s, kept_t = spike != 0, trace != 0
        # a unit dropped from one is dropped from the other
        assert not (kept_s & ~kept_t).any()
        assert torch.equal(trace[kept_s] > 0, torch.ones_like(trace[kept_s], dtype=torch.bool))
    # the dropped units of the trace are exactly those of the spike wherever the trace is nonzero before dropout
    net = OTTTSequential(nn.Linear(4, 6), OTTTLIFNode(), nn.Dropout(0.3), nn.Linear(6, 3)).eval()
    plain = copy.deepcopy(nn.Sequential(*net))
    x = torch.rand(5, 4) * 3
    with torch.no_grad():
        for _ in range(3): assert torch.equal(net(x), plain(x))


def test_ottt_sequential_refuses_batch_norm_and_stateful_modules_with_parameters():
    with pytest.raises(TypeError, match="Sequential contains batch norm"):
        OTTTSequential(OTTTLIFNode(), nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)))(torch.rand(3, 4))
    class StatefulLinear(MemoryModule):
        def __init__(self):
            super().__init__(); self.fc = nn.Linear(4, 4)
        def single_step_forward(self, x): return self.fc(x)
    with pytest.raises(TypeError, match="StatefulLinear has state and parameters"):
        OTTTSequential(OTTTLIFNode(), StatefulLinear())(torch.rand(3, 4))


# ---------------------------------------------------------------- ottt_online_training
def ottt_net(seed, out_node=None):
    torch.manual_seed(seed)
    net = OTTTSequential(nn.Linear(6, 16), OTTTLIFNode(), nn.Linear(16, 3), out_node or LIFNode())
    with torch.no_grad(): net[2].weight.mul_(3.); net[2].bias.add_(0.5)
    return net


@pytest.mark.parametrize('online', [True, False])
@pytest.mark.parametrize('out_node', [LIFNode, IFNode, OTTTLIFNode, SLTTLIFNode])
def test_ottt_many_batches_never_backward_twice(online, out_node):
    net = ottt_net(0, out_node())
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for batch in range(30):
        B = 1 + batch % 3
        x, target = torch.rand(B, 6, 6, generator=g) * 2, torch.rand(B, 6, 3, generator=g)
        loss, y = ottt_online_training(net, opt, x, target, F.mse_loss, online)
        reset_net(net)
        assert y.shape == (B, 6, 3) and not y.requires_grad and not loss.requires_grad and torch.isfinite(loss)


@pytest.mark.parametrize('seed', [0, 1])
def test_ottt_online_false_is_one_step_on_the_summed_gradient(seed):
    net, ref = ottt_net(seed), ottt_net(seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(seed)
    x, target = torch.rand(4, 7, 6, generator=g) * 2, torch.rand(4, 7, 3, generator=g)
    loss, y = ottt_online_training(net, opt, x, target, F.mse_loss, online=False)
    params = list(ref.parameters())
    total, ys, grads = 0., [], [torch.zeros_like(p) for p in params]
    for t in range(7):
        out = ref(x[:, t])
        l = F.mse_loss(out, target[:, t])
        for acc, gr in zip(grads, torch.autograd.grad(l, params)): acc += gr
        detach_net(ref)
        total += l.item(); ys.append(out.detach())
    torch.testing.assert_close(loss.item(), total)
    assert torch.equal(y, torch.stack(ys, 1))
    for p, q, gr in zip(net.parameters(), params, grads): torch.testing.assert_close(p.detach(), (q - 0.1 * gr).detach())


def test_ottt_online_true_steps_every_time_step():
    net, ref = ottt_net(2), ottt_net(2)
    opt, opt_r = torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(2)
    x, target = torch.rand(3, 5, 6, generator=g) * 2, torch.rand(3, 5, 3, generator=g)
    ottt_online_training(net, opt, x, target, F.mse_loss, online=True)
    for t in range(5):
        opt_r.zero_grad()
        F.mse_loss(ref(x[:, t]), target[:, t]).backward()
        opt_r.step(); detach_net(ref)
    for p, q in zip(net.parameters(), ref.parameters()): torch.testing.assert_close(p, q)


def test_ottt_reset_between_batches_leaves_no_state():
    g = torch.Generator().manual_seed(7)
    xa, ta, xb, tb = (torch.rand(4, 7, 6, generator=g) * 3, torch.rand(4, 7, 3, generator=g),
                      torch.rand(4, 7, 6, generator=g) * 3, torch.rand(4, 7, 3, generator=g))
    def run(net, x, t):
        return ottt_online_training(net, torch.optim.SGD(net.parameters(), lr=0.1), x, t, F.mse_loss, True)
    used = ottt_net(1); run(used, xa, ta); reset_net(used)
    fresh = ottt_net(1); fresh.load_state_dict(used.state_dict())
    la, ya = run(used, xb, tb); lb, yb = run(fresh, xb, tb)
    assert torch.equal(la, lb) and torch.equal(ya, yb) and ya.sum() > 0
    for p, q in zip(used.parameters(), fresh.parameters()): assert torch.equal(p, q)
    # a reset that forgot the trace would be caught: clear only the membrane and compare
    partial = ottt_net(1); run(partial, xa, ta)
    fresh = ottt_net(1); fresh.load_state_dict(partial.state_dict())
    partial[1].v = 0.; partial[3].reset()
    run(partial, xb, tb); run(fresh, xb, tb)
    assert not torch.equal(partial[2].weight, fresh[2].weight)   # the leftover trace changed the weight gradient


def test_ottt_training_checks_arguments_and_keeps_inputs():
    net = ottt_net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, target = torch.rand(2, 5, 6), torch.rand(2, 5, 3)
    x0 = x.clone()
    ottt_online_training(net, opt, x, target, F.mse_loss, True)
    assert torch.equal(x, x0)
    reset_net(net)
    with pytest.raises(ValueError, match=r"`target_seq` must have the same \[B, T\] as `x_seq` \[2, 5\], got \[5, 2\]"):
        ottt_online_training(net, opt, x, target.transpose(0, 1), F.mse_loss, True)
    with pytest.raises(ValueError, match=r"`x_seq` must be a real \(not complex or bool\) tensor \[B, T, ...\] \(batch first\) with at least 2"):
        ottt_online_training(net, opt, torch.rand(5), target, F.mse_loss, True)
    with pytest.raises(TypeError, match=r"`online` must be a bool \(True or False\), got 'yes'"):
        ottt_online_training(net, opt, x, target, F.mse_loss, 'yes')
    with pytest.raises(TypeError, match="`f_loss_t` must be callable"):
        ottt_online_training(net, opt, x, target, 3, True)
    with pytest.raises(ValueError, match=r"`x_seq` must be a tensor \[B, T, ...\] \(batch first\) with at least one time step, got a torch.float32 tensor of shape \(2, 0, 6\)"):
        ottt_online_training(net, opt, x[:, :0], target[:, :0], F.mse_loss, True)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_ottt_dtypes_and_batch_size_one(dtype):
    net = ottt_net(0).to(dtype)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, target = (torch.rand(1, 5, 6) * 2).to(dtype), torch.rand(1, 5, 3).to(dtype)
    loss, y = ottt_online_training(net, opt, x, target, F.mse_loss, True)
    assert y.dtype == dtype and loss.dtype == dtype and net[1].trace.dtype == dtype and y.shape == (1, 5, 3)


def test_sltt_gradient_is_spatial_only():
    "SLTT: the gradient of step t equals that of a network whose membrane was replaced by a constant."
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(4, 6), SLTTLIFNode(tau=2.), nn.Linear(6, 2)).double()
    ref = copy.deepcopy(net)
    x_seq = torch.rand(6, 3, 4, dtype=torch.float64) * 3
    for x in x_seq:
        v_before = ref[1].v.detach().clone() if isinstance(ref[1].v, torch.Tensor) else ref[1].v
        net.zero_grad(); net(x).pow(2).sum().backward()
        # the same step on a plain LIF whose state is a detached constant
        plain = LIFNode(tau=2., detach_reset=True).double(); plain.v = v_before if isinstance(v_before, float) else v_before.clone()
        fc1, fc2 = copy.deepcopy(ref[0]), copy.deepcopy(ref[2])
        fc2(plain(fc1(x))).pow(2).sum().backward()
        torch.testing.assert_close(net[0].weight.grad, fc1.weight.grad)
        with torch.no_grad(): ref(x)


def test_fused_linear_equals_generic_path_and_gradchecks():
    from snnlit.online import _TraceLinear
    torch.manual_seed(0)
    fc = nn.Linear(5, 3).double()
    s = (torch.rand(6, 5, dtype=torch.float64) > 0.4).double().requires_grad_()
    assert torch.autograd.gradcheck(lambda s, w, b: _TraceLinear.apply(s, s.detach(), w, b), (s, fc.weight, fc.bias))
    nb = nn.Linear(5, 3, bias=False).double()
    assert torch.autograd.gradcheck(lambda s, w: _TraceLinear.apply(s, s.detach(), w, None), (s, nb.weight))
    # the same network trained through nn.Linear (fused) and through a wrapper (generic two-forward path)
    fused = OTTTSequential(nn.Linear(4, 8), OTTTLIFNode(), nn.Linear(8, 3), OTTTLIFNode(), nn.Linear(3, 2)).double()
    with torch.no_grad(): fused[0].weight.mul_(3.); fused[2].weight.mul_(4.); fused[2].bias.add_(0.8)
    generic = OTTTSequential(copy.deepcopy(fused[0]), OTTTLIFNode(), nn.Sequential(copy.deepcopy(fused[2])), OTTTLIFNode(),
                             nn.Sequential(copy.deepcopy(fused[4]))).double()
    opt_f, opt_g = torch.optim.SGD(fused.parameters(), lr=0.3), torch.optim.SGD(generic.parameters(), lr=0.3)
    g = torch.Generator().manual_seed(1)
    x, target = torch.rand(3, 8, 4, generator=g, dtype=torch.float64) * 2, torch.rand(3, 8, 2, generator=g, dtype=torch.float64)
    lf, yf = ottt_online_training(fused, opt_f, x, target, F.mse_loss, True)
    lg, yg = ottt_online_training(generic, opt_g, x, target, F.mse_loss, True)
    torch.testing.assert_close(lf, lg)
    torch.testing.assert_close(yf, yg)
    for p, q in zip(fused.parameters(), generic.parameters()): torch.testing.assert_close(p, q)
    assert fused[1].trace.sum() > 0 and fused[3].trace.sum() > 0


def test_ottt_conv_weight_gradient_is_delta_times_trace():
    "Generic path (a conv layer): the weight gradient is that of the convolution applied to the trace."
    torch.manual_seed(2)
    net = OTTTSequential(OTTTLIFNode(), nn.Conv2d(2, 3, 3, padding=1)).double()
    x_seq = torch.rand(5, 2, 2, 6, 6, dtype=torch.float64) * 2.5
    c_seq = torch.randn(5, 2, 3, 6, 6, dtype=torch.float64)
    trace, ref = 0., OTTTLIFNode().eval()
    for x, c in zip(x_seq, c_seq):
        net.zero_grad()
        y = net(x)
        (y * c).sum().backward()
        s = ref(x); trace = 0.5 * trace + s
        conv = net[1]
        w_grad = torch.nn.grad.conv2d_weight(trace, conv.weight.shape, c, padding=1)
        torch.testing.assert_close(conv.weight.grad, w_grad)
        torch.testing.assert_close(y.detach(), F.conv2d(s, conv.weight.detach(), conv.bias.detach(), padding=1))


@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_ottt_training_through_torch_compile():
    torch.manual_seed(0)
    net = OTTTSequential(nn.Linear(6, 16), OTTTLIFNode(), nn.Linear(16, 3))
    ref = copy.deepcopy(net)
    x, target = torch.rand(4, 5, 6) * 2, torch.rand(4, 5, 3)
    l1, y1 = ottt_online_training(torch.compile(net), torch.optim.SGD(net.parameters(), lr=0.1), x, target, F.mse_loss, True)
    l2, y2 = ottt_online_training(ref, torch.optim.SGD(ref.parameters(), lr=0.1), x, target, F.mse_loss, True)
    torch.testing.assert_close(l1, l2)
    torch.testing.assert_close(y1, y2)
    for p, q in zip(net.parameters(), ref.parameters()): torch.testing.assert_close(p, q)
