"""Starting layouts: PCA (openTSNE's default) or seeded Gaussian noise, both scaled to std 1e-4."""
from __future__ import annotations

import torch

#: Standard deviation of the first embedding coordinate at the start (openTSNE's choice).
INITIAL_STD = 1e-4


def pca_initialisation(X: torch.Tensor, n_components: int, seed: int) -> torch.Tensor:
    """Y0 = Xc V_k / std(Xc v_1) * 1e-4: the top principal components, scaled to std 1e-4.

    Xc is X centred; V_k are the top eigenvectors of the covariance Xc^T Xc (or of the Gram
    matrix Xc Xc^T when D > N), computed in float64. Each component's sign is fixed so that its
    largest-magnitude coordinate is positive, making the result deterministic. When the data
    have fewer than n_components directions of variance (e.g. all rows equal) the missing
    ones come from seeded noise.
    """
    n, dim = X.shape
    Xc = (X - X.mean(dim=0)).to(torch.float64)
    if dim <= n:
        values, vectors = torch.linalg.eigh(Xc.T @ Xc)
        projection = Xc @ vectors.flip(1)[:, :n_components]
    else:
        values, vectors = torch.linalg.eigh(Xc @ Xc.T)
        projection = vectors.flip(1)[:, :n_components] * values.flip(0)[:n_components].clamp_min(0).sqrt()
    if projection.shape[1] < n_components:
        projection = torch.cat([projection, torch.zeros((n, n_components - projection.shape[1]), dtype=torch.float64, device=X.device)], 1)
    signs = torch.sign(projection.gather(0, projection.abs().argmax(dim=0, keepdim=True)))
    projection = projection * torch.where(signs == 0, torch.ones_like(signs), signs)
    scale = projection.std(dim=0, unbiased=False) if n > 1 else torch.zeros(n_components, dtype=torch.float64)
    degenerate = scale <= 1e-12 * max(1.0, float(Xc.abs().max()) if Xc.numel() else 1.0)
    if bool(degenerate.any()):
        noise = random_initialisation(n, n_components, seed, X.device).to(torch.float64)
        projection[:, degenerate] = noise[:, degenerate] / INITIAL_STD
        scale = projection.std(dim=0, unbiased=False) if n > 1 else torch.ones(n_components, dtype=torch.float64)
    first = float(scale[0]) if float(scale[0]) > 0 else 1.0
    return (projection / first * INITIAL_STD).to(torch.float32)


def random_initialisation(n: int, n_components: int, seed: int, device: torch.device) -> torch.Tensor:
    """Y0 ~ N(0, (1e-4)^2) drawn from a CPU generator seeded with `seed` (same on every device)."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    return (torch.randn((n, n_components), generator=generator) * INITIAL_STD).to(device)
