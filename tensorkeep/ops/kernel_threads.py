"""Intra-op parallelism for NumPy kernels: a big kernel splits its work into independent parts
and runs them on a small pool of threads, each part a NumPy call that releases the GIL.

Why not BLAS's own threads: OpenBLAS's workers spin while they wait for work, so with more
threads than idle cores (any other busy process) a product becomes many times slower
(runtime/blas_threads.py keeps BLAS at one thread). Pool threads here block on a queue
instead, and the calling thread never waits for a part that no thread has started: it claims
and runs such parts itself. On a loaded machine, where a woken pool thread may not get a core
for milliseconds, a split job never collapses. Still, when other processes keep the cores busy,
the parts end up time-sliced on one core and a split job costs more than an unsplit one. So
run_parts measures each job's speed-up (CPU time of its parts over its wall time) and, after a
job of 100 µs or more that did not run faster than 1.25x, kernels stop splitting for a while
(10 ms, doubling while that lasts, up to 100 ms: a failed try costs a fraction of a
millisecond) before trying again.

The session sets how many threads a run may use (`tf.ConfigProto(intra_op_parallelism_threads)`,
default: the cores this process may run on); kernels ask `parts_for(work)` how many parts a job
of that size is worth splitting into and call `run_parts`.
"""

import itertools
import os
import queue
import threading
import time

# Below this much work (in multiply-adds of a BLAS product, ~35 µs on one core here) a second
# thread costs more in hand-off (~20-40 µs) than it saves.
MIN_WORK_PER_PART = 2_000_000
# An element-wise NumPy call costs about this many multiply-adds per element (float32 on one
# core: ~8 elements per ns against ~60 multiply-adds per ns in OpenBLAS): kernels count the work
# of element-wise math as elements x NumPy calls x this.
WORK_PER_ELEMENT_CALL = 8
# Reading a byte from the page cache and checksumming it costs about this many (~20 GB/s for
# each): a restore splits its reads from a few MB on.
WORK_PER_BYTE_READ = 3


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


DEFAULT_THREADS = _usable_cores()

# Splitting pauses after a job whose speed-up was below _MIN_SPEEDUP (module docstring). Jobs
# shorter than _MIN_JUDGED_TIME are not judged: hand-off alone keeps their speed-up low.
_MIN_SPEEDUP = 1.25
_MIN_JUDGED_TIME = 100e-6  # seconds
_PAUSE_FIRST = 0.01  # seconds
_PAUSE_LONGEST = 0.1

_state = threading.local()  # .threads: the thread count of the run on this thread
_jobs = queue.SimpleQueue()  # jobs offered to the pool threads
_pool_lock = threading.Lock()
_pool_size = 0  # pool threads started (the caller of run_parts is not one of them)
_pause = 0.0  # the current pause, doubled by each job in a row that split did not speed up
_split_again_at = 0.0  # time.perf_counter() before which parts_for does not split


def set_threads(threads):
    """Thread count for kernels run on the calling thread (None: the default). Returns the
    previous setting, for the caller to put back."""
    previous = getattr(_state, "threads", None)
    _state.threads = threads
    return previous


def threads():
    count = getattr(_state, "threads", None)
    return DEFAULT_THREADS if count is None else count


def parts_for(work, limit=None):
    """How many parts a job of `work` units should be split into on this run (1 = don't, also
    while splitting pauses)."""
    count = threads()
    if count <= 1 or work < 2 * MIN_WORK_PER_PART:
        return 1
    if _split_again_at and time.perf_counter() < _split_again_at:
        return 1
    count = min(count, work // MIN_WORK_PER_PART)
    return max(1, min(count, limit) if limit is not None else count)


class _Job:
    """One run_parts call: parts are claimed by index, by the caller and by pool threads."""

    __slots__ = ("function", "count", "claims", "results", "error", "unfinished", "lock",
                 "finished", "cpu_time")

    def __init__(self, function, count):
        self.function = function
        self.count = count
        self.claims = itertools.count()  # next() is atomic under the GIL
        self.results = [None] * count
        self.error = None
        self.unfinished = count
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.cpu_time = 0.0  # of the parts, in seconds

    def run_claimed_parts(self):
        """Runs parts until none is left unclaimed."""
        while True:
            index = next(self.claims)
            if index >= self.count:
                return
            start = time.thread_time()
            try:
                self.results[index] = self.function(index)
            except BaseException as exc:  # handed to the caller of run_parts
                if self.error is None:
                    self.error = exc
            cpu_time = time.thread_time() - start
            with self.lock:
                self.cpu_time += cpu_time
                self.unfinished -= 1
                if self.unfinished == 0:
                    self.finished.set()


def _pool_thread():
    while True:
        _jobs.get().run_claimed_parts()


def _ensure_pool(size):
    global _pool_size
    if _pool_size >= size:
        return
    with _pool_lock:
        while _pool_size < size:
            threading.Thread(target=_pool_thread, name="tensorkeep-kernel-%d" % _pool_size,
                             daemon=True).start()
            _pool_size += 1


def _forget_pool_after_fork():
    # A forked child has none of the parent's threads; start new ones when needed.
    global _jobs, _pool_lock, _pool_size
    _jobs = queue.SimpleQueue()
    _pool_lock = threading.Lock()
    _pool_size = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def run_parts(function, count):
    """Calls function(0) ... function(count - 1), in parallel on up to `count` threads (the
    caller's among them). Returns their results in order; if parts raise, the first exception
    is raised once every part has finished."""
    if count <= 1:
        return [function(0)]
    _ensure_pool(count - 1)
    job = _Job(function, count)
    start = time.perf_counter()
    for _ in range(count - 1):
        _jobs.put(job)
    job.run_claimed_parts()
    job.finished.wait()
    elapsed = time.perf_counter() - start
    if elapsed >= _MIN_JUDGED_TIME:
        _note_speedup(job.cpu_time / elapsed)
    # Pool threads that did not get to this job still find it in the queue (they will see no
    # part left): it must not keep the work's arrays alive until then.
    results, error = job.results, job.error
    job.function = job.results = job.error = None
    if error is not None:
        raise error
    return results


def _note_speedup(speedup):
    """Pauses splitting after a job that split was not faster (for longer each time in a row);
    a job that was ends the series."""
    global _pause, _split_again_at
    if speedup >= _MIN_SPEEDUP:
        _pause = 0.0
        return
    _pause = min(max(2 * _pause, _PAUSE_FIRST), _PAUSE_LONGEST)
    _split_again_at = time.perf_counter() + _pause


def split_ranges(length, count, quantum=1):
    """Up to `count` contiguous, non-empty [start, stop) ranges covering range(length) as evenly
    as possible with every inner boundary a multiple of `quantum` (fewer ranges when length is
    too short for that)."""
    bounds = [0]
    for index in range(1, count):
        bound = int(round(index * length / count / quantum)) * quantum
        if bounds[-1] < bound < length:
            bounds.append(bound)
    bounds.append(length)
    return list(zip(bounds[:-1], bounds[1:]))
