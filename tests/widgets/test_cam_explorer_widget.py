"""CAMExplorer in Python: traits, compute(), the message protocol the browser speaks, caching,
errors, cancellation and offline export. A fake front end stands in for the browser."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets
from PIL import Image

from cam_widget_helpers import CamTinyNet, cam_test_images, cam_transform_32
from harness import wait_until as cam_wait_until

from nbviz import cam
from nbviz.report.compact import UNIT_CODE_ERROR, from_unit_codes
from nbviz.widgets.cam_explorer import SCORE_STEPS, CAMExplorer


def choice(explorer, **overrides):
    values = {"image": explorer.image_index, "layer": explorer.layer, "target": explorer.target,
              "method": explorer.method}
    values.update(overrides)
    return values


def key_of(c: dict) -> str:
    return f"{c['image']}|{c['layer']}|{c['target']}|{c['method']}"


def test_compute_is_the_engines_map_at_feature_resolution(cam_make_explorer):
    explorer = cam_make_explorer()
    assert explorer.layer == "features" and explorer.method == "gradcam"
    x = cam_transform_32()(Image.fromarray(cam_test_images()[0]))[None]
    with cam.Explainer(CamTinyNet()) as reference:
        for method, layer, target, size in [("gradcam", "features.3", 2, 16), ("layercam", "features.0", 4, 32),
                                            ("cam", "features", 1, 16)]:
            expected = reference.explain(x, method, layer, target, upsample=False)[0].numpy()
            got = explorer.compute(layer=layer, target=target, method=method, upsample=False)
            assert got.dtype == np.float32 and got.shape == (size, size) == expected.shape
            np.testing.assert_allclose(got, expected, atol=1e-6)
        full = reference.explain(x, "gradcam", "features.3", 2, upsample=True)[0].numpy()
    np.testing.assert_allclose(explorer.compute(layer="features.3", target=2, upsample=True), full, atol=1e-6)


def test_defaults_follow_the_top_prediction_and_image_switch(cam_make_explorer):
    explorer = cam_make_explorer()
    probs = explorer.probabilities(0)
    assert explorer.target == int(np.argmax(probs)) == explorer.top_classes(1)[0]
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert explorer.top_classes(5) == list(np.argsort(-probs, kind="stable")[:5])
    explorer.target = 3
    explorer.image_index = 1
    assert explorer.target == explorer.top_classes(1, image_index=1)[0]


def test_photo_is_the_crop_the_model_sees_and_inputs_of_every_kind(cam_make_explorer, tmp_path):
    array, other = cam_test_images()
    path = tmp_path / "photo.png"
    Image.fromarray(other).save(path)
    tensor = torch.from_numpy(array).permute(2, 0, 1).float() / 255
    explorer = cam_make_explorer(images=[array, Image.fromarray(other), tensor, str(path)])
    assert explorer._image_names == ["image 0", "image 1", "image 2", "photo.png"]
    for data in explorer._images:
        with Image.open(__import__("io").BytesIO(data)) as photo:
            assert photo.size == (32, 32) and photo.format == "JPEG"
    # Same pixels whichever way they came in (tensor in [0, 1] and array in 0..255; PIL and path).
    p = [explorer.probabilities(i) for i in range(4)]
    np.testing.assert_allclose(p[0], p[2], atol=1e-6)
    np.testing.assert_allclose(p[1], p[3], atol=1e-6)


def test_bad_arguments_are_clear_errors(cam_make_explorer):
    with pytest.raises(ValueError, match="needs transform="):
        CAMExplorer(CamTinyNet(), cam_test_images())
    with pytest.raises(ValueError, match="labels has 2 names but the model outputs 5 classes"):
        cam_make_explorer(labels=["a", "b"])
    with pytest.raises(ValueError, match="cannot use a dict as an image"):
        cam_make_explorer(images={"not": "an image"})
    with pytest.raises(ValueError, match="does not exist"):
        cam_make_explorer(images="/no/such/photo.png")
    with pytest.raises(cam.CAMError, match="unknown CAM method"):
        cam_make_explorer(methods=["gradcam", "nosuchcam"])
    explorer = cam_make_explorer(labels=list("abcde"), methods=["Grad-CAM", "scorecam"], layers=["features.3", "features"])
    assert explorer.methods == ["gradcam", "scorecam"] and explorer.layers == ["features.3", "features"]
    with pytest.raises(traitlets.TraitError, match="no layer named 'features.9'; .*this explorer's layers are: 'features.3', 'features'"):
        explorer.layer = "features.9"
    with pytest.raises(traitlets.TraitError, match="not offered by this explorer"):
        explorer.method = "layercam"
    with pytest.raises(traitlets.TraitError, match="from 0 to 4"):
        explorer.target = 5
    with pytest.raises(traitlets.TraitError, match="image_index must be from 0 to 1"):
        explorer.image_index = 2
    with pytest.raises(traitlets.TraitError, match="unknown colormap"):
        explorer.colormap = "rainbowish"
    with pytest.raises(traitlets.TraitError):
        explorer.opacity = 1.5
    explorer.method = "ScoreCAM"  # aliases resolve to the canonical name
    assert explorer.method == "scorecam"
    assert (explorer.layer, explorer.target) == ("features", explorer.top_classes(1)[0])  # nothing corrupted


def test_trait_changes_produce_maps_through_the_browser_protocol(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    first = choice(explorer)
    browser.request("main", first)
    assert cam_wait_until(lambda: key_of(first) in browser.maps())
    np.testing.assert_array_equal(browser.maps()[key_of(first)], explorer.compute(upsample=False))
    content, buffers = browser.of_type("map")[0]
    assert content["shape"] == [16, 16] and len(buffers[0]) == 16 * 16 * 4  # float32, not JSON

    # Python sets the traits; the view asks for the map of the new choices and gets it.
    explorer.method = "gradcam++"
    explorer.target = 3
    second = choice(explorer)
    assert second["method"] == "gradcam++" and second["target"] == 3
    browser.request("main", second)
    assert cam_wait_until(lambda: key_of(second) in browser.maps())
    np.testing.assert_array_equal(browser.maps()[key_of(second)], explorer.compute(upsample=False))
    assert not np.allclose(browser.maps()[key_of(first)], browser.maps()[key_of(second)])


def test_cache_forward_passes_and_repeated_requests(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer()
    engine = explorer._engine
    calls = []
    original = engine.result
    engine.result = lambda *a, **k: calls.append(k.get("method", a[1] if len(a) > 1 else None)) or original(*a, **k)
    browser = cam_front_end(explorer)
    explorer.compute()  # image 1 was the last forward at construction: one pass for image 0
    forwards = engine.forward_count
    for layer in ("features.0", "features.3", "features"):
        for target in range(5):
            for method in ("gradcam", "gradcam++", "layercam"):
                explorer.compute(layer=layer, target=target, method=method)
    assert engine.forward_count == forwards  # 45 maps, no model pass: one forward serves them all
    n_calls = len(calls)
    # The same choices again, from Python and from the browser: served from the cache at once.
    explorer.compute(layer="features.3", target=2, method="layercam")
    c = choice(explorer, layer="features.3", target=2, method="layercam")
    browser.request("main", c)
    assert key_of(c) in browser.maps()  # answered synchronously, no worker involved
    assert len(calls) == n_calls and engine.forward_count == forwards


def test_engine_errors_reach_the_view_and_it_stays_usable(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    bad = choice(explorer, layer="features.0", method="cam")  # CAM needs the layer feeding the pooling
    good = choice(explorer, method="xgradcam")
    browser.request("main", bad)
    assert cam_wait_until(lambda: browser.of_type("error"))
    error, _ = browser.of_type("error")[0]
    assert error["key"] == key_of(bad) and error["id"] == "test-1"
    assert "cam" in error["message"].lower() and "Traceback" not in error["message"]
    with pytest.raises(cam.CAMError):
        explorer.compute(layer="features.0", method="cam")
    browser.request("main", good)
    assert cam_wait_until(lambda: key_of(good) in browser.maps())
    # Requests the widget cannot even validate are errors too (not exceptions in the kernel).
    browser.request("main", choice(explorer, layer="nope"))
    assert cam_wait_until(lambda: len(browser.of_type("error")) == 2)
    assert "the model has no layer named 'nope'" in browser.of_type("error")[1][0]["message"]


def test_slow_method_reports_progress_and_cancel_stops_it(cam_make_explorer, cam_front_end):
    model = CamTinyNet(slow_batch_s=0.2)
    explorer = cam_make_explorer(model=model)
    browser = cam_front_end(explorer)
    slow = choice(explorer, method="scorecam")
    (request_id,) = browser.request("main", slow)
    assert cam_wait_until(lambda: browser.of_type("progress"))
    progress, _ = browser.of_type("progress")[0]
    assert progress["key"] == key_of(slow) and 0 <= progress["done"] < progress["total"]
    forwards = explorer._engine.forward_count
    browser.send({"type": "cancel", "id": request_id})
    assert cam_wait_until(lambda: browser.of_type("cancelled"))
    assert browser.of_type("cancelled")[0][0] == {"type": "cancelled", "key": key_of(slow), "id": request_id}
    assert explorer._scheduler.wait_idle(5)
    assert explorer._engine.forward_count - forwards <= 1  # stopped within one batch
    assert key_of(slow) not in browser.maps()


def test_compute_waits_for_the_views_running_job_and_reuses_its_map(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.2))
    engine = explorer._engine
    methods = []
    original = engine.result
    engine.result = lambda *a, **k: methods.append(k.get("method")) or original(*a, **k)
    browser = cam_front_end(explorer)
    slow = choice(explorer, method="scorecam")
    browser.request("main", slow)
    assert cam_wait_until(lambda: browser.of_type("progress"))
    values = explorer.compute(method="scorecam", upsample=False)  # blocks until the worker's map is in the cache
    assert methods.count("scorecam") == 1
    assert cam_wait_until(lambda: key_of(slow) in browser.maps())
    np.testing.assert_array_equal(values, browser.maps()[key_of(slow)])


def test_moving_on_cancels_the_slow_map_and_the_new_one_arrives(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.2))
    browser = cam_front_end(explorer)
    slow = choice(explorer, method="scorecam")
    fast = choice(explorer, method="gradcam")
    browser.request("main", slow)
    assert cam_wait_until(lambda: browser.of_type("progress"))
    browser.request("main", fast)  # the lane now wants only the fast map
    assert cam_wait_until(lambda: key_of(fast) in browser.maps())
    assert explorer._scheduler.wait_idle(5)
    assert key_of(slow) not in browser.maps() and browser.of_type("cancelled")


def test_main_lane_goes_before_the_compare_grid(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.05))
    browser = cam_front_end(explorer)
    grid = [choice(explorer, method=m) for m in ("ablationcam", "gradcam++", "layercam", "hirescam")]
    browser.request("compare", *grid)
    main = choice(explorer, target=4, method="eigencam")
    browser.request("main", main)
    assert cam_wait_until(lambda: len(browser.maps()) == 5)
    order = [c["key"] for c, _ in browser.of_type("map")]
    assert order.index(key_of(main)) <= 1  # at most the job already running went first
    # An empty compare batch drops what the grid still wanted.
    browser.request("compare", *[choice(explorer, target=1, method=m) for m in ("sscam", "iscam")])
    browser.request("compare")
    assert explorer._scheduler.wait_idle(10)
    assert not any(k.endswith(("sscam", "iscam")) for k in browser.maps())


def test_deletion_insertion_scores_on_request(cam_make_explorer, cam_front_end):
    from nbviz.cam.metrics import deletion_insertion

    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    c = choice(explorer)
    browser.send({"type": "scores", "id": "s1", "client": "test", **c})
    assert cam_wait_until(lambda: browser.of_type("scores"), timeout=60)
    scores, _ = browser.of_type("scores")[0]
    x = explorer._prepared[0].tensor
    saliency = torch.from_numpy(explorer.compute(upsample=True))[None]
    expected = deletion_insertion(explorer._model, x, saliency, explorer.target, steps=SCORE_STEPS)
    assert scores["deletion"] == pytest.approx(float(expected["deletion"][0]), abs=1e-6)
    assert scores["insertion"] == pytest.approx(float(expected["insertion"][0]), abs=1e-6)


def test_export_state_precomputes_maps_for_the_offline_report(cam_make_explorer):
    explorer = cam_make_explorer(labels=list("abcde"))
    explorer.target = explorer.top_classes(5)[4]  # the current class is saved even outside the top 3
    state = explorer.export_state()
    assert state["_offline"] is True and "_esm" not in state
    keys = set(state["_precomputed"])
    expected = set()
    for image in (0, 1):
        classes = explorer.top_classes(3, image) + ([explorer.target] if image == 0 else [])
        for target in classes:
            for method in cam.GRADIENT_METHODS:
                expected.add(f"{image}|features|{target}|{method}")
    assert keys == expected
    for key in keys:
        image, layer, target, method = key.split("|")
        values = from_unit_codes(state["_precomputed"][key], state["_precomputed_shapes"][key])
        live = explorer.compute(method, layer, int(target), int(image), upsample=False)
        assert len(state["_precomputed"][key]) == live.size  # one byte per value
        # q / 255 of q = round(255 v): within half a step, plus float32's rounding of the quotient.
        np.testing.assert_allclose(values, live, rtol=0, atol=UNIT_CODE_ERROR + 1e-7)
    assert state["layer"] == "features" and isinstance(state["_images"][0], bytes)

    small = explorer.export_state(layers=["features.3"], classes=[1], methods=["layercam", "hirescam"], images=[1])
    assert set(small["_precomputed"]) == {"1|features.3|1|layercam", "1|features.3|1|hirescam"}
    # A choice the engine rejects is left out (the report shows it as unavailable), not an error.
    assert set(explorer.export_state(layers=["features.0"], classes=[1], methods=["cam", "gradcam"], images=[0])["_precomputed"]) == {"0|features.0|1|gradcam"}
    assert explorer._precomputed == {}  # the live widget (and the saved notebook) stay small


def test_close_stops_the_worker_and_removes_the_engine(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer()
    browser = cam_front_end(explorer)
    browser.request("main", choice(explorer, method="layercam"))
    explorer.close()
    with pytest.raises(cam.CAMError, match="closed"):
        explorer._engine.explain(explorer._prepared[0].tensor)
    assert explorer._scheduler._thread is None or not explorer._scheduler._thread.is_alive() or cam_wait_until(
        lambda: not explorer._scheduler._thread.is_alive(), 5)


def test_the_embedded_architecture_brings_its_transform_and_labels():
    from nbviz.data import LITE_RESOLUTION
    from nbviz.models import efficientnet_lite0
    from nbviz.widgets.cam_explorer import _resolve_defaults

    model, transform, labels = _resolve_defaults(efficientnet_lite0(), None, None)
    assert len(labels) == 1000 and labels[281] == "tabby"
    x = transform(Image.fromarray(cam_test_images()[1]))
    assert tuple(x.shape) == (3, LITE_RESOLUTION, LITE_RESOLUTION)
    with pytest.raises(ValueError, match="needs transform= for a CamTinyNet"):
        _resolve_defaults(CamTinyNet(), None, None)
