"""snnlit against spikingjelly 2.0 as a drop-in: checkpoints of the same network load both ways (strict) and give the
same outputs after loading."""
import pytest, torch
import torch.nn as nn
from tests.helpers import assert_close, stable_seed

sj = pytest.importorskip('spikingjelly.activation_based')
from spikingjelly.activation_based import neuron as sjn, layer as sjl, surrogate as sjs, functional as sjf
from snnlit import neuron as N, surrogate as S, online as O, functional as F


def sj_network(kind):
    "A small multi-step network of spikingjelly's, one per kind of node."
    if kind == 'lif':
        return nn.Sequential(sjl.Linear(6, 12), sjn.LIFNode(tau=2.5, surrogate_function=sjs.ATan(alpha=3.0)),
                             sjl.Linear(12, 4), sjn.IFNode(v_reset=None, surrogate_function=sjs.Sigmoid()))
    if kind == 'conv':
        return nn.Sequential(sjl.SeqToANNContainer(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)),
                             sjn.LIFNode(surrogate_function=sjs.PiecewiseQuadratic()),
                             sjl.SeqToANNContainer(nn.Flatten(), nn.Linear(4 * 5 * 5, 3)))
    if kind == 'ottt':
        return sjl.OTTTSequential(nn.Linear(6, 12), sjn.OTTTLIFNode(surrogate_function=sjs.Sigmoid(alpha=2.0)),
                                  nn.Linear(12, 4))
    if kind == 'sltt':
        return nn.Sequential(nn.Linear(6, 12), sjn.SLTTLIFNode(surrogate_function=sjs.ATan()), nn.Linear(12, 4))


def snnlit_network(kind):
    "The same network, built from snnlit."
    if kind == 'lif':
        return nn.Sequential(nn.Linear(6, 12), N.LIFNode(tau=2.5, surrogate_function=S.ATan(alpha=3.0)),
                             nn.Linear(12, 4), N.IFNode(v_reset=None, surrogate_function=S.Sigmoid()))
    if kind == 'conv':
        return nn.Sequential(N.SeqToANNContainer(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)),
                             N.LIFNode(surrogate_function=S.PiecewiseQuadratic()),
                             N.SeqToANNContainer(nn.Flatten(), nn.Linear(4 * 5 * 5, 3)))
    if kind == 'ottt':
        return O.OTTTSequential(nn.Linear(6, 12), O.OTTTLIFNode(surrogate_function=S.Sigmoid(alpha=2.0)),
                                nn.Linear(12, 4))
    if kind == 'sltt':
        return nn.Sequential(nn.Linear(6, 12), O.SLTTLIFNode(surrogate_function=S.ATan()), nn.Linear(12, 4))


def run(net, kind, x, library):
    "Outputs of `net` on `x` [T, B, ...], each time step in single-step mode, from a reset state."
    (sjf if library == 'sj' else F).reset_net(net)
    if kind in ('ottt', 'sltt'):   # the online nodes run one step at a time
        return torch.stack([net(x_t) for x_t in x])
    (sjf if library == 'sj' else F).set_step_mode(net, 'm')
    return net(x)


def inputs(kind):
    g = torch.Generator().manual_seed(stable_seed('compat-sj', kind))
    shape = (5, 3, 1, 5, 5) if kind == 'conv' else (5, 3, 6)
    return torch.rand(shape, generator=g) * 3


KINDS = ['lif', 'conv', 'ottt', 'sltt']

@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('direction', ['sj->snnlit', 'snnlit->sj'])
def test_checkpoints_load_both_ways(kind, direction):
    torch.manual_seed(stable_seed('compat-sj-weights', kind))
    source = (sj_network if direction == 'sj->snnlit' else snnlit_network)(kind)
    target = (snnlit_network if direction == 'sj->snnlit' else sj_network)(kind)
    state = source.state_dict()
    assert sorted(state) == sorted(target.state_dict())   # the same keys: no hyper-parameter among them
    target.load_state_dict(state, strict=True)
    for m in (source, target): m.eval() if kind == 'conv' else m.train()
    x = inputs(kind)
    libs = ('sj', 'snnlit') if direction == 'sj->snnlit' else ('snnlit', 'sj')
    with torch.no_grad():
        expected, got = run(source, kind, x, libs[0]), run(target, kind, x, libs[1])
    assert expected.abs().sum() > 0   # some spikes or some drive reach the output
    assert_close(got, expected)


