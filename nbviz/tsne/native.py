"""The attraction pass as a small C function (attraction.c), built with the system's C compiler.

Each table row gathers W neighbours' coordinates; a plain loop over the row that keeps its sums
in registers does this about twice as fast as the torch.compile'd kernel, which stages the
gathered values through a buffer (70,000 points, 11.6M table slots, 2 threads: 10.5 against
19 ms per pass), and four times as fast as eager torch on the digits. The source is compiled
once per process into a temporary folder (0.1-0.2 s, no cache to go stale) and called through
ctypes.

Threads: where torch runs on GNU OpenMP (its Linux builds), the library is built with -fopenmp
and linked against the very runtime torch loaded, so the rows are shared among torch's own
OpenMP threads. A second runtime would keep its own threads, and torch's, spinning for a while
after each of torch's parallel operations, take the cores from them (10.5 ms per pass at 70,000
points became 14.3 ms after one parallel torch operation). Elsewhere the library is built
without OpenMP and disjoint row ranges run on Python threads (ctypes releases the GIL). Without
a compiler, or when no build succeeds, `native_attraction()` returns None and the caller keeps
the torch kernels.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

SOURCE = Path(__file__).with_name("attraction.c")
#: Portable optimisation: no -march, so the library runs on any CPU of the compiler's target.
OPTIMISE = ("-O3", "-std=c99", "-fPIC")
#: Fewest table rows per thread: below it starting a thread costs more than its share of the rows.
MIN_ROWS_PER_THREAD = 2048

_FUNCTIONS = {2: "nbviz_attraction_2d", 3: "nbviz_attraction_3d"}


@dataclass(frozen=True)
class NativeLibrary:
    """The loaded library; `openmp`: whether its functions share rows among OpenMP threads."""

    library: ctypes.CDLL
    openmp: bool


_state_lock = threading.Lock()
_built: NativeLibrary | None = None
_build_failed = False
_pool: ThreadPoolExecutor | None = None


def c_compiler() -> str | None:
    """$CC if set, else the first of cc, gcc, clang on the PATH (None: no compiler)."""
    return os.environ.get("CC") or next((path for name in ("cc", "gcc", "clang") if (path := shutil.which(name))), None)


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


def build(openmp_runtime: str | None) -> NativeLibrary | None:
    """Compile attraction.c into a temporary shared library and load it: against `openmp_runtime`
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
            obj, shared = os.path.join(folder, "openmp.o"), os.path.join(folder, "openmp.so")
            attempts.append((True, shared, [[compiler, *OPTIMISE, "-fopenmp", "-c", str(SOURCE), "-o", obj],
                                            [compiler, "-shared", obj, openmp_runtime, "-o", shared]]))
        shared = os.path.join(folder, "serial.so")
        attempts.append((False, shared, [[compiler, *OPTIMISE, "-fopenmp-simd", "-shared", str(SOURCE), "-o", shared]]))
        for openmp, shared, commands in attempts:
            if _compile(commands):
                try:
                    library = ctypes.CDLL(shared)  # mapped now: the file itself is no longer needed
                except OSError:
                    continue
                for name in _FUNCTIONS.values():
                    function = getattr(library, name)
                    function.restype = None
                    function.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64] * 3 + [ctypes.c_void_p, ctypes.c_int]
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
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="attraction")
        return _pool


def native_attraction(built: NativeLibrary | None = None) -> Callable | None:
    """attraction_table (see gradients.py) by the C function of `built` (default: this process's
    library), or None when it cannot be built.

    The returned function takes the same (y, owner, table, weights) and returns (rows, dim)
    float32: a_r = sum_m P[r, m] (y_o - y_j) / (1 + |y_o - y_j|^2), o = owner[r], j = table[r, m].
    It handles float32 2-D or 3-D layouts with int32 tables on the CPU and returns None for
    anything else, so that the caller can use a torch kernel instead. The rows are shared among
    torch.get_num_threads() threads, each taking at least MIN_ROWS_PER_THREAD.
    """
    built = built or loaded_library()
    if built is None:
        return None

    def table_pass(y: torch.Tensor, owner: torch.Tensor, table: torch.Tensor, weights: torch.Tensor) -> torch.Tensor | None:
        dim = y.shape[1]
        if (dim not in _FUNCTIONS or y.device.type != "cpu" or y.dtype != torch.float32
                or table.dtype != torch.int32 or owner.dtype != torch.int32 or weights.dtype != torch.float32):
            return None
        y, owner, table, weights = (t.contiguous() for t in (y, owner, table, weights))
        rows, width = table.shape
        if rows == 0 or width == 0:
            return torch.zeros((rows, dim), dtype=torch.float32)
        out = torch.empty((rows, dim), dtype=torch.float32)  # every row is written below
        function = getattr(built.library, _FUNCTIONS[dim])
        pointers = [t.data_ptr() for t in (y, owner, table, weights)]
        threads = max(1, min(torch.get_num_threads(), rows // MIN_ROWS_PER_THREAD))
        if built.openmp or threads == 1:
            function(*pointers, width, 0, rows, out.data_ptr(), threads)
            return out
        bounds = [rows * i // threads for i in range(threads + 1)]
        jobs = [_thread_pool().submit(function, *pointers, width, bounds[i], bounds[i + 1], out.data_ptr(), 1)
                for i in range(1, threads)]
        function(*pointers, width, bounds[0], bounds[1], out.data_ptr(), 1)  # this thread takes the first range
        for job in jobs:
            job.result()
        return out

    return table_pass
