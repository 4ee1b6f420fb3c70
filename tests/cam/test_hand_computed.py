"""Every method on tiny models whose maps are known in closed form (values, not shapes)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nbviz.cam import Explainer, compute

from cam_helpers import minmax

CLASS = 1


def _closed_form(net, x):
    """A_k = c_k x + d_k, W (classes, K), g_k = W_ck / (h w), and y_c for any input."""
    c = net.features.weight.detach().double().view(-1)
    d = net.features.bias.detach().double()
    w = net.fc.weight.detach().double()
    b = net.fc.bias.detach().double()
    xd = x.double()[0, 0]
    acts = c[:, None, None] * xd + d[:, None, None]
    grads = w[CLASS] / xd.numel()

    def score(image):  # y_c(image) for a (h, w) image, straight from the formula
        return float((w[CLASS] * (c * image.mean() + d)).sum() + b[CLASS])

    return acts, grads, w, score


def _explain(net, x, method, **kw):
    return compute(net, x, method=method, layer="features", target=CLASS, upsample=False, **kw)[0]


def _expect(m):
    return minmax(m[None].float())[0]


def test_cam_gradcam_hirescam_xgradcam_are_the_linear_head_map(linear_net, image4):
    acts, grads, w, _ = _closed_form(linear_net, image4)
    expected = _expect((w[CLASS][:, None, None] * acts).sum(0))
    for method in ("cam", "gradcam", "hirescam", "xgradcam"):
        torch.testing.assert_close(_explain(linear_net, image4, method), expected, atol=1e-6, rtol=0)


def test_layercam_keeps_only_positive_gradients(linear_net, image4):
    acts, grads, _, _ = _closed_form(linear_net, image4)
    expected = _expect((grads.clamp_min(0)[:, None, None] * acts).sum(0))
    got = _explain(linear_net, image4, "layercam")
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    # class 1 has a negative weight on channel 0, so LayerCAM must differ from Grad-CAM here
    assert (got - _explain(linear_net, image4, "gradcam")).abs().max() > 0.01


def _eq19(acts, grads):
    g = grads[:, None, None].expand_as(acts)
    s = acts.sum(dim=(1, 2))[:, None, None]
    alpha = g ** 2 / (2 * g ** 2 + s * g ** 3)
    weights = (g.clamp_min(0) * alpha).sum(dim=(1, 2))
    return (weights[:, None, None] * acts).sum(0)


def test_gradcampp_and_smooth_variant_follow_eq19(linear_net, image4):
    acts, grads, _, _ = _closed_form(linear_net, image4)
    expected = _expect(_eq19(acts, grads))
    torch.testing.assert_close(_explain(linear_net, image4, "gradcam++"), expected, atol=1e-6, rtol=0)
    # gradients of a linear model do not depend on the input, so smoothing changes nothing
    smooth = _explain(linear_net, image4, "smoothgradcam++", n_samples=3, noise=0.3)
    torch.testing.assert_close(smooth, expected, atol=1e-6, rtol=0)
    assert (expected - _explain(linear_net, image4, "gradcam")).abs().max() > 0.01


class _SquaredHeadNet(nn.Module):
    """A_k = c_k x + d_k (layer 'features'), y_c = sum_k W_ck mean_ij(A_kij^2): the gradient
    dy_c/dA_kij = 2 W_ck A_kij / (h w) depends on the input, so noise changes its moments."""

    def __init__(self, c, d, w):
        super().__init__()
        self.features = nn.Conv2d(1, len(c), 1)
        self.fc = nn.Linear(len(c), 1, bias=False)
        with torch.no_grad():
            self.features.weight.copy_(torch.tensor(c).view(-1, 1, 1, 1))
            self.features.bias.copy_(torch.tensor(d))
            self.fc.weight.copy_(torch.tensor([w]))

    def forward(self, x):
        return self.fc(self.features(x).square().mean(dim=(2, 3)))


def _gradcampp_from_moments(acts, d1, d2, d3):
    """Eq. 19 with the three gradient moments given per position (no eps; alpha = 0 where d2 = 0)."""
    alpha = torch.where(d2 != 0, d2 / (2 * d2 + acts.sum(dim=(1, 2), keepdim=True) * d3), 0.0)
    weights = (d1.clamp_min(0) * alpha).sum(dim=(1, 2))
    return (weights[:, None, None] * acts).sum(0)


def test_smooth_gradcampp_moments_converge_to_their_expectations(image4):
    """With e ~ N(0, sigma^2) per pixel, A' = A + c e and g' = s A' (s_k = 2 W_k / hw), so
    E g' = s A, E g'^2 = s^2 (A^2 + c^2 sigma^2), E g'^3 = s^3 (A^3 + 3 A c^2 sigma^2)."""
    c, d, w, noise = [0.2, 3.0], [0.5, 0.4], [2.0, 1.0], 0.5
    net = _SquaredHeadNet(c, d, w)
    x = image4.double()[0, 0]
    c, d = torch.tensor(c).double().view(-1, 1, 1), torch.tensor(d).double().view(-1, 1, 1)
    acts, s = c * x + d, 2 * torch.tensor(w).double().view(-1, 1, 1) / x.numel()
    variance = (noise * float(x.max() - x.min())) ** 2
    plain = _expect(_gradcampp_from_moments(acts, s * acts, (s * acts) ** 2, (s * acts) ** 3))
    expected = _expect(_gradcampp_from_moments(
        acts, s * acts, s**2 * (acts**2 + c**2 * variance), s**3 * (acts**3 + 3 * acts * c**2 * variance)))

    def explain(method, **options):
        return compute(net, image4, method=method, layer="features", target=0, upsample=False, **options)[0]

    torch.testing.assert_close(explain("gradcam++"), plain, atol=1e-5, rtol=0)
    torch.testing.assert_close(explain("smoothgradcam++", noise=0.0, n_samples=2), plain, atol=1e-5, rtol=0)
    assert (expected - plain).abs().max() > 0.05, "the noise must matter for this model"
    smooth = explain("smoothgradcam++", noise=noise, n_samples=100_000, batch_size=100_000)
    torch.testing.assert_close(smooth, expected, atol=3e-3, rtol=0)  # Monte Carlo error: 5e-4 over seeds 0-4


