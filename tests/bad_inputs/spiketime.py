"""Bad inputs for snnlit.spiketime: every public name, each case with its one right outcome.

Spike times are whole step numbers, exact in every float dtype up to the record lengths accepted, so the
extraction is compared exactly with the naive loop of tests/oracles_spiketime.py; the losses are compared with
the float64 formulas there, within a few roundings of the result's dtype.
"""
import torch
from badinputs import err, terr, ok, close, all_of, finite, dtype_is, zero_d, grad_of
from helpers import generator
from oracles import naive_times, naive_grad, naive_targets, naive_mse, naive_ce_temporal
from snnlit import spiketime as S

g = generator('spiketime')
NAN, INF = float('nan'), float('inf')
LOW = (torch.float16, torch.bfloat16)

def rand(*shape, dtype=torch.float32): return torch.rand(*shape, generator=g, dtype=torch.float64).to(dtype)
def spikes(*shape, p=0.3, dtype=torch.float32): return (rand(*shape) < p).to(dtype)

def exactly(expected, dtype=None):
    "The result equals `expected` exactly (spike times are whole numbers), in `dtype` if given."
    def check(result):
        if dtype is not None: assert result.dtype == dtype, f'dtype {result.dtype}, expected {dtype}'
        assert torch.equal(result.double(), expected.double()), f'{result} != {expected}'
    return check

def near(expected, dtype):
    "A float64 `expected` within a few roundings of `dtype`, and the dtype kept."
    tol = {torch.float16: dict(rtol=4e-3, atol=1e-3), torch.bfloat16: dict(rtol=3e-2, atol=1e-2)}.get(dtype, dict(rtol=1e-5, atol=1e-6))
    def check(result):
        assert result.dtype == dtype, f'dtype {result.dtype}, expected {dtype}'
        torch.testing.assert_close(result.double(), expected.double(), equal_nan=True, **tol)
    return check

def pair(check_spike, check_target):
    def check(result):
        check_spike(result[0]); check_target(result[1])
    return check

CASES = []
T, B, N = 8, 3, 4
rec = spikes(T, B, N)
rec[:, 0, 0] = 0.   # a silent neuron
rec[0, 1, 1] = 1.   # a spike at t = 0
labels = torch.tensor([0, 3, 1])

# =============================================================================================================
# first_spike_time and FirstSpike, multi_spike_time and MultiSpike
FST, FS = 'spiketime.first_spike_time', 'spiketime.FirstSpike'
MST, MS = 'spiketime.multi_spike_time', 'spiketime.MultiSpike'
fst, mst = S.first_spike_time, S.multi_spike_time
def record_cases(target, fn, *extra):
    return [
        terr(target, 'record a list', fn, rec.tolist(), *extra, match='`spk_rec` must be a floating-point tensor [T, ...], got list'),
        terr(target, 'record int64 (0/1 counts)', fn, rec.long(), *extra, match='`spk_rec` must be a floating-point tensor [T, ...], got a torch.int64'),
        terr(target, 'record bool', fn, rec.bool(), *extra, match='`spk_rec` must be a floating-point tensor [T, ...], got a torch.bool'),
        err(target, 'record 0-d', fn, torch.tensor(1.), *extra, match='`spk_rec` must be a floating-point tensor [T, ...] with at least 1 dimension'),
        err(target, 'T = 0', fn, rec[:0], *extra, match='`spk_rec` must be a spike record [T, ...] with T >= 1, got a torch.float32 tensor of shape (0, 3, 4)'),
        err(target, 'bfloat16 record longer than 257 steps', fn, torch.zeros(300, 2, dtype=torch.bfloat16), *extra,
            match='holds whole numbers exactly only up to 256: convert the record with `.float()`'),
        err(target, 'float16 record longer than 2049 steps', fn, torch.zeros(2100, 1, dtype=torch.float16), *extra,
            match='holds whole numbers exactly only up to 2048'),
    ]
CASES += record_cases(FST, fst) + record_cases(FS, S.FirstSpike.apply, None) + record_cases(MST, mst, 2) + record_cases(MS, S.MultiSpike.apply, 2, None)

