"""TensorFlow-exact random kernels and seed derivation.

The expected values come from real TensorFlow: the golden file (written by TF 2.21) and, for
the `tf`-marked test, a live TensorFlow subprocess. Our side replays what TF's Python wrappers
do (get_seed, the kernel, then the separate Mul/Add/Sub graph ops in the op's dtype).
"""

import ctypes
import ctypes.util
import json
import os
import sys
import time

import ml_dtypes
import numpy as np
import pytest

from tensorkeep.framework import random_seed
from tensorkeep.ops import random_kernels

from tf_oracle import SHARED, run_tensorflow_process

GOLDEN_DIR = os.path.join(SHARED, "golden", "random")

_DTYPES = {"float16": np.dtype(np.float16), "bfloat16": np.dtype(ml_dtypes.bfloat16),
           "float32": np.dtype(np.float32), "float64": np.dtype(np.float64),
           "int32": np.dtype(np.int32), "int64": np.dtype(np.int64)}


class _Graph:
    """Just the graph state get_seed needs: the graph seed and the op-seed counter."""

    def __init__(self, seed=None):
        self.seed = seed
        self.op_seed_counter = 0

    def kernel_stream(self, op_seed):
        seeds = random_seed.get_seed(self.seed, op_seed, self.op_seed_counter)
        if random_seed.uses_graph_op_counter(self.seed, op_seed):
            self.op_seed_counter += 1
        return random_kernels.PhiloxStream(*random_seed.kernel_seed_attrs(*seeds))


def _build_op(graph, op):
    """Returns a function giving the op's value for the next session run, the way the TF1
    wrappers random_normal / truncated_normal / random_uniform compute it."""
    fn = op["fn"]
    shape = tuple(op["shape"])
    dtype = _DTYPES[op.get("dtype", "float32")]
    stream = graph.kernel_stream(op.get("seed"))
    cast = dtype.type
    if fn in ("random_normal", "truncated_normal"):
        kernel = (random_kernels.random_standard_normal if fn == "random_normal"
                  else random_kernels.truncated_normal)
        stddev, mean = cast(op.get("stddev", 1.0)), cast(op.get("mean", 0.0))
        # Separate Mul and Add graph ops: rounded to the dtype after each.
        return lambda: (kernel(stream, shape, dtype) * stddev) + mean
    assert fn == "random_uniform"
    minval, maxval = op.get("minval", 0), op.get("maxval", 1)
    if dtype.kind == "i":
        return lambda: random_kernels.random_uniform_int(stream, shape, minval, maxval, dtype)
    if isinstance(minval, int) and minval == 0:
        if isinstance(maxval, int) and maxval == 1:
            return lambda: random_kernels.random_uniform(stream, shape, dtype)
        return lambda: random_kernels.random_uniform(stream, shape, dtype) * cast(maxval)
    width = cast(maxval) - cast(minval)  # a Sub op in the dtype
    return lambda: (random_kernels.random_uniform(stream, shape, dtype) * width) + cast(minval)


def _session_runs(graph_seed, ops, runs):
    """The values of `ops` (built in order in one graph) for `runs` runs of one session."""
    graph = _Graph(graph_seed)
    built = [_build_op(graph, op) for op in ops]
    return [[run_op() for run_op in built] for _ in range(runs)]


# ----------------------------------------------------------------------------------------------
# The golden cases: the TF code of random_cases.json, restated as op specs.

