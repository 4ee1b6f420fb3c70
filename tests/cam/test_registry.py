"""The method registry: a user's method works everywhere a built-in one does; mistakes give clear errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nbviz import cam
from nbviz.cam import MethodError, Option, register_method, unregister_method
from nbviz.cam.options import positive_int
from nbviz.report.compact import UNIT_CODE_ERROR, from_unit_codes

HW = 16  # the 4x4 feature map of linear_net


def _hand_map(linear_net, image4, cls: int, power: int) -> torch.Tensor:
    """minmax(relu(sum_k w_k A_k)) with w_k = (mean_ij |dy_c/dA_kij|)^power = (|W_ck| / 16)^power.

    linear_net is linear in its features: A_k = conv_w[k] x + conv_b[k] and dy_c/dA_kij = W_ck / 16.
    """
    x = image4[0, 0].double()
    conv_w, conv_b = [1.0, -0.5, 2.0], [0.1, 0.3, -0.2]
    fc_w = [[0.5, -1.0, 0.25], [-0.3, 0.2, 1.5]][cls]
    m = sum((abs(fc_w[k]) / HW) ** power * (conv_w[k] * x + conv_b[k]) for k in range(3)).clamp_min(0)
    return ((m - m.min()) / (m.max() - m.min()))[None]


@pytest.fixture
def absgradcam():
    """A user method, registered for one test and removed afterwards."""
    before = (tuple(cam.METHODS), dict(cam.METHOD_LABELS))

    @register_method("absgradcam", label="|Grad|-CAM", family="gradient", aliases=("absolute-gradcam", "AGC"),
                     options={"power": positive_int(1)}, needs_gradients=True)
    def absgradcam(ctx):
        """``w_k = (mean_ij |G_kij|)^power``, ``M = sum_k w_k A_k``."""
        weights = ctx.gradient().abs().mean(dim=(2, 3)) ** ctx.options["power"]
        return cam.weighted_sum(weights, ctx.activation)

    yield absgradcam
    unregister_method("absgradcam")
    assert (tuple(cam.METHODS), dict(cam.METHOD_LABELS)) == before


def test_a_registered_method_computes_its_hand_computed_map(absgradcam, linear_net, image4):
    for cls, power in ((0, 1), (1, 1), (1, 2)):
        options = {} if power == 1 else {"power": power}
        got = cam.compute(linear_net, image4, method="absgradcam", layer="features", target=cls, **options)
        torch.testing.assert_close(got.double(), _hand_map(linear_net, image4, cls, power), atol=1e-6, rtol=0)
    with cam.Explainer(linear_net) as explainer:
        by_alias = explainer.explain(image4, "Absolute GradCAM", "features", 1, power=2)
        torch.testing.assert_close(by_alias.double(), _hand_map(linear_net, image4, 1, 2), atol=1e-6, rtol=0)
        with pytest.raises(MethodError, match="option power of method 'absgradcam' must be a positive integer"):
            explainer.explain(image4, "agc", "features", 1, power=0)
        with pytest.raises(MethodError, match="options it accepts: power"):
            explainer.explain(image4, "agc", "features", 1, n_samples=2)
    assert "absgradcam" in cam.METHODS and "absgradcam" in cam.GRADIENT_METHODS
    assert "absgradcam" not in cam.SLOW_METHODS and cam.METHOD_OPTIONS["absgradcam"] == {"power": 1}
    assert cam.resolve_method("Abs Grad CAM") == "absgradcam"
    # menu order: by family, so the new gradient method follows the built-in gradient methods
    names = list(cam.METHODS)
    assert names.index("hirescam") < names.index("absgradcam") < names.index("smoothgradcam++")


def test_a_registered_method_is_in_the_explorer_menu_and_its_report(absgradcam, linear_net, image4):
    from nbviz import CAMExplorer

    photo = np.zeros((4, 4, 3), np.uint8)
    explorer = CAMExplorer(linear_net, photo, transform=lambda image: image4[0], labels=["a", "b"],
                           layers=["features"])
    try:
        assert "absgradcam" in explorer.methods
        entry = next(e for e in explorer._methods if e["name"] == "absgradcam")
        assert entry == {"name": "absgradcam", "label": "|Grad|-CAM", "family": "gradient", "slow": False, "sanity": None}
        explorer.method = "AGC"
        assert explorer.method == "absgradcam"
        hand = _hand_map(linear_net, image4, 1, 1)[0].numpy()
        np.testing.assert_allclose(explorer.compute("absgradcam", "features", 1, 0, upsample=False), hand, atol=1e-6)
        state = explorer.export_state(classes=[1])  # default methods: the cheap ones, the new one included
        values = from_unit_codes(state["_precomputed"]["0|features|1|absgradcam"], (4, 4))
        np.testing.assert_allclose(values, hand, atol=1e-6 + UNIT_CODE_ERROR)  # stored as one byte per value
        assert cam.METHOD_LABELS[explorer.method] == "|Grad|-CAM"  # what figures and PNG captions show
    finally:
        explorer.close()


def test_taken_names_and_aliases_are_refused_and_leave_the_registry_unchanged():
    before = tuple(cam.METHODS)

    def nothing(ctx):
        return ctx.activation.sum(dim=1)

    cases = [
        (dict(name="gradcam"), "'gradcam' is already the name of method 'gradcam'"),
        (dict(name="grad_cam"), "'grad_cam' is already the name of method 'gradcam'"),
        (dict(aliases=("GradCAMPlusPlus",)), "'GradCAMPlusPlus' is already an alias of method 'gradcam\\+\\+'"),
        (dict(aliases=("mine",)), "repeat themselves"),
        (dict(label="Grad-CAM"), "label 'Grad-CAM' is already used by method 'gradcam'"),
        (dict(family="attention"), "unknown family 'attention'.*activation, gradient"),
        (dict(name="Mine"), "lower-case"),
        (dict(name="a|b"), "'\\|'"),
        (dict(options={"layer": 1}), "cannot have an option named 'layer'"),
        (dict(options={"k": Option(0, lambda v: v > 0, "positive")}), "default 0 of option k"),
        (dict(slow="yes"), "slow of method 'mine' must be True or False"),
    ]
    for change, message in cases:
        arguments = {"name": "mine", "label": "Mine", "family": "activation", **change}
        with pytest.raises(MethodError, match=message):
            register_method(arguments.pop("name"), **arguments)(nothing)
        assert tuple(cam.METHODS) == before
    with pytest.raises(MethodError, match="unknown CAM method 'mine'"):
        unregister_method("mine")


def test_unregistering_a_built_in_and_adding_it_back_restores_it(linear_net, image4):
    before = tuple(cam.METHODS)
    expected = cam.compute(linear_net, image4, method="hirescam", layer="features", target=1)
    spec = unregister_method("HiResCAM")
    try:
        assert "hirescam" not in cam.METHODS
        with pytest.raises(MethodError, match="unknown CAM method 'hirescam'"):
            cam.compute(linear_net, image4, method="hirescam")
    finally:
        cam.add_spec(spec)
    assert tuple(cam.METHODS) == before
    assert torch.equal(cam.compute(linear_net, image4, method="hirescam", layer="features", target=1), expected)


def test_declared_needs_are_enforced(linear_net, image4):
    def gradient_without_declaring(ctx):
        return cam.weighted_sum(ctx.gradient().mean(dim=(2, 3)), ctx.activation)

    def wrong_shape(ctx):
        return ctx.activation  # (B, K, h, w), not (B, h, w)

    def head_reader(ctx):
        return ctx.activation.sum(dim=1)

    cases = [
        (dict(name="nograd"), gradient_without_declaring, {}, "registered with needs_gradients=False"),
        (dict(name="wrongshape"), wrong_shape, {}, r"returned shape \(1, 3, 4, 4\).*\(B, h, w\)"),
        (dict(name="headreader", needs_head=True), head_reader, {"target": lambda out: out[:, 0]},
         "needs class indices as target"),
    ]
    for declaration, function, call, message in cases:
        name = declaration["name"]
        register_method(label=name.title(), family="other", **declaration)(function)
        try:
            with pytest.raises(MethodError, match=message):
                cam.compute(linear_net, image4, method=name, layer="features", **call)
        finally:
            unregister_method(name)


def test_built_in_declarations():
    """Each built-in is declared once with its label and family; the groups follow from the flags."""
    specs = {name: cam.method_spec(name) for name in cam.METHODS}
    assert len({spec.label for spec in specs.values()}) == len(specs) == 14
    assert {name for name, spec in specs.items() if spec.family == "score"} == {"scorecam", "sscam", "iscam"}
    assert [name for name, spec in specs.items() if not spec.needs_layer] == ["guided-backprop"]
    assert [name for name, spec in specs.items() if spec.needs_head] == ["cam"]
    assert set(cam.GUIDED_METHODS) == {name for name, spec in specs.items() if spec.input_resolution}
    assert cam.METHOD_LABELS["gradcam++"] == "Grad-CAM++" and cam.method_spec("gradcampp").name == "gradcam++"
