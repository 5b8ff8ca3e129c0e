"""snnlit.functional against spikingjelly 2.0.0's activation_based.functional, where the reference is right.

Skipped when spikingjelly is not installed. The reference's known defects (documented in nbs/02_functional.ipynb)
are tested here as differences, not copied: graded spikes in first_spike_index, and delay's aliasing/graph edges.
"""
import copy, math
import pytest, torch
from torch import nn

sj = pytest.importorskip('spikingjelly')
from spikingjelly.activation_based import functional as sjf, neuron as sjn, layer as sjl
from spikingjelly.activation_based.functional.conv_bn_fusion import fuse_conv_bn_eval_modules
from snnlit import functional as F
from snnlit.neuron import IFNode, LIFNode, SeqToANNContainer, StepModeContainer


@pytest.mark.parametrize('seed', range(5))
def test_delay(seed):
    g = torch.Generator().manual_seed(seed)
    T = int(torch.randint(1, 9, (1,), generator=g))
    x = torch.randn(T, 3, 2, generator=g, dtype=torch.float64)
    for d in range(T + 3):
        assert torch.equal(F.delay(x, d), sjf.delay(x, d))


def test_delay_differences():
    x = torch.randn(4, 2, requires_grad=True)
    assert sjf.delay(x, 0) is x and F.delay(x, 0) is not x
    assert sjf.delay(x, 4).grad_fn is None and F.delay(x, 4).grad_fn is not None


@pytest.mark.parametrize('seed', range(5))
def test_first_spike_index_binary(seed):
    g = torch.Generator().manual_seed(seed)
    s = (torch.rand(3, 4, 20, generator=g) < 0.1).float()
    assert torch.equal(F.first_spike_index(s), sjf.first_spike_index(s))


def test_first_spike_index_graded_is_a_reference_defect():
    s = torch.tensor([[0.5, 0.5, 0.], [0., 2., 1.]])
    assert F.first_spike_index(s).tolist() == [[True, False, False], [False, True, False]]
    assert sjf.first_spike_index(s).tolist() != F.first_spike_index(s).tolist()


@pytest.mark.parametrize('C,n', [(1, 1), (3, 2), (10, 4)])
def test_redundant_one_hot(C, n):
    labels = torch.randint(0, C, (17,), generator=torch.Generator().manual_seed(C))
    ours, ref = F.redundant_one_hot(labels, C, n), sjf.redundant_one_hot(labels, C, n)
    assert ours.dtype == ref.dtype and torch.equal(ours, ref)


def test_set_threshold_margin():
    onehot = torch.nn.functional.one_hot(torch.tensor([2, 0, 1]), 3).float()
    ours, ref = IFNode(), IFNode()
    F.set_threshold_margin(ours, onehot, 0.8, 0.7, 1.3)
    sjf.set_threshold_margin(ref, onehot, 0.8, 0.7, 1.3)
    assert torch.equal(ours.v_threshold, ref.v_threshold)
    ours.eval(); ref.eval()
    F.set_threshold_margin(ours, onehot, 0.8); sjf.set_threshold_margin(ref, onehot, 0.8)
    assert ours.v_threshold == ref.v_threshold == 0.8


def _twin_nets():
    torch.manual_seed(0)
    fc1, fc2 = nn.Linear(4, 8), nn.Linear(8, 3)
    ours = nn.Sequential(SeqToANNContainer(fc1), LIFNode(tau=3., step_mode='m'), SeqToANNContainer(fc2), IFNode(step_mode='m'))
    ref = nn.Sequential(sjl.SeqToANNContainer(copy.deepcopy(fc1)), sjn.LIFNode(tau=3., step_mode='m'),
                        sjl.SeqToANNContainer(copy.deepcopy(fc2)), sjn.IFNode(step_mode='m'))
    return ours, ref


