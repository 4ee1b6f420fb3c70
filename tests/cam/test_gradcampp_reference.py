"""Grad-CAM++ against a float64 evaluation of Eq. 19, at shallow and deep layers.

Neither pytorch-grad-cam (adds eps = 1e-6 to the denominator) nor torchcam (drops the alpha
denominator) is a valid reference, so the reference here is the formula itself, and every
tolerance comes from the formula's conditioning at the values met (see `eq19_change_bound`).
"""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torchvision
from cam_helpers import minmax

from nbviz.cam import Explainer

UNIT64 = 2.0 ** -53  # unit roundoff of float64
FLOAT32_CAST = 2.0 ** -25  # largest rounding error of a float32 value in [0, 1]


def activation_and_gradient(model, x, layer, cls_idx):
    """The layer's output A and dy_c/dA for one image, in the model's own dtype."""
    acts = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: acts.update(a=o))
    try:
        out = model(x)
    finally:
        handle.remove()
    (g,) = torch.autograd.grad(out[0, cls_idx], acts["a"])
    return acts["a"].detach(), g.detach()


def eq19_map(a, g):
    """Literal Eq. 19 in float64: alpha = g^2 / (2 g^2 + S g^3) (0 where g = 0), S = sum_ab A_ab."""
    a, g = a.double(), g.double()
    s = a.sum(dim=(2, 3), keepdim=True)
    denominator = 2 * g ** 2 + s * g ** 3
    alpha = torch.where(g != 0, g ** 2 / torch.where(denominator != 0, denominator, 1.0), 0.0)
    weights = (g.clamp_min(0) * alpha).sum(dim=(2, 3))
    return minmax((weights[:, :, None, None] * a).sum(1))


def eq19_change_bound(a, g, da, dg) -> float:
    """Largest change of minmax(relu(M)) of Eq. 19 when A and G move by at most ``da``, ``dg`` elementwise.

    Rigorous, for one image, all in float64.  With S = sum A, D = 2 + S g (alpha = 1/D where g != 0):
    |D' - D| <= dD = |S| dg + |g| dS + dS dg with dS = sum da.  Where a perturbed g can be positive
    and dD < |D|, the term t = relu(g)/D moves by at most dg/(|D| - dD) + relu(g) dD/(|D| (|D| - dD)),
    so w_k moves by at most ew_k = sum_ij of that, and M = sum_k w_k A_k by at most
    E = max_ij sum_k ew_k (|A_k| + da_k) + |w_k| da_k.  ReLU does not increase E, and min-max
    normalisation over a range R turns it into at most 4 E / (R - 2 E).  Infinite where a perturbed
    denominator could reach 0 (or 2 E >= R): no finite bound exists there.
    ``|S g / D|`` is alpha's condition number: dD/|D| is roughly it times the relative change of g.
    """
    a, g, da, dg = (t.double() for t in (a, g, da, dg))
    s = a.sum(dim=(2, 3), keepdim=True)
    ds = da.sum(dim=(2, 3), keepdim=True)
    d = (2 + s * g).abs()
    dd = s.abs() * dg + g.abs() * ds + ds * dg
    live = (g + dg) > 0
    if bool((dd >= d)[live].any()):
        return math.inf
    margin = torch.where(live, d - dd, 1.0)
    term = torch.where(live, dg / margin + g.clamp_min(0) * dd / (d * margin), 0.0)
    weight_change = term.sum(dim=(2, 3))[:, :, None, None]
    alpha = torch.where((g != 0) & (d != 0), 1 / torch.where(d != 0, 2 + s * g, 1.0), 0.0)
    weights = (g.clamp_min(0) * alpha).sum(dim=(2, 3))[:, :, None, None]
    e = float((weight_change * (a.abs() + da) + weights.abs() * da).sum(dim=1).max())
    m = (weights * a).sum(dim=1).clamp_min(0)
    spread = float(m.max() - m.min())
    return 4 * e / (spread - 2 * e) if spread > 2 * e else math.inf


def evaluation_tolerance(a, g) -> float:
    """How far two float64 evaluations of Eq. 19 on the same inputs, one then cast to float32, may differ.

    Each sum of n terms in float64 is the exact sum of terms perturbed by at most gamma_n = n u / (1 - n u)
    relatively (u = 2^-53, n = the largest sum: h w or K); that is propagated like an input change,
    plus the final float32 rounding of values in [0, 1].
    """
    n = max(a.shape[1], a.shape[2] * a.shape[3]) + 2
    gamma = n * UNIT64 / (1 - n * UNIT64)
    return FLOAT32_CAST + eq19_change_bound(a, g, gamma * a.double().abs(), gamma * g.double().abs())


