"""Kernels split over threads (tensorkeep/ops/kernel_threads.py): the pool runs every part once
and hands errors back; the session sets the thread count from intra_op_parallelism_threads; split
MatMul products and the ApplyGradientDescent/ApplyAdam updates give the same bits as unsplit
NumPy (NumPy products and the optimizers' reference math as the references). Products are
compared on one BLAS thread, as sessions run them (runtime/blas_threads.py): OpenBLAS's own
threads split a product differently."""

import threading
import time

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import op_builder, op_def
from tensorkeep.ops import _helpers, kernel_threads, math_ops, training_ops
from tensorkeep.runtime import blas_threads


@pytest.fixture(autouse=True)
def splitting_not_paused(monkeypatch):
    # A loaded test machine may pause splitting (run_parts' back-off); the tests choose.
    monkeypatch.setattr(kernel_threads, "_split_again_at", 0.0)
    monkeypatch.setattr(kernel_threads, "_pause", 0.0)


# --- the pool ------------------------------------------------------------------------------------

@pytest.mark.parametrize("length,count,quantum", [(100, 2, 48), (784, 2, 48), (10, 3, 1),
                                                  (7, 3, 1), (5, 8, 1), (100, 4, 12),
                                                  (1, 2, 1), (95, 2, 48)])
def test_split_ranges_cover_the_range_in_order_on_quantum_boundaries(length, count, quantum):
    ranges = kernel_threads.split_ranges(length, count, quantum)
    assert ranges[0][0] == 0 and ranges[-1][1] == length
    assert all(stop == next_start for (_, stop), (next_start, _) in zip(ranges, ranges[1:]))
    assert all(start < stop for start, stop in ranges)
    assert all(start % quantum == 0 for start, _ in ranges)
    assert 1 <= len(ranges) <= count
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= quantum
    # No range shorter than a quantum unless the whole length is (a 4-row block of a product
    # packs the whole right-hand matrix again for little work).
    assert min(sizes) >= min(quantum, length)


@pytest.mark.parametrize("length,count,quantum,expected", [
    (100, 4, 48, [(0, 48), (48, 100)]),
    (784, 4, 48, [(0, 192), (192, 384), (384, 576), (576, 784)]),
    (47, 4, 48, [(0, 47)]),
])
def test_split_ranges_make_no_more_ranges_than_whole_quanta(length, count, quantum, expected):
    assert kernel_threads.split_ranges(length, count, quantum) == expected


def test_the_caller_sees_a_pool_part_finish_without_sleeping(monkeypatch):
    # run_parts waits for pool threads' parts by yielding the core while they run; past
    # _SPIN_LONGEST it sleeps on the job's event. Both ways it returns every result.
    import time

    for spin in (kernel_threads._SPIN_LONGEST, 0.0):
        monkeypatch.setattr(kernel_threads, "_SPIN_LONGEST", spin)
        results = kernel_threads.run_parts(lambda index: (time.sleep(0.002 * index), index)[1],
                                           4, threads=2)
        assert results == [0, 1, 2, 3]


def test_run_parts_runs_every_part_once_and_returns_results_in_order():
    seen = []

    def part(index):
        seen.append(index)
        return index * index
    assert kernel_threads.run_parts(part, 5) == [0, 1, 4, 9, 16]
    assert sorted(seen) == [0, 1, 2, 3, 4]


def test_run_parts_uses_pool_threads():
    threads_seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def part(index):
        threads_seen.add(threading.get_ident())
        barrier.wait()  # both parts at once: the caller alone could not pass this
        return index
    assert kernel_threads.run_parts(part, 2) == [0, 1]
    assert len(threads_seen) == 2


def test_run_parts_raises_after_all_parts_finished():
    finished = []

    def part(index):
        if index == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.01)
        finished.append(index)
    with pytest.raises(ValueError, match="part 0 failed"):
        kernel_threads.run_parts(part, 3)
    assert sorted(finished) == [1, 2]


def test_run_parts_from_several_threads_and_nested():
    results = {}

    def outer(caller):
        def part(index):
            inner = kernel_threads.run_parts(lambda i: i + index, 2)
            return sum(inner)
        results[caller] = kernel_threads.run_parts(part, 3)
    threads = [threading.Thread(target=outer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {n: [1, 3, 5] for n in range(4)}


def test_parts_for_follows_the_threads_of_the_run_and_the_work():
    previous = kernel_threads.set_threads(4)
    try:
        assert kernel_threads.parts_for(kernel_threads.MIN_WORK_PER_PART) == 1
        assert kernel_threads.parts_for(3 * kernel_threads.MIN_WORK_PER_PART) == 3
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART) == 4
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART, limit=2) == 2
        kernel_threads.set_threads(1)
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART) == 1
    finally:
        kernel_threads.set_threads(previous)


