"""Files and the terminal: models saved with their labels, exports, model cards, progress.

- `saving`: `.keras` and `.h5` files written atomically (`zoo.save_model`, `zoo.load_model`);
- `export`: SavedModel, ONNX and LiteRT files and their runtimes (`zoo.export`);
- `model_card`: the human-readable card written beside a model;
- `progress`, `progress_callbacks`: elapsed time and time left, on a terminal or in a log.

Example:
    >>> import zoo.io
    >>> zoo.io.saving.__name__
    'zoo.io.saving'
"""

from zoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