def _score_masks(acts):
    lo = acts.flatten(1).min(1).values[:, None, None]
    hi = acts.flatten(1).max(1).values[:, None, None]
    return (acts - lo) / (hi - lo)


def test_scorecam_iscam_sscam(linear_net, image4):
    acts, _, _, score = _closed_form(linear_net, image4)
    xd = image4.double()[0, 0]
    masks = _score_masks(acts)
    s = torch.tensor([score(xd * m) for m in masks], dtype=torch.float64)
    expected = _expect((torch.softmax(s, 0)[:, None, None] * acts).sum(0))
    torch.testing.assert_close(_explain(linear_net, image4, "scorecam"), expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(_explain(linear_net, image4, "sscam", noise=0.0, n_samples=2), expected,
                               atol=1e-6, rtol=0)
    n = 4
    s_int = torch.tensor([sum(score(xd * m * i / n) for i in range(1, n + 1)) / n for m in masks],
                         dtype=torch.float64)
    expected_int = _expect((torch.softmax(s_int, 0)[:, None, None] * acts).sum(0))
    torch.testing.assert_close(_explain(linear_net, image4, "iscam", n_samples=n), expected_int, atol=1e-6, rtol=0)


def test_sscam_noise_is_seeded(linear_net, image4):
    a = _explain(linear_net, image4, "sscam", n_samples=2, noise=0.5, seed=3)
    b = _explain(linear_net, image4, "sscam", n_samples=2, noise=0.5, seed=3)
    torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_ablationcam(linear_net, image4):
    acts, _, w, score = _closed_form(linear_net, image4)
    y = score(image4.double()[0, 0])
    weights = w[CLASS] * acts.mean(dim=(1, 2)) / y  # (y - y_k) / y, y_k = y without channel k
    expected = _expect((weights[:, None, None] * acts).sum(0))
    torch.testing.assert_close(_explain(linear_net, image4, "ablationcam", batch_size=2), expected,
                               atol=1e-6, rtol=0)


def test_eigencam_is_the_centred_input_with_positive_sign(linear_net, image4):
    # every channel is c_k x + d_k: rank one, first component = x - mean(x); sum(c) > 0 fixes the sign
    xd = image4[0, 0]
    expected = _expect(xd - xd.mean())
    torch.testing.assert_close(_explain(linear_net, image4, "eigencam"), expected, atol=1e-5, rtol=0)
    flipped = linear_net
    with torch.no_grad():
        flipped.features.weight.mul_(-1)
    # the mean activation now anti-correlates with x, so the component is flipped: -(x - mean x)
    torch.testing.assert_close(_explain(flipped, image4, "eigencam"), _expect(xd.mean() - xd), atol=1e-5, rtol=0)


class ReluNet(nn.Module):
    """y = w * mean(relu(v * x)) + b: dy/dx = w v [v x > 0] / (h w)."""

    def __init__(self, v: float, w: float):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(1, 2)
        with torch.no_grad():
            self.conv.weight.fill_(v)
            self.fc.weight.copy_(torch.tensor([[w], [-w]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(F.relu(self.relu(self.conv(x))).mean(dim=(2, 3)))


def test_guided_backprop_passes_only_positive_signal(image4):
    positive = ReluNet(v=2.0, w=1.5)
    got = compute(positive, image4, method="guided-backprop", target=0)[0]
    torch.testing.assert_close(got, (image4[0, 0] > 0).float())
    # class 1 has weight -w: the plain gradient is -w v [x > 0] / 16, the guided one is zero everywhere
    assert compute(positive, image4, method="guided-backprop", target=1).abs().max() == 0
    plain = torch.autograd.functional.jacobian(lambda t: positive(t)[0, 1], image4)
    assert plain.abs().max() > 0


def test_guided_gradcam_multiplies_upsampled_gradcam_and_guided_map(image4):
    # relu(2x) -> 2x2 average pool -> 1x1 conv (layer "3") -> GAP -> linear; class 0 has weight +1.5,
    # so the guided gradient is a positive constant times [x > 0] and Grad-CAM at "3" is A = pool(relu(2x))
    net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(1, 1, 1, bias=False),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 2))
    with torch.no_grad():
        net[0].weight.fill_(2.0)
        net[3].weight.fill_(1.0)
        net[6].weight.copy_(torch.tensor([[1.5], [-1.5]]))
        net[6].bias.zero_()
    with Explainer(net) as ex:
        guided = ex.explain(image4, "guided-backprop", target=0)
        got = ex.explain(image4, "guided-gradcam", "3", 0)
    positive = (image4[0] > 0).float()
    torch.testing.assert_close(guided, positive)
    a = F.avg_pool2d(F.relu(2 * image4), 2)[:, 0]
    up = F.interpolate(minmax(a)[:, None], size=(4, 4), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(got, minmax(up * positive), atol=1e-6, rtol=0)


def test_upsampling_is_bilinear_half_pixel_then_minmax(linear_net, image4):
    pooled = nn.Sequential(nn.AvgPool2d(2), linear_net)
    small = compute(pooled, image4, method="gradcam", layer="1.features", target=CLASS, upsample=False)
    assert small.shape == (1, 2, 2)
    big = compute(pooled, image4, method="gradcam", layer="1.features", target=CLASS)
    up = F.interpolate(small[:, None], size=(4, 4), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(big, minmax(up), atol=1e-6, rtol=0)
    assert big.dtype == torch.float32 and float(big.min()) == 0.0 and float(big.max()) == 1.0


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "eigencam", "scorecam", "layercam", "cam"])
def test_constant_map_gives_zeros_not_nan(linear_net, method):
    flat = torch.full((1, 1, 4, 4), 0.5)
    got = compute(linear_net, flat, method=method, target=CLASS)
    assert torch.isfinite(got).all() and got.abs().max() == 0


def test_batch_maps_equal_single_image_maps(linear_net, image4):
    batch = torch.cat([image4, image4.flip(-1) * 0.5 + 0.1])
    for method in ("gradcam++", "scorecam", "ablationcam", "eigencam"):
        both = compute(linear_net, batch, method=method, target=[CLASS, 0])
        one = compute(linear_net, batch[1:], method=method, target=0)
        torch.testing.assert_close(both[1], one[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("rectifier", [nn.ReLU6(), nn.ReLU6(inplace=True), nn.Hardtanh(0.0, 6.0)])
def test_guided_backprop_applies_the_guided_rule_to_relu6(image4, rectifier):
    # conv(3x) -> ReLU6 -> GAP -> linear (+w, -w): the plain gradient of class 0 is w * 3 [0 < 3x < 6] / 16
    # and that of class 1 its negative; guided backprop keeps class 0's and zeroes class 1's
    # (a negative gradient arriving at a ReLU6 is not passed on), pixels saturated at 6 get nothing
    net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), rectifier, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(1, 2, bias=False))
    x = image4 * 4  # values 3x reach past 6, so some pixels saturate
    with torch.no_grad():
        net[0].weight.fill_(3.0)
        net[4].weight.copy_(torch.tensor([[1.5], [-1.5]]))
    active = ((3 * x[0, 0] > 0) & (3 * x[0, 0] < 6)).float()
    assert 0 < active.sum() < active.numel() - int((x <= 0).sum())  # both cut-offs matter
    torch.testing.assert_close(compute(net, x, method="guided-backprop", target=0)[0], active)
    assert compute(net, x, method="guided-backprop", target=1).abs().max() == 0
