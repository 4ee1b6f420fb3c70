"""TSNEScatter's streaming contract, with the real optimizer and a fake slow browser."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from nbviz.tsne import TSNEError
from nbviz.widgets.tsne_keyframes import dequantize_layout
from nbviz.widgets.tsne_scatter import TSNEScatter


def make_widget(data, **options):
    X, y = data
    params = dict(labels=y, random_state=0, autostart=False, n_iter=60, early_exaggeration_iter=20)
    params.update(options)
    return TSNEScatter(X, **params)


def worker_threads():
    return [t for t in threading.enumerate() if t.name == "nbviz-stream" and t.is_alive()]


def test_slow_client_never_has_more_than_two_frames_in_flight(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, n_iter=100_000)
    client = tsne_slow_client(widget, delay_s=0.12)
    widget.start()
    try:
        assert tsne_wait(lambda: len(client.frames) >= 8, timeout=30)
    finally:
        widget.stop()
    steps = widget.iteration
    sent = len(client.frames)
    assert client.max_unacked <= 2
    assert widget._streamer.flow.peak <= 2
    # The optimizer never waited for the browser: many more steps than frames a 120 ms client takes.
    assert steps >= 3 * sent, (steps, sent)
    # The wire format of a frame (the `at` key is the fake client's receive time).
    assert set(client.frames[0]) == {"type", "seq", "iteration", "kl", "exaggeration", "at"}
    # Only the newest frame goes out: iterations strictly increase, with gaps where frames were skipped.
    iterations = [f["iteration"] for f in client.frames]
    assert iterations == sorted(set(iterations))
    assert iterations[-1] - iterations[0] > len(iterations)
    # Each frame is a copy: the bytes the client kept did not change while the optimizer went on.
    for layout, snapshot in zip(client.layouts, client.snapshots):
        assert layout.tobytes() == snapshot
    assert not np.array_equal(client.layouts[0], client.layouts[-1])
    widget.close()


def test_no_client_at_all_never_blocks_the_optimizer(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small)
    client = tsne_slow_client(widget, ack=False)
    widget.start()
    assert tsne_wait(lambda: widget.status == "finished", timeout=60)
    assert widget.iteration == 60
    assert len(client.frames) == 2  # the in-flight limit, never acknowledged
    widget.close()


def test_pause_freezes_frames_and_layout_then_resume_continues(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, n_iter=100_000)
    client = tsne_slow_client(widget, delay_s=0.02)
    widget.start()
    assert tsne_wait(lambda: len(client.frames) >= 3, timeout=30)
    widget.pause()
    assert tsne_wait(lambda: widget.status == "paused", timeout=10)
    frozen_frames, frozen_iteration = len(client.frames), widget.iteration
    frozen_layout = widget.embedding
    time.sleep(0.6)
    assert len(client.frames) == frozen_frames
    assert widget.iteration == frozen_iteration
    np.testing.assert_array_equal(widget.embedding, frozen_layout)
    # The settled layout is in the trait, exactly the optimizer's.
    np.testing.assert_array_equal(np.frombuffer(widget.positions, np.float32).reshape(-1, 2), frozen_layout)
    assert widget._streamer.alive  # paused, not ended
    widget.step()
    assert tsne_wait(lambda: widget.iteration == frozen_iteration + 1, timeout=10)
    assert tsne_wait(lambda: client.frames[-1]["iteration"] == frozen_iteration + 1, timeout=10)
    widget.resume()
    assert tsne_wait(lambda: widget.iteration > frozen_iteration + 5, timeout=30)
    assert widget.status == "running"
    widget.close()


def test_stop_ends_the_thread_and_start_continues(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, n_iter=100_000)
    tsne_slow_client(widget, delay_s=0.02)
    widget.start()
    assert tsne_wait(lambda: widget.iteration > 3, timeout=30)
    thread = widget._streamer._thread
    widget.stop()
    assert not thread.is_alive()
    assert widget.status == "stopped"
    stopped_at = widget.iteration
    widget.start()
    assert tsne_wait(lambda: widget.iteration > stopped_at + 3, timeout=30)
    widget.close()


def test_closing_the_widget_ends_the_thread(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, n_iter=100_000)
    tsne_slow_client(widget)
    widget.start()
    assert tsne_wait(lambda: widget.iteration > 2, timeout=30)
    thread = widget._streamer._thread
    assert thread in worker_threads()
    widget.close()
    assert not thread.is_alive()
    assert thread not in worker_threads()


def test_hello_from_a_new_view_releases_frames_of_a_vanished_one(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, n_iter=100_000)
    client = tsne_slow_client(widget, ack=False)
    widget.start()
    assert tsne_wait(lambda: len(client.frames) == 2, timeout=30)
    time.sleep(0.3)
    assert len(client.frames) == 2
    widget._handle_message(widget, {"type": "hello"}, [])
    assert tsne_wait(lambda: len(client.frames) == 4, timeout=30)
    widget.close()


def test_keyframes_and_final_layout_live_in_traits(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small, keyframe_every=10)
    tsne_slow_client(widget, delay_s=0.01)
    widget.start()
    assert tsne_wait(lambda: widget.status == "finished", timeout=60)
    n = widget.n_points
    assert widget.keyframe_iterations == [0, 10, 20, 30, 40, 50, 60]
    codes = np.frombuffer(widget.keyframes, dtype="<u2").reshape(len(widget.keyframe_iterations), n, 2)
    final = widget.embedding
    decoded = dequantize_layout(codes[-1], widget.keyframe_bounds[-1])
    span = final.max(0) - final.min(0)
    assert np.all(np.abs(decoded - final) <= span / 65535 * 0.5 + 1e-6)
    start = dequantize_layout(codes[0], widget.keyframe_bounds[0])
    initial = widget.optimizer.initial_embedding - widget.optimizer.initial_embedding.mean(0)
    np.testing.assert_allclose(start, initial, atol=float(np.ptp(initial)) / 65535)
    np.testing.assert_array_equal(np.frombuffer(widget.positions, np.float32).reshape(n, 2), final)
    np.testing.assert_array_equal(np.frombuffer(widget.pca_positions, np.float32).reshape(n, 2),
                                  widget.optimizer.initial_embedding)
    assert widget.iteration_count == 60
    # KL every 10 iterations, decreasing from the first to the last record.
    kls = [kl for _, kl in widget.kl_history]
    assert [int(it) for it, _ in widget.kl_history] == [10, 20, 30, 40, 50, 60]
    assert kls[-1] < kls[0]
    assert widget.kl == pytest.approx(kls[-1])
    state = widget.export_state()
    assert state["_offline"] is True and state["keyframes"] == widget.keyframes
    # Play after the end continues for EXTRA_ITERATIONS more.
    widget.start()
    assert tsne_wait(lambda: widget.iteration > 60 and widget.status == "finished", timeout=60)
    assert widget.iteration == 60 + TSNEScatter.EXTRA_ITERATIONS
    widget.close()


def test_live_settings_reach_the_optimizer_and_bad_values_show_in_the_widget(tsne_digits_small, tsne_wait):
    widget = make_widget(tsne_digits_small)
    widget.exaggeration = 4.0
    assert widget.optimizer.exaggeration == 4.0
    widget.learning_rate = 55.0
    assert widget.optimizer.learning_rate == 55.0
    widget.learning_rate = 0.0
    assert widget.optimizer.learning_rate == pytest.approx(240 / 4.0)
    widget.perplexity = 12.0
    assert widget.optimizer.perplexity == 12.0 and widget.error == ""
    widget.perplexity = -3.0
    assert "perplexity" in widget.error and "positive" in widget.error
    assert widget.perplexity == 12.0 and widget.optimizer.perplexity == 12.0
    widget.perplexity = 500.0  # too large for 240 points: lowered, with a notice saying to what
    assert widget.optimizer.perplexity < 80 and widget.perplexity == widget.optimizer.perplexity
    assert "lowered" in widget.notice
    widget.exaggeration = 0.0
    assert "exaggeration" in widget.error and widget.exaggeration == 4.0
    widget.close()


def test_restart_returns_to_iteration_zero_and_clears_the_recording(tsne_digits_small, tsne_slow_client, tsne_wait):
    widget = make_widget(tsne_digits_small)
    tsne_slow_client(widget, delay_s=0.01)
    widget.start()
    assert tsne_wait(lambda: widget.status == "finished", timeout=60)
    first = widget.embedding
    widget.restart()
    assert tsne_wait(lambda: widget.status == "finished" and widget.iteration == 60, timeout=60)
    np.testing.assert_allclose(widget.embedding, first, atol=1e-4)  # same seed, same run
    assert widget.keyframe_iterations[0] == 0 and widget.keyframe_iterations[-1] == 60
    widget.restart(random_state=7)
    assert tsne_wait(lambda: widget.status == "finished" and widget.iteration == 60, timeout=60)
    widget.close()


def test_bad_input_raises_clear_errors(tsne_digits_small):
    X, y = tsne_digits_small
    bad = X.copy()
    bad[[3, 9]] = np.nan
    with pytest.raises(TSNEError, match="2 row"):
        TSNEScatter(bad, autostart=False)
    with pytest.raises(TSNEError, match="one label per point"):
        TSNEScatter(X, labels=y[:10], autostart=False)
    with pytest.raises(TSNEError, match="one string per point"):
        TSNEScatter(X, texts=["a"] * 3, autostart=False)
    with pytest.raises(TSNEError, match="images must"):
        TSNEScatter(X, images=np.zeros((len(X), 5)), autostart=False)
    widget = make_widget(tsne_digits_small)
    with pytest.raises(Exception, match="outside"):
        widget.selection = [0, 5000]
    widget.selection = [5, 3, 3]
    assert widget.selection == [3, 5]
    widget.close()


def test_inputs_encode_labels_texts_and_thumbnails(tsne_digits_small):
    X, y = tsne_digits_small
    names = np.array(["cat", "dog", "cat", "emu"] * 60)
    widget = TSNEScatter(X, labels=names, texts=list(range(240)), images=X.reshape(-1, 8, 8),
                         autostart=False, random_state=0)
    assert widget.label_names == ["cat", "dog", "emu"]
    assert np.frombuffer(widget.label_codes, "<u2")[:4].tolist() == [0, 1, 0, 2]
    assert widget.texts[7] == "7"
    assert widget.thumbnail_shape == [8, 8]
    thumbs = np.frombuffer(widget.thumbnails, np.uint8).reshape(240, 8, 8, 4)
    # Grey images scaled over the whole set: 0 -> 0, the set's maximum (16) -> 255.
    expected = np.rint(X.reshape(-1, 8, 8) / X.max() * 255).astype(np.uint8)
    np.testing.assert_array_equal(thumbs[..., 0], expected)
    np.testing.assert_array_equal(thumbs[..., 3], 255)
    widget.close()


def test_kernel_shutdown_hook_ends_every_running_thread(tsne_digits_small, tsne_slow_client, tsne_wait):
    from nbviz.widgets import streaming

    widgets = [make_widget(tsne_digits_small, n_iter=100_000) for _ in range(2)]
    for widget in widgets:
        tsne_slow_client(widget, delay_s=0.02)
        widget.start()
    assert tsne_wait(lambda: all(w.iteration > 1 for w in widgets), timeout=30)
    threads = [w._streamer._thread for w in widgets]
    streaming._stop_all_at_exit()  # what atexit runs when the kernel shuts down
    assert not any(t.is_alive() for t in threads)
    assert all(w.status == "stopped" for w in widgets)
    for widget in widgets:
        widget.close()


def test_wait_blocks_until_finished_and_keeps_frames_flowing_without_acks(tsne_digits_small, tsne_slow_client):
    widget = make_widget(tsne_digits_small, n_iter=150)
    step = widget.optimizer.step

    def slow_step(**kwargs):  # 150 steps take >= 0.75 s however fast the machine, so pacing shows
        time.sleep(0.005)
        return step(**kwargs)

    widget.optimizer.step = slow_step
    client = tsne_slow_client(widget, ack=False)  # a kernel blocked in wait() reads no acks
    widget.start()
    assert widget.wait(timeout=60) is True
    assert widget.status == "finished" and widget.iteration == 150
    assert len(client.frames) > 2  # paced by the short timeout, not stuck at the in-flight limit
    times = np.array([f["at"] for f in client.frames])
    # Never faster than the pacing allows: at most 2 frames in any 0.25 s window.
    assert (times[2:] - times[:-2]).min() >= 0.2
    assert widget._streamer.flow.effective_timeout_s == 3.0  # the pacing ended with wait()
    widget.close()


def test_the_kl_curve_is_thinned_past_its_limit_keeping_the_first_and_newest_points(tsne_digits_small):
    widget = make_widget(tsne_digits_small, n_iter=100)
    widget.KL_HISTORY_LIMIT = 6
    widget.start()
    assert widget.wait(timeout=60)
    # KL every 10 iterations. The 7th point (70) halves [10..70] to 10, 30, 50, 70; the 10th
    # (100) halves [10, 30, 50, 70, 80, 90, 100] to 10, 50, 80, 100.
    assert [int(it) for it, _ in widget.kl_history] == [10, 50, 80, 100]
    assert widget.kl == pytest.approx(widget.kl_history[-1][1])
    widget.close()


def test_after_restart_the_exaggeration_trait_follows_the_schedule_again(tsne_digits_small):
    widget = make_widget(tsne_digits_small)
    widget.exaggeration = 4.0
    widget.exaggeration = 4.0  # the same value again: no change, nothing for the engine to take
    assert widget.optimizer.exaggeration == 4.0
    widget.restart()  # back to the schedule: 12 for 20 iterations, then 1
    assert widget.wait(timeout=60)
    assert widget.iteration == 60
    assert widget.optimizer.exaggeration == 1.0 and widget.exaggeration == 1.0
    widget.close()


def test_a_rejected_setting_puts_back_the_value_in_use_and_an_accepted_one_continues_the_run(tsne_digits_small):
    widget = make_widget(tsne_digits_small)  # early exaggeration 12 for 20 iterations, then 1
    widget.start()
    assert widget.wait(timeout=60)
    assert widget.exaggeration == widget.optimizer.exaggeration == 1.0
    widget.exaggeration = -2.0
    assert "exaggeration -2 was not applied" in widget.error
    assert widget.exaggeration == 1.0  # what the optimizer uses now, not the 12 it started with
    assert widget.status == "finished" and widget.iteration == 60  # nothing took: no reason to go on
    widget.learning_rate = -5.0  # below zero means "auto", shown as 0
    assert widget.learning_rate == 0.0 and widget.optimizer.learning_rate == pytest.approx(240.0)
    # A setting that took on a finished run: it goes on, so the new setting shows.
    assert widget.wait(timeout=60)
    assert widget.iteration == 60 + TSNEScatter.EXTRA_ITERATIONS and widget.error == ""
    widget.close()
