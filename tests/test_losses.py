"""snnlit.losses against the naive loops of tests/oracles_losses.py, over many shapes and options."""
import pytest, torch
import torch.nn.functional as F
from snnlit.losses import (kernel_dot_product, spike_similar_loss, temporal_efficient_training_cross_entropy, tet_loss,
                           ce_rate_loss, ce_count_loss, ce_max_membrane_loss, mse_count_loss, mse_membrane_loss)
from oracles import naive_kernel, naive_spike_similar, naive_tet, naive_family

REDUCTIONS = ('mean', 'sum', 'none')
LOSSES = dict(ce_rate_loss=ce_rate_loss, ce_count_loss=ce_count_loss, ce_max_membrane_loss=ce_max_membrane_loss,
              mse_count_loss=mse_count_loss, mse_membrane_loss=mse_membrane_loss)

# ---------------------------------------------------------------- kernels and spike similarity
@pytest.mark.parametrize('kernel,args', [('linear', ()), ('polynomial', (2,)), ('polynomial', (3,)),
                                         ('sigmoid', (0.4,)), ('gaussian', (0.8,)), ('gaussian', (3.0,))])
@pytest.mark.parametrize('N,K,M', [(1, 1, 1), (4, 4, 5), (6, 2, 3), (2, 7, 9)])
def test_kernel_dot_product(kernel, args, N, K, M):
    g = torch.Generator().manual_seed(N * 100 + K * 10 + M)
    x, y = torch.randn(N, M, generator=g, dtype=torch.float64), torch.randn(K, M, generator=g, dtype=torch.float64)
    got = kernel_dot_product(x, y, kernel, *args)
    assert got.shape == (N, K) and got.dtype == torch.float64
    torch.testing.assert_close(got, naive_kernel(x, y, kernel, *args), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(kernel_dot_product(x.float(), y.float(), kernel, *args).double(),
                               naive_kernel(x, y, kernel, *args), rtol=1e-5, atol=1e-5)

def test_gaussian_kernel_at_most_one():
    "Identical rows have distance 0 exactly: the kernel is 1, never above, even in float32 with large norms."
    x = torch.randn(50, 300) * 100
    k = kernel_dot_product(x, x, 'gaussian', 1.0)
    assert (k <= 1).all() and (k >= 0).all()
    assert torch.equal(k.diagonal(), torch.ones(50))

@pytest.mark.parametrize('kernel,args', [('linear', ()), ('sigmoid', (0.3,)), ('gaussian', (2.0,))])
@pytest.mark.parametrize('loss', ['mse', 'l1', 'bce'])
@pytest.mark.parametrize('binary', [True, False])
def test_spike_similar_loss(kernel, args, loss, binary):
    g = torch.Generator().manual_seed(7)
    spikes = torch.rand(7, 3, 4, generator=g, dtype=torch.float64)
    if binary: spikes = (spikes < 0.4).double()
    labels = F.one_hot(torch.randint(0, 3, (7,), generator=g), 3)
    labels[1, 0] = labels[1, 1] = 1   # multi-label
    got = spike_similar_loss(spikes, labels, kernel, loss, *args)
    assert got.dtype == torch.float64 and got.dim() == 0
    torch.testing.assert_close(got, torch.tensor(naive_spike_similar(spikes, labels, kernel, loss, *args), dtype=torch.float64), rtol=1e-9, atol=1e-10)

def test_spike_similar_loss_silent_sample_and_negative_inputs():
    spikes = torch.rand(4, 6, dtype=torch.float64); spikes[2] = 0   # a silent sample: cosine 0, no NaN
    labels = F.one_hot(torch.tensor([0, 1, 0, 1]), 2)
    for loss in ('mse', 'l1', 'bce'):
        s = spikes.clone().requires_grad_()
        out = spike_similar_loss(s, labels, 'linear', loss)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(s.grad).all()
        torch.testing.assert_close(out.detach(), torch.tensor(naive_spike_similar(spikes, labels, 'linear', loss), dtype=torch.float64))
    signed = torch.randn(5, 8, dtype=torch.float64)   # negative cosines: bce clamps them at 0, mse keeps them
    labels = F.one_hot(torch.tensor([0, 1, 0, 1, 2]), 3)
    for loss in ('mse', 'bce'):
        torch.testing.assert_close(spike_similar_loss(signed, labels, 'linear', loss),
                                   torch.tensor(naive_spike_similar(signed, labels, 'linear', loss), dtype=torch.float64))

# ---------------------------------------------------------------- TET
@pytest.mark.parametrize('shape', [(1, 1, 3), (5, 4, 6), (3, 2, 4, 5), (2, 3, 4, 2, 3)])
def test_tet(shape):
    g = torch.Generator().manual_seed(sum(shape))
    x_seq = torch.randn(shape, generator=g, dtype=torch.float64)
    target = torch.randint(0, shape[2], (shape[1], *shape[3:]), generator=g)
    got = temporal_efficient_training_cross_entropy(x_seq, target)
    torch.testing.assert_close(got, torch.tensor(naive_tet(x_seq, target), dtype=torch.float64), rtol=1e-10, atol=1e-12)
    loop = sum(F.cross_entropy(x_seq[t], target) for t in range(shape[0])) / shape[0]
    torch.testing.assert_close(got, loop, rtol=1e-12, atol=1e-12)
    mse = sum(((v - 0.7) ** 2 for v in x_seq.flatten().tolist())) / x_seq.numel()
    torch.testing.assert_close(tet_loss(x_seq, target, 0.2, 0.7), 0.8 * got + 0.2 * torch.tensor(mse, dtype=torch.float64))
    torch.testing.assert_close(temporal_efficient_training_cross_entropy(x_seq.float(), target).double(), got, rtol=1e-5, atol=1e-6)

def test_tet_non_contiguous_input():
    x = torch.randn(4, 6, 5, dtype=torch.float64)
    target = torch.randint(0, 5, (6,))
    xt = x.transpose(0, 1).contiguous().transpose(0, 1)   # same values, other strides
    assert not xt.is_contiguous()
    torch.testing.assert_close(temporal_efficient_training_cross_entropy(xt, target), temporal_efficient_training_cross_entropy(x, target))

# ---------------------------------------------------------------- snntorch family
SHAPES = [(1, 1, 4), (1, 3, 6), (5, 1, 6), (7, 4, 12)]

@pytest.mark.parametrize('name', list(LOSSES))
@pytest.mark.parametrize('T,B,N', SHAPES)
@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('weighted', [False, True])
def test_family_against_naive(name, T, B, N, reduction, weighted):
    g = torch.Generator().manual_seed(T * 1000 + B * 100 + N)
    out = torch.randn(T, B, N, generator=g, dtype=torch.float64) if 'membrane' in name else (torch.rand(T, B, N, generator=g) < 0.5).double()
    ys = torch.randint(0, N, (B,), generator=g)
    weight = torch.rand(N, generator=g, dtype=torch.float64) + 0.1 if weighted else None
    got = LOSSES[name](reduction=reduction, weight=weight)(out, ys)
    expected = naive_family(name, out, ys, reduction, weight)
    assert got.shape == expected.shape and got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    got32 = LOSSES[name](reduction=reduction, weight=weight)(out.float(), ys)
    assert got32.dtype == torch.float32
    torch.testing.assert_close(got32.double(), expected, rtol=1e-5, atol=1e-5)

@pytest.mark.parametrize('name', ['ce_rate_loss', 'ce_count_loss', 'mse_count_loss'])
@pytest.mark.parametrize('N,C', [(4, 4), (6, 3), (12, 4), (12, 2), (5, 1)])
@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('weighted', [False, True])
def test_population_code(name, N, C, reduction, weighted):
    g = torch.Generator().manual_seed(N * 10 + C)
    T, B = 6, 5
    spk = (torch.rand(T, B, N, generator=g) < 0.4).double()
    ys = torch.randint(0, C, (B,), generator=g)
    weight = torch.rand(C, generator=g, dtype=torch.float64) + 0.1 if weighted else None
    kw = dict(correct_rate=0.75, incorrect_rate=0.25) if name == 'mse_count_loss' else {}
    got = LOSSES[name](population_code=True, num_classes=C, reduction=reduction, weight=weight, **kw)(spk, ys)
    torch.testing.assert_close(got, naive_family(name, spk, ys, reduction, weight, C=C, **kw), rtol=1e-10, atol=1e-12)

@pytest.mark.parametrize('correct_rate,incorrect_rate', [(1, 0), (0.8, 0.2), (0.55, 0.05), (2, 0.5)])
@pytest.mark.parametrize('T', [1, 3, 10])
def test_mse_count_rates(correct_rate, incorrect_rate, T):
    g = torch.Generator().manual_seed(T)
    spk = (torch.rand(T, 4, 5, generator=g) < 0.5).double()
    ys = torch.randint(0, 5, (4,), generator=g)
    got = mse_count_loss(correct_rate, incorrect_rate)(spk, ys)
    torch.testing.assert_close(got, naive_family('mse_count_loss', spk, ys, correct_rate=correct_rate, incorrect_rate=incorrect_rate))

@pytest.mark.parametrize('time_var', [False, True])
@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('T,B,N', SHAPES)
def test_mse_membrane_targets(time_var, reduction, weighted, T, B, N):
    g = torch.Generator().manual_seed(T + B + N)
    mem = torch.randn(T, B, N, generator=g, dtype=torch.float64)
    ys = torch.randint(0, N, (T, B) if time_var else (B,), generator=g)
    weight = torch.rand(N, generator=g, dtype=torch.float64) + 0.1 if weighted else None
    fn = mse_membrane_loss(time_var, on_target=1.5, off_target=-0.25, reduction=reduction, weight=weight)
    expected = naive_family('mse_membrane_loss', mem, ys, reduction, weight, time_var_targets=time_var, on_target=1.5, off_target=-0.25)
    torch.testing.assert_close(fn(mem, ys), expected, rtol=1e-10, atol=1e-12)

def test_time_var_targets_constant_equals_static():
    mem, ys = torch.randn(5, 3, 4, dtype=torch.float64), torch.tensor([0, 3, 1])
    w = torch.rand(4, dtype=torch.float64)
    for reduction in REDUCTIONS:
        torch.testing.assert_close(mse_membrane_loss(True, reduction=reduction, weight=w)(mem, ys.expand(5, 3)),
                                   mse_membrane_loss(reduction=reduction, weight=w)(mem, ys))

# ---------------------------------------------------------------- gradients, dtypes, inputs untouched, no loop over time
def _all_fns():
    ys, w = torch.tensor([0, 5, 2]), torch.rand(6, dtype=torch.float64) + 0.1
    ys_t = torch.randint(0, 6, (4, 3), generator=torch.Generator().manual_seed(0))
    fns = {}
    for name, cls in LOSSES.items():
        for reduction in REDUCTIONS:
            fns[f'{name}-{reduction}'] = lambda o, cls=cls, r=reduction: cls(reduction=r, weight=w)(o, ys)
    fns['mse_membrane-time_var'] = lambda o: mse_membrane_loss(True, weight=w, reduction='none')(o, ys_t)
    for name in ('ce_rate_loss', 'ce_count_loss', 'mse_count_loss'):
        fns[f'{name}-pop'] = lambda o, name=name: LOSSES[name](population_code=True, num_classes=3, weight=w[:3])(o, ys % 3)
    fns['tet3'] = lambda o: temporal_efficient_training_cross_entropy(o, ys)
    fns['tet4'] = lambda o: temporal_efficient_training_cross_entropy(o.view(4, 3, 2, 3), ys.view(3, 1).expand(3, 3) % 2)
    fns['tet_loss'] = lambda o: tet_loss(o, ys, 0.1, 0.5)
    for k, a in [('linear', ()), ('sigmoid', (0.5,)), ('gaussian', (1.5,))]:
        for l in ('mse', 'l1', 'bce'):
            fns[f'similar-{k}-{l}'] = lambda o, k=k, l=l, a=a: spike_similar_loss(o, F.one_hot(torch.tensor([0, 1, 0, 2]), 3), k, l, *a)
    for k, a in [('linear', ()), ('polynomial', (2,)), ('sigmoid', (0.5,)), ('gaussian', (1.5,))]:
        fns[f'kernel-{k}'] = lambda o, k=k, a=a: kernel_dot_product(o[0], o[1, :2], k, *a)
    return fns

FNS = _all_fns()

@pytest.mark.parametrize('key', list(FNS))
def test_gradcheck(key):
    out = torch.rand(4, 3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(4)).requires_grad_()
    assert torch.autograd.gradcheck(FNS[key], (out,))

@pytest.mark.parametrize('key', list(FNS))
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dtype_kept_and_input_untouched(key, dtype):
    out = torch.rand(4, 3, 6, generator=torch.Generator().manual_seed(5)).to(dtype).requires_grad_()
    before = out.detach().clone()
    loss = FNS[key](out)
    assert loss.dtype == dtype
    loss.sum().backward()
    assert out.grad.dtype == dtype and torch.isfinite(out.grad).all()
    assert torch.equal(out.detach(), before)

def _graph_size(loss):
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen: continue
        seen.add(node)
        stack.extend(n for n, _ in node.next_functions)
    return len(seen)

@pytest.mark.parametrize('name', list(LOSSES) + ['tet'])
def test_no_python_loop_over_time(name):
    "The autograd graph has as many nodes at T=2 as at T=64: no per-step operations."
    sizes = []
    for T in (2, 64):
        out = torch.rand(T, 5, 6, requires_grad=True)
        ys = torch.randint(0, 6, (5,))
        loss = temporal_efficient_training_cross_entropy(out, ys) if name == 'tet' else LOSSES[name](weight=torch.ones(6))(out, ys)
        sizes.append(_graph_size(loss))
    assert sizes[0] == sizes[1]

def test_targets_untouched_and_weight_untouched():
    spk, ys, w = torch.rand(3, 4, 6), torch.tensor([0, 5, 1, 2]), torch.rand(6)
    ys0, w0 = ys.clone(), w.clone()
    for cls in LOSSES.values(): cls(weight=w)(spk, ys)
    mse_membrane_loss(True, weight=w)(spk, ys.expand(3, 4))
    assert torch.equal(ys, ys0) and torch.equal(w, w0)

# ---------------------------------------------------------------- errors
@pytest.mark.parametrize('call,match', [
    (lambda: ce_rate_loss()(torch.rand(3, 2, 4), torch.tensor([0, 4])), r"`targets` must hold class indices in \[0, 4\), got values from 0 to 4"),
    (lambda: ce_count_loss()(torch.rand(3, 2, 4), torch.tensor([-1, 0])), r"got values from -1 to 0"),
    (lambda: ce_max_membrane_loss()(torch.rand(3, 2, 4), torch.tensor([0, 1, 2])), r"`targets` must be an integer tensor of class indices with shape \[B\] = \(2,\), got a torch.int64 tensor of shape \(3,\)"),
    (lambda: mse_count_loss()(torch.rand(2, 4), torch.tensor([0, 1])), r"`spk_out` must be a floating-point tensor \[T, B, N\] with 3 dimensions, got a torch.float32 tensor of shape \(2, 4\)"),
    (lambda: mse_membrane_loss()(torch.rand(1, 3, 2, 4), torch.tensor([0, 1])), r"`mem_out` must be a floating-point tensor \[T, B, N\] with 3 dimensions"),
    (lambda: mse_membrane_loss(True)(torch.rand(3, 2, 4), torch.tensor([0, 1])), r"`targets` must be an integer tensor of class indices with shape \[T, B\] \(time_var_targets=True\) = \(3, 2\)"),
    (lambda: ce_rate_loss(population_code=True, num_classes=3)(torch.rand(3, 2, 4), torch.tensor([0, 1])), r"`num_classes`=3 must divide the number of outputs N=4"),
    (lambda: mse_count_loss(population_code=True), r"`num_classes` must be an int >= 1 when `population_code=True`, got False"),
    (lambda: ce_count_loss(population_code=True, num_classes=0), r"`num_classes` must be an int >= 1, got 0"),
    (lambda: ce_rate_loss(reduction='avg'), r"`reduction` must be one of 'mean', 'sum', 'none', got 'avg'"),
    (lambda: ce_rate_loss(weight=[1., 2.])(torch.rand(3, 2, 4), torch.tensor([0, 1])), r"`weight` must have one entry per class, C=4, got shape \(2,\)"),
    (lambda: kernel_dot_product(torch.rand(3, 2), torch.rand(3, 2), 'cosine'), r"`kernel` must be one of 'linear', 'polynomial' \(d\), 'sigmoid' \(alpha\), 'gaussian' \(sigma\), got 'cosine'"),
    (lambda: kernel_dot_product(torch.rand(3, 2), torch.rand(3, 2), 'polynomial'), r"`kernel='polynomial'` takes one extra argument, d, got 0"),
    (lambda: kernel_dot_product(torch.rand(3, 2), torch.rand(3, 2), 'gaussian', -1.0), r"`sigma` must be a finite real number > 0, got -1.0"),
    (lambda: kernel_dot_product(torch.rand(3, 2), torch.rand(3, 3)), r"must have the same M"),
    (lambda: kernel_dot_product(torch.rand(3), torch.rand(3, 3)), r"`x` must be a floating-point tensor \[N, M\] with 2 dimensions"),
    (lambda: spike_similar_loss(torch.rand(3, 2, 2), F.one_hot(torch.arange(3)), 'polynomial', 'mse', 2), r"`kernel_type` must be one of 'linear', 'sigmoid' \(alpha\), 'gaussian' \(sigma\)"),
    (lambda: spike_similar_loss(torch.rand(3, 2, 2), F.one_hot(torch.arange(3)), 'linear', 'hinge'), r"`loss_type` must be one of 'mse', 'l1', 'bce', got 'hinge'"),
    (lambda: spike_similar_loss(torch.rand(3, 2, 2), torch.arange(3)), r"`labels` must be a tensor \[N, C\] with N = 3 rows"),
    (lambda: temporal_efficient_training_cross_entropy(torch.rand(3, 2, 4), torch.tensor([0, 4])), r"`target` must hold class indices in \[0, 4\)"),
    (lambda: temporal_efficient_training_cross_entropy(torch.rand(3, 2, 4, 5), torch.tensor([0, 1])), r"`target` must be an integer tensor of class indices with shape \[N, \*\] = \(2, 5\), got a torch.int64 tensor of shape \(2,\)"),
    (lambda: temporal_efficient_training_cross_entropy(torch.rand(3, 2), torch.tensor([0, 1])), r"`x_seq` must be a floating-point tensor \[T, N, C, \*\] with at least 3 dimensions"),
    (lambda: tet_loss(torch.rand(3, 2, 4), torch.tensor([0, 1]), lamb=-0.1), r"`lamb` must be a finite real number >= 0 and <= 1, got -0.1"),
    (lambda: ce_count_loss()(torch.rand(0, 2, 4), torch.tensor([0, 1])), r"`spk_out` must be a non-empty tensor \[T, B, N\], got a torch.float32 tensor of shape \(0, 2, 4\)"),
])
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match): call()

