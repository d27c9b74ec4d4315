"""Every registered architecture: builds tiny, trains a step, survives .h5 and .keras."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import (assert_same_predictions, heads_for, random_targets, run_boundaries_test,
                           run_mixed_precision_test, run_model_test)

# EfficientNet-Lite1 lies between Lite0 and Lite2, built by the same code with a depth between theirs
# and Lite0's width (test_efficientnet_lite.py checks its layers and weights): training it too adds only time.
TRAINED = [name for name in zoo.list_models() if name != "multilabel_efficientnet_lite1"]


@pytest.mark.parametrize("name", TRAINED)
def test_model_trains_and_round_trips(name, images, tmp_path):
    run_model_test(name, images, tmp_path)


@pytest.mark.parametrize("name", TRAINED)
def test_model_computes_in_mixed_precision(name, images):
    run_mixed_precision_test(name, images)


@pytest.mark.parametrize("name", zoo.list_models())
def test_model_unfreezes_from_every_boundary(name):
    run_boundaries_test(name)


def test_compiled_metrics_per_kind(images):
    model = zoo.build("multilabel_small", heads=heads_for("multilabel_small"), input_shape=(32, 32, 3))
    logs = model.train_on_batch(images, random_targets(model, 4), return_dict=True)
    assert {"tags_binary_accuracy", "tags_exact_match", "tags_f1", "scene_accuracy",
            "people_accuracy", "people_auc"} <= set(logs)


def test_loss_weights_come_from_heads():
    heads = [zoo.Head("a", ["x", "y"], loss_weight=0.1), zoo.Head("b", ["x", "y"], loss_weight=1.0)]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3))
    images = np.zeros((2, 32, 32, 3), "float32")
    targets = {"a": np.ones((2, 2), "float32"), "b": np.ones((2, 2), "float32")}
    logs = model.test_on_batch(images, targets, return_dict=True)
    np.testing.assert_allclose(logs["loss"], 0.1 * logs["a_loss"] + logs["b_loss"], rtol=1e-4)


def _batchnorm_state(model):
    return {
        v.path: v.numpy().copy()
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
        for v in layer.weights
    }


def test_frozen_backbone_keeps_batchnorm_statistics(images):
    model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3),
                      weights=None, freeze_backbone=True)
    before = _batchnorm_state(model)
    assert before, "compact_resnet has BatchNorm layers"
    kernels = [w.numpy().copy() for w in model.get_layer("compact_resnet").weights]
    model.train_on_batch(images * 3.0, {"tags": np.ones((4, 2), "float32")})
    after = _batchnorm_state(model)
    for path, value in before.items():
        np.testing.assert_array_equal(value, after[path], err_msg=path)
    for old, new in zip(kernels, model.get_layer("compact_resnet").weights):
        np.testing.assert_array_equal(old, new.numpy())
    assert model.get_layer("tags_logits").trainable


def test_color_type_is_the_classic_two_branch_network():
    model = zoo.build("color_type", heads=heads_for("color_type"), input_shape=(32, 32, 3),
                      weights=None, freeze_backbone=True)
    assert model.get_layer("color_small_cnn").trainable
    assert not model.get_layer("type_vgg16").trainable
    assert model.get_layer("type_neck_dense").units == 256
    assert isinstance(model.get_layer("type_pool"), keras.layers.Flatten)
    assert zoo.model_info(model)["backbone"] == {"color": "small_cnn", "type": "vgg16"}
    assert zoo.model_info(model)["heads"]["color"]["kind"] == "multiclass"


def test_color_type_needs_two_heads():
    with pytest.raises(ValueError, match="exactly two heads"):
        zoo.build("color_type", heads={"color": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)


def test_random_backbone_is_not_frozen_by_default():
    model = zoo.build("multilabel_vgg16", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3), weights=None)
    assert model.get_layer("vgg16").trainable


def test_build_loads_a_whole_model_weights_file(tmp_path, images):
    heads = {"tags": ["a", "b", "c"]}
    source = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None)
    source.train_on_batch(images, {"tags": np.ones((4, 3), "float32")})
    path = tmp_path / "tags.weights.h5"
    source.save_weights(path)
    loaded = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=str(path))
    assert_same_predictions(source, loaded, images)
    assert not loaded.get_layer("compact_resnet").trainable  # pretrained: frozen by default
    card = zoo.models.card.card_of(loaded)
    assert card.pretrained == {"compact_resnet": zoo.models.card.Pretrained("file", str(path))}
    assert card.architecture == "multilabel_small"


def test_build_rejects_imagenet_for_scratch_models_and_missing_files():
    with pytest.raises(ValueError, match="trains from scratch"):
        zoo.build("multilabel_small", heads={"t": ["a", "b"]}, input_shape=(32, 32, 3), weights="imagenet")
    with pytest.raises(FileNotFoundError, match="Received: weights='nope.h5'"):
        zoo.build("multilabel_small", heads={"t": ["a", "b"]}, input_shape=(32, 32, 3), weights="nope.h5")


def test_shared_trunk_and_branches_builders(images):
    heads = [zoo.Head("color", ["r", "g"], kind="multiclass"), zoo.Head("tags", ["a", "b", "c"])]
    trunk = zoo.build_shared_trunk("small_cnn", heads, (32, 32, 3), pooling="max", neck_units=16)
    assert len([l for l in trunk.layers if isinstance(l, keras.Model)]) == 1
    branches = zoo.build_branches({"color": "small_cnn", "tags": "compact_resnet"}, heads, (32, 32, 3),
                                  frozen=("tags",))
    assert {"color_small_cnn", "tags_compact_resnet"} <= {l.name for l in branches.layers}
    assert not branches.get_layer("tags_compact_resnet").trainable
    with pytest.raises(ValueError, match="no entry for head 'tags'"):
        zoo.build_branches({"color": "small_cnn"}, heads, (32, 32, 3))


def test_multi_level_trunk_pools_each_stage_end_beside_the_top():
    from zoo.models.backbones import get_backbone_spec
    from zoo.models.builders import build_shared_trunk

    model = build_shared_trunk("efficientnet_lite0", [zoo.Head("tags", ["a", "b"])], (32, 32, 3), multi_level=True)
    trunk = model.get_layer("efficientnet_lite0")
    levels = get_backbone_spec("efficientnet_lite0").levels
    widths = [trunk.output[0].shape[-1], *(trunk.get_layer(level).output.shape[-1] for level in levels)]
    assert model.get_layer("pool").output.shape == (None, sum(widths))
    with pytest.raises(ValueError, match=r"'small_cnn' lists no stage ends.*Received: multi_level=True"):
        build_shared_trunk("small_cnn", [zoo.Head("tags", ["a", "b"])], (32, 32, 3), multi_level=True)
    with pytest.raises(ValueError, match=r"Received: pooling='flatten'"):
        build_shared_trunk("efficientnet_lite0", [zoo.Head("tags", ["a", "b"])], (32, 32, 3), multi_level=True,
                           pooling="flatten")
