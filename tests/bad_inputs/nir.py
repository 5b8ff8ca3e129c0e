"""Bad inputs for snnlit.nir: export_to_nir and import_from_nir.

Argument checks (and the modules export cannot write) come before `nir` is imported, so those cases run without the
package; the cases that build or read NIR graphs are added only where `nir` is installed (`pip install snnlit[nir]`).
"""
import math
import numpy as np
import torch
from torch import nn
from badinputs import err, terr, ok, zero_d
from helpers import generator
from snnlit.neuron import IFNode, LIFNode, SeqToANNContainer
from snnlit.nir import export_to_nir, import_from_nir

g = generator('nir')
try: import nir
except ImportError: nir = None   # the cases that need graphs are left out
HAVE_NIR = nir is not None
EXPORT, IMPORT = 'nir.export_to_nir', 'nir.import_from_nir'

def mlp():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(4, 3), LIFNode(tau=2.), nn.Linear(3, 2), IFNode(v_reset=None))
    with torch.no_grad():
        for p in net.parameters(): p.mul_(3.)
    return net

x = torch.rand(5, 4, generator=g)
x_seq = torch.rand(6, 5, 4, generator=g) * 2

def spikes_of(net, x_seq):
    "The naive reference: the original network run step by step from a fresh state."
    for m in net.modules():
        if isinstance(m, (IFNode, LIFNode)): m.reset()
    with torch.no_grad(): return torch.stack([net(x) for x in x_seq])

# -------------------------------------------------------------------------------------------------------------
# export_to_nir: arguments

CASES = [
    terr(EXPORT, 'net is a function', export_to_nir, lambda x: x, x, match='`net` must be an nn.Module'),
    terr(EXPORT, 'net is a tensor', export_to_nir, torch.ones(3), x, match='`net` must be an nn.Module'),
    terr(EXPORT, 'net is None', export_to_nir, None, x, match='`net` must be an nn.Module'),
    err(EXPORT, 'net is an empty Sequential', export_to_nir, nn.Sequential(), x, match='`net` must be a network with at least one layer'),
    err(EXPORT, 'net is Sequentials with no layer', export_to_nir, nn.Sequential(nn.Sequential()), x, match='`net` must be a network with at least one layer'),
    terr(EXPORT, 'sample_input is a list', export_to_nir, mlp(), [[0.] * 4], match='`sample_input` must be a floating-point tensor [B, ...]'),
    terr(EXPORT, 'sample_input is int64', export_to_nir, mlp(), torch.ones(2, 4, dtype=torch.int64), match='`sample_input` must be a floating-point tensor'),
    terr(EXPORT, 'sample_input is bool', export_to_nir, mlp(), torch.ones(2, 4, dtype=torch.bool), match='`sample_input` must be a floating-point tensor'),
    err(EXPORT, 'sample_input 1-d (no batch)', export_to_nir, mlp(), torch.rand(4), match='`sample_input` must be a floating-point tensor [B, ...] with at least 2 dimensions'),
    err(EXPORT, 'sample_input 0-d', export_to_nir, mlp(), torch.tensor(1.), match='with at least 2 dimensions'),
    err(EXPORT, 'sample_input has the wrong number of features', export_to_nir, mlp(), torch.rand(2, 5),
        match="`sample_input` of shape (B, 5) does not fit `net` layer '0' (Linear)"),
    err(EXPORT, 'sample_input image for an MLP', export_to_nir, mlp(), torch.rand(2, 1, 2, 2), match="`sample_input` of shape (B, 1, 2, 2) does not fit"),
]
for value in (0., -1e-4, math.nan, math.inf, -math.inf):
    CASES += [err(EXPORT, f'dt={value}', export_to_nir, mlp(), x, dt=value, match='`dt` must be a finite real number > 0'),
              err(EXPORT, f'dt=0-d tensor {value}', export_to_nir, mlp(), x, dt=zero_d(value), match='`dt` must be a finite real number > 0')]
for value in (True, '1e-4', None, torch.ones(2), 1j):
    CASES.append(terr(EXPORT, f'dt={value!r}', export_to_nir, mlp(), x, dt=value, match='`dt` must be a finite real number'))

# export_to_nir: what has no NIR equivalent (checked before nir is needed)
def _with(module, **attrs):
    for k, v in attrs.items(): setattr(module, k, v)
    return module

