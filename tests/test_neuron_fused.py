"""The fused multi-step IF/LIF backend against the `'torch'` reference and a naive per-element loop.

The naive loop below is written from the equations (charge, fire, reset, and the BPTT recursion by hand,
one scalar at a time), independently of both backends.
"""
import itertools, math
import pytest, torch
from snnlit import surrogate as sl
from snnlit.neuron import IFNode, LIFNode, BaseNode
from snnlit.functional import set_backend

NEURONS = [(IFNode, {}), (LIFNode, dict(tau=2.0)), (LIFNode, dict(tau=3.0, decay_input=False))]
RESETS = [0.0, -0.2, 0.3, None]

def charge_coeffs(cls, kw):
    "k_v, k_x for H = k_v V + k_x X + c (c unused by the gradient)."
    if cls is IFNode: return 1.0, 1.0
    tau = kw['tau']
    return 1 - 1 / tau, (1 / tau if kw.get('decay_input', True) else 1.0)

def naive(cls, kw, x_seq, v0, v_reset, detach_reset, gs, gvs, gvf, vth=1.0, alpha=2.0):
    "Scalar forward and hand-derived backward for the ATan surrogate; returns spikes, v_seq, grad_x, grad_v0."
    T = x_seq.shape[0]
    X, V0 = x_seq.reshape(T, -1).tolist(), v0.reshape(-1).tolist()
    GS, GVS, GVF = gs.reshape(T, -1).tolist(), gvs.reshape(T, -1).tolist(), gvf.reshape(-1).tolist()
    n = len(V0)
    k_v, k_x = charge_coeffs(cls, kw)
    rest = 0.0 if v_reset is None else v_reset
    S = [[0.0] * n for _ in range(T)]; VS = [[0.0] * n for _ in range(T)]
    GX = [[0.0] * n for _ in range(T)]; GV0 = [0.0] * n
    dg = lambda u: alpha / 2 / (1 + (math.pi / 2 * alpha * u) ** 2)
    for i in range(n):
        v, H = V0[i], []
        for t in range(T):
            x = X[t][i]
            if cls is IFNode: h = v + x
            elif kw.get('decay_input', True): h = v + (x - (v - rest)) / kw['tau']
            else: h = v - (v - rest) / kw['tau'] + x
            s = 1.0 if h - vth >= 0 else 0.0
            v = (h - s * vth) if v_reset is None else (h * (1 - s) + v_reset * s)
            S[t][i], VS[t][i] = s, v
            H.append(h)
        gv = GVF[i]
        for t in reversed(range(T)):
            gv += GVS[t][i]
            sg = dg(H[t] - vth)
            if v_reset is None: d = 1 - (0 if detach_reset else vth * sg)
            else: d = 1 - S[t][i] + (0 if detach_reset else (v_reset - H[t]) * sg)
            gh = sg * GS[t][i] + d * gv
            GX[t][i] = k_x * gh
            gv = k_v * gh
        GV0[i] = gv
    as_t = lambda a, shape: torch.tensor(a, dtype=torch.float64).reshape(shape)
    return (as_t(S, x_seq.shape), as_t(VS, x_seq.shape), as_t(GX, x_seq.shape), as_t(GV0, v0.shape))

def run(cls, kw, backend, x_seq, v0, grads, **node_kw):
    n = cls(step_mode='m', store_v_seq=True, backend=backend, **kw, **node_kw)
    xg, v0g = x_seq.clone().requires_grad_(), v0.clone().requires_grad_()
    n.v = v0g * 1
    s = n(xg)
    torch.autograd.backward([s, n.v_seq, n.v], list(grads))
    return s.detach(), n.v_seq.detach(), n.v.detach(), xg.grad, v0g.grad

