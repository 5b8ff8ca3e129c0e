"""The fused multi-step IF/LIF backend against the `'torch'` reference and the naive per-element loop of
tests/oracles_neuron.py (written from the equations, independently of both backends).
"""
import itertools, math
import pytest, torch
from snnlit import surrogate as sl
from snnlit.neuron import IFNode, LIFNode, BaseNode
from snnlit.functional import set_backend
from helpers import stable_seed, assert_close
from oracles import NEURONS, RESETS, SURROGATES, naive, run

@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
@pytest.mark.parametrize('v_reset', RESETS)
@pytest.mark.parametrize('detach_reset', [False, True])
def test_fused_matches_naive_loop(cls, kw, v_reset, detach_reset):
    g = torch.Generator().manual_seed(stable_seed(cls.__name__, str(kw), v_reset, detach_reset))
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
    import contextlib
    import snnlit._fused as fm
    torch.manual_seed(1)
    x_seq, v0 = torch.rand(10, 4, 6, dtype=torch.float64) * 2, torch.rand(4, 6, dtype=torch.float64)
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    outs = [run(LIFNode, dict(tau=2.0), 'torch', x_seq, v0, grads)]
    for block in (24, 72, 10 ** 9):
        monkeypatch.setattr(fm, 'BACKWARD_BLOCK', block)
        with (contextlib.nullcontext() if in_place else fm.reusable_graphs()):
            outs.append(run(LIFNode, dict(tau=2.0), 'fused', x_seq, v0, grads))
    for o in outs[1:]:
        for a, b in zip(outs[0], o): torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)

@pytest.mark.parametrize('tau', [3.0, 256.0, 300.0])
@pytest.mark.parametrize('v_reset,detach_reset', [(0.0, False), (-0.2, False), (None, False), (0.0, True)])
def test_k_x_folded_and_not(tau, v_reset, detach_reset):
    "decay_input LIF with k_x = 1/tau folded into the recurrence (tau <= FOLD_MAX) or applied per block: the reference's gradients."
    import snnlit._fused as fm
    assert (tau <= fm.FOLD_MAX) == (tau != 300.0)
    g = torch.Generator().manual_seed(stable_seed('fold', tau, v_reset, detach_reset))
    x_seq = torch.rand(9, 2, 5, dtype=torch.float64, generator=g) * 2.5 * tau ** 0.5
    v0 = torch.rand(2, 5, dtype=torch.float64, generator=g) * 0.6
    grads = tuple(torch.rand(shape, generator=g, dtype=torch.float64) for shape in (x_seq.shape, x_seq.shape, v0.shape))
    kws = dict(v_reset=v_reset, detach_reset=detach_reset, surrogate_function=sl.ATan(alpha=2.0))
    ref, fused = (run(LIFNode, dict(tau=tau), b, x_seq, v0, grads, **kws) for b in ('torch', 'fused'))
    assert 0 < ref[0].sum() < ref[0].numel()
    for a, b in zip(ref, fused): torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)

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

def test_gradcheck_smooth_primitive():
    from snnlit._fused import reusable_graphs
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
        with reusable_graphs(): assert torch.autograd.gradcheck(f, (x_seq, v0))   # gradcheck reuses the graph

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
    with pytest.raises(RuntimeError, match=r"call `snnlit.functional.reset_net\(net\)` between sequences .*use backend='torch'"):
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

# ---------------------------------------------------------------------------------------------------------------
# bad inputs where the backends must agree (the per-name case table is tests/bad_inputs/neuron.py)

@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
@pytest.mark.parametrize('v_reset', [0.0, -0.5, None])
@pytest.mark.parametrize('value', [math.inf, -math.inf, math.nan])
def test_non_finite_input_backends_agree(cls, kw, v_reset, value):
    "±inf and NaN: identical forward (a spike from +inf resets to v_reset); gradients NaN at the same places, else close."
    x_seq = torch.rand(6, 2, 3, generator=torch.Generator().manual_seed(stable_seed('nonfinite', value)), dtype=torch.float64) * 2
    x_seq[2, 0, 1] = value
    grads = (torch.rand_like(x_seq), None, None)
    outs = []
    for backend in ('torch', 'fused'):
        n = cls(step_mode='m', store_v_seq=True, backend=backend, v_reset=v_reset, **kw)
        xg = x_seq.clone().requires_grad_()
        s = n(xg); s.backward(grads[0])
        outs.append((s.detach(), n.v_seq.detach(), xg.grad))
    (s0, v0, g0), (s1, v1, g1) = outs
    assert torch.equal(s0, s1) and torch.equal(v0.isnan(), v1.isnan()) and torch.equal(v0.nan_to_num(), v1.nan_to_num())
    assert_close(g1, g0)
    if value == math.inf and v_reset is not None:            # fired and reset: finite from there on, gradients too
        assert s0[2, 0, 1] == 1 and v0[2, 0, 1] == v_reset and torch.isfinite(v0[2:]).all() and torch.isfinite(g0).all()
    assert torch.isfinite(v0[:2]).all() and torch.isfinite(v0[:, 1]).all()   # other neurons, earlier steps untouched

