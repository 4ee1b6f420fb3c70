"""Cost estimates (issue 16, item 6): passes declared per method in the registry, pass times
measured once per model, input shape and device, seconds = F t_fwd + B t_bwd + L t_after(layer)."""
from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from nbviz import cam
from nbviz.cam.cost import CONFIRM_ABOVE_S, Passes, PassTimes, pass_times


def test_seconds_is_the_declared_passes_times_the_measured_pass_times():
    times = PassTimes(forward=0.02, backward=0.05, after_layer={"layer4": 0.001})
    assert times.seconds(Passes(forward=4096), "layer4") == pytest.approx(4096 * 0.02)
    assert times.seconds(Passes(forward=1, after_layer=512), "layer4") == pytest.approx(0.02 + 512 * 0.001)
    assert times.seconds(Passes(forward=8, backward=8), None) == pytest.approx(8 * 0.07)
    assert times.seconds(Passes(after_layer=3), "unknown") == pytest.approx(3 * 0.02)  # whole model, to be safe
    assert CONFIRM_ABOVE_S == 3.0


@pytest.mark.parametrize(("method", "options", "expected"), [
    ("gradcam", {}, Passes(backward=1)),
    ("cam", {}, Passes()),
    ("eigencam", {}, Passes()),
    ("scorecam", {}, Passes(forward=512)),
    ("sscam", {"n_samples": 8}, Passes(forward=8 * 512)),
    ("iscam", {"n_samples": 4}, Passes(forward=4 * 512)),
    ("smoothgradcam++", {"n_samples": 8}, Passes(forward=8, backward=8)),
    ("ablationcam", {}, Passes(forward=1, after_layer=512)),
    ("guided-backprop", {}, Passes(forward=1, backward=1)),
])
def test_every_method_declares_its_passes_in_the_registry(method, options, expected):
    spec = cam.method_spec(method)
    assert spec.passes_for(spec.resolve_options(options), 512) == expected


def test_a_registered_method_declares_passes_or_gets_the_default():
    @cam.register_method("testcost", label="Test cost", family="score", options={"n": 2},
                         passes=lambda options, channels: Passes(forward=options["n"] * channels + 1))
    def testcost(ctx):
        return ctx.activation.sum(dim=1)

    try:
        assert cam.method_spec("testcost").passes_for({"n": 3}, 10) == Passes(forward=31)
    finally:
        cam.unregister_method("testcost")
    with pytest.raises(cam.MethodError, match="passes of method 'badcost' must be a function"):
        cam.register_method("badcost", label="Bad cost", family="other", passes=5)(lambda ctx: ctx.x)


class Sleepy(nn.Module):
    """Two conv stages with a known pause between them (sleep), then a linear head."""

    def __init__(self, pause_s: float):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 1)
        self.second = nn.Conv2d(4, 4, 1)
        self.head = nn.Linear(4, 3)
        self.pause_s = pause_s
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        a = self.first(x)
        time.sleep(self.pause_s)  # runs after `first` finished and before `second`
        return self.head(self.second(a).mean(dim=(2, 3)))


def test_pass_times_are_measured_once_per_model_weights_and_input_shape():
    model = Sleepy(pause_s=0.2)
    x = torch.rand(1, 3, 8, 8)
    times = pass_times(model, x, ["first", "second"])
    # time.sleep sleeps at least as long as asked (only the upper side is noise), and `second`
    # finishes after the pause that follows `first`: t_after(first) - t_after(second) >= pause
    assert times.forward >= 0.2 and times.after_layer["first"] >= 0.2
    assert times.after_layer["first"] - times.after_layer["second"] >= 0.2
    assert times.backward >= times.forward  # backward is floored at one forward
    calls = model.calls
    assert pass_times(model, x, ["first", "second"]) is times and model.calls == calls  # cached
    assert pass_times(model, torch.rand(1, 3, 8, 8), ["first", "second"]) is times  # same shape and weights
    with torch.no_grad():
        model.head.weight.add_(1.0)  # new weights: measured again
    assert pass_times(model, x, ["first", "second"]) is not times and model.calls > calls


def test_explainer_estimates_every_offered_layer_and_method_from_one_measurement():
    model = Sleepy(pause_s=0.2)
    x = torch.rand(1, 3, 8, 8)
    with cam.Explainer(model) as explainer:
        estimates = explainer.estimates(x, ["first", "second"], ["gradcam", "scorecam", "ablationcam"])
    times = pass_times(model, x, ["first", "second"])
    assert estimates["first"]["scorecam"] == pytest.approx(4 * times.forward)  # 4 channels, one pass each
    assert estimates["first"]["ablationcam"] == pytest.approx(times.forward + 4 * times.after_layer["first"])
    assert estimates["second"]["ablationcam"] == pytest.approx(times.forward + 4 * times.after_layer["second"])
    assert estimates["second"]["gradcam"] == pytest.approx(times.backward)
    # Ablation-CAM after the pause skips it for each of the 4 channels: 4 * 0.2 s less at least
    assert estimates["first"]["ablationcam"] - estimates["second"]["ablationcam"] >= 4 * 0.2
