"""How many threads NumPy's BLAS (OpenBLAS) may use while a session runs a plan with matrix
products: one, whatever the session's config.

The parallelism inside a kernel is tensorkeep's own (ops/kernel_threads.py: big products and
updates split into parts run on a pool of threads, as many as
`tf.ConfigProto(intra_op_parallelism_threads)` allows), not BLAS's. Between two matrix products
OpenBLAS's worker threads spin waiting for work, competing with the Python thread that runs the
next kernels and with every other process. On the 2-core benchmark machine (BENCHMARKS.md) one
BLAS thread gave the same speed in every run (CNN inference at batch 1: 0.59-0.64 ms), while
OpenBLAS's default of a thread per core went from 1.4× faster (MLP training, machine otherwise
idle) to 16× slower (the same CNN: 10 ms) when other processes were busy; BLAS threads inside
the parts of a split kernel would also multiply the threads per core. So a run with BLAS-heavy
ops uses one BLAS thread, and the previous setting is put back when the run ends.

An OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS in the environment is the user's
choice: such a process is left alone. Only OpenBLAS builds found loaded in the process (Linux)
are controlled; elsewhere this is a no-op.
"""

import ctypes
import os
import threading

# Ops whose kernels spend their time in BLAS calls.
BLAS_OP_TYPES = frozenset([
    "MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Conv2D", "Conv2DBackpropInput",
    "Conv2DBackpropFilter", "Conv3D", "DepthwiseConv2dNative", "Einsum", "MatrixInverse",
    "MatrixSolve", "Cholesky", "Qr", "Svd", "SelfAdjointEigV2", "MatrixDeterminant",
    "LogMatrixDeterminant", "MatrixTriangularSolve", "MatrixSolveLs",
])

_DEFAULT_THREADS = 1
_USER_ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# (set, get) symbol names of the OpenBLAS builds NumPy ships or links.
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)

_lock = threading.Lock()
_functions = None  # (set, get) once looked up; () when no controllable BLAS is loaded
_active_runs = 0
_restore_to = None  # the setting before the first of the overlapping runs, if it changed it


def _loaded_blas_libraries():
    """ctypes handles of the BLAS libraries loaded in this process (NumPy's among them)."""
    try:
        import numpy  # noqa: F401 (loads the BLAS this module controls)

        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "blas" in line.lower()})
    except OSError:
        return
    for path in paths:
        try:
            yield ctypes.CDLL(path)
        except OSError:
            continue


def _lookup():
    global _functions
    if _functions is not None:
        return _functions
    _functions = ()
    for library in _loaded_blas_libraries():
        for set_name, get_name in _SYMBOLS:
            setter, getter = getattr(library, set_name, None), getattr(library, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                _functions = (setter, getter)
                return _functions
    return _functions


def core_name():
    """The kernel family OpenBLAS chose for this CPU (e.g. "SkylakeX"), or None."""
    for library in _loaded_blas_libraries():
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                     "openblas_get_corename"):
            function = getattr(library, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return None


def threads_for_session(config):
    """The BLAS thread count a session's runs use: None to leave the process's setting alone.
    `config` does not change it: intra_op_parallelism_threads sizes ops/kernel_threads.py."""
    if any(os.environ.get(name) for name in _USER_ENVIRONMENT):
        return None
    return _DEFAULT_THREADS


def enter(threads):
    """Limit BLAS to `threads` for a run (the first of overlapping runs decides)."""
    global _active_runs, _restore_to
    functions = _functions if _functions is not None else _lookup()
    if not functions:
        return
    with _lock:
        if _active_runs == 0:
            setter, getter = functions
            current = getter()
            _restore_to = current if current != threads else None
            if _restore_to is not None:
                setter(threads)
        _active_runs += 1


def leave():
    """End of a run started with `enter`: the last run out restores the previous setting."""
    global _active_runs
    if not _functions:
        return
    with _lock:
        _active_runs -= 1
        if _active_runs == 0 and _restore_to is not None:
            _functions[0](_restore_to)


def current_threads():
    """The BLAS thread count now in force (None when no controllable BLAS is loaded)."""
    functions = _lookup()
    return functions[1]() if functions else None
