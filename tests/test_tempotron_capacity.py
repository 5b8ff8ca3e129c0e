"""The batched trainer of the capacity example (snnlit.examples.tempotron_capacity) against the library's rule
(`tempotron_rule_step` on `Tempotron(..., shunting=True)`) and against the plain loops of tests/oracles_cap.py."""
import csv, math
import pytest, torch
from snnlit.tempotron import Tempotron, tempotron_rule_step
from snnlit.examples.tempotron_capacity import (latency_task, latency_membrane, shunted_peak, rule_step, Learner,
                                                train_capacity, task_list, final_errors, main)
from helpers import assert_close, generator
from oracles_cap import shunted_membrane, paper_rule_trial, unit_scale

TAU, TAU_S = 15.0, 3.75
V0 = unit_scale(TAU, TAU_S)


@pytest.mark.parametrize('N,T,R', [(30, 80, 6), (50, 200, 5), (8, 40, 4)])
def test_latency_membrane_equals_grid_model_and_naive(N, T, R):
    times, _ = latency_task(R, N, float(T), seed=N + T)
    times[0, :3] = torch.tensor([0.0, 5.0, T - 1.0])                 # spikes on grid points and at the edges
    w = torch.randn(R, N, generator=generator('membrane', N, T), dtype=torch.float64) * 0.4
    v = latency_membrane(times, w, T, TAU, TAU_S, V0)
    grid = Tempotron(N, R, T).double()
    with torch.no_grad(): grid.fc.weight.copy_(w)
    ref = grid(times, 'v').detach()
    assert_close(v, ref[torch.arange(R), torch.arange(R)])
    before = torch.rand(R, generator=generator('before', N), dtype=torch.float64) * T
    cut = latency_membrane(times, w, T, TAU, TAU_S, V0, before)
    for r in range(R):
        kept = torch.where(times[r] < before[r], times[r], -1.0)
        naive = [sum(w[r, i].item() * (V0 * (math.exp(-(t - s) / TAU) - math.exp(-(t - s) / TAU_S)) if t > s >= 0 else 0.0)
                     for i, s in enumerate(kept.tolist())) for t in range(T)]
        assert_close(cut[r], torch.tensor(naive, dtype=torch.float64))


