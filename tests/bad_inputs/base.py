"""Bad-input cases for `snnlit.base`: step modes and modules with memory.

The stateful module used here is a running sum, whose answer (a cumulative sum) is written out in each case.
"""
import torch
from torch import nn
from badinputs import err, terr, ok, close, dtype_is, all_of
from helpers import generator
from snnlit.base import StepModule, MemoryModule

g = generator('base')

def holds(pred, what):
    def check(result): assert pred(result), f'expected {what}, got {result!r}'
    return check

class RunningSum(MemoryModule):
    def __init__(self):
        super().__init__()
        self.register_memory('total', 0.)
    def single_step_forward(self, x): self.total = self.total + x; return self.total

class SequenceOnly(MemoryModule):
    def supported_step_mode(self): return ('m',)
    def multi_step_forward(self, x_seq): return x_seq.cumsum(0)

class NoStep(MemoryModule): pass

def set_mode(m, mode): m.step_mode = mode; return m.step_mode

def multi(x_seq):
    m = RunningSum(); m.step_mode = 'm'
    return m(x_seq)

def naive_cumsum(x_seq):
    "The running sum, one step at a time, in float64."
    out, total = [], torch.zeros(x_seq.shape[1:], dtype=torch.float64)
    for x in x_seq.double(): total = total + x; out.append(total)
    return torch.stack(out)

x_seq = torch.randn(5, 2, 3, generator=g)

