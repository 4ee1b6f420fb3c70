"""ModelLens on the embedded digits example: features, mistakes, click, group mean, colours,
report, and bad input (clear errors, nothing half-built)."""
from __future__ import annotations

import warnings

import ipywidgets.widgets.widget as widget_module
import numpy as np
import pytest
import torch
from PIL import Image

import nbviz
from nbviz.lens import FeaturesError
from nbviz.report.compact import UNIT_CODE_ERROR, from_unit_codes
from nbviz.widgets.model_lens import ModelLensError

N = 120


@pytest.fixture(scope="module")
def lens(digits_example):
    made = nbviz.ModelLens(digits_example.model, list(digits_example.images[:N]), labels=digits_example.labels[:N],
                           classes=digits_example.classes, progress=False, autostart=False, random_state=0, n_iter=250,
                           prefetch="off")  # nothing computed behind the tests' backs: they decide what is cached
    yield made
    made.close()


@pytest.fixture(scope="module")
def near_lens(digits_example):
    """A lens that prepares the hovered point's map and a clicked point's neighbours (no sweep)."""
    made = nbviz.ModelLens(digits_example.model, list(digits_example.images[:N]), labels=digits_example.labels[:N],
                           classes=digits_example.classes, progress=False, autostart=False, random_state=0, n_iter=250,
                           prefetch="near")
    yield made
    made.close()