def test_reset_and_detach_net():
    ours, ref = _twin_nets()
    x = (torch.rand(10, 2, 4) * 3).requires_grad_()
    with torch.no_grad():
        assert torch.equal(ours(x), ref(x))
    F.detach_net(ours); sjf.detach_net(ref)
    y_o, y_r = ours(x), ref(x)                     # carried-over state, now detached
    assert torch.equal(y_o, y_r)
    F.reset_net(ours); sjf.reset_net(ref)
    assert torch.equal(ours(x), ref(x))


@pytest.mark.parametrize('split', [1, 3, 4, 10])
def test_sequence_helpers(split):
    ours, ref = _twin_nets()
    x = torch.rand(10, 2, 4) * 3
    with torch.no_grad():
        assert torch.equal(F.chunk_multi_step_forward(split, x, ours), sjf.chunk_multi_step_forward(split, x, ref))
        fc = nn.Linear(4, 5)
        assert torch.equal(F.seq_to_ann_forward(x, [fc, nn.ReLU()]), sjf.seq_to_ann_forward(x, [fc, nn.ReLU()]))
        assert torch.equal(F.multi_step_forward(x, [fc, LIFNode()]), sjf.multi_step_forward(x, [fc, sjn.LIFNode()]))


def test_set_step_mode_same_modes():
    ours = nn.Sequential(LIFNode(), nn.Sequential(IFNode()), StepModeContainer(True, LIFNode(), IFNode()),
                         SeqToANNContainer(nn.Linear(2, 2)))
    ref = nn.Sequential(sjn.LIFNode(), nn.Sequential(sjn.IFNode()), sjl.StepModeContainer(True, 's', sjn.LIFNode(), sjn.IFNode()),
                        sjl.SeqToANNContainer(nn.Linear(2, 2)))
    F.set_step_mode(ours, 'm'); sjf.set_step_mode(ref, 'm')
    modes = lambda net: [(name, m.step_mode) for name, m in net.named_modules() if hasattr(m, 'step_mode')]
    # spikingjelly's SeqToANNContainer has a step_mode of its own; snnlit's has none — compare the rest
    assert [p for p in modes(ours)] == [p for p in modes(ref) if p[0] != '3']


def test_kaiming_normal_conv_linear_weight():
    build = lambda: nn.Sequential(nn.Conv1d(2, 3, 3), nn.Conv2d(3, 4, 2), nn.Conv3d(4, 2, 1), nn.Linear(5, 6), nn.BatchNorm1d(6))
    torch.manual_seed(0); a = build()
    torch.manual_seed(0); b = build()
    torch.manual_seed(1); F.kaiming_normal_conv_linear_weight(a)
    torch.manual_seed(1); sjf.kaiming_normal_conv_linear_weight(b)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k


@pytest.mark.parametrize('kw', [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=2, dilation=2, groups=2),
                                dict(kernel_size=(1, 3), padding='same')])
def test_fuse_convbn2d_matches_reference_fx_pass(kw):
    g = torch.Generator().manual_seed(0)
    conv, bn = nn.Conv2d(4, 6, bias=False, **kw), nn.BatchNorm2d(6)
    with torch.no_grad():
        for t in (bn.weight, bn.bias, bn.running_mean): t.copy_(torch.randn(6, generator=g))
        bn.running_var.copy_(torch.rand(6, generator=g) + 0.1)
    pair = nn.Sequential(conv, bn).eval()
    fused_ref = fuse_conv_bn_eval_modules(copy.deepcopy(pair))
    fused = F.fuse_convbn2d(conv, bn)
    x = torch.randn(2, 4, 9, 10, generator=g)
    torch.testing.assert_close(fused(x), fused_ref(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fused(x), pair(x), rtol=1e-5, atol=1e-5)
    ref_conv = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
    torch.testing.assert_close(fused.weight, ref_conv.weight, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(fused.bias, ref_conv.bias, rtol=1e-6, atol=1e-6)
