"""The shared test harness: valid targets for any zoo model, heads of every kind, prediction checks."""

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
