"""Grad-CAM: heatmaps per head and class, for shared-trunk and branch models."""

import keras
import numpy as np
import pytest

import zoo
from zoo.models.builders import build_branches, build_shared_trunk
from zoo.evaluation.explain import backbone_layer, classes_to_explain, overlay, write_overlays

SIZE = 96
SIDE = SIZE // 4


def _region_images(count, seed):
    """Gray noise; a red square somewhere in the left half ("red"), a blue one in the right half ("blue")."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(90, 130, (count, SIZE, SIZE, 3)).astype("float32")
    labels = rng.integers(0, 2, (count, 2)).astype("float32")
    for image, (red, blue) in zip(images, labels):
        for present, x0, color in ((red, 2, (250, 20, 20)), (blue, SIZE // 2 + 2, (20, 20, 250))):
            if present:
                x = x0 + rng.integers(0, SIZE // 2 - SIDE - 2)
                y = rng.integers(2, SIZE - SIDE - 2)
                image[y:y + SIDE, x:x + SIDE] = color
    return images, labels


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(1)
    heads = [zoo.Head("tags", ["red", "blue"], kind="multilabel")]
    model = build_shared_trunk("small_cnn", heads, (SIZE, SIZE, 3))
    zoo.compile_model(model, learning_rate=3e-3)
    images, labels = _region_images(320, seed=0)
    model.fit(images, {"tags": labels}, batch_size=32, epochs=10, verbose=0)
    return model


def test_heatmap_mass_lies_in_the_region_that_decides_the_class(trained):
    images, labels = _region_images(64, seed=1)
    probabilities = np.asarray(trained(images, training=False)["tags"])
    assert ((probabilities > 0.5) == labels.astype(bool)).mean() > 0.9  # the model learned the task
    for j, (class_name, half) in enumerate((("red", slice(0, SIZE // 2)), ("blue", slice(SIZE // 2, SIZE)))):
        chosen = images[labels[:, j] == 1]
        maps = zoo.explain(trained, chosen, head="tags", class_name=class_name)
        assert maps.shape == (len(chosen), SIZE, SIZE)
        assert maps.min() >= 0.0 and maps.max() <= 1.0
        share = maps[:, :, half].sum(axis=(1, 2)) / np.maximum(maps.sum(axis=(1, 2)), 1e-12)
        assert np.median(share) > 0.6, (class_name, share)
        assert (share > 0.6).mean() > 0.75, (class_name, share)


def test_gradcam_equals_the_hand_computed_weighted_feature_map(trained):
    import tensorflow as tf

    images = np.random.default_rng(3).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    backbone = backbone_layer(trained, "tags")
    features_model = keras.Model(trained.inputs, [backbone._inbound_nodes[-1].output_tensors[0],
                                                  trained.get_layer("tags_logits").output])
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        features, logits = features_model(x)
        score = tf.reduce_sum(logits[:, 1])
    grads = tape.gradient(score, features).numpy()
    cam = np.maximum((features.numpy() * grads.mean(axis=(1, 2), keepdims=True)).sum(-1), 0)[..., None]
    cam = tf.image.resize(cam, (SIZE, SIZE)).numpy()[..., 0]
    expected = cam / np.where(cam.max(axis=(1, 2), keepdims=True) > 0, cam.max(axis=(1, 2), keepdims=True), 1)
    np.testing.assert_allclose(zoo.explain(trained, images, head="tags", class_name="blue"), expected, atol=1e-5)


def test_branch_models_use_the_branch_of_the_head():
    heads = [zoo.Head("color", ["black", "red"], kind="multiclass"), zoo.Head("flag", ["no", "yes"], kind="binary")]
    model = build_branches({"color": "small_cnn", "flag": "compact_resnet"}, heads, (SIZE, SIZE, 3))
    assert backbone_layer(model, "color").name == "color_small_cnn"
    assert backbone_layer(model, "flag").name == "flag_compact_resnet"
    images = np.random.default_rng(0).uniform(0, 255, (3, SIZE, SIZE, 3)).astype("float32")
    for head, class_name in (("color", "red"), ("flag", "yes"), ("flag", "no"), ("color", None)):
        maps = zoo.explain(model, images, head=head, class_name=class_name)
        assert maps.shape == (3, SIZE, SIZE) and maps.min() >= 0 and maps.max() <= 1


def test_binary_negative_class_explains_the_negated_logit(trained):
    heads = [zoo.Head("flag", ["no", "yes"], kind="binary")]
    model = build_shared_trunk("compact_resnet", heads, (SIZE, SIZE, 3))
    images = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype("float32")
    yes = zoo.explain(model, images, head="flag", class_name="yes")
    no = zoo.explain(model, images, head="flag", class_name="no")
    assert not np.allclose(yes, no)


def test_unknown_head_or_class_lists_the_valid_ones(trained):
    images = np.zeros((1, SIZE, SIZE, 3), "float32")
    with pytest.raises(ValueError, match=r"\['tags'\]. Received: head='x'"):
        zoo.explain(trained, images, head="x", class_name="red")
    with pytest.raises(ValueError, match=r"\['red', 'blue'\].*Received: class_name='green'"):
        zoo.explain(trained, images, head="tags", class_name="green")
    with pytest.raises(ValueError, match="Received: score='x'"):
        zoo.explain(trained, images, head="tags", class_name="red", score="x")
    with pytest.raises(ValueError, match=r"Received: shape \(1, 32, 32, 3\)"):
        zoo.explain(trained, np.zeros((1, 32, 32, 3)), head="tags")


def test_classes_to_explain_and_overlays(trained, tmp_path):
    multiclass = zoo.Head("scene", ["day", "night"], kind="multiclass")
    binary = zoo.Head("flag", ["no", "yes"], kind="binary")
    tags = zoo.Head("tags", ["a", "b", "c"], threshold=[0.5, 0.5, 0.9])
    assert classes_to_explain(multiclass, [0.3, 0.7]) == ["night"]
    assert classes_to_explain(binary, [0.2]) == ["no"] and classes_to_explain(binary, [0.8]) == ["yes"]
    assert classes_to_explain(tags, [0.6, 0.1, 0.8]) == ["a"]
    assert classes_to_explain(tags, [0.1, 0.2, 0.3]) == ["c"]
    np.testing.assert_array_equal(overlay(np.full((2, 2, 3), 100.0), np.zeros((2, 2)), alpha=0.5)[0, 0],
                                  [50, 50, 114])  # jet(0) is (0, 0, 0.5): 50 + 0.5 * 127.5
    images = np.zeros((2, SIZE, SIZE, 3), "float32")
    written = write_overlays(trained, images, ["one", "two"], {"tags": np.array([[0.9, 0.8], [0.1, 0.2]])}, tmp_path)
    assert sorted(p.name for p in written) == ["one_tags_blue.png", "one_tags_red.png", "two_tags_blue.png"]
