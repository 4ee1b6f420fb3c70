"""The embedded offline defaults load and are right (weights, preprocessing, class names)."""
import numpy as np
import pytest
import torch

from nbviz import data

CAT_CLASSES = {"Egyptian cat", "tabby", "tiger cat"}


@pytest.fixture(scope="module")
def pretrained():
    return data.load_pretrained()


def test_pretrained_model_sees_a_cat_in_chelsea(pretrained):
    model, transform, names = pretrained
    assert not model.training
    x = transform(data.sample_image("chelsea"))
    assert x.shape == (3, 224, 224)
    with torch.no_grad():
        probabilities = model(x[None]).softmax(1)[0]
    cat_indices = [names.index(name) for name in CAT_CLASSES]
    assert names[int(probabilities.argmax())] in CAT_CLASSES
    assert float(probabilities[cat_indices].sum()) > 0.5


def test_pretrained_model_knows_espresso(pretrained):
    model, transform, names = pretrained
    with torch.no_grad():
        probabilities = model(transform(data.sample_image("coffee"))[None]).softmax(1)[0]
    assert names[int(probabilities.argmax())] == "espresso"
    assert float(probabilities.max()) > 0.9


def test_class_names_are_imagenet_order(pretrained):
    names = pretrained[2]
    assert len(names) == 1000
    assert names[0] == "tench" and names[281] == "tabby" and names[967] == "espresso"


def test_architecture_pads_like_tensorflow_same_for_any_size(pretrained):
    model = pretrained[0]
    with torch.no_grad():
        for size in (224, 193, 320):
            features = model.head(model.blocks(model.stem(torch.zeros(1, 3, size, size))))
            assert features.shape[-1] == -(-size // 32)  # ceil(size / 32)


def test_sample_images_are_rgb_photos():
    for name in data.SAMPLE_IMAGES:
        image = data.sample_image(name)
        assert image.mode == "RGB" and min(image.size) >= 300
    with pytest.raises(ValueError, match="chelsea"):
        data.sample_image("no-such-photo")


def test_digits():
    X, y = data.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
