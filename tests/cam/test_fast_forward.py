"""The fast copy used by the score-based methods: same numbers as the model, rebuilt when the weights
change, and never used when it disagrees or cannot be built."""
from __future__ import annotations

import torch
from torch import nn

import nbviz.cam.fast_forward as fast_forward
from nbviz.cam import Explainer
from nbviz.cam.fast_forward import FastForward
from nbviz.cam.recorder import parameter_stamp


def _net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 6, 3, padding=1),
                        nn.BatchNorm2d(6), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))
    with torch.no_grad():  # non-trivial running statistics, so folding them changes the weights
        for bn in (net[1], net[4]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    return net.eval()


def _assert_runs_on_the_model_itself(net: nn.Module) -> None:
    x = torch.rand(2, 3, 12, 12)
    fast = FastForward(net)
    fast.prepare(x[:1], parameter_stamp(net))
    assert not fast.active
    with torch.no_grad():
        assert torch.equal(fast(x), net(x))


class Branchy(nn.Module):
    """Data-dependent control flow: torch.fx cannot trace it, so no BatchNorm folding."""

    def __init__(self):
        super().__init__()
        self.net = _net()

    def forward(self, x):
        return self.net(x) if float(x.sum()) > -1e9 else -self.net(x)


def test_copy_folds_batchnorm_and_matches_the_model():
    net = _net()
    x = torch.rand(5, 3, 12, 12)
    fast = FastForward(net)
    fast.prepare(x[:1], parameter_stamp(net))
    assert fast.active
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast._copy.modules())  # folded away
    with torch.no_grad():
        torch.testing.assert_close(fast(x), net(x), atol=1e-5, rtol=1e-5)
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # the user's model is untouched


def test_untraceable_model_still_gets_a_checked_copy():
    net = Branchy().eval()
    x = torch.rand(3, 3, 12, 12)
    fast = FastForward(net)
    fast.prepare(x[:1], parameter_stamp(net))
    assert fast.active
    with torch.no_grad():
        torch.testing.assert_close(fast(x), net(x), atol=1e-5, rtol=1e-5)


def test_a_disagreeing_copy_is_never_used(monkeypatch):
    class Shifted(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) + 1.0

    monkeypatch.setattr(fast_forward, "_fold_batchnorm", Shifted)
    _assert_runs_on_the_model_itself(_net())


def test_scorecam_equals_the_plain_model_computation_and_follows_weight_changes(monkeypatch):
    net = _net()
    x = torch.rand(2, 3, 16, 16)
    with Explainer(net) as ex:
        fast_map = ex.explain(x, "scorecam", "3", target=1)
        assert ex._fast.active
    # The same maps with the copy switched off (the model itself runs every masked batch).
    monkeypatch.setattr(FastForward, "prepare", lambda self, probe, stamp: None)
    with Explainer(net) as ex:
        plain_map = ex.explain(x, "scorecam", "3", target=1)
    torch.testing.assert_close(fast_map, plain_map, atol=1e-4, rtol=0)
    monkeypatch.undo()

    with Explainer(net) as ex:
        before = ex.explain(x, "scorecam", "3", target=1)
        with torch.no_grad():
            net[3].weight.mul_(-1.0)  # new weights: the copy must be rebuilt, not reused
        after = ex.explain(x, "scorecam", "3", target=1)
    with Explainer(net) as ex:
        torch.testing.assert_close(after, ex.explain(x, "scorecam", "3", target=1), atol=1e-5, rtol=0)
    assert not torch.allclose(before, after, atol=1e-3)


def test_default_batch_size_gives_the_same_maps_as_any_explicit_one():
    net = _net()
    x = torch.rand(2, 3, 16, 16)
    with Explainer(net) as ex:
        chosen = ex.explain(x, "scorecam", "3", target=2)  # batch_size=None: CPU_BATCH on the CPU
        for batch in (1, 5):
            torch.testing.assert_close(ex.explain(x, "scorecam", "3", target=2, batch_size=batch), chosen,
                                       atol=1e-5, rtol=0)


def test_models_too_large_to_copy_run_on_themselves(monkeypatch):
    monkeypatch.setattr(fast_forward, "MAX_COPY_BYTES", 100)  # smaller than _net()'s weights
    _assert_runs_on_the_model_itself(_net())