def test_hyper_parameters_are_in_no_state_dict_and_no_buffer():
    net = snnlit_network('lif')
    assert list(net.buffers()) == [] and all('surrogate' not in k for k in net.state_dict())
    assert net[1].surrogate_function.alpha == 3.0   # kept on the module, as a number


# ---- snnlit.compat.spikingjelly: the same program after an import change ---------------------------------------

from snnlit.compat.spikingjelly.activation_based import (neuron as cn, layer as cl, surrogate as cs,
                                                         functional as cf, base as cb)
import snnlit.compat.spikingjelly.activation_based.learning.online_learning as col
from snnlit import base as B, tempotron as TT


def conv_program(n, l, s):
    "A spikingjelly-style conv net in multi-step mode, written against the modules n, l, s."
    return nn.Sequential(l.Conv2d(1, 4, 3, padding=1, bias=False), l.BatchNorm2d(4), n.LIFNode(surrogate_function=s.ATan()),
                         l.MaxPool2d(2, 2), l.Dropout(0.3), l.Flatten(), l.Linear(4 * 3 * 3, 5),
                         n.LIFNode(tau=3.0, v_reset=None, surrogate_function=s.Sigmoid(alpha=2.0)),
                         l.Linear(5, 2))

@pytest.mark.parametrize('train', [True, False])
def test_program_gives_the_reference_outputs_and_gradients(train):
    torch.manual_seed(0)
    ref = conv_program(sjn, sjl, sjs)
    ours = conv_program(cn, cl, cs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.rand(4, 3, 1, 6, 6, generator=torch.Generator().manual_seed(1)) * 2
    outs, grads = [], []
    for net, f in ((ref, sjf), (ours, cf)):
        net.train(train); f.set_step_mode(net, 'm'); f.reset_net(net)
        torch.manual_seed(7)                  # the dropout masks: the same draw in both
        y = net(x); outs.append(y)
        if train:
            y.sum().backward(); grads.append(net[0].weight.grad)
    assert outs[0].abs().sum() > 0
    assert_close(outs[1], outs[0])
    if train: assert grads[0].abs().sum() > 0; assert_close(grads[1], grads[0])


def test_compat_names_are_snnlit_objects():
    assert cn.LIFNode is N.LIFNode and cn.IFNode is N.IFNode and cn.SLTTLIFNode is O.SLTTLIFNode
    assert cl.SeqToANNContainer is N.SeqToANNContainer and cl.OTTTSequential is O.OTTTSequential
    assert cs.ATan is S.ATan and cf.reset_net is B.reset_net and cf.set_step_mode is F.set_step_mode
    assert cb.MemoryModule is B.MemoryModule
    assert col.ottt_online_training is O.ottt_online_training
    from snnlit.compat.spikingjelly.timing_based.neuron import Tempotron as Timing
    from snnlit.compat.spikingjelly.event_driven.neuron import Tempotron as Grid
    assert Timing is TT.EventTempotron and Grid is TT.Tempotron


def test_every_reference_name_of_ours_has_the_reference_signature():
    "Every parameter of the reference's, in the same order (snnlit's nodes add `backend`, as spikingjelly 1.x had)."
    import inspect
    from spikingjelly.activation_based.learning import online_learning as sjol
    from spikingjelly.timing_based import neuron as sjt
    pairs = [(cn.LIFNode, sjn.LIFNode), (cn.IFNode, sjn.IFNode), (O.OTTTLIFNode, sjn.OTTTLIFNode),
             (cn.SLTTLIFNode, sjn.SLTTLIFNode), (cl.StepModeContainer, sjl.StepModeContainer),
             (cl.Dropout, sjl.Dropout), (cl.Dropout2d, sjl.Dropout2d),
             (col.ottt_online_training, sjol.ottt_online_training), (col.fptt_online_training, sjol.fptt_online_training),
             (snnlit_timing(), sjt.Tempotron)]
    for ours, ref in pairs:
        p = lambda f: [k for k in inspect.signature(f).parameters if k not in ('self', 'args', 'kwargs')]
        got, want = p(ours), p(ref)
        if got:   # adapters taking *args pass them on to the snnlit class
            assert set(want) <= set(got) and [k for k in got if k in want] == want, (ours, got, want)


def snnlit_timing():
    from snnlit.compat.spikingjelly.timing_based.neuron import Tempotron
    return Tempotron


def test_step_mode_container_takes_the_2_0_order():
    ref = sjl.StepModeContainer(False, 'm', nn.Flatten(), nn.Linear(8, 3))
    ours = cl.StepModeContainer(False, 'm', nn.Flatten(), nn.Linear(8, 3))
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 5, 2, 4)
    assert_close(ours(x), ref(x))
    stateful = cl.StepModeContainer(True, 'm', N.LIFNode())
    assert stateful(torch.ones(3, 2) * 1.5).tolist() == [[0., 0.], [1., 1.], [0., 0.]]
    with pytest.raises(TypeError, match="spikingjelly 2.0's order"):
        cl.StepModeContainer(False, nn.Linear(2, 2))


