"""A training job that only saves: run as a child process by the crash and concurrency suites.

    python saver_child.py DIR --megabytes M [--saves N] [--same-prefix]

It resumes like a restarted TF1 job (SessionManager): takes over the checkpoints listed by
DIR's state file (Saver.recover_last_checkpoints, so they keep rotating out), continues
after the latest checkpoint's step, and saves `StepModel` at each next step with
Saver(max_to_keep=3) into DIR/model-<step> (or always DIR/model with --same-prefix).
It prints `begin <step>` before and `saved <step> <seconds>` after each save, flushed, so
the parent knows which states were (being) written when it kills it.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorkeep as tf  # noqa: E402
from tensorkeep import io as tkio  # noqa: E402

from reliability.model import StepModel  # noqa: E402


def resume(model, directory):
    """The step after the latest checkpoint (1 when there is none)."""
    state = tf.train.get_checkpoint_state(directory)
    if state is None:
        return 1
    model.saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
    latest = tf.train.latest_checkpoint(directory)
    if latest is None:
        return 1
    with tkio.open_checkpoint_reader(latest) as reader:
        return int(reader.read("global_step")) + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--megabytes", type=float, required=True)
    parser.add_argument("--saves", type=int, default=1 << 30)
    parser.add_argument("--same-prefix", action="store_true")
    args = parser.parse_args()
    model = StepModel(tf, args.megabytes)
    prefix = os.path.join(args.directory, "model")
    step = resume(model, args.directory)
    for step in range(step, step + args.saves):
        model.set_step(step)
        print(f"begin {step}", flush=True)
        started = time.monotonic()
        model.saver.save(model.session, prefix, global_step=None if args.same_prefix else step)
        print(f"saved {step} {time.monotonic() - started:.3f}", flush=True)


if __name__ == "__main__":
    main()
