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
