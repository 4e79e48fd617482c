"""Run untrusted-input cases in a forked worker process, one at a time, each with a timeout.

A case that hangs or kills the worker (a crash, or the memory limit) is reported as such
and a fresh worker takes over, so one bad case cannot take the test run down with it.
The worker's address space is limited (RLIMIT_AS), so a reader that believes a size in a
file and allocates terabytes fails there instead of exhausting the machine.
"""

import multiprocessing
import os
import traceback

try:
    import resource
except ImportError:  # not POSIX
    resource = None


class Outcome:
    """What one call did: kind is "returned", "raised", "timeout" or "crashed"."""

    def __init__(self, kind, value=None, error_type=None, message="", trace=""):
        self.kind = kind
        self.value = value
        self.error_type = error_type  # the exception class, when kind == "raised"
        self.message = message
        self.trace = trace

    def __repr__(self):
        if self.kind == "raised":
            return f"raised {self.error_type.__name__}: {self.message[:300]}"
        return f"{self.kind} {self.value!r}"[:300]


def _virtual_memory_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _serve(connection, extra_memory):
    if resource is not None and extra_memory and os.path.exists("/proc/self/status"):
        limit = _virtual_memory_bytes() + extra_memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        request = connection.recv()
        if request is None:
            return
        function, args = request
        try:
            reply = ("returned", function(*args))
        except BaseException as error:  # noqa: BLE001 (every failure is reported to the parent)
            reply = ("raised", type(error), str(error), traceback.format_exc(limit=-8))
        try:
            connection.send(reply)
        except Exception:  # noqa: BLE001 (an unpicklable result or exception class)
            connection.send(("raised", RuntimeError, f"unpicklable reply {reply[:2]!r}", ""))


class Sandbox:
    def __init__(self, timeout=20.0, extra_memory=2 << 30):
        self.timeout = timeout
        self.extra_memory = extra_memory
        self._context = multiprocessing.get_context("fork")
        self._process = None
        self._connection = None

    def _start(self):
        self._connection, child_end = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child_end, self.extra_memory), daemon=True)
        self._process.start()
        child_end.close()

    def _stop(self):
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._connection.close()
        self._process = None

    def call(self, function, *args):
        """Outcome of function(*args) in the worker (a module-level function and picklable args)."""
        if self._process is None:
            self._start()
        self._connection.send((function, args))
        if not self._connection.poll(self.timeout):
            self._stop()
            return Outcome("timeout", f"no answer within {self.timeout} s")
        try:
            reply = self._connection.recv()
        except EOFError:
            self._process.join(5)
            code = self._process.exitcode
            self._stop()
            return Outcome("crashed", f"the worker died (exit code {code})")
        if reply[0] == "returned":
            return Outcome("returned", reply[1])
        return Outcome("raised", error_type=reply[1], message=reply[2], trace=reply[3])

    def close(self):
        if self._process is not None and self._process.is_alive():
            self._connection.send(None)
            self._process.join(5)
        self._stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
