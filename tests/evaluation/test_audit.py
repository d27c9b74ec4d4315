"""zoo.evaluation.audit: cross-fitted probabilities and cleanlab's ranking of the given labels."""

import re

import cleanlab.filter
import cleanlab.multilabel_classification.filter
import cleanlab.multilabel_classification.rank
import cleanlab.rank
import numpy as np
import pandas as pd
import pytest
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import zoo
from zoo.evaluation import audit

COLORS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def separable(classes=3, per_class=30, seed=0):
    """Features clustered by class, one-hot targets."""
    rng = np.random.default_rng(seed)
    targets = np.repeat(np.eye(classes), per_class, axis=0)
    return targets @ (4 * rng.normal(size=(classes, 8))) + rng.normal(size=(len(targets), 8)), targets


def test_flipped_multiclass_labels_rank_first_and_match_scikit_learn_and_cleanlab():
    features, targets = separable()
    flipped = [3, 40, 77]
    given = targets.copy()
    given[flipped] = np.roll(targets[flipped], 1, axis=1)
    head = zoo.Head("shape", ["a", "b", "c"], kind="multiclass")
    fold = audit.fold_ids(given, "multiclass", folds=5, seed=0)
    probabilities = audit.cross_fitted_probabilities(features, given, head, folds=5, seed=0)

    direct = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(C=0.03, max_iter=300)), features,
                               given.argmax(1), cv=PredefinedSplit(fold), method="predict_proba")
    np.testing.assert_allclose(probabilities, direct, atol=1e-8)

    files = [f"{i}.png" for i in range(len(given))]
    table = audit.rank_label_issues(files, head, given, probabilities)
    assert set(table.file[:3]) == {f"{i}.png" for i in flipped}
    top = table.set_index("file").loc[[f"{i}.png" for i in flipped]]
    assert list(top.suggested) == [["a", "b", "c"][targets[i].argmax()] for i in flipped]
    assert list(top.given) == [["a", "b", "c"][given[i].argmax()] for i in flipped]
    assert list(table["rank"]) == list(range(1, len(files) + 1)) and table.score.is_monotonic_increasing
    by_file = table.set_index("file").loc[files]
    np.testing.assert_allclose(by_file.score, cleanlab.rank.get_label_quality_scores(given.argmax(1), direct))
    np.testing.assert_array_equal(by_file.issue, cleanlab.filter.find_label_issues(given.argmax(1), direct))
    assert 2 <= by_file.issue.sum() and set(np.flatnonzero(by_file.issue)) <= set(flipped)


def test_flipped_multilabel_tags_rank_first_and_match_cleanlab():
    rng = np.random.default_rng(1)
    targets = (rng.random((80, 4)) < 0.4).astype(float)
    targets[targets.sum(1) == 0, 0] = 1.0
    features = targets * 3 + rng.normal(scale=0.5, size=targets.shape)
    given = targets.copy()
    flipped = [5, 30, 61]
    given[flipped, 2] = 1 - given[flipped, 2]
    given[given.sum(1) == 0, 1] = 1.0  # every image keeps a tag
    head = zoo.Head("tags", ["sea", "sun", "tree", "sand"])
    fold = audit.fold_ids(given, "multilabel", folds=4, seed=0)
    expected = np.zeros(len(given), int)
    for k, (_, held_out) in enumerate(MultilabelStratifiedKFold(n_splits=4, shuffle=True, random_state=0)
                                      .split(np.zeros((len(given), 1)), given.astype(int))):
        expected[held_out] = k
    np.testing.assert_array_equal(fold, expected)

    probabilities = audit.cross_fitted_probabilities(features, given, head, folds=4, regularization=1.0)
    for unit in range(4):
        direct = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=300)),
                                   features, given[:, unit].astype(int), cv=PredefinedSplit(fold),
                                   method="predict_proba")[:, 1]
        np.testing.assert_allclose(probabilities[:, unit], direct, atol=1e-8)

    files = [f"{i}.jpg" for i in range(len(given))]
    table = audit.rank_label_issues(files, head, given, probabilities)
    assert set(table.file[:3]) == {f"{i}.jpg" for i in flipped}
    labels = [np.flatnonzero(row).tolist() for row in given]
    by_file = table.set_index("file").loc[files]
    np.testing.assert_allclose(
        by_file.score, cleanlab.multilabel_classification.rank.get_label_quality_scores(labels, probabilities))
    np.testing.assert_array_equal(
        by_file.issue, cleanlab.multilabel_classification.filter.find_label_issues(labels, probabilities, n_jobs=1))
    first = table.iloc[0]
    index = int(first.file.split(".")[0])
    assert first.given == ", ".join(np.asarray(head.classes)[given[index] > 0])
    assert first.suggested == ", ".join(np.asarray(head.classes)[probabilities[index] > 0.5]) or "(none)"


def test_binary_head_names_both_answers():
    features, targets = separable(classes=2, per_class=20)
    given = targets[:, 1:].copy()
    given[[0, 25]] = 1 - given[[0, 25]]
    head = zoo.Head("spam", ["ham", "spam"], kind="binary")
    table = audit.rank_label_issues(range(40), head, given, audit.cross_fitted_probabilities(features, given, head))
    assert set(table.file[:2]) == {"0", "25"}
    assert table.set_index("file").loc["0", ["given", "suggested"]].tolist() == ["spam", "ham"]