def test_ottt_trace_is_none_after_reset_as_the_reference():
    for cls in (sjn.OTTTLIFNode, cn.OTTTLIFNode):
        node = cls()
        assert node.trace is None
        node(torch.full((3,), 1.5))
        assert isinstance(node.trace, torch.Tensor)
        node.reset()
        assert node.trace is None
        node.eval(); node(torch.ones(3))
        assert node.trace is None


def test_ottt_training_matches_the_reference():
    "ottt_online_training on an OTTTSequential: the same loss and the same weights after one sequence."
    from spikingjelly.activation_based.learning import online_learning as sjol
    torch.manual_seed(3)
    make = lambda n, l: l.OTTTSequential(nn.Linear(6, 8), n.OTTTLIFNode(surrogate_function=sjs.Sigmoid() if n is sjn else cs.Sigmoid()),
                                         nn.Linear(8, 3))
    ref, ours = make(sjn, sjl), make(cn, cl)
    ours.load_state_dict(ref.state_dict(), strict=True)
    g = torch.Generator().manual_seed(4)
    x, target = torch.rand(4, 5, 6, generator=g) * 3, torch.rand(4, 5, 3, generator=g)
    results = []
    for net, train, f in ((ref, sjol.ottt_online_training, sjf), (ours, col.ottt_online_training, cf)):
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        f.reset_net(net)
        loss, out = train(net, opt, x, target, nn.functional.mse_loss, online=True)
        results.append((loss, out, [p.detach().clone() for p in net.parameters()]))
    assert_close(results[1][0], results[0][0]); assert_close(results[1][1], results[0][1])
    for a, b in zip(results[1][2], results[0][2]): assert_close(a, b)


def test_dropout_draws_the_reference_mask():
    for p, cls in ((0.3, 'Dropout'), (0.5, 'Dropout2d')):
        ys = []
        for l in (sjl, cl):
            d = getattr(l, cls)(p, step_mode='m'); torch.manual_seed(5)
            ys.append(d(torch.ones(3, 2, 4, 5, 5)))
        assert torch.equal(ys[1], ys[0])


def test_fallback_and_its_errors():
    assert cn.ParametricLIFNode is sjn.ParametricLIFNode       # not covered: spikingjelly's own
    assert cl.VotingLayer is sjl.VotingLayer
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchLayer': snnlit does not cover it"):
        cl.NoSuchLayer
    with pytest.raises(TypeError, match='`p` must be'):
        cl.Dropout('0.5')
    with pytest.raises(ValueError, match='`p` must be'):
        cl.Dropout(1.0)
    with pytest.raises(ValueError, match='`step_mode` must be one of'):
        cl.Linear(2, 2, step_mode='x')


# ---- quiet mixing: spikingjelly's and snntorch's own modules in snnlit's network-wide helpers -------------------

@pytest.fixture
def fresh_log(caplog):
    "caplog for snnlit.functional with the once-only caches cleared."
    import logging
    B._log_once.cache_clear(); F._log_once.cache_clear()
    caplog.set_level(logging.WARNING, logger='snnlit.functional')
    return caplog


