"""framework/gc_pause.py: bulk builders (Saver, plans, graph and meta-graph imports) run with
Python's cyclic garbage collector paused, which must come back as it was, also when they
nest, overlap across threads, raise, or run in a program that disabled the collector."""

import gc
import threading

import numpy as np
import pytest

import tensorkeep as tf
from tensorkeep.framework import gc_pause


@pytest.fixture(autouse=True)
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_a_pause_stops_the_collector_and_restarts_it_after_nesting_and_errors():
    seen = []

    @gc_pause.paused_gc
    def inner():
        seen.append(gc.isenabled())
        raise ValueError("boom")

    @gc_pause.paused_gc
    def outer():
        seen.append(gc.isenabled())
        with pytest.raises(ValueError):
            inner()
        seen.append(gc.isenabled())  # still paused: the outer call is not over
        return "done"

    assert outer() == "done"
    assert seen == [False, False, False]
    assert gc.isenabled()


def test_a_program_that_disabled_the_collector_keeps_it_disabled():
    gc.disable()
    gc_pause.paused_gc(lambda: None)()
    assert not gc.isenabled()


def test_overlapping_pauses_on_two_threads_restart_the_collector_once_both_end():
    first_inside, release_first, second_done = threading.Event(), threading.Event(), []

    @gc_pause.paused_gc
    def long_call():
        first_inside.set()
        release_first.wait(10)

    thread = threading.Thread(target=long_call)
    thread.start()
    first_inside.wait(10)
    gc_pause.paused_gc(lambda: second_done.append(gc.isenabled()))()
    assert second_done == [False] and not gc.isenabled()  # the first pause is still running
    release_first.set()
    thread.join(10)
    assert gc.isenabled()


def test_bulk_builders_pause_and_leave_the_collector_running(tmp_path, monkeypatch):
    pauses = []
    real_begin = gc_pause._begin
    monkeypatch.setattr(gc_pause, "_begin", lambda: (pauses.append(1), real_begin()))
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.Variable(np.full(3, index, np.float32), name="v%d" % index)
                     for index in range(50)]
        saver = tf.train.Saver(variables)
        assert gc.isenabled() and len(pauses) == 1
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())  # builds a plan
            assert gc.isenabled() and len(pauses) == 2
            prefix = saver.save(sess, str(tmp_path / "model.ckpt"))
    with tf.Graph().as_default():
        count = len(pauses)
        restorer = tf.train.import_meta_graph(prefix + ".meta")
        assert gc.isenabled() and len(pauses) > count
        count = len(pauses)
        tf.import_graph_def(graph.as_graph_def(), name="again")
        assert gc.isenabled() and len(pauses) == count + 1
        with tf.Session() as sess:
            restorer.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("v7:0"), np.full(3, 7, np.float32))
