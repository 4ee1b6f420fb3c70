"""Model-parameter randomisation test: the paper's finding on the embedded model, mechanics on tiny ones."""
from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import scipy.stats
import torch
from torch import nn

from nbviz.cam import Cancelled, CAMError, ModelError, compute, method_spec
from nbviz.cam.hygiene import count_hooks
from nbviz.cam.sanity import SPEARMAN_THRESHOLD, cascade_blocks, sanity_check
from nbviz.cam.similarity import hog_correlation, spearman, ssim


@pytest.fixture(scope="module")
def lite0_results(lite0_chelsea):
    model, x = lite0_chelsea
    before = {key: value.clone() for key, value in model.state_dict().items()}
    rng = torch.get_rng_state()
    results = {method: sanity_check(model, x, method=method) for method in ("gradcam", "guided-backprop")}
    return results, before, rng


def test_gradcam_forgets_the_image_once_the_head_is_randomised(lite0_results):
    result = lite0_results[0]["gradcam"]
    assert result.blocks[:3] == ("classifier", "head", "blocks.15") and result.blocks[-1] == "stem"
    assert len(result.blocks) == 19  # classifier, head, 16 blocks, stem
    spearman_curve = result.curve("spearman")
    assert spearman_curve[1] < SPEARMAN_THRESHOLD  # classifier and head conv randomised
    assert result.passed and result.verdict == "pass" and result.first_below <= 1


def test_guided_backprop_survives_randomising_the_head_as_in_the_paper(lite0_results):
    result = lite0_results[0]["guided-backprop"]
    # the guided map of the half-randomised network still has the trained map's ranking and edges
    for measure in ("spearman", "ssim", "hog"):
        assert result.curve(measure)[: result.middle + 1].min() > SPEARMAN_THRESHOLD, measure
    assert result.curve("spearman")[1] > 0.9
    assert not result.passed and result.verdict == "fail" and result.first_below > result.middle


def test_the_measured_verdicts_committed_in_the_registry_still_hold(lite0_chelsea, lite0_results):
    from nbviz.cam import METHODS

    committed = {name: method_spec(name).sanity for name in METHODS if method_spec(name).sanity is not None}
    assert {"gradcam": "pass", "guided-backprop": "fail"}.items() <= committed.items()
    model, x = lite0_chelsea
    for method, verdict in committed.items():  # every committed verdict, not only the two measured above
        result = lite0_results[0].get(method) or sanity_check(model, x, method=method, similarity=("spearman",))
        assert verdict == result.verdict, method


def test_the_users_model_and_random_state_are_untouched(lite0_chelsea, lite0_results):
    model, _ = lite0_chelsea
    _, before, rng = lite0_results
    after = model.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before)
    assert torch.equal(torch.get_rng_state(), rng)
    assert count_hooks(model) == 0 and not model.training


def test_the_result_keeps_one_map_per_step(lite0_results, lite0_chelsea):
    _, x = lite0_chelsea
    result = lite0_results[0]["gradcam"]
    assert result.maps.shape == (19, 1, 224, 224) and result.original.shape == (1, 224, 224)
    torch.testing.assert_close(result.original, compute(lite0_chelsea[0], x, method="gradcam", layer=result.layer))
    assert {name: values.shape for name, values in result.similarity.items()} == {
        "spearman": (19, 1), "ssim": (19, 1), "hog": (19, 1)}
    assert [row["block"] for row in result.table()] == list(result.blocks)


# mechanics on a tiny model: conv "features" -> ReLU -> GAP -> linear "fc", maps by Grad-CAM at "features"

def _tiny() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 3))


def _reset_by_hand(model: nn.Module, x: torch.Tensor, resets: list[tuple[int, int]], seed: int) -> torch.Tensor:
    """Grad-CAM at "0" of class 1 after ``module.reset_parameters()`` for each (step, module index)."""
    twin = copy.deepcopy(model)
    for step, index in resets:
        torch.manual_seed(seed * 1_000_003 + step)
        twin[index].reset_parameters()
    return compute(twin, x, method="gradcam", layer="0", target=1)


def test_cascade_steps_are_the_reset_modules_from_the_top(image4):
    model = _tiny()
    x = image4.repeat(1, 1, 2, 2)
    top_down = sanity_check(model, x, method="gradcam", layer="0", target=1, seed=5)
    assert top_down.blocks == ("4", "0")
    torch.testing.assert_close(top_down.maps[0], _reset_by_hand(model, x, [(0, 4)], 5))
    torch.testing.assert_close(top_down.maps[1], _reset_by_hand(model, x, [(0, 4), (1, 0)], 5))
    independent = sanity_check(model, x, method="gradcam", layer="0", target=1, seed=5, cascade="independent")
    torch.testing.assert_close(independent.maps[1], _reset_by_hand(model, x, [(1, 0)], 5))
    assert not torch.equal(independent.maps[1], top_down.maps[1])


