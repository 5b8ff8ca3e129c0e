"""Surrogates and neurons trace into one graph under torch.compile (no graph break) and give eager's answers.

The `aot_eager` backend runs dynamo and AOTAutograd, where graph breaks and autograd.Function problems
surface, without spending minutes on C++ code generation.
"""
import pytest, torch
from snnlit import surrogate as sl
from snnlit.neuron import IFNode, LIFNode

SURROGATES = [sl.PiecewiseQuadratic, sl.PiecewiseExp, sl.Sigmoid, sl.SoftSign, sl.ATan, sl.NonzeroSignLogAbs, sl.Erf,
              sl.PiecewiseLeakyReLU, sl.FastSigmoid, sl.Triangular, sl.StraightThroughEstimator, sl.SpikeRateEscape]

@pytest.mark.parametrize('cls', SURROGATES, ids=lambda c: c.__name__)
def test_surrogate_compiles_without_graph_break(cls):
    torch._dynamo.reset()
    sg = cls()
    x = torch.randn(257, dtype=torch.float64)
    grads = []
    for fn in (sg, torch.compile(sg, backend='aot_eager', fullgraph=True)):
        xg = x.clone().requires_grad_()
        y = fn(xg)
        y.backward(torch.linspace(0, 1, 257, dtype=torch.float64))
        grads.append((y.detach(), xg.grad))
    assert torch.equal(grads[0][0], grads[1][0])   # spikes: the same comparison x >= 0 on the same x, exactly 0/1
    torch.testing.assert_close(grads[0][1], grads[1][1])

@pytest.mark.parametrize('cls,kw', [(IFNode, {}), (LIFNode, dict(tau=2.0)), (LIFNode, dict(v_reset=None, decay_input=False))])
def test_multi_step_neuron_compiles_without_graph_break(cls, kw):
    torch._dynamo.reset()
    torch.manual_seed(0)
    x = torch.rand(8, 3, 5, dtype=torch.float64) * 2
    outs = []
    for compiled in (False, True):
        neuron = cls(step_mode='m', **kw)
        def run(x_seq):
            neuron.reset()
            return neuron(x_seq)
        fn = torch.compile(run, backend='aot_eager', fullgraph=True) if compiled else run
        xg = x.clone().requires_grad_()
        s = fn(xg)
        s.sum().backward()
        outs.append((s.detach(), xg.grad))
    # the 'torch' backend runs the same reference loop eagerly and compiled (aot_eager executes the same aten ops in the
    # same order), so the membranes, and the spikes compared against them, are bit-identical
    assert torch.equal(outs[0][0], outs[1][0])
    torch.testing.assert_close(outs[0][1], outs[1][1])
