"""snnlit.nir: snnlit -> NIR -> snnlit round trips (in memory and through files), NIR's equations simulated naively from
the exported constants, snntorch as an optional oracle both ways, and the named errors for what does not translate.

The tests that need the `nir` package skip without it (`pip install snnlit[nir]`; `make setup` installs it); those
that need snntorch skip without it too. The first tests check that snnlit works without `nir` at all.
"""
import subprocess, sys
import numpy as np
import pytest
import torch
from torch import nn
import torch.nn.functional as F
from helpers import stable_seed, generator, assert_close
from snnlit.neuron import IFNode, LIFNode, SeqToANNContainer
from snnlit.nir import export_to_nir, import_from_nir

try: import nir
except ImportError: nir = None
HAVE_NIR = nir is not None
needs_nir = pytest.mark.skipif(not HAVE_NIR, reason='needs the nir package (pip install snnlit[nir])')

# -------------------------------------------------------------------------------------------------------------
# without nir

def test_snnlit_imports_without_nir():
    "Importing snnlit and snnlit.nir does not import nir or nirtorch."
    code = 'import sys, snnlit, snnlit.nir, snnlit.neuron; print(sorted(m for m in sys.modules if m.split(".")[0] in ("nir", "nirtorch")))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'

def test_missing_nir_is_a_named_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'nir', None)   # makes `import nir` raise ImportError
    with pytest.raises(ImportError, match=r'pip install snnlit\[nir\]'):
        export_to_nir(nn.Sequential(nn.Linear(3, 2), LIFNode()), torch.rand(1, 3))
    with pytest.raises(ImportError, match=r'pip install snnlit\[nir\]'):
        import_from_nir('net.nir')

# -------------------------------------------------------------------------------------------------------------
# networks and how they run

NEURONS = {   # every supported neuron setting
    'IF hard 0': lambda: IFNode(v_threshold=0.8),
    'IF hard -0.3': lambda: IFNode(v_threshold=0.6, v_reset=-0.3),
    'IF soft': lambda: IFNode(v_threshold=0.7, v_reset=None),
    'LIF decay hard 0': lambda: LIFNode(tau=2.5, v_threshold=0.5),
    'LIF decay hard 0.2': lambda: LIFNode(tau=1.6, v_threshold=0.6, v_reset=0.2),
    'LIF decay soft': lambda: LIFNode(tau=3.7, v_threshold=0.4, v_reset=None),
    'LIF nodecay hard 0': lambda: LIFNode(tau=2.0, decay_input=False, v_threshold=0.9),
    'LIF nodecay hard -0.4': lambda: LIFNode(tau=5.3, decay_input=False, v_threshold=0.7, v_reset=-0.4),
    'LIF nodecay soft': lambda: LIFNode(tau=1.3, decay_input=False, v_threshold=1.1, v_reset=None),
}

def mlp(neuron):
    return nn.Sequential(nn.Linear(6, 5), neuron(), nn.Linear(5, 4, bias=False), neuron())

def convnet(neuron):
    "Every supported layer: Conv2d with and without bias, average and sum pooling, Flatten, Linear."
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), neuron(), nn.AvgPool2d(2),
                         nn.Conv2d(3, 4, 3, stride=1, padding=1, bias=False, groups=1), neuron(),
                         nn.AvgPool2d(2, divisor_override=1), nn.Flatten(), nn.Linear(4, 3), neuron())

def neurons(net):
    return [m for m in net.modules() if isinstance(m, (IFNode, LIFNode))]

def run(net, x_seq):
    "Spikes [T, B, ...] and the membranes of every neuron layer after each step, single-step mode, fresh state."
    for m in neurons(net): m.reset()
    spikes, membranes = [], []
    with torch.no_grad():
        for x in x_seq:
            spikes.append(net(x))
            membranes.append([m.v.clone() for m in neurons(net)])
    return torch.stack(spikes), [torch.stack(vs) for vs in zip(*membranes)]