GOLDEN_SPECS = {
    "normal_1_seed1": [dict(fn="random_normal", shape=[1], stddev=1, seed=1)],
    "normal_10_seed1": [dict(fn="random_normal", shape=[10], seed=1)],
    "normal_2x3_seed7_mean": [dict(fn="random_normal", shape=[2, 3], mean=2.0, stddev=0.5,
                                   seed=7)],
    "normal_1001_seed42": [dict(fn="random_normal", shape=[1001], seed=42)],
    "normal_f64_5_seed3": [dict(fn="random_normal", shape=[5], seed=3, dtype="float64")],
    "normal_f16_6_seed3": [dict(fn="random_normal", shape=[6], seed=3, dtype="float16")],
    "normal_784x500_seed1": [dict(fn="random_normal", shape=[784, 500], stddev=0.1, seed=1)],
    "truncated_100_seed1": [dict(fn="truncated_normal", shape=[100], stddev=0.1, seed=1)],
    "truncated_f64_33_seed5": [dict(fn="truncated_normal", shape=[33], seed=5,
                                    dtype="float64")],
    "uniform_17_seed1": [dict(fn="random_uniform", shape=[17], seed=1)],
    "uniform_range_4x4_seed9": [dict(fn="random_uniform", shape=[4, 4], minval=-3.0,
                                     maxval=5.0, seed=9)],
    "uniform_f64_9_seed2": [dict(fn="random_uniform", shape=[9], seed=2, dtype="float64")],
    "uniform_int32_20_seed4": [dict(fn="random_uniform", shape=[20], minval=0, maxval=10,
                                    dtype="int32", seed=4)],
    "uniform_int64_20_seed4": [dict(fn="random_uniform", shape=[20], minval=-5, maxval=1000,
                                    dtype="int64", seed=4)],
    "graphseed_normal_3": [dict(fn="random_normal", shape=[3])],
    "graphseed_two_ops": [dict(fn="random_normal", shape=[3]),
                          dict(fn="random_uniform", shape=[3])],
    "graphseed_and_opseed": [dict(fn="random_normal", shape=[4], seed=5)],
}