def hand_forward(model, images):
    """Logits and the head's input (the default feature layer) by hand: the model's own modules."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32))[:, None]
    with torch.no_grad():
        pooled = model.pool(model.features(x)).flatten(1)
        return model.classifier(pooled).numpy(), pooled.numpy()


def test_features_predictions_and_mistakes_match_a_hand_forward(lens, digits_example):
    logits, pooled = hand_forward(digits_example.model, digits_example.images[:N])
    np.testing.assert_allclose(lens.features.X, pooled, rtol=1e-5, atol=1e-6)
    assert np.array_equal(lens.features.predicted, logits.argmax(1))
    expected = np.flatnonzero(logits.argmax(1) != digits_example.labels[:N]).tolist()
    assert lens.misclassified == expected == lens.scatter.ringed
    assert len(expected) > 0, "the held-out digits hold real mistakes"
    assert lens.scatter.n_points == lens.explorer.n_images == N


def test_click_shows_the_image_with_the_predicted_class(lens, digits_example):
    mistake = lens.misclassified[0]
    lens.scatter.focus = mistake
    assert lens.explorer.image_index == mistake
    assert lens.explorer.target == lens.features.predicted[mistake] != digits_example.labels[mistake]
    # The explorer's model input is the digit itself (read again lazily), so its map is the engine's.
    from nbviz import cam
    x = torch.from_numpy(digits_example.images[mistake])[None, None]
    expected = cam.compute(digits_example.model, x, method=lens.explorer.method, layer=lens.explorer.layer,
                           target=int(lens.features.predicted[mistake]), upsample=False)[0].numpy()
    np.testing.assert_allclose(lens.explorer.compute(), expected, atol=1e-6)


def test_lasso_gives_the_mean_of_each_images_map(lens):
    group = [3, 8, 15, 16, 42, 77, 90]
    lens.scatter.selection = group
    assert lens.wait_group(60)
    assert lens.group_status == "done" and lens.group_indices == group
    maps = np.stack([lens.explorer._explain(lens.explorer._choice(None, int(lens.features.predicted[i]), None, i))
                     for i in group])
    h, w = lens._group_shape
    mean = np.frombuffer(lens._group_mean, dtype="<f4").reshape(h, w)
    np.testing.assert_allclose(mean, maps.mean(axis=0), atol=1e-5)
    codes = from_unit_codes(lens._group_maps, (len(group), h, w))
    assert np.abs(codes - maps).max() <= UNIT_CODE_ERROR + 1e-5
    assert lens.group_message == "mean over all 7 selected images"
    lens.group_limit = 4
    lens.scatter.selection = group[:6]
    assert lens.wait_group(60)
    assert lens.group_indices == group[:4]
    assert "first 4 of 6 selected" in lens.group_message
    lens.group_limit = 200
    lens.scatter.selection = []
    assert lens.wait_group(10)
    assert lens.group_status == "idle" and lens.group_indices == [] and lens._group_mean == b""


def test_group_reports_progress_and_stops_on_cancel(lens, monkeypatch):
    import threading
    import time

    import nbviz.widgets.lens_group as lens_group

    monkeypatch.setattr(lens_group, "GROUP_BATCH", 1)
    original, gate, seen = lens.explorer.compute_batch, threading.Event(), []

    def slow(*args, **kwargs):
        seen.append((lens.group_status, lens.group_done))
        gate.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(lens.explorer, "compute_batch", slow)
    lens.scatter.selection = list(range(10))
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen[0] == ("computing", 0) and lens.group_total == 10
    lens._on_message(lens, {"type": "cancel_group"}, [])  # the panel's Cancel button
    gate.set()
    assert lens.wait_group(30)
    assert lens.group_status == "cancelled" and lens.group_done == 1
    assert lens.group_indices == [], "a cancelled group leaves no partial result in the traits"
    monkeypatch.undo()
    lens.scatter.selection = []
    assert lens.wait_group(10)


def test_hovering_a_point_prepares_its_map_before_the_click(near_lens):
    import time

    lens = near_lens
    point = 117
    explorer = lens.explorer
    key = f"{point}|{explorer.layer}|{int(lens.features.predicted[point])}|{explorer.method}"
    assert explorer._cached(key) is None
    lens.scatter._handle_custom_msg({"type": "hover", "index": point}, [])  # what the view sends
    deadline = time.monotonic() + 30
    while point not in lens._prefetch.computed and time.monotonic() < deadline:
        time.sleep(0.01)
    prepared = explorer._cached(key)
    assert prepared is not None
    expected = explorer._explain(explorer._choice(None, int(lens.features.predicted[point]), None, point))
    np.testing.assert_allclose(prepared, expected, atol=1e-5)
    lens.scatter.focus = point  # the click then finds the map in the cache
    assert explorer.compute() is not None and explorer._cached(key) is prepared


def wait_until(condition, timeout: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_click_prepares_the_maps_of_the_points_around_it(near_lens):
    from nbviz.widgets.lens_prefetch import NEIGHBOURS, layout_neighbours

    lens = near_lens
    point = 33
    layout = lens.scatter.embedding
    around = layout_neighbours(layout, point)
    distances = ((layout - layout[point]) ** 2).sum(1)
    distances[point] = np.inf
    assert len(around) == NEIGHBOURS and sorted(distances[around]) == list(distances[around])
    assert distances[around].max() <= np.sort(distances)[NEIGHBOURS - 1], "the nearest ones, nearest first"
    lens.scatter.focus = point
    assert wait_until(lambda: all(lens.explorer.has_map(i) for i in around))
    assert set(around) <= set(lens._prefetch.computed)


def test_the_idle_sweep_prepares_every_map_mistakes_first_and_waits_for_the_tsne(digits_example):
    from nbviz.widgets.lens_prefetch import MapPrefetcher

    n = 30
    lens = nbviz.ModelLens(digits_example.model, list(digits_example.images[:n]), labels=digits_example.labels[:n],
                           progress=False, autostart=False, random_state=0, n_iter=250, perplexity=5)
    try:
        assert wait_until(lens._prefetch.sweep_done) and wait_until(lambda: all(map(lens.explorer.has_map, range(n))))
        computed = lens._prefetch.computed
        assert sorted(computed) == list(range(n)), "each map once"
        mistakes = lens.misclassified
        assert computed[:len(mistakes)] == mistakes, "the misclassified points come first"
        key = lens.explorer._choice(None, int(lens.features.predicted[7]), None, 7).key
        cached = lens.explorer._cached(key)
        lens.scatter.focus = 7  # a click: the map is painted from the cache, no pass through the model
        lens.explorer.compute()
        assert lens.explorer._cached(key) is cached
        lens.explorer.method = "gradcam++"  # another method: the sweep starts over
        assert wait_until(lambda: all(map(lens.explorer.has_map, range(n))))
        # While the t-SNE runs (may_sweep False) nothing is swept; once it stops, everything is.
        lens._prefetch.sweep = False
        lens.explorer.method = "layercam"  # nothing cached for this method yet
        running = [True]
        prefetcher = MapPrefetcher(lens.explorer, sweep_order=range(6), may_sweep=lambda: not running[0])
        try:
            prefetcher.resume()
            assert not wait_until(lambda: prefetcher.computed, timeout=1.0)
            running[0] = False
            prefetcher.resume()  # what the t-SNE's status change does in a lens
            assert wait_until(prefetcher.sweep_done) and wait_until(lambda: len(prefetcher.computed) == 6)
            assert all(map(lens.explorer.has_map, range(6)))
        finally:
            prefetcher.close()
    finally:
        lens.close()


def test_prefetch_choices_are_checked(digits_example):
    with pytest.raises(ModelLensError, match=r"prefetch must be one of 'all', 'near', 'off', got 'some'"):
        nbviz.ModelLens(digits_example.model, list(digits_example.images[:20]), progress=False, prefetch="some")


def test_colour_by_label_prediction_or_confidence(lens, digits_example):
    lens.color_by = "label"
    assert np.array_equal(np.frombuffer(lens.scatter.label_codes, "<u2"), digits_example.labels[:N])
    lens.color_by = "predicted"
    assert np.array_equal(np.frombuffer(lens.scatter.label_codes, "<u2"), lens.features.predicted)
    lens.color_by = "confidence"
    confidence = np.frombuffer(lens.scatter.color_values, "<f4")
    np.testing.assert_allclose(confidence, lens.features.probs.max(axis=1), rtol=1e-6)
    assert lens.scatter.label_codes == b""
    with pytest.raises(Exception, match="color_by must be one of"):
        lens.color_by = "loss"
    lens.color_by = "predicted"


def test_report_of_the_lens_stays_small_and_saves_uint8_maps(lens, tmp_path):
    path = nbviz.to_html(tmp_path / "lens.html", lens, max_images=50)
    size = path.stat().st_size
    print(f"ModelLens report of {N} digits, 50 maps saved: {size / 1e6:.2f} MB")
    assert size < 5e6
    text = path.read_text()
    assert '"embedded":true' in text and "anywidget:w0.explorer" in text


def live_widgets():
    return {id(w) for w in widget_module._instances.values()}


def test_bad_input_is_a_clear_error_with_nothing_half_built(digits_example, tmp_path):
    model, images = digits_example.model, list(digits_example.images[:20])
    before = live_widgets()
    with pytest.raises(ModelLensError, match=r"labels has 19 entries .* but there are 20 images"):
        nbviz.ModelLens(model, images, labels=digits_example.labels[:19], progress=False)
    with pytest.raises(ModelLensError, match="classes has 3 names but the model outputs 10"):
        nbviz.ModelLens(model, images, classes=["a", "b", "c"], progress=False)
    with pytest.raises(ModelLensError, match="'seven' is not one of the class names"):
        nbviz.ModelLens(model, images, labels=["seven"] * 20, classes=digits_example.classes, progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FeaturesError, match="holds no image files"):
        nbviz.ModelLens(model, empty, progress=False)
    with pytest.raises(FeaturesError, match="pass transform= to bring every image to one size"):
        nbviz.ModelLens(model, [np.zeros((8, 8), np.float32), np.zeros((9, 8), np.float32)], progress=False)
    with pytest.raises(FeaturesError, match="neither a vector, a spatial map nor a token sequence"):
        nbviz.ModelLens(DigitsWith5D(model), images, layer="five_d", progress=False)
    with pytest.raises(ModelLensError, match="needs a classifier"):
        nbviz.ModelLens(model.features, images, layer="5", progress=False)
    assert live_widgets() == before, "a failed ModelLens leaves no widget behind"


class DigitsWith5D(torch.nn.Module):
    """The digits model with a module whose output is 5-D (no spatial map, vector or tokens)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.five_d = torch.nn.Identity()

    def forward(self, x):
        self.five_d(x[:, :, None])
        return self.model(x)


def test_unreadable_files_are_skipped_with_a_warning_and_a_count(digits_example, tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(np.rint(digits_example.images[i] * 255).astype(np.uint8)).save(folder / f"d{i:02d}.png")
    (folder / "broken.png").write_bytes(b"not an image")

    def gray(image):
        return torch.from_numpy(np.asarray(image.convert("L"), dtype=np.float32) / 255.0)[None]

    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\): .*broken.png"):
        lens = nbviz.ModelLens(digits_example.model, folder, transform=gray, progress=False, autostart=False,
                               perplexity=3, random_state=0)
    try:
        assert lens.scatter.n_points == lens.explorer.n_images == 12
        assert [p.name for p in lens.features.paths] == [f"d{i:02d}.png" for i in range(12)]
        lens.scatter.focus = 11
        assert lens.explorer._prepared[11].name == "d11.png"
        assert lens.explorer.target == lens.features.predicted[11]
    finally:
        lens.close()
