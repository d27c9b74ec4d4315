"""Likely label mistakes: out-of-sample probabilities for every labelled image, and the images
whose given labels disagree most with them.

Each head's probabilities are cross-fitted: the images are cut into K stratified folds and
every fold is predicted by a model that never saw it. With a pretrained backbone the model is a
logistic regression (scikit-learn) over the backbone's pooled features, computed once for all
folds and heads; without one, K short training runs of a small network from scratch. The
ranking is cleanlab's confident learning: `cleanlab.rank.get_label_quality_scores` scores every
given label (low = likely wrong) and `cleanlab.filter.find_label_issues` flags the likely
mistakes, with their multi-label versions for multilabel heads.

Example:
    >>> import numpy as np, zoo
    >>> rng = np.random.default_rng(0)
    >>> features = np.repeat(np.eye(3), 20, axis=0) + rng.normal(0, 0.2, (60, 3))
    >>> given = np.repeat(np.eye(3), 20, axis=0)
    >>> given[[0, 25]] = given[[45, 5]]  # two labels swapped with another class's
    >>> head = zoo.Head("shape", ["circle", "square", "star"], kind="multiclass")
    >>> probabilities = cross_fitted_probabilities(features, given, head, folds=5)
    >>> table = rank_label_issues([f"{i}.png" for i in range(60)], head, given, probabilities)
    >>> sorted(zip(table.file[:2], table.given[:2], table.suggested[:2]))
    [('0.png', 'star', 'circle'), ('25.png', 'circle', 'square')]
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from zoo.models.heads import Head

NO_LABEL = "(none)"
COLUMNS = ("file", "head", "given", "suggested", "score", "rank")
ISSUES_FILE, SHEET_FILE, FEATURES_FILE = "label_issues.csv", "label_issues.png", "audit_features.npz"
# The backbones whose ImageNet features the audit uses, in order of preference.
FEATURE_BACKBONES = ("efficientnet_lite0", "mobilenet_v2", "efficientnet_b0", "resnet50", "vgg16")


def _joined(names) -> str:
    return ", ".join(names) or NO_LABEL


def class_indices(targets: np.ndarray, head: Head):
    """The given labels as cleanlab reads them: one class index per image (multiclass and binary
    heads, where 1 is the positive class), or a list of class indices per image (multilabel).

    Example:
        >>> class_indices(np.array([[0, 1, 1], [1, 0, 0]]), Head("tags", ["a", "b", "c"]))
        [[1, 2], [0]]
        >>> class_indices(np.array([[1.0], [0.0]]), Head("spam", ["spam"], kind="binary")).tolist()
        [1, 0]
    """
    targets = np.asarray(targets)
    if head.kind == "multilabel":
        return [np.flatnonzero(row > 0.5).tolist() for row in targets]
    if head.kind == "binary":
        return (targets[:, 0] > 0.5).astype(int)
    return targets.argmax(axis=1)


def _binary_names(head: Head) -> list[str]:
    return [head.classes[0] if len(head.classes) == 2 else NO_LABEL, head.classes[-1]]


def fold_ids(targets: np.ndarray, kind: str, folds: int = 5, seed: int = 0) -> np.ndarray:
    """The fold (0..folds-1) of every image: stratified by class for a multiclass or binary head,
    by iterative stratification (`iterstrat`) for multilabel targets or several heads' targets
    side by side.

    Example:
        >>> ids = fold_ids(np.repeat(np.eye(2), 5, axis=0), "multiclass", folds=5)
        >>> [sorted(ids[:5].tolist()), sorted(ids[5:].tolist())]
        [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    targets = np.asarray(targets)
    if not 2 <= folds <= len(targets):
        raise ValueError(f"`folds` must lie between 2 and the number of images ({len(targets)}). "
                         f"Received: folds={folds}")
    ids = np.zeros(len(targets), dtype=int)
    placeholder = np.zeros((len(targets), 1))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        if kind == "multilabel":
            from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

            splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            splits = splitter.split(placeholder, (targets > 0.5).astype(int))
        else:
            labels = (targets[:, 0] > 0.5).astype(int) if targets.shape[1] == 1 else targets.argmax(axis=1)
            if np.bincount(labels).max() >= folds:
                splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(placeholder, labels)
            else:  # no class fills every fold
                splits = KFold(n_splits=folds, shuffle=True, random_state=seed).split(placeholder)
        for fold, (_, held_out) in enumerate(splits):
            ids[held_out] = fold
    return ids


def _classifier(regularization: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=regularization, max_iter=300))


