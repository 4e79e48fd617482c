"""Crash during save: SIGKILL a process at random moments while it saves a large model
repeatedly with tf.train.Saver(max_to_keep=3), then check that nothing was lost.

After every kill: the state file's latest checkpoint restores (with a Saver, in this
process), it holds exactly the values of one saved step, that step is at least the last
one whose save returned before the kill, and temporary files the kill left behind are gone
once the restarted job has saved again. Figure: kills survived / kills.

Budget: TENSORKEEP_RELIABILITY_KILLS (default 8, full 200) kills of a model of
TENSORKEEP_RELIABILITY_CRASH_MB megabytes (default 256, full 384). See docs/RELIABILITY.md.
"""

import glob
import os
import random

import pytest

import tensorkeep as tf
from reliability.budget import budget, report
from reliability.model import MAX_TO_KEEP, StepModel
from reliability.processes import SaverChild

KILLS = budget("TENSORKEEP_RELIABILITY_KILLS", 8, 200)
MEGABYTES = budget("TENSORKEEP_RELIABILITY_CRASH_MB", 256, 384)
SEED = budget("TENSORKEEP_RELIABILITY_SEED", 20261125, 20261125)

pytestmark = pytest.mark.skipif(not hasattr(os, "kill") or os.name != "posix", reason="needs POSIX signals")


def _temp_files(directory):
    return set(glob.glob(os.path.join(directory, "*.tempstate*")))


def _checkpoint_files(directory):
    return {name for name in os.listdir(directory) if ".tempstate" not in name and name != "checkpoint"}


def _files_of(prefixes):
    names = set()
    for prefix in prefixes:
        base = os.path.basename(prefix)
        names |= {f"{base}.index", f"{base}.meta", f"{base}.data-00000-of-00001"}
    return names


class CrashHarness:
    def __init__(self, directory, megabytes, rng):
        self.directory = directory
        self.megabytes = megabytes
        self.rng = rng
        self.verifier = StepModel(tf, megabytes)
        self.completed = 0  # the highest step whose save returned
        self.begun = 0  # the highest step whose save started
        self.save_seconds = 1.0  # refined from what the children report
        self.lifetime = 5.0  # seconds from a child's start to the end of its second save
        self.leftovers = set()  # temporary files the previous kill left behind
        self.figures = {"kills": 0, "survived": 0, "kills during a save": 0, "temp files left by kills": 0,
                        "temp files cleaned by the next save": 0}

    def kill_one(self):
        child = SaverChild(self.directory, self.megabytes)
        if self.rng.random() < 0.2:
            # Anywhere in the child's life: start-up, resuming, preparing a step, saving.
            child.wait_for_begin(3, self.rng.uniform(0, self.lifetime))
        else:
            # Somewhere in one of its first two saves, or just after it.
            target_begin = self.rng.randint(1, 2)
            assert child.wait_for_begin(target_begin, timeout=120), \
                f"the saver child ended before saving: {child.stderr}"
            child.wait_for_begin(target_begin + 1, self.rng.uniform(0, 1.25 * self.save_seconds))
        code = child.kill()
        assert code == -9, f"the saver child ended by itself ({code}) before the kill: {child.stderr}"
        self.figures["kills"] += 1
        if len(child.begun) > len(child.saved):
            self.figures["kills during a save"] += 1
        if child.save_seconds:
            self.save_seconds = max(child.save_seconds)
        if len(child.saved_at) >= 2:
            self.lifetime = child.saved_at[1]
        self.check(child)
        self.figures["survived"] += 1

    def check(self, child):
        self.begun = max([self.begun] + child.begun)
        self.completed = max([self.completed] + child.saved)
        latest = tf.train.latest_checkpoint(self.directory)
        if latest is None:
            assert self.completed == 0, f"no checkpoint after save {self.completed} returned"
        else:
            step = self.verifier.restored_step(latest)
            assert self.completed <= step <= self.begun, \
                f"latest checkpoint {latest} holds step {step}; saves returned up to {self.completed}"
            assert os.path.basename(latest) == f"model-{step}"
        temp_files = _temp_files(self.directory)
        if child.saved:
            assert not self.leftovers & temp_files, \
                f"temporary files survived the next save: {sorted(self.leftovers & temp_files)}"
            self.figures["temp files cleaned by the next save"] += len(self.leftovers)
            self.leftovers = set()
        new = temp_files - self.leftovers
        self.figures["temp files left by kills"] += len(new)
        self.leftovers |= new

    def final_save(self):
        """A last, uninterrupted run: it must leave exactly the kept checkpoints, all intact."""
        child = SaverChild(self.directory, self.megabytes, saves=MAX_TO_KEEP + 1)
        assert child.finish(timeout=600) == 0, child.stderr
        self.completed = max(child.saved)
        assert not _temp_files(self.directory), sorted(_temp_files(self.directory))
        self.figures["temp files cleaned by the next save"] += len(self.leftovers)
        state = tf.train.get_checkpoint_state(self.directory)
        kept = list(state.all_model_checkpoint_paths)
        assert len(kept) == MAX_TO_KEEP and kept[-1] == state.model_checkpoint_path
        for prefix in kept:
            step = self.verifier.restored_step(prefix)
            assert os.path.basename(prefix) == f"model-{step}"
        assert self.verifier.restored_step(tf.train.latest_checkpoint(self.directory)) == self.completed
        # Files of no kept checkpoint: rotated-out checkpoints whose deletion a kill prevented
        # (the state file no longer names them, so no saver may delete them).
        unreferenced = _checkpoint_files(self.directory) - _files_of(kept)
        self.figures["unreferenced files after the run"] = len(unreferenced)
        for name in unreferenced:
            assert name.startswith("model-") and int(name.split("-")[1].split(".")[0]) < self.completed