def test_spikingjelly_modules_mix_in_silently(fresh_log):
    net = nn.Sequential(sjl.Conv2d(1, 2, 3, padding=1), sjl.BatchNorm2d(2), sjn.ParametricLIFNode(),
                        N.LIFNode(), sjl.SeqToANNContainer(nn.Flatten(), nn.Linear(2 * 16, 3)), sjn.LIFNode(),
                        sjl.StepModeContainer(True, 's', sjn.IFNode()))
    for _ in range(3):
        F.set_step_mode(net, 'm')
        y = net(torch.rand(4, 2, 1, 4, 4) * 3)
        F.detach_net(net)
        assert not net[2].v.requires_grad
        F.reset_net(net)
        F.set_backend(net, 'torch')
    assert y.shape == (4, 2, 3) and net[2].v == 0. and net[5].v == 0.
    assert net[6][0].step_mode == 's' and net[6].step_mode == 'm'   # spikingjelly's container keeps its child's mode
    assert fresh_log.records == []
    only_multi = sjl.SeqToANNContainer(nn.Identity()); only_multi.step_mode = 'm'
    net = nn.Sequential(N.LIFNode(step_mode='m'), only_multi)
    with pytest.raises(ValueError, match="'s' is not supported by SeqToANNContainer"):   # checked before any switch
        F.set_step_mode(net, 's')
    assert net[0].step_mode == 'm'


def test_snntorch_neurons_reset_and_detach_silently(fresh_log):
    snn = pytest.importorskip('snntorch')
    leaky = snn.Leaky(beta=0.5, init_hidden=True)
    net = nn.Sequential(nn.Linear(3, 2), leaky, N.LIFNode())
    x = torch.rand(5, 3, requires_grad=True)
    for _ in range(2): net(x)
    assert leaky.mem.grad_fn is not None
    F.detach_net(net)
    assert leaky.mem.grad_fn is None and leaky.mem.abs().sum() > 0
    F.reset_net(net)
    assert torch.equal(leaky.mem, torch.zeros_like(leaky.mem)) and net[2].v == 0.
    assert fresh_log.records == []


def test_what_cannot_be_handled_is_logged_once(fresh_log):
    class Reinit(nn.Module):
        def reset(self, seed): pass
    class Legacy(nn.Module):
        def __init__(self): super().__init__(); self.step_mode = 's'
    net = nn.Sequential(Reinit(), Reinit(), Legacy(), Legacy(), N.LIFNode())
    for _ in range(4):
        F.reset_net(net); F.set_step_mode(net, 'm'); F.set_step_mode(net, 's')
    assert [r.getMessage() for r in fresh_log.records] == [
        'not calling `reset()` of Reinit, which is not a snnlit MemoryModule: it needs arguments',
        'setting `step_mode` of Legacy, which declares no supported_step_mode(): the value is not checked']


def test_online_training_detaches_spikingjelly_nodes_silently(fresh_log):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), sjn.LIFNode(), nn.Linear(6, 2), N.LIFNode())
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, target = torch.rand(3, 5, 4) * 3, torch.rand(3, 5, 2)
    w_ra = O.fptt_online_training_init_w_ra(opt)
    for _ in range(2):
        F.reset_net(net)
        O.fptt_online_training(net, opt, x, target, nn.functional.mse_loss, 0.1, w_ra)
    assert isinstance(net[1].v, torch.Tensor) and not net[1].v.requires_grad
    assert fresh_log.records == []


# ---- the functional-state API against spikingjelly 2.0's ------------------------------------------------------

NODES = [(lambda m: m.LIFNode(tau=2.5, surrogate_function=(sjs if m is sjn else S).ATan()), 'lif'),
         (lambda m: m.IFNode(v_reset=None), 'if-soft'),
         (lambda m: m.LIFNode(v_reset=-0.2, decay_input=False), 'lif-hard')]

@pytest.mark.parametrize('make', [n for n, _ in NODES], ids=[i for _, i in NODES])
@pytest.mark.parametrize('step_mode', ['s', 'm'])
def test_functional_forward_matches_the_reference(make, step_mode):
    g = torch.Generator().manual_seed(stable_seed('functional', step_mode))
    x = torch.rand((6, 4, 3) if step_mode == 'm' else (4, 3), generator=g, dtype=torch.float64) * 2.5
    ref, ours = make(sjn), make(N)
    ref.step_mode = ours.step_mode = step_mode
    assert ours.get_reset_value('v') == ref.get_reset_value('v')
    for states in ((ours.get_reset_value('v'),), (torch.rand(4, 3, generator=g, dtype=torch.float64),),
                   (torch.ones(7),), (torch.full((4, 3), 0.5),)):   # fresh, a membrane, another shape, float32
        (s_ref,), (v_ref,) = ref.functional_forward((x,), states)
        (s_ours,), (v_ours,) = ours.functional_forward((x,), states)
        assert_close(s_ours, s_ref); assert_close(v_ours, v_ref)
        assert ours.v == ours.get_reset_value('v')          # the module was not written to
    with pytest.raises(KeyError):
        ours.get_reset_value('u')


