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

# The names of the former `zoo.evaluation` module, zoo.evaluation.report's now, still importable from here.
__getattr__ = submodule_getattr(__name__, "zoo.evaluation.report", (
    "evaluate",
    "multiclass_head_report",
    "predict_with_targets",
    "predictions_or_predict",
    "sigmoid_head_report",
    "summary_table",
))
