"""Disk full and I/O errors: a save into a nearly full file system (a 2 MB tmpfs), or onto an
fsspec file system whose writes fail, must fail with a clear error, a TensorFlow error
class naming the file (ResourceExhaustedError for ENOSPC), and leave the previous checkpoint
intact and current, with no temporary file behind.

Each case starts from one good checkpoint (step 1), leaves a given number of bytes free (or
writable), and saves step 2 with tf.train.Saver; the sweep covers failures in every file a
save writes: data, index, meta graph and state file. Budget: TENSORKEEP_RELIABILITY_DISKFULL_CASES
(default 24, full 200) free-space levels per file system. See docs/RELIABILITY.md.
"""

import collections
import errno
import os
import shutil
import subprocess

import numpy as np
import pytest

import tensorkeep as tf
from reliability.budget import budget, report
from reliability.model import StepModel

CASES = budget("TENSORKEEP_RELIABILITY_DISKFULL_CASES", 24, 200)
MODEL_MEGABYTES = 0.5


def _stage(message):
    """Which file of a save an error message names."""
    for marker, stage in ((".data-", "data"), (".index", "index"), (".meta", "meta graph"), ("checkpoint", "state file")):
        if marker in message:
            return stage
    return "unnamed"


def _check_previous_is_current(directory, model):
    latest = tf.train.latest_checkpoint(directory)
    assert latest is not None and latest.endswith("model-1"), latest
    assert model.restored_step(latest) == 1


# ----------------------------------------------------------------------------- tmpfs


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 2 MB tmpfs mounted for the test (needs root and a kernel that allows it)."""
    if os.name != "posix" or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root on Linux")
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield str(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _free_bytes(path):
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def _fill(mount_point, leave_free):
    """Create a filler file so that about `leave_free` bytes stay free."""
    filler = os.path.join(mount_point, "filler")
    size = max(0, _free_bytes(mount_point) - leave_free)
    with open(filler, "wb") as handle:
        try:
            handle.write(b"\0" * size)
            handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def _free_space_levels(directory):
    """Free-space levels (bytes) to try: spread evenly up to what a save needs, plus a page
    below, at and above the point where each file of a save (data, index, meta graph, state
    file) no longer fits."""
    page = os.statvfs(directory).f_frsize
    sizes = [os.path.getsize(os.path.join(directory, name))
             for name in ("model-1.data-00000-of-00001", "model-1.index", "model-1.meta", "checkpoint")]
    boundaries = np.cumsum([-(-size // page) * page for size in sizes])
    levels = set(np.linspace(0, boundaries[-1] + page, max(2, CASES - 3 * len(sizes)), dtype=np.int64).tolist())
    levels |= {int(boundary + offset) for boundary in boundaries for offset in (-page, 0, page)}
    return sorted(level for level in levels if level >= 0)


def test_save_into_a_full_tmpfs_fails_clearly_and_keeps_the_last_checkpoint(small_tmpfs, capsys):
    directory = os.path.join(small_tmpfs, "train")
    outcomes = collections.Counter()
    stages = collections.Counter()

    def start():
        shutil.rmtree(directory, ignore_errors=True)
        model = StepModel(tf, MODEL_MEGABYTES)
        model.set_step(1)
        model.saver.save(model.session, os.path.join(directory, "model"), global_step=1)
        model.set_step(2)
        return model

    start()
    levels = _free_space_levels(directory)
    for free in levels:
        model = start()
        filler = _fill(small_tmpfs, leave_free=free)
        try:
            model.saver.save(model.session, os.path.join(directory, "model"), global_step=2)
        except tf.errors.OpError as error:
            assert isinstance(error, tf.errors.ResourceExhaustedError), repr(error)
            assert directory in error.message and "No space left on device" in error.message, error.message
            outcomes["saves failed cleanly"] += 1
            stages[_stage(error.message)] += 1
            _check_previous_is_current(directory, model)
            # A clean failure leaves nothing behind, and the next save (with space) works.
            assert not [name for name in os.listdir(directory) if ".tempstate" in name]
            os.remove(filler)
            model.set_step(2)
            model.saver.save(model.session, os.path.join(directory, "model"), global_step=2)
        else:
            outcomes["saves that fitted"] += 1
            os.remove(filler)
        assert model.restored_step(tf.train.latest_checkpoint(directory)) == 2
    report(capsys, "disk full (2 MB tmpfs)", {"cases": len(levels), **outcomes,
                                              **{f"failed writing {stage}": n for stage, n in stages.items()}})
    assert set(stages) == {"data", "index", "meta graph", "state file"}


# ---------------------------------------------------------------- failing fsspec store


def _failing_filesystem_class():
    fsspec = pytest.importorskip("fsspec")
    from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

    class BudgetFile(MemoryFile):
        """A memory file whose writes fail once the file system's byte budget is spent."""

        def write(self, data):
            filesystem = type(self.fs)
            if filesystem.budget is not None:
                data = bytes(data)
                if len(data) > filesystem.budget:
                    allowed, filesystem.budget = filesystem.budget, 0
                    super().write(data[:allowed])
                    raise OSError(filesystem.errno, os.strerror(filesystem.errno))
                filesystem.budget -= len(data)
            return super().write(data)

    class FailingMemoryFileSystem(MemoryFileSystem):
        """memory:// with its own store, where writing fails after `budget` bytes."""

        protocol = "tkfailmem"
        store = {}
        pseudo_dirs = [""]
        budget = None
        errno = errno.ENOSPC

        def _open(self, path, mode="rb", **kwargs):
            handle = super()._open(path, mode, **kwargs)
            if any(flag in mode for flag in "wax"):
                handle.__class__ = BudgetFile
            return handle

    fsspec.register_implementation("tkfailmem", FailingMemoryFileSystem, clobber=True)
    return FailingMemoryFileSystem