@pytest.mark.parametrize('call,match', [
    (lambda: ce_rate_loss()(torch.rand(3, 2, 4), torch.tensor([0., 1.])), r"`targets` must be an integer tensor, got a torch.float32 tensor of shape \(2,\)"),
    (lambda: ce_rate_loss()(torch.ones(3, 2, 4, dtype=torch.int64), torch.tensor([0, 1])), r"`spk_out` must be a floating-point tensor"),
    (lambda: ce_rate_loss()([[0.]], torch.tensor([0])), r"`spk_out` must be a floating-point tensor \[T, B, N\], got list \[\[0.0\]\]"),
    (lambda: mse_membrane_loss(time_var_targets='yes'), r"`time_var_targets` must be a bool"),
    (lambda: mse_count_loss(correct_rate=None), r"`correct_rate` must be a finite real number, got None"),
    (lambda: kernel_dot_product(torch.rand(3, 2), torch.rand(3, 2), 'sigmoid', 'a'), r"`alpha` must be a finite real number, got 'a'"),
    (lambda: kernel_dot_product(torch.rand(3, 2), torch.rand(3, 2).double()), r"`x` and `y` must have the same dtype"),
])
def test_type_errors(call, match):
    with pytest.raises(TypeError, match=match): call()

@pytest.mark.parametrize('key', ['ce_rate_loss-mean', 'ce_count_loss-none', 'ce_max_membrane_loss-sum', 'mse_count_loss-mean',
                                 'mse_membrane_loss-none', 'mse_membrane-time_var', 'mse_count_loss-pop', 'tet3', 'tet_loss', 'similar-gaussian-bce'])