def random_net(make, neuron, seed):
    torch.manual_seed(seed)
    net = make(neuron).double()
    with torch.no_grad():   # weights large enough that every layer spikes
        for p in net.parameters(): p.mul_(2.5)
    return net

def inputs(net_kind, T, seed):
    shape = (T, 3, 6) if net_kind == 'mlp' else (T, 3, 2, 4, 4)
    return torch.rand(shape, dtype=torch.float64, generator=generator('nir', net_kind, T, seed)) * 2

def assert_same_run(net, back, x_seq):
    s1, v1 = run(net, x_seq)
    s2, v2 = run(back, x_seq)
    assert torch.equal(s1, s2)                          # spikes: exact (comparisons of membranes equal to rounding)
    for a, b in zip(v1, v2): assert_close(b, a, rtol=1e-12, atol=1e-12)
    return s1

# -------------------------------------------------------------------------------------------------------------
# snnlit -> NIR -> snnlit

@needs_nir
@pytest.mark.parametrize('kind', ['mlp', 'conv'])
@pytest.mark.parametrize('setting', list(NEURONS))
def test_round_trip_same_spikes_and_membranes(setting, kind):
    rates = []
    for T, seed in ((1, 0), (6, 1), (23, 2), (40, 3)):
        net = random_net(mlp if kind == 'mlp' else convnet, NEURONS[setting], stable_seed(setting, kind, seed))
        x_seq = inputs(kind, T, seed)
        graph = export_to_nir(net, x_seq[0], dt=2e-3)
        rates.append(assert_same_run(net, import_from_nir(graph, dt=2e-3), x_seq).mean())
    assert 0 < max(rates) and min(rates) < 1, 'the output layer should spike, but not everywhere'

@needs_nir
@pytest.mark.parametrize('setting', list(NEURONS))
def test_round_trip_through_a_file(setting, tmp_path):
    net = random_net(convnet, NEURONS[setting], stable_seed('file', setting))
    x_seq = inputs('conv', 9, 3)
    path = tmp_path / 'net.nir'
    nir.write(path, export_to_nir(net, x_seq[0], dt=1e-4))
    graph = nir.read(path)                              # NIR's own type check accepts it
    for name, node in graph.nodes.items():
        assert node.input_type['input'] is not None and node.output_type['output'] is not None, name
    assert_same_run(net, import_from_nir(graph), x_seq)
    assert_same_run(net, import_from_nir(str(path)), x_seq)

@needs_nir
def test_multi_step_import_and_containers():
    "A multi-step network in snnlit's containers exports; imported with step_mode='m' it gives the same spikes."
    torch.manual_seed(5)
    net = nn.Sequential(SeqToANNContainer(nn.Conv2d(2, 3, 3), nn.Flatten()), LIFNode(tau=2.2, step_mode='m', backend='fused'),
                        SeqToANNContainer(nn.Linear(12, 4)), IFNode(v_reset=None, step_mode='m')).double()
    x_seq = inputs('conv', 8, 4)
    graph = export_to_nir(net, x_seq[0])
    assert list(graph.nodes) == ['input', '0.0', '0.1', '1', '2.0', '3', 'output']
    back = import_from_nir(graph, step_mode='m')
    assert [type(m).__name__ for m in back] == ['SeqToANNContainer', 'LIFNode', 'SeqToANNContainer', 'IFNode']
    for m in neurons(net): m.reset()
    with torch.no_grad(): assert torch.equal(back(x_seq), net(x_seq))

