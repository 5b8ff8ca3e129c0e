"""The Triton multi-step IF/LIF backend against the naive per-element loop of tests/oracles_neuron.py and the `'torch'` backend.

Runs where the `triton` package is installed: on CUDA tensors when there is a GPU, otherwise in Triton's interpreter
on the CPU (TRITON_INTERPRET=1, set per test), which executes the same kernels with NumPy.
"""
import itertools, os
import pytest, torch

triton = pytest.importorskip('triton')
from snnlit import surrogate as sl
from snnlit.neuron import IFNode, LIFNode
from snnlit.functional import set_backend
from snnlit._fused import fused_config
from snnlit._triton import SURROGATE_CODES, surrogate_code
from helpers import stable_seed
from oracles import NEURONS, RESETS, SURROGATES, naive, run

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'

@pytest.fixture(autouse=True)
def interpreter(monkeypatch):
    if DEVICE == 'cpu': monkeypatch.setenv('TRITON_INTERPRET', '1')

def dev(*tensors): return [t.to(DEVICE) for t in tensors]
def cpu(results): return [None if t is None else t.cpu() for t in results]

@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
@pytest.mark.parametrize('v_reset', RESETS)
@pytest.mark.parametrize('detach_reset', [False, True])
def test_triton_matches_naive_loop(cls, kw, v_reset, detach_reset):
    g = torch.Generator().manual_seed(stable_seed(cls.__name__, str(kw), v_reset, detach_reset))
    x_seq = torch.rand(9, 2, 5, dtype=torch.float64, generator=g) * 2.5 - 0.3
    v0 = torch.rand(2, 5, dtype=torch.float64, generator=g) * 0.6
    grads = [torch.rand(x_seq.shape, generator=g, dtype=torch.float64), torch.rand(x_seq.shape, generator=g, dtype=torch.float64),
             torch.rand(v0.shape, generator=g, dtype=torch.float64)]
    s, vs, vf, gx, gv0 = cpu(run(cls, kw, 'triton', *dev(x_seq, v0), dev(*grads), v_reset=v_reset,
                                 detach_reset=detach_reset, surrogate_function=sl.ATan(alpha=2.0)))
    S, VS, GX, GV0 = naive(cls, kw, x_seq, v0, v_reset, detach_reset, *grads)
    assert torch.equal(s, S) and 0 < S.sum() < S.numel()
    torch.testing.assert_close(vs, VS, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(vf, VS[-1])
    torch.testing.assert_close(gx, GX, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gv0, GV0, rtol=1e-10, atol=1e-12)

@pytest.mark.parametrize('sg', SURROGATES, ids=lambda s: type(s).__name__)
def test_triton_matches_torch_every_surrogate(sg):
    """The surrogates of the code table are computed in the kernel, the straight-through estimator by its own formula
    beforehand (code 0): all match the reference."""
    torch.manual_seed(0)
    x_seq = torch.rand(12, 3, 33) * 2.5 - 0.3
    v0 = torch.rand(3, 33) * 0.5
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    for (cls, kw), v_reset, detach_reset in itertools.product(NEURONS, (0.0, None), (False, True)):
        kws = dict(v_reset=v_reset, detach_reset=detach_reset, surrogate_function=sg)
        ref = run(cls, kw, 'torch', x_seq, v0, grads, **kws)
        out = cpu(run(cls, kw, 'triton', *dev(x_seq, v0), dev(*grads), **kws))
        for a, b in zip(ref[:3], out[:3]): assert torch.equal(a, b)        # identical forward, float32
        for a, b in zip(ref[3:], out[3:]):
            assert torch.isfinite(a).all()
            torch.testing.assert_close(b, a, rtol=2e-5, atol=2e-5 * a.abs().max().item())

# every formula of the table, with hyper-parameters other than the defaults (alpha not a power of two)
TABLE = [sl.PiecewiseQuadratic(alpha=0.7), sl.PiecewiseExp(alpha=1.3), sl.Sigmoid(alpha=3.3), sl.SoftSign(alpha=1.7),
         sl.ATan(alpha=2.5), sl.NonzeroSignLogAbs(alpha=0.9), sl.Erf(alpha=1.3), sl.PiecewiseLeakyReLU(w=0.7, c=0.05),
         sl.FastSigmoid(slope=7.0), sl.Triangular(threshold=0.6), sl.SpikeRateEscape(beta=0.8, slope=3.0)]

@pytest.mark.parametrize('sg', TABLE, ids=lambda s: type(s).__name__)
def test_every_formula_in_the_kernel_float64(sg):
    """Each formula of `snnlit._triton.surrogate_grad` in the float64 backward kernel (its constants, pi/2 alpha and
    1/sqrt(pi), in float64 too) gives the 'torch' backend's gradients to 1e-10."""
    g = torch.Generator().manual_seed(stable_seed('triton every formula', type(sg).__name__))
    x_seq = torch.rand(8, 2, 6, generator=g, dtype=torch.float64) * 2.5 - 0.3
    v0 = torch.rand(2, 6, generator=g, dtype=torch.float64) * 0.5
    grads = [torch.rand(x_seq.shape, generator=g, dtype=torch.float64), torch.rand(x_seq.shape, generator=g, dtype=torch.float64),
             torch.rand(v0.shape, generator=g, dtype=torch.float64)]
    cfg = fused_config(LIFNode(step_mode='m', surrogate_function=sg), x_seq)
    assert surrogate_code(cfg.surrogate_backward) == SURROGATE_CODES[type(sg).kernel_id] != 0   # computed in the kernel
    for (cls, kw), v_reset in zip(NEURONS, (0.0, None, -0.2)):
        kws = dict(v_reset=v_reset, surrogate_function=sg)
        ref = run(cls, kw, 'torch', x_seq, v0, grads, **kws)
        out = cpu(run(cls, kw, 'triton', *dev(x_seq, v0), dev(*grads), **kws))
        for a, b in zip(ref[:3], out[:3]): assert torch.equal(a, b)
        assert 0 < ref[0].sum() < ref[0].numel()
        for a, b in zip(ref[3:], out[3:]): torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)