@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
@pytest.mark.parametrize('v_reset', RESETS)
@pytest.mark.parametrize('detach_reset', [False, True])
def test_fused_matches_naive_loop(cls, kw, v_reset, detach_reset):
    g = torch.Generator().manual_seed(hash((cls.__name__, str(kw), v_reset, detach_reset)) % 2**31)
    x_seq = torch.rand(9, 2, 5, dtype=torch.float64, generator=g) * 2.5 - 0.3
    v0 = torch.rand(2, 5, dtype=torch.float64, generator=g) * 0.6
    grads = (torch.rand(x_seq.shape, generator=g, dtype=torch.float64), torch.rand(x_seq.shape, generator=g, dtype=torch.float64),
             torch.rand(v0.shape, generator=g, dtype=torch.float64))
    s, vs, vf, gx, gv0 = run(cls, kw, 'fused', x_seq, v0, grads, v_reset=v_reset, detach_reset=detach_reset,
                             surrogate_function=sl.ATan(alpha=2.0))
    S, VS, GX, GV0 = naive(cls, kw, x_seq, v0, v_reset, detach_reset, *grads)
    assert torch.equal(s, S)
    assert 0 < S.sum() < S.numel()
    torch.testing.assert_close(vs, VS, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(vf, VS[-1])
    torch.testing.assert_close(gx, GX, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gv0, GV0, rtol=1e-10, atol=1e-12)

SURROGATES = [sl.PiecewiseQuadratic(), sl.PiecewiseExp(), sl.Sigmoid(), sl.SoftSign(), sl.ATan(), sl.NonzeroSignLogAbs(),
              sl.Erf(), sl.PiecewiseLeakyReLU(), sl.FastSigmoid(), sl.Triangular(), sl.StraightThroughEstimator(),
              sl.SpikeRateEscape()]

@pytest.mark.parametrize('sg', SURROGATES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
def test_fused_matches_torch_every_surrogate(sg, cls, kw):
    torch.manual_seed(0)
    x_seq = torch.rand(12, 3, 33) * 2.5 - 0.3    # short: IF with a steep surrogate multiplies gradients by ~25 per step
    v0 = torch.rand(3, 33) * 0.5
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    for v_reset, detach_reset in itertools.product((0.0, None), (False, True)):
        kws = dict(v_reset=v_reset, detach_reset=detach_reset, surrogate_function=sg)
        ref, fused = run(cls, kw, 'torch', x_seq, v0, grads, **kws), run(cls, kw, 'fused', x_seq, v0, grads, **kws)
        for a, b in zip(ref[:3], fused[:3]): assert torch.equal(a, b)      # identical forward, float32
        for a, b in zip(ref[3:], fused[3:]):
            assert torch.isfinite(a).all()
            torch.testing.assert_close(b, a, rtol=2e-5, atol=2e-5 * a.abs().max().item())

@pytest.mark.parametrize('in_place', [True, False])
def test_backward_blocks(monkeypatch, in_place):
    "Blocks of 1, 3 and all time steps, gradient into the saved buffer or a fresh one: the same gradients."
    import snnlit.neuron as nm
    torch.manual_seed(1)
    x_seq, v0 = torch.rand(10, 4, 6, dtype=torch.float64) * 2, torch.rand(4, 6, dtype=torch.float64)
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    monkeypatch.setattr(nm, '_FUSED_GRADIENT_IN_SAVED', in_place)
    outs = [run(LIFNode, dict(tau=2.0), 'torch', x_seq, v0, grads)]
    for block in (24, 72, 10 ** 9):
        monkeypatch.setattr(nm, '_FUSED_BLOCK', block)
        outs.append(run(LIFNode, dict(tau=2.0), 'fused', x_seq, v0, grads))
    for o in outs[1:]:
        for a, b in zip(outs[0], o): torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize('v_threshold', [1.0, 0.3])
def test_dtypes(dtype, v_threshold):
    torch.manual_seed(2)
    x_seq = (torch.rand(16, 4, 32) * 2 * v_threshold).to(dtype)
    v0 = torch.zeros(4, 32, dtype=dtype)
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    for cls, kw in NEURONS:
        for v_reset in (0.0, -0.1, None):
            kws = dict(v_reset=v_reset, v_threshold=v_threshold)
            ref, fused = run(cls, kw, 'torch', x_seq, v0, grads, **kws), run(cls, kw, 'fused', x_seq, v0, grads, **kws)
            for a, b in zip(ref[:3], fused[:3]):
                assert a.dtype == b.dtype == dtype and torch.equal(a, b)
            tol = dict(rtol=1e-5, atol=1e-5) if dtype in (torch.float32, torch.float64) else dict(rtol=0.05, atol=0.05)
            for a, b in zip(ref[3:], fused[3:]):
                assert b.dtype == dtype
                torch.testing.assert_close(b.float(), a.float(), **tol)

def test_gradcheck_smooth_primitive(monkeypatch):
    import snnlit.neuron as nm
    monkeypatch.setattr(nm, '_FUSED_GRADIENT_IN_SAVED', False)   # gradcheck reuses the graph
    torch.manual_seed(3)
    x_seq = (torch.rand(6, 1, 4, dtype=torch.float64) * 2).requires_grad_()
    v0 = (torch.rand(1, 4, dtype=torch.float64) * 0.5).requires_grad_()
    for (cls, kw), v_reset in itertools.product(NEURONS, (0.0, 0.2, None)):
        n = cls(step_mode='m', store_v_seq=True, backend='fused', v_reset=v_reset,
                surrogate_function=sl.Sigmoid(alpha=2.0, spiking=False), **kw)
        def f(x, v):
            n.reset(); n.v = v * 1
            s = n(x)
            return s, n.v_seq, n.v
        assert torch.autograd.gradcheck(f, (x_seq, v0))

def test_gradient_to_single_outputs_and_no_v0_graph():
    "Only spikes, only v_seq, only the final v: each matches the reference; a plain v0 gets no gradient."
    torch.manual_seed(4)
    x_seq = torch.rand(12, 1, 7, dtype=torch.float64) * 2     # batch size 1
    for which in range(3):
        grads = []
        for backend in ('torch', 'fused'):
            n = LIFNode(step_mode='m', store_v_seq=True, backend=backend)
            xg = x_seq.clone().requires_grad_()
            s = n(xg)
            (s, n.v_seq, n.v)[which].sum().backward()
            assert not n.v.requires_grad or n.v.grad_fn is not None
            grads.append(xg.grad)
        torch.testing.assert_close(grads[1], grads[0], rtol=1e-12, atol=1e-12)

def test_carried_state_over_two_calls():
    "Without a reset, the second call's initial v carries the first call's graph: gradients reach both inputs."
    torch.manual_seed(5)
    a, b = torch.rand(5, 2, 3, dtype=torch.float64) * 2, torch.rand(5, 2, 3, dtype=torch.float64) * 2
    outs = []
    for backend in ('torch', 'fused'):
        n = LIFNode(step_mode='m', backend=backend)
        ag, bg = a.clone().requires_grad_(), b.clone().requires_grad_()
        (n(ag).sum() + 2 * n(bg).sum() + n.v.sum()).backward()
        outs.append((ag.grad, bg.grad))
    for x, y in zip(*outs): torch.testing.assert_close(y, x, rtol=1e-12, atol=1e-12)

def test_no_in_place_changes_and_non_contiguous_input():
    torch.manual_seed(6)
    base = torch.rand(4, 8, 6) * 2
    x_seq = base.transpose(1, 2)                  # [T, 6, 8], not contiguous
    v0 = torch.rand(6, 8)
    x_copy, v0_copy = x_seq.clone(), v0.clone()
    outs = []
    for backend in ('torch', 'fused'):
        n = IFNode(step_mode='m', backend=backend); n.v = v0
        outs.append((n(x_seq), n.v))
    assert torch.equal(x_seq, x_copy) and torch.equal(v0, v0_copy)
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1], outs[1][1])