@needs_nir
def test_trained_demo_network_through_a_file(tmp_path):
    "The demo's SpikingMLP (multi-step, atan surrogate, detached reset), trained a few steps, survives a file, float32."
    from snnlit.demo import SpikingMLP, rate_encode
    from snnlit.functional import reset_net
    torch.manual_seed(stable_seed('demo'))
    net = SpikingMLP(n_in=16, n_hidden=32, n_out=4)
    with torch.no_grad():   # a livelier start than the default initialisation, so that both layers spike
        for p in net.parameters(): p.mul_(8.)
    x, y = torch.rand(24, 16), torch.randint(0, 4, (24,))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(5):
        x_seq = rate_encode(x, 8)
        loss = F.cross_entropy(net(x_seq).mean(0), y)
        opt.zero_grad(); loss.backward(); opt.step(); reset_net(net)
    path = tmp_path / 'demo.nir'
    nir.write(path, export_to_nir(net, x_seq[0]))
    back = import_from_nir(nir.read(path), step_mode='m')
    x_seq = rate_encode(x, 20, generator=generator('demo input'))
    with torch.no_grad():
        expected, got = net(x_seq), back(x_seq)
    assert 0 < expected.mean() < 1
    assert torch.equal(got, expected)
    assert torch.equal(got.sum(0).argmax(1), expected.sum(0).argmax(1))

@needs_nir
def test_exported_constants_and_shapes():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), LIFNode(tau=4., decay_input=False, v_reset=0.1), nn.AvgPool2d(2),
                        nn.Flatten(), nn.Linear(8, 3), IFNode(v_reset=None))
    g = export_to_nir(net, torch.rand(5, 1, 6, 6), dt=0.5)
    lif, if_ = g.nodes['1'], g.nodes['5']
    for key, value in dict(tau=2., r=4., v_leak=0.1, v_reset=0.1, v_threshold=1.).items():
        assert getattr(lif, key).shape == (2, 4, 4) and np.all(getattr(lif, key) == value), key
    assert np.all(if_.r == 2.) and np.all(if_.v_reset == 0.) and if_.metadata == {'snnlit_reset': 'subtract'}
    assert type(g.nodes['2']).__name__ == 'AvgPool2d' and list(g.nodes['2'].output_type['output']) == [2, 2, 2]
    assert list(g.nodes['3'].output_type['output']) == [8] and (g.nodes['3'].start_dim, g.nodes['3'].end_dim) == (0, -1)
    assert type(g.nodes['4']).__name__ == 'Affine'
    assert list(g.nodes['output'].output_type['output']) == [3]

# -------------------------------------------------------------------------------------------------------------
# NIR's equations, simulated naively from the exported graph

def simulate_nir(graph, x_seq, dt):
    """Forward-Euler NIR: v += dt/tau (v_leak - v + r I) (LIF), v += dt r I (IF), spike where v >= v_threshold
    (snnlit's boundary), then v = v_reset, or v -= v_threshold for nodes marked soft; v starts at v_reset."""
    order, after = ['input'], dict(graph.edges)
    while order[-1] in after: order.append(after[order[-1]])
    state, out = {}, []
    for x in x_seq:
        for name in order[1:-1]:
            n, t = graph.nodes[name], lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)
            kind = type(n).__name__
            if kind in ('Affine', 'Linear'): x = x @ t(n.weight).T + (t(n.bias) if kind == 'Affine' else 0)
            elif kind == 'Conv2d': x = F.conv2d(x, t(n.weight), t(n.bias), tuple(n.stride), tuple(n.padding), tuple(n.dilation), int(n.groups))
            elif kind in ('AvgPool2d', 'SumPool2d'):
                k = tuple(int(i) for i in n.kernel_size)
                x = F.avg_pool2d(x, k, tuple(int(i) for i in n.stride)) * (k[0] * k[1] if kind == 'SumPool2d' else 1)
            elif kind == 'Flatten': x = x.flatten(1)
            else:
                v = state.get(name, t(n.v_reset).expand_as(x))
                v = v + dt / t(n.tau) * (t(n.v_leak) - v + t(n.r) * x) if kind == 'LIF' else v + dt * t(n.r) * x
                spike = (v >= t(n.v_threshold)).double()
                soft = n.metadata.get('snnlit_reset') == 'subtract'
                state[name] = v - spike * t(n.v_threshold) if soft else torch.where(spike.bool(), t(n.v_reset), v)
                x = spike
        out.append(x)
    return torch.stack(out)

