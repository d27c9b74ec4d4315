"""Reads model configs written by Keras 2 (`tf.keras`, `tf_keras`) into Keras 3.

Keras 2 gave every nested model (Sequential included) a built-in node 0, so layers
calling a nested model refer to its node 1; Keras 3 gives a Sequential no such node.
Keras 2 also listed a single input or output as a one-element list, which Keras 3
rebuilds as a list-valued tensor that layers such as Flatten reject.

Example:
    >>> config = {"class_name": "Functional", "config": {
    ...     "layers": [{"class_name": "Sequential", "config": {"name": "s"}, "inbound_nodes": []}],
    ...     "input_layers": [["x", 0, 0]], "output_layers": [["s", 1, 0]]}}
    >>> upgrade_model_config(config)["config"]["output_layers"]
    ['s', 0, 0]
"""

from __future__ import annotations

import copy


def _upgrade_functional(config: dict) -> None:
    sequential = {
        layer["config"]["name"] for layer in config["layers"] if layer["class_name"] == "Sequential"
    }

    def shift(reference):
        if reference[0] in sequential and reference[1] > 0:
            reference[1] -= 1

    for layer in config["layers"]:
        for node in layer.get("inbound_nodes", []):
            for reference in node:
                shift(reference)
    for key in ("input_layers", "output_layers"):
        references = config[key]
        for reference in references:
            shift(reference)
        if len(references) == 1:
            config[key] = references[0]


def _walk(node) -> None:
    if isinstance(node, dict):
        inner = node.get("config")
        if node.get("class_name") in ("Functional", "Model") and isinstance(inner, dict) and "layers" in inner:
            _upgrade_functional(inner)
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def upgrade_model_config(config: dict) -> dict:
    """Returns a copy of a Keras 2 model config that Keras 3 rebuilds faithfully."""
    config = copy.deepcopy(config)
    _walk(config)
    return config


def is_keras2_version(version) -> bool:
    """True for the `keras_version` attribute of a file written by Keras 2."""
    if isinstance(version, bytes):
        version = version.decode()
    return str(version or "").startswith("2.")


def save_h5(model, path) -> None:
    """Writes `model` to a Keras `.h5` file: what `model.save` runs for `.h5`, without its warning
    that `.h5` is legacy (the user chose it)."""
    from keras.src.legacy.saving import legacy_h5_format

    legacy_h5_format.save_model_to_hdf5(model, str(path))