def test_second_backward_refused_and_no_double_backward():
    x = (torch.rand(5, 2, 3) * 2).requires_grad_()
    s = LIFNode(step_mode='m', backend='fused')(x)
    g1, = torch.autograd.grad(s.sum(), x, retain_graph=True)
    with pytest.raises(RuntimeError, match="its graph can be backpropagated through once; use backend='torch'"):
        torch.autograd.grad(s.sum(), x, retain_graph=True)
    s = LIFNode(step_mode='m', backend='fused')(x)
    g, = torch.autograd.grad(s.sum(), x, create_graph=True)
    assert not g.requires_grad                          # the hand-written backward is not differentiable
    s = LIFNode(step_mode='m', backend='fused')(x)
    w = torch.ones_like(s, requires_grad=True)          # an incoming gradient with a graph: double backward raises
    g, = torch.autograd.grad(s, x, w, create_graph=True)
    with pytest.raises(RuntimeError, match='once_differentiable'):
        g.sum().backward()

def test_inference_paths():
    torch.manual_seed(7)
    x_seq = torch.rand(6, 3, 4) * 2
    for backend in ('torch', 'fused'):
        with torch.no_grad(): s = LIFNode(step_mode='m', backend=backend)(x_seq.requires_grad_())
        assert not s.requires_grad
    ref = LIFNode(step_mode='m', store_v_seq=True)
    fused = LIFNode(step_mode='m', store_v_seq=True, backend='fused')
    assert torch.equal(ref(x_seq), fused(x_seq)) and torch.equal(ref.v_seq, fused.v_seq)

def test_fallbacks_and_backend_selection():
    torch.manual_seed(8)
    x_seq = torch.rand(6, 3, 4) * 2
    step = lambda x: (x >= 0).to(x.dtype)
    assert torch.equal(LIFNode(step_mode='m', backend='fused', surrogate_function=step)(x_seq),
                       LIFNode(step_mode='m', surrogate_function=step)(x_seq))
    n = LIFNode(step_mode='m', backend='fused'); n(x_seq.double()); n.reset()   # fresh state takes the new dtype
    n.v = torch.zeros(3, 4, dtype=torch.float64)                                 # mismatched dtype: reference loop
    assert n(x_seq).dtype == torch.float64
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), IFNode(step_mode='m'), LIFNode(step_mode='m'))
    set_backend(net, 'fused')
    assert (net[1].backend, net[2].backend) == ('fused', 'fused')
    assert IFNode().backend == 'torch'                                            # the default stays the reference
    class Custom(LIFNode):
        def neuronal_fire(self): return self.surrogate_function(self.v - 2 * self.v_threshold)
    assert Custom().supported_backends == ('torch',)
    with pytest.raises(ValueError, match="`backend` must be one of \\('torch',\\) for Custom, got 'fused'"):
        Custom(backend='fused')
    from snnlit.online import OTTTLIFNode
    assert OTTTLIFNode().supported_backends == ('torch',)

def test_compiles_without_graph_break():
    torch._dynamo.reset()
    x = torch.rand(8, 3, 5, dtype=torch.float64) * 2
    outs = []
    for compiled in (False, True):
        n = LIFNode(step_mode='m', backend='fused')
        def f(x_seq):
            n.reset()
            return n(x_seq)
        fn = torch.compile(f, backend='aot_eager', fullgraph=True) if compiled else f
        xg = x.clone().requires_grad_()
        s = fn(xg); s.sum().backward()
        outs.append((s.detach(), xg.grad))
    assert torch.equal(outs[0][0], outs[1][0])
    torch.testing.assert_close(outs[0][1], outs[1][1])