def test_a_job_that_was_not_faster_split_pauses_splitting():
    previous = kernel_threads.set_threads(2)
    try:
        kernel_threads._note_speedup(1.0)
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART) == 1
        first_pause = kernel_threads._pause
        kernel_threads._note_speedup(1.1)
        assert kernel_threads._pause == 2 * first_pause
        kernel_threads._split_again_at = time.perf_counter() - 1  # the pause is over
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART) == 2
        kernel_threads._note_speedup(1.9)
        assert kernel_threads._pause == 0.0
    finally:
        kernel_threads.set_threads(previous)


def test_run_parts_judges_the_speedup_of_long_jobs_only(monkeypatch):
    speedups = []
    monkeypatch.setattr(kernel_threads, "_note_speedup", speedups.append)
    matrix = np.random.default_rng(0).standard_normal((400, 400))

    def products(index):  # NumPy releases the GIL: the parts may overlap
        for _ in range(5):
            matrix @ matrix
    kernel_threads.run_parts(products, 2)
    assert len(speedups) == 1 and 0 < speedups[0] <= 2.2  # CPU time of 2 parts / wall time
    # A job shorter than _MIN_JUDGED_TIME is not judged (made huge here: how long a tiny job
    # takes depends on how fast the pool thread wakes up).
    monkeypatch.setattr(kernel_threads, "_MIN_JUDGED_TIME", 3600.0)
    kernel_threads.run_parts(lambda index: index, 2)
    assert len(speedups) == 1


# --- the session's setting ---------------------------------------------------------------------

seen_threads = []


def _threads_probe(x):
    seen_threads.append(kernel_threads.threads())
    return x


op_def.register_op("KernelThreadsProbe", inputs=["x: T"], outputs=["y: T"], attrs=["T: type"],
                   compute=_threads_probe, shape=_helpers.unchanged_shape)


@pytest.mark.parametrize("config,expected", [
    (None, kernel_threads.DEFAULT_THREADS),
    (tf.ConfigProto(intra_op_parallelism_threads=1), 1),
    (tf.ConfigProto(intra_op_parallelism_threads=3), 3),
    (tf.ConfigProto(intra_op_parallelism_threads=0), kernel_threads.DEFAULT_THREADS),
])
def test_session_runs_use_intra_op_parallelism_threads(config, expected):
    seen_threads.clear()
    before = kernel_threads.set_threads(7)
    try:
        with tf.Graph().as_default():
            probe = op_builder.apply_op("KernelThreadsProbe", x=tf.constant(1.0))
            with tf.Session(config=config) as sess:
                sess.run(probe)
        assert seen_threads == [expected]
        assert kernel_threads.threads() == 7  # the caller's setting is put back
    finally:
        kernel_threads.set_threads(before)


def test_run_parts_with_fewer_threads_than_parts_runs_each_part_once():
    seen = []

    def part(index):
        seen.append((index, threading.current_thread().name))
        time.sleep(0.001)
        return index * 10
    assert kernel_threads.run_parts(part, 7, threads=2) == [0, 10, 20, 30, 40, 50, 60]
    assert sorted(index for index, _ in seen) == list(range(7))
    assert len({name for _, name in seen}) <= 2
    assert kernel_threads.run_parts(part, 3, threads=1) == [0, 10, 20]


# --- sites: split where it has paid ---------------------------------------------------------------

