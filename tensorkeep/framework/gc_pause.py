"""Python's cyclic garbage collector paused while one call builds many long-lived objects.

A graph op is some ten Python objects, and a plan step a few more. The collector runs a pass
every few hundred new objects, and a full pass (every object of the process) each time the
objects that survived grew by a quarter: building a Saver over 10,000 variables (20,000 ops)
or the first plan of their initializer ran full passes over the ~750,000 objects of the graph
several times, about twice the work of the build itself (BENCHMARKS.md); the gradients and
optimizer updates of a large model are built in bulk too (15% of `minimize` for 3,000
variables). Calls that build in
bulk (`paused_gc`) therefore pause the collector and let the next allocation after them start
it again; nothing they create is garbage, so nothing waits longer to be freed.

Pauses nest and may overlap across threads: the collector restarts when the last one ends,
and only if a pause stopped it (a program that disabled it keeps it disabled).
"""

import functools
import gc
import threading

_lock = threading.Lock()
_active = 0  # pauses in progress, all threads
_stopped_by_pause = False


def _begin():
    global _active, _stopped_by_pause
    with _lock:
        if _active == 0 and gc.isenabled():
            gc.disable()
            _stopped_by_pause = True
        _active += 1


def _end():
    global _active, _stopped_by_pause
    with _lock:
        _active -= 1
        if _active == 0 and _stopped_by_pause:
            _stopped_by_pause = False
            gc.enable()


def paused_gc(function):
    """Decorates a call that builds many long-lived objects: the cyclic collector stays paused
    while it runs."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        _begin()
        try:
            return function(*args, **kwargs)
        finally:
            _end()
    return call