def _fit_predict(train_x, train_y, test_x, classes: int, regularization: float) -> np.ndarray:
    """Probabilities of `classes` classes for `test_x` from one classifier; classes absent from the
    training rows get 0, and a training set of one class predicts it."""
    present = np.unique(train_y)
    out = np.zeros((len(test_x), classes))
    if len(present) == 1:
        out[:, present[0]] = 1.0
        return out
    model = _classifier(regularization).fit(train_x, train_y)
    out[:, model.classes_] = model.predict_proba(test_x)
    return out


def cross_fitted_probabilities(features: np.ndarray, targets: np.ndarray, head: Head, folds: int = 5,
                               seed: int = 0, regularization: float = 0.03, fold: np.ndarray | None = None
                               ) -> np.ndarray:
    """Out-of-sample probabilities of one head for every image from a linear classifier.

    Every fold is predicted by a standardized logistic regression fitted on the other folds: a
    softmax over the classes for a multiclass head, one sigmoid per class for a multilabel
    head, one for the positive class of a binary head. BLAS runs on one thread (threadpoolctl):
    these small problems run several times faster so.

    Args:
        features: (images, dimensions) array, e.g. pooled backbone features.
        targets: (images, units) 0/1 targets of the head (`zoo.data.encode`).
        head: The `zoo.Head`.
        folds: K, the number of folds.
        seed: Seed of the fold assignment.
        regularization: Inverse regularization strength (scikit-learn's `C`).
        fold: The fold of every image (default: `fold_ids` of the head's targets).

    Returns:
        (images, units) probabilities, in the head's output layout.
    """
    from threadpoolctl import threadpool_limits

    features, targets = np.asarray(features, dtype=np.float64), np.asarray(targets)
    if len(features) != len(targets):
        raise ValueError(f"`features` and `targets` need one row per image. Received: {len(features)} feature "
                         f"rows and {len(targets)} target rows for head {head.name!r}")
    fold = fold_ids(targets, head.kind, folds, seed) if fold is None else np.asarray(fold)
    out = np.zeros(targets.shape, dtype=np.float64)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)  # convergence notes of tiny folds
        for k in np.unique(fold):
            train, test = fold != k, fold == k
            if head.kind == "multiclass":
                out[test] = _fit_predict(features[train], targets[train].argmax(axis=1), features[test],
                                         targets.shape[1], regularization)
            else:
                for unit in range(targets.shape[1]):
                    labels = (targets[train, unit] > 0.5).astype(int)
                    out[test, unit] = _fit_predict(features[train], labels, features[test], 2, regularization)[:, 1]
    return out


def _cleanlab_inputs(targets, probabilities, head: Head):
    labels = class_indices(targets, head)
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    if head.kind == "binary":
        probabilities = np.column_stack([1.0 - probabilities[:, 0], probabilities[:, 0]])
    elif head.kind == "multiclass":
        probabilities = probabilities / np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)
    return labels, probabilities


def _flagged(labels, probabilities, kind: str) -> np.ndarray:
    """cleanlab's confident-learning mask of likely mistakes (all False where it cannot tell)."""
    import cleanlab.filter
    import cleanlab.multilabel_classification.filter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "multilabel":
                return np.asarray(cleanlab.multilabel_classification.filter.find_label_issues(
                    labels, probabilities, n_jobs=1), dtype=bool)
            return np.asarray(cleanlab.filter.find_label_issues(labels, probabilities, n_jobs=1), dtype=bool)
    except ValueError:  # e.g. a head whose given labels are all one class
        return np.zeros(len(labels), dtype=bool)