def _golden_cases():
    with open(os.path.join(GOLDEN_DIR, "random_cases.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def golden():
    return np.load(os.path.join(GOLDEN_DIR, "random_golden.npz"))


def test_every_golden_case_has_a_spec():
    assert sorted(case["name"] for case in _golden_cases()) == sorted(GOLDEN_SPECS)


@pytest.mark.parametrize("case", _golden_cases(), ids=lambda case: case["name"])
def test_golden_case_bit_exact(case, golden):
    ops = GOLDEN_SPECS[case["name"]]
    runs = _session_runs(case["graph_seed"], ops, case["runs"])
    for run_index, values in enumerate(runs):
        expected = golden["%s__run%d" % (case["name"], run_index)]
        ours = values[0] if len(values) == 1 else np.stack(values)
        assert ours.dtype == expected.dtype
        assert ours.shape == expected.shape
        assert np.array_equal(ours, expected), "run %d differs at %s" % (
            run_index, np.argwhere(ours != expected)[:5].tolist())


# ----------------------------------------------------------------------------------------------
# Seeds and stream bookkeeping

def test_get_seed_rules():
    assert random_seed.get_seed(None, None) == (None, None)
    assert random_seed.get_seed(None, 5) == (87654321, 5)
    assert random_seed.get_seed(7, 5) == (7, 5)
    assert random_seed.get_seed(1234, None, 3) == (1234, 3)
    assert random_seed.get_seed(0, 0) == (0, 2 ** 31 - 1)
    assert random_seed.get_seed(None, -1) == (87654321, 2 ** 31 - 2)
    assert random_seed.get_seed(2 ** 31 - 1, 2 ** 40) == (0, 2 ** 40 % (2 ** 31 - 1))
    assert random_seed.uses_graph_op_counter(1, None)
    assert not random_seed.uses_graph_op_counter(1, 2)
    assert not random_seed.uses_graph_op_counter(None, None)
    assert random_seed.kernel_seed_attrs(None, None) == (0, 0)


def test_stream_reserves_256_blocks_per_output():
    stream = random_kernels.PhiloxStream(3, 4)
    assert stream.key == 3 and stream.counter == 4 << 64
    assert stream.reserve_outputs(10) == 4 << 64
    assert stream.counter == (4 << 64) + 2560
    random_kernels.random_uniform(stream, (0,), np.float32)
    assert stream.counter == (4 << 64) + 2560


def test_counter_carry_into_high_words():
    # A counter whose low 64 bits are about to wrap: blocks must continue in the high half.
    key, counter = 0x0123456789ABCDEF, (5 << 64) | (2 ** 64 - 2)
    blocks = random_kernels.philox4x32_10(key, counter, np.arange(4, dtype=np.uint64))
    for i in range(4):
        one = random_kernels.philox4x32_10(key, counter + i, np.zeros(1, dtype=np.uint64))
        assert np.array_equal(blocks[i], one[0])


def test_unseeded_stream_is_random():
    first, second = random_kernels.PhiloxStream(0, 0), random_kernels.PhiloxStream(0, 0)
    assert (first.key, first.counter) != (second.key, second.counter)
    assert first.counter & (2 ** 64 - 1) == 0


def test_uniform_int_rejects_empty_range():
    with pytest.raises(ValueError, match="Need minval < maxval"):
        random_kernels.random_uniform_int(random_kernels.PhiloxStream(1, 1), (3,), 5, 5)


def test_normal_784x500_is_fast():
    stream = random_kernels.PhiloxStream(87654321, 1)
    random_kernels.random_standard_normal(stream, (784, 500), np.float32)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        random_kernels.random_standard_normal(stream, (784, 500), np.float32)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05


def _glibc_libm():
    name = ctypes.util.find_library("m")
    if sys.platform != "linux" or not name or os.confstr("CS_GNU_LIBC_VERSION") is None:
        pytest.skip("needs Linux glibc (the libm TensorFlow's Linux kernels call)")
    return ctypes.CDLL(name)


def test_float_math_matches_glibc():
    """_logf/_sincosf against the C library itself on the inputs Box-Muller can produce."""
    libm = _glibc_libm()
    libm.logf.restype = ctypes.c_float
    libm.logf.argtypes = [ctypes.c_float]
    libm.sincosf.argtypes = [ctypes.c_float, ctypes.POINTER(ctypes.c_float),
                             ctypes.POINTER(ctypes.c_float)]
    words = np.random.default_rng(0).integers(0, 2 ** 23, 20000, dtype=np.uint32)
    words[:3] = [0, 1, 2 ** 23 - 1]
    uniform = random_kernels._uint32_to_float(words)
    log_input = np.maximum(uniform, np.float32(1e-7))
    angle = (2 * np.pi * uniform.astype(np.float64)).astype(np.float32)
    ours_log = random_kernels._logf(log_input)
    ours_sin, ours_cos = random_kernels._sincosf(angle)
    sin_out, cos_out = ctypes.c_float(), ctypes.c_float()
    for i in range(words.size):
        assert ours_log[i] == libm.logf(float(log_input[i]))
        libm.sincosf(float(angle[i]), ctypes.byref(sin_out), ctypes.byref(cos_out))
        assert (ours_sin[i], ours_cos[i]) == (np.float32(sin_out.value),
                                              np.float32(cos_out.value))


# ----------------------------------------------------------------------------------------------
# Live TensorFlow: more shapes, dtypes, ranges and runs than the golden file has.

LIVE_RUNS = 4
LIVE_CASES = [
    ("sizes", None, [dict(fn="random_normal", shape=[n], seed=11) for n in (0, 1, 2, 3, 5, 7)]),
    ("shape_3x5x7", None, [dict(fn="random_normal", shape=[3, 5, 7], seed=12),
                           dict(fn="random_uniform", shape=[3, 5, 7], seed=12),
                           dict(fn="truncated_normal", shape=[3, 5, 7], seed=12)]),
    ("half", None, [dict(fn="random_uniform", shape=[9], dtype="float16", seed=13),
                    dict(fn="random_normal", shape=[11], dtype="float16", seed=13,
                         mean=0.5, stddev=3.0),
                    dict(fn="truncated_normal", shape=[13], dtype="float16", seed=13),
                    dict(fn="random_uniform", shape=[7], dtype="float16", minval=-2.0,
                         maxval=3.0, seed=13)]),
    ("bfloat16", None, [dict(fn="random_uniform", shape=[9], dtype="bfloat16", seed=14),
                        dict(fn="random_normal", shape=[11], dtype="bfloat16", seed=14,
                             stddev=0.1),
                        dict(fn="truncated_normal", shape=[13], dtype="bfloat16", seed=14)]),
    ("float64", None, [dict(fn="random_normal", shape=[2001], dtype="float64", seed=15),
                       dict(fn="truncated_normal", shape=[1001], dtype="float64", seed=15),
                       dict(fn="random_uniform", shape=[5], dtype="float64", maxval=3,
                            seed=15)]),
    ("truncated_large", None, [dict(fn="truncated_normal", shape=[40003], seed=16)]),
    ("normal_large", None, [dict(fn="random_normal", shape=[100003], seed=17, mean=-1.5,
                                 stddev=2.5)]),
    ("ints", None, [dict(fn="random_uniform", shape=[9], dtype="int32", minval=-7, maxval=3,
                         seed=18),
                    dict(fn="random_uniform", shape=[9], dtype="int32", minval=-2 ** 31,
                         maxval=2 ** 31 - 1, seed=18),
                    dict(fn="random_uniform", shape=[7], dtype="int64", minval=-2 ** 62,
                         maxval=2 ** 62 + 12345, seed=18),
                    dict(fn="random_uniform", shape=[7], dtype="int64", minval=-2 ** 63,
                         maxval=2 ** 63 - 1, seed=18),
                    dict(fn="random_uniform", shape=[5], dtype="int64", minval=-3, maxval=-1,
                         seed=18)]),
    ("graph_seed_counter", 42, [dict(fn="random_normal", shape=[3]),
                                dict(fn="random_uniform", shape=[3], seed=2),
                                dict(fn="truncated_normal", shape=[3]),
                                dict(fn="random_uniform", shape=[4], dtype="int32",
                                     maxval=100)]),
    ("zero_seeds", 0, [dict(fn="random_normal", shape=[5], seed=0)]),
    ("seed_reduction", None, [dict(fn="random_normal", shape=[5], seed=-3),
                              dict(fn="random_normal", shape=[5], seed=2 ** 40 + 9)]),
]

_TF_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
tf1 = tf.compat.v1
tf1.disable_eager_execution()
cases, runs, out = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
results = {}
for name, graph_seed, ops in cases:
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf1.set_random_seed(graph_seed)
        tensors = []
        for op in ops:
            kwargs = {k: v for k, v in op.items() if k not in ("fn", "shape", "dtype")}
            kwargs["dtype"] = tf.as_dtype(op.get("dtype", "float32"))
            tensors.append(getattr(tf1, op["fn"])(op["shape"], **kwargs))
        with tf1.Session(graph=graph) as sess:
            for run in range(runs):
                for index, value in enumerate(sess.run(tensors)):
                    if value.dtype.name == "bfloat16":
                        value = value.view(np.uint16)
                    results["%s/%d/%d" % (name, index, run)] = value
np.savez(out, **results)
"""


@pytest.mark.tf
def test_matches_live_tensorflow(tmp_path):
    out = tmp_path / "tf_random.npz"
    run_tensorflow_process(["-c", _TF_SCRIPT, json.dumps(LIVE_CASES), LIVE_RUNS, out])
    expected = np.load(out)
    for name, graph_seed, ops in LIVE_CASES:
        for run, values in enumerate(_session_runs(graph_seed, ops, LIVE_RUNS)):
            for index, ours in enumerate(values):
                theirs = expected["%s/%d/%d" % (name, index, run)]
                if ours.dtype == _DTYPES["bfloat16"]:
                    ours = ours.view(np.uint16)
                label = "%s op %d run %d" % (name, index, run)
                assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, label
                assert np.array_equal(ours, theirs), label
