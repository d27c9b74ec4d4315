"""Which heads pretrained features serve, and which need colour: a linear probe on each, per head.

A pretrained trunk's pooled features say what an object is and keep little of its
colour. Before training, the plan measures this on a sample of the training
images: a cross-validated logistic regression per head on the pooled pretrained
features, and the same on the images' colour histogram (`zoo.models.colour`).
A head that the colour probe predicts at least as well as the pretrained one is
given the histogram beside the pretrained features. The rule reads the
measurements only, never the head's name.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> colour = rng.normal(size=(90, 4)); shape = rng.normal(size=(90, 4))
    >>> tint = np.eye(3)[np.argmax(colour[:, :3], axis=1)]  # a head that depends on colour alone
    >>> decision = probe_head("tint", "multiclass", tint, shape, colour)
    >>> decision.colour, decision.colour_score > decision.pretrained_score
    (True, True)
    >>> decision.describe().startswith("tint: colour features added: probe ")
    True
"""

from __future__ import annotations

import dataclasses

import numpy as np

FOLDS = 3
PROBE_IMAGES = 400  # training images the probes are fitted on


@dataclasses.dataclass
class ColourDecision:
    """One head's probe scores (accuracy, or mean average precision for multilabel heads) and the choice."""

    head: str
    pretrained_score: float
    colour_score: float

    @property
    def colour(self) -> bool:
        """The head gets colour features: colour predicts it at least as well as the pretrained features."""
        return self.colour_score >= self.pretrained_score

    def describe(self) -> str:
        """One line for the plan's printout.

        Example:
            >>> ColourDecision("gender", 0.91, 0.55).describe()
            'gender: pretrained features alone: probe 0.91 on them vs 0.55 on colour'
        """
        if self.colour:
            return (f"{self.head}: colour features added: probe {self.pretrained_score:.2f} on pretrained features "
                    f"vs {self.colour_score:.2f} on colour")
        return (f"{self.head}: pretrained features alone: probe {self.pretrained_score:.2f} on them vs "
                f"{self.colour_score:.2f} on colour")


def probe_score(features, targets, kind: str, folds: int = FOLDS, seed: int = 0) -> float:
    """Cross-validated score of a logistic regression from `features` to one head's `targets`.

    Multiclass heads: accuracy over `folds` folds. Multilabel and binary heads: the
    mean average precision of one regression per label, over the labels with at
    least `folds` positives and negatives (NaN when there is none).

    Example:
        >>> x = np.r_[np.zeros((20, 2)), np.ones((20, 2))] + np.random.default_rng(0).normal(0, .1, (40, 2))
        >>> probe_score(x, np.r_[np.zeros(20), np.ones(20)][:, None], "binary")
        1.0
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    features, targets = np.asarray(features, "float64"), np.asarray(targets)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=300))
    with threadpool_limits(1):  # the BLAS's threads slow these small fits down many times on few cores
        if kind == "multiclass":
            labels = np.argmax(targets, axis=1)
            counts = np.bincount(labels)
            common = np.isin(labels, np.flatnonzero(counts >= folds))  # a class the folds cannot split is left out
            if len(np.unique(labels[common])) < 2:
                return float("nan")
            split = StratifiedKFold(folds, shuffle=True, random_state=seed)
            predicted = cross_val_predict(model, features[common], labels[common], cv=split)
            return float(np.mean(predicted == labels[common]))
        scores = []
        for column in np.asarray(targets, "float64").reshape(len(targets), -1).T:
            positives = int(np.sum(column > 0.5))
            if min(positives, len(column) - positives) < folds:
                continue
            split = StratifiedKFold(folds, shuffle=True, random_state=seed)
            probability = cross_val_predict(model, features, column > 0.5, cv=split, method="predict_proba")[:, 1]
            scores.append(average_precision_score(column > 0.5, probability))
        return float(np.mean(scores)) if scores else float("nan")


def probe_head(head: str, kind: str, targets, pretrained_features, colour_features, seed: int = 0) -> ColourDecision:
    """The probes of one head on both kinds of features (see the module)."""
    return ColourDecision(head, probe_score(pretrained_features, targets, kind, seed=seed),
                          probe_score(colour_features, targets, kind, seed=seed))


def probe_heads(model, rows, heads, directory, image_size, batch_size: int = 32, seed: int = 0,
                allow_empty: bool = False) -> list[ColourDecision]:
    """The probes of every head on a sample of `rows`, with the pretrained trunk of `model`.

    Args:
        model: A shared-trunk zoo model with pretrained weights (`feature_layers` ["pool"]).
        rows: Training rows (`zoo.data` label table); up to `PROBE_IMAGES` are sampled.
        heads: The heads.
        directory: The folder the rows' file names are relative to.
        image_size: (height, width) the images are read at.
    """
    from zoo import data
    from zoo.models.colour import colour_histogram
    from zoo.training.feature_cache import heads_model

    sample = rows.sample(min(len(rows), PROBE_IMAGES), random_state=seed)
    dataset = data.make_dataset(sample, heads, directory=directory, image_size=tuple(image_size),
                                batch_size=batch_size, shuffle=False, seed=seed, check="header",
                                allow_empty=allow_empty)
    extractor, _ = heads_model(model)
    pretrained, colour, targets = [], [], {h.name: [] for h in heads}
    for images, labels, *_ in dataset:
        output = extractor(images, training=False)
        output = output[0] if isinstance(output, (list, tuple)) else output
        pooled = np.asarray(output)
        pretrained.append(pooled.mean(axis=(1, 2)) if pooled.ndim == 4 else pooled)
        colour.append(colour_histogram(images))
        for h in heads:
            targets[h.name].append(np.asarray(labels[h.name]))
    pretrained, colour = np.concatenate(pretrained), np.concatenate(colour)
    return [probe_head(h.name, h.kind, np.concatenate(targets[h.name]), pretrained, colour, seed=seed)
            for h in heads]
