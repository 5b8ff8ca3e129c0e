"""snnlit.functional: property tests against naive loops, no in-place changes, dtypes.

Error messages and bad inputs are covered by tests/bad_inputs/functional.py (run by tests/test_bad_inputs.py).
Exact comparisons (torch.equal) appear only where bit-identity is promised: data movement (delay, one-hot,
first spike), the same kernel on the same shapes, or sums that are exact because every weight and input is
a small multiple of a power of two (`on_grid`); results of different kernel calls are compared with
`assert_close`.
"""
import copy, logging, math
import pytest, torch
from torch import nn
from hypothesis import given, settings, strategies as st
from helpers import assert_close
from oracles import (naive_delay, naive_first_spike, naive_one_hot, naive_lif, naive_fused,
                                on_grid, params_on_grid, make_convbn)
from snnlit.base import StepModule
from snnlit.neuron import IFNode, LIFNode, SeqToANNContainer, StepModeContainer
from snnlit import functional as F


@pytest.fixture
def warnings_log():
    "The records logged under snnlit.functional, each message fresh (the once-only caches cleared)."
    import snnlit.base
    snnlit.base._log_once.cache_clear(); F._log_once.cache_clear()
    records, handler = [], logging.Handler()
    handler.emit = lambda r: records.append((r.levelno, r.getMessage()))
    log = logging.getLogger('snnlit.functional')
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)


# ---------------------------------------------------------------- delay / first spike / one-hot
@settings(max_examples=60, deadline=None)
@given(T=st.integers(1, 9), rest=st.lists(st.integers(1, 3), max_size=2), d=st.integers(0, 12), seed=st.integers(0, 2**16))
def test_delay_matches_loop_and_gradient(T, rest, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, *rest, generator=g, dtype=torch.float64, requires_grad=True)
    y = F.delay(x, d)
    assert torch.equal(y.detach(), naive_delay(x.detach(), d))
    w = torch.randn(y.shape, generator=g, dtype=torch.float64)
    (y * w).sum().backward()
    expected = torch.zeros_like(x)
    for t in range(T - min(d, T)): expected[t] = w[t + d]
    assert torch.equal(x.grad, expected)


def test_delay_edges():
    x = torch.arange(6.).view(3, 2)
    y0 = F.delay(x, 0)
    assert torch.equal(y0, x) and y0.data_ptr() != x.data_ptr()
    y0[0, 0] = 100.
    assert x[0, 0] == 0.                       # a new tensor, not a view of the input
    assert torch.equal(F.delay(x, 3), torch.zeros(3, 2)) and torch.equal(F.delay(x, 10**6), torch.zeros(3, 2))
    xg = x.clone().requires_grad_()
    F.delay(xg, 5).sum().backward()            # still in the graph: backward works and gives zeros
    assert torch.equal(xg.grad, torch.zeros(3, 2))


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=2), T=st.integers(1, 12),
       p=st.floats(0., 1.), seed=st.integers(0, 2**16))
def test_first_spike_index_matches_loop(shape, T, p, seed):
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(*shape, T, generator=g)
    graded = torch.where(u < p, torch.randn(u.shape, generator=g), 0.)   # graded, signed spikes
    out = F.first_spike_index(graded)
    assert out.dtype == torch.bool and not out.requires_grad
    assert torch.equal(out, naive_first_spike(graded))
    assert torch.equal(F.first_spike_index((graded != 0).float()), out)
    assert (out.sum(-1) <= 1).all()
    # non-contiguous input (time axis strided)
    t_first = graded.movedim(-1, 0).contiguous().movedim(0, -1)
    assert not t_first.is_contiguous() or T == 1 or graded.numel() <= T
    assert torch.equal(F.first_spike_index(t_first), out)