@pytest.mark.parametrize("error_number", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
def test_save_onto_a_failing_fsspec_store_fails_clearly_and_keeps_the_last_checkpoint(capsys, error_number):
    filesystem = _failing_filesystem_class()
    directory = "tkfailmem://train"
    expected_error = tf.errors.ResourceExhaustedError if error_number == errno.ENOSPC else tf.errors.UnknownError

    def start():
        filesystem.store.clear()
        filesystem.pseudo_dirs[:] = [""]
        filesystem.budget = None
        model = StepModel(tf, MODEL_MEGABYTES / 4)
        model.set_step(1)
        model.saver.save(model.session, directory + "/model", global_step=1)
        model.set_step(2)
        return model

    model = start()
    before = {path: bytes(handle.getbuffer()) for path, handle in filesystem.store.items()}
    filesystem.budget = 1 << 40
    model.saver.save(model.session, directory + "/model", global_step=2)
    total = (1 << 40) - filesystem.budget
    outcomes = collections.Counter()
    stages = collections.Counter()
    # Spread evenly, plus the last byte of each file of the save (in the order they are written).
    sizes = [len(content) for suffix in ("model-1.data-00000-of-00001", "model-1.index", "model-1.meta", "/checkpoint")
             for path, content in before.items() if path.endswith(suffix)]
    budgets = sorted(set(np.linspace(0, total - 1, CASES, dtype=np.int64).tolist())
                     | {int(end) - 1 for end in np.cumsum(sizes)})
    for write_budget in budgets:
        model = start()
        assert {path: bytes(handle.getbuffer()) for path, handle in filesystem.store.items()} == before
        filesystem.budget, filesystem.errno = write_budget, error_number
        try:
            model.saver.save(model.session, directory + "/model", global_step=2)
        except tf.errors.OpError as error:
            filesystem.budget = None
            assert type(error) is expected_error, repr(error)
            assert directory + "/" in error.message and os.strerror(error_number) in error.message, error.message
            outcomes["saves failed cleanly"] += 1
            stages[_stage(error.message)] += 1
            _check_previous_is_current(directory, model)
            assert not [path for path in filesystem.store if ".tempstate" in path], sorted(filesystem.store)
        else:
            raise AssertionError(f"a save of {total} bytes succeeded with {write_budget} bytes writable")
    filesystem.store.clear()
    report(capsys, f"failing fsspec store ({errno.errorcode[error_number]})",
           {"cases": len(budgets), **outcomes, **{f"failed writing {stage}": n for stage, n in stages.items()}})
    assert outcomes["saves failed cleanly"] == len(budgets)
    assert set(stages) == {"data", "index", "meta graph", "state file"}
