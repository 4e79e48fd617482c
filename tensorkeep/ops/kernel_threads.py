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
of that size is worth splitting into and call `run_parts`. Kernels run often with the same
shapes (matrix products, optimizer updates) go through a `Site` instead, which learns from
their own timings whether splitting pays at that place.
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
# How long the caller of run_parts waits for pool threads' parts without sleeping (seconds).
_SPIN_LONGEST = 0.002

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
    if _split_again_at and time.perf_counter() < _split_again_at:
        return 1
    return _parts_worth(work, limit)


def _parts_worth(work, limit):
    count = threads()
    if count <= 1 or work < 2 * MIN_WORK_PER_PART:
        return 1
    count = min(count, work // MIN_WORK_PER_PART)
    return max(1, min(count, limit) if limit is not None else count)


class Site:
    """One place where a kernel may split its work (a MatMul or an optimizer update of one
    op in a plan), learning from its own runs whether splitting pays there.

    Whether a split pays depends on more than the work's size: a 0.35 ms matrix product gains
    a quarter from a second thread, while an update of the same variable made of a dozen short
    NumPy calls loses (each call hands the GIL between the threads). So a site times its runs,
    split and whole (per unit of work, a moving average of each), runs the way that has been
    faster, and every `EXPLORE_EVERY`-th run the other way, to notice when that changes (another
    process taking the cores). Both ways give the same bits; only the time differs. Jobs run
    through a site are judged by it alone: they neither start nor end the pause of parts_for."""

    EXPLORE_EVERY = 16
    _WEIGHT = 0.25  # of a new sample in the moving average
    _OUTLIER = 4.0  # a sample counts as at most this many times the average (a preempted run)

    __slots__ = ("split_cost", "whole_cost", "runs")

    def __init__(self):
        self.split_cost = None  # seconds per unit of work, moving averages
        self.whole_cost = None
        self.runs = 0

    def run(self, work, whole, split, limit=None):
        """whole(), or split(parts) when `work` is worth `parts` > 1 on this run and splitting
        has paid here; returns what it returns."""
        parts = _parts_worth(work, limit)
        if parts <= 1:
            return whole()
        use_split = self._choose()
        previous = getattr(_state, "judged_by_site", False)
        _state.judged_by_site = True
        start = time.perf_counter()
        try:
            result = split(parts) if use_split else whole()
        finally:
            _state.judged_by_site = previous
        self._record(use_split, (time.perf_counter() - start) / work)
        return result

    def _choose(self):
        self.runs += 1
        if self.split_cost is None:
            return True
        if self.whole_cost is None:
            return False
        split_is_faster = self.split_cost <= self.whole_cost
        return split_is_faster != (self.runs % self.EXPLORE_EVERY == 0)

    def _record(self, split, cost):
        average = self.split_cost if split else self.whole_cost
        if average is not None:
            cost = average + (min(cost, self._OUTLIER * average) - average) * self._WEIGHT
        if split:
            self.split_cost = cost
        else:
            self.whole_cost = cost


class _Job:
    """One run_parts call: parts are claimed by index, by the caller and by pool threads."""

    __slots__ = ("function", "count", "claims", "results", "error", "unfinished", "lock",
                 "finished", "cpu_time", "measure_cpu")

    def __init__(self, function, count, measure_cpu):
        self.function = function
        self.count = count
        self.claims = itertools.count()  # next() is atomic under the GIL
        self.results = [None] * count
        self.error = None
        self.unfinished = count
        self.lock = threading.Lock()
        self.finished = threading.Lock()  # held until the last part is done (cheaper than an Event)
        self.finished.acquire()
        self.cpu_time = 0.0  # of the parts, in seconds (when measure_cpu: two system calls)
        self.measure_cpu = measure_cpu

    def run_claimed_parts(self):
        """Runs parts until none is left unclaimed."""
        while True:
            index = next(self.claims)
            if index >= self.count:
                return
            self.run_part(index)

    def run_part(self, index):
        start = time.thread_time() if self.measure_cpu else 0.0
        try:
            self.results[index] = self.function(index)
        except BaseException as exc:  # handed to the caller of run_parts
            if self.error is None:
                self.error = exc
        cpu_time = time.thread_time() - start if self.measure_cpu else 0.0
        with self.lock:
            self.cpu_time += cpu_time
            self.unfinished -= 1
            if self.unfinished == 0:
                self.finished.release()


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


def run_parts(function, count, threads=None):
    """Calls function(0) ... function(count - 1), in parallel on up to `threads` threads
    (default: `count`; the caller's among them), each claiming the next part not yet claimed.
    More parts than threads balance the load: the caller, which starts first, takes more of
    them than a pool thread that wakes late. Returns the results in order; if parts raise, the
    first exception is raised once every part has finished."""
    if count <= 1:
        return [function(0)]
    helpers = min(count, threads or count) - 1
    if helpers < 1:
        return [function(index) for index in range(count)]
    _ensure_pool(helpers)
    judged_here = not getattr(_state, "judged_by_site", False)
    job = _Job(function, count, measure_cpu=judged_here)
    start = time.perf_counter()
    # The caller claims its first part before offering the job and starts it right after:
    # the GIL is then free (inside the part's NumPy call) when a woken pool thread wants it,
    # instead of the pool thread waiting for it and being woken a second time.
    first = next(job.claims)
    for _ in range(helpers):
        _jobs.put(job)
    job.run_part(first)
    job.run_claimed_parts()
    _wait_for_parts(job)
    elapsed = time.perf_counter() - start
    if elapsed >= _MIN_JUDGED_TIME and judged_here:
        _note_speedup(job.cpu_time / elapsed)
    # Pool threads that did not get to this job still find it in the queue (they will see no
    # part left): it must not keep the work's arrays alive until then.
    results, error = job.results, job.error
    job.function = job.results = job.error = None
    if error is not None:
        raise error
    return results


def _wait_for_parts(job):
    """Waits until the pool threads have finished the job's parts. For a while by yielding the
    core (GIL released) rather than sleeping: a thread woken from a sleep starts 20-40 µs later
    on this kind of machine, a tenth of a split product, while a yielding one sees the last part
    end at once; a core another process wants still goes to it."""
    if job.unfinished:
        give_up_at = time.perf_counter() + _SPIN_LONGEST
        while job.unfinished and time.perf_counter() < give_up_at:
            os.sched_yield()
    job.finished.acquire()


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
    as possible with every inner boundary a multiple of `quantum`: no more ranges than whole
    quanta in `length` (a part's cost does not shrink with its rows alone: a 4-row block of a
    product packs the whole right-hand matrix again, a third of a 48-row block's time)."""
    count = max(1, min(count, length // quantum))
    bounds = [0]
    for index in range(1, count):
        bound = int(round(index * length / count / quantum)) * quantum
        if bounds[-1] < bound < length:
            bounds.append(bound)
    bounds.append(length)
    return list(zip(bounds[:-1], bounds[1:]))
