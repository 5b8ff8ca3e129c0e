"""snnlit.functional: property tests against naive loops, error messages, no in-place changes, dtypes."""
import copy, logging, math
import pytest, torch
from torch import nn
from hypothesis import given, settings, strategies as st
from snnlit.base import StepModule
from snnlit.neuron import IFNode, LIFNode, SeqToANNContainer, StepModeContainer
from snnlit import functional as F


@pytest.fixture
def warnings_log():
    records, handler = [], logging.Handler()
    handler.emit = lambda r: records.append((r.levelno, r.getMessage()))
    log = logging.getLogger('snnlit.functional')
    log.addHandler(handler)
    yield records
    log.removeHandler(handler)


# ---------------------------------------------------------------- naive references
def naive_delay(x, d):
    y = torch.zeros_like(x)
    for t in range(x.shape[0]):
        if t - d >= 0: y[t] = x[t - d]
    return y

def naive_first_spike(s):
    flat = s.reshape(-1, s.shape[-1]).tolist()
    out = [[False] * len(r) for r in flat]
    for i, row in enumerate(flat):
        for t, v in enumerate(row):
            if v != 0:
                out[i][t] = True
                break
    return torch.tensor(out, dtype=torch.bool).reshape(s.shape)

def naive_one_hot(labels, C, n):
    out = torch.zeros(labels.numel(), C * n)
    for i, k in enumerate(labels.flatten().tolist()):
        for j in range(n): out[i, k * n + j] = 1.
    return out.reshape(*labels.shape, C * n)

def naive_lif_loop(x_seq, tau=2.0, v_th=1.0):
    "Scalar LIF, hard reset to 0, decay_input=True."
    T = x_seq.shape[0]
    flat = x_seq.reshape(T, -1).tolist()
    out = [[0.] * len(flat[0]) for _ in range(T)]
    for i in range(len(flat[0])):
        v = 0.
        for t in range(T):
            v = v + (flat[t][i] - v) / tau
            if v >= v_th: out[t][i], v = 1., 0.
    return torch.tensor(out, dtype=x_seq.dtype).reshape(x_seq.shape)


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
        assert torch.equal(F.multi_step_forward(x, modules), naive_lif_loop(x))


def test_multi_step_forward_applies_list_in_order():
    x = torch.arange(6.).view(3, 2)
    y = F.multi_step_forward(x, [lambda t: t + 1, lambda t: t * 10])
    assert torch.equal(y, (x + 1) * 10)


@pytest.mark.parametrize('split', [1, 2, 3, 5, 7, 8, 100])
def test_chunk_multi_step_forward_equals_one_call(split):
    torch.manual_seed(1)
    net = nn.Sequential(SeqToANNContainer(nn.Linear(4, 6)), LIFNode(step_mode='m', v_reset=None), SeqToANNContainer(nn.Linear(6, 2)))
    x = torch.rand(7, 2, 4, dtype=torch.float32, requires_grad=True) * 3
    full = net(x)
    g_full, = torch.autograd.grad(full.pow(2).sum(), x)
    F.reset_net(net)
    chunked = F.chunk_multi_step_forward(split, x, net)
    g_chunk, = torch.autograd.grad(chunked.pow(2).sum(), x)
    torch.testing.assert_close(chunked, full, rtol=0, atol=0)
    torch.testing.assert_close(g_chunk, g_full, rtol=1e-6, atol=1e-6)
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


def test_seq_to_ann_forward_tuples_and_lists():
    torch.manual_seed(0)
    a, b = torch.randn(3, 2, 4), torch.randn(3, 2, 4)
    fc = nn.Linear(4, 5)
    y = F.seq_to_ann_forward(a, [fc, nn.ReLU()])
    assert torch.equal(y, torch.stack([torch.relu(fc(a_t)) for a_t in a]))
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
    assert warnings_log == [(logging.WARNING, 'calling `detach()` of Plain, which is not a snnlit MemoryModule'),
                            (logging.WARNING, 'calling `reset()` of Plain, which is not a snnlit MemoryModule')]


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


