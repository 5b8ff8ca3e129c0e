"""Bad-input cases for `snnlit.compat.spikingjelly`: the adapters and the layers it adds (the names that are
snnlit's own objects are covered in their home modules). Targets name the compat path; the sweep's coverage check
resolves each target (`compat.spikingjelly.<Name>`) to the object it names."""
import torch
from torch import nn
from badinputs import err, terr, ok
from helpers import generator
from snnlit.compat.spikingjelly import Dropout, Dropout2d, StepModeContainer, OTTTLIFNode
from snnlit.compat.spikingjelly import named_memories, memories, extract_memories, load_memories, to_functional_forward
from snnlit import neuron
from snnlit.compat.spikingjelly.activation_based import layer

g = generator('compat_spikingjelly')
T = 'compat.spikingjelly'

def holds(pred, what):
    def check(result): assert pred(result), f'expected {what}, got {result!r}'
    return check

CASES = [
    terr(T + '.StepModeContainer', 'StepModeContainer in snnlit order (a module where step_mode belongs)', lambda: StepModeContainer(False, nn.Linear(2, 2)),
         match="`step_mode` must be 's' or 'm' (spikingjelly 2.0's order is StepModeContainer(stateful, step_mode, *modules)), got Linear"),
    err(T + '.StepModeContainer', "StepModeContainer step_mode='x'", lambda: StepModeContainer(False, 'x', nn.Identity()), match="`step_mode` must be one of ('s', 'm')"),
    terr(T + '.StepModeContainer', 'StepModeContainer stateful=1', lambda: StepModeContainer(1, 's', nn.Identity()), match='`stateful` must be a bool'),
    terr(T + '.Dropout', 'Dropout p as a str', lambda: Dropout('0.5'), match='`p` must be a finite real number'),
    err(T + '.Dropout', 'Dropout p=1', lambda: Dropout(1.0), match='`p` must be a finite real number >= 0 and < 1, got 1.0'),
    err(T + '.Dropout2d', 'Dropout2d p=-0.1', lambda: Dropout2d(-0.1), match='`p` must be a finite real number >= 0 and < 1, got -0.1'),
    ok(T + '.Dropout', 'Dropout keeps one mask for the sequence and leaves x alone', lambda x: (lambda d: d(x))(Dropout(0.5, step_mode='m')), torch.ones(4, 3, 20),
       check=holds(lambda r: torch.equal(r, r[:1].expand_as(r)), 'the same mask at every step')),
    ok(T + '.Dropout', 'Dropout in eval is the identity', lambda x: Dropout(0.9).eval()(x), (xs := torch.randn(3, 5, generator=g)), check=holds(lambda r: torch.equal(r, xs), 'x')),
    err(T + '.activation_based.layer.Linear', "layer.Linear step_mode='x'", lambda: layer.Linear(2, 2, step_mode='x'), match="`step_mode` must be one of ('s', 'm') for Linear, got 'x'"),
    terr(T + '.activation_based.layer.Linear', 'layer.Linear in m on a non-tensor', lambda: layer.Linear(2, 2, step_mode='m')([1., 2.]), match='`x_seq` must be a tensor'),
    err(T + '.activation_based.layer.Conv2d', 'layer.Conv2d in m on a single step', lambda x: layer.Conv2d(1, 1, 3, step_mode='m')(x), torch.ones(2, 1, 5, 5),
        match="`x_seq` must have 5 dimensions [T, B, ...] for Conv2d in step_mode 'm', got shape (2, 1, 5, 5)"),
    ok(T + '.OTTTLIFNode', 'OTTTLIFNode starts with a None trace', lambda: OTTTLIFNode().trace, check=holds(lambda r: r is None, 'None')),
    err(T + '.OTTTLIFNode', "OTTTLIFNode step_mode='m'", lambda: OTTTLIFNode(step_mode='m'), match="`step_mode` must be 's' for OTTTLIFNode"),
    terr(T + '.named_memories', 'named_memories of a list', lambda: named_memories([neuron.IFNode()]), match='`module` must be a torch.nn.Module, got list'),
    terr(T + '.named_memories', 'named_memories prefix=1', lambda: named_memories(neuron.IFNode(), 1), match='`prefix` must be a str, got 1'),
    terr(T + '.memories', 'memories of a tensor', lambda x: memories(x), torch.ones(2), match='`module` must be a torch.nn.Module'),
    terr(T + '.extract_memories', 'extract_memories of None', lambda: extract_memories(None), match='`module` must be a torch.nn.Module, got None'),
    err(T + '.load_memories', 'load_memories with one value too many', lambda: load_memories(neuron.IFNode(), [0., 0.]),
        match='Memory length mismatch: `memory_list` must hold 1 value(s), one per memory of the network, got list'),
    err(T + '.load_memories', 'load_memories with a tensor for the list', lambda x: load_memories(neuron.IFNode(), x), torch.zeros(1), match='Memory length mismatch'),
    terr(T + '.to_functional_forward', 'to_functional_forward of a function', lambda: to_functional_forward(torch.relu), match='`module` must be a torch.nn.Module'),
    terr(T + '.to_functional_forward', 'to_functional_forward fn=1', lambda: to_functional_forward(neuron.IFNode(), fn=1), match='`fn` must be None or a callable, got 1'),
    err(T + '.to_functional_forward', 'to_functional_forward with no states for a neuron', lambda x: to_functional_forward(neuron.IFNode())((x,), ()), torch.ones(2),
        match='`states` must hold 1 value(s), one per memory of IFNode, got tuple'),
    ok(T + '.to_functional_forward', 'to_functional_forward leaves the neuron and its input alone', lambda x: to_functional_forward(neuron.IFNode())((x,), (0.,)), torch.full((2,), 0.5),
       check=holds(lambda r: torch.equal(r[1][0], torch.full((2,), 0.5)), 'the new membrane 0.5')),
]