rec_special = rec.clone()
rec_special[2, 0, 0] = NAN        # not a spike (NaN > 0 is False)
rec_special[5, 0, 0] = 1.         # the first spike of that neuron
rec_special[1, 2, 3] = -INF       # not a spike
rec_special[3, 2, 3] = INF        # a spike
rec_special[:3, 2, 3] = 0.
rec_special[1, 2, 3] = -INF
for target, fn, extra, F_ in [(FST, fst, (), 1), (FS, S.FirstSpike.apply, (None,), 1), (MST, mst, (3,), 3), (MS, S.MultiSpike.apply, (3, None), 3)]:
    sq = (lambda r: r) if F_ > 1 else (lambda r: r[0])
    CASES += [
        ok(target, 'NaN and -inf are not spikes, +inf is', fn, rec_special, *extra, check=exactly(sq(naive_times(rec_special, F_)), torch.float32)),
        ok(target, 'B = 0: empty times', fn, rec[:, :0], *extra, check=exactly(torch.zeros((F_, 0, N))[0 if F_ == 1 else slice(None)], torch.float32)),
        ok(target, 'T = 1', fn, rec[:1], *extra, check=exactly(sq(naive_times(rec[:1], F_)), torch.float32)),
        ok(target, '[T] record (one neuron)', fn, rec[:, 1, 1], *extra, check=exactly(sq(naive_times(rec[:, 1:2, 1:2], F_))[..., 0, 0])),
        ok(target, 'negative values are not spikes', fn, rec - 0.5, *extra, check=exactly(sq(naive_times(rec - 0.5, F_)))),
    ]
    for dtype in LOW + (torch.float64,):
        CASES.append(ok(target, f'{dtype}', fn, rec.to(dtype), *extra, check=exactly(sq(naive_times(rec, F_)), dtype)))
CASES += [
    ok(FST, 'gradient: -1 at the first spike (T - 1 if silent)', lambda r: grad_of(S.first_spike_time, r), rec,
       check=exactly(naive_grad(rec.shape, naive_times(rec), torch.ones(1, B, N)))),
    ok(MST, 'gradient: -1 at each of 3 spikes, added where they coincide', lambda r: grad_of(lambda x: S.multi_spike_time(x, 3), r), rec,
       check=exactly(naive_grad(rec.shape, naive_times(rec, 3), torch.ones(3, B, N)))),
    ok(MST, 'num_spikes an int 0-d tensor', mst, rec, torch.tensor(2), check=exactly(naive_times(rec, 2))),
    ok(MST, 'num_spikes > T: T - 1 for the missing ones', mst, rec, T + 3, check=exactly(naive_times(rec, T + 3))),
]
for target, fn, tail in [(MST, mst, ()), (MS, S.MultiSpike.apply, (None,))]:
    CASES += [
        err(target, 'num_spikes 0', fn, rec, 0, *tail, match='`num_spikes` must be an int >= 1, got 0'),
        err(target, 'num_spikes -2', fn, rec, -2, *tail, match='`num_spikes` must be an int >= 1, got -2'),
        terr(target, 'num_spikes 2.0', fn, rec, 2.0, *tail, match='`num_spikes` must be an int, got 2.0'),
        terr(target, 'num_spikes True', fn, rec, True, *tail, match='`num_spikes` must be an int, got True'),
        terr(target, 'num_spikes NaN', fn, rec, NAN, *tail, match='`num_spikes` must be an int, got nan'),
        terr(target, 'num_spikes a float 0-d tensor', fn, rec, zero_d(2.), *tail, match='`num_spikes` must be an int, got a 0-d torch.float32 tensor'),
        err(target, 'num_spikes an int 0-d tensor holding 0', fn, rec, torch.tensor(0), *tail, match='`num_spikes` must be an int >= 1'),
    ]