@pytest.mark.parametrize('dtype', [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize('v_threshold', [1.0, 0.3])
def test_dtypes(dtype, v_threshold):
    "float16 included: every operation is rounded as PyTorch rounds it (bfloat16: see test_bfloat16)."
    torch.manual_seed(2)
    x_seq = (torch.rand(16, 4, 32) * 2 * v_threshold).to(dtype)
    v0 = torch.zeros(4, 32, dtype=dtype)
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    for (cls, kw), v_reset in itertools.product(NEURONS, (0.0, -0.25, None)):
        kws = dict(v_reset=v_reset, v_threshold=v_threshold)
        ref = run(cls, kw, 'torch', x_seq, v0, grads, **kws)
        out = cpu(run(cls, kw, 'triton', *dev(x_seq, v0), dev(*grads), **kws))
        for a, b in zip(ref[:3], out[:3]): assert b.dtype == dtype and torch.equal(a, b), (cls, kw, v_reset)
        tol = dict(rtol=1e-5, atol=1e-5) if dtype != torch.float16 else dict(rtol=0.05, atol=0.05)
        for a, b in zip(ref[3:], out[3:]):
            assert b.dtype == dtype
            torch.testing.assert_close(b.float(), a.float(), **tol)

def test_bfloat16():
    "On a GPU, identical to the reference; Triton's interpreter rounds float32 to bfloat16 its own way, so there: close."
    torch.manual_seed(3)
    x_seq = (torch.rand(16, 4, 64) * 2).bfloat16()
    v0 = torch.zeros(4, 64, dtype=torch.bfloat16)
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    ref = run(LIFNode, dict(tau=2.0), 'torch', x_seq, v0, grads)
    out = cpu(run(LIFNode, dict(tau=2.0), 'triton', *dev(x_seq, v0), dev(*grads)))
    assert all(t.dtype == torch.bfloat16 for t in out)
    if DEVICE == 'cuda': assert torch.equal(ref[0], out[0]) and torch.equal(ref[1], out[1])
    else:   # a spike flipped on the threshold changes that neuron's later membrane: compare on average
        assert (ref[0] != out[0]).float().mean() < 0.02
        assert (out[1].float() - ref[1].float()).abs().mean() < 0.02

@pytest.mark.parametrize('spiking_grad', ['eval', 'detach_reset'])
def test_gradcheck(spiking_grad):
    """float64 gradcheck of the hand-written backward where the gradient is a true derivative: evaluation mode (no
    gradient through the spike) for every output, and v_seq / v with `detach_reset` in training mode."""
    torch.manual_seed(4)
    x_seq = (torch.rand(6, 1, 5, dtype=torch.float64) * 2).to(DEVICE).requires_grad_()
    v0 = (torch.rand(1, 5, dtype=torch.float64) * 0.5).to(DEVICE).requires_grad_()
    for (cls, kw), v_reset in itertools.product(NEURONS, (0.0, 0.2, None)):
        n = cls(step_mode='m', store_v_seq=True, backend='triton', v_reset=v_reset, detach_reset=True, **kw)
        if spiking_grad == 'eval': n.eval()
        def f(x, v):
            n.reset(); n.v = v * 1
            s = n(x)
            return n.v_seq, n.v
        assert torch.autograd.gradcheck(f, (x_seq, v0))

def test_shapes_contiguity_and_no_mutation():
    "4-D input, a non-contiguous input, batch 1, T = 1, an empty batch; the caller's tensors are left alone."
    torch.manual_seed(5)
    cases = [torch.rand(5, 2, 3, 4), torch.rand(4, 8, 6).transpose(1, 2), torch.rand(7, 1, 3), torch.rand(1, 2, 3),
             torch.rand(3, 0, 4)]
    for x_seq in cases:
        x_seq = (x_seq * 2).to(DEVICE)
        copy = x_seq.clone()
        ref, tri = LIFNode(step_mode='m', store_v_seq=True), LIFNode(step_mode='m', store_v_seq=True, backend='triton')
        xr, xt = x_seq.cpu().clone().requires_grad_(), x_seq.clone().requires_grad_()
        sr, st = ref(xr), tri(xt)
        assert torch.equal(sr, st.cpu()) and torch.equal(ref.v_seq, tri.v_seq.cpu()) and st.shape == x_seq.shape
        sr.sum().backward(); st.sum().backward()
        torch.testing.assert_close(xt.grad.cpu(), xr.grad, rtol=1e-5, atol=1e-5)
        assert torch.equal(x_seq, copy)

def test_backward_twice_and_single_outputs():
    torch.manual_seed(6)
    x_seq = (torch.rand(8, 2, 5, dtype=torch.float64) * 2).to(DEVICE)
    for which in range(3):
        grads = []
        for backend in ('torch', 'triton'):
            n = LIFNode(step_mode='m', store_v_seq=True, backend=backend)
            xg = x_seq.clone().requires_grad_()
            s = n(xg)
            out = (s, n.v_seq, n.v)[which].sum()
            g1, = torch.autograd.grad(out, xg, retain_graph=True)
            g2, = torch.autograd.grad(out, xg)
            assert torch.equal(g1, g2)                      # the saved tensors survive a backward pass
            grads.append(g1)
        torch.testing.assert_close(grads[1], grads[0], rtol=1e-12, atol=1e-12)

def test_fallbacks_errors_and_selection(monkeypatch):
    torch.manual_seed(7)
    x_seq = (torch.rand(6, 3, 4) * 2).to(DEVICE)
    step = lambda x: (x >= 0).to(x.dtype)                   # an arbitrary callable: the reference loop
    assert torch.equal(LIFNode(step_mode='m', backend='triton', surrogate_function=step)(x_seq),
                       LIFNode(step_mode='m', surrogate_function=step)(x_seq))
    smooth = dict(surrogate_function=sl.Sigmoid(spiking=False), store_v_seq=True)   # spiking=False: the fused path
    a, b = LIFNode(step_mode='m', backend='triton', **smooth), LIFNode(step_mode='m', backend='fused', **smooth)
    assert torch.equal(a(x_seq), b(x_seq)) and torch.equal(a.v_seq, b.v_seq)
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), IFNode(step_mode='m'), LIFNode(step_mode='m'))
    set_backend(net, 'triton')
    assert (net[1].backend, net[2].backend) == ('triton', 'triton')
    if DEVICE == 'cpu':
        monkeypatch.delenv('TRITON_INTERPRET')
        with pytest.raises(ValueError, match="backend='triton' runs on CUDA tensors, got a tensor on cpu"):
            LIFNode(step_mode='m', backend='triton')(x_seq)
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'triton' else real(name, *a))
    with pytest.raises(ValueError, match="backend='triton' needs the `triton` package"):
        LIFNode(backend='triton')