@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize('v_threshold,v_reset', [(math.inf, 0.0), (math.inf, -0.5), (1.0, -0.5), (0.3, 0.0), (0.3, None)])
def test_non_finite_charges_every_dtype(cls, kw, dtype, v_threshold, v_reset):
    "±inf, NaN, overflowing and near-threshold charges in every dtype, an infinite threshold too: identical forwards."
    g = torch.Generator().manual_seed(stable_seed('nonfinite-dtypes', str(dtype), v_threshold, v_reset))
    vals = torch.tensor([1.0, math.inf, -math.inf, math.nan, 6e4, 0.3, 0.29, -2.0, 0.0])
    x_seq = (vals * (torch.rand(5, 2, 1, generator=g) + 0.5)).to(dtype)
    outs = []
    for backend in ('torch', 'fused'):
        n = cls(step_mode='m', store_v_seq=True, backend=backend, v_threshold=v_threshold, v_reset=v_reset, **kw)
        outs.append((n(x_seq), n.v_seq, n.v))
    for a, b in zip(*outs):
        assert b.dtype == dtype and torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())
    assert outs[0][0].sum() > 0 or v_threshold == math.inf

@pytest.mark.parametrize('dtype,tau', [(torch.float32, 1e39), (torch.float32, 1e30), (torch.float16, 1e5), (torch.float64, 1e300)])
def test_huge_tau_gradients_finite(dtype, tau):
    "LIF with tau beyond the dtype's range: no inf/NaN gradient (no division by 1/tau in backward), as the reference."
    x_seq = (torch.rand(5, 2, 4, generator=torch.Generator().manual_seed(stable_seed('tau', tau))) * 2).to(dtype)
    v0 = torch.rand(2, 4).to(dtype)
    grads = (torch.rand_like(x_seq), torch.rand_like(x_seq), torch.rand_like(v0))
    ref, fused = run(LIFNode, dict(tau=tau), 'torch', x_seq, v0, grads), run(LIFNode, dict(tau=tau), 'fused', x_seq, v0, grads)
    for a, b in zip(ref, fused):
        assert torch.isfinite(b).all()
        assert b.dtype == dtype                               # float16: rounded in another order, a looser tolerance
        assert_close(b, a, **(dict(rtol=1e-2, atol=1e-2) if dtype == torch.float16 else {}))

@pytest.mark.parametrize('backend', ['torch', 'fused'])
@pytest.mark.parametrize('step_mode', ['s', 'm'])
def test_backward_through_finished_sequence_names_reset_net(backend, step_mode):
    "Forgetting reset_net between batches: the second forward raises with the fix, instead of torch's retain_graph advice."
    if backend == 'fused' and step_mode == 's': pytest.skip('the fused backend is multi-step')
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), LIFNode(step_mode=step_mode, backend=backend))
    run_seq = lambda x: net(x) if step_mode == 'm' else torch.stack([net(x_t) for x_t in x])
    x1, x2 = torch.rand(5, 2, 3), torch.rand(5, 2, 3)
    run_seq(x1).sum().backward()
    with pytest.raises(RuntimeError, match=r"call `snnlit.functional.reset_net\(net\)` between sequences.*detach_net"):
        run_seq(x2).sum().backward()
    from snnlit.functional import reset_net, detach_net
    for fix in (reset_net, detach_net):                       # either fix makes the next batch work
        reset_net(net); net.zero_grad(); run_seq(x1).sum().backward(); fix(net)
        run_seq(x2).sum().backward()
        assert torch.isfinite(net[0].weight.grad).all()
    reset_net(net)
    if backend == 'torch':                                    # retain_graph=True: the carried graph is still there
        out = run_seq(x1).sum(); out.backward(retain_graph=True)
        run_seq(x2).sum().backward()
    reset_net(net)
    out = run_seq(x1); out2 = run_seq(x2)                      # one backward over two carried calls: legitimate
    (out.sum() + out2.sum()).backward()

def test_step_mode_switch_mid_sequence_continues_the_sequence():
    "The membrane is [B, ...] in both modes, so switching step_mode mid-sequence continues the same sequence."
    x_seq = torch.rand(8, 2, 3, generator=torch.Generator().manual_seed(stable_seed('switch')), dtype=torch.float64) * 2
    for backend in ('torch', 'fused'):
        whole = LIFNode(step_mode='m', backend=backend)(x_seq)
        n = LIFNode(backend=backend)
        first = torch.stack([n(x) for x in x_seq[:3]])
        n.step_mode = 'm'
        assert torch.equal(torch.cat([first, n(x_seq[3:])]), whole)   # the same arithmetic in the same order
        n.step_mode = 's'
        with pytest.raises(ValueError, match=r"reset_net.*if you switched `step_mode` \(now 's'\)"): n(x_seq)

def test_per_sample_thresholds_honoured_by_fused():
    "set_threshold_margin gives v_threshold a [B, C] tensor: the fused backend runs the loop, which broadcasts it."
    from snnlit.functional import set_threshold_margin
    x_seq = torch.rand(6, 4, 3, generator=torch.Generator().manual_seed(stable_seed('margin'))) * 2
    labels = torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 2]), 3).float()
    outs = []
    for backend in ('torch', 'fused'):
        n = LIFNode(step_mode='m', backend=backend)
        set_threshold_margin(n, labels, threshold0=0.8, threshold1=1.3)
        outs.append(n(x_seq))
    assert torch.equal(outs[0], outs[1])
    assert not torch.equal(outs[0], LIFNode(step_mode='m')(x_seq))

@pytest.mark.parametrize('backend', ['torch', 'fused'])
def test_empty_sequence(backend):
    "T = 0: an empty spike sequence, the membrane left as it was; a membrane of another shape still refused."
    n = LIFNode(step_mode='m', backend=backend, store_v_seq=True)
    s = n(torch.rand(0, 2, 3))
    assert s.shape == (0, 2, 3) and n.v_seq.shape == (0, 2, 3) and n.v == 0.
    n(torch.rand(2, 2, 3)); v = n.v.clone()
    assert n(torch.rand(0, 2, 3)).shape == (0, 2, 3) and torch.equal(n.v, v)
    with pytest.raises(ValueError, match='reset_net'): n(torch.rand(0, 5, 3))
