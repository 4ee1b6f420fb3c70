"""The streaming optimizer: update rule, schedule, live settings, pause/resume, restart, threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from nbviz.tsne import PHASE_EARLY, PHASE_MAIN, TSNE, Frame, TSNEError
from tsne_testdata import gaussian_blobs


@pytest.fixture
def data():
    X, _ = gaussian_blobs(150, 8, 4, seed=0)
    return X


def test_first_iterations_match_opentsne_gradient_descent(data):
    """Same P, same start: our steps equal openTSNE's gradient_descent with the exact (theta=0) gradient.

    The start is spread to std ~1: at openTSNE's std 1e-4 its quad tree merges near points, so its
    theta=0 gradient is no longer exact there.
    """
    from openTSNE.tsne import gradient_descent, kl_divergence_bh

    spread = np.random.default_rng(0).normal(size=(len(data), 2))
    run = TSNE(perplexity=10, random_state=0, method="exact", init=spread).optimizer(data)
    P = run.affinities.to_dense().numpy()
    start = run.embedding.double().numpy().copy()
    theirs = start.copy()
    optimizer = gradient_descent()
    optimizer(theirs, sp.csr_matrix(P), n_iter=15, objective_function=kl_divergence_bh, learning_rate=len(data) / 12,
              momentum=0.5, exaggeration=12, theta=0.0, max_step_norm=5)
    run.run(15)
    ours = run.embedding.double().numpy()
    assert np.abs(ours - theirs).max() / np.abs(theirs).max() < 1e-3
    theirs_late = theirs.copy()
    optimizer(theirs_late, sp.csr_matrix(P), n_iter=10, objective_function=kl_divergence_bh, learning_rate=len(data),
              momentum=0.8, exaggeration=1, theta=0.0, max_step_norm=5)
    run._early_iter = 15  # switch to the second phase now, as openTSNE's second optimize() call does
    run.run(10)
    assert np.abs(run.embedding.double().numpy() - theirs_late).max() / np.abs(theirs_late).max() < 1e-3


def test_schedule_and_global_counter(data):
    run = TSNE(perplexity=10, n_iter=30, early_exaggeration_iter=10, random_state=0).optimizer(data)
    frames = [Frame(f.iteration, f.embedding.clone(), f.kl, f.exaggeration, f.phase) for f in run]
    assert [f.iteration for f in frames] == list(range(1, 31))
    assert all(f.exaggeration == 12 and f.phase == PHASE_EARLY for f in frames[:10])
    assert all(f.exaggeration == 1 and f.phase == PHASE_MAIN for f in frames[10:])
    assert run.done and run.iteration == 30
    after = run.step()  # past the end: keeps optimising at exaggeration 1
    assert after.iteration == 31 and after.exaggeration == 1 and after.phase == PHASE_MAIN
    assert not torch.equal(after.embedding, frames[-1].embedding)


def test_frame_embedding_is_the_live_tensor(data):
    run = TSNE(perplexity=10, random_state=0).optimizer(data)
    frame = run.step()
    assert frame.embedding is run.embedding
    kept = frame.embedding.clone()
    run.step()
    assert not torch.equal(kept, run.embedding)


def test_streaming_equals_fit_transform_and_pause_resume(data):
    model = TSNE(perplexity=10, n_iter=80, early_exaggeration_iter=30, random_state=3)
    Y = model.fit_transform(data)
    assert model.n_iter_ == 80
    run = model.optimizer(data)
    seen = []
    for frame in run:
        seen.append(frame.iteration)
        if frame.iteration == 17:
            break  # pause
    assert run.iteration == 17
    run.run(20)
    for frame in run:  # resume to the end
        seen.append(frame.iteration)
    assert seen == list(range(1, 18)) + list(range(38, 81))
    np.testing.assert_array_equal(run.embedding.numpy(), Y)
    assert run.kl_divergence() == pytest.approx(model.kl_divergence_, rel=1e-12)


def test_run_callback_can_stop(data):
    run = TSNE(perplexity=10, random_state=0).optimizer(data)
    last = run.run(100, callback=lambda f: f.iteration == 5)
    assert last.iteration == 5 and run.iteration == 5
    with pytest.raises(TSNEError, match="n_steps"):
        run.run(-1)


def test_kl_on_request_is_the_corrected_kl_of_the_step_start(data):
    run = TSNE(perplexity=10, random_state=0, method="exact").optimizer(data)
    run.run(40)  # still in early exaggeration
    before = run.kl_divergence()
    frame = run.step(compute_kl=True)
    assert frame.exaggeration == 12
    assert frame.kl == pytest.approx(before, rel=1e-9)
    # exaggeration-corrected: equals KL'/alpha - log alpha with KL' computed against alpha * P
    y = run.embedding.double()
    dense = run.affinities.to_dense()
    diff = y.unsqueeze(1) - y.unsqueeze(0)
    w = (1 / (1 + diff.square().sum(-1))) * (1 - torch.eye(len(y), dtype=torch.float64))
    q = w / w.sum()
    mask = dense > 0
    exaggerated = float((12 * dense[mask] * torch.log(12 * dense[mask] / q[mask])).sum())
    assert run.kl_divergence() == pytest.approx(exaggerated / 12 - np.log(12), rel=1e-6)
    assert run.step().kl is None


def test_kl_decreases_over_a_run(data):
    run = TSNE(perplexity=10, random_state=0, n_iter=300, early_exaggeration_iter=100).optimizer(data)
    start = run.kl_divergence()
    run.run(300)
    assert run.kl_divergence() < 0.5 * start


def test_set_exaggeration_and_learning_rate_take_effect_next_step(data):
    run = TSNE(perplexity=10, random_state=0).optimizer(data)
    run.step()
    run.set_exaggeration(4.0)
    assert run.exaggeration == 4.0 and run.learning_rate == pytest.approx(150 / 4)
    assert run.step().exaggeration == 4.0
    run.set_learning_rate(10.0)
    assert run.learning_rate == 10.0
    y0 = run.embedding.clone()
    update0 = run._update.clone()
    run.step()
    run.set_learning_rate("auto")
    assert run.learning_rate == pytest.approx(150 / 4)
    run.set_exaggeration(None)
    assert run.exaggeration == 12.0
    with pytest.raises(TSNEError, match="exaggeration"):
        run.set_exaggeration(-1)
    with pytest.raises(TSNEError, match="learning_rate"):
        run.set_learning_rate("slow")
    assert not torch.equal(y0, run.embedding) and update0.abs().sum() > 0


def test_learning_rate_scales_the_first_step(data):
    steps = []
    for lr in (5.0, 10.0):
        run = TSNE(perplexity=10, random_state=0, learning_rate=lr).optimizer(data)
        start = run.embedding.clone()
        run.step()
        steps.append(run.embedding - start)
    # first step: update = -lr * gains * g with gains = 1.2 everywhere (update starts at 0)
    torch.testing.assert_close(steps[1], 2 * steps[0], rtol=1e-4, atol=1e-12)


def test_set_perplexity_recomputes_p_and_keeps_the_layout(data):
    run = TSNE(perplexity=10, random_state=0).optimizer(data)
    run.run(20)
    layout = run.embedding.clone()
    old_pairs = int((run.affinities.weights > 0).sum())
    run.set_perplexity(30)
    assert run.perplexity == 30 and run.iteration == 20
    assert torch.equal(run.embedding, layout)
    assert int((run.affinities.weights > 0).sum()) > old_pairs, "90 neighbours per point instead of 30"
    fresh = TSNE(perplexity=30, random_state=0).optimizer(data).affinities
    torch.testing.assert_close(run.affinities.to_dense(), fresh.to_dense())
    run.set_perplexity(5)  # smaller: reuses the stored neighbours
    torch.testing.assert_close(run.affinities.to_dense(), TSNE(perplexity=5, random_state=0).optimizer(data).affinities.to_dense())
    assert run.step().iteration == 21
    with pytest.raises(TSNEError, match="perplexity"):
        run.set_perplexity(0)
    assert run.perplexity == 5, "a rejected setting leaves the state alone"


def test_a_large_run_recomputes_the_distances_a_perplexity_change_needs(data, monkeypatch):
    """Above KEEP_DISTANCES_BYTES only the neighbour indices are kept; a perplexity change then
    recomputes the distances from the same centred data the search used, so P is identical."""
    import nbviz.tsne.optimizer as optimizer_module

    kept = TSNE(perplexity=10, random_state=0).optimizer(data)
    assert kept._knn.sq_distances is not None, "a small run keeps its distances"
    monkeypatch.setattr(optimizer_module, "KEEP_DISTANCES_BYTES", 0)
    dropped = TSNE(perplexity=10, random_state=0).optimizer(data)
    assert dropped._knn.sq_distances is None
    kept.set_perplexity(5)
    dropped.set_perplexity(5)
    assert torch.equal(dropped.affinities.to_dense(), kept.affinities.to_dense())


def test_restart(data):
    run = TSNE(perplexity=10, random_state=0, init="random").optimizer(data)
    first_start = run.initial_embedding
    assert first_start.shape == (150, 2) and first_start.std() == pytest.approx(1e-4, rel=0.2)
    run.run(30)
    run.set_exaggeration(3)
    run.restart(random_state=5)
    assert run.iteration == 0 and run.exaggeration == 12
    assert not np.allclose(run.initial_embedding, first_start)
    np.testing.assert_allclose(run.embedding.numpy(), run.initial_embedding - run.initial_embedding.mean(0), atol=1e-10)
    run.run(30)
    again = TSNE(perplexity=10, random_state=5, init="random").optimizer(data)
    again.run(30)
    torch.testing.assert_close(run.embedding, again.embedding)

    pca = TSNE(perplexity=10, random_state=0).optimizer(data)
    start = pca.initial_embedding
    assert np.std(start[:, 0]) == pytest.approx(1e-4, rel=1e-4)
    pca.run(10)
    pca.restart()
    np.testing.assert_allclose(pca.initial_embedding, start)


def test_a_seed_changes_the_run_under_every_init(data):
    """PCA starts are deterministic (TSNE(random_state=0) and (1) agree), so restart(random_state=s)
    switches to a seeded random start: two seeds differ, one seed repeats exactly."""
    fits = [TSNE(perplexity=10, random_state=s, n_iter=20).fit_transform(data) for s in (0, 1)]
    np.testing.assert_array_equal(fits[0], fits[1])
    starts = []
    for seed in (1, 2, 1):
        run = TSNE(perplexity=10, random_state=0).optimizer(data)
        run.restart(random_state=seed)
        starts.append(run.initial_embedding)
    assert not np.allclose(starts[0], starts[1])
    np.testing.assert_array_equal(starts[0], starts[2])
    assert starts[0].std() == pytest.approx(1e-4, rel=0.2)


def test_pca_init_matches_sklearn_pca_up_to_sign(data):
    from sklearn.decomposition import PCA

    start = TSNE(perplexity=10, random_state=0).optimizer(data).initial_embedding
    ref = PCA(2).fit_transform(data.astype(np.float64))
    ref = ref / ref[:, 0].std() * 1e-4
    for c in range(2):
        assert min(np.abs(start[:, c] - ref[:, c]).max(), np.abs(start[:, c] + ref[:, c]).max()) < 1e-9


def test_setters_from_another_thread_are_serialised(data):
    run = TSNE(perplexity=10, random_state=0, n_iter=200).optimizer(data)
    errors = []

    def fiddle():
        try:
            for i in range(200):
                run.set_exaggeration(1.0 + (i % 5))
                run.set_learning_rate("auto" if i % 2 else 20.0)
                if i % 50 == 0:
                    run.set_perplexity(8 + i % 7)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=fiddle)
    worker.start()
    frames = [run.step() for _ in range(200)]
    worker.join()
    assert not errors
    assert frames[-1].iteration == 200 and torch.isfinite(run.embedding).all()


def test_seeded_runs_are_reproducible(data):
    a = TSNE(perplexity=10, n_iter=60, random_state=11, init="random").fit_transform(data)
    b = TSNE(perplexity=10, n_iter=60, random_state=11, init="random").fit_transform(data)
    c = TSNE(perplexity=10, n_iter=60, random_state=12, init="random").fit_transform(data)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_three_components_with_exact_gradient(data):
    model = TSNE(n_components=3, perplexity=10, n_iter=100, random_state=0)
    Y = model.fit_transform(data)
    assert Y.shape == (150, 3) and np.all(np.isfinite(Y))
    from nbviz.tsne.gradients import choose_repulsion

    assert choose_repulsion(torch.from_numpy(Y), model.optimizer(data).method) == "exact"  # 150 points: no grid


def test_work_arrays_are_released_on_close_and_made_again_when_needed(data):
    run = TSNE(perplexity=10, random_state=0, method="exact").optimizer(data)
    run.run(3, compute_kl=True)
    held = run._workspace.nbytes
    assert held > 0, "the KL's table pass keeps its blocks between steps"
    before = run.embedding.clone()
    run.close()
    assert run._workspace.nbytes == 0
    torch.testing.assert_close(run.embedding, before)
    run.step(compute_kl=True)
    assert run._workspace.nbytes == held


def test_a_cpu_run_prepares_its_c_kernels_before_the_neighbour_search(data, monkeypatch):
    """The one-off C build (or cache load) is its own step ahead of the search, so that a first
    run's compile is not counted as search time (benchmarks/tsne_speed.py times both)."""
    from nbviz.tsne import optimizer as optimizer_module

    steps = []
    prepare, search = optimizer_module.native_library, optimizer_module.nearest_neighbors
    monkeypatch.setattr(optimizer_module, "native_library", lambda: steps.append("C kernels") or prepare())
    monkeypatch.setattr(optimizer_module, "nearest_neighbors",
                        lambda *args, **kwargs: steps.append("search") or search(*args, **kwargs))
    TSNE(perplexity=10, random_state=0, device="cpu").optimizer(data)
    assert steps == ["C kernels", "search"]
