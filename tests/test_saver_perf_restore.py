"""Restoring into initialized variables reads each tensor into the variable's own buffer when
nothing else holds it (tensorkeep/ops/io_ops.py, Saver.restore): values must come back exactly,
arrays handed out earlier must never change, a corrupt checkpoint must leave every variable as
it was, and the restore must add no more than one tensor to the process's memory."""

import glob
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import errors

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(shapes, seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.Variable(value, name="v%d" % index) for index, value in enumerate(values)]
        saver = tf.train.Saver(variables)
        init = tf.global_variables_initializer()
    return graph, variables, saver, init, values


def _variable_arrays(sess, variables):
    """The arrays the session keeps as the variables' values (not copies)."""
    refs = {ref.name: ref for ref in sess._ctx.variables.values()}
    return [refs[variable.op.name].value for variable in variables]


def test_restore_again_reads_into_the_variables_buffers_exactly(tmp_path):
    shapes = [(300, 200), (7,), (), (64, 3, 5), (1000,)]
    graph, variables, saver, init, values = _model(shapes)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        with graph.as_default():
            # Computed values: arrays of the variables' own (an assigned constant's value
            # would be shared with the Const op, and so never overwritten).
            zero = [tf.assign(v, v * 0) for v in variables]
        sess.run(zero)
        before = _variable_arrays(sess, variables)
        ids = [id(array) for array in before]
        del before
        saver.restore(sess, prefix)
        after = _variable_arrays(sess, variables)
        # The large arrays were refilled where they are; every value is exact.
        assert id(after[0]) == ids[0] and id(after[4]) == ids[4]
        for got, want in zip(sess.run(variables), values):
            np.testing.assert_array_equal(got, want)
        assert all(not array.flags.writeable for array in after)


def test_arrays_handed_out_before_the_restore_keep_their_values(tmp_path):
    graph, variables, saver, init, values = _model([(500, 40), (2000,)])
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        with graph.as_default():
            constant = tf.constant(np.full((2000,), 5.0, np.float32))
            assign_constant = tf.assign(variables[1], constant)
            view = tf.reshape(variables[0], [-1])
        sess.run([v.assign(v * 2) for v in variables])
        fetched = sess.run(variables)
        fetched_copy = [array.copy() for array in fetched]
        # Assign adopts the constant's own (read-only) array: a restore must not write into it.
        sess.run(assign_constant)
        kept_view = sess.run(view)
        kept_view_copy = kept_view.copy()
        saver.restore(sess, prefix)
        for held, original in zip(fetched, fetched_copy):
            np.testing.assert_array_equal(held, original)
        np.testing.assert_array_equal(kept_view, kept_view_copy)
        np.testing.assert_array_equal(sess.run(constant), np.full((2000,), 5.0, np.float32))
        for got, want in zip(sess.run(variables), values):
            np.testing.assert_array_equal(got, want)


def test_a_corrupt_checkpoint_leaves_every_variable_as_it_was(tmp_path):
    graph, variables, saver, init, values = _model([(256, 256)] * 4)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        sess.run([v.assign(v + 1) for v in variables])
        current = [array.copy() for array in sess.run(variables)]
        data_file, = glob.glob(prefix + ".data-*")
        with open(data_file, "r+b") as handle:  # one byte of the last tensor
            handle.seek(os.path.getsize(data_file) - 10)
            byte = handle.read(1)
            handle.seek(-1, os.SEEK_CUR)
            handle.write(bytes([byte[0] ^ 0xFF]))
        with pytest.raises(errors.DataLossError):
            saver.restore(sess, prefix)
        for got, want in zip(sess.run(variables), current):
            np.testing.assert_array_equal(got, want)


def test_running_restore_v2_alone_changes_no_variable(tmp_path):
    graph, variables, saver, init, values = _model([(128, 128), (128,)])
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        sess.run([v.assign(v - 3) for v in variables])
        current = [array.copy() for array in sess.run(variables)]
        restore = graph.get_operation_by_name("save/RestoreV2")
        filename = graph.get_tensor_by_name(saver.saver_def.filename_tensor_name)
        read = sess.run(restore.outputs, {filename: prefix})
        for got, want in zip(read, values):
            np.testing.assert_array_equal(got, want)
        for got, want in zip(sess.run(variables), current):
            np.testing.assert_array_equal(got, want)


