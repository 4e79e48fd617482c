"""Concurrent reader: this process restores the latest checkpoint in a loop while a child
process saves (tf.train.Saver, max_to_keep=3). Every read must return exactly the values
of one saved step, never older than a step read before, or fail with a retryable error:
NotFoundError (the checkpoint rotated away meanwhile) or AbortedError (it was rewritten
while being read). latest_checkpoint() may also answer None while a prefix is rewritten.

Reads alternate between Saver.restore in a Session and tensorkeep.io.read_checkpoint.
Budget: TENSORKEEP_RELIABILITY_CONCURRENT_SAVES saves (default 25, full 400) of a model of
TENSORKEEP_RELIABILITY_CONCURRENT_MB megabytes (default 8, full 32), once with a new prefix
per step and once rewriting a single prefix. See docs/RELIABILITY.md.
"""

import collections
import time

import numpy as np
import pytest

import tensorkeep as tf
from reliability.budget import budget, report
from reliability.model import StepModel, check_tensors
from reliability.processes import SaverChild
from tensorkeep import io as tkio

SAVES = budget("TENSORKEEP_RELIABILITY_CONCURRENT_SAVES", 25, 400)
MEGABYTES = budget("TENSORKEEP_RELIABILITY_CONCURRENT_MB", 8, 32)
RETRYABLE = (tf.errors.NotFoundError, tf.errors.AbortedError)


def _read_with_io_layer(prefix, bases):
    with tkio.read_checkpoint(prefix) as tensors:
        return check_tensors(tensors, bases)


@pytest.mark.parametrize("same_prefix", [False, True], ids=["prefix-per-step", "one-prefix"])
def test_reader_never_sees_a_torn_checkpoint(tmp_path, capsys, same_prefix):
    directory = str(tmp_path / "train")
    reader = StepModel(tf, MEGABYTES)
    outcomes = collections.Counter()
    steps_seen = set()
    newest = 0
    child = SaverChild(directory, MEGABYTES, saves=SAVES, same_prefix=same_prefix)
    try:
        attempt = 0
        while child.process.poll() is None:
            attempt += 1
            prefix = tf.train.latest_checkpoint(directory)
            if prefix is None:
                if steps_seen:
                    outcomes["latest_checkpoint None (being rewritten)"] += 1
                time.sleep(0.001)
                continue
            try:
                if attempt % 2:
                    step = reader.restored_step(prefix)
                    outcomes["exact restores (Saver)"] += 1
                else:
                    step = _read_with_io_layer(prefix, reader.bases())
                    outcomes["exact reads (io layer)"] += 1
            except RETRYABLE as error:
                outcomes["retryable " + next(kind.__name__ for kind in RETRYABLE if isinstance(error, kind))] += 1
                continue
            assert step >= newest, f"read step {step} after step {newest}"
            newest = step
            steps_seen.add(step)
        assert child.finish(timeout=60) == 0, child.stderr
    finally:
        if child.process.poll() is None:
            child.kill()
        label = "one prefix" if same_prefix else "prefix per step"
        report(capsys, f"concurrent reader ({label})",
               {"reads": sum(outcomes.values()), **outcomes, "distinct steps read": len(steps_seen)},
               note=f"{len(child.saved)} saves of {MEGABYTES} MB")
    assert len(child.saved) == SAVES
    assert steps_seen, "the reader never read a checkpoint"


def test_reader_of_a_rewritten_checkpoint_is_told_to_read_again(tmp_path):
    prefix = str(tmp_path / "model")
    tkio.write_checkpoint(prefix, {"w": np.arange(1000, dtype=np.float32)})
    with tkio.open_checkpoint_reader(prefix) as reader:
        tkio.write_checkpoint(prefix, {"w": np.arange(1000, dtype=np.float32) + 1})
        with pytest.raises(tf.errors.AbortedError, match="replaced while it was being read"):
            reader.read("w")


def test_old_index_with_new_data_is_data_loss(tmp_path):
    """What a crash between the two renames of a rewrite would leave, had the old index not
    been removed first: detected, never returned."""
    prefix = str(tmp_path / "model")
    tkio.write_checkpoint(prefix, {"w": np.arange(1000, dtype=np.float32)})
    old_index = (tmp_path / "model.index").read_bytes()
    tkio.write_checkpoint(prefix, {"w": np.arange(1000, dtype=np.float32) + 1})
    (tmp_path / "model.index").write_bytes(old_index)
    with tkio.open_checkpoint_reader(prefix) as reader:
        with pytest.raises(tf.errors.DataLossError, match="model.data-00000-of-00001"):
            reader.read("w")