def test_torch_compile(key):
    "Each loss traces into one graph under torch.compile (the label check is in the graph) and gives the eager value and gradient."
    torch._dynamo.reset()
    out = torch.rand(4, 3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    compiled = torch.compile(FNS[key], fullgraph=True, backend='aot_eager')
    results = []
    for fn in (FNS[key], compiled):
        o = out.clone().requires_grad_()
        loss = fn(o)
        loss.sum().backward()
        results.append((loss.detach(), o.grad))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-12, atol=1e-12)

# (name, loss(out, labels), number of classes, labels shape) for the label range check under torch.compile
LABELLED = [('ce_rate_loss', ce_rate_loss(), 6, (3,)), ('ce_rate_loss-pop', ce_rate_loss(True, 3), 3, (3,)),
            ('ce_count_loss', ce_count_loss(weight=torch.rand(6)), 6, (3,)), ('ce_max_membrane_loss', ce_max_membrane_loss(), 6, (3,)),
            ('mse_count_loss', mse_count_loss(0.8, 0.2), 6, (3,)), ('mse_membrane_loss', mse_membrane_loss(), 6, (3,)),
            ('mse_membrane_loss-time_var', mse_membrane_loss(True), 6, (4, 3)),
            ('tet', temporal_efficient_training_cross_entropy, 6, (3,)), ('tet_loss', tet_loss, 6, (3,))]