UNSUPPORTED = [(nn.MaxPool2d(2), "layer '1' (MaxPool2d) has no NIR equivalent: no NIR node computes it"),
               (nn.ReLU(), "layer '1' (ReLU) has no NIR equivalent"),
               (nn.Identity(), "layer '1' (Identity) has no NIR equivalent"),
               (nn.Conv2d(1, 1, 1, padding_mode='circular'), "padding_mode='circular'"),
               (nn.AvgPool2d(2, ceil_mode=True), 'ceil_mode=True'),
               (nn.AvgPool2d(2, divisor_override=2), 'divisor_override=2'),
               (nn.AvgPool2d(3, 1, 1, count_include_pad=False), 'count_include_pad=False with padding'),
               (nn.Flatten(0), 'start_dim=0'), (nn.Flatten(-1), 'start_dim=-1'),
               # the neurons refuse these at construction; set afterwards, export still names them
               (_with(LIFNode(), tau=math.inf), "layer '1' (LIFNode) has no NIR equivalent: tau=inf"),
               (_with(IFNode(), v_threshold=math.nan), 'v_threshold=nan'),
               (_with(IFNode(), v_reset=-math.inf), 'v_reset=-inf')]
for module, match in UNSUPPORTED:
    CASES.append(err(EXPORT, f'unsupported {module!r}: {match}', export_to_nir, nn.Sequential(nn.Linear(4, 4), module), x, match=match))
CASES.append(err(EXPORT, 'a custom container', export_to_nir, nn.ModuleList([nn.Linear(4, 4)]), x,
                 match="layer '0' (ModuleList) has no NIR equivalent"))

# -------------------------------------------------------------------------------------------------------------
# import_from_nir: arguments checked before nir is needed

for value in (0., -2., math.nan, math.inf):
    CASES += [err(IMPORT, f'dt={value}', import_from_nir, 'net.nir', dt=value, match='`dt` must be a finite real number > 0'),
              err(IMPORT, f'dt=0-d tensor {value}', import_from_nir, 'net.nir', dt=zero_d(value), match='`dt` must be a finite real number > 0')]
for value in (False, '1e-4', None):
    CASES.append(terr(IMPORT, f'dt={value!r}', import_from_nir, 'net.nir', dt=value, match='`dt` must be a finite real number'))
CASES += [err(IMPORT, "step_mode='x'", import_from_nir, 'net.nir', step_mode='x', match="`step_mode` must be one of 's', 'm'"),
          err(IMPORT, "step_mode='S'", import_from_nir, 'net.nir', step_mode='S', match="`step_mode` must be one of 's', 'm'"),
          terr(IMPORT, 'step_mode=1', import_from_nir, 'net.nir', step_mode=1, match="`step_mode` must be one of 's', 'm'")]

# -------------------------------------------------------------------------------------------------------------
# with nir: graphs, good and bad

def lif(n, **kw):
    return nir.LIF(**{k: np.full(n, v) for k, v in {**dict(tau=3e-4, r=1., v_leak=0., v_threshold=1., v_reset=0.), **kw}.items()})

def chain(*nodes, n_in=3, out=None, edges=None):
    names = ['in', *map(str, range(len(nodes))), 'out']
    out = nodes[-1].output_type['output'] if out is None else out
    return nir.NIRGraph({'in': nir.Input(np.array([n_in])), **dict(zip(names[1:-1], nodes)), 'out': nir.Output(np.array(out))},
                        edges or list(zip(names[:-1], names[1:])), type_check=False)

def without(node, key):
    "`node` with parameter `key` removed."
    delattr(node, key)
    return node

def graph_checks(names):
    "A check that the exported graph has the node types `names`, from Input to Output, every shape filled in."
    def check(graph):
        assert [type(n).__name__ for n in graph.nodes.values()] == ['Input', *names, 'Output']
        for k, n in graph.nodes.items(): assert n.input_type['input'] is not None and n.output_type['output'] is not None, k
    return check

def same_run_as(net, x_seq, step_mode='s'):
    "A check that the imported network gives `net`'s spikes on `x_seq`."
    def check(back):
        if step_mode == 's': got = spikes_of(back, x_seq)
        else:
            with torch.no_grad(): got = back(x_seq)
        assert torch.equal(got, spikes_of(net, x_seq))
    return check

