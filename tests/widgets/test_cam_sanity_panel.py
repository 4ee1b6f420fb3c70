"""CAMExplorer's "Sanity check" button in Python: the `_sanity` trait carries exactly the engine's
result for the map on screen, a new request cancels the previous one, a change of map clears it,
errors arrive as text, and the strip's small maps are the engine's maps as uint8."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cam_widget_helpers import CamTinyNet, cam_test_images, cam_transform_32
from harness import wait_until

from nbviz import cam
from nbviz.cam.postprocess import minmax_per_image, upsample
from nbviz.widgets.cam_sanity_panel import STRIP_MAX_SIDE, strip_bytes, verdict_summary


def sanity_request(explorer, request_id: str = "s-1", **overrides) -> dict:
    request = {"type": "sanity", "id": request_id, "image": explorer.image_index, "layer": explorer.layer,
               "target": str(explorer.target), "method": explorer.method}
    request.update(overrides)
    return request


def finished(explorer, request_id: str, timeout: float = 60) -> dict:
    assert wait_until(lambda: explorer._sanity.get("id") == request_id
                      and explorer._sanity.get("state") in ("done", "error", "cancelled"), timeout), explorer._sanity
    return explorer._sanity


def test_the_trait_carries_the_engines_result_for_the_map_on_screen(cam_make_explorer):
    explorer = cam_make_explorer(method="gradcam", layer="features.3")
    explorer._on_message(explorer, sanity_request(explorer), [])
    payload = finished(explorer, "s-1")
    assert payload["state"] == "done" and payload["key"] == f"0|features.3|{explorer.target}|gradcam"

    x = explorer._prepared[0].tensor
    expected = cam.sanity_check(CamTinyNet(), x, method="gradcam", layer="features.3", target=explorer.target)
    assert payload["blocks"] == list(expected.blocks) == ["fc", "features.3", "features.0"]
    for name in ("spearman", "ssim", "hog"):
        np.testing.assert_allclose(payload["curves"][name], expected.curve(name), atol=1e-12)
    assert (payload["verdict"], payload["middle"], payload["first_below"]) == (
        expected.verdict, expected.middle, expected.first_below)
    assert payload["threshold"] == 0.5 and payload["measure"] == "spearman"
    # the small maps: the maps at the layer's 16 x 16 grid, value * 255 rounded to uint8
    h, w = payload["shape"]
    assert (h, w) == (16, 16) == tuple(expected.feature_maps.shape[-2:])
    maps = np.frombuffer(payload["maps"], np.uint8).reshape(len(expected.blocks), h, w)
    np.testing.assert_array_equal(maps, np.rint(expected.feature_maps[:, 0].numpy() * 255))
    original = np.frombuffer(payload["original"], np.uint8).reshape(h, w)
    np.testing.assert_array_equal(original, np.rint(explorer.compute(upsample=False) * 255))  # the map on screen
    assert payload["summary"] == verdict_summary(expected)
    assert explorer.sanity_result is not None and explorer.sanity_result.blocks == expected.blocks
    # the user's model is untouched: the map on screen is still the trained model's
    np.testing.assert_array_equal(explorer.compute(upsample=False), cam.Explainer(CamTinyNet()).explain(
        x, "gradcam", "features.3", explorer.target, upsample=False)[0].numpy())


def test_the_feature_maps_upsample_to_the_maps_the_similarities_compare(cam_make_explorer):
    x = cam_transform_32()(Image.fromarray(cam_test_images()[0]))[None]
    result = cam.sanity_check(CamTinyNet(), x, method="gradcam", layer="features.3", target=2)
    with cam.Explainer(CamTinyNet()) as reference:
        torch.testing.assert_close(result.original, reference.explain(x, "gradcam", "features.3", 2))
        torch.testing.assert_close(result.feature_original,
                                   reference.explain(x, "gradcam", "features.3", 2, upsample=False))
    torch.testing.assert_close(result.maps, torch.stack(
        [minmax_per_image(upsample(m, (32, 32))) for m in result.feature_maps]))


def test_a_new_request_cancels_the_running_one_and_a_change_of_map_clears_it(cam_make_explorer):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.05))
    explorer._on_message(explorer, sanity_request(explorer, "slow", method="scorecam"), [])
    assert wait_until(lambda: explorer._sanity.get("state") == "running" and explorer._sanity.get("done", 0) >= 1, 60)
    slow_job = explorer._sanity_runner._scheduler.running
    assert slow_job is not None and slow_job.key.endswith("|scorecam")
    explorer._on_message(explorer, sanity_request(explorer, "fast"), [])
    assert slow_job.cancel.is_set()
    assert finished(explorer, "fast")["state"] == "done"
    assert explorer._sanity_runner._scheduler.wait_idle(30)
    assert explorer._sanity["id"] == "fast"  # the cancelled run never overwrote the newer one

    explorer.method = "layercam"  # another map on screen: the result described the old one
    assert explorer._sanity == {} and explorer.sanity_result is None

    explorer._on_message(explorer, sanity_request(explorer, "slow2", method="scorecam"), [])
    assert wait_until(lambda: explorer._sanity.get("state") == "running", 60)
    running = explorer._sanity_runner._scheduler.running
    explorer.target = (explorer.target + 1) % 5
    assert running is None or running.cancel.is_set()
    assert explorer._sanity_runner._scheduler.wait_idle(30) and explorer._sanity == {}


def test_cancel_from_the_view_stops_the_check(cam_make_explorer):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.05))
    explorer._on_message(explorer, sanity_request(explorer, "c-1", method="scorecam"), [])
    assert wait_until(lambda: explorer._sanity.get("state") == "running", 60)
    explorer._on_message(explorer, {"type": "sanity-cancel", "id": "c-1"}, [])
    payload = finished(explorer, "c-1")
    assert payload["state"] == "cancelled" and "cancelled" in payload["message"]


class NoParameters(nn.Module):
    """Logits = the mean of a 2 x 2 average-pooled image: a spatial layer, and nothing to randomise."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(2)

    def forward(self, x):
        return self.pool(x).mean(dim=(2, 3))