def test_compile_traces_the_reference_loop():
    "Under torch.compile the backend hands over to the loop, which traces into one graph with eager's results."
    torch._dynamo.reset()
    x = torch.rand(6, 3, 5, dtype=torch.float64) * 2
    outs = []
    for compiled in (False, True):
        n = LIFNode(step_mode='m', backend='triton')
        fn = torch.compile(n, fullgraph=True, backend='aot_eager') if compiled else n
        xg = x.clone().requires_grad_()
        s = fn(xg); s.sum().backward()
        outs.append((s.detach(), xg.grad))
    assert torch.equal(outs[0][0], outs[1][0])
    torch.testing.assert_close(outs[1][1], outs[0][1], rtol=1e-12, atol=1e-12)

@pytest.mark.parametrize('v_reset', [0.0, None])
def test_non_finite_input_matches_fused(v_reset):
    "±inf and NaN inputs: the reference's spikes and membranes (a spike from +inf resets), the fused backend's gradients."
    import math
    x_seq = torch.rand(5, 2, 3, generator=torch.Generator().manual_seed(stable_seed('triton nonfinite', v_reset)), dtype=torch.float64) * 2
    x_seq[1, 0, 0], x_seq[2, 1, 1], x_seq[3, 0, 2] = math.inf, -math.inf, math.nan
    outs = []
    for backend in ('torch', 'fused', 'triton'):
        n = LIFNode(step_mode='m', store_v_seq=True, backend=backend, v_reset=v_reset)
        xg = (x_seq.to(DEVICE) if backend == 'triton' else x_seq).clone().requires_grad_()
        s = n(xg); s.sum().backward()
        outs.append(cpu((s.detach(), n.v_seq.detach(), xg.grad)))
    for other in outs[1:]:
        assert torch.equal(outs[0][0], other[0])
        assert torch.equal(outs[0][1].isnan(), other[1].isnan()) and torch.equal(outs[0][1].nan_to_num(), other[1].nan_to_num())
    torch.testing.assert_close(outs[2][2], outs[1][2], equal_nan=True)