if HAVE_NIR:
    MLP_NODES = ['Affine', 'LIF', 'Affine', 'IF']
    used = mlp(); used(x)   # membranes from an earlier run: export reads the settings, not the state
    CASES += [
        ok(EXPORT, 'an MLP', export_to_nir, mlp(), x, check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'batch size 1', export_to_nir, mlp(), x[:1], check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'batch size 0 (only the shape is used)', export_to_nir, mlp(), x[:0], check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'NaN and inf in sample_input (only the shape is used)', export_to_nir, mlp(),
           torch.tensor([[math.nan, math.inf, -math.inf, 0.]]), check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'float64 sample for a float32 net', export_to_nir, mlp(), x.double(), check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'float16 sample', export_to_nir, mlp(), x.half(), check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'a net that has run (its state is left alone)', export_to_nir, used, x, check=graph_checks(MLP_NODES)),
        ok(EXPORT, 'a single neuron as net', export_to_nir, LIFNode(), torch.rand(2, 3, 2), check=graph_checks(['LIF'])),
        ok(EXPORT, 'dt as a 0-d tensor', export_to_nir, mlp(), x, dt=zero_d(1e-3, torch.float64),
           check=lambda graph: np.testing.assert_allclose(graph.nodes['1'].tau, 2e-3)),
        ok(EXPORT, 'dt as an integer', export_to_nir, mlp(), x, dt=1,
           check=lambda graph: np.testing.assert_allclose(graph.nodes['3'].r, 1.)),
        ok(EXPORT, 'multi-step containers', export_to_nir,
           nn.Sequential(SeqToANNContainer(nn.Linear(4, 3)), LIFNode(step_mode='m')), x, check=graph_checks(['Affine', 'LIF'])),
    ]
    def weights_not_aliased(graph):
        graph.nodes['0'].weight[:] = 0.   # changing the graph must not change the network it was exported from
    CASES.append(ok(EXPORT, 'the graph holds copies of the weights', export_to_nir, mlp(), x, check=weights_not_aliased))

    graph = export_to_nir(mlp(), x)
    w = np.arange(12.).reshape(4, 3) / 10
    affine = lambda: nir.Affine(w, np.zeros(4))
    CASES += [
        ok(IMPORT, 'an exported MLP', import_from_nir, graph, check=same_run_as(mlp(), x_seq)),
        ok(IMPORT, 'multi-step', import_from_nir, graph, step_mode='m', check=same_run_as(mlp(), x_seq, 'm')),
        ok(IMPORT, 'dt as a 0-d tensor', import_from_nir, graph, dt=zero_d(1e-4, torch.float64), check=same_run_as(mlp(), x_seq)),
        ok(IMPORT, 'dt of another export', import_from_nir, export_to_nir(mlp(), x, dt=0.5), dt=0.5, check=same_run_as(mlp(), x_seq)),
        ok(IMPORT, 'T=1 and batch 1 after import', lambda gr: spikes_of(import_from_nir(gr), x_seq[:1, :1]), graph,
           check=lambda s: torch.testing.assert_close(s, spikes_of(mlp(), x_seq[:1, :1]))),
        terr(IMPORT, 'graph is a number', import_from_nir, 42, match='`graph` must be a nir.NIRGraph or the path of a NIR file'),
        terr(IMPORT, 'graph is a dict', import_from_nir, {'nodes': {}}, match='`graph` must be a nir.NIRGraph or the path of a NIR file'),
        terr(IMPORT, 'graph is a module', import_from_nir, mlp(), match='`graph` must be a nir.NIRGraph or the path of a NIR file'),
        terr(IMPORT, 'graph is a node, not a graph', import_from_nir, lif(3), match='`graph` must be a nir.NIRGraph'),
        err(IMPORT, 'graph path does not exist', import_from_nir, '/nonexistent/net.nir', match='is not a NIR graph that nir can read'),
        err(IMPORT, 'unknown node type', import_from_nir, chain(affine(), nir.LI(np.ones(4), np.ones(4), np.zeros(4))),
            match="`graph` node '1' has type LI, which snnlit does not import"),
        err(IMPORT, 'recurrent subgraph', import_from_nir, chain(chain(nir.Linear(np.eye(3))), out=[3]), match="node '0' has type NIRGraph"),
        err(IMPORT, 'missing bias', import_from_nir, chain(nir.Affine(w, None)), match="`graph` node '0' (Affine) has no parameter `bias`"),
        err(IMPORT, 'Affine without a bias field', import_from_nir, chain(without(affine(), 'bias')), match="`graph` node '0' (Affine) has no parameter `bias`"),
        err(IMPORT, 'missing weight', import_from_nir, chain(without(nir.Linear(w), 'weight')), match="`graph` node '0' (Linear) has no parameter `weight`"),
        err(IMPORT, 'missing v_threshold', import_from_nir, chain(affine(), without(lif(4), 'v_threshold')), match="`graph` node '1' (LIF) has no parameter `v_threshold`"),
        err(IMPORT, 'missing stride', import_from_nir, chain(without(nir.Conv2d(None, np.ones((2, 3, 1, 1)), 1, 0, 1, 1, np.zeros(2)), 'stride'), out=[2]),
            match="`graph` node '0' (Conv2d) has no parameter `stride`"),
        err(IMPORT, 'LIF of the wrong size', import_from_nir, chain(affine(), lif(5)), match="`graph` node '1' (LIF) declares input shape (5,)"),
        err(IMPORT, 'weights for another input size', import_from_nir, chain(affine(), n_in=2), match="node '0' (Affine) declares input shape (3,)"),
        err(IMPORT, 'Output of the wrong size', import_from_nir, chain(affine(), out=[2]), match="`graph` Output node 'out' declares shape (2,)"),
        err(IMPORT, 'bias of the wrong size', import_from_nir, chain(nir.Affine(w, np.zeros(3))), match="`weight` (4, 3) and `bias` (3,)"),
        err(IMPORT, '1-d weight', import_from_nir, chain(nir.Conv2d(None, np.ones((2, 1, 3)), 1, 0, 1, 1, np.zeros(2)), out=[2]),
            match="`graph` node '0' (Conv2d): `weight` (2, 1, 3)"),
        err(IMPORT, 'threshold per neuron', import_from_nir, chain(affine(), lif(4, v_threshold=np.arange(4.))),
            match='`v_threshold` must be one value for the whole layer'),
        err(IMPORT, 'NaN threshold', import_from_nir, chain(affine(), lif(4, v_threshold=math.nan)), match="`graph` node '1' (LIF): `v_threshold` must be finite"),
        err(IMPORT, 'infinite tau', import_from_nir, chain(affine(), lif(4, tau=math.inf)), match="`tau` must be finite"),
        err(IMPORT, 'leak towards another potential', import_from_nir, chain(affine(), lif(4, v_leak=0.5)), match='`v_leak` must equal `v_reset`'),
        err(IMPORT, 'tau of one step', import_from_nir, chain(affine(), lif(4, tau=1e-4)), match='`tau` / dt must be > 1'),
        err(IMPORT, 'negative tau', import_from_nir, chain(affine(), lif(4, tau=-1.)), match='`tau` / dt must be > 1'),
        err(IMPORT, 'r neither 1 nor tau/dt', import_from_nir, chain(affine(), lif(4, r=2.)), match='`r` must be 1 (decay_input=True) or tau/dt'),
        err(IMPORT, 'IF with r=1 at dt=1e-4', import_from_nir, chain(affine(), nir.IF(np.ones(4), np.ones(4))), match='`r` must be 1/dt'),
        err(IMPORT, 'a branch', import_from_nir, chain(affine(), lif(4), edges=[('in', '0'), ('0', '1'), ('0', 'out')]), match="node '0' feeds both"),
        err(IMPORT, 'a cycle', import_from_nir, chain(affine(), lif(4), edges=[('in', '0'), ('0', '1'), ('1', '0')]), match='cycle through'),
        err(IMPORT, 'a node off the chain', import_from_nir, chain(affine(), lif(4), edges=[('in', '0'), ('0', 'out')]), match='not on the chain'),
    ]
    no_input = chain(affine()); no_input.nodes['in'] = nir.Output(np.array([3]))
    CASES.append(err(IMPORT, 'no Input node', import_from_nir, no_input, match='`graph` must have one Input node, got 0'))