def test_set_backend(warnings_log):
    class NoList(nn.Module):
        def __init__(self): super().__init__(); self.backend = 'cupy'
    class Many(LIFNode):
        @property
        def supported_backends(self): return ('torch', 'cupy')
    net = nn.Sequential(LIFNode(), Many(), NoList())
    F.set_backend(net, 'cupy', instance=(LIFNode, NoList))
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
def make_convbn(in_ch, out_ch, seed, dtype=torch.float64, affine=True, **kw):
    g = torch.Generator().manual_seed(seed)
    conv = nn.Conv2d(in_ch, out_ch, bias=False, dtype=dtype, **kw)
    bn = nn.BatchNorm2d(out_ch, affine=affine, dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        bn.running_mean.copy_(torch.randn(out_ch, generator=g))
        bn.running_var.copy_(torch.rand(out_ch, generator=g) * 2 + 0.1)
        if affine:
            bn.weight.copy_(torch.randn(out_ch, generator=g))
            bn.bias.copy_(torch.randn(out_ch, generator=g))
    return conv, bn.eval()


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


# ---------------------------------------------------------------- errors and purity
ERRORS = [
    (lambda: F.reset_net('net'), TypeError, '`net` must be an nn.Module, got str'),
    (lambda: F.detach_net(None), TypeError, '`net` must be an nn.Module, got NoneType'),
    (lambda: F.set_step_mode(nn.Linear(1, 1), 'S'), ValueError, "`step_mode` must be 's' (single step) or 'm' (multi step), got 'S'"),
    (lambda: F.set_backend(nn.Linear(1, 1), 1), TypeError, '`backend` must be a str, got int'),
    (lambda: F.set_backend(nn.Linear(1, 1), 'torch', instance=()), TypeError, '`instance` must be a type or a non-empty tuple of types'),
    (lambda: F.set_threshold_margin(IFNode(), [[0, 1]]), TypeError, '`label_one_hot` must be a tensor [B, C], got list'),
    (lambda: F.set_threshold_margin(IFNode(), torch.tensor(1.)), ValueError, '`label_one_hot` must be a tensor [B, C] with at least 1'),
    (lambda: F.set_threshold_margin(IFNode(), torch.ones(1, 2), eval_threshold=None), TypeError, '`eval_threshold` must be a real number, got NoneType'),
    (lambda: F.multi_step_forward(torch.tensor(1.), nn.Identity()), ValueError, '`x_seq` must be a tensor [T, B, ...] with at least 1 dimension(s), got shape ()'),
    (lambda: F.multi_step_forward(torch.ones(0, 2), nn.Identity()), ValueError, '`x_seq` must have at least one time step, got shape (0, 2)'),
    (lambda: F.multi_step_forward(torch.ones(2, 2), []), ValueError, '`single_step_module` must hold at least one module, got an empty list'),
    (lambda: F.multi_step_forward(torch.ones(2, 2), 3), TypeError, '`single_step_module` must be a module, a callable, or a list/tuple of them, got int'),
    (lambda: F.chunk_multi_step_forward(2.0, torch.ones(2, 2), nn.Identity()), TypeError, '`split_size` must be an int, got float'),
    (lambda: F.chunk_multi_step_forward(True, torch.ones(2, 2), nn.Identity()), TypeError, '`split_size` must be an int, got bool'),
    (lambda: F.seq_to_ann_forward((torch.ones(2, 2), 'x'), nn.Identity()), TypeError, '`x_seq[1]` must be a tensor [T, B, ...], got str'),
    (lambda: F.delay(torch.ones(3, 2), -2), ValueError, '`delay_steps` must be >= 0, got -2'),
    (lambda: F.delay([1., 2.], 1), TypeError, '`x_seq` must be a tensor [T, ...], got list'),
    (lambda: F.redundant_one_hot(torch.tensor([-1, 0]), 2, 1), ValueError, '`labels` must lie in [0, num_classes=2), got values from -1 to 0'),
    (lambda: F.redundant_one_hot(torch.tensor([True]), 2, 1), TypeError, '`labels` must be an integer tensor, got torch.bool'),
    (lambda: F.redundant_one_hot(torch.tensor([0]), 0, 1), ValueError, '`num_classes` must be >= 1, got 0'),
    (lambda: F.first_spike_index([0, 1]), TypeError, '`spikes` must be a tensor [*, T], got list'),
    (lambda: F.fused_conv2d_weight_of_convbn2d(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2)), ValueError, '`conv2d` must have no bias'),
    (lambda: F.fused_conv2d_bias_of_convbn2d(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm1d(2)), TypeError, '`bn2d` must be an nn.BatchNorm2d, got BatchNorm1d'),
    (lambda: F.scale_fused_conv2d_weight_of_convbn2d(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm2d(2), k='2'), TypeError, '`k` must be a real number, got str'),
    (lambda: F.scale_fused_conv2d_bias_of_convbn2d(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm2d(2), b=torch.ones(3)), ValueError, '`b` must broadcast to shape (2,), got shape (3,)'),
    (lambda: F.kaiming_normal_conv_linear_weight(torch.ones(2)), TypeError, '`net` must be an nn.Module, got Tensor'),
]

@pytest.mark.parametrize('call,exc,msg', ERRORS, ids=range(len(ERRORS)))
def test_errors_name_the_argument(call, exc, msg):
    with pytest.raises(exc) as info: call()
    assert msg in str(info.value)


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
    assert torch.equal(seq_c(x), torch.sin(x))


def test_loss_reexports_are_the_same_objects():
    import snnlit.losses
    for name in ('spike_similar_loss', 'kernel_dot_product', 'temporal_efficient_training_cross_entropy'):
        assert getattr(F, name) is getattr(snnlit.losses, name)
        assert name in F.__all__
