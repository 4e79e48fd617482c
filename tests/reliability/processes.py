"""Child processes of the reliability suites, and what they print."""

import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAVER_CHILD = os.path.join(HERE, "saver_child.py")


class SaverChild:
    """saver_child.py running in the background; its output lines are collected as they come."""

    def __init__(self, directory, megabytes, saves=None, same_prefix=False):
        command = [sys.executable, SAVER_CHILD, str(directory), "--megabytes", str(megabytes)]
        if saves is not None:
            command += ["--saves", str(saves)]
        if same_prefix:
            command.append("--same-prefix")
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.begun = []  # steps whose save started
        self.saved = []  # steps whose save returned
        self.save_seconds = []
        self.saved_at = []  # seconds after the start at which each save returned
        self._changed = threading.Condition()
        self._stderr = []
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self):
        for line in self.process.stdout:
            words = line.split()
            with self._changed:
                if words[:1] == ["begin"]:
                    self.begun.append(int(words[1]))
                elif words[:1] == ["saved"]:
                    self.saved.append(int(words[1]))
                    self.save_seconds.append(float(words[2]))
                    self.saved_at.append(time.monotonic() - self.started)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stderr(self):
        self._stderr.extend(self.process.stderr)

    def wait_for_begin(self, count, timeout):
        """True once `count` saves have begun; False if the child ended or time ran out first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.begun) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    return len(self.begun) >= count
                self._changed.wait(min(remaining, 0.05))
            return True

    def kill(self):
        self.process.kill()  # SIGKILL
        return self.finish()

    def finish(self, timeout=None):
        """Wait for the child to end and for its output to be read; its return code."""
        code = self.process.wait(timeout)
        for thread in self._threads:
            thread.join()
        return code

    @property
    def stderr(self):
        return "".join(self._stderr)
