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
                else:
                    time.sleep(0.01)  # the first save has not happened yet
                continue
            try:
                if attempt % 2:
                    step = reader.restored_step(prefix)
                    outcomes["exact restores (Saver)"] += 1
                else:
                    step = _read_with_io_layer(prefix, reader.bases())
                    outcomes["exact reads (io layer)"] += 1
            except RETRYABLE as error:
                outcomes[f"retryable {type(error).__name__}"] += 1
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
