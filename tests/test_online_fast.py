"""The online neurons' one-Function training step (snnlit.online._OnlineLIFStep) against the generic LIF step it
replaces: the same spikes and membranes exactly, and the same gradients (to the inputs, through the spikes and
through the membrane) for every reset, input decay, surrogate and dtype. The generic step is forced by handing the
node a surrogate wrapped in a plain function (the fast path takes snnlit surrogate modules only)."""
import pytest, torch
from helpers import generator, assert_close
from snnlit.surrogate import Sigmoid, ATan, PiecewiseQuadratic
from snnlit.online import OTTTLIFNode, SLTTLIFNode, _fast_online_step

def pair(cls, surrogate, **kw):
    fast = cls(surrogate_function=surrogate(), **kw)
    sg = surrogate()
    slow = cls(surrogate_function=lambda h: sg(h), **kw)
    return fast, slow

CONFIGS = [dict(decay_input=d, v_reset=r, detach_reset=dr, tau=tau)
           for d in (True, False) for r in (None, 0., -0.2) for dr in (True, False) for tau in (1.1, 2.5)]

@pytest.mark.parametrize('cls', [OTTTLIFNode, SLTTLIFNode])
@pytest.mark.parametrize('surrogate', [Sigmoid, ATan, PiecewiseQuadratic])
@pytest.mark.parametrize('cfg', CONFIGS, ids=lambda c: '-'.join(f'{k}={v}' for k, v in c.items()))
def test_fast_step_equals_generic_step(cls, surrogate, cfg):
    fast, slow = pair(cls, surrogate, **cfg)
    g = generator('fast', cls.__name__, surrogate.__name__, *cfg.values())
    for t in range(4):
        x = (torch.rand(3, 6, generator=g, dtype=torch.float64) * 2.5 - 0.3)
        c_s, c_v = torch.randn(3, 6, generator=g, dtype=torch.float64), torch.randn(3, 6, generator=g, dtype=torch.float64)
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        uses_fast = _fast_online_step(fast, xa)
        assert uses_fast == (cfg['v_reset'] is None or cfg['detach_reset'])
        outs = []
        for node, xi in ((fast, xa), (slow, xb)):
            y = node(xi)
            s = y[0] if isinstance(y, list) else y
            (s * c_s + node.v * c_v).sum().backward()
            outs.append((s.detach(), node.v.detach(), xi.grad))
        assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][1], outs[1][1])
        assert_close(outs[0][2], outs[1][2])
        for node in (fast, slow): node.v = node.v.detach()

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32])
@pytest.mark.parametrize('B', [1, 4])
def test_fast_step_dtypes_and_batch_size_one(dtype, B):
    fast, slow = pair(SLTTLIFNode, Sigmoid, v_reset=None)
    g = generator('fast-dtype', str(dtype), B)
    x = (torch.rand(B, 5, generator=g) * 2.5).to(dtype)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    sa, sb = fast(xa), slow(xb)
    assert sa.dtype == dtype and fast.v.dtype == dtype
    assert torch.equal(sa, sb) and torch.equal(fast.v, slow.v)
    sa.sum().backward(); sb.sum().backward()
    assert xa.grad.dtype == dtype
    assert_close(xa.grad, xb.grad)

def test_generic_step_where_the_fast_one_does_not_apply():
    node = SLTTLIFNode(surrogate_function=Sigmoid())
    x = torch.rand(2, 3, requires_grad=True)
    assert _fast_online_step(node, x)
    assert not _fast_online_step(node, x.detach())                 # nothing to differentiate
    with torch.no_grad(): assert not _fast_online_step(node, x)
    assert not _fast_online_step(node.eval(), x)
    node.train(); node.surrogate_function.set_spiking_mode(False)
    assert not _fast_online_step(node, x)                           # the smooth primitive: generic
    hard = SLTTLIFNode(v_reset=0., detach_reset=False)
    assert not _fast_online_step(hard, x)                           # non-detached hard reset: generic
