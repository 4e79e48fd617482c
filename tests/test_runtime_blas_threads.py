"""A session limits NumPy's BLAS to one thread while a plan with matrix products runs, and puts
the process's setting back afterwards (tensorkeep/runtime/blas_threads.py);
intra_op_parallelism_threads sizes tensorkeep's own kernel threads instead."""

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import op_builder, op_def
from tensorkeep.ops import _helpers, kernel_threads
from tensorkeep.runtime import blas_threads

seen_threads = []
seen_kernel_threads = []


def _probe(x):
    seen_threads.append(blas_threads.current_threads())
    seen_kernel_threads.append(kernel_threads.threads())
    return x


op_def.register_op("BlasThreadsProbe", inputs=["x: T"], outputs=["y: T"], attrs=["T: type"],
                   compute=_probe, shape=_helpers.unchanged_shape)

needs_openblas = pytest.mark.skipif(blas_threads.current_threads() is None,
                                    reason="no OpenBLAS with a thread control is loaded")


def _matmul_then_probe():
    a = tf.constant(np.eye(4, dtype=np.float32))
    return op_builder.apply_op("BlasThreadsProbe", x=tf.matmul(a, a))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    seen_threads.clear()
    seen_kernel_threads.clear()


def _run_probe(config=None):
    before = blas_threads.current_threads()
    with tf.Graph().as_default():
        probe = _matmul_then_probe()
        with tf.Session(config=config) as sess:
            np.testing.assert_array_equal(sess.run(probe), np.eye(4))
    assert blas_threads.current_threads() == before
    return before


@needs_openblas
def test_run_with_matmul_uses_one_blas_thread_and_restores_the_setting():
    _run_probe()
    assert seen_threads == [1]


@needs_openblas
def test_intra_op_parallelism_threads_sizes_kernel_threads_not_blas():
    _run_probe(tf.ConfigProto(intra_op_parallelism_threads=3))
    assert seen_threads == [1]
    assert seen_kernel_threads == [3]
    assert kernel_threads.threads() == kernel_threads.DEFAULT_THREADS  # put back after the run


@needs_openblas
def test_environment_setting_is_left_alone(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    before = _run_probe()
    assert seen_threads == [before]


@needs_openblas
def test_plans_without_matrix_products_do_not_touch_blas():
    before = blas_threads.current_threads()
    with tf.Graph().as_default():
        probe = op_builder.apply_op("BlasThreadsProbe", x=tf.constant([1.0, 2.0]) * 2)
        with tf.Session() as sess:
            sess.run(probe)
    assert seen_threads == [before]