def test_errors_arrive_as_text_and_the_explorer_stays_usable(cam_make_explorer):
    explorer = cam_make_explorer(model=NoParameters(), method="gradcam")
    explorer._on_message(explorer, sanity_request(explorer, "e-1"), [])
    payload = finished(explorer, "e-1")
    assert payload["state"] == "error" and "no parameters" in payload["message"]
    assert "Traceback" not in payload["message"]
    assert explorer.compute(upsample=False).shape == (16, 16)  # the explorer still computes maps
    # a request the widget cannot read is answered as an error message, not raised in the kernel
    sent = []
    explorer.send = lambda content, buffers=None: sent.append(content)
    explorer._on_message(explorer, sanity_request(explorer, "e-2", layer="no.such.layer"), [])
    assert sent and sent[-1]["type"] == "error" and "no.such.layer" in sent[-1]["message"]


def test_strip_maps_are_quantised_and_large_maps_averaged_down():
    values = torch.linspace(0, 1, 12).reshape(3, 4)
    data, shape = strip_bytes(values)
    assert shape == (3, 4) and list(data) == [round(v * 255) for v in values.flatten().tolist()]
    ramp = torch.arange(112.0)[None, :].repeat(112, 1) / 111  # 112 px: averaged over 2 x 2 blocks
    data, shape = strip_bytes(ramp)
    assert shape == (STRIP_MAX_SIDE, STRIP_MAX_SIDE)
    row = np.frombuffer(data, np.uint8).reshape(shape)[0]
    np.testing.assert_array_equal(row, np.rint((np.arange(0, 112, 2) + 0.5) / 111 * 255))


def test_the_verdict_reads_plainly_and_cites_the_paper():
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    result = cam.sanity_check(CamTinyNet(), x, method="gradcam", target=1)
    text = verdict_summary(result)
    assert "Adebayo et al." in text and "2018" in text
    first = text.split(":")[0]
    assert first == ("Passed" if result.passed else "Failed")
    assert f"{result.curve()[result.first_below if result.passed else result.middle]:.2f}" in text


def test_closing_stops_the_sanity_worker(cam_make_explorer):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.05))
    explorer._on_message(explorer, sanity_request(explorer, "z", method="scorecam"), [])
    assert wait_until(lambda: explorer._sanity.get("state") == "running", 60)
    thread = explorer._sanity_runner._scheduler._thread
    explorer.close()
    assert thread is not None and wait_until(lambda: not thread.is_alive(), 10)
    assert not [t for t in threading.enumerate() if t.name == "nbviz-cam-sanity" and t.is_alive()]


def test_maps_keep_coming_while_a_check_runs(cam_make_explorer, cam_front_end):
    explorer = cam_make_explorer(model=CamTinyNet(slow_batch_s=0.2))  # the check: 20 maps of >= 0.2 s each
    browser = cam_front_end(explorer)
    explorer._on_message(explorer, sanity_request(explorer, "long", method="scorecam"), [])
    assert wait_until(lambda: explorer._sanity.get("state") == "running" and explorer._sanity.get("done", 0) >= 1, 60)
    other = (explorer.target + 1) % 5
    browser.request("main", {"image": 1, "layer": "features.3", "target": other, "method": "layercam"})
    assert wait_until(lambda: f"1|features.3|{other}|layercam" in browser.maps(), 30)
    assert explorer._sanity.get("state") == "running"  # the map did not wait for the check
    explorer._on_message(explorer, {"type": "sanity-cancel", "id": "long"}, [])
    assert finished(explorer, "long")["state"] == "cancelled"