def rank_label_issues(files, head: Head, targets: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """Every image of one head ranked from the likeliest label mistake down.

    Args:
        files: One file name per image.
        head: The `zoo.Head`.
        targets: (images, units) 0/1 given labels.
        probabilities: (images, units) out-of-sample probabilities (`cross_fitted_probabilities`).

    Returns:
        A DataFrame with columns file, head, given, suggested (the most probable class; for a
        multilabel head the classes above the head's threshold), score (cleanlab's label
        quality score: 0 = surely wrong, 1 = surely right), rank (1 = the likeliest mistake) and
        issue (True where cleanlab's confident learning flags the label), sorted by rank.
    """
    import cleanlab.multilabel_classification.rank
    import cleanlab.rank

    labels, probs = _cleanlab_inputs(targets, probabilities, head)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if head.kind == "multilabel":
            scores = cleanlab.multilabel_classification.rank.get_label_quality_scores(labels, probs)
        else:
            scores = cleanlab.rank.get_label_quality_scores(np.asarray(labels), probs)
    if head.kind == "multilabel":
        names = np.asarray(head.classes, dtype=object)
        threshold = np.broadcast_to(np.asarray(head.threshold, dtype=float), (probs.shape[1],))
        given = [_joined(names[row]) for row in labels]
        suggested = [_joined(names[np.flatnonzero(row > threshold)]) for row in probs]
    else:
        names = _binary_names(head) if head.kind == "binary" else list(head.classes)
        given = [names[i] for i in labels]
        suggested = [names[i] for i in probs.argmax(axis=1)]
    table = pd.DataFrame({"file": [str(f) for f in files], "head": head.name, "given": given,
                          "suggested": suggested, "score": np.asarray(scores, dtype=float),
                          "issue": _flagged(labels, probs, head.kind)})
    table = table.sort_values(["score", "file"], kind="stable").reset_index(drop=True)
    table.insert(5, "rank", np.arange(1, len(table) + 1))
    return table


def pretrained_backbone() -> str | None:
    """The first backbone of `FEATURE_BACKBONES` whose ImageNet weights are on this machine
    (nothing is downloaded), or None.

    Example:
        >>> pretrained_backbone() in (None, *FEATURE_BACKBONES)
        True
    """
    from zoo.models import catalog, weights

    for name in FEATURE_BACKBONES:
        if "imagenet" in catalog.BACKBONES.get(name, {}).get("pretrained", ()) and weights.pretrained_installed(name):
            return name
    return None


def colour_histogram(images: np.ndarray, bins: int = 8) -> np.ndarray:
    """The share of each image's pixels in each of `bins`**3 RGB cells, square-rooted:
    (batch, bins**3) features that keep the colours pooled backbone features mostly lose.

    Example:
        >>> red = np.zeros((1, 4, 4, 3)); red[..., 0] = 255
        >>> features = colour_histogram(red, bins=2)
        >>> features.shape, features[0].tolist()
        ((1, 8), [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    """
    cells = np.clip(np.asarray(images) * (bins / 256.0), 0, bins - 1).astype(np.int64)
    index = ((cells[..., 0] * bins + cells[..., 1]) * bins + cells[..., 2]).reshape(len(cells), -1)
    counts = np.stack([np.bincount(row, minlength=bins ** 3) for row in index]).astype(np.float32)
    return np.sqrt(counts / counts.sum(axis=1, keepdims=True))


def backbone_extractor(backbone: str, image_size=None, colours: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a batch of 0..255 images to the ImageNet backbone's globally average-pooled
    features, (batch, channels), followed with `colours` by their `colour_histogram`: on the
    fashion products, colour-label mistakes are found far more often with it, other heads alike."""
    import keras

    from zoo.models.backbones import build_backbone

    trunk = build_backbone(backbone, None if image_size is None else (*image_size, 3), weights="imagenet")
    pooled = keras.Model(trunk.input, keras.layers.GlobalAveragePooling2D()(trunk.output))
    if not colours:
        return lambda images: np.asarray(pooled(images, training=False))
    return lambda images: np.concatenate([np.asarray(pooled(images, training=False)), colour_histogram(images)], 1)


def _fingerprint(paths, name: str, image_size) -> str:
    digest = hashlib.sha256(f"{name}|{tuple(image_size)}".encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"|{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _batches(rows, heads, directory, image_size, batch_size, on_error, allow_empty):
    from zoo import data

    dataset = data.make_dataset(rows, heads, directory=directory, image_size=tuple(image_size),
                                batch_size=batch_size, shuffle=False, on_error=on_error, check="header",
                                allow_empty=allow_empty)
    return dataset, ((np.asarray(images), {k: np.asarray(v) for k, v in labels.items()})
                     for images, labels in dataset)


def _read_cache(cache, key: str):
    """The features stored in `cache` under `key`, or None: another key, or a file that cannot be
    read (e.g. left half-written by a killed run; a warning names it and the features are computed again)."""
    import zipfile

    try:
        with open(cache, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
            return stored["features"] if str(stored["key"]) == key else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        warnings.warn(f"Cannot read the feature cache {str(cache)!r} ({type(error).__name__}: {error}); "
                      "computing the features again.", stacklevel=3)
        return None


def image_features(rows: pd.DataFrame, heads, extractor: Callable, directory=None, image_size=(224, 224),
                   batch_size: int = 32, on_error: str = "raise", allow_empty: bool = False,
                   cache: Path | None = None, name: str = "features"):
    """(files, features, targets) of the labelled rows: one feature row per image from
    `extractor`, and {head: targets}, in the same order.

    With `cache` (an .npz file), features computed for the same files (same sizes and times),
    `name` and image size are read back instead of computed again.
    """
    from zoo import data

    paths = data.resolve_paths(rows, directory)
    key = _fingerprint(paths, name, image_size) if cache is not None else None
    stored = _read_cache(cache, key) if cache is not None and Path(cache).is_file() else None
    if stored is not None:
        targets = data.encode(rows, heads, allow_empty=allow_empty).targets
        return list(paths), stored, targets
    dataset, batches = _batches(rows, heads, directory, image_size, batch_size, on_error, allow_empty)
    features, targets = [], {h.name: [] for h in heads}
    for images, labels in batches:
        features.append(np.asarray(extractor(images), dtype=np.float32).reshape(len(images), -1))
        for head in heads:
            targets[head.name].append(labels[head.name])
    features = np.concatenate(features)
    targets = {name_: np.concatenate(parts) for name_, parts in targets.items()}
    if cache is not None and not dataset.skipped:
        from zoo.io.atomic import writing

        with writing(cache) as temporary, open(temporary, "wb") as handle:
            np.savez(handle, key=np.str_(key), features=features)
    return list(dataset.files), features, targets


def trained_probabilities(images: np.ndarray, targets: dict, heads, folds: int = 5, seed: int = 0,
                          epochs: int = 8, model: str = "multilabel_small", batch_size: int = 32) -> dict:
    """Out-of-sample probabilities of every head from K short training runs of a model trained
    from scratch, one per fold, each predicting the fold it did not train on.

    Args:
        images: (images, height, width, 3) 0..255 pixels.
        targets: {head: (images, units) targets}.
        heads: The `zoo.Head`s.
        folds: K; the folds are stratified over every head's targets at once.
        seed: Seed of the folds and the initial weights.
        epochs: Epochs of each run.
        model: Architecture from `zoo.list_models()`.
        batch_size: Images per batch.

    Returns:
        {head: (images, units) probabilities}.
    """
    import keras

    import zoo

    stacked = np.concatenate([targets[h.name] for h in heads], axis=1)
    fold = fold_ids(stacked, "multilabel" if len(heads) > 1 or heads[0].kind == "multilabel" else heads[0].kind,
                    folds, seed)
    out = {h.name: np.zeros_like(targets[h.name], dtype=np.float64) for h in heads}
    for k in np.unique(fold):
        train, test = fold != k, fold == k
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed + int(k))
        network = zoo.build(model, heads=heads, input_shape=images.shape[1:], weights=None)
        network.fit(images[train], {h.name: targets[h.name][train] for h in heads}, epochs=epochs,
                    batch_size=batch_size, shuffle=True, verbose=0)
        held_out = images[test]
        for start in range(0, len(held_out), batch_size):  # a direct call: no predict function traced per run
            predicted = network(held_out[start:start + batch_size], training=False)
            for head in heads:
                out[head.name][np.flatnonzero(test)[start:start + batch_size]] = np.asarray(predicted[head.name])
    return out


@dataclasses.dataclass
class Audit:
    """What `audit_labels` found.

    Attributes:
        table: Every image of every head, ranked per head (`rank_label_issues`).
        probabilities: {head: (images, units) out-of-sample probabilities}.
        files: The images, in the order of the probabilities.
        method: How the probabilities were made, in words.
    """

    table: pd.DataFrame
    probabilities: dict
    files: list
    method: str

    @property
    def issues(self) -> pd.DataFrame:
        """The flagged labels, head by head, likeliest first, with the columns of `label_issues.csv`;
        rank 1 is the likeliest of its head's flagged labels."""
        issues = self.table[self.table.issue].loc[:, list(COLUMNS)].reset_index(drop=True)
        issues["rank"] = issues.groupby("head", sort=False).cumcount() + 1
        return issues

    def alone(self, head: str) -> list:
        """The images of `head` whose given class no other image has: no model fitted without
        them has seen that class, so their labels cannot be judged (cleanlab does not flag them)."""
        rows = self.table[self.table["head"] == head]
        counts = rows.given.value_counts()
        return list(rows.file[rows.given.map(counts).eq(1) & ~rows.issue])


def audit_labels(rows: pd.DataFrame, heads, directory=None, extractor: Callable | None = None,
                 folds: int = 5, seed: int = 0, image_size=None, batch_size: int = 32, on_error: str = "raise",
                 allow_empty: bool = False, cache: Path | None = None, name: str = "features",
                 epochs: int = 8, regularization: float = 0.03) -> Audit:
    """Cross-fitted probabilities for every labelled image and every head, and the ranking of the
    given labels by how much they disagree with them.

    Args:
        rows: Normalized, checked rows (`zoo.data.validate(...).rows`).
        heads: The `zoo.Head`s.
        directory: Base folder of relative file names.
        extractor: Batch of 0..255 images -> (batch, dimensions) features for the linear
            classifiers (`backbone_extractor`); None trains `multilabel_small` from scratch K times.
        folds: K.
        seed: Seed of the folds (and of the training runs).
        image_size: (height, width) the images are decoded at (default: 224x224 for features,
            64x64 for training runs).
        batch_size: Images per batch.
        on_error: "raise" or "skip" for unreadable images.
        allow_empty: Accept images with no label for multilabel heads.
        cache: .npz file that keeps the features for the next audit of the same images.
        name: Name of the extractor, part of the cache's key.
        epochs: Epochs of each training run (no extractor).
        regularization: `C` of the logistic regressions.

    Returns:
        An `Audit`.
    """
    heads = list(heads)
    if extractor is not None:
        size = tuple(image_size or (224, 224))
        files, features, targets = image_features(rows, heads, extractor, directory, size, batch_size, on_error,
                                                  allow_empty, cache, name)
        probabilities = {h.name: cross_fitted_probabilities(features, targets[h.name], h, folds, seed,
                                                            regularization) for h in heads}
        method = f"{folds}-fold logistic regression on {name} features ({size[0]}x{size[1]})"
    else:
        size = tuple(image_size or (64, 64))
        dataset, batches = _batches(rows, heads, directory, size, batch_size, on_error, allow_empty)
        parts = list(batches)
        images = np.concatenate([images for images, _ in parts])
        targets = {h.name: np.concatenate([labels[h.name] for _, labels in parts]) for h in heads}
        files = list(dataset.files)
        probabilities = trained_probabilities(images, targets, heads, folds, seed, epochs, batch_size=batch_size)
        method = f"{folds} training runs of multilabel_small from scratch ({epochs} epochs, {size[0]}x{size[1]})"
    table = pd.concat([rank_label_issues(files, h, targets[h.name], probabilities[h.name]) for h in heads],
                      ignore_index=True)
    return Audit(table, probabilities, files, method)


def _thumbnail(path, size: int = 200) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail((size, size))
        return np.asarray(image)


def plot_label_issues(issues: pd.DataFrame, path, top: int = 20, columns: int = 5) -> Path | None:
    """A contact sheet of the likeliest label mistakes: each image with its file name and, per
    suspect head, the given label (red) and the suggested one (green).

    Args:
        issues: Rows of `label_issues.csv` (file, head, given, suggested, score, rank).
        path: Output image file.
        top: At most this many images: the best-ranked suspects, head by head in turn.
        columns: Images per row.

    Returns:
        The path written, or None when there is no suspect.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> folder = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (8, 8), "red").save(folder / "a.png")
        >>> issues = pd.DataFrame({"file": [str(folder / "a.png")], "head": ["color"], "given": ["blue"],
        ...                        "suggested": ["red"], "score": [0.01], "rank": [1]})
        >>> plot_label_issues(issues, folder / "sheet.png").name
        'sheet.png'
    """
    from matplotlib.figure import Figure

    from zoo.evaluation.figures import save_figure

    if issues.empty:
        return None
    ordered = issues.sort_values(["rank", "score"], kind="stable")
    chosen = list(dict.fromkeys(ordered.file))[:top]
    columns = max(1, min(columns, len(chosen)))
    rows = -(-len(chosen) // columns)
    lines = issues.groupby("file", sort=False)
    most = max(len(lines.get_group(f)) for f in chosen)
    figure = Figure(figsize=(2.8 * columns, (2.6 + 0.5 * most) * rows + 0.4), layout="constrained")
    for index, file in enumerate(chosen):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.imshow(_thumbnail(file))
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title("/".join(Path(file).parts[-2:]), fontsize=8)
        texts = []
        for _, row in lines.get_group(file).sort_values("score").iterrows():
            texts += [(f"{row['head']}: {row['given']}  (score {row['score']:.2f})", "red"),
                      (f"suggested: {row['suggested']}", "green")]
        for number, (text, color) in enumerate(texts):
            axes.text(0.5, -0.03 - 0.09 * number, text, transform=axes.transAxes, ha="center", va="top",
                      fontsize=8, color=color)
    figure.suptitle(f"likeliest label mistakes: {len(chosen)} of {issues.file.nunique()} images "
                    f"(given label in red, suggested in green)")
    return save_figure(figure, path)