@pytest.mark.parametrize('seed', range(4))
def test_shunted_peak_equals_naive(seed):
    N, T, R = 25, 90, 8
    times, _ = latency_task(R, N, float(T), seed=seed)
    times[1, 0] = 40.0                                                 # a spike exactly on the grid
    w = torch.randn(R, N, generator=generator('peak', seed), dtype=torch.float64) * 0.4 + 0.12
    w[:R // 2] += 0.25; w[R // 2:] *= 0.3                              # some rows fire, some stay silent
    v_max, t_max, t_spike = shunted_peak(times, w, T, TAU, TAU_S, V0)
    fired = 0
    for r in range(R):
        v, t_star = shunted_membrane([[s] for s in times[r].tolist()], w[r].tolist(), T, TAU, TAU_S)
        assert (t_star is None) == math.isinf(t_spike[r]) and (t_star is None or t_star == t_spike[r])
        assert_close(v_max[r], torch.tensor(max(v), dtype=torch.float64))
        assert int(t_max[r]) == v.index(max(v))
        fired += t_star is not None
    assert 0 < fired < R


@pytest.mark.parametrize('seed', range(3))
def test_rule_step_equals_library_rule_over_a_sequence(seed):
    "Thirty steps of eight tempotrons with momentum: the batched step is tempotron_rule_step, tempotron by tempotron."
    N, T, R, lr, mu = 40, 100, 8, 0.01, 0.9
    times, labels = latency_task(5 * R, N, float(T), seed=100 + seed)
    gen = generator('rule', seed)
    state = Learner(torch.randn(R, N, generator=gen, dtype=torch.float64) * 0.1 + 0.1, torch.zeros(R, N, dtype=torch.float64))
    models = [Tempotron(N, 1, T, shunting=True).double() for _ in range(R)]
    for r, m in enumerate(models):
        with torch.no_grad(): m.fc.weight.copy_(state.w[r:r + 1])
    bufs = [torch.zeros(1, N, dtype=torch.float64) for _ in range(R)]
    active = torch.rand(R, generator=gen) < 0.8
    n_err = 0
    for step in range(30):
        p = torch.randint(0, 5 * R, (R,), generator=gen)
        error = rule_step(state, times[p], labels[p], active, T, TAU, TAU_S, V0, lr, mu)
        for r in range(R):
            if not active[r]: continue
            err = tempotron_rule_step(models[r], times[p[r]][None], labels[p[r], None, None].long(), lr=lr, momentum=bufs[r], mu=mu)
            assert bool(err) == bool(error[r])
            assert_close(state.w[r], models[r].fc.weight.detach()[0])
            assert_close(state.prev[r], bufs[r][0])
        n_err += int(error.sum())
    assert not error[~active].any() and n_err > 10


def test_rule_step_equals_the_papers_rule_written_as_loops():
    N, T, R, lr, mu = 15, 60, 4, 0.05, 0.99
    times, labels = latency_task(R, N, float(T), seed=7)
    gen = generator('paper', 7)
    state = Learner(torch.randn(R, N, generator=gen, dtype=torch.float64) * 0.2 + 0.2,
                    torch.randn(R, N, generator=gen, dtype=torch.float64) * 0.01)
    ref = [paper_rule_trial(times[r].tolist(), state.w[r].tolist(), bool(labels[r]), state.prev[r].tolist(), lr, mu, T,
                            TAU, TAU_S) for r in range(R)]
    error = rule_step(state, times, labels, torch.ones(R, dtype=torch.bool), T, TAU, TAU_S, V0, lr, mu)
    assert [e for _, _, e in ref] == error.tolist() and error.any()
    assert_close(state.w, torch.tensor([w for w, _, _ in ref], dtype=torch.float64))
    assert_close(state.prev, torch.tensor([p for _, p, _ in ref], dtype=torch.float64))


def test_train_capacity_rows_and_the_script(tmp_path):
    rows = train_capacity(task_list([0.3, 1.2], 2, seed=1), N=40, T=40.0, lr=0.01, mu=0.9, max_epochs=15, progress=False)
    assert [(r['alpha'], r['replica'], r['P']) for r in rows] == [(0.3, 0, 12), (0.3, 1, 12), (1.2, 0, 48), (1.2, 1, 48)]
    for r in rows:
        assert r['stopped'] == ('solved' if r['solved'] else 'cap') and 1 <= r['epochs'] <= 15
        assert (r['errors_final'] == 0) if r['solved'] else (r['epochs'] == 15)
    assert rows[0]['solved'] and rows[1]['solved'] and not rows[2]['solved']
    times, labels = latency_task(12, 40, 40.0, rows[0]['seed'])
    assert final_errors(times, labels, torch.zeros(40, dtype=torch.float64), 40, TAU, TAU_S, V0) == int(labels.sum())
    timed = train_capacity(task_list([1.2], 1, seed=1), N=20, T=30.0, max_epochs=10**6, progress=False, time_limit=0.5)
    assert timed[0]['stopped'] == 'time' and not timed[0]['solved']
    out = tmp_path / 'c.csv'
    for _ in range(2):
        main(['--N', '10', '--T', '20', '--alphas', '0.2', '--replicas', '2', '--max-epochs', '5', '--out', str(out)])
    with open(out) as f: written = list(csv.DictReader(f))
    assert len(written) == 4 and {r['replica'] for r in written} == {'0', '1'}     # appended, one header


def test_train_capacity_bad_input():
    with pytest.raises(ValueError, match='`T / tau_s` must be <= 600'):
        train_capacity(task_list([0.1], 1, 0), N=10, T=5000.0, tau_s=3.0, progress=False)


def test_half_ms_grid_samples_the_same_membrane():
    "--dt 0.5: times and time constants in half-ms steps; every other step is the 1-ms grid's membrane."
    times, _ = latency_task(3, 20, 60.0, seed=5)
    w = torch.randn(3, 20, generator=generator('dt'), dtype=torch.float64) * 0.5
    fine = latency_membrane(times / 0.5, w, 120, TAU / 0.5, TAU_S / 0.5, V0)
    assert_close(fine[:, ::2], latency_membrane(times, w, 60, TAU, TAU_S, V0))
    rows = train_capacity(task_list([0.5], 1, seed=2), N=20, T=30.0, dt=0.5, max_epochs=2, progress=False)
    assert rows[0]['dt'] == 0.5 and rows[0]['epochs'] >= 1