class _FakeClock:
    """kernel_threads' clock, advanced by the fake kernels below."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def thread_time(self):
        return self.now


@pytest.fixture
def fake_clock(monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(kernel_threads, "time", clock)
    previous = kernel_threads.set_threads(2)
    yield clock
    kernel_threads.set_threads(previous)


def _timed_ways(clock, costs, log):
    """whole() and split(parts) that take costs["whole"] / costs["split"] seconds of the clock."""
    def whole():
        clock.now += costs["whole"]
        log.append("whole")
        return "result"

    def split(parts):
        assert parts == 2
        clock.now += costs["split"]
        log.append("split")
        return "result"
    return whole, split


_BIG_WORK = 100 * kernel_threads.MIN_WORK_PER_PART


def _site_where_split_pays(clock):
    """A new site, its costs (changeable), its log of ways run, and a run() of big work."""
    site, log, costs = kernel_threads.Site(), [], {"whole": 2e-3, "split": 1e-3}
    whole, split = _timed_ways(clock, costs, log)
    return site, costs, log, lambda: site.run(_BIG_WORK, whole, split)


def test_a_site_runs_the_faster_way_and_tries_the_other_now_and_then(fake_clock):
    site, costs, log, run = _site_where_split_pays(fake_clock)
    for _ in range(64):
        assert run() == "result"
    assert log[:2] == ["split", "whole"]  # each way measured once first
    later = log[2:]
    assert later.count("whole") == 64 // kernel_threads.Site.EXPLORE_EVERY
    assert later.count("split") == len(later) - later.count("whole")
    # The machine gets busy: splitting now costs more than running whole. The site follows.
    costs["split"] = 6e-3
    log.clear()
    for _ in range(160):
        run()
    assert log[-32:].count("split") <= 32 // kernel_threads.Site.EXPLORE_EVERY
    costs["split"] = 1e-3  # and back
    log.clear()
    for _ in range(320):
        run()
    assert log[-32:].count("whole") <= 32 // kernel_threads.Site.EXPLORE_EVERY


def test_a_site_runs_small_work_whole_and_learns_nothing_from_it(fake_clock):
    site, log = kernel_threads.Site(), []
    whole, split = _timed_ways(fake_clock, {"whole": 1e-3, "split": 1e-4}, log)
    for _ in range(5):
        site.run(kernel_threads.MIN_WORK_PER_PART, whole, split)
    kernel_threads.set_threads(1)
    for _ in range(5):
        site.run(_BIG_WORK, whole, split)
    assert log == ["whole"] * 10
    assert site.split_cost is None and site.whole_cost is None


def test_a_preempted_run_moves_the_site_only_a_little(fake_clock):
    site, costs, log, run = _site_where_split_pays(fake_clock)
    for _ in range(8):
        run()
    costs["split"] = 1.0  # one run that lost its core for a second
    run()
    costs["split"] = 1e-3
    log.clear()
    for _ in range(4):
        run()
    assert log == ["split"] * 4


def test_site_jobs_do_not_pause_other_splitting(monkeypatch):
    previous = kernel_threads.set_threads(2)
    try:
        site = kernel_threads.Site()
        # A split whose parts queue behind each other (no speed-up at all) ...
        lock = threading.Lock()

        def slow_part(index):
            with lock:
                time.sleep(0.002)

        def split(parts):
            kernel_threads.run_parts(slow_part, parts)
        site.run(100 * kernel_threads.MIN_WORK_PER_PART, lambda: None, split)
        # ... is the site's to judge: parts_for still splits for kernels without a site.
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART) == 2
        kernel_threads.run_parts(slow_part, 2)  # the same job outside a site pauses splitting
        assert kernel_threads.parts_for(100 * kernel_threads.MIN_WORK_PER_PART) == 1
    finally:
        kernel_threads.set_threads(previous)


# --- split kernels give unsplit bits -----------------------------------------------------------

@pytest.fixture
def one_blas_thread():
    blas_threads.enter(1)
    yield
    blas_threads.leave()


def _operands(shape_a, shape_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a)
    b = rng.standard_normal(shape_b)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape_a)
        b = b + 1j * rng.standard_normal(shape_b)
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("shape_a,shape_b,transpose_a,transpose_b", [
    ((100, 784), (784, 500), False, False),   # the MLP's forward product
    ((100, 784), (100, 500), True, False),    # its gradient for the weights
    ((100, 500), (784, 500), False, True),    # its gradient for the input
    ((257, 64), (64, 33), False, False),
])
@pytest.mark.parametrize("parts", [2, 3])
def test_split_matmul_is_bit_identical_to_numpy(dtype, shape_a, shape_b, transpose_a,
                                                transpose_b, parts, one_blas_thread):
    a, b = _operands(shape_a, shape_b, dtype)
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    split = math_ops._split_matmul(a, b, parts)
    assert split.dtype == a.dtype
    np.testing.assert_array_equal(split, np.matmul(a, b))


@pytest.mark.parametrize("threads", [1, 2])
def test_matmul_op_splits_big_products_and_gives_numpy_bits(threads, one_blas_thread):
    a, b = _operands((300, 784), (500, 784), np.float32)
    calls = []
    original = kernel_threads.run_parts

    def counting_run_parts(function, count, threads=None):
        calls.append((count, threads))
        return original(function, count, threads)
    with tf.Graph().as_default():
        product = tf.matmul(tf.constant(a), tf.constant(b), transpose_b=True)
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=threads)) as sess:
            kernel_threads.run_parts = counting_run_parts
            try:
                value = sess.run(product)  # the op's first run splits (its Site tries that first)
            finally:
                kernel_threads.run_parts = original
    np.testing.assert_array_equal(value, np.matmul(a, b.T))
    # 300 rows: four blocks of whole multiples of 48 rows (96, 48, 96, 60) for two threads
    assert calls == ([] if threads == 1 else [(4, 2)])


def test_matmul_op_gives_numpy_bits_whichever_way_its_site_runs(one_blas_thread):
    """The forward product of the MLP benchmark (100 rows: two blocks of 48 and 52), run often
    enough that its Site runs it both ways, always gives NumPy's bits."""
    a, b = _operands((100, 784), (784, 500), np.float32)
    ways = []
    real_split = math_ops._split_matmul

    def split(a, b, threads):
        ways.append("split")
        return real_split(a, b, threads)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 784])
        product = tf.matmul(x, tf.constant(b))
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=2)) as sess:
            math_ops._split_matmul = split
            try:
                values = [sess.run(product, {x: a}) for _ in range(40)]
            finally:
                math_ops._split_matmul = real_split
    assert 0 < len(ways) < 40  # split and whole
    for value in values:
        np.testing.assert_array_equal(value, np.matmul(a, b))