# =============================================================================================================
# SpikeTime
ST = 'spiketime.SpikeTime'
Spk = S.SpikeTime
for tname in ('on_target', 'off_target'):
    for bad in (NAN, INF, -INF):
        CASES.append(err(ST, f'{tname}={bad}', Spk, **{tname: bad}, match=f'`{tname}` must be a finite real number'))
        CASES.append(err(ST, f'{tname}={bad} (0-d tensor)', Spk, **{tname: zero_d(bad)}, match=f'`{tname}` must be a finite real number'))
        pair_kw = dict(on_target=(0, 1), off_target=(-1, -1)) | {tname: (0, bad)}
        CASES.append(err(ST, f'{tname} holding {bad}, multi_spike', Spk, **pair_kw, multi_spike=True, match=f'`{tname}` must be a finite real number'))
    CASES.append(terr(ST, f'{tname} a string', Spk, **{tname: '0'}, match=f"`{tname}` must be a finite real number, got '0'"))
    CASES.append(terr(ST, f'{tname} True', Spk, **{tname: True}, match=f'`{tname}` must be a finite real number, got True'))
    CASES.append(terr(ST, f'{tname} a sequence without multi_spike', Spk, **{tname: (0, 1)},
                      match=f'`{tname}` must be a finite real number (pass a sequence with `multi_spike=True`)'))
    CASES.append(err(ST, f'{tname} empty with multi_spike', Spk, multi_spike=True, **{'on_target': (), 'off_target': ()},
                     match='`on_target` must be a non-empty sequence of finite times when `multi_spike=True`') if tname == 'on_target' else
                 err(ST, 'off_target a number with multi_spike', Spk, on_target=(0, 1), off_target=-1, multi_spike=True,
                     match='`off_target` must be a non-empty sequence of finite times when `multi_spike=True`, got -1'))
for bad in (-1, NAN, INF):
    CASES.append(err(ST, f'tolerance={bad}', Spk, tolerance=bad, match='`tolerance` must be a finite real number >= 0'))
    CASES.append(err(ST, f'tolerance={bad} (0-d tensor)', Spk, tolerance=zero_d(bad), match='`tolerance` must be a finite real number >= 0'))
