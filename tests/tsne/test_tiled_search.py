"""The tiled exact search of all points (tiled_search.py, selection.c) and the C pair distances
(distances.c): the true neighbours on real embeddings up to float32 ties, in both builds and on
several threads; reservoirs that fill and compact, partial tiles, duplicates; the fallbacks."""
from __future__ import annotations

import pytest
import torch

from nbviz.tsne import native, tiled_search as tiled
from nbviz.tsne import neighbors as knn

EPS32 = torch.finfo(torch.float32).eps


@pytest.fixture(scope="module")
def vocabulary_rows():
    """3,000 rows of the all-MiniLM-L6-v2 word-embedding matrix (real, 384-d), centred."""
    from nbviz.data import text_embeddings

    matrix, _ = text_embeddings(special=False)
    return knn.centred(torch.from_numpy(matrix[:3000]))


def true_sq_distances(X: torch.Tensor) -> torch.Tensor:
    """Every pair's squared distance in float64, a point's own set to +inf."""
    sq = torch.cdist(X.double(), X.double()).square()
    sq.fill_diagonal_(float("inf"))
    return sq


def rank_tolerance(X: torch.Tensor) -> torch.Tensor:
    """Per point: how far apart two true squared distances can be and still swap ranks when
    ranked by float32 scores |x_j|^2 - 2 x_i.x_j, the dot product of D terms off by at most
    D eps |x_i| |x_j|: tol = 4 D eps (|x_i|^2 + max |x|^2)."""
    sq_norms = X.double().square().sum(dim=1)
    return 4 * X.shape[1] * EPS32 * (sq_norms + sq_norms.max())


def check_true_neighbours(X: torch.Tensor, found: torch.Tensor, k: int) -> None:
    """Each row lists k distinct other points, none farther than its true k-th neighbour plus
    the rank tolerance; where the k-th and (k+1)-th are farther apart than that, exactly the
    true set."""
    n = X.shape[0]
    assert found.shape == (n, k)
    assert not torch.any(found.long() == torch.arange(n).unsqueeze(1)), "a point never lists itself"
    assert all(len(set(row)) == k for row in found.tolist())
    true_sq = true_sq_distances(X)
    ranked = torch.sort(true_sq, dim=1).values
    kth = ranked[:, k - 1]
    tol = rank_tolerance(X)
    assert torch.all(torch.gather(true_sq, 1, found.long()) <= (kth + tol).unsqueeze(1))
    if k < n - 1:
        clear = ranked[:, k] - kth > 2 * tol
        truth = torch.topk(true_sq, k, dim=1, largest=False).indices
        assert int(clear.sum()) >= n // 20  # the vocabulary's k-th and (k+1)-th are often near-ties
        for got, want, resolvable in zip(found.tolist(), truth.tolist(), clear.tolist()):
            assert not resolvable or set(got) == set(want)


@pytest.mark.parametrize("build", ["openmp_build", "serial_build"])
def test_the_tiled_search_finds_the_true_neighbours_of_real_embeddings_on_several_threads(request, build, monkeypatch, vocabulary_rows):
    """3,000 vocabulary rows in tiles of 700 (the last one partial): the true 30 nearest up to
    float32 ties, on 1 to 3 threads."""
    built = request.getfixturevalue(build)
    monkeypatch.setattr(tiled, "TILE", 700)
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            found = tiled.tiled_search(vocabulary_rows, 30, native.native_tile_selection(built))
            assert found.dtype == torch.int32
            check_true_neighbours(vocabulary_rows, found, 30)
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("k", [1, 4, 90, 599])
def test_reservoirs_that_fill_and_compact_often_or_never_keep_the_true_neighbours(serial_build, monkeypatch, digits, k):
    """600 real digit images (64-d) in tiles of 128: k = 1 and 4 compact a reservoir of 2k
    entries hundreds of times, k = 90 a few times, k = 599 (every other point) never."""
    X = knn.centred(torch.from_numpy(digits[0][:600]))
    monkeypatch.setattr(tiled, "TILE", 128)
    found = tiled.tiled_search(X, k, native.native_tile_selection(serial_build))
    check_true_neighbours(X, found, k)


def test_a_reservoir_wider_than_the_stack_workspace_still_keeps_the_true_neighbours(serial_build, monkeypatch, digits):
    """All 1,797 digits, k = 600: the reservoir of 1,200 entries is wider than the quickselect's
    workspace on the stack (SELECT_ON_STACK = 1,024 scores in selection.c), so its compactions
    take the heap workspace; the integer pixels give many tied scores at the k-th place."""
    X = knn.centred(torch.from_numpy(digits[0]))
    monkeypatch.setattr(tiled, "TILE", 256)
    found = tiled.tiled_search(X, 600, native.native_tile_selection(serial_build))
    check_true_neighbours(X, found, 600)


def test_data_listed_class_by_class_or_shuffled_gives_the_same_neighbours(serial_build, monkeypatch, digits):
    """The diagonal tiles come first; the order of the points does not change what is found."""
    X, labels = torch.from_numpy(digits[0][:900]), torch.from_numpy(digits[1][:900])
    X = knn.centred(X)
    by_class = torch.argsort(labels, stable=True)
    monkeypatch.setattr(tiled, "TILE", 256)
    k = 20
    found_sorted = tiled.tiled_search(X[by_class], k, native.native_tile_selection(serial_build))
    position = torch.empty_like(by_class)
    position[by_class] = torch.arange(900)
    from_sorted = by_class[found_sorted.long()][position]  # rows and entries in the given numbering
    found = tiled.tiled_search(X, k, native.native_tile_selection(serial_build)).long()
    ranked = torch.sort(true_sq_distances(X), dim=1).values
    clear = ranked[:, k] - ranked[:, k - 1] > 2 * rank_tolerance(X)
    assert int(clear.sum()) >= 90
    for got, want, resolvable in zip(from_sorted.tolist(), found.tolist(), clear.tolist()):
        assert not resolvable or set(got) == set(want)


