"""t-SNE's hot loops as small C functions, built with the system's C compiler: the attraction
(attraction.c), the FFT repulsion's spreading and reading (interpolation.c), the exact repulsion
of small layouts (repulsion.c), and for the neighbour search the selection of each point's k
nearest from tiles of dot products (selection.c, see tiled_search.py) and the squared distances
of the pairs found (distances.c).

Each table row gathers W neighbours' coordinates; a plain loop over the row that keeps its sums
in registers does this about twice as fast as the torch.compile'd kernel, which stages the
gathered values through a buffer (70,000 points, 11.6M table slots, 2 threads: 5-10.5 against
17-19 ms per pass over several runs), and four times as fast as eager torch on the digits. The
repulsion's grid steps are a handful of flops per point and node, which torch spends on building
(N, p^d) index and weight arrays: the whole FFT repulsion of that layout took 5.2-5.5 ms instead
of 14.5-24.7. The exact repulsion, a vectorised loop over all pairs, took 0.52 ms instead of 3.5
for the 1,797 digits and 3.9 instead of 24 for 5,000 points. The sources are compiled in a
temporary folder (0.4 s on 2 cores) and called through ctypes. The library is then kept in
cache_folder() under a hash of its sources, compiler, flags and OpenMP runtime: later processes
load it in milliseconds, and a change to any of those builds it anew.

Threads: where torch runs on GNU OpenMP (its Linux builds), the library is built with -fopenmp
and linked against the very runtime torch loaded, so the rows are shared among torch's own
OpenMP threads. A second runtime would keep its own threads, and torch's, spinning for a while
after each of torch's parallel operations, take the cores from them (10.5 ms per pass at 70,000
points became 14.3 ms after one parallel torch operation). Elsewhere the library is built
without OpenMP and disjoint row ranges run on Python threads (ctypes releases the GIL). Without
a compiler, or when no build succeeds, the `native_*()` accessors return None and the callers
keep their torch code.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

SOURCES = tuple(Path(__file__).with_name(name)
                for name in ("attraction.c", "interpolation.c", "repulsion.c", "selection.c", "distances.c"))
HEADERS = (Path(__file__).with_name("widest_vectors.h"),)
#: Portable optimisation: no -march, so the library runs on any CPU of the compiler's target.
OPTIMISE = ("-O3", "-std=c99", "-fPIC")
#: Fewest table rows per thread: below it starting a thread costs more than its share of the rows.
MIN_ROWS_PER_THREAD = 2048
#: Defined on a second try where the compiler or C library cannot build the multiversioned
#: functions (widest_vectors.h): they are then built for the default target only.
ONE_TARGET = "-DNBVIZ_ONE_TARGET"

#: Layout dimensions the C functions are written for.
DIMENSIONS = (2, 3)
#: Nodes per box and axis interpolation.c has room for (its MAX_NODES_PER_AXIS).
MAX_NODES_PER_AXIS = 8
_POINTER, _INT64, _INT, _FLOAT = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_float


class Reservoirs(ctypes.Structure):
    """selection.c's struct nbviz_reservoirs: pointers to the (N, capacity) scores and indices and
    the (N,) fill counts and bounds, then k and the capacity."""

    _fields_ = [("score", _POINTER), ("index", _POINTER), ("fill", _POINTER), ("bound", _POINTER),
                ("k", ctypes.c_int32), ("capacity", ctypes.c_int32)]


_RESERVOIRS = ctypes.POINTER(Reservoirs)
_SIGNATURES = {
    "nbviz_attraction_2d": [_POINTER] * 4 + [_INT64] * 3 + [_POINTER, _INT],
    "nbviz_attraction_3d": [_POINTER] * 4 + [_INT64] * 3 + [_POINTER, _INT],
    "nbviz_exact_repulsion_2d": [_POINTER, _INT64, _INT64, _INT64, _POINTER, _POINTER, _INT],
    "nbviz_exact_repulsion_3d": [_POINTER, _INT64, _INT64, _INT64, _POINTER, _POINTER, _INT],
    "nbviz_spread": [_POINTER, _INT64, _INT, _FLOAT, _FLOAT, _INT64, _INT, _POINTER],
    "nbviz_gather": [_POINTER, _INT, _FLOAT, _FLOAT, _INT64, _INT, _POINTER, _INT64, _INT64, _POINTER, _INT],
    "nbviz_offer_rows": [_POINTER, _INT64, _INT64, _POINTER, _INT64, _POINTER, _INT64, _INT64, _INT64, _RESERVOIRS, _INT],
    "nbviz_offer_columns": [_POINTER, _INT64, _INT64, _POINTER, _INT64, _INT64, _INT64, _INT64, _RESERVOIRS, _INT],
    "nbviz_finish_reservoirs": [_INT64, _INT64, _RESERVOIRS, _INT],
    "nbviz_pair_sq_distances": [_POINTER, _POINTER, _INT64, _POINTER, _INT, _INT64, _INT64, _INT64, _POINTER, _INT],
}


@dataclass(frozen=True)
class NativeLibrary:
    """The loaded library; `openmp`: whether its functions share rows among OpenMP threads."""

    library: ctypes.CDLL
    openmp: bool


_state_lock = threading.Lock()
_built: NativeLibrary | None = None
_build_failed = False
_pool: ThreadPoolExecutor | None = None


def c_compiler() -> list[str] | None:
    """The compiler command: $CC if set (split like a shell, e.g. "ccache gcc"), else the first of
    cc, gcc, clang on the PATH (None: no compiler)."""
    if os.environ.get("CC"):
        return shlex.split(os.environ["CC"])
    found = next((path for name in ("cc", "gcc", "clang") if (path := shutil.which(name))), None)
    return None if found is None else [found]


def torch_openmp_runtime() -> str | None:
    """The file of the GNU OpenMP runtime torch's CPU kernels run on: among the libgomp files
    this process has mapped, the one inside torch's own folder (pip wheels ship it there; other
    packages, scikit-learn among them, load copies of their own), else the only one. None for
    another parallel backend or runtime, several candidates, or no /proc/self/maps (not Linux)."""
    if "parallel backend: OpenMP" not in torch.__config__.parallel_info():
        return None
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    mapped = {line.split()[-1] for line in maps.splitlines() if "/" in line}
    runtimes = sorted(path for path in mapped if os.path.basename(path).startswith("libgomp"))
    torch_folder = os.path.dirname(os.path.realpath(torch.__file__)) + os.sep
    own = [path for path in runtimes if os.path.realpath(path).startswith(torch_folder)]
    if len(own) == 1:
        return own[0]
    return runtimes[0] if len(runtimes) == 1 else None


def _compile(steps: list[list[list[str]]]) -> bool:
    """Run the steps in order, the commands within a step at the same time (one per source);
    True when every command succeeds within two minutes."""
    for step in steps:
        running = []
        try:
            running = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for command in step]
            if any(process.wait(timeout=120) for process in running):
                return False
        except (OSError, subprocess.SubprocessError):
            return False
        finally:
            for process in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    return True


def enabled() -> bool:
    """False when the environment variable NBVIZ_TSNE_NATIVE is "0" (the torch kernels then run)."""
    return os.environ.get("NBVIZ_TSNE_NATIVE", "1") != "0"


def build(openmp_runtime: str | None, cache: Path | None = None) -> NativeLibrary | None:
    """Compile the SOURCES into a temporary shared library and load it: against `openmp_runtime`
    (compiled with -fopenmp, linked to that file, so its soname is the one already loaded) when
    given and that build works, else without OpenMP (-fopenmp-simd keeps the loops' simd
    pragmas); each first as written, then with ONE_TARGET. None when nothing builds or loads.

    With a `cache` folder, a library built before from the same sources with the same compiler,
    flags and runtime (build_key) is loaded from there instead, and a new build is kept there
    (a failure to read or write the folder only means building again).
    """
    compiler = c_compiler()
    if compiler is None:
        return None
    key = None if cache is None else build_key(compiler, openmp_runtime)
    if key is not None:
        for openmp in ([True] if openmp_runtime is not None else []) + [False]:
            kept = cache / f"{key}-{'openmp' if openmp else 'serial'}.so"
            if kept.is_file():
                library = _load(str(kept), openmp)
                if library is not None:
                    return library
    folder = tempfile.mkdtemp(prefix="nbviz-native-")
    try:
        for openmp, shared, steps in _build_attempts(compiler, folder, openmp_runtime):
            if _compile(steps):
                library = _load(shared, openmp)  # mapped now: the file itself is no longer needed
                if library is None:
                    continue
                if key is not None:
                    _keep(shared, cache / f"{key}-{'openmp' if openmp else 'serial'}.so")
                return library
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _load(shared: str, openmp: bool) -> NativeLibrary | None:
    """The library file loaded, its functions typed (None if it does not load)."""
    try:
        library = ctypes.CDLL(shared)
    except OSError:
        return None
    for name, argtypes in _SIGNATURES.items():
        function = getattr(library, name)
        function.restype = None
        function.argtypes = argtypes
    return NativeLibrary(library, openmp)


def _keep(shared: str, kept: Path) -> None:
    """Copy the built library into the cache under its final name in one step (a copy under a
    temporary name, then a rename), so that another process never loads half a file."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=kept.parent, suffix=".partial")
        os.close(handle)
        shutil.copyfile(shared, partial)
        os.replace(partial, kept)
    except OSError:
        return


