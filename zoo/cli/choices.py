"""Choices of the command's options, written out so that `zoo --help` does not import Keras.

A test checks each against the library's own list.

Example:
    >>> "focal" in TRAINING_LOSSES, "flip" in TTA_MODES
    (True, True)
"""

# zoo.training.losses.LOSSES
TRAINING_LOSSES = ("bce", "weighted_bce", "focal", "asymmetric")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# zoo.evaluation.tta.TTA_MODES
TTA_MODES = ("flip", "flip+crops")
# zoo.data.mixing.MIX_MODES
MIX_MODES = ("mixup", "cutmix")
THRESHOLD_METRICS = ("f1", "exact_match", "hamming")
ON_ERROR = ("raise", "skip")