@settings(max_examples=40, deadline=None)
@given(B=st.integers(1, 20), C=st.integers(1, 8), n=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_redundant_one_hot_matches_loop(B, C, n, seed):
    labels = torch.randint(0, C, (B,), generator=torch.Generator().manual_seed(seed))
    out = F.redundant_one_hot(labels, C, n)
    assert torch.equal(out, naive_one_hot(labels, C, n))
    assert out.dtype == torch.get_default_dtype()
    assert torch.equal(out.view(B, C, n).sum(-1), torch.nn.functional.one_hot(labels, C).float() * n)


def test_redundant_one_hot_shapes_and_dtypes():
    labels = torch.tensor([[0, 1], [2, 2]], dtype=torch.int32)
    assert torch.equal(F.redundant_one_hot(labels, 3, 2), naive_one_hot(labels.long(), 3, 2))
    assert F.redundant_one_hot(torch.tensor([], dtype=torch.long), 3, 2).shape == (0, 6)
    old = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        assert F.redundant_one_hot(torch.tensor([1]), 2, 2).dtype == torch.float64
    finally: torch.set_default_dtype(old)


# ---------------------------------------------------------------- running modules over time
def test_multi_step_forward_matches_naive_lif():
    torch.manual_seed(0)
    x = torch.rand(12, 3, 5, dtype=torch.float64) * 3
    for modules in (LIFNode(), [LIFNode()], (nn.Identity(), LIFNode()), nn.Sequential(nn.Identity(), LIFNode())):
        assert torch.equal(F.multi_step_forward(x, modules), naive_lif(x))


def test_multi_step_forward_applies_list_in_order():
    x = torch.arange(6.).view(3, 2)
    y = F.multi_step_forward(x, [lambda t: t + 1, lambda t: t * 10])
    assert torch.equal(y, (x + 1) * 10)


@pytest.mark.parametrize('split', [1, 2, 3, 5, 7, 8, 100])
def test_chunk_multi_step_forward_equals_one_call(split):
    torch.manual_seed(1)
    # the linear layers see [split*B] rows in chunks and [T*B] in one call: BLAS may add in another order per
    # shape, so the weights and inputs are put on a grid where every sum is exact -- then the spikes, and the
    # outputs, must be bit-identical on any machine
    net = params_on_grid(nn.Sequential(SeqToANNContainer(nn.Linear(4, 6)), LIFNode(step_mode='m', v_reset=None),
                                       SeqToANNContainer(nn.Linear(6, 2))))
    x = on_grid(torch.rand(7, 2, 4, dtype=torch.float32) * 3).requires_grad_()
    full = net(x)
    g_full, = torch.autograd.grad(full.pow(2).sum(), x)
    F.reset_net(net)
    chunked = F.chunk_multi_step_forward(split, x, net)
    g_chunk, = torch.autograd.grad(chunked.pow(2).sum(), x)
    assert torch.equal(chunked, full)
    assert_close(g_chunk, g_full)              # surrogate gradients are not on the grid: different kernels
    # against the naive definition: split, run, concatenate
    F.reset_net(net)
    naive = torch.cat([net(c) for c in x.split(split)])
    assert torch.equal(chunked.detach(), naive.detach())


def test_chunk_multi_step_forward_checks_chunks():
    x = torch.rand(6, 2)
    calls = iter([torch.float32, torch.float64])
    with pytest.raises(ValueError, match='chunks of different shapes or dtypes'):
        F.chunk_multi_step_forward(3, x, lambda c: c.to(next(calls)))
    with pytest.raises(ValueError, match=r'must map a chunk \[t, \.\.\.\] with t=4'):
        F.chunk_multi_step_forward(4, x, lambda c: c[:1])


def test_sequence_helpers_gradcheck():
    x = torch.randn(9, 2, 3, dtype=torch.float64, requires_grad=True, generator=torch.Generator().manual_seed(0))
    fc = nn.Linear(3, 3).double()
    for fn in (lambda x: F.delay(x, 3), lambda x: F.multi_step_forward(x, fc), lambda x: F.seq_to_ann_forward(x, fc),
               lambda x: F.chunk_multi_step_forward(4, x, lambda c: F.seq_to_ann_forward(c, fc))):
        assert torch.autograd.gradcheck(fn, (x,))


def test_seq_to_ann_forward_tuples_and_lists():
    torch.manual_seed(0)
    a, b = torch.randn(3, 2, 4), torch.randn(3, 2, 4)
    fc = nn.Linear(4, 5)
    y = F.seq_to_ann_forward(a, [fc, nn.ReLU()])
    # one Linear over the folded [T*B] rows vs one per step: BLAS may pick another kernel per shape
    assert_close(y, torch.stack([torch.relu(fc(a_t)) for a_t in a]))
    s = F.seq_to_ann_forward((a, b), lambda p, q: p + q)
    assert torch.equal(s, a + b)
    pair = F.seq_to_ann_forward(a, lambda p: (p, 2 * p))
    assert isinstance(pair, tuple) and torch.equal(pair[1], 2 * a) and pair[0].shape == (3, 2, 4)
    s2 = F.seq_to_ann_forward((a, b), [lambda p, q: p * q, nn.Identity()])
    assert torch.equal(s2, a * b)


# ---------------------------------------------------------------- network-wide state
def test_reset_and_detach_nested(warnings_log):
    class Plain(nn.Module):
        def __init__(self): super().__init__(); self.n_reset = self.n_detach = 0
        def reset(self): self.n_reset += 1
        def detach(self): self.n_detach += 1
    net = nn.Sequential(nn.Sequential(LIFNode(step_mode='m'), Plain()), StepModeContainer(True, IFNode()))
    x = torch.rand(4, 2, 3, requires_grad=True)
    net[0][0](x); net[1](x[0])
    F.detach_net(net)
    assert not net[0][0].v.requires_grad and not net[1][0].v.requires_grad
    F.reset_net(net)
    assert net[0][0].v == 0. and net[1][0].v == 0.
    assert (net[0][1].n_reset, net[0][1].n_detach) == (1, 1)
    assert warnings_log == []   # a module with what the operation needs is handled silently


def test_set_step_mode_containers(warnings_log):
    inner = nn.Sequential(LIFNode(), IFNode())
    net = nn.Sequential(nn.Sequential(LIFNode()), StepModeContainer(True, inner), SeqToANNContainer(IFNode()),
                        StepModeContainer(False, nn.Linear(2, 2)))
    F.set_step_mode(net, 'm')
    assert net[0][0].step_mode == 'm' and net[1].step_mode == 'm' and net[3].step_mode == 'm'
    assert inner[0].step_mode == inner[1].step_mode == 's' and net[2][0].step_mode == 's'
    F.set_step_mode(net[1], 'm')          # a container passed directly: itself switched, children kept
    assert inner[0].step_mode == 's'
    assert warnings_log == []


def test_set_step_mode_all_or_nothing():
    class OnlyMulti(nn.Module, StepModule):
        def __init__(self): super().__init__(); self.step_mode = 'm'
        def supported_step_mode(self): return ('m',)
    m = OnlyMulti()
    net = nn.Sequential(LIFNode(step_mode='m'), m)
    with pytest.raises(ValueError, match=r"`step_mode` 's' is not supported by OnlyMulti"):
        F.set_step_mode(net, 's')
    assert net[0].step_mode == 'm'


def test_reset_skips_methods_that_need_arguments(warnings_log):
    class Reinit(nn.Module):
        def __init__(self): super().__init__(); self.calls = 0
        def reset(self, seed): self.calls += 1
    lif = LIFNode()
    lif(torch.ones(2, 3) * 0.7)
    net = nn.Sequential(lif, Reinit(), Reinit())
    for _ in range(3): F.reset_net(net)
    assert lif.v == 0. and net[1].calls == 0
    # once for the class, not per module and call
    assert warnings_log == [(logging.WARNING, 'not calling `reset()` of Reinit, which is not a snnlit MemoryModule: it needs arguments')]


class _Refuses(nn.Module):
    "A module whose own setter refuses 'm' / 'fused' although nothing announces it."
    def __init__(self): super().__init__(); self.step_mode, self.backend, self.supported_backends = 's', 'torch', ('torch', 'fused')
    def __setattr__(self, name, value):
        if (name, value) in (('step_mode', 'm'), ('backend', 'fused')): raise RuntimeError(f'{name} {value!r} refused')
        super().__setattr__(name, value)


def test_set_step_mode_and_backend_undo_on_a_refusing_setter(warnings_log):
    net = nn.Sequential(LIFNode(), nn.Sequential(IFNode(), _Refuses()), LIFNode())
    with pytest.raises(RuntimeError, match="step_mode 'm' refused"): F.set_step_mode(net, 'm')
    assert [m.step_mode for m in (net[0], net[1][0], net[1][1], net[2])] == ['s'] * 4
    with pytest.raises(RuntimeError, match="backend 'fused' refused"): F.set_backend(net, 'fused')
    assert [m.backend for m in (net[0], net[1][0], net[1][1], net[2])] == ['torch'] * 4


def test_refused_threshold_margin_keeps_the_layer():
    layer = IFNode()
    F.set_threshold_margin(layer, torch.eye(3))
    before = layer.v_threshold.clone()
    for bad in (torch.tensor([0, 1, 2]), torch.full((3, 3), 0.5), torch.eye(3)[None]):
        with pytest.raises((TypeError, ValueError), match='`label_one_hot` must be'): F.set_threshold_margin(layer, bad)
        assert torch.equal(layer.v_threshold, before)
    with pytest.raises(ValueError, match='`threshold1` must be a finite real number'):
        F.set_threshold_margin(layer, torch.eye(3), threshold1=float('nan'))
    assert torch.equal(layer.v_threshold, before)


def test_set_backend(warnings_log):
    class NoList(nn.Module):
        def __init__(self): super().__init__(); self.backend = 'cupy'
    class Many(LIFNode):
        @property
        def supported_backends(self): return ('torch', 'cupy')
    net = nn.Sequential(LIFNode(), Many(), NoList())
    for _ in range(2): F.set_backend(net, 'cupy', instance=(LIFNode, NoList))
    assert (net[0].backend, net[1].backend, net[2].backend) == ('torch', 'cupy', 'cupy')
    assert [m for _, m in warnings_log] == [
        "LIFNode does not support backend 'cupy' (supports ('torch', 'fused', 'triton')): left at 'torch'",
        "NoList has a `backend` but no `supported_backends`: left at 'cupy'"]
    warnings_log.clear()
    F.set_backend(net, 'torch', instance=nn.Linear)   # no module of that type: nothing happens
    assert net[1].backend == 'cupy' and warnings_log == []


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64])
def test_set_threshold_margin_matches_loop(dtype):
    g = torch.Generator().manual_seed(3)
    labels = torch.randint(0, 5, (7,), generator=g)
    onehot = torch.nn.functional.one_hot(labels, 5).to(dtype)
    keep = onehot.clone()
    layer = IFNode()
    F.set_threshold_margin(layer, onehot, eval_threshold=0.7, threshold0=0.5, threshold1=1.5)
    expected = torch.full((7, 5), 0.5)
    for i, k in enumerate(labels.tolist()): expected[i, k] = 1.5
    out_dtype = dtype if dtype.is_floating_point else torch.get_default_dtype()
    assert layer.v_threshold.dtype == out_dtype
    assert torch.equal(layer.v_threshold, expected.to(out_dtype))
    assert torch.equal(onehot, keep)
    layer.eval(); F.set_threshold_margin(layer, onehot, eval_threshold=0.7)
    assert layer.v_threshold == 0.7


