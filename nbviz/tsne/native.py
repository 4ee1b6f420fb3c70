"""The per-iteration passes of t-SNE as small C functions, built with the system's C compiler: the
attraction (attraction.c), the FFT repulsion's spreading and reading (interpolation.c) and the
exact repulsion of small layouts (repulsion.c).

Each table row gathers W neighbours' coordinates; a plain loop over the row that keeps its sums
in registers does this about twice as fast as the torch.compile'd kernel, which stages the
gathered values through a buffer (70,000 points, 11.6M table slots, 2 threads: 5-10.5 against
17-19 ms per pass over several runs), and four times as fast as eager torch on the digits. The
repulsion's grid steps are a handful of flops per point and node, which torch spends on building
(N, p^d) index and weight arrays: the whole FFT repulsion of that layout took 5.2-5.5 ms instead
of 14.5-24.7. The exact repulsion, a vectorised loop over all pairs, took 0.52 ms instead of 3.5
for the 1,797 digits and 3.9 instead of 24 for 5,000 points. The sources are compiled once per
process into a temporary folder (0.1-0.2 s, no cache to go stale) and called through ctypes.

Threads: where torch runs on GNU OpenMP (its Linux builds), the library is built with -fopenmp
and linked against the very runtime torch loaded, so the rows are shared among torch's own
OpenMP threads. A second runtime would keep its own threads, and torch's, spinning for a while
after each of torch's parallel operations, take the cores from them (10.5 ms per pass at 70,000
points became 14.3 ms after one parallel torch operation). Elsewhere the library is built
without OpenMP and disjoint row ranges run on Python threads (ctypes releases the GIL). Without
a compiler, or when no build succeeds, `native_attraction()`, `native_interpolation()` and
`native_exact_repulsion()` return None and the callers keep the torch kernels.
"""
from __future__ import annotations

import ctypes
import os
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

SOURCES = tuple(Path(__file__).with_name(name) for name in ("attraction.c", "interpolation.c", "repulsion.c"))
#: Portable optimisation: no -march, so the library runs on any CPU of the compiler's target.
OPTIMISE = ("-O3", "-std=c99", "-fPIC")
#: Fewest table rows per thread: below it starting a thread costs more than its share of the rows.
MIN_ROWS_PER_THREAD = 2048

#: Layout dimensions the C functions are written for.
DIMENSIONS = (2, 3)
#: Nodes per box and axis interpolation.c has room for (its MAX_NODES_PER_AXIS).
MAX_NODES_PER_AXIS = 8
_POINTER, _INT64, _INT, _FLOAT = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_float
_SIGNATURES = {
    "nbviz_attraction_2d": [_POINTER] * 4 + [_INT64] * 3 + [_POINTER, _INT],
    "nbviz_attraction_3d": [_POINTER] * 4 + [_INT64] * 3 + [_POINTER, _INT],
    "nbviz_exact_repulsion_2d": [_POINTER, _INT64, _INT64, _INT64, _POINTER, _POINTER, _INT],
    "nbviz_exact_repulsion_3d": [_POINTER, _INT64, _INT64, _INT64, _POINTER, _POINTER, _INT],
    "nbviz_spread": [_POINTER, _INT64, _INT, _FLOAT, _FLOAT, _INT64, _INT, _POINTER],
    "nbviz_gather": [_POINTER, _INT, _FLOAT, _FLOAT, _INT64, _INT, _POINTER, _INT64, _INT64, _POINTER, _INT],
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


def _compile(commands: list[list[str]]) -> bool:
    try:
        return all(subprocess.run(command, capture_output=True, timeout=120).returncode == 0 for command in commands)
    except (OSError, subprocess.SubprocessError):
        return False


def enabled() -> bool:
    """False when the environment variable NBVIZ_TSNE_NATIVE is "0" (the torch kernels then run)."""
    return os.environ.get("NBVIZ_TSNE_NATIVE", "1") != "0"


def build(openmp_runtime: str | None) -> NativeLibrary | None:
    """Compile the SOURCES into a temporary shared library and load it: against `openmp_runtime`
    (compiled with -fopenmp, linked to that file, so its soname is the one already loaded) when
    given and that build works, else without OpenMP (-fopenmp-simd keeps the loops' simd
    pragmas). None when neither builds or loads."""
    compiler = c_compiler()
    if compiler is None:
        return None
    folder = tempfile.mkdtemp(prefix="nbviz-native-")
    try:
        attempts = []
        if openmp_runtime is not None:
            objects = [os.path.join(folder, f"{source.stem}.o") for source in SOURCES]
            shared = os.path.join(folder, "openmp.so")
            attempts.append((True, shared, [
                *([*compiler, *OPTIMISE, "-fopenmp", "-c", str(source), "-o", obj] for source, obj in zip(SOURCES, objects)),
                [*compiler, "-shared", *objects, openmp_runtime, "-lm", "-o", shared],
            ]))
        shared = os.path.join(folder, "serial.so")
        attempts.append((False, shared, [[*compiler, *OPTIMISE, "-fopenmp-simd", "-shared", *map(str, SOURCES), "-lm", "-o", shared]]))
        for openmp, shared, commands in attempts:
            if _compile(commands):
                try:
                    library = ctypes.CDLL(shared)  # mapped now: the file itself is no longer needed
                except OSError:
                    continue
                for name, argtypes in _SIGNATURES.items():
                    function = getattr(library, name)
                    function.restype = None
                    function.argtypes = argtypes
                return NativeLibrary(library, openmp)
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def loaded_library() -> NativeLibrary | None:
    """The library, built on the first call of the process (None if it cannot be)."""
    global _built, _build_failed
    with _state_lock:
        if _built is None and not _build_failed:
            _built = build(torch_openmp_runtime())
            _build_failed = _built is None
        return _built


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _state_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="native-rows")
        return _pool


def _share_rows(built: NativeLibrary, rows: int, run_rows: Callable[[int, int, int], None]) -> None:
    """run_rows(start, stop, threads) over [0, rows) on torch.get_num_threads() threads, each with
    at least MIN_ROWS_PER_THREAD rows: one call that OpenMP shares out, or (built without OpenMP)
    one contiguous range per Python thread, this thread taking the first."""
    threads = max(1, min(torch.get_num_threads(), rows // MIN_ROWS_PER_THREAD))
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