def test_restore_into_uninitialized_variables_and_of_many_small_tensors(tmp_path):
    shapes = [(3,)] * 700 + [(40, 40)] * 5
    graph, variables, saver, init, values = _model(shapes, seed=3)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, prefix)  # fresh arrays
        saver.restore(sess, prefix)  # into their buffers
        for got, want in zip(sess.run(variables), values):
            np.testing.assert_array_equal(got, want)


PEAK_PROGRAM = """
import os, sys, tempfile
import numpy as np
import tensorkeep as tf

def status(field):
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field):
                return int(line.split()[1]) * 1024

ELEMENTS = 1 << 20  # 4 MiB per tensor, 16 tensors: 64 MiB
graph = tf.Graph()
with graph.as_default():
    variables = [tf.Variable(tf.fill([ELEMENTS], float(i)), name="v%d" % i) for i in range(16)]
    saver = tf.train.Saver(variables)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    prefix = os.path.join(sys.argv[1], "model.ckpt")
    saver.save(sess, prefix, write_meta_graph=False)
    saver.restore(sess, prefix)
    peaks = []
    for _ in range(3):
        before = status("VmRSS:")
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        saver.restore(sess, prefix)
        peaks.append(status("VmHWM:") - before)
    assert [float(value[-1]) for value in sess.run(variables)] == [float(i) for i in range(16)]
    print(max(peaks))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux's clear_refs")
def test_restore_again_peak_memory_is_at_most_one_tensor(tmp_path):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(PEAK_PROGRAM), str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    peak = int(result.stdout.split()[-1])
    one_tensor = 4 << 20
    assert peak <= one_tensor + (2 << 20), "restore again added %.1f MiB" % (peak / 2**20)


def test_a_variable_sharing_the_restored_array_keeps_its_value(tmp_path):
    """`b.assign(a)` lets b adopt a's (immutable) array: restoring a must not write into it."""
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(np.arange(4096, dtype=np.float32), name="a")
        b = tf.Variable(np.zeros(4096, np.float32), name="b")
        copy_a_to_b = b.assign(a)
        saver = tf.train.Saver([a])
        init = tf.global_variables_initializer()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        sess.run(a.assign(a + 100))
        sess.run(copy_a_to_b)
        shared = _variable_arrays(sess, [a, b])
        assert shared[0] is shared[1]
        del shared
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(a), np.arange(4096, dtype=np.float32))
        np.testing.assert_array_equal(sess.run(b), np.arange(4096, dtype=np.float32) + 100)


def test_a_read_failing_after_verification_leaves_no_variable_partly_restored(tmp_path, monkeypatch):
    """An I/O error between verifying and reading (the file cannot change in between, but the
    disk can fail) leaves the variables being read uninitialized, never half-written."""
    from tensorkeep.io import gfile

    graph, variables, saver, init, values = _model([(512, 512)] * 3)  # 1 MiB: a read each
    prefix = str(tmp_path / "model.ckpt")
    one_thread = tf.ConfigProto(intra_op_parallelism_threads=1)  # reads in order
    with tf.Session(graph=graph, config=one_thread) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        sess.run([v.assign(v * 3) for v in variables])
        current = [array.copy() for array in sess.run(variables)]
        calls = []
        real = gfile.RandomAccessFile.readinto_many_at

        def failing_second_read(self, offset, buffers):
            calls.append(offset)
            if len(calls) == 2:
                real(self, offset, [buffer[:100] for buffer in buffers])
                raise gfile._os_error_to_op_error(OSError(5, "Input/output error"), self.path)
            return real(self, offset, buffers)

        monkeypatch.setattr(gfile.RandomAccessFile, "readinto_many_at", failing_second_read)
        with pytest.raises(errors.UnknownError, match="Input/output error"):
            saver.restore(sess, prefix)
        monkeypatch.undo()
        np.testing.assert_array_equal(sess.run(variables[0]), values[0])
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(variables[1])
        np.testing.assert_array_equal(sess.run(variables[2]), current[2])


