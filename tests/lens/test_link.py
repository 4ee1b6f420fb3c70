"""nbviz.link: the scatter's focus / selection choose the explorer's image; the report keeps it."""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import torch

import nbviz
from nbviz.widgets.cam_gallery import LazyImages
from nbviz.widgets.cam_inputs import PreparedImage, to_pil
from nbviz.widgets.lens_export import saved_points
from nbviz.report.compact import UNIT_CODE_ERROR, from_unit_codes

N = 40


@pytest.fixture
def pair(digits_example, gray):
    """A TSNEScatter and a CAMExplorer of the first N held-out digits (point i = image i)."""
    images = [np.rint(img * 255).astype(np.uint8) for img in digits_example.images[:N]]
    explorer = nbviz.CAMExplorer(digits_example.model, images, transform=gray, labels=digits_example.classes)
    scatter = nbviz.TSNEScatter(digits_example.images[:N].reshape(N, -1), autostart=False, perplexity=5, random_state=0)
    yield scatter, explorer
    scatter.close()
    explorer.close()


def top_class(model, image_uint8):
    x = torch.from_numpy(image_uint8.astype(np.float32) / 255.0)[None, None]
    with torch.no_grad():
        return int(model(x).argmax(1))


def test_focus_shows_the_image_with_its_predicted_class(pair, digits_example):
    scatter, explorer = pair
    link = nbviz.link(scatter, explorer)
    for point in (7, 23, 0):
        scatter.focus = point
        assert explorer.image_index == point
        expected = top_class(digits_example.model, np.rint(digits_example.images[point] * 255).astype(np.uint8))
        assert explorer.target == expected
    scatter.focus = -1  # clearing the focus leaves the explorer where it was
    assert explorer.image_index == 0
    scatter.selection = [12, 3, 30]  # kept sorted: the first selected image is the lowest index
    assert explorer.image_index == 3
    link.selection_mode = "none"
    scatter.selection = [5]
    assert explorer.image_index == 3
    link.unlink()
    scatter.focus = 9
    assert explorer.image_index == 3
    link.close()


def test_points_added_after_linking_leave_the_explorer_where_it_was(pair, digits_example):
    scatter, explorer = pair
    link = nbviz.link(scatter, explorer)
    scatter.focus = 5
    scatter.add_points(digits_example.images[N:N + 3].reshape(3, -1), n_iter=5)
    scatter.wait(60)
    assert scatter.n_points == N + 3
    scatter.focus = N + 1  # a point with no image: no error, the explorer stays on image 5
    assert explorer.image_index == 5
    link.close()


def test_link_refuses_mismatched_widgets(pair, digits_example, gray):
    scatter, explorer = pair
    with pytest.raises(ValueError, match=r"40 points but the explorer 2 images"):
        other = nbviz.CAMExplorer(digits_example.model, [np.zeros((8, 8), np.uint8)] * 2, transform=gray)
        try:
            nbviz.link(scatter, other)
        finally:
            other.close()
    with pytest.raises(TypeError, match="explorer must be an nbviz.CAMExplorer"):
        nbviz.link(scatter, scatter)
    with pytest.raises(TypeError, match="scatter must be an nbviz.TSNEScatter"):
        nbviz.link(explorer, explorer)


def test_batched_maps_equal_maps_one_by_one(pair):
    _, explorer = pair
    indices, targets = [3, 0, 17, 31], [1, 5, 7, 7]
    batched = explorer.compute_batch(indices, targets, batch_size=3, upsample=False)
    single = np.stack([explorer._explain(explorer._choice(None, t, None, i)) for i, t in zip(indices, targets)])
    # Same float32 formula; only the convolutions' summation order differs with the batch size,
    # and the min-max normalisation divides by a range of order 1.
    np.testing.assert_allclose(batched, single, atol=1e-5)
    with pytest.raises(ValueError, match="one class per image"):
        explorer.compute_batch([1, 2], [3])


def test_lazy_images_are_prepared_only_when_shown(digits_example):
    loaded = []
    images = digits_example.images

    def load(i):
        loaded.append(i)
        return PreparedImage(torch.from_numpy(images[i])[None, None], to_pil(images[i]), f"digit {i}")

    lazy = LazyImages(len(images), load)
    explorer = nbviz.CAMExplorer(digits_example.model, lazy, labels=digits_example.classes)
    try:
        assert set(loaded) == {0} and explorer.n_images == len(images) and explorer._images == []
        sent = []
        explorer.send = lambda content, buffers=None: sent.append((content, buffers))
        explorer._on_message(explorer, {"type": "image", "index": 321}, [])
        (content, buffers), = sent
        assert content["type"] == "image" and content["index"] == 321 and content["name"] == "digit 321"
        probs = np.frombuffer(buffers[1], dtype="<f4")
        with torch.no_grad():
            expected = torch.softmax(digits_example.model(torch.from_numpy(images[321])[None, None]), 1)[0].numpy()
        np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-7)
        assert content["topk"][0] == int(expected.argmax())
        assert buffers[0][:2] == b"\xff\xd8"  # a JPEG
        assert set(loaded) == {0, 321}
        explorer.image_index = 400
        assert explorer.target == explorer.top_classes(1, 400)[0] and set(loaded) == {0, 321, 400}
        with pytest.raises(Exception, match="image_index must be from 0 to 538"):
            explorer.image_index = 539
    finally:
        explorer.close()