CASES += [
    terr(ST, 'target_is_time 1', Spk, 1, match='`target_is_time` must be a bool (True or False), got 1'),
    terr(ST, 'multi_spike None', Spk, multi_spike=None, match='`multi_spike` must be a bool (True or False), got None'),
    err(ST, 'on/off targets of different lengths', Spk, on_target=(0, 4), off_target=(-1,), multi_spike=True,
        match='`on_target` and `off_target` must have the same length F, got 2 and 1'),
    ok(ST, 'on/off targets as 0-d tensors, tolerance a 0-d tensor', lambda: Spk(on_target=zero_d(2.), off_target=torch.tensor(-1), tolerance=zero_d(0.5)),
       check=lambda m: (m.on_target, m.off_target, m.tolerance) == (2., -1., 0.5) or (_ for _ in ()).throw(AssertionError((m.on_target, m.off_target, m.tolerance)))),
    ok(ST, 'multi_spike targets as a 1-D tensor', lambda: Spk(on_target=torch.tensor([0., 3.]), off_target=[-1, -1], multi_spike=True),
       check=lambda m: m.on_target == (0., 3.) or (_ for _ in ()).throw(AssertionError(m.on_target))),
]
st = Spk()
st_time = Spk(target_is_time=True)
given = torch.tensor([2., 3., -1., -8.])
CASES += [
    err(ST, 'record [T] (no neuron dimension)', st, rec[:, 0, 0], torch.tensor(0), match='`spk_out` must be a floating-point tensor [T, ..., N] with at least 2 dimensions'),
    terr(ST, 'record int64', st, rec.long(), labels, match='`spk_out` must be a floating-point tensor [T, ..., N]'),
    err(ST, 'T = 0', st, rec[:0], labels, match='`spk_out` must be a spike record [T, ..., N] with T >= 1'),
    terr(ST, 'labels float', st, rec, labels.float(), match='`targets` must be an integer tensor, got a torch.float32'),
    terr(ST, 'labels bool', st, rec, labels > 0, match='`targets` must be an integer tensor, got a torch.bool'),
    terr(ST, 'labels a list', st, rec, labels.tolist(), match='`targets` must be an integer tensor, got list'),
    err(ST, 'labels = N', st, rec, torch.tensor([0, 4, 1]), match='`targets` must hold class indices in [0, 4), got values from 0 to 4'),
    err(ST, 'labels -1', st, rec, torch.tensor([0, -1, 1]), match='`targets` must hold class indices in [0, 4), got values from -1 to 1'),
    err(ST, 'labels [B, 1]', st, rec, labels[:, None], match='`targets` must be an integer tensor of class indices with shape [...] = (3,)'),
    err(ST, 'labels one-hot', st, rec, torch.eye(4, dtype=torch.long)[labels], match='with shape [...] = (3,), got a torch.int64 tensor of shape (3, 4)'),
    err(ST, 'off_target below -T', Spk(off_target=-9), rec, labels, match='`off_target` must be >= -T = -8 (negative times count from the end), got -9'),
    ok(ST, 'off_target = -T: step 0', Spk(off_target=-8), rec, labels,
       check=pair(exactly(naive_times(rec)[0]), exactly(naive_targets(labels, N, T, 0, -8)))),
    ok(ST, 'on_target beyond T - 1 (unreachable, as snntorch allows)', Spk(on_target=20), rec, labels,
       check=pair(exactly(naive_times(rec)[0]), exactly(naive_targets(labels, N, T, 20, -1)))),
    ok(ST, 'B = 1', st, rec[:, :1], labels[:1], check=pair(exactly(naive_times(rec[:, :1])[0]), exactly(naive_targets(labels[:1], N, T)))),
    ok(ST, 'B = 0', st, rec[:, :0], labels[:0], check=pair(exactly(torch.zeros(0, N)), exactly(torch.zeros(0, N)))),
    ok(ST, 'bfloat16 record: times and targets in bfloat16', st, rec.bfloat16(), labels,
       check=pair(exactly(naive_times(rec)[0], torch.bfloat16), exactly(naive_targets(labels, N, T), torch.bfloat16))),
    terr(ST, 'given times a list', st_time, rec, given.tolist(), match='`targets` must be a real (not complex or bool) tensor of spike times (`target_is_time=True`), got list'),
    terr(ST, 'given times bool', st_time, rec, given > 0, match='`targets` must be a real (not complex or bool) tensor of spike times'),
    err(ST, 'given times that do not broadcast', st_time, rec, torch.ones(3), match='`targets` of shape [3] do not broadcast to the spike times [3, 4]'),
    err(ST, 'given time below -T', st_time, rec, torch.tensor([2., 3., -1., -9.]),
        match='`targets` must hold finite spike times >= -T = -8 (negative times count from the end), got values from -9.0 to 3.0'),
    err(ST, 'given time NaN', st_time, rec, torch.tensor([2., NAN, -1., 0.]), match='`targets` must hold finite spike times >= -T = -8'),
    err(ST, 'given time +inf', st_time, rec, torch.tensor([2., INF, -1., 0.]), match='`targets` must hold finite spike times >= -T = -8'),
    err(ST, 'given time beyond float16 (inf once converted)', st_time, rec.half(), torch.tensor([2., 1e6, -1., 0.]), match='`targets` must hold finite spike times'),
    ok(ST, 'given int64 times, negative ones from the end', st_time, rec, torch.tensor([2, 3, -1, -8]),
       check=pair(exactly(naive_times(rec)[0]), exactly(torch.tensor([2., 3., 7., 0.]).expand(B, N)))),
]