# ---------------------------------------------------------------- conv-BN fusion
@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 3), dilation=st.integers(1, 3),
       groups=st.sampled_from([1, 2, 3]), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_fuse_convbn2d_equals_pair(k, stride, padding, dilation, groups, affine, seed):
    conv, bn = make_convbn(3 * groups, 2 * groups, seed, kernel_size=k, stride=stride, padding=padding,
                           dilation=dilation, groups=groups, affine=affine)
    x = torch.randn(2, 3 * groups, 13, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    fused = fuse_and_check_untouched(conv, bn)
    torch.testing.assert_close(fused(x), bn(conv(x)), rtol=1e-10, atol=1e-10)
    # float32 copy of the same: the spec's 1e-5
    conv32, bn32 = conv.float(), bn.float()
    torch.testing.assert_close(F.fuse_convbn2d(conv32, bn32)(x.float()), bn32(conv32(x.float())), rtol=1e-5, atol=1e-5)


CONV_SETTINGS = [dict(kernel_size=1), dict(kernel_size=3, stride=2), dict(kernel_size=(3, 2), padding=(1, 3)),
                 dict(kernel_size=3, dilation=3, groups=2), dict(kernel_size=3, stride=(1, 2), padding=1, groups=2),
                 dict(kernel_size=3, padding='same', dilation=2), dict(kernel_size=3, padding=2, padding_mode='reflect')]

@pytest.mark.parametrize('i', range(len(CONV_SETTINGS)))
@pytest.mark.parametrize('affine', [True, False])
def test_fused_parameters_match_naive_per_channel(i, affine):
    conv, bn = make_convbn(4, 6, i, affine=affine, **CONV_SETTINGS[i])
    w, b = naive_fused(conv, bn)
    torch.testing.assert_close(F.fused_conv2d_weight_of_convbn2d(conv, bn).detach(), w, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(F.fused_conv2d_bias_of_convbn2d(conv, bn).detach(), b, rtol=1e-12, atol=1e-12)
    fused = F.fuse_convbn2d(conv, bn)
    assert fused.padding_mode == conv.padding_mode and fused.padding == conv.padding
    x = torch.randn(3, 4, 12, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(i))
    torch.testing.assert_close(fused(x).detach(), bn(conv(x)).detach(), rtol=1e-10, atol=1e-10)


def fuse_and_check_untouched(conv, bn):
    before = [t.detach().clone() for t in list(conv.state_dict().values()) + list(bn.state_dict().values())]
    rng = torch.random.get_rng_state()
    fused = F.fuse_convbn2d(conv, bn)
    after = list(conv.state_dict().values()) + list(bn.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    assert torch.equal(rng, torch.random.get_rng_state())     # no random init spent on the new conv
    return fused


def test_fused_functions_are_differentiable():
    conv, bn = make_convbn(2, 3, 0, kernel_size=2)
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    # d(sum fused weight)/dW = gamma/sqrt(var+eps) per output channel; d(sum fused bias)/dbeta = 1
    gw, = torch.autograd.grad(F.fused_conv2d_weight_of_convbn2d(conv, bn).sum(), conv.weight)
    torch.testing.assert_close(gw, s.view(-1, 1, 1, 1).expand_as(conv.weight))
    gb, = torch.autograd.grad(F.fused_conv2d_bias_of_convbn2d(conv, bn).sum(), bn.bias)
    torch.testing.assert_close(gb, torch.ones(3, dtype=torch.float64))
    torch.autograd.gradcheck(lambda w: conv.weight.new_zeros(()) + (w * s.view(-1, 1, 1, 1)).sum(), (conv.weight.detach().clone().requires_grad_(),))


@pytest.mark.parametrize('affine', [True, False])
def test_scale_fused(affine):
    conv, bn = make_convbn(2, 4, 5, kernel_size=3, affine=affine)
    w0, b0 = F.fused_conv2d_weight_of_convbn2d(conv, bn).detach(), F.fused_conv2d_bias_of_convbn2d(conv, bn).detach()
    k_w = torch.tensor([1., -2., 0.5, 3.], dtype=torch.float64).view(4, 1, 1, 1)
    b_w = torch.randn(3, 3, dtype=torch.float64)
    F.scale_fused_conv2d_weight_of_convbn2d(conv, bn, k=k_w, b=b_w)
    torch.testing.assert_close(F.fused_conv2d_weight_of_convbn2d(conv, bn).detach(), k_w * w0 + b_w)
    k_b = torch.tensor([2., 1., -1., 0.], dtype=torch.float64)
    if affine:
        F.scale_fused_conv2d_bias_of_convbn2d(conv, bn, k=k_b, b=0.5)
        torch.testing.assert_close(F.fused_conv2d_bias_of_convbn2d(conv, bn).detach(), k_b * b0 + 0.5)
    else:
        with pytest.raises(ValueError, match='affine=False'):
            F.scale_fused_conv2d_bias_of_convbn2d(conv, bn, b=0.5)
        F.scale_fused_conv2d_bias_of_convbn2d(conv, bn, k=k_b)
        torch.testing.assert_close(F.fused_conv2d_bias_of_convbn2d(conv, bn).detach(), k_b * b0)
    # None, None changes nothing
    w1 = conv.weight.detach().clone()
    F.scale_fused_conv2d_weight_of_convbn2d(conv, bn)
    assert torch.equal(conv.weight, w1)


# ---------------------------------------------------------------- init
def test_kaiming_normal_same_draws_as_naive_loop():
    def build():
        return nn.Sequential(nn.Conv1d(2, 3, 3), nn.Sequential(nn.Conv2d(3, 4, 2), nn.Conv3d(4, 2, 1)),
                             nn.ConvTranspose2d(2, 2, 2), nn.Linear(5, 6), nn.BatchNorm1d(6))
    torch.manual_seed(0); a = build()
    torch.manual_seed(0); b = build()
    before = {k: v.clone() for k, v in a.state_dict().items()}
    torch.manual_seed(7); F.kaiming_normal_conv_linear_weight(a)
    torch.manual_seed(7)
    for m in b.modules():
        if type(m) in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear): nn.init.kaiming_normal_(m.weight, a=math.sqrt(5))
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
        changed = not torch.equal(va, before[k])
        assert changed == (k.endswith('weight') and not k.startswith(('2.', '4.'))), k


# ---------------------------------------------------------------- purity
def test_inputs_are_never_changed():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 2, 3, generator=g, requires_grad=True)
    s = (torch.rand(2, 3, 5, generator=g) > 0.5).float()
    labels, onehot = torch.tensor([1, 0]), torch.tensor([[0., 1.], [1., 0.]])
    keep = [t.detach().clone() for t in (x, s, labels, onehot)]
    # (the module-running helpers return what the module returns: an nn.Identity would hand back a view)
    outs = [F.delay(x, 0), F.delay(x, 2), F.delay(x, 9), F.multi_step_forward(x, nn.Identity()),
            F.chunk_multi_step_forward(2, x, nn.Identity()), F.chunk_multi_step_forward(9, x, torch.tanh),
            F.seq_to_ann_forward(x, torch.tanh), F.redundant_one_hot(labels, 2, 3), F.first_spike_index(s)]
    for o in outs:                                 # writing into any result leaves the inputs alone
        with torch.no_grad(): o.view(-1)[0] = 123
    layer = IFNode(); F.set_threshold_margin(layer, onehot); layer.v_threshold += 1
    for before, after in zip(keep, (x, s, labels, onehot)):
        assert torch.equal(before, after.detach())


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dtypes_kept(dtype):
    x = torch.randn(6, 1, 4).to(dtype)        # batch of one
    assert F.delay(x, 2).dtype == dtype
    assert F.multi_step_forward(x, LIFNode()).dtype == dtype
    assert F.chunk_multi_step_forward(4, x, LIFNode(step_mode='m')).dtype == dtype
    assert F.seq_to_ann_forward(x, nn.Identity()).dtype == dtype
    assert F.first_spike_index(x).dtype == torch.bool
    conv, bn = make_convbn(4, 4, 0, dtype=torch.float32, kernel_size=3, padding=1)
    conv, bn = conv.to(dtype), bn.to(dtype)
    fused = F.fuse_convbn2d(conv, bn)
    assert fused.weight.dtype == fused.bias.dtype == dtype
    # folded in float32, rounded once: within one rounding of the float32 fused weight
    up = torch.promote_types(dtype, torch.float32)
    ref = F.fused_conv2d_weight_of_convbn2d(copy.deepcopy(conv).to(up), copy.deepcopy(bn).to(up)).detach().to(dtype)
    assert torch.equal(fused.weight.detach(), ref)


def test_under_torch_compile():
    torch._dynamo.reset()
    x = torch.randn(6, 2, 3)
    s = (torch.rand(2, 3, 6) > 0.5).float()
    delay_c = torch.compile(F.delay, backend='aot_eager')
    fsi_c = torch.compile(F.first_spike_index, backend='aot_eager')
    seq_c = torch.compile(lambda x: F.seq_to_ann_forward(x, torch.sin), backend='aot_eager')
    assert torch.equal(delay_c(x, 2), F.delay(x, 2))
    assert torch.equal(fsi_c(s), F.first_spike_index(s))
    assert_close(seq_c(x), torch.sin(x))


def test_reexports_are_the_same_objects():
    import snnlit.losses, snnlit.online
    for home, names in ((snnlit.losses, ('spike_similar_loss', 'kernel_dot_product', 'temporal_efficient_training_cross_entropy')),
                        (snnlit.online, ('fptt_online_training', 'fptt_online_training_init_w_ra', 'ottt_online_training'))):
        for name in names:
            assert getattr(F, name) is getattr(home, name)
            assert name in F.__all__