@needs_nir
@pytest.mark.parametrize('setting', list(NEURONS))
def test_exported_graph_is_the_same_ode(setting):
    "The exported constants, run through NIR's equations written out here, give snnlit's spikes."
    net = random_net(convnet, NEURONS[setting], stable_seed('ode', setting))
    x_seq = inputs('conv', 12, 7)
    dt = 3e-4
    spikes, _ = run(net, x_seq)
    assert torch.equal(simulate_nir(export_to_nir(net, x_seq[0], dt=dt), x_seq, dt), spikes)

# -------------------------------------------------------------------------------------------------------------
# snntorch as an oracle (skipped without it)

def snntorch_run(model, x_seq):
    """Spikes and Leaky membranes of snntorch's imported network, step by step, in float64: its modules run in order
    (the chain its GraphExecutor runs), the spikes its Leaky emits in float32 cast back to the input's dtype."""
    layers = list(model.children())
    spikes, membranes = [], []
    with torch.no_grad():
        for x in x_seq:
            for layer in layers: x = layer(x).to(x_seq.dtype)
            spikes.append(x)
            membranes.append([m.mem.clone() for m in layers if type(m).__name__ == 'Leaky'])
    return torch.stack(spikes), [torch.stack(vs) for vs in zip(*membranes)]

SNNTORCH_SAME = ['LIF decay hard 0', 'LIF nodecay hard 0']   # where the two libraries' dynamics coincide

@needs_nir
@pytest.mark.parametrize('kind', ['mlp', 'conv'])
@pytest.mark.parametrize('setting', SNNTORCH_SAME)
def test_snntorch_imports_our_graph_with_the_same_spikes(setting, kind, capsys):
    snn_import = pytest.importorskip('snntorch.import_nir')
    torch.manual_seed(stable_seed('snntorch', setting, kind))
    make = mlp if kind == 'mlp' else lambda n: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), n(), nn.Conv2d(3, 2, 3), n())
    net = make(NEURONS[setting])
    with torch.no_grad():   # weights exactly representable in float32, which snntorch's importer casts them to
        for p in net.parameters(): p.mul_(4.).add_(0.1)
    net = net.double()
    x_seq = inputs(kind, 15, 8)
    theirs = snn_import.import_from_nir(export_to_nir(net, x_seq[0], dt=1e-4)).double()
    capsys.readouterr()   # snntorch prints warnings about its threshold scaling
    s1, v1 = run(net, x_seq)
    s2, v2 = snntorch_run(theirs, x_seq)
    assert 0 < s1.mean() < 1
    assert torch.equal(s2, s1)
    tau = neurons(net)[0].tau
    scale = tau if neurons(net)[0].decay_input else 1.   # snntorch's membrane is tau_s times ours when R = 1
    for a, b in zip(v1, v2): assert_close(b, a * scale, rtol=1e-6, atol=1e-6)

@needs_nir
def test_snntorch_exported_graph_imports_and_runs(capsys):
    snn = pytest.importorskip('snntorch')
    from snntorch.export_nir import export_to_nir as snn_export
    torch.manual_seed(stable_seed('snntorch export'))
    betas = (torch.rand(5) * 0.5 + 0.4, torch.rand(3) * 0.5 + 0.4)   # one beta per neuron: scalars do not export
    ref = nn.Sequential(nn.Linear(6, 5), snn.Leaky(beta=betas[0], threshold=torch.ones(5), init_hidden=True, reset_mechanism='zero', reset_delay=False),
                        nn.Linear(5, 3), snn.Leaky(beta=betas[1], threshold=torch.ones(3), init_hidden=True, reset_mechanism='zero', reset_delay=False))
    with torch.no_grad():
        for p in ref.parameters(): p.mul_(2.5)
    graph = snn_export(ref, torch.rand(6))
    x_seq = torch.rand(20, 4, 6, generator=generator('snntorch export x')) * 2
    with pytest.raises(ValueError, match="`tau` must be one value for the whole layer"):
        import_from_nir(graph)                            # snntorch writes a beta per neuron, snnlit has one per layer
    for node, beta in zip((graph.nodes['1'], graph.nodes['3']), betas):   # the same beta for every neuron of a layer
        b = np.full(beta.shape, np.float32(beta[0].item()))
        node.tau, node.r = (1e-4 / (1 - b)).astype(np.float32), (1 / (1 - b)).astype(np.float32)
    for leaky, beta in zip((ref[1], ref[3]), betas): leaky.beta = torch.full_like(beta, float(beta[0]))
    ours = import_from_nir(graph)
    assert [type(m).__name__ for m in ours] == ['Linear', 'LIFNode', 'Linear', 'LIFNode']
    assert not ours[1].decay_input
    assert ours[1].tau == pytest.approx(1 / (1 - float(betas[0][0])), rel=1e-5)
    s_ours, v_ours = run(ours, x_seq)
    with torch.no_grad():
        s_ref, v_ref = [], []
        for x in x_seq:
            s_ref.append(ref(x)); v_ref.append(ref[3].mem.clone())
    assert 0 < s_ours.mean() < 1
    assert (s_ours != torch.stack(s_ref)).float().mean() < 0.01   # float32 beta vs 1 - 1/tau: rare flips at threshold
    assert_close(v_ours[1][:5], torch.stack(v_ref)[:5], rtol=1e-4, atol=1e-4)

