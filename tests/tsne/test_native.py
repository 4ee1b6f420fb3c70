"""The C kernels: the attraction equal to the float64 sum within float32 rounding, the FFT
repulsion's grid steps equal to their torch version, in both builds (on torch's OpenMP threads,
and serial on Python threads); the torch kernels wherever they cannot be built or do not apply."""
from __future__ import annotations

import os

import pytest
import torch

from nbviz.tsne import fft_repulsion as fft
from nbviz.tsne import kernels, native
from nbviz.tsne.gradients import attraction, attraction_table_eager

EPS32 = torch.finfo(torch.float32).eps


def random_table(n_points: int, rows: int, width: int, dim: int, seed: int = 0):
    """A layout and a neighbour table as the affinities build them: every point owns a row,
    hubs own extra rows; a quarter of the slots are padding (weight 0, pointing at the owner)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randn(n_points, dim, generator=g) * 10
    owner = torch.cat([torch.arange(n_points), torch.randint(0, n_points, (rows - n_points,), generator=g)])
    table = torch.randint(0, n_points, (rows, width), generator=g)
    weights = torch.rand(rows, width, generator=g) / (n_points * width)
    padding = torch.rand(rows, width, generator=g) < 0.25
    weights[padding] = 0.0
    table = torch.where(padding, owner.unsqueeze(1).expand(-1, width), table)
    return y, owner.to(torch.int32), table.to(torch.int32), weights


def check_against_float64(out: torch.Tensor, y, owner, table, weights) -> None:
    """|a - a64| <= 2 (W + 3) eps32 sum_m |pw_m D_m| per row and coordinate: float32 rounding of
    each term (a few ulps) plus a W-term sum in any order."""
    y64, w64 = y.double(), weights.double()
    d = y64[owner.long()].unsqueeze(1) - y64[table.long()]
    terms = (w64 / (1 + d.square().sum(-1))).unsqueeze(-1) * d
    exact = terms.sum(1)
    bound = 2 * (table.shape[1] + 3) * EPS32 * terms.abs().sum(1) + 1e-30
    assert out.dtype == torch.float32 and out.shape == exact.shape
    excess = ((out.double() - exact).abs() / bound).max().item()
    assert excess <= 1.0, excess


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("build", ["openmp_build", "serial_build"])
def test_both_builds_equal_the_float64_sum_on_several_threads(request, build, dim):
    built = request.getfixturevalue(build)
    rows = 5 * native.MIN_ROWS_PER_THREAD + 17  # several threads, uneven ranges
    y, owner, table, weights = random_table(3000, rows, 48, dim)
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            check_against_float64(native.native_attraction(built)(y, owner, table, weights), y, owner, table, weights)
    finally:
        torch.set_num_threads(previous)


def test_the_openmp_build_runs_on_torchs_runtime_and_loads_no_other(openmp_build):
    mapped = {line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line}
    assert native.torch_openmp_runtime() in mapped
    assert native.build(native.torch_openmp_runtime()) is not None
    assert {line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line} == mapped


def test_attraction_with_the_native_kernel_equals_the_torch_kernel_on_real_affinities(serial_build):
    from nbviz.data import digits
    from nbviz.tsne import TSNE

    run = TSNE(random_state=0).optimizer(digits()[0][:600])
    run.run(60)
    P = run.affinities
    y = run.embedding.float().contiguous()
    ours = attraction(y, P, native.native_attraction(serial_build))
    theirs = attraction(y.double(), P, attraction_table_eager)
    scale = theirs.abs().max()
    assert ((ours.double() - theirs).abs().max() / scale).item() < 50 * EPS32


def test_inputs_it_does_not_handle_are_declined_and_the_kernel_falls_back_to_torch(serial_build):
    y, owner, table, weights = random_table(200, 260, 16, 2)
    table_pass = native.native_attraction(serial_build)
    assert table_pass(y.double(), owner, table, weights) is None
    assert table_pass(torch.randn(200, 4), owner, table, weights) is None
    assert table_pass(y, owner, table.long(), weights) is None
    assert table_pass(y, owner, table[:, :0], weights[:, :0]).abs().sum() == 0
    chosen = kernels.attraction_kernel(200, torch.device("cpu"), use_compile=False)
    y64 = y.double()
    torch.testing.assert_close(chosen(y64, owner, table, weights.double()),
                               attraction_table_eager(y64, owner, table, weights.double()), rtol=0, atol=0)


def test_no_compiler_means_no_native_kernel(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native.build(native.torch_openmp_runtime()) is None
    assert native.build(None) is None
    monkeypatch.setenv("CC", "false")  # a compiler that always fails
    assert native.build(None) is None


def test_the_environment_switch_keeps_the_torch_kernels(monkeypatch):
    monkeypatch.setenv("NBVIZ_TSNE_NATIVE", "0")
    monkeypatch.setenv("NBVIZ_TSNE_COMPILE", "0")
    assert kernels.attraction_kernel(50_000, torch.device("cpu")) is attraction_table_eager
    monkeypatch.delenv("NBVIZ_TSNE_NATIVE")
    if native.loaded_library() is not None:
        assert kernels.attraction_kernel(50_000, torch.device("cpu")) is not attraction_table_eager


def test_the_c_sources_ship_next_to_their_loader():
    for source in (*native.SOURCES, *native.HEADERS):
        assert source.is_file() and os.path.getsize(source) > 500


def torch_grid_steps(y: torch.Tensor, n_boxes: int, box: float, p: int):
    """fft_repulsion's torch spreading (the grid) and its reading (a function of the fields)."""
    low = y.min()
    scaled = (y - low) / box
    node_index, weights = fft._node_indices_and_weights(scaled, scaled.floor().clamp_(0, n_boxes - 1), n_boxes * p, p)
    grid = torch.zeros((1, (n_boxes * p) ** y.shape[1])).index_add_(1, node_index.reshape(-1), weights.reshape(1, -1))

    def read(fields: torch.Tensor) -> torch.Tensor:
        return (fields[:, node_index] * weights).sum(dim=2).T

    return float(low), grid, read


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("build", ["openmp_build", "serial_build"])
def test_the_grid_steps_equal_their_torch_version(request, build, dim):
    """The same float32 stencil (box, local coordinate, Lagrange weights) as the torch steps, so
    only the order of the sums differs: a few float32 ulps of the sums' magnitudes. The layout
    reaches the grid's last box, where the clamped box puts t at 1."""
    interpolation = native.GridInterpolation(request.getfixturevalue(build))
    g = torch.Generator().manual_seed(dim)
    n = 3 * native.MIN_ROWS_PER_THREAD + 5
    y = torch.randn(n, dim, generator=g) * 6
    span = float(y.max() - y.min())
    p = fft.interpolation_points(dim)
    n_boxes, box = fft.grid_geometry(span, n, dim=dim)
    low, grid, read = torch_grid_steps(y, n_boxes, box, p)
    ours = interpolation.spread(y, low, box, n_boxes, p)
    torch.testing.assert_close(ours, grid, rtol=1e-5, atol=1e-5 * float(grid.abs().max()))
    assert float(ours.sum()) == pytest.approx(n, rel=1e-5)  # the weights of each point sum to 1
    c_source = native.SOURCES[1].read_text()
    assert f"#define MAX_NODES_PER_AXIS {native.MAX_NODES_PER_AXIS}\n" in c_source
    with pytest.raises(ValueError, match="nodes per box"):
        interpolation.spread(y, low, box, n_boxes, native.MAX_NODES_PER_AXIS + 1)
    fields = torch.randn(dim, grid.shape[1], generator=g)
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            read_back = interpolation.gather(y, low, box, n_boxes, p, fields)
            torch.testing.assert_close(read_back, read(fields), rtol=1e-5, atol=1e-5 * float(fields.abs().max()))
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("dim", [2, 3])
def test_fft_repulsion_is_the_same_with_and_without_the_c_steps(monkeypatch, dim):
    if native.loaded_library() is None:
        pytest.skip("no C compiler here")
    g = torch.Generator().manual_seed(5)
    y = torch.randn(20_000 if dim == 2 else 4_000, dim, generator=g) * 12
    ours, z = fft.fft_repulsion(y)
    monkeypatch.setenv("NBVIZ_TSNE_NATIVE", "0")
    assert fft.native_interpolation(y) is None
    theirs, z_torch = fft.fft_repulsion(y)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5 * float(theirs.abs().max()))
    assert float(z) == pytest.approx(float(z_torch), rel=1e-6)
    assert fft.native_interpolation(y.double()) is None  # float64 layouts stay in torch


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("build", ["openmp_build", "serial_build"])
def test_the_exact_repulsion_equals_the_float64_sum_on_several_threads(request, build, dim):
    """Per row and coordinate within 2 (N + 3) eps32 sum_j |w_ij^2 d_ij| of the float64 sum (float32
    terms summed in any order), Z within 2 (N + 3) eps32 relative; a duplicated point (d = 0, w = 1)
    counts like any other pair, and only the point itself is left out."""
    built = request.getfixturevalue(build)
    g = torch.Generator().manual_seed(10 + dim)
    n = 2 * native.MIN_ROWS_PER_THREAD + 301
    y = torch.randn(n, dim, generator=g) * 15
    y[7] = y[3]
    d = y.double().unsqueeze(1) - y.double().unsqueeze(0)
    w = 1.0 / (1.0 + d.square().sum(-1))
    w.fill_diagonal_(0.0)
    terms = (w * w).unsqueeze(-1) * d
    exact, z_exact = terms.sum(1), w.sum()
    bound = 2 * (n + 3) * EPS32 * terms.abs().sum(1) + 1e-30
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            force, z = native.native_exact_repulsion(y, built)(y)
            assert force.dtype == torch.float32 and z.dtype == torch.float64
            assert ((force.double() - exact).abs() / bound).max().item() <= 1.0
            assert abs(float(z) / float(z_exact) - 1) <= 2 * (n + 3) * EPS32
    finally:
        torch.set_num_threads(previous)