def test_duplicates_list_each_other_and_never_themselves(serial_build):
    """A pair of copies are each other's nearest; 12 copies of one point, k = 5: each lists 5
    of the other 11 (distance 0), never itself."""
    X = torch.randn(400, 8, generator=torch.Generator().manual_seed(2))
    X[7] = X[3]
    X[100:112] = X[100]
    found = tiled.tiled_search(X, 5, native.native_tile_selection(serial_build)).long()
    assert 7 in found[3].tolist() and 3 in found[7].tolist()
    copies = set(range(100, 112))
    for i in copies:
        assert set(found[i].tolist()) <= copies - {i}


def test_exact_search_of_all_points_goes_through_the_tiles_and_falls_back_without_them(monkeypatch, digits):
    X = knn.centred(torch.from_numpy(digits[0][:500]))
    calls = []
    real = knn.tiled_search
    monkeypatch.setattr(knn, "tiled_search", lambda *args: calls.append("tiled") or real(*args))
    if native.loaded_library() is None:
        pytest.skip("no C compiler here")
    with_tiles = knn.exact_search(X, 10)
    assert calls == ["tiled"] and with_tiles.dtype == torch.int64
    monkeypatch.setenv("NBVIZ_TSNE_NATIVE", "0")
    without = knn.exact_search(X, 10)
    assert calls == ["tiled"]
    true_sq = true_sq_distances(X)  # the digits' integer pixels tie often: compare distances
    torch.testing.assert_close(torch.sort(torch.gather(true_sq, 1, with_tiles), 1).values,
                               torch.sort(torch.gather(true_sq, 1, without), 1).values, rtol=1e-5, atol=0)
    assert knn.exact_search(X.double(), 10).shape == (500, 10)  # float64: torch's search
    assert calls == ["tiled"]


@pytest.mark.parametrize("build", ["openmp_build", "serial_build"])
@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64])
def test_c_pair_distances_are_the_direct_sums_within_two_float32_roundings(request, build, index_dtype, vocabulary_rows):
    """Each difference rounded to float32, squared and summed in double, stored in float32: at
    most (1 + u)^3 - 1 < 2 eps32 from the exact sum of the float32 inputs; 1 to 3 threads."""
    built = request.getfixturevalue(build)
    X = vocabulary_rows
    g = torch.Generator().manual_seed(3)
    queries = X[:1700]
    indices = torch.randint(0, 3000, (1700, 25), generator=g).to(index_dtype)
    exact = (queries.double().unsqueeze(1) - X.double()[indices.long()]).square().sum(-1)
    function = native.native_pair_sq_distances(built)
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            got = function(queries, X, indices)
            assert got.dtype == torch.float32
            assert torch.all((got.double() - exact).abs() <= 2 * EPS32 * exact)
    finally:
        torch.set_num_threads(previous)
    assert function(queries.double(), X.double(), indices) is None  # float64: declined
    torch.testing.assert_close(knn.pair_sq_distances(queries.double(), X.double(), indices, dtype=torch.float32),
                               exact.float(), rtol=4 * EPS32, atol=0)


def test_a_toolchain_without_multiversioning_still_builds_the_library(tmp_path, monkeypatch, digits):
    """Where target_clones does not build, the second try (ONE_TARGET) does, and it selects the
    same neighbours."""
    compiler = native.c_compiler()
    if compiler is None:
        pytest.skip("no C compiler here")
    wrapper = tmp_path / "cc"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" -c "*) case " $* " in *{native.ONE_TARGET}*) ;; *) exit 1 ;; esac ;; esac\n'
        f'exec {" ".join(compiler)} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("CC", str(wrapper))
    built = native.build(None)
    assert built is not None
    X = knn.centred(torch.from_numpy(digits[0][:500]))
    found = tiled.tiled_search(X, 15, native.native_tile_selection(built))
    check_true_neighbours(X, found, 15)


def test_data_of_few_dimensions_is_searched_in_cluster_order_with_the_same_result(monkeypatch, digits, vocabulary_rows):
    """Above one tile, points of at most CLUSTER_ORDER_MAX_DIMENSIONS go through the search in
    k-means cluster order and the neighbours come back in the caller's numbering, the true ones
    up to ties; the 384-d vocabulary is searched as given."""
    if native.loaded_library() is None:
        pytest.skip("no C compiler here")
    orders = []
    real_order = knn._cluster_order
    monkeypatch.setattr(knn, "_cluster_order", lambda data, seed: orders.append(data.shape) or real_order(data, seed))
    monkeypatch.setattr(knn, "TILE", 256)
    monkeypatch.setattr(tiled, "TILE", 256)
    X = knn.centred(torch.from_numpy(digits[0][:1200]))
    found = knn.exact_search(X, 25)
    assert orders == [(1200, 64)] and found.dtype == torch.int64
    check_true_neighbours(X, found, 25)
    knn.exact_search(vocabulary_rows[:1000], 10)
    knn.exact_search(X[:256], 10)  # a single tile: nothing to order
    assert orders == [(1200, 64)]
