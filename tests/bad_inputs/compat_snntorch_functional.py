"""Bad inputs for snnlit.compat.snntorch.functional: every public name that is not snnlit's own object (those
are covered by the cases of their homes, snnlit.losses and snnlit.spiketime), each case with its one right
outcome, checked against the naive loops of tests/oracles.py and tests/oracles_st.py."""
import torch
from badinputs import err, terr, ok, close
from helpers import generator
from oracles import naive_family
from oracles_st import naive_accuracy_rate, naive_accuracy_temporal
import snnlit.compat.snntorch.functional as SF

g = generator('compat_snntorch_functional')
T, B, N = 6, 4, 3
spk = (torch.rand(T, B, N, generator=g) < 0.4).float()
mem = torch.randn(T, B, N, generator=g)
y = torch.tensor([0, 2, 1, 2])
w = torch.tensor([0.5, 2.0, 1.0])

def equals(expected):
    def check(result): assert isinstance(result, float) and result == expected, (result, expected)
    return check

CASES = []
for name in ('ce_rate_loss', 'ce_count_loss', 'ce_max_membrane_loss'):
    cls, target = getattr(SF, name), f'compat.snntorch.functional.{name}'
    out = mem if 'membrane' in name else spk
    per_sample = naive_family(name, out, y, reduction='none', weight=w)
    CASES += [
        err(target, 'reduction unknown', cls, reduction='avg', match="`reduction` must be one of"),
        err(target, 'a negative class weight', cls, weight=torch.tensor([1., -1., 1.]), match='`weight` must hold finite per-class weights >= 0'),
        err(target, 'weight of the wrong length', lambda o, t, cls=cls: cls(weight=torch.ones(2))(o, t), out, y,
            match='`weight` must have one entry per class, C=3, got shape (2,)'),
        err(target, 'a label out of range', lambda o, t, cls=cls: cls()(o, t), out, torch.tensor([0, 3, 1, 2]),
            match='`targets` must hold class indices in [0, 3)'),
        terr(target, 'an int record', lambda o, t, cls=cls: cls()(o, t), out.long(), y, match='must be a floating-point tensor [T, B, N]'),
        ok(target, "weighted mean: snntorch's batch mean", lambda o, t, cls=cls: cls(weight=w)(o.double(), t), out, y,
           check=close(per_sample.mean())),
        ok(target, 'weighted sum (snntorch returns [B])', lambda o, t, cls=cls: cls(weight=w, reduction='sum')(o.double(), t), out, y,
           check=close(per_sample.sum())),
        ok(target, 'batch of one, float64', lambda o, t, cls=cls: cls(weight=w)(o[:, :1].double(), t[:1]), out, y,
           check=close(per_sample[:1].mean())),
    ]

AR, AT = 'compat.snntorch.functional.accuracy_rate', 'compat.snntorch.functional.accuracy_temporal'
CASES += [
    err(AR, 'a record [B, N]', SF.accuracy_rate, spk[0], y, match='`spk_out` must be a real (not complex or bool) tensor [T, B, N] with 3 dimensions'),
    terr(AR, 'a bool record', SF.accuracy_rate, spk.bool(), y, match='`spk_out` must be a real (not complex or bool) tensor'),
    err(AR, 'T = 0', SF.accuracy_rate, spk[:0], y, match='`spk_out` must be a non-empty tensor [T, B, N]'),
    err(AR, 'targets of the wrong batch', SF.accuracy_rate, spk, y[:3], match='`targets` must be an integer tensor of class indices with shape [B] = (4,)'),
    terr(AR, 'float targets', SF.accuracy_rate, spk, y.float(), match='`targets` must be an integer tensor'),
    err(AR, 'a label out of range', SF.accuracy_rate, spk, torch.tensor([0, 3, 1, 2]), match='class indices in [0, 3)'),
    terr(AR, 'population_code not a bool', SF.accuracy_rate, spk, y, population_code='yes', match='`population_code` must be a bool'),
    err(AR, 'population code without num_classes', SF.accuracy_rate, spk, y, population_code=True,
        match='`num_classes` must be an int >= 1 when `population_code=True`'),
    err(AR, 'num_classes not dividing N', SF.accuracy_rate, torch.rand(2, 4, 4), y, population_code=True, num_classes=3,
        match='`num_classes`=3 must divide the number of outputs N=4'),
    terr(AR, 'num_classes a float', SF.accuracy_rate, spk, y, population_code=True, num_classes=1.5, match='`num_classes` must be an int'),
    ok(AR, 'random record', SF.accuracy_rate, spk, y, check=equals(naive_accuracy_rate(spk, y))),
    ok(AR, 'population code', SF.accuracy_rate, torch.cat([spk, spk.flip(0)], -1), y % 2, population_code=True, num_classes=2,
       check=equals(naive_accuracy_rate(torch.cat([spk, spk.flip(0)], -1), y % 2, num_classes=2))),
    ok(AR, 'integer counts, batch of one', SF.accuracy_rate, spk[:, :1].long(), y[:1], check=equals(naive_accuracy_rate(spk[:, :1], y[:1]))),
    terr(AT, 'an int record', SF.accuracy_temporal, spk.long(), y, match='`spk_out` must be a floating-point tensor [T, B, N]'),
    err(AT, 'a record [T, B, N, 1]', SF.accuracy_temporal, spk[..., None], y, match='with 3 dimensions'),
    err(AT, 'B = 0', SF.accuracy_temporal, spk[:, :0], y[:0], match='`spk_out` must be a non-empty tensor'),
    err(AT, 'a label out of range', SF.accuracy_temporal, spk, torch.tensor([0, 3, 1, 2]), match='class indices in [0, 3)'),
    err(AT, 'targets [T, B]', SF.accuracy_temporal, spk, y.expand(T, B), match='with shape [B] = (4,)'),
    ok(AT, 'random record', SF.accuracy_temporal, spk, y, check=equals(naive_accuracy_temporal(spk, y))),
    ok(AT, 'bfloat16, batch of one', SF.accuracy_temporal, spk[:, 1:2].bfloat16(), y[1:2],
       check=equals(naive_accuracy_temporal(spk[:, 1:2], y[1:2]))),
]

L1 = 'compat.snntorch.functional.l1_rate_sparsity'
CASES += [
    terr(L1, 'Lambda a string', SF.l1_rate_sparsity, 'a', match='`Lambda` must be a finite real number'),
    err(L1, 'Lambda inf', SF.l1_rate_sparsity, float('inf'), match='`Lambda` must be a finite real number, got inf'),
    terr(L1, 'an int record', lambda s: SF.l1_rate_sparsity()(s), spk.long(), match='`spk_out` must be a floating-point tensor'),
    ok(L1, 'random record, float64', lambda s: SF.l1_rate_sparsity(0.25)(s.double()), spk, check=close(0.25 * spk.double().sum())),
]