def test_saved_points_put_what_the_user_looks_at_first(pair):
    scatter, _ = pair
    scatter.focus, scatter.selection, scatter.ringed = 30, [4, 30, 2], [39, 4]
    assert saved_points(scatter, N, 6) == [30, 2, 4, 39, 0, 1]
    assert saved_points(scatter, N, 0) == []
    with pytest.raises(ValueError, match="max_images"):
        saved_points(scatter, N, -1)


def read_payload(path):
    text = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="nbviz-report-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


def test_report_embeds_both_widgets_with_uint8_maps(pair, tmp_path):
    scatter, explorer = pair
    link = nbviz.link(scatter, explorer)
    scatter.focus = 25
    path = nbviz.to_html(tmp_path / "linked.html", link, max_images=10)
    entries = {entry["id"]: entry for entry in read_payload(path)["widgets"]}
    assert set(entries) == {"w0", "w0.scatter", "w0.explorer"}
    assert entries["w0"]["state"]["scatter"] == "anywidget:w0.scatter"
    assert entries["w0"]["state"]["explorer"] == "anywidget:w0.explorer"
    assert entries["w0.scatter"]["embedded"] and entries["w0.explorer"]["embedded"]
    assert scatter.focus_neighbors and entries["w0.scatter"]["state"]["focus_neighbors"] == []
    child = entries["w0.explorer"]
    state, buffers = child["state"], {tuple(p): base64.b64decode(b) for p, b in zip(child["buffer_paths"], child["buffers"])}
    keys = sorted(k for (name, k, *_) in buffers if name == "_precomputed")
    saved = saved_points(scatter, N, 10)
    assert sorted(int(k.split("|")[0]) for k in keys) == sorted(saved)
    for key in keys:
        image, layer, target, method = key.split("|")
        assert (layer, method) == (explorer.layer, explorer.method)
        assert int(target) == explorer.top_classes(1, int(image))[0]
        decoded = from_unit_codes(buffers[("_precomputed", key)], tuple(state["_precomputed_shapes"][key]))
        np.testing.assert_allclose(decoded, explorer.compute(target=int(target), image_index=int(image)),
                                   atol=UNIT_CODE_ERROR + 1e-6)
    # Every point has a photo (saved ones at full size, the rest as thumbnails) and its top classes.
    photos = [buffers[("_images", i)] for i in range(N)]
    assert all(p[:2] == b"\xff\xd8" for p in photos)
    assert [row[0] for row in state["_topk"]] == [explorer.top_classes(1, i)[0] for i in range(N)]
    link.close()


@pytest.mark.browser
def test_linked_report_clicks_paint_saved_maps_offline(pair, page_for_html, screenshot, tmp_path):
    """The browser half of the link (lens_link's initialize) in an exported file, network blocked."""
    scatter, explorer = pair
    from nbviz.demo import run_to_completion

    run_to_completion(scatter)
    link = nbviz.link(scatter, explorer)
    path = nbviz.to_html(tmp_path / "linked.html", link, max_images=N)
    page = page_for_html(path, wait_for=".nbviz-lens .nbviz-cam")
    hook = "document.querySelector('.nbviz-lens .nbviz-tsne').nbviz"
    page.wait_for_function(f"""() => {{ const h = {hook}; if (!h) return false;
        window.sawReplay = window.sawReplay || h.stats().mode === "replay";
        return window.sawReplay && h.stats().mode === "live" && h.layoutIsStatic(); }}""", timeout=60_000)
    plot = page.locator(".nbviz-lens .nbviz-tsne .plot").first
    rect = plot.bounding_box()
    points = np.array(page.evaluate(f"() => {{ const h = {hook}; return [...Array({N}).keys()].map((i) => h.screenPosition(i)); }}"))
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    inside = [i for i in range(N) if 30 < points[i, 0] < rect["width"] - 30 and 30 < points[i, 1] < rect["height"] - 30]
    target = max(inside, key=lambda i: d[i].min())
    page.mouse.click(rect["x"] + points[target, 0], rect["y"] + points[target, 1])
    key = f"{target}|{explorer.layer}|{explorer.top_classes(1, target)[0]}|{explorer.method}"
    cam = page.locator(".nbviz-lens .nbviz-cam").first
    page.wait_for_function("([el, key]) => el.dataset.paintedKey === key", arg=[cam.element_handle(), key], timeout=30_000)
    screenshot(page.locator(".nbviz-lens").first, "link_report_click.png")
    assert page.blocked_requests == [] and page.console_errors == []
    link.close()