def test_functional_state_goes_through_torch_func():
    "functional_call for the weights, functional_forward for the membrane: grad and vmap, as autograd on the module."
    torch.manual_seed(0)
    fc, lif = nn.Linear(3, 4), N.LIFNode(surrogate_function=S.Sigmoid())
    params = dict(fc.named_parameters())
    x_seq = torch.rand(5, 2, 3) * 2
    with torch.no_grad(): fc.bias.fill_(1.0)   # some spikes

    def loss(params, x_seq):
        v, total = 0., 0.
        for x in x_seq:
            (s,), (v,) = lif.functional_forward((torch.func.functional_call(fc, params, (x,)),), (v,))
            total = total + s.sum()
        return total
    grads = torch.func.grad(loss)(params, x_seq)
    lif.reset()
    out = torch.stack([lif(fc(x)) for x in x_seq]).sum(); out.backward()
    assert out > 0
    assert_close(grads['weight'], fc.weight.grad); assert_close(grads['bias'], fc.bias.grad)
    per_sample = torch.func.vmap(loss, in_dims=(None, 1))(params, x_seq[:, :, None])   # one sample at a time
    assert_close(per_sample.sum(), out.detach())


def test_ottt_node_functional_forward_matches_the_reference():
    x = torch.rand(3, 5, dtype=torch.float64) * 3
    ref, ours = sjn.OTTTLIFNode(), cn.OTTTLIFNode()
    for states in ((0., None), (torch.full((3, 5), 0.4, dtype=torch.float64), torch.ones(3, 5, dtype=torch.float64))):
        out_ref, st_ref = ref.functional_forward((x,), states)
        out_ours, st_ours = ours.functional_forward((x,), states)
        for a, b in zip(out_ours + st_ours, out_ref + st_ref): assert_close(a, b)
    assert ours.trace is None and ours.v == 0.


