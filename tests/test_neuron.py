"""The `'torch'` reference loop of the IF/LIF neurons: single steps looped equal one multi-step call, exactly, and both
equal the naive per-element loop of tests/oracles_neuron.py, for every neuron and reset."""
import pytest, torch
from snnlit.neuron import IFNode, LIFNode
from helpers import stable_seed
from oracles import NEURONS, RESETS, naive

@pytest.mark.parametrize('cls,kw', NEURONS, ids=lambda c: str(c))
@pytest.mark.parametrize('v_reset', RESETS)
def test_single_and_multi_step_match_naive_loop(cls, kw, v_reset):
    g = torch.Generator().manual_seed(stable_seed('reference', cls.__name__, str(kw), v_reset))
    x_seq = torch.rand(16, 3, 5, dtype=torch.float64, generator=g) * 3 - 0.5
    multi, single = cls(v_reset=v_reset, step_mode='m', store_v_seq=True, **kw), cls(v_reset=v_reset, **kw)
    s_m = multi(x_seq)
    s_s = torch.stack([single(x) for x in x_seq])
    assert torch.equal(s_m, s_s) and torch.equal(multi.v, single.v)
    v0 = torch.full(x_seq.shape[1:], 0. if v_reset is None else v_reset, dtype=torch.float64)
    zeros = torch.zeros_like(x_seq)
    s_ref, v_ref, _, _ = naive(cls, kw, x_seq, v0, v_reset, False, zeros, zeros, zeros[0])
    assert torch.equal(s_m, s_ref)
    torch.testing.assert_close(multi.v_seq, v_ref, rtol=1e-12, atol=1e-12)
    assert 0 < s_m.sum() < s_m.numel()   # the input makes some, not all, neurons fire

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_state_follows_input_dtype(dtype):
    lif = LIFNode(step_mode='m')
    out = lif(torch.rand(4, 1, 3, dtype=dtype) * 2)
    assert out.dtype == lif.v.dtype == dtype

def test_eval_mode_spikes_without_gradient_on_both_backends():
    torch.manual_seed(4)
    x_seq = torch.rand(10, 3, 8) * 2
    grads = []
    for backend in ('torch', 'fused'):
        n = LIFNode(step_mode='m', backend=backend).eval()
        xg = x_seq.clone().requires_grad_()
        assert not n(xg).requires_grad
        n.v.sum().backward()
        grads.append(xg.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-6)
