"""snnlit.online against spikingjelly 2.0.0 (a test-only oracle; skipped when it is not installed).

Not the only tests of these functions: tests/test_online.py and the notebook check them against naive
re-implementations and hand-computed gradients. Parity is only asserted where spikingjelly is right: its
independent dropout masks for spike and trace in OTTTSequential are not compared (snnlit shares one mask).
Two libraries' kernels are never compared exactly: spikes too go through `assert_close` (float64, so that a spike
flipped by rounding at the threshold is not expected on these inputs, but would be reported rather than hidden).
"""
import copy
import pytest, torch
from torch import nn
import torch.nn.functional as F
from snnlit import online as ol
from snnlit.neuron import LIFNode, IFNode
from snnlit.functional import reset_net
from helpers import assert_close

sj = pytest.importorskip('spikingjelly.activation_based')
# spikingjelly's learning package imports tensorboard; without it these tests skip rather than error
sjo = pytest.importorskip('spikingjelly.activation_based.learning.online_learning')
from spikingjelly.activation_based import neuron as sjn, layer as sjl, functional as sjf, surrogate as sjs


def copy_weights(dst, src):
    with torch.no_grad():
        for p, q in zip(dst.parameters(), src.parameters()): p.copy_(q)


def data(T, B, n_in, n_out, seed, batch_first=False):
    g = torch.Generator().manual_seed(seed)
    x, target = torch.rand(T, B, n_in, generator=g, dtype=torch.float64) * 2, torch.rand(T, B, n_out, generator=g, dtype=torch.float64)
    return (x.transpose(0, 1), target.transpose(0, 1)) if batch_first else (x, target)


@pytest.mark.parametrize('opt_cls,kw', [(torch.optim.SGD, dict(lr=0.3)), (torch.optim.Adam, dict(lr=0.01))])
def test_fptt_matches_spikingjelly(opt_cls, kw):
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Linear(6, 12), LIFNode(tau=2.), nn.Linear(12, 3), IFNode(v_reset=None)).double()
    ref = nn.Sequential(nn.Linear(6, 12), sjn.LIFNode(tau=2., surrogate_function=sjs.Sigmoid()), nn.Linear(12, 3),
                        sjn.IFNode(v_reset=None, surrogate_function=sjs.Sigmoid())).double()
    copy_weights(ref, ours)
    opt_o, opt_r = opt_cls(ours.parameters(), **kw), opt_cls(ref.parameters(), **kw)
    w_o, w_r = ol.fptt_online_training_init_w_ra(opt_o), sjo.fptt_online_training_init_w_ra(opt_r)
    for seq in range(3):                                     # w_ra persists across sequences
        x, target = data(8, 4, 6, 3, seq)
        ol.fptt_online_training(ours, opt_o, x, target, F.mse_loss, 0.3, w_o)
        sjo.fptt_online_training(ref, opt_r, x, target, F.mse_loss, 0.3, w_r)
        torch.testing.assert_close(ours[1].v, ref[1].v)      # same state left behind
        reset_net(ours); sjf.reset_net(ref)
    for p, q in zip(ours.parameters(), ref.parameters()): torch.testing.assert_close(p, q)
    for a, b in zip(w_o, w_r): torch.testing.assert_close(a, b)


def ottt_pair(kind, seed=0):
    torch.manual_seed(seed)
    fc = [nn.Linear(6, 12), nn.Linear(12, 3)]
    with torch.no_grad(): fc[0].weight.mul_(3.); fc[1].weight.mul_(4.); fc[1].bias.add_(0.5)   # so that the output layer fires
    if kind == 'ottt':
        ours = ol.OTTTSequential(copy.deepcopy(fc[0]), ol.OTTTLIFNode(tau=2.), copy.deepcopy(fc[1]), LIFNode(tau=2.))
        ref = sjl.OTTTSequential(fc[0], sjn.OTTTLIFNode(tau=2., surrogate_function=sjs.Sigmoid()), fc[1],
                                 sjn.LIFNode(tau=2., surrogate_function=sjs.Sigmoid()))
    else:
        ours = nn.Sequential(copy.deepcopy(fc[0]), ol.SLTTLIFNode(tau=2.), copy.deepcopy(fc[1]), ol.SLTTLIFNode(tau=2.))
        ref = nn.Sequential(fc[0], sjn.SLTTLIFNode(tau=2., surrogate_function=sjs.Sigmoid()), fc[1],
                            sjn.SLTTLIFNode(tau=2., surrogate_function=sjs.Sigmoid()))
    return ours.double(), ref.double()


@pytest.mark.parametrize('kind', ['ottt', 'sltt'])
@pytest.mark.parametrize('online', [True, False])
def test_ottt_sltt_match_spikingjelly(kind, online):
    ours, ref = ottt_pair(kind)
    opt_o, opt_r = torch.optim.SGD(ours.parameters(), lr=0.5), torch.optim.SGD(ref.parameters(), lr=0.5)
    spikes_seen = 0
    for batch in range(4):
        x, target = data(7, 5, 6, 3, batch, batch_first=True)
        loss_o, y_o = ol.ottt_online_training(ours, opt_o, x, target, F.mse_loss, online)
        loss_r, y_r = sjo.ottt_online_training(ref, opt_r, x, target, F.mse_loss, online)
        torch.testing.assert_close(loss_o, loss_r)
        assert_close(y_o, y_r)
        spikes_seen = spikes_seen + y_o.sum().item()
        if kind == 'ottt': torch.testing.assert_close(ours[1].trace, ref[1].trace)
        reset_net(ours); sjf.reset_net(ref)
    assert spikes_seen > 0                                   # the output layer fired: the comparison has content
    for p, q in zip(ours.parameters(), ref.parameters()): torch.testing.assert_close(p, q)


def test_ottt_eval_matches_spikingjelly():
    ours, ref = ottt_pair('ottt', seed=1)
    ours.eval(); ref.eval()
    x, _ = data(6, 4, 6, 3, 9)
    with torch.no_grad():
        out_o = torch.stack([ours(x_t) for x_t in x])
        out_r = torch.stack([ref(x_t) for x_t in x])
    assert_close(out_o, out_r)
    assert out_o.sum() > 0