def lif_fc_program(neuron, encoding, functional, surrogate, layer, steps=6, T=5):
    "spikingjelly's lif_fc_mnist.py in miniature (single-step loop, PoissonEncoder, reset_net), on random 8x8 images."
    torch.manual_seed(0)
    net = nn.Sequential(layer.Flatten(), layer.Linear(8 * 8, 10, bias=False),
                        neuron.LIFNode(tau=2.0, surrogate_function=surrogate.ATan()))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    encoder = encoding.PoissonEncoder()
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        img, label = torch.rand(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
        out_fr = 0.
        for t in range(T):
            out_fr += net(encoder(img))
        out_fr = out_fr / T
        loss = nn.functional.mse_loss(out_fr, nn.functional.one_hot(label, 10).float())
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        functional.reset_net(net)
        losses.append(loss.item())
    return losses, net[1].weight.detach()


def test_lif_fc_mnist_style_program_after_the_import_change(fresh_log):
    from spikingjelly.activation_based import encoding as sje
    from snnlit.compat.spikingjelly.activation_based import encoding as ce   # not mirrored: spikingjelly's own
    assert ce is sje
    ref_losses, ref_w = lif_fc_program(sjn, sje, sjf, sjs, sjl)
    losses, w = lif_fc_program(cn, ce, cf, cs, cl)
    assert_close(torch.tensor(losses), torch.tensor(ref_losses)); assert_close(w, ref_w)
    assert len(set(ref_losses)) > 1 and fresh_log.records == []


# ---- network-wide memories (base.named_memories ... to_functional_forward) against spikingjelly's ---------------

import spikingjelly.activation_based.base as sjb

def memory_net(n, l):
    "Two layers of neurons (one nested), written against the modules n, l."
    return nn.Sequential(l.Linear(3, 4), n.LIFNode(tau=2.0), nn.Sequential(l.Linear(4, 2), n.IFNode(v_reset=None)))

def test_network_memories_match_the_reference():
    g = torch.Generator().manual_seed(stable_seed('network memories'))
    ref, ours = memory_net(sjn, sjl), memory_net(cn, cl)
    ours.load_state_dict(ref.state_dict())
    x = torch.rand(5, 3, generator=g, dtype=torch.float32) * 3
    ref(x); ours(x)                                          # memories become tensors
    assert [k for k, _ in cb.named_memories(ours, 'net')] == [k for k, _ in sjb.named_memories(ref, 'net')]
    for a, b in zip(cb.extract_memories(ours), sjb.extract_memories(ref)): assert_close(a, b)
    assert len(list(cb.memories(ours))) == 2
    new = [torch.rand(5, 4, generator=g), torch.rand(5, 2, generator=g)]
    cb.load_memories(ours, new); sjb.load_memories(ref, new)
    assert ours[1].v is new[0] and ours[2][1].v is new[1]
    with pytest.raises(ValueError, match='Memory length mismatch'):
        cb.load_memories(ours, new[:1])
    # mixed in: spikingjelly's own nodes count too
    mixed = nn.Sequential(sjn.LIFNode(), cn.IFNode())
    assert [k for k, _ in cb.named_memories(mixed)] == ['0.v', '1.v']


def flat(net): return nn.Sequential(*net[:2], *net[2])   # memories all in its own children

@pytest.mark.parametrize('kind', ['network', 'flat', 'node', 'fn'])
def test_to_functional_forward_matches_the_reference(kind):
    g = torch.Generator().manual_seed(stable_seed('to_functional_forward', kind))
    ref, ours = memory_net(sjn, sjl), memory_net(cn, cl)
    ours.load_state_dict(ref.state_dict())
    if kind == 'node': ref, ours = ref[1], ours[1]
    if kind == 'flat': ref, ours = flat(ref), flat(ours)
    fn = (lambda m: (lambda x: m(x) * 2)) if kind == 'fn' else (lambda m: None)
    x = torch.rand(5, 4 if kind == 'node' else 3, generator=g) * 3
    states = tuple(torch.rand(5, k, generator=g) for k in ((4,) if kind == 'node' else (4, 2)))
    out_ref, new_ref = sjb.to_functional_forward(ref, fn(ref))((x,), states)
    out_ours, new_ours = cb.to_functional_forward(ours, fn(ours))((x,), states)
    for a, b in zip(out_ours + new_ours, out_ref + new_ref): assert_close(a, b)
    assert all(v == 0. for v in cb.extract_memories(ours))   # the network was left as it was
    if kind != 'fn':   # the gradient reaches the states, as the reference's
        states = tuple(t.requires_grad_() for t in states)
        out, new = cb.to_functional_forward(ours)((x,), states)
        (out[0].sum() + sum(v.sum() for v in new)).backward()
        assert all(t.grad is not None for t in states)
    with pytest.raises(ValueError, match='`states` must hold'):
        cb.to_functional_forward(ours)((x,), states[:-1] + states + states)


def test_max_pool_with_indices_in_multi_step_mode():
    x_seq = torch.randn(3, 2, 1, 4, 4)
    values, indices = cl.MaxPool2d(2, return_indices=True, step_mode='m')(x_seq)
    per_step = [nn.MaxPool2d(2, return_indices=True)(x) for x in x_seq]
    assert torch.equal(values, torch.stack([v for v, _ in per_step]))
    assert torch.equal(indices, torch.stack([i for _, i in per_step]))
    assert torch.equal(sjl.MaxUnpool2d(2, step_mode='m')(values, indices),
                       torch.stack([nn.MaxUnpool2d(2)(v, i) for v, i in per_step]))


def test_mirrors_registered_under_spikingjelly_names_fall_back_without_recursion(monkeypatch):
    "A harness that puts the mirrors in sys.modules under spikingjelly's names still gets spikingjelly's own names."
    import sys, snnlit.compat.spikingjelly as csj
    monkeypatch.setattr(csj, '_references', {})
    for path in ('activation_based.neuron', 'activation_based.base'):
        monkeypatch.setitem(sys.modules, f'spikingjelly.{path}', csj._MIRRORS[path])
        monkeypatch.setattr(sys.modules['spikingjelly.activation_based'], path.split('.')[1], csj._MIRRORS[path])
    from spikingjelly.activation_based import neuron as aliased
    assert aliased is cn and aliased.LIFNode is N.LIFNode
    plif = aliased.ParametricLIFNode                          # spikingjelly's, built against spikingjelly's base
    assert plif.__module__.startswith('spikingjelly.') and not issubclass(plif, B.MemoryModule)
    assert sys.modules['spikingjelly.activation_based.neuron'] is cn   # the harness's mapping is kept
    assert aliased.ParametricLIFNode is plif                  # found once


def test_online_learning_submodules_mirror_spikingjellys_layout():
    from snnlit.compat.spikingjelly.activation_based.neuron.online_learning import OTTTLIFNode, SLTTLIFNode
    from snnlit.compat.spikingjelly.activation_based.layer.online_learning import OTTTSequential, GradwithTrace
    from spikingjelly.activation_based.layer import online_learning as sjlol
    assert OTTTLIFNode is cn.OTTTLIFNode and SLTTLIFNode is O.SLTTLIFNode and OTTTSequential is O.OTTTSequential
    assert GradwithTrace is sjlol.GradwithTrace                           # not covered: spikingjelly's own
    assert cn.online_learning.OTTTLIFNode is OTTTLIFNode


# v_seq and functional-only modules follow spikingjelly 2.0 (found by running its own test suite against compat)

@pytest.mark.parametrize('kind', ['IFNode', 'LIFNode'])
def test_v_seq_lifecycle_matches_spikingjelly(kind):
    x_seq = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(stable_seed(f'v_seq {kind}')))
    ours, ref = getattr(N, kind)(store_v_seq=True), getattr(sjn, kind)(store_v_seq=True)
    for node in (ours, ref): assert node.v_seq is None                 # from construction
    for x in x_seq: ours(x); ref(x)                                      # single-step mode appends
    torch.testing.assert_close(ours.v_seq, ref.v_seq)
    for node in (ours, ref): node.reset(); assert node.v_seq is None
    for node in (ours, ref):
        node.step_mode = 'm'
        node.functional_forward((x_seq,), tuple(node._memories.values()))
        assert node.v_seq is None                                        # explicit state leaves it alone
    torch.testing.assert_close(ours(x_seq), ref(x_seq))
    torch.testing.assert_close(ours.v_seq, ref.v_seq)
    for node in (ours, ref): node.store_v_seq = False; assert node.v_seq is None