def test_backward_through_finished_sequence_names_reset_net():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), LIFNode(step_mode='m', backend='triton')).to(DEVICE)
    x1, x2 = torch.rand(5, 2, 3, device=DEVICE), torch.rand(5, 2, 3, device=DEVICE)
    net(x1).sum().backward()
    with pytest.raises(RuntimeError, match=r"call `snnlit.functional.reset_net\(net\)` between sequences"):
        net(x2)

@pytest.mark.parametrize('mode', ['eval', 'train'])
def test_membrane_carried_between_calls(mode):
    "The second call starts from the first call's membrane, whose gradient flows back into the first call."
    g = torch.Generator().manual_seed(stable_seed('triton carried', mode))
    x_seq = torch.rand(6, 1, 4, generator=g, dtype=torch.float64) * 1.6
    g_s, g_v = torch.rand(x_seq.shape, generator=g, dtype=torch.float64), torch.rand(1, 4, generator=g, dtype=torch.float64)
    outs = []
    for backend in ('torch', 'triton'):
        n = LIFNode(step_mode='m', backend=backend).double()
        if mode == 'eval': n.eval()
        xg = (x_seq.to(DEVICE) if backend == 'triton' else x_seq).clone().requires_grad_()
        first = n(xg[:3])
        spikes = torch.cat([first, n(xg[3:])])
        if mode == 'eval':
            assert not first.requires_grad                  # no gradient through the spikes, only through v
            n.v.backward(g_v.to(xg.device))
        else: torch.autograd.backward([spikes, n.v], [g_s.to(xg.device), g_v.to(xg.device)])
        outs.append(cpu((spikes.detach(), xg.grad)))
    assert torch.equal(outs[0][0], outs[1][0])
    torch.testing.assert_close(outs[1][1], outs[0][1], rtol=1e-12, atol=1e-12)

def test_interpreted_restores_the_environment():
    from snnlit._triton import interpreted, interpreting
    before = os.environ.get('TRITON_INTERPRET')
    with pytest.raises(KeyError):
        with interpreted(False):
            assert not interpreting()
            raise KeyError('inside')
    assert os.environ.get('TRITON_INTERPRET') == before

@pytest.mark.skipif(DEVICE == 'cuda', reason="the interpreter's own case")
def test_kernels_imported_under_the_interpreter_call_compiled_helpers():
    """neuron_triton imported with TRITON_INTERPRET=1 (its kernels interpreted at definition) calls `surrogate_grad`
    from snnlit._triton, imported before without it (a compiled function): launch rebuilds both."""
    import subprocess, sys
    code = ("import os, torch, snnlit._triton\n"
            "os.environ['TRITON_INTERPRET'] = '1'\n"
            "from snnlit.neuron import LIFNode\n"
            "x = torch.rand(4, 2, 3, dtype=torch.float64, requires_grad=True)\n"
            "LIFNode(step_mode='m', backend='triton')(x * 3).sum().backward()\n"
            "assert x.grad.abs().sum() > 0\n")
    env = {k: v for k, v in os.environ.items() if k != 'TRITON_INTERPRET'}
    r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
