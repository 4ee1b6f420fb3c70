"""nbviz.features: equal to a hand-written hook and pooling, for every kind of image collection."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset, TensorDataset

import nbviz
from nbviz.cam import LayerError
from nbviz.cam.hygiene import count_hooks
from nbviz.lens import FeaturesError


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=7)
    net.train()  # features must run in eval mode and leave this flag as it was
    return net


@pytest.fixture(scope="module")
def pictures():
    """Five 40x48 uint8 RGB pictures and their float (C, H, W) tensors."""
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 256, (40, 48, 3), dtype=np.uint8) for _ in range(5)]
    tensors = torch.stack([torch.from_numpy(a).permute(2, 0, 1).float() / 255 for a in arrays])
    return arrays, tensors


def by_hand(model, x, layer_name=None):
    """The reference: a hook on layer4 (avg over H, W) or on fc's input, and the logits."""
    store = {}
    was_training = model.training
    model.eval()
    if layer_name is None:
        handle = model.fc.register_forward_pre_hook(lambda m, args: store.update(v=args[0]))
    else:
        handle = dict(model.named_modules())[layer_name].register_forward_hook(lambda m, a, out: store.update(v=out.mean((2, 3))))
    with torch.no_grad():
        logits = model(x)
    handle.remove()
    model.train(was_training)
    return store["v"].numpy(), logits.numpy()


class PairDataset(Dataset):
    def __init__(self, arrays, labels):
        self.arrays, self.labels = arrays, labels

    def __len__(self):
        return len(self.arrays)

    def __getitem__(self, i):
        return Image.fromarray(self.arrays[i]), self.labels[i]


def test_every_input_kind_gives_the_hand_computed_features(model, pictures, tmp_path):
    arrays, tensors = pictures
    expected_X, expected_logits = by_hand(model, tensors)
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    files = []
    for i, a in enumerate(arrays):
        path = (folder / "sub" if i % 2 else folder) / f"img{i}.png"
        Image.fromarray(a).save(path)
        files.append(path)
    kinds = {
        "arrays": arrays,
        "PIL images": [Image.fromarray(a) for a in arrays],
        "tensor batch": tensors,
        "file paths": [str(p) for p in files],
        "Dataset": PairDataset(arrays, [3, 1, 4, 1, 5]),
        "DataLoader": DataLoader(TensorDataset(tensors, torch.tensor([3, 1, 4, 1, 5])), batch_size=2),
    }
    for kind, images in kinds.items():
        result = nbviz.features(model, images, batch_size=2, progress=False)
        np.testing.assert_allclose(result.X, expected_X, rtol=1e-5, atol=1e-5, err_msg=kind)
        np.testing.assert_allclose(result.logits, expected_logits, rtol=1e-5, atol=1e-5, err_msg=kind)
        assert result.layer == "fc" and result.X.dtype == np.float32
        np.testing.assert_array_equal(result.predicted, expected_logits.argmax(1))
        np.testing.assert_allclose(result.probs.sum(1), 1.0, rtol=1e-6)
        if kind in ("Dataset", "DataLoader"):
            assert result.labels.tolist() == [3, 1, 4, 1, 5]
    # a folder is read recursively in sorted path order
    result = nbviz.features(model, folder, progress=False)
    order = sorted(range(5), key=lambda i: str(files[i]))
    np.testing.assert_allclose(result.X, expected_X[order], rtol=1e-5, atol=1e-5)
    assert result.paths == [files[i] for i in order]
    assert model.training and count_hooks(model) == 0


def test_a_named_layer_is_pooled_over_its_map(model, pictures):
    _, tensors = pictures
    expected, _ = by_hand(model, tensors, "layer4")
    result = nbviz.features(model, tensors, layer=model.layer4, progress=False)
    np.testing.assert_allclose(result.X, expected, rtol=1e-5, atol=1e-5)
    maxed = nbviz.features(model, tensors, layer="layer4", pool="max", progress=False)
    assert maxed.layer == "layer4" and np.all(maxed.X >= result.X - 1e-6)


def test_unreadable_files_are_skipped_with_a_warning(model, pictures, tmp_path):
    arrays, tensors = pictures
    for i, a in enumerate(arrays[:3]):
        Image.fromarray(a).save(tmp_path / f"{i}.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\): .*broken.png"):
        result = nbviz.features(model, tmp_path, progress=False)
    assert len(result) == 3 and result.indices.tolist() == [0, 1, 2]
    assert all(p.name != "broken.png" for p in result.paths)


def test_interrupt_leaves_the_model_untouched(model, pictures):
    arrays, _ = pictures
    calls = []

    def transform(image):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return torch.from_numpy(np.asarray(image)).permute(2, 0, 1).float() / 255

    with pytest.raises(KeyboardInterrupt):
        nbviz.features(model, arrays, transform=transform, batch_size=1, progress=False)
    assert model.training and all(m.training for m in model.modules()) and count_hooks(model) == 0


@pytest.mark.parametrize("images, message", [
    ("/nonexistent/folder", "is not a folder"),
    ([], "no images"),
    (42, "images must be a folder path"),
])
def test_bad_collections_are_named(model, images, message):
    with pytest.raises(FeaturesError, match=message):
        nbviz.features(model, images, progress=False)


def test_empty_folder_and_mixed_sizes_name_the_fix(model, tmp_path):
    with pytest.raises(FeaturesError, match="holds no image files"):
        nbviz.features(model, tmp_path, progress=False)
    mixed = [np.zeros((40, 48, 3), np.uint8), np.zeros((30, 30, 3), np.uint8)]
    with pytest.raises(FeaturesError, match=r"image 1 is 30x30.*pass transform="):
        nbviz.features(model, mixed, progress=False)


def test_layer_errors_are_the_cam_engines(model, pictures):
    _, tensors = pictures
    with pytest.raises(LayerError, match="did you mean 'layer4'"):
        nbviz.features(model, tensors, layer="layer44", progress=False)
    with pytest.raises(FeaturesError, match="pool must be one of avg, max"):
        nbviz.features(model, tensors, pool="mean", progress=False)
    no_head = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    with pytest.raises(FeaturesError, match="no nn.Linear classifier head"):
        nbviz.features(no_head, tensors, progress=False)
    assert count_hooks(model) == 0