def test_matmul_op_errors_are_unchanged():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, None])
        product = tf.matmul(a, a)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(product, {a: np.ones((200, 300), np.float32)})


class _AdamSpec:
    grad_index = 9
    n_refs = 3


class _DescentSpec:
    grad_index = 2
    n_refs = 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(784, 500), (7,), (), (3, 1, 5)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_split_updates_are_bit_identical_to_the_reference_math(dtype, shape, threads):
    rng = np.random.default_rng(3)
    var, m, grad = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    v = np.abs(rng.standard_normal(shape)).astype(dtype)
    scalars = [np.asarray(s, dtype) for s in (0.9 ** 5, 0.999 ** 5, 1e-3, 0.9, 0.999, 1e-8)]
    before = [array.copy() for array in (var, m, v, grad)]
    previous = kernel_threads.set_threads(threads)
    try:
        adam = training_ops._update_into({}, _AdamSpec, training_ops._DENSE_INTO[
            training_ops._adam], [var, m, v], scalars + [grad])
        descent = training_ops._update_into({}, _DescentSpec, training_ops._DENSE_INTO[
            training_ops._gradient_descent], [var], [scalars[2], grad])
    finally:
        kernel_threads.set_threads(previous)
    expected = training_ops._adam({"use_nesterov": False}, var, m, v, *scalars, grad)
    for new, reference in zip(adam, expected):
        assert new.dtype == reference.dtype and new.shape == reference.shape
        np.testing.assert_array_equal(new, reference)
    np.testing.assert_array_equal(descent[0], training_ops._gradient_descent({}, var,
                                                                             scalars[2],
                                                                             grad)[0])
    for array, original in zip((var, m, v, grad), before):  # inputs left alone
        np.testing.assert_array_equal(array, original)


def test_adam_op_keeps_earlier_fetched_values():
    with tf.Graph().as_default():
        w = tf.Variable(np.ones((600, 700), np.float32))
        loss = tf.reduce_sum(tf.square(w))
        train = tf.train.AdamOptimizer(0.1).minimize(loss)
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=2)) as sess:
            sess.run(tf.global_variables_initializer())
            held = sess.run(w)
            sess.run(train)
            after = sess.run(w)
    np.testing.assert_array_equal(held, np.ones((600, 700), np.float32))
    assert not np.array_equal(after, held)


@pytest.mark.parametrize("shape_x,shape_y,adj_y", [
    ((4, 200, 300), (4, 300, 250), False),
    ((3, 2, 150, 200), (3, 1, 200, 180), False),  # broadcast inner batch axis
    ((5, 120, 300), (5, 400, 300), True),
])
def test_batch_matmul_op_splits_the_batch_and_gives_numpy_bits(shape_x, shape_y, adj_y,
                                                               one_blas_thread):
    x, y = _operands(shape_x, shape_y, np.float32, seed=5)
    calls = []
    original = kernel_threads.run_parts

    def counting_run_parts(function, count):
        calls.append(count)
        return original(function, count)
    with tf.Graph().as_default():
        product = tf.matmul(tf.constant(x), tf.constant(y), transpose_b=adj_y)
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=2)) as sess:
            kernel_threads.run_parts = counting_run_parts
            try:
                value = sess.run(product)
            finally:
                kernel_threads.run_parts = original
    np.testing.assert_array_equal(value, np.matmul(x, np.swapaxes(y, -1, -2) if adj_y else y))
    assert calls == [2]