def test_similarities_are_the_published_formulas():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, (32, 32)).astype(float)  # many ties: ranks must be averaged
    b = np.abs(a + rng.normal(0, 2, (32, 32)))
    assert spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a.ravel(), b.ravel()).statistic, abs=1e-12)
    assert spearman(a, -b) == pytest.approx(spearman(a, b), abs=1e-12)  # absolute values
    # on a 7 x 7 map the 7 x 7 window fits once: SSIM = (2 mx my + C1)(2 sxy + C2) / ((mx^2 + my^2 + C1)
    # (sx^2 + sy^2 + C2)) with sample (n - 1) moments, C1 = 0.01^2, C2 = 0.03^2 for data range 1
    p, q = rng.random((7, 7)), rng.random((7, 7))
    mp, mq = p.mean(), q.mean()
    cov = np.cov(p.ravel(), q.ravel())
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    expected = ((2 * mp * mq + c1) * (2 * cov[0, 1] + c2)) / ((mp ** 2 + mq ** 2 + c1) * (cov[0, 0] + cov[1, 1] + c2))
    assert ssim(p, q) == pytest.approx(expected, abs=1e-12)
    from skimage.feature import hog

    smooth = np.outer(np.hanning(224), np.hanning(224))
    skewed = smooth * np.linspace(0, 1, 224)
    settings = dict(orientations=9, pixels_per_cell=(16, 16), cells_per_block=(2, 2), block_norm="L2-Hys")
    reference = np.corrcoef(hog(smooth, **settings), hog(skewed, **settings))[0, 1]
    assert hog_correlation(smooth, skewed) == pytest.approx(reference, abs=1e-12) and reference < 0.99
    assert ssim(smooth, smooth) == pytest.approx(1.0) and hog_correlation(smooth, smooth) == pytest.approx(1.0)
    flat, b = np.zeros((224, 224)), np.abs(rng.normal(size=(224, 224)))
    assert spearman(flat, b) == 0 and ssim(flat, smooth) == 0 and hog_correlation(flat, smooth) == 0


def test_progress_counts_every_map_and_cancel_stops(image4):
    model, seen = _tiny(), []
    sanity_check(model, image4, method="gradcam", target=0, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        sanity_check(model, image4, method="gradcam", target=0, cancel=cancel)


def test_cascade_blocks_open_plain_containers_only():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU()), nn.ModuleList([nn.Linear(2, 2)]))
    assert cascade_blocks(model, ["0.0", "0", "1.0"]) == ["0.0", "1.0"]
    assert cascade_blocks(model, ["1.0", "0.0"]) == ["1.0", "0.0"]  # call order, not registration order
    assert cascade_blocks(model, ["0.0"]) == ["0.0"]  # never called: left out


def test_bad_input_names_the_fix(image4):
    with pytest.raises(ModelError, match="no parameters"):
        sanity_check(nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()), image4, method="eigencam")
    with pytest.raises(CAMError, match="cascade must be one of"):
        sanity_check(_tiny(), image4, method="gradcam", cascade="bottom-up")
    with pytest.raises(CAMError, match="unknown similarity 'pearson'"):
        sanity_check(_tiny(), image4, method="gradcam", similarity=("pearson",))
    with pytest.raises(CAMError, match="similarity list is empty"):
        sanity_check(_tiny(), image4, method="gradcam", similarity=())
    with pytest.raises(CAMError, match="verdict_measure"):
        sanity_check(_tiny(), image4, method="gradcam", similarity=("ssim",))


def test_a_fused_map_can_be_sanity_checked(image4):
    model = _tiny()
    x = image4.repeat(1, 1, 2, 2)
    result = sanity_check(model, x, method="gradcam", layer=[model[0], "1"], target=1, similarity=("spearman",))
    assert result.layer == ["0", "1"]
    torch.testing.assert_close(result.original, compute(model, x, method="gradcam", layer=["0", "1"], target=1))


@pytest.mark.parametrize("method", ["gradcam", "guided-backprop", "scorecam"])
def test_the_copy_is_freed_when_the_check_returns(monkeypatch, image4, method):
    import copy as copy_module
    import gc
    import weakref

    import nbviz.cam.sanity as sanity_module

    copies, collections = [], []
    real_deepcopy, real_collect = copy_module.deepcopy, gc.collect

    def recording_deepcopy(value, *args):
        twin = real_deepcopy(value, *args)
        if value is model:  # the check's copy (the fast path of Score-CAM deep-copies its own parts too)
            copies.append(weakref.ref(twin))
        return twin

    model = _tiny()
    monkeypatch.setattr(sanity_module.copy, "deepcopy", recording_deepcopy)
    monkeypatch.setattr(sanity_module.gc, "collect", lambda *a: collections.append(1) or real_collect(*a))
    gc.disable()  # only what sanity_check itself does may free the copy
    try:
        sanity_check(model, image4.repeat(1, 1, 2, 2), method=method, layer="0", target=1, similarity=("spearman",))
        assert len(copies) == 1 and copies[0]() is None
    finally:
        gc.enable()
    # a full collection (about three Lite0 passes) only where a method made reference cycles (Score-CAM's
    # traced fast copy can); the gradient methods make none since the method context has no self-reference
    assert len(collections) <= (1 if method == "scorecam" else 0)
