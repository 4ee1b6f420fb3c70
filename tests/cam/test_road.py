"""ROAD (remove and debias): hand-computed noisy linear imputation and probabilities on a tiny linear model."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nbviz.cam import InputError
from nbviz.cam.imputation import impute
from nbviz.cam.metrics import road

IMAGE = np.array([[0.9, 0.1, -0.4], [0.2, -0.7, 0.8], [-0.2, 0.6, 0.5]])
SALIENCY = torch.tensor([[0.3, 0.8, 0.5], [0.4, 0.9, 0.6], [0.45, 0.55, 0.35]])  # centre first, (0, 0) last


def _linear() -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 2, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 1.5, 2.0, -1.0, 0.25, 1.0, -0.5],
                                            [0.0, 1.0, -1.0, 0.5, -1.5, 2.0, 1.0, -0.5, 0.75]]))
    return model


def _probability(model: nn.Module, image: np.ndarray, cls: int) -> float:
    with torch.no_grad():
        logits = model(torch.tensor(image, dtype=torch.float32)[None, None])
    return float(torch.softmax(logits, dim=1)[0, cls])


def test_road_imputes_removed_pixels_as_the_weighted_mean_of_their_neighbours():
    x = IMAGE
    d, g = 1 / 6, 1 / 12
    centre = d * (x[0, 1] + x[1, 0] + x[1, 2] + x[2, 1]) + g * (x[0, 0] + x[0, 2] + x[2, 0] + x[2, 2])
    corner = (d * (x[0, 1] + x[1, 0]) + g * x[1, 1]) / (2 * d + g)
    # two removed pixels, centre c and top middle m, coupled: c - d m = rhs_c and (3d + 2g) m - d c = rhs_m
    rhs_c = d * (x[1, 0] + x[1, 2] + x[2, 1]) + g * (x[0, 0] + x[0, 2] + x[2, 0] + x[2, 2])
    rhs_m = d * (x[0, 0] + x[0, 2]) + g * (x[1, 0] + x[1, 2])
    c, m = np.linalg.solve([[1.0, -d], [-d, 3 * d + 2 * g]], [rhs_c, rhs_m])
    model, image = _linear(), torch.tensor(x, dtype=torch.float32)[None, None]
    result = road(model, image, SALIENCY, target=1, fractions=(1 / 9, 2 / 9), noise=0.0)
    morf_1, morf_2, lerf_1 = x.copy(), x.copy(), x.copy()
    morf_1[1, 1] = centre
    morf_2[1, 1], morf_2[0, 1] = c, m
    lerf_1[0, 0] = corner
    expected_morf = [_probability(model, morf_1, 1), _probability(model, morf_2, 1)]
    torch.testing.assert_close(result["morf_curve"][0], torch.tensor(expected_morf), atol=1e-6, rtol=0)
    assert float(result["lerf_curve"][0, 0]) == pytest.approx(_probability(model, lerf_1, 1), abs=1e-6)
    assert float(result["morf"][0]) == pytest.approx(sum(expected_morf) / 2, abs=1e-6)


def test_imputation_noise_is_seeded_and_only_on_removed_pixels():
    image = torch.tensor(IMAGE, dtype=torch.float32)[None]
    removed = torch.zeros(3, 3, dtype=torch.bool)
    removed[1, 1] = removed[0, 1] = True
    clean = impute(image, removed, noise=0.0)
    first = impute(image, removed, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(first, impute(image, removed, 0.5, torch.Generator().manual_seed(3)))
    assert torch.equal(first[:, ~removed], image[:, ~removed])
    assert (first[:, removed] - clean[:, removed]).abs().min() > 0


def test_road_names_bad_fractions_and_a_fully_removed_image():
    model, image = _linear(), torch.tensor(IMAGE, dtype=torch.float32)[None, None]
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        road(model, image, SALIENCY, fractions=(0.5, 1.0))
    with pytest.raises(InputError, match="nothing to impute"):
        impute(image[0], torch.ones(3, 3, dtype=torch.bool))
