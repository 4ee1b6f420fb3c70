"""Explainer caching: what costs a model pass, what costs a backward, what is free; bounded memory."""
from __future__ import annotations

import gc
import os

import pytest
import torch
from cam_helpers import assert_no_hooks
from torch import nn

from nbviz.cam import Explainer, ExplainerClosedError, compute


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 6))


@pytest.fixture
def x():
    return torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))


class CountingGrad:
    """Counts torch.autograd.grad calls made by the engine."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = torch.autograd.grad

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(torch.autograd, "grad", counted)


def test_layer_method_class_switches_cost_what_the_issue_says(x, monkeypatch):
    net = _net()
    grads = CountingGrad(monkeypatch)
    with Explainer(net) as ex:
        first = ex.explain(x, "gradcam", "2", 1)
        assert ex.forward_count == 1 and grads.calls == 1
        for method in ("gradcam++", "xgradcam", "layercam", "hirescam", "eigencam"):
            ex.explain(x, method, "2", 1)
        assert ex.forward_count == 1 and grads.calls == 1  # method switch: cached gradient
        ex.explain(x, "gradcam", "4", 1)
        assert ex.forward_count == 1 and grads.calls == 2  # layer switch: one autograd.grad
        ex.explain(x, "gradcam", "2", 3)
        assert ex.forward_count == 1 and grads.calls == 3  # class switch: one autograd.grad
        again = ex.explain(x.clone(), "gradcam", "2", 1)  # equal values: same cached forward
        assert ex.forward_count == 1 and grads.calls == 3
        torch.testing.assert_close(again, first)
        probs = ex.predict(x)
        assert ex.layers(x) == ["0", "1", "2", "3", "4", "5"]  # out-of-place ReLUs make new tensors
        assert ex.forward_count == 1
        torch.testing.assert_close(probs, torch.softmax(net(x), 1))
        ex.explain(x + 1, "gradcam", "2", 1)
        assert ex.forward_count == 2  # a new input: one recorded forward


def test_cached_results_equal_fresh_computations(x):
    net = _net()
    with Explainer(net) as ex:
        for method in ("gradcam", "gradcam++", "layercam", "eigencam", "hirescam", "xgradcam"):
            for layer in ("2", "4"):
                for cls in (0, 5):
                    got = ex.explain(x, method, layer, cls)
                    torch.testing.assert_close(got, compute(_net(), x, method=method, layer=layer, target=cls))


def test_changed_weights_invalidate_the_cache(x):
    net = _net()
    with Explainer(net) as ex:
        before = ex.explain(x, "gradcam", "2", 1)
        with torch.no_grad():
            net[4].weight.mul_(-1)
        after = ex.explain(x, "gradcam", "2", 1)
        assert ex.forward_count == 2
        torch.testing.assert_close(after, compute(net, x, method="gradcam", layer="2", target=1))
        assert (after - before).abs().max() > 0.01


def test_predict_and_layers_run_one_forward_then_explain_is_free(x):
    net = _net()
    with Explainer(net) as ex:
        ex.predict(x)
        ex.layers(x)
        ex.explain(x)
        assert ex.forward_count == 1
        assert ex.default_layer(x) == "5"


def test_closed_explainer_refuses_work(x):
    ex = Explainer(_net())
    ex.explain(x)
    ex.close()
    with pytest.raises(ExplainerClosedError, match="new Explainer"):
        ex.explain(x)


def _rss_bytes() -> int:
    """Resident set size of this process (Linux: /proc/self/statm counts pages, which are 64 KiB on some arm64)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_is_flat_over_300_explain_calls():
    """300 calls on the embedded EfficientNet-Lite0, a new image every 5th call, classes and methods
    alternating: resident memory after the calls is within 5% of what it was after a warm-up.

    Each new image replaces a recorded forward pass with its autograd graph (~30 MB at 224 px), so a
    leaked graph, hook or cache entry per call would grow memory by far more than 5% over 240 calls.
    """
    from nbviz.data import load_pretrained, sample_image

    model, transform, _ = load_pretrained()
    photo = transform(sample_image("chelsea"))[None]
    gen = torch.Generator().manual_seed(0)
    images = [photo + 0.05 * torch.randn(photo.shape, generator=gen) for _ in range(4)]
    methods = ("gradcam", "gradcam++", "layercam", "eigencam", "xgradcam")
    layers = ("blocks.10", "head")
    with Explainer(model.eval()) as ex:
        def call(i):
            image = images[(i // 5) % 4] * (1 + (i // 20) * 1e-3)  # a new input every 5th call
            ex.explain(image, methods[i % 5], layers[i % 2], target=(281, 285, 7)[i % 3])

        for i in range(60):  # warm-up: every cache fills to its limit, allocator pools settle
            call(i)
        gc.collect()
        start = _rss_bytes()
        for i in range(60, 300):
            call(i)
        gc.collect()
        end = _rss_bytes()
    assert ex.forward_count == 60  # one recorded forward per new input
    assert abs(end - start) <= 0.05 * start, f"resident memory went from {start / 2**20:.0f} MB to {end / 2**20:.0f} MB"
    assert len(ex._maps) <= ex._maps.limit and len(ex._grads) <= ex._grads.limit
    assert_no_hooks(model)
