"""Progress bars for the command line: tqdm when stderr is a terminal, silence otherwise.

    with progress(total=total_bytes, desc="convert", unit="B") as bar:
        for ...:
            bar.update(len(chunk))

Output that is piped or captured (scripts, CI, tests) never gets bar characters, and tqdm
is only needed when a person is watching (it is in the `progress` extra). Setting
TENSORKEEP_PROGRESS=0 turns bars off even on a terminal.
"""

import os
import sys


class _Silent:
    """Stands in for a tqdm bar: accepts the same calls and prints nothing."""

    def __init__(self, iterable=None):
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())

    def update(self, count=1):
        pass

    def set_postfix_str(self, text):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def bars_enabled(stream=None):
    """True when a bar would be drawn: `stream` (stderr) is a terminal and bars are not turned off."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get("TENSORKEEP_PROGRESS", "1") == "0":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress(iterable=None, total=None, desc=None, unit="it"):
    """A tqdm bar on stderr when it is a terminal and tqdm is installed, else a silent stand-in.

    Byte counts (`unit="B"`) are shown scaled (KiB, MiB, ...).
    """
    if not bars_enabled():
        return _Silent(iterable)
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent(iterable)
    scaled = unit == "B"
    return tqdm(iterable, total=total, desc=desc, unit=unit, unit_scale=scaled,
                unit_divisor=1024 if scaled else 1000, leave=False, file=sys.stderr,
                dynamic_ncols=True)