# -------------------------------------------------------------------------------------------------------------
# what does not translate: named errors

@needs_nir
@pytest.mark.parametrize('module,match', [
    (nn.MaxPool2d(2), "layer '1' (MaxPool2d) has no NIR equivalent: no NIR node computes it"),
    (nn.BatchNorm1d(4), "layer '1' (BatchNorm1d) has no NIR equivalent"),
    (nn.Dropout(), "layer '1' (Dropout) has no NIR equivalent"),
    (nn.Conv2d(4, 4, 1, padding_mode='reflect'), "padding_mode='reflect'"),
    (nn.AvgPool2d(2, ceil_mode=True), 'ceil_mode=True'),
    (nn.AvgPool2d(2, divisor_override=3), 'divisor_override=3'),
    (nn.AvgPool2d(3, padding=1, count_include_pad=False), 'count_include_pad=False with padding'),
    (nn.Flatten(0), 'start_dim=0'),
    (nn.Flatten(-2), 'start_dim=-2'),
])
def test_export_names_what_has_no_nir_equivalent(module, match):
    with pytest.raises(ValueError, match=match.replace('(', r'\(').replace(')', r'\)')):
        export_to_nir(nn.Sequential(nn.Linear(4, 4), module, IFNode()), torch.rand(2, 4))

@needs_nir
def test_export_refuses_other_neurons_and_containers():
    from snnlit.online import OTTTLIFNode
    class Custom(nn.Module):
        def __init__(self): super().__init__(); self.fc = nn.Linear(4, 4)
        def forward(self, x): return self.fc(x)
    with pytest.raises(ValueError, match=r"layer '1' \(OTTTLIFNode\) has no NIR equivalent"):
        export_to_nir(nn.Sequential(nn.Linear(4, 4), OTTTLIFNode()), torch.rand(2, 4))
    with pytest.raises(ValueError, match=r"layer '0' \(Custom\) has no NIR equivalent.*nn.Sequential containers"):
        export_to_nir(Custom(), torch.rand(2, 4))
    with pytest.raises(ValueError, match=r"`sample_input` of shape \(B, 5\) does not fit `net` layer '0' \(Linear\)"):
        export_to_nir(nn.Sequential(nn.Linear(4, 4), IFNode()), torch.rand(2, 5))

def lif(n, **kw):
    return nir.LIF(**{k: np.full(n, v) for k, v in {**dict(tau=3e-4, r=1., v_leak=0., v_threshold=1., v_reset=0.), **kw}.items()})

def graph_of(*nodes, n_in=3, edges=None, out=None):
    names = ['in', *map(str, range(len(nodes))), 'out']
    out = nodes[-1].output_type['output'] if out is None else out
    return nir.NIRGraph({'in': nir.Input(np.array([n_in])), **dict(zip(names[1:-1], nodes)), 'out': nir.Output(np.array(out))},
                        edges or list(zip(names[:-1], names[1:])), type_check=False)

