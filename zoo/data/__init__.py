"""Data: label sources, target encoding, the tf.data pipeline, splits and weights.

Example:
    >>> import zoo
    >>> df = zoo.data.from_csv("labels.csv", label_column="labels", head="objects")  # doctest: +SKIP
    >>> heads = zoo.data.heads_from_dataframe(df, {"objects": "multilabel"})  # doctest: +SKIP
    >>> df = zoo.data.validate(df, heads, directory="images").rows  # doctest: +SKIP
    >>> dataset = zoo.data.make_dataset(df, heads, directory="images", image_size=(96, 96))  # doctest: +SKIP
    >>> dataset.skipped, len(dataset.files)  # doctest: +SKIP
    ((), 120)
"""

from zoo.data.augment import DEFAULT_AUGMENTATION, Augmentation, build_augmenter
from zoo.data.compat import SplitOutputs, flow_from_dataframe, split_outputs
from zoo.data.dataset import ImageDataset, Replay
from zoo.data.encoding import Encoded, decode_predictions, encode, heads_from_dataframe, learn_classes
from zoo.data.errors import DataError, DataWarning
from zoo.data.image_checks import ImageCheck, check_images
from zoo.data.images import decode_rgb
from zoo.data.imbalance import class_weights, positive_weights, sample_weights
from zoo.data.mixing import MIX_MODES, Mixing, with_mixing
from zoo.data.pipeline import images_dataset, make_dataset, resize_image
from zoo.data.label_format import MISSING_VALUES, LabelFormat, detect_label_format, is_missing
from zoo.data.sources import from_folders, from_onehot_csv, from_voc
from zoo.data.tables import FILE_COLUMN, add_extension, from_csv, from_dataframe, resolve_paths
from zoo.data.splits import RareClassReport, drop_rare_classes, label_counts, rare_classes, train_validation_split
from zoo.data.synthetic import garment_image, make_garments
from zoo.data.validation import (
    RowCheck,
    Validation,
    check_rows,
    find_duplicates,
    head_kinds,
    merge_duplicates,
    validate,
)

__all__ = [
    "Augmentation",
    "DEFAULT_AUGMENTATION",
    "DataError",
    "DataWarning",
    "Encoded",
    "FILE_COLUMN",
    "ImageCheck",
    "ImageDataset",
    "LabelFormat",
    "MISSING_VALUES",
    "RareClassReport",
    "Replay",
    "RowCheck",
    "SplitOutputs",
    "Validation",
    "add_extension",
    "build_augmenter",
    "MIX_MODES",
    "Mixing",
    "with_mixing",
    "check_images",
    "check_rows",
    "class_weights",
    "decode_predictions",
    "decode_rgb",
    "detect_label_format",
    "drop_rare_classes",
    "encode",
    "find_duplicates",
    "flow_from_dataframe",
    "from_csv",
    "from_dataframe",
    "from_folders",
    "from_onehot_csv",
    "from_voc",
    "garment_image",
    "head_kinds",
    "heads_from_dataframe",
    "images_dataset",
    "is_missing",
    "label_counts",
    "learn_classes",
    "make_dataset",
    "make_garments",
    "merge_duplicates",
    "positive_weights",
    "rare_classes",
    "resize_image",
    "resolve_paths",
    "sample_weights",
    "split_outputs",
    "train_validation_split",
    "validate",
]