# =============================================================================================================
# mse_temporal_loss and ce_temporal_loss
MSE, CE = 'spiketime.mse_temporal_loss', 'spiketime.ce_temporal_loss'
mse, ce = S.mse_temporal_loss(), S.ce_temporal_loss()
def loss_cases(target, loss):
    return [
        terr(target, 'record a list', loss, rec.tolist(), labels, match='`spk_rec` must be a floating-point tensor [T, ..., N], got list'),
        terr(target, 'record int64', loss, rec.long(), labels, match='`spk_rec` must be a floating-point tensor [T, ..., N], got a torch.int64'),
        terr(target, 'record bool', loss, rec.bool(), labels, match='`spk_rec` must be a floating-point tensor'),
        err(target, 'record [T]', loss, rec[:, 0, 0], torch.tensor(0), match='`spk_rec` must be a floating-point tensor [T, ..., N] with at least 2 dimensions'),
        err(target, 'T = 0', loss, rec[:0], labels, match='`spk_rec` must be a non-empty tensor [T, ..., N]'),
        err(target, 'B = 0 (the mean of nothing)', loss, rec[:, :0], labels[:0], match='`spk_rec` must be a non-empty tensor [T, ..., N]'),
        terr(target, 'labels float', loss, rec, labels.float(), match='`targets` must be an integer tensor, got a torch.float32'),
        err(target, 'labels = N', loss, rec, torch.tensor([0, 4, 1]), match='`targets` must hold class indices in [0, 4), got values from 0 to 4'),
        err(target, 'labels -1', loss, rec, torch.tensor([0, -1, 1]), match='`targets` must hold class indices in [0, 4), got values from -1 to 1'),
        err(target, 'labels of another batch size', loss, rec, labels[:2], match='`targets` must be an integer tensor of class indices with shape [...] = (3,)'),
        err(target, 'bfloat16 record of 300 steps', loss, torch.zeros(300, 2, 4, dtype=torch.bfloat16), labels[:2], match='convert the record with `.float()`'),
    ]
CASES += loss_cases(MSE, mse) + loss_cases(CE, ce)
for bad, exc, text in [('avg', ValueError, "`reduction` must be one of 'mean', 'sum', 'none', got 'avg'"),
                       (None, TypeError, "`reduction` must be one of 'mean', 'sum', 'none', got None")]:
    CASES.append(err(MSE, f'reduction {bad!r}', S.mse_temporal_loss, reduction=bad, match=text, raises=exc))
    CASES.append(err(CE, f'reduction {bad!r}', S.ce_temporal_loss, reduction=bad, match=text, raises=exc))
for target, cls in [(MSE, S.mse_temporal_loss), (CE, S.ce_temporal_loss)]:
    CASES += [
        terr(target, 'weight a list', cls, weight=[1., 2.], match='`weight` must be a floating-point tensor [N] of class weights, got list'),
        terr(target, 'weight int64', cls, weight=torch.ones(4, dtype=torch.long), match='`weight` must be a floating-point tensor [N] of class weights'),
        err(target, 'weight 2-D', cls, weight=torch.ones(1, 4), match='`weight` must be a floating-point tensor [N] of class weights with 1 dimension'),
        err(target, 'weight empty', cls, weight=torch.ones(0), match='`weight` must be a non-empty tensor [N] of class weights'),
        err(target, 'weight with NaN', cls, weight=torch.tensor([1., NAN, 1., 1.]), match='`weight` must hold finite class weights >= 0'),
        err(target, 'weight with inf', cls, weight=torch.tensor([1., INF, 1., 1.]), match='`weight` must hold finite class weights >= 0'),
        err(target, 'weight negative', cls, weight=torch.tensor([1., -1., 1., 1.]), match='`weight` must hold finite class weights >= 0, got values from -1.0 to 1.0'),
        err(target, 'weight shorter than N', cls(weight=torch.ones(3)), rec, labels,
            match='`weight` must have one entry per output neuron (class), N=4, got shape (3,)'),
        err(target, 'weight longer than N', cls(weight=torch.ones(6)), rec, labels,
            match='`weight` must have one entry per output neuron (class), N=4, got shape (6,)'),
    ]