def test_sigkill_during_save_never_loses_the_last_checkpoint(tmp_path, capsys):
    rng = random.Random(SEED)
    harness = CrashHarness(str(tmp_path / "train"), MEGABYTES, rng)
    try:
        for _ in range(KILLS):
            harness.kill_one()
        harness.final_save()
    finally:
        figures = {"kills survived": f"{harness.figures['survived']}/{harness.figures['kills']}",
                   **{name: value for name, value in harness.figures.items() if name not in ("kills", "survived")}}
        report(capsys, "crash during save", figures, note=f"{MEGABYTES} MB model, seed {SEED}")
    assert harness.figures["survived"] == KILLS


def test_temp_files_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    """The rule the cleaning relies on: a live writer holds a lock on its temporary file, the
    OS drops it when the writer dies, and only unlocked temporary files are removed."""
    import subprocess
    import sys

    from tensorkeep.io import bundle, gfile

    code = ("import sys, time; from tensorkeep.io import gfile\n"
            "writer = gfile.AtomicWriter(sys.argv[1]); writer.write(b'partial')\n"
            "print('ready', flush=True); time.sleep(600)\n")
    killed = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "model-1.data-00000-of-00001")],
                              stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline() == "ready\n"
    killed.kill()
    killed.wait()
    killed.stdout.close()
    (abandoned,) = _temp_files(str(tmp_path))
    (tmp_path / "unrelated.tempstate").write_bytes(b"not ours: no digits")
    live = gfile.AtomicWriter(str(tmp_path / "model-2.index"))
    live.write(b"complete")
    with bundle.BundleWriter(str(tmp_path / "model-3")) as writer:  # opening one cleans the directory
        writer.add("x", [1.0])
    assert not os.path.exists(abandoned)
    assert (tmp_path / "unrelated.tempstate").exists()
    live.commit()  # its temporary file survived the cleaning
    assert (tmp_path / "model-2.index").read_bytes() == b"complete"
    assert _temp_files(str(tmp_path)) == {str(tmp_path / "unrelated.tempstate")}