CASES = [
    # StepModule
    err('base.StepModule', "step_mode='x'", set_mode, StepModule(), 'x', match="`step_mode` must be one of ('s', 'm') for StepModule, got 'x'", updates=(0,)),
    terr('base.StepModule', 'step_mode=1', set_mode, StepModule(), 1, match="`step_mode` must be one of ('s', 'm') for StepModule, got 1", updates=(0,)),
    terr('base.StepModule', 'step_mode=None', set_mode, StepModule(), None, match="`step_mode` must be one of ('s', 'm')", updates=(0,)),
    terr('base.StepModule', "step_mode=['m']", set_mode, StepModule(), ['m'], match="`step_mode` must be one of ('s', 'm')", updates=(0,)),
    err('base.StepModule', "step_mode='M' (case matters)", set_mode, StepModule(), 'M', match="got 'M'", updates=(0,)),
    ok('base.StepModule', "step_mode='m'", set_mode, StepModule(), 'm', check=holds(lambda r: r == 'm', "'m'"), updates=(0,)),
    err('base.StepModule', "'s' on a multi-step-only module", set_mode, SequenceOnly(), 's', match="`step_mode` must be one of ('m',) for SequenceOnly, got 's'", updates=(0,)),
    ok('base.StepModule', 'a multi-step-only module starts in m', lambda: SequenceOnly().step_mode, check=holds(lambda r: r == 'm', "'m'")),
    # MemoryModule: memories
    terr('base.MemoryModule', 'register_memory with an int name', lambda: RunningSum().register_memory(3, 0.), match='`name` must be a str that is a Python identifier, got 3'),
    terr('base.MemoryModule', 'register_memory with a name that is no identifier', lambda: RunningSum().register_memory('my trace', 0.), match="`name` must be a str that is a Python identifier, got 'my trace'"),
    err('base.MemoryModule', 'register_memory twice', lambda: RunningSum().register_memory('total', 1.), match="`name` 'total' is already an attribute of RunningSum"),
    err('base.MemoryModule', 'register_memory over an attribute', lambda: RunningSum().register_memory('training', 1.), match="`name` 'training' is already an attribute"),
    ok('base.MemoryModule', 'reset restores a copy of the initial tensor', lambda m, x: (m.register_memory('trace', torch.zeros(2)), m(x), m.reset(), m.trace)[-1],
       RunningSum(), torch.ones(2), updates=(0,), check=close(torch.zeros(2))),
    ok('base.MemoryModule', 'the initial value is copied, not shared', lambda init: (lambda m: (m.register_memory('trace', init), setattr(m, 'trace', m.trace.add_(1)), m.reset(), m.trace)[-1])(RunningSum()),
       torch.zeros(2), check=close(torch.zeros(2)), updates=(0,)),
    ok('base.MemoryModule', 'detach cuts the graph', lambda x: (lambda m: (m(x), m.detach(), m.total.requires_grad)[-1])(RunningSum()), torch.ones(2, requires_grad=True),
       check=holds(lambda r: r is False, 'False')),
    ok('base.MemoryModule', 'memories move with .double()', lambda x: (lambda m: (m(x), m.double(), m.total.dtype)[-1])(RunningSum()), torch.ones(2),
       check=holds(lambda r: r == torch.float64, 'float64')),
    ok('base.MemoryModule', 'memories are not in the state_dict', lambda: list(RunningSum().state_dict()), check=holds(lambda r: r == [], '[]')),
    # MemoryModule: forward
    err('base.MemoryModule', 'no single_step_forward', lambda x: NoStep()(x), torch.ones(2), raises=NotImplementedError, match='NoStep must define `single_step_forward(x)`'),
    err('base.MemoryModule', 'T=0 in multi step', multi, torch.zeros(0, 2), match='`x_seq` must hold at least one time step (T >= 1) for RunningSum, got shape (0, 2)'),
    err('base.MemoryModule', '0-d x_seq in multi step', multi, torch.tensor(1.), match='`x_seq` must be a tensor [T, B, ...] with at least 1 dimension'),
    terr('base.MemoryModule', 'a list in multi step', lambda: multi([1., 2.]), match='`x_seq` must be a tensor [T, B, ...], got list'),
    ok('base.MemoryModule', 'multi step: the running sum', multi, x_seq, check=close(lambda: naive_cumsum(x_seq).float())),
    ok('base.MemoryModule', 'multi step, T=1, B=1', multi, (x1 := torch.randn(1, 1, 3, generator=g)), check=close(x1)),
    ok('base.MemoryModule', 'multi step, B=0', multi, torch.zeros(3, 0, 2), check=holds(lambda r: r.shape == (3, 0, 2), 'shape (3, 0, 2)')),
    ok('base.MemoryModule', 'multi step, float16 kept', multi, (xh := torch.randn(4, 2, generator=g).half()),
       check=all_of(dtype_is(torch.float16), lambda r: close(naive_cumsum(xh), rtol=1e-2, atol=1e-2)(r.double()))),
    ok('base.MemoryModule', 'multi step, int64 input (the float initial value promotes it)', multi, torch.arange(6).reshape(3, 2),
       check=all_of(dtype_is(torch.float32), close(torch.arange(6).reshape(3, 2).cumsum(0).float()))),
    ok('base.MemoryModule', 'single steps carry the state', lambda x: [RunningSum_m(t) for RunningSum_m in [RunningSum()] for t in x][-1], x_seq,
       check=close(lambda: naive_cumsum(x_seq)[-1].float())),
    ok('base.MemoryModule', 'reset between sequences gives the same answer', lambda m, x: (m(x[0]), m.reset(), m(x[0]))[-1], RunningSum(), x_seq,
       updates=(0,), check=close(x_seq[0])),
    # MemoryModule: explicit state (spikingjelly 2.0's functional-state API)
    err('base.MemoryModule', 'functional_forward with no states', lambda m, x: m.functional_forward((x,), ()), RunningSum(), torch.ones(2),
        match='`states` must be a tuple of 1 value(s), one per memory of RunningSum (total), got tuple ()'),
    err('base.MemoryModule', 'functional_forward with a bare state', lambda m, x: m.functional_forward((x,), 0.), RunningSum(), torch.ones(2),
        match='`states` must be a tuple of 1 value(s)'),
    terr('base.MemoryModule', 'functional_forward with a bare input', lambda m, x: m.functional_forward(x, (0.,)), RunningSum(), torch.ones(2),
         match='`inputs` must be a tuple of the arguments of forward, got a torch.float32 tensor'),
    ok('base.MemoryModule', 'functional_forward leaves the module and the states alone', lambda m, x, s: (m.functional_forward((x,), (s,)), m.total)[0],
       RunningSum(), torch.ones(2), torch.full((2,), 3.), check=holds(lambda r: torch.equal(r[0][0], torch.full((2,), 4.)) and torch.equal(r[1][0], r[0][0]), '((4, 4),), ((4, 4),)')),
    ok('base.MemoryModule', 'multi-step functional_forward is the cumulative sum', lambda x: (lambda m: (setattr(m, 'step_mode', 'm'), m.functional_forward((x,), (0.,)))[1][0][0])(RunningSum()),
       x_seq, check=close(lambda: naive_cumsum(x_seq).float())),
    err('base.MemoryModule', 'get_reset_value of no memory', lambda m: m.get_reset_value('v'), RunningSum(), raises=KeyError,
        match="`name` 'v' is not a memory of RunningSum (its memories: total)"),
    terr('base.MemoryModule', 'get_reset_value of a non-str', lambda m: m.get_reset_value(0), RunningSum(), match='`name` must be a str, got 0'),
    ok('base.MemoryModule', 'materialize_states is the identity by default', lambda m: m.materialize_states((torch.ones(2),), (1.5,), 's'), RunningSum(),
       check=holds(lambda r: r == (1.5,), '(1.5,)')),
]