w = rand(N) + 0.1
rec_nan = rec.clone(); rec_nan[3, 2, 2] = NAN
CASES += [
    err(MSE, 'weight with target_is_time', S.mse_temporal_loss, target_is_time=True, weight=torch.ones(4), match='`weight` needs class labels'),
    err(MSE, 'tolerance -1', S.mse_temporal_loss, tolerance=-1, match='`tolerance` must be a finite real number >= 0, got -1'),
    err(MSE, 'on_target NaN (0-d tensor)', S.mse_temporal_loss, on_target=zero_d(NAN), match='`on_target` must be a finite real number'),
    err(MSE, 'given time NaN', S.mse_temporal_loss(target_is_time=True), rec, torch.tensor([2., NAN, -1., 0.]), match='`targets` must hold finite spike times'),
    ok(MSE, 'labels, mean', mse, rec, labels, check=near(naive_mse(rec, naive_targets(labels, N, T)), torch.float32)),
    ok(MSE, 'NaN in the record is no spike: finite', mse, rec_nan, labels,
       check=all_of(finite, near(naive_mse(rec_nan, naive_targets(labels, N, T)), torch.float32))),
    ok(MSE, 'B = 1', mse, rec[:, :1], labels[:1], check=near(naive_mse(rec[:, :1], naive_targets(labels[:1], N, T)), torch.float32)),
    ok(MSE, 'T = 1', mse, rec[:1], labels, check=near(naive_mse(rec[:1], naive_targets(labels, N, 1)), torch.float32)),
    ok(MSE, 'weight, sum', S.mse_temporal_loss(reduction='sum', weight=w), rec, labels,
       check=near(naive_mse(rec, naive_targets(labels, N, T), w, labels, 'sum'), torch.float32)),
    ok(MSE, "weight, 'none'", S.mse_temporal_loss(reduction='none', weight=w), rec, labels,
       check=near(naive_mse(rec, naive_targets(labels, N, T), w, labels, 'none'), torch.float32)),
    ok(MSE, 'given times, float16', S.mse_temporal_loss(target_is_time=True), rec.half(), given,
       check=near(naive_mse(rec, torch.tensor([2., 3., 7., 0.]).expand(B, N)), torch.float16)),
    ok(MSE, 'float16, T = 400: finite (scaled before squaring)', mse, spikes(400, B, N, p=0.002, dtype=torch.float16), labels, check=all_of(finite, dtype_is(torch.float16))),
    ok(CE, 'negate', ce, rec, labels, check=near(naive_ce_temporal(rec, labels), torch.float32)),
    ok(CE, 'reciprocal', S.ce_temporal_loss('reciprocal'), rec, labels, check=near(naive_ce_temporal(rec, labels, 'reciprocal'), torch.float32)),
    ok(CE, 'weight', S.ce_temporal_loss(weight=w), rec, labels, check=near(naive_ce_temporal(rec, labels, weight=w), torch.float32)),
    ok(CE, 'NaN in the record is no spike: finite', ce, rec_nan, labels, check=all_of(finite, near(naive_ce_temporal(rec_nan, labels), torch.float32))),
    ok(CE, 'B = 1', ce, rec[:, :1], labels[:1], check=near(naive_ce_temporal(rec[:, :1], labels[:1]), torch.float32)),
    ok(CE, 'N = 1', ce, rec[..., :1], torch.zeros(B, dtype=torch.long), check=near(torch.tensor(0.), torch.float32)),
    ok(CE, '[T, N] record, 0-d label', ce, rec[:, 1], labels[1], check=near(naive_ce_temporal(rec[:, 1:2], labels[1:2]), torch.float32)),
    err(CE, 'unknown inverse', S.ce_temporal_loss, 'log', match="`inverse` must be one of 'negate', 'reciprocal', got 'log'"),
    terr(CE, 'inverse None', S.ce_temporal_loss, None, match="`inverse` must be one of 'negate', 'reciprocal', got None"),
]
for dtype in LOW:
    CASES.append(ok(MSE, f'{dtype}', mse, rec.to(dtype), labels, check=near(naive_mse(rec, naive_targets(labels, N, T)), dtype)))
    CASES.append(ok(MSE, f'{dtype}, tolerance 1', S.mse_temporal_loss(tolerance=1), rec.to(dtype), labels, check=dtype_is(dtype)))
    CASES.append(ok(CE, f'{dtype}', ce, rec.to(dtype), labels, check=near(naive_ce_temporal(rec, labels), dtype)))
