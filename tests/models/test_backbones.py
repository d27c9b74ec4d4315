import keras
import numpy as np
import pytest

import zoo
from zoo.models.backbones import build_backbone, get_backbone_spec
from zoo.models.layers import ImagePreprocessing


@pytest.mark.parametrize("name", [n for n in zoo.list_backbones() if n != "efficientnet_lite1"])
def test_backbone_builds_trains_and_names_its_boundaries(name, images):
    """Every backbone but efficientnet_lite1, which lies between Lite0 and Lite2 (`test_efficientnet_lite.py`)."""
    backbone = build_backbone(name, (32, 32, 3), weights=None)
    features = backbone(images)
    assert len(features.shape) == 4 and features.shape[0] == 4
    layer_names = {layer.name for layer in backbone.layers}
    spec = get_backbone_spec(name)
    assert set(spec.boundaries.values()) <= layer_names
    preprocessing = [l for l in backbone.layers if isinstance(l, ImagePreprocessing)]
    assert [l.mode for l in preprocessing] == [spec.preprocessing]

    # One training step through the backbone changes its first trainable kernel.
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(2, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(backbone(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
    kernel = next(w for w in backbone.trainable_weights if "kernel" in w.path)
    before = kernel.numpy().copy()
    model.train_on_batch(images, np.ones((4, 2), "float32"))
    assert not np.allclose(before, kernel.numpy())


@pytest.mark.parametrize(
    "mode, reference",
    [
        ("caffe", lambda x: keras.applications.vgg16.preprocess_input(x.copy())),
        ("tf", lambda x: keras.applications.mobilenet_v2.preprocess_input(x.copy())),
        ("torch", lambda x: keras.applications.imagenet_utils.preprocess_input(x.copy(), mode="torch")),
        ("lite", lambda x: (x - 127.0) / 128.0),  # EfficientNet-Lite's TensorFlow Lite reference
        ("unit", lambda x: x / 255.0),
        ("none", lambda x: x),
    ],
)
def test_preprocessing_matches_keras_preprocess_input(mode, reference, images):
    ours = keras.ops.convert_to_numpy(ImagePreprocessing(mode)(images))
    np.testing.assert_allclose(ours, reference(images), rtol=1e-5, atol=1e-4)


def test_bad_preprocessing_mode_is_named():
    with pytest.raises(ValueError, match="Received: mode='bgr'"):
        ImagePreprocessing("bgr")


def test_bad_input_shape_is_named():
    with pytest.raises(ValueError, match=r"Received: input_shape=\(32, 32\)"):
        build_backbone("small_cnn", (32, 32))


def test_scratch_backbone_refuses_imagenet():
    with pytest.raises(ValueError, match="has no 'imagenet' weights.*Received: weights='imagenet'"):
        build_backbone("compact_resnet", (32, 32, 3), weights="imagenet")


def test_backbone_loads_a_weights_file(tmp_path, images):
    source = build_backbone("small_cnn", (32, 32, 3))
    for variable in source.weights:
        variable.assign(np.random.default_rng(1).normal(size=variable.shape).astype("float32"))
    path = tmp_path / "small.weights.h5"
    source.save_weights(path)
    loaded = build_backbone("small_cnn", (32, 32, 3), weights=str(path))
    np.testing.assert_allclose(loaded.predict(images, verbose=0), source.predict(images, verbose=0), atol=1e-5)