def _raises_in_graph(call, match):
    "`call()` raises the RuntimeError of an in-graph assertion (not a dynamo error, which also subclasses RuntimeError)."
    with pytest.raises(RuntimeError, match=match) as info: call()
    assert not isinstance(info.value, torch._dynamo.exc.TorchDynamoException), info.value

@pytest.mark.parametrize('name,fn,C,shape', LABELLED, ids=[c[0] for c in LABELLED])
def test_compiled_label_check(name, fn, C, shape):
    "Compiled (fullgraph): good labels give eager's loss; labels out of range raise the in-graph assertion."
    torch._dynamo.reset()
    out = torch.rand(4, 3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    compiled = torch.compile(fn, fullgraph=True, backend='aot_eager')
    for dtype in (torch.int64, torch.int32, torch.uint8):
        good = torch.randint(0, C, shape, generator=torch.Generator().manual_seed(8)).to(dtype)
        good.view(-1)[0] = C - 1   # the extremes are in range
        good.view(-1)[-1] = 0
        torch.testing.assert_close(compiled(out, good), fn(out, good), rtol=1e-12, atol=1e-12)
        bad_values = (C, C + 7) if dtype == torch.uint8 else (C, -1, 100)
        for value in bad_values:
            bad = good.clone()
            bad.view(-1)[1] = value
            _raises_in_graph(lambda: compiled(out, bad), rf"must hold class indices in \[0, {C}\)")
            with pytest.raises(ValueError, match=rf"must hold class indices in \[0, {C}\), got values from"):
                fn(out, bad)   # eager: unchanged
    # wrong shapes and dtypes are still caught while tracing, with the eager messages (under fullgraph=True
    # dynamo reports an exception raised while tracing as its `Unsupported` error, the message included)
    with pytest.raises((ValueError, torch._dynamo.exc.Unsupported), match=r"must be an integer tensor of class indices with shape"):
        compiled(out, torch.zeros(5, dtype=torch.int64))
    with pytest.raises((TypeError, torch._dynamo.exc.Unsupported), match=r"`targets?` must be an integer tensor, got"):
        compiled(out, torch.zeros(shape))

def test_compiled_tensor_kernel_parameter():
    "A 0-d tensor kernel parameter traces without a graph break; sigma <= 0 is an in-graph assertion."
    torch._dynamo.reset()
    x = torch.rand(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    spk = (x.view(5, 2, 2) > 0.5).double()
    labels = F.one_hot(torch.tensor([0, 1, 0, 2, 1]), 3)
    for kernel, p in [('gaussian', 1.5), ('sigmoid', 0.7), ('polynomial', 3.)]:
        for dtype in (torch.float32, torch.float64):   # (a float32 one is not specialised into a constant)
            torch._dynamo.reset()
            kfn = torch.compile(lambda x, p: kernel_dot_product(x, x, kernel, p), fullgraph=True, backend='aot_eager')
            t = torch.tensor(p, dtype=dtype)
            torch.testing.assert_close(kfn(x, t), naive_kernel(x, x, kernel, t.item()), rtol=1e-12, atol=1e-12)
    for dtype in (torch.float32, torch.float64):
        torch._dynamo.reset()
        sfn = torch.compile(lambda s, p: spike_similar_loss(s, labels, 'gaussian', 'bce', p), fullgraph=True, backend='aot_eager')
        sigma = torch.tensor(1.5, dtype=dtype)
        torch.testing.assert_close(sfn(spk, sigma), spike_similar_loss(spk, labels, 'gaussian', 'bce', 1.5), rtol=1e-12, atol=1e-12)
        _raises_in_graph(lambda: sfn(spk, torch.tensor(0., dtype=dtype)), r"`sigma` must be a finite real number > 0")
    with pytest.raises(ValueError, match=r"`sigma` must be a finite real number > 0, got a 0-d torch.float32 tensor holding 0.0"):
        spike_similar_loss(spk, labels, 'gaussian', 'bce', torch.tensor(0.))   # eager: unchanged
    with pytest.raises((TypeError, torch._dynamo.exc.Unsupported), match=r"`sigma` must be a finite real number, got a torch.bool tensor"):
        sfn(spk, torch.tensor(True))

def _autocast_value_and_grad(fn, x):
    x = x.clone().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16): value = fn(x)
    (grad,) = torch.autograd.grad(value, x)
    return value, grad

@pytest.mark.parametrize('kernel,args', [('linear', ()), ('sigmoid', (1.0,)), ('gaussian', (2.0,))])
@pytest.mark.parametrize('loss', ['mse', 'l1', 'bce'])
def test_spike_similar_loss_under_autocast(kernel, args, loss):
    "Under CPU bf16 autocast the similarity loss is computed in float32, eager and compiled (fullgraph); bf16 records get bf16 gradients."
    import torch._functorch.config as functorch_config
    g = torch.Generator().manual_seed(10)
    spikes = (torch.rand(8, 4, 6, generator=g) < 0.4).float()   # exact in bf16
    labels = F.one_hot(torch.randint(0, 3, (8,), generator=g), 3)
    expected = torch.tensor(naive_spike_similar(spikes, labels, kernel, loss, *args), dtype=torch.float64)
    fn = lambda s: spike_similar_loss(s, labels, kernel, loss, *args)
    s32 = spikes.clone().requires_grad_()
    (grad32,) = torch.autograd.grad(fn(s32), s32)   # float32, no autocast
    def check(f, backward_tol):
        # float32 records under autocast: float32 arithmetic, not bf16 matrix products
        value, grad = _autocast_value_and_grad(f, spikes)
        assert value.dtype == grad.dtype == torch.float32
        torch.testing.assert_close(value.double(), expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grad, grad32, rtol=backward_tol, atol=backward_tol * grad32.abs().max().item())
        # bf16 records: the float64 value to the bf16 rounding of the result, a bf16 gradient
        value, grad = _autocast_value_and_grad(f, spikes.bfloat16())
        assert value.dtype == grad.dtype == torch.bfloat16
        torch.testing.assert_close(value.double(), expected, rtol=2 ** -8, atol=1e-6)
        torch.testing.assert_close(grad.float(), grad32, rtol=max(backward_tol, 2 ** -8), atol=backward_tol * grad32.abs().max().item())
    check(fn, 1e-6)
    # PyTorch 2.13 traces a compiled region's backward under the forward's autocast and ignores the inner
    # `autocast(enabled=False)` (pytorch/pytorch#179804): the backward matrix products run in bf16 ...
    torch._dynamo.reset()
    check(torch.compile(fn, fullgraph=True, backend='aot_eager'), 2 ** -5)
    # ... unless the backward is compiled without autocast, as eager runs it
    torch._dynamo.reset()
    with functorch_config.patch(backward_pass_autocast='off'):
        check(torch.compile(fn, fullgraph=True, backend='aot_eager'), 1e-6)