W = np.arange(12.).reshape(4, 3) / 10

@needs_nir
def test_bad_graphs_give_named_errors(tmp_path):
    affine = lambda: nir.Affine(W, np.zeros(4))
    cases = [
        (graph_of(affine(), nir.CubaLIF(*(np.ones(4),) * 3, np.zeros(4), np.ones(4))), "`graph` node '1' has type CubaLIF, which snnlit does not import"),
        (graph_of(affine(), nir.Scale(np.ones(4))), "node '1' has type Scale"),
        (graph_of(nir.Affine(W, None)), "`graph` node '0' (Affine) has no parameter `bias`"),
        (graph_of(affine(), lif(5)), "`graph` node '1' (LIF) declares input shape (5,), but the node before it produces (4,)"),
        (graph_of(affine(), lif(4), out=[5]), "`graph` Output node 'out' declares shape (5,), but the chain produces (4,)"),
        (graph_of(nir.Affine(np.ones((4, 2)), np.zeros(4)), n_in=3), "node '0' (Affine) declares input shape (2,)"),
        (graph_of(affine(), lif(4, v_threshold=np.arange(4.))), "`v_threshold` must be one value for the whole layer"),
        (graph_of(affine(), lif(4, v_leak=0.5)), "`v_leak` must equal `v_reset`"),
        (graph_of(affine(), lif(4, tau=1e-4)), "`tau` / dt must be > 1"),
        (graph_of(affine(), lif(4, r=2.)), "`r` must be 1 (decay_input=True) or tau/dt"),
        (graph_of(affine(), nir.IF(np.ones(4), np.ones(4))), "`r` must be 1/dt"),
        (graph_of(affine(), lif(4), edges=[('in', '0'), ('0', '1'), ('1', '0'), ('1', 'out')]), "node '1' feeds both"),
        (graph_of(affine(), lif(4), edges=[('in', '0'), ('0', '1'), ('1', '0')]), "`graph` has a cycle through '0'"),
        (graph_of(affine(), lif(4), edges=[('in', '0'), ('0', 'out')]), "nodes ['1'] are not on the chain"),
        (graph_of(affine(), lif(4), edges=[('in', '0'), ('0', '1')]), "ends at '1', which is not an Output node"),
    ]
    lif_missing = lif(4); del lif_missing.v_threshold
    cases.append((graph_of(affine(), lif_missing), "`graph` node '1' (LIF) has no parameter `v_threshold`"))
    no_shape = nir.Linear(W); no_shape.input_type = {'input': None}
    cases.append((graph_of(no_shape, nir.Flatten(None, 0), out=[4]), None))
    cases.append((graph_of(no_shape, nir.Flatten(None), out=[4]), "node '1' (Flatten) cannot take the input shape (4,)"))   # shapes left to inference: imports
    for graph, match in cases:
        if match is None: import_from_nir(graph); continue
        with pytest.raises(ValueError) as info: import_from_nir(graph)
        assert match in str(info.value), (match, str(info.value))

@needs_nir
def test_bad_files_and_subgraphs(tmp_path):
    path = tmp_path / 'broken.nir'
    path.write_bytes(b'not hdf5')
    with pytest.raises(ValueError, match='is not a NIR graph that nir can read'): import_from_nir(path)
    with pytest.raises(ValueError, match='is not a NIR graph that nir can read'): import_from_nir(tmp_path / 'missing.nir')
    inner = graph_of(nir.Linear(np.eye(3)), n_in=3)
    with pytest.raises(ValueError, match="node '0' has type NIRGraph"): import_from_nir(graph_of(inner, out=[3]))
    h5py = pytest.importorskip('h5py')
    good = tmp_path / 'good.nir'
    nir.write(good, graph_of(nir.Affine(W, np.zeros(4)), lif(4)))
    with h5py.File(good, 'a') as f: del f['node/nodes/1/v_threshold']   # a file whose LIF lacks its threshold
    with pytest.raises(ValueError, match='v_threshold'): import_from_nir(good)