TWO_THREADS = tf.ConfigProto(intra_op_parallelism_threads=2)


def _count_split_jobs(monkeypatch):
    """The part counts of the jobs kernel_threads runs from now on (splitting never paused: on
    a loaded machine a slow split would otherwise pause the next one)."""
    from tensorkeep.ops import kernel_threads

    counts, real = [], kernel_threads.run_parts
    monkeypatch.setattr(kernel_threads, "_split_again_at", 0.0)
    monkeypatch.setattr(kernel_threads, "_note_speedup", lambda speedup: None)
    monkeypatch.setattr(kernel_threads, "run_parts", lambda function, count: (
        counts.append(count), real(function, count))[1])
    return counts


def _flip_byte(data_file, offset):
    with open(data_file, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("corrupt", [[2, 6], [6], [0, 7]])
def test_a_parallel_restore_names_the_first_corrupt_tensor_and_changes_nothing(tmp_path, monkeypatch, corrupt):
    """Two threads verify 8 MiB of tensors at once: the error is the one a pass in order meets
    first, and no variable changes."""
    graph, variables, saver, init, values = _model([(512, 512)] * 8)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph, config=TWO_THREADS) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        sess.run([v.assign(v + 1) for v in variables])
        current = [array.copy() for array in sess.run(variables)]
        data_file, = glob.glob(prefix + ".data-*")
        with bundle_offsets(prefix) as offsets:
            pass
        for index in corrupt:
            _flip_byte(data_file, offsets["v%d" % index] + 12345)
        split = _count_split_jobs(monkeypatch)
        with pytest.raises(errors.DataLossError, match="v%d\\b" % corrupt[0]):
            saver.restore(sess, prefix)
        assert split == [2]  # the verification ran on two threads
        for got, want in zip(sess.run(variables), current):
            np.testing.assert_array_equal(got, want)
    with tf.Session(graph=graph, config=TWO_THREADS) as sess:  # a fresh restore raises the same
        with pytest.raises(errors.DataLossError, match="v%d\\b" % corrupt[0]):
            saver.restore(sess, prefix)


def test_a_parallel_read_failing_leaves_each_variable_old_new_or_uninitialized(tmp_path, monkeypatch):
    from tensorkeep.io import gfile

    graph, variables, saver, init, values = _model([(512, 512)] * 8)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session(graph=graph, config=TWO_THREADS) as sess:
        sess.run(init)
        saver.save(sess, prefix, write_meta_graph=False)
        sess.run([v.assign(v * 3) for v in variables])
        current = [array.copy() for array in sess.run(variables)]
        real = gfile.RandomAccessFile.readinto_many_at
        with bundle_offsets(prefix) as offsets:
            failing_offset = offsets["v3"]

        def failing_read(self, offset, buffers):
            if offset == failing_offset:
                real(self, offset, [buffer[:100] for buffer in buffers])
                raise gfile._os_error_to_op_error(OSError(5, "Input/output error"), self.path)
            return real(self, offset, buffers)

        monkeypatch.setattr(gfile.RandomAccessFile, "readinto_many_at", failing_read)
        split = _count_split_jobs(monkeypatch)
        with pytest.raises(errors.UnknownError, match="Input/output error"):
            saver.restore(sess, prefix)
        monkeypatch.undo()
        assert split == [2, 2]  # verified, then read, on two threads
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(variables[3])
        for index, variable in enumerate(variables):
            if index == 3:
                continue
            try:
                got = sess.run(variable)
            except errors.FailedPreconditionError:  # was being read when the failure came
                continue
            assert np.array_equal(got, values[index]) or np.array_equal(got, current[index]), index


class bundle_offsets:
    """{tensor name: offset in the data file} of a checkpoint, as a context manager."""

    def __init__(self, prefix):
        from tensorkeep.io import bundle
        self._reader = bundle.BundleReader(prefix)

    def __enter__(self):
        return {key: self._reader.entry(key).offset for key in self._reader.keys() if key}

    def __exit__(self, *exc_info):
        self._reader.close()
