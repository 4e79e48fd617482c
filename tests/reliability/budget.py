"""How much work each reliability suite does, and how it reports what it did.

By default every suite runs a small fixed budget (the whole set stays well under two
minutes). TENSORKEEP_RELIABILITY_FULL=1 switches every suite to its full budget; a single
budget can also be set directly with its own environment variable (listed per suite in
docs/RELIABILITY.md). TENSORKEEP_RELIABILITY_REPORT=<file> appends each suite's figures to
that file as JSON lines.
"""

import json
import os

FULL = os.environ.get("TENSORKEEP_RELIABILITY_FULL", "") not in ("", "0")


def budget(variable, default, full):
    """The int in environment `variable` if set, else `full` in a full run, else `default`."""
    value = os.environ.get(variable)
    if value:
        return int(value)
    return full if FULL else default


def report(output, suite, figures, note=""):
    """Print one suite's figures on the terminal (even under pytest's capture), and append
    them to $TENSORKEEP_RELIABILITY_REPORT when set. `output` is pytest's capsys fixture, or
    its config (from a fixture that reports when a module ends)."""
    text = ", ".join(f"{name} {value}" for name, value in figures.items())
    line = f"[reliability] {suite}: {text}" + (f" ({note})" if note else "")
    if hasattr(output, "disabled"):
        with output.disabled():
            print("\n" + line)
    else:
        with output.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            print("\n" + line)
    path = os.environ.get("TENSORKEEP_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"suite": suite, "full": FULL, **figures}, default=str) + "\n")