def test_a_class_missing_from_a_training_fold_gets_zero_and_the_singleton_is_suspect():
    features, targets = separable(classes=3, per_class=10)
    targets = np.vstack([targets, [[0, 0, 0]]])
    targets = np.hstack([targets, [[0]] * 30 + [[1]]])  # a fourth class with one image
    features = np.vstack([features, features[:1]])
    head = zoo.Head("shape", ["a", "b", "c", "d"], kind="multiclass")
    probabilities = audit.cross_fitted_probabilities(features, targets, head, folds=3)
    assert probabilities[-1, 3] == 0 and np.allclose(probabilities.sum(1), 1)
    table = audit.rank_label_issues(range(31), head, targets, probabilities)
    assert table.file[0] == "30" and table.suggested[0] == "a"


def test_folds_are_checked():
    with pytest.raises(ValueError, match="folds=1"):
        audit.fold_ids(np.eye(3), "multiclass", folds=1)


def colour_images(folder, per_class=8, flipped=(1, 10)):
    """Flat noisy colour squares with their colour as the label, some labels swapped; (rows, flipped files)."""
    rng = np.random.default_rng(0)
    names, labels = [], []
    for colour, rgb in COLORS.items():
        for i in range(per_class):
            pixels = np.clip(np.array(rgb) + rng.normal(0, 20, (16, 16, 3)), 0, 255).astype(np.uint8)
            name = f"{colour}_{i}.png"
            Image.fromarray(pixels).save(folder / name)
            names.append(name)
            labels.append(colour)
    order = list(COLORS)
    for position in flipped:
        labels[position] = order[(order.index(labels[position]) + 1) % 3]
    return pd.DataFrame({"filename": names, "labels": labels}), [names[p] for p in flipped]


def counting_mean_colour():
    """A feature function (each image's mean colour) and the list of batch sizes it was called on."""
    calls = []

    def mean_colour(images):
        calls.append(len(images))
        return images.mean(axis=(1, 2))

    return mean_colour, calls


def colour_rows(tmp_path, **options):
    """The rows and heads of `colour_images`, and its flipped files."""
    table, flipped = colour_images(tmp_path, **options)
    rows = zoo.data.from_dataframe(table, {"labels": "color"})
    return rows, zoo.data.heads_from_dataframe(rows, {"color": "multiclass"}), flipped


def test_audit_of_images_with_a_feature_function_finds_the_swapped_colours_and_caches_features(tmp_path):
    rows, heads, flipped = colour_rows(tmp_path)
    mean_colour, calls = counting_mean_colour()

    cache = tmp_path / "out" / audit.FEATURES_FILE
    result = audit.audit_labels(rows, heads, directory=tmp_path, extractor=mean_colour, folds=4, image_size=(8, 8),
                                cache=cache, name="mean")
    assert set(result.issues.file[:2]) == {str(tmp_path / f) for f in flipped}
    assert list(result.issues.columns) == list(audit.COLUMNS)
    assert sum(calls) == 24 and cache.is_file()
    again = audit.audit_labels(rows, heads, directory=tmp_path, extractor=mean_colour, folds=4, image_size=(8, 8),
                               cache=cache, name="mean")
    assert sum(calls) == 24  # read back from the cache
    pd.testing.assert_frame_equal(again.table, result.table)
    audit.audit_labels(rows, heads, directory=tmp_path, extractor=mean_colour, folds=4, image_size=(8, 8),
                       cache=cache, name="other")
    assert sum(calls) == 48  # another extractor: computed again

    sheet = audit.plot_label_issues(result.issues, tmp_path / "sheet.png", top=2)
    assert Image.open(sheet).size[0] > 100
    assert audit.plot_label_issues(result.issues.iloc[:0], tmp_path / "none.png") is None


def test_issues_are_ranked_within_their_head_and_a_class_of_one_image_is_named():
    table = pd.DataFrame({"file": ["a", "b", "c", "d", "e"], "head": ["color"] * 3 + ["type"] * 2,
                          "given": ["red", "olive", "red", "shirt", "shirt"], "suggested": ["blue", "red", "red",
                                                                                            "dress", "shirt"],
                          "score": [0.1, 0.0, 0.9, 0.2, 0.8], "rank": [2, 1, 3, 1, 2],
                          "issue": [True, False, False, True, False]})
    result = audit.Audit(table, {}, [], "")
    assert result.issues.to_dict("list") == {"file": ["a", "d"], "head": ["color", "type"], "given": ["red", "shirt"],
                                             "suggested": ["blue", "dress"], "score": [0.1, 0.2], "rank": [1, 1]}
    assert result.alone("color") == ["b"] and result.alone("type") == []


def test_an_unreadable_feature_cache_is_computed_again_with_a_warning_and_replaced_whole(tmp_path):
    rows, heads, _ = colour_rows(tmp_path, per_class=2, flipped=())
    mean_colour, calls = counting_mean_colour()

    cache = tmp_path / "out" / audit.FEATURES_FILE
    _, features, _ = audit.image_features(rows, heads, mean_colour, directory=tmp_path, image_size=(8, 8), cache=cache)
    cache.write_bytes(cache.read_bytes()[:40])  # as a killed write leaves it
    with pytest.warns(UserWarning, match=re.escape(f"Cannot read the feature cache {str(cache)!r}")):
        _, again, _ = audit.image_features(rows, heads, mean_colour, directory=tmp_path, image_size=(8, 8),
                                           cache=cache)
    np.testing.assert_array_equal(again, features)
    assert sum(calls) == 12 and sorted(p.name for p in cache.parent.iterdir()) == [audit.FEATURES_FILE]
    audit.image_features(rows, heads, mean_colour, directory=tmp_path, image_size=(8, 8), cache=cache)
    assert sum(calls) == 12  # the cache written again is read back