@pytest.fixture(scope="module")
def lite0_pair():
    from nbviz.data import load_pretrained, sample_image

    model, transform, _ = load_pretrained()
    return model.eval(), transform(sample_image("chelsea"))[None]


@pytest.mark.parametrize("layer", ["stem", "blocks.5", "head"])
def test_pretrained_lite0_matches_float64_eq19(lite0_pair, layer):
    model, x = lite0_pair
    with torch.no_grad():
        cls_idx = int(model(x).argmax())
    model64 = copy.deepcopy(model).double()
    a32, g32 = activation_and_gradient(model, x, layer, cls_idx)
    a64, g64 = activation_and_gradient(model64, x.double(), layer, cls_idx)

    # 1. the engine is Eq. 19 of the activations and gradients it is given, to float64 rounding,
    #    in float32 and in float64 alike (this isolates our formula code from the network's error)
    with Explainer(model) as ex:
        ours32 = ex.explain(x, "gradcam++", layer, cls_idx, upsample=False)
    with Explainer(model64) as ex64:
        ours64 = ex64.explain(x.double(), "gradcam++", layer, cls_idx, upsample=False)
    for ours, (a, g) in ((ours32, (a32, g32)), (ours64, (a64, g64))):
        tolerance = evaluation_tolerance(a, g)
        diff = float((ours.double() - eq19_map(a, g)).abs().max())
        assert diff <= tolerance, f"Grad-CAM++ at {layer} ({a.dtype}) is {diff} from Eq. 19 of its inputs (> {tolerance})"

    # 2. float32 against float64 network: within what the float32 network's own error in A and G can
    #    change Eq. 19 at these values (large where 2 + S g nears 0 for a positive g: blocks.5)
    bound = eq19_change_bound(a64, g64, (a32.double() - a64).abs(), (g32.double() - g64).abs())
    if math.isinf(bound):
        pytest.skip(f"at {layer} the float32 network's error reaches a pole of alpha: no finite bound")
    diff = float((ours32.double() - eq19_map(a64, g64)).abs().max())
    tolerance = bound + evaluation_tolerance(a64, g64)
    assert diff <= tolerance, f"float32 Grad-CAM++ at {layer} differs from float64 Eq. 19 by {diff} (> {tolerance})"
    if layer == "head":
        # deep inside a pretrained net the gradients are tiny: an eps of 1e-6 would swamp 2 g^2
        assert float(g64.abs().max()) < 1e-2


def test_change_bound_covers_changes_near_a_pole():
    """At positions where 2 + S g is 0.01 and 0.02 the map moves a lot; the bound covers every sampled move."""
    # two channels with S = -1 and one positive gradient each: D = 2 - 1.99 = 0.01 and 2 - 1.98 = 0.02
    a = torch.tensor([[-3.0, 1.0, 0.5, 0.5], [1.0, -2.0, -1.0, 1.0]]).view(1, 2, 2, 2)
    g = torch.tensor([[1.99, -0.3, 0.0, -0.2], [-0.1, 1.98, -0.3, -0.4]]).view(1, 2, 2, 2)
    da, dg = torch.full_like(a, 1e-7), torch.full_like(g, 1e-6)
    bound = eq19_change_bound(a, g, da, dg)
    generator = torch.Generator().manual_seed(0)
    moves = []
    for _ in range(200):
        sa = torch.randint(0, 3, a.shape, generator=generator) - 1
        sg = torch.randint(0, 3, g.shape, generator=generator) - 1
        moves.append(float((eq19_map(a + sa * da, g + sg * dg) - eq19_map(a, g)).abs().max()))
    assert 1e-5 < max(moves) <= bound < math.inf
    # a gradient change as large as the distance to the pole has no finite bound
    assert eq19_change_bound(a, g, da, torch.full_like(g, 1e-2)) == math.inf


def test_resnet18_random_weights_shallow_and_deep():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval().double()
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2)).double()
    for layer in ("layer1.0.conv1", "layer4"):
        a, g = activation_and_gradient(model, x, layer, 7)
        with Explainer(model) as ex:
            ours = ex.explain(x, "gradcam++", layer, 7, upsample=False)
        tolerance = evaluation_tolerance(a, g)
        assert float((ours.double() - eq19_map(a, g)).abs().max()) <= tolerance
