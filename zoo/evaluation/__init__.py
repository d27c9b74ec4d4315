"""Evaluation: predictions, metrics, thresholds, plots and explanations of a trained model.

- `predictions`: `zoo.Predictions`, probabilities and targets per head from one pass;
- `report`: per-head metrics (`zoo.evaluate`, `summary_table`);
- `thresholds`: per-class decision thresholds; `tta`: test-time augmentation;
- `predict`: `Predictor`, predictions for image files and folders;
- `plots`: history, thresholds, label counts, confusion matrices, prediction sheets;
- `explain`: Grad-CAM per head and class (`zoo.explain`).

Example:
    >>> import zoo.evaluation
    >>> zoo.evaluation.predict.NO_LABEL
    '(none)'
"""

from zoo._lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
