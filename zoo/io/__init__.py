"""Files: saving and loading models with their labels, weights, export and model cards.

- `saving`: `.keras` and `.h5` files written atomically (`zoo.save_model`, `zoo.load_model`);
- `weights`: pretrained weight files, a local weights folder and hash checks;
- `export`: SavedModel, ONNX and LiteRT files and their runtimes (`zoo.export`);
- `model_card`: the human-readable card written beside a model.

Example:
    >>> import zoo.io
    >>> zoo.io.saving.__name__
    'zoo.io.saving'
"""

from zoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