def test_v_seq_is_detached_by_detach():
    node = N.LIFNode(store_v_seq=True)
    x = torch.ones(2, requires_grad=True)
    node(x); node.detach()
    assert node.v_seq is not None and not node.v_seq.requires_grad


def test_module_written_as_a_functional_step():
    "A MemoryModule that defines only single_step_functional_forward runs statefully, as in spikingjelly 2.0."
    def make(base_cls):
        class Sum(base_cls):
            def __init__(self):
                super().__init__(); self.register_memory('total', 0.)
            def single_step_functional_forward(self, inputs, states, **kwargs):
                total = states[0] + inputs[0]
                return (2 * total,), (total,)
        return Sum()
    x_seq = torch.randn(5, 3, generator=torch.Generator().manual_seed(stable_seed('functional step')))
    ours, ref = make(B.MemoryModule), make(sjb.MemoryModule)
    for x in x_seq[:2]: torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.total, ref.total)
    for m in (ours, ref): m.reset(); m.step_mode = 'm'
    torch.testing.assert_close(ours(x_seq), ref(x_seq))


def test_functional_step_with_two_inputs_and_outputs():
    "Multi-step mode slices every input over time and stacks every output, as spikingjelly 2.0."
    def make(base_cls):
        class Pair(base_cls):
            def __init__(self):
                super().__init__(); self.register_memory('a', torch.tensor(1.)); self.register_memory('b', 0.)
            def single_step_functional_forward(self, inputs, states, scale=1.0):
                a, b = states[0] + scale * inputs[0], states[1] - inputs[1]
                return (a * b, a + b), (a, b)
        return Pair()
    g = torch.Generator().manual_seed(stable_seed('functional pair'))
    x_seq, y_seq = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    ours, ref = make(B.MemoryModule), make(sjb.MemoryModule)
    for m in (ours, ref): m.step_mode = 'm'
    for o, r in zip(ours(x_seq, y_seq, scale=0.5), ref(x_seq, y_seq, scale=0.5)): torch.testing.assert_close(o, r)
    torch.testing.assert_close((ours.a, ours.b), (ref.a, ref.b))