def test_the_gradient_uses_the_c_exact_repulsion_and_agrees_with_torchs(monkeypatch):
    from nbviz.tsne import gradients

    if native.loaded_library() is None:
        pytest.skip("no C compiler here")
    y = torch.randn(900, 2, generator=torch.Generator().manual_seed(4)) * 20
    ours, z = gradients.repulsion(y, "exact")
    monkeypatch.setenv("NBVIZ_TSNE_NATIVE", "0")
    assert native.native_exact_repulsion(y) is None
    theirs, z_torch = gradients.repulsion(y, "exact")
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5 * float(theirs.abs().max()))
    assert float(z) == pytest.approx(float(z_torch), rel=1e-5)


def test_a_built_library_is_kept_and_loaded_by_the_next_build(tmp_path, monkeypatch):
    """build(..., cache) keeps its library under build_key; the next build loads that file
    instead of compiling (no compiler call but --version), a damaged file is built anew, and
    another source text gets another key."""
    if native.c_compiler() is None:
        pytest.skip("no C compiler here")
    runtime = native.torch_openmp_runtime()
    first = native.build(runtime, tmp_path)
    assert first is not None
    kept = list(tmp_path.glob("*.so"))
    assert len(kept) == 1 and kept[0].name.startswith(native.build_key(native.c_compiler(), runtime))
    compiles = []
    real_compile = native._compile
    monkeypatch.setattr(native, "_compile", lambda steps: compiles.append(steps) or real_compile(steps))
    again = native.build(runtime, tmp_path)
    assert again is not None and again.openmp == first.openmp and compiles == []
    assert os.path.realpath(again.library._name) == os.path.realpath(kept[0])
    damaged = tmp_path / "damaged"  # a folder whose file this process never mapped
    damaged.mkdir()
    (damaged / kept[0].name).write_bytes(b"not a library")
    rebuilt = native.build(runtime, damaged)
    assert rebuilt is not None and len(compiles) >= 1
    assert (damaged / kept[0].name).stat().st_size > 1000
    changed = tmp_path / "changed"
    changed.mkdir()
    copies = []
    for source in native.SOURCES:
        copy = changed / source.name
        copy.write_text(source.read_text() + "\n/* edited */\n")
        copies.append(copy)
    key = native.build_key(native.c_compiler(), runtime)
    monkeypatch.setattr(native, "SOURCES", tuple(copies))
    assert native.build_key(native.c_compiler(), runtime) != key


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NBVIZ_CACHE_DIR", str(tmp_path / "mine"))
    assert native.cache_folder() == tmp_path / "mine"
    monkeypatch.delenv("NBVIZ_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert native.cache_folder() == tmp_path / "xdg" / "nbviz" / "native"