def build_key(compiler: list[str], openmp_runtime: str | None) -> str | None:
    """A hash of everything the library depends on: the sources and header, the compiler command and its
    --version text, the flags, the OpenMP runtime file (path, size, time) and the machine type.
    None if the compiler does not answer --version."""
    try:
        version = subprocess.run([*compiler, "--version"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if version.returncode != 0:
        return None
    digest = hashlib.sha256()
    for source in (*SOURCES, *HEADERS):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    runtime = "" if openmp_runtime is None else openmp_runtime
    if openmp_runtime is not None:
        stat = os.stat(openmp_runtime)
        runtime += f":{stat.st_size}:{stat.st_mtime_ns}"
    for part in (*compiler, version.stdout.decode(errors="replace"), *OPTIMISE, ONE_TARGET, runtime, platform.machine()):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


def cache_folder() -> Path:
    """Where built libraries are kept: $NBVIZ_CACHE_DIR, else $XDG_CACHE_HOME/nbviz/native, else
    ~/.cache/nbviz/native."""
    if os.environ.get("NBVIZ_CACHE_DIR"):
        return Path(os.environ["NBVIZ_CACHE_DIR"])
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "nbviz" / "native"


def _build_attempts(compiler: list[str], folder: str, openmp_runtime: str | None) -> list[tuple[bool, str, list[list[list[str]]]]]:
    """(openmp, library file, steps of compiler commands) of each build to try, in order: with
    OpenMP (given its runtime), then serial; each as written, then with ONE_TARGET. Each source
    compiles on its own (at the same time), then one command links them."""
    attempts = []
    for openmp in ([True] if openmp_runtime is not None else []) + [False]:
        for defines in ([], [ONE_TARGET]):
            name = f"{'openmp' if openmp else 'serial'}{'-one-target' if defines else ''}"
            flags = [*OPTIMISE, *defines, "-fopenmp" if openmp else "-fopenmp-simd"]
            objects = [os.path.join(folder, f"{source.stem}-{name}.o") for source in SOURCES]
            shared = os.path.join(folder, f"{name}.so")
            runtime = [openmp_runtime] if openmp else []
            attempts.append((openmp, shared, [
                [[*compiler, *flags, "-c", str(source), "-o", obj] for source, obj in zip(SOURCES, objects)],
                [[*compiler, "-shared", *objects, *runtime, "-lm", "-o", shared]],
            ]))
    return attempts


def loaded_library() -> NativeLibrary | None:
    """The library, loaded on the first call of the process from cache_folder() or built there
    (None if it cannot be)."""
    global _built, _build_failed
    with _state_lock:
        if _built is None and not _build_failed:
            _built = build(torch_openmp_runtime(), cache_folder())
            _build_failed = _built is None
        return _built


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _state_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="native-rows")
        return _pool


def _share_rows(built: NativeLibrary, rows: int, run_rows: Callable[[int, int, int], None],
                min_rows: int = MIN_ROWS_PER_THREAD) -> None:
    """run_rows(start, stop, threads) over [0, rows) on torch.get_num_threads() threads, each with
    at least `min_rows` rows: one call that OpenMP shares out, or (built without OpenMP) one
    contiguous range per Python thread, this thread taking the first."""
    threads = max(1, min(torch.get_num_threads(), rows // min_rows))
    if built.openmp or threads == 1:
        run_rows(0, rows, threads)
        return
    bounds = [rows * i // threads for i in range(threads + 1)]
    jobs = [_thread_pool().submit(run_rows, bounds[i], bounds[i + 1], 1) for i in range(1, threads)]
    run_rows(bounds[0], bounds[1], 1)
    for job in jobs:
        job.result()


def _handles(y: torch.Tensor) -> bool:
    return y.device.type == "cpu" and y.dtype == torch.float32 and y.dim() == 2 and y.shape[1] in DIMENSIONS


def _library_for(y: torch.Tensor | None, built: NativeLibrary | None) -> NativeLibrary | None:
    """`built` (default: this process's library) when the C functions are switched on (enabled())
    and handle layout y (a float32 2-D or 3-D layout on the CPU; None: checked per call), else None."""
    if not enabled() or (y is not None and not _handles(y)):
        return None
    return built or loaded_library()


def native_attraction(built: NativeLibrary | None = None) -> Callable | None:
    """attraction_table (see gradients.py) by the C function of `built` (default: this process's
    library), or None when it cannot be built or is switched off (enabled()).

    The returned function takes the same (y, owner, table, weights) and returns (rows, dim)
    float32: a_r = sum_m P[r, m] (y_o - y_j) / (1 + |y_o - y_j|^2), o = owner[r], j = table[r, m].
    It handles float32 2-D or 3-D layouts with int32 tables on the CPU and returns None for
    anything else, so that the caller can use a torch kernel instead. The rows are shared among
    torch.get_num_threads() threads (_share_rows).
    """
    built = _library_for(None, built)
    if built is None:
        return None

    def table_pass(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor | None:
        if not (_handles(y) and table.dtype == owner.dtype == torch.int32 and weights.dtype == torch.float32):
            return None
        dim = y.shape[1]
        y, owner, table, weights = (t.contiguous() for t in (y, owner, table, weights))
        rows, width = table.shape
        if rows == 0 or width == 0:
            return torch.zeros((rows, dim), dtype=torch.float32)
        out = torch.empty((rows, dim), dtype=torch.float32)  # every row is written below
        function = getattr(built.library, f"nbviz_attraction_{dim}d")
        pointers = [t.data_ptr() for t in (y, owner, table, weights)]
        _share_rows(built, rows, lambda start, stop, threads: function(*pointers, width, start, stop, out.data_ptr(), threads))
        return out

    return table_pass


def _check_nodes_per_axis(p: int) -> None:
    if not 1 <= p <= MAX_NODES_PER_AXIS:
        raise ValueError(f"the C grid steps take 1 to {MAX_NODES_PER_AXIS} nodes per box and axis, got {p}")


@dataclass(frozen=True)
class GridInterpolation:
    """The FFT repulsion's two grid steps (see interpolation.c and fft_repulsion.py) for a float32
    2-D or 3-D layout y on the CPU, with p nodes per box and axis, boxes `box` wide from `low`:

    spread(y, low, box, n_boxes, p): the grid (1, nodes^d), nodes = n_boxes p, of unit charges,
        G[node] = sum_i prod_a L_{k_a}(t_ia) over the points whose stencil holds the node.
    gather(y, low, box, n_boxes, p, fields): (N, d) with out_ic = sum_nodes prod_a L_{k_a}(t_ia)
        fields[c, node] for fields (d, nodes^d), rows shared among threads (_share_rows).
    """

    built: NativeLibrary

    def spread(self, y: torch.Tensor, low: float, box: float, n_boxes: int, p: int) -> torch.Tensor:
        _check_nodes_per_axis(p)
        n, dim = y.shape
        y = y.contiguous()
        grid = torch.zeros((1, (n_boxes * p) ** dim), dtype=torch.float32)
        self.built.library.nbviz_spread(y.data_ptr(), n, dim, low, box, n_boxes, p, grid.data_ptr())
        return grid

    def gather(self, y: torch.Tensor, low: float, box: float, n_boxes: int, p: int, fields: torch.Tensor) -> torch.Tensor:
        _check_nodes_per_axis(p)
        n, dim = y.shape
        y, fields = y.contiguous(), fields.to(torch.float32).contiguous()
        out = torch.empty((n, dim), dtype=torch.float32)
        gather = self.built.library.nbviz_gather
        _share_rows(self.built, n, lambda start, stop, threads: gather(
            y.data_ptr(), dim, low, box, n_boxes, p, fields.data_ptr(), start, stop, out.data_ptr(), threads))
        return out


def native_interpolation(y: torch.Tensor, built: NativeLibrary | None = None) -> GridInterpolation | None:
    """The C grid steps for layout y (GridInterpolation), or None: switched off (enabled()), not
    a float32 2-D or 3-D layout on the CPU, or no library (`built`, default this process's)."""
    built = _library_for(y, built)
    return None if built is None else GridInterpolation(built)


def native_exact_repulsion(y: torch.Tensor, built: NativeLibrary | None = None) -> Callable | None:
    """gradients.exact_repulsion by the C functions (repulsion.c) for layouts like y, or None:
    switched off (enabled()), not a float32 2-D or 3-D layout on the CPU, or no library (`built`,
    default this process's). The function returns (r (N, d), Z 0-d float64) with
    r_i = sum_{j != i} w_ij^2 (y_i - y_j) and Z = sum_{i != j} w_ij (float32 row sums added in
    float64); the rows are shared among threads (_share_rows)."""
    built = _library_for(y, built)
    if built is None:
        return None
    function = getattr(built.library, f"nbviz_exact_repulsion_{y.shape[1]}d")

    def exact_repulsion(layout: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, dim = layout.shape
        coords = layout.T.contiguous()
        force = torch.empty((n, dim), dtype=torch.float32)
        row_w = torch.empty(n, dtype=torch.float32)
        _share_rows(built, n, lambda start, stop, threads: function(
            coords.data_ptr(), n, start, stop, force.data_ptr(), row_w.data_ptr(), threads))
        return force, row_w.sum(dtype=torch.float64)

    return exact_repulsion


#: Fewest tile rows (or columns) per thread in the selection: each is a scan of a whole tile side.
MIN_TILE_ROWS_PER_THREAD = 64


class TileSelection:
    """Each of n points' k nearest others, selected from tiles of dot products (selection.c).

    Point i ranks candidate j by s_ij = |x_j|^2 - 2 x_i.x_j. A tile is G = X_a X_b^T for the
    blocks of points [row0, row0 + rows) and [col0, col0 + cols); offer_rows hands its rows to
    block a's points, offer_columns its columns to block b's, so that one product serves both.
    begin() gives each point a reservoir of up to 2k candidates (8 bytes each) whose k-th
    smallest score is the bar for the next; finish() returns the k kept per point.
    """

    def __init__(self, built: NativeLibrary):
        self.built = built
        self.k = 0
        self.state: Reservoirs | None = None
        self._arrays: tuple[torch.Tensor, ...] = ()

    def begin(self, n_points: int, k: int) -> None:
        """Empty reservoirs for n_points points (fewer than 2^31: int32 indices) and k."""
        if not 1 <= k < n_points < 2**31:
            raise ValueError(f"the tiled selection needs 1 <= k < N < 2^31, got k={k}, N={n_points}")
        capacity = 2 * k
        score = torch.empty((n_points, capacity), dtype=torch.float32)
        index = torch.empty((n_points, capacity), dtype=torch.int32)
        fill = torch.zeros(n_points, dtype=torch.int32)
        bound = torch.full((n_points,), float("inf"), dtype=torch.float32)
        self.k, self._arrays = k, (score, index, fill, bound)
        self.state = Reservoirs(score.data_ptr(), index.data_ptr(), fill.data_ptr(), bound.data_ptr(), k, capacity)

    def offer_rows(self, dots: torch.Tensor, row0: int, col0: int, col_sq_norms: torch.Tensor,
                   row_ids: torch.Tensor | None = None) -> None:
        """Rows of the tile `dots` (contiguous float32) to points row0 + r, or to points
        row_ids[r] (int32, each point at most once); column c is point col0 + c with squared
        norm col_sq_norms[c]. A point never takes itself as a candidate."""
        rows, cols = dots.shape
        offer = self.built.library.nbviz_offer_rows
        ids = None if row_ids is None else row_ids.data_ptr()
        _share_rows(self.built, rows, lambda start, stop, threads: offer(
            dots.data_ptr(), cols, cols, col_sq_norms.data_ptr(), row0, ids, col0,
            start, stop, ctypes.byref(self.state), threads), MIN_TILE_ROWS_PER_THREAD)

    def offer_columns(self, dots: torch.Tensor, row0: int, col0: int, row_sq_norms: torch.Tensor) -> None:
        """Columns of the same tile to points col0 + c; row r is point row0 + r with squared norm
        row_sq_norms[r]."""
        rows, cols = dots.shape
        offer = self.built.library.nbviz_offer_columns
        _share_rows(self.built, cols, lambda start, stop, threads: offer(
            dots.data_ptr(), rows, cols, row_sq_norms.data_ptr(), row0, col0,
            start, stop, ctypes.byref(self.state), threads), MIN_TILE_ROWS_PER_THREAD)

    def finish(self) -> torch.Tensor:
        """(n, k) int32: each point's k best candidates, unsorted (every point must have been
        offered at least k others). The reservoirs are released."""
        finish = self.built.library.nbviz_finish_reservoirs
        index, fill = self._arrays[1], self._arrays[2]
        _share_rows(self.built, fill.numel(), lambda start, stop, threads: finish(
            start, stop, ctypes.byref(self.state), threads))
        kept = index[:, :self.k].clone()
        self.state, self._arrays = None, ()
        return kept


def native_library() -> NativeLibrary | None:
    """This process's library when the C functions are switched on (enabled()): loaded from the
    cache, or built on the first call (about 0.4 s on 2 cores), else None."""
    return _library_for(None, None)


def native_tile_selection(built: NativeLibrary | None = None) -> TileSelection | None:
    """A TileSelection, or None: switched off (enabled()) or no library (`built`, default this
    process's)."""
    built = _library_for(None, built)
    return None if built is None else TileSelection(built)


def native_pair_sq_distances(built: NativeLibrary | None = None) -> Callable | None:
    """distances.c's pair distances, or None (switched off, or no library): the returned
    function(Q, X, indices) takes float32 (q, D) and (n, D) rows on the CPU and (q, k) int32 or
    int64 indices into X, and returns (q, k) float32 d_qm^2 = sum_d (Q_qd - X_{indices[q, m], d})^2
    summed in double; it returns None for other inputs."""
    built = _library_for(None, built)
    if built is None:
        return None
    function = built.library.nbviz_pair_sq_distances

    def pair_sq_distances(Q: torch.Tensor, X: torch.Tensor, indices: torch.Tensor) -> torch.Tensor | None:
        on_cpu = all(t.device.type == "cpu" for t in (Q, X, indices))
        if not (on_cpu and Q.dtype == X.dtype == torch.float32 and indices.dtype in (torch.int32, torch.int64)):
            return None
        Q, X, indices = Q.contiguous(), X.contiguous(), indices.contiguous()
        rows, k = indices.shape
        out = torch.empty((rows, k), dtype=torch.float32)
        wide = int(indices.dtype == torch.int64)
        _share_rows(built, rows, lambda start, stop, threads: function(
            Q.data_ptr(), X.data_ptr(), X.shape[1], indices.data_ptr(), wide, k, start, stop, out.data_ptr(), threads),
            max(1, MIN_ROWS_PER_THREAD // max(1, k)))
        return out

    return pair_sq_distances
