"""The shared test harness: valid targets for any zoo model, heads of every kind, prediction checks."""

from pathlib import Path

import numpy as np

import zoo


def random_targets(model, batch_size, seed=0):
    """Valid random targets for every head of a zoo model."""
    rng = np.random.default_rng(seed)
    targets = {}
    for name, head in zoo.model_info(model)["heads"].items():
        units = 1 if head["kind"] == "binary" else len(head["classes"])
        if head["kind"] == "multiclass":
            targets[name] = np.eye(units, dtype="float32")[rng.integers(0, units, batch_size)]
        else:
            targets[name] = rng.integers(0, 2, (batch_size, units)).astype("float32")
    return targets


def assert_same_predictions(first, second, images, atol=1e-6):
    """Both models give the same outputs, head by head."""
    a = first(images, training=False)
    b = second(images, training=False)
    if not isinstance(a, dict):
        a, b = {"output": a}, {"output": b}
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_allclose(np.asarray(a[name]), np.asarray(b[name]), atol=atol, err_msg=name)


def heads_for(architecture):
    """Small heads of the architecture's natural kind."""
    if architecture == "color_type":
        return {"color": ["black", "blue", "red"], "type": ["dress", "jeans", "shirt"]}
    return [
        zoo.Head("tags", ["sea", "sunset", "trees"], kind="multilabel"),
        zoo.Head("scene", ["day", "night"], kind="multiclass", hidden_units=8, dropout=0.1),
        zoo.Head("people", ["people"], kind="binary"),
    ]


def run_model_test(name, images, folder, input_shape=(32, 32, 3)):
    """Builds architecture `name` tiny and checks what every zoo model must do.

    It trains a step, predicts one output per head with the right shape (multiclass rows summing
    to 1), carries its card, survives `.h5` and `.keras` with the same predictions, card and
    per-head losses, and trains again after loading. Returns the model.
    """
    model = zoo.build(name, heads=heads_for(name), input_shape=input_shape, weights=None)
    model.run_eagerly = True  # tracing large train steps several times would dominate the suite
    card = zoo.models.card.card_of(model)
    assert sorted(model.output_names) == sorted(card.head_names)
    assert list(card.input_shape) == list(input_shape) and card.architecture == name

    logs = model.train_on_batch(images, random_targets(model, len(images)), return_dict=True)
    assert np.isfinite(logs["loss"])
    outputs = {k: np.asarray(v) for k, v in model(images).items()}
    for head in card.heads:
        assert outputs[head.name].shape == (len(images), 1 if head.kind == "binary" else len(head.classes))
        if head.kind == "multiclass":
            np.testing.assert_allclose(outputs[head.name].sum(axis=1), 1.0, atol=1e-5)

    for suffix in (".h5", ".keras"):
        path = Path(folder) / f"{name}{suffix}"
        zoo.save_model(model, path)
        loaded = zoo.load_model(path)
        assert_same_predictions(model, loaded, images)
        assert zoo.models.card.card_of(loaded) == card
        loaded.run_eagerly = True
        logs = loaded.train_on_batch(images, random_targets(loaded, len(images)), return_dict=True)
        assert {f"{h}_loss" for h in card.head_names} <= set(logs)
    return model


def run_mixed_precision_test(name, images, policy="mixed_bfloat16", input_shape=(32, 32, 3)):
    """Architecture `name` built under `policy` computes in half precision and outputs float32."""
    import keras

    with zoo.training.scale.mixed_precision(policy):
        model = zoo.build(name, heads=heads_for(name), input_shape=input_shape, weights=None)
    half = policy.split("_")[1]
    assert any(layer.compute_dtype == half for layer in model._flatten_layers())
    outputs = model(images)
    assert {keras.backend.standardize_dtype(output.dtype) for output in outputs.values()} == {"float32"}
    assert all(np.isfinite(np.asarray(output)).all() for output in outputs.values())


def run_boundaries_test(name, input_shape=(32, 32, 3)):
    """Each boundary of each branch of `name` unfreezes its first layer and every later one but
    BatchNormalization, and no earlier layer."""
    import keras

    from zoo.models.backbones import get_backbone_spec
    from zoo.training.feature_cache import backbones_of

    model = zoo.build(name, heads=heads_for(name), input_shape=input_shape, weights=None)
    for backbone, backbone_name in backbones_of(model).items():
        names = [layer.name for layer in backbone.layers]
        for boundary, first in get_backbone_spec(backbone_name).boundaries.items():
            zoo.freeze(model)
            zoo.unfreeze_from(model, boundary, branch=backbone.name)
            start = names.index(first)
            expected = [i >= start and not isinstance(layer, keras.layers.BatchNormalization)
                        for i, layer in enumerate(backbone.layers)]
            assert [layer.trainable for layer in backbone.layers] == expected, (backbone_name, boundary)


# The start of a script run on Keras' JAX backend that fails on any import of TensorFlow.
JAX_WITHOUT_TENSORFLOW = """import importlib.abc, json, os, sys
os.environ["KERAS_BACKEND"] = "jax"


class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError(f"TensorFlow imported: {name}")


sys.meta_path.insert(0, NoTensorFlow())
"""
