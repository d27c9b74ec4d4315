"""Confusion matrices and label counts stay readable from 2 to 50 classes: the figure grows with the
classes and no tick label overlaps another (measured with matplotlib's renderer)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import zoo
from zoo.evaluation.plots import MOST_CLASSES, confusion_figure, label_counts_figure
from zoo.evaluation.report import multiclass_head_report, sigmoid_head_report

CLASS_COUNTS = (2, 10, 50)


def _classes(count):
    return [f"class_{i:02d}_{'long_' * (i % 3)}name" for i in range(count)]


def _multiclass_report(count, seed=0):
    rng = np.random.default_rng(seed)
    samples = 12 * count
    truth = rng.integers(0, count, samples)
    guess = np.where(rng.random(samples) < 0.6, truth, rng.integers(0, count, samples))
    head = zoo.Head("kind", _classes(count), kind="multiclass")
    return multiclass_head_report(head, np.eye(count)[truth], np.eye(count)[guess])


def _counts(count, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_tuples([("kind", c) for c in _classes(count)], names=["head", "class"])
    train = rng.integers(1, 500, count)
    return pd.DataFrame({"train": train, "validation": train // 4, "train_fraction": train / train.sum(),
                         "validation_fraction": train / train.sum()}, index=index)


def _tick_labels_apart(figure):
    """Asserts that on every axes no two tick labels overlap and all lie inside the figure; returns
    how many were checked."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    inside = figure.bbox.expanded(1.001, 1.001)
    checked = 0
    for axes in figure.axes:
        for labels, limits, coordinate in ((axes.get_xticklabels(), axes.get_xlim(), 0),
                                           (axes.get_yticklabels(), axes.get_ylim(), 1)):
            low, high = sorted(limits)
            drawn = [t for t in labels if t.get_visible() and t.get_text()  # ticks past the limits are not drawn
                     and low - 1e-9 <= t.get_position()[coordinate] <= high + 1e-9]
            boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn]
            for (first, a), (second, b) in itertools.combinations(boxes, 2):
                assert not a.overlaps(b), f"tick labels {first!r} and {second!r} overlap"
            for text, box in boxes:
                assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1), f"{text!r} cut off"
            checked += len(boxes)
    return checked


def test_confusion_matrix_grows_with_the_classes_and_its_labels_never_overlap():
    sizes = []
    for count in CLASS_COUNTS:
        figure = confusion_figure(_multiclass_report(count), "kind", split="validation")
        assert _tick_labels_apart(figure) >= 2 * count
        sizes.append(tuple(figure.get_size_inches()))
    assert sizes[0][0] < sizes[1][0] < sizes[2][0] and sizes[0][1] < sizes[1][1] < sizes[2][1]


def test_confusion_rows_are_normalized_and_many_classes_ordered_by_images():
    report = _multiclass_report(50)
    figure = confusion_figure(report, "kind")
    shares = figure.axes[0].images[0].get_array()
    assert np.allclose(shares.sum(axis=1), 1.0)
    support = report["confusion"].sum(axis=1)
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == [f"{c} ({support[c]})" for c in support.sort_values(ascending=False, kind="stable").index]


def test_past_the_most_classes_the_rest_are_one_other_class():
    count = MOST_CLASSES + 10
    report = _multiclass_report(count)
    figure = confusion_figure(report, "kind")
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert len(labels) == MOST_CLASSES and labels[-1] == "other (11 classes)"
    assert int(figure.axes[0].images[0].get_array().shape[0]) == MOST_CLASSES
    total = sum(int(t.get_text()) for t in figure.axes[0].texts)
    assert total == report["summary"]["samples"]  # every image still counted once
    _tick_labels_apart(figure)
    counts = label_counts_figure(_counts(count))
    bars = [t.get_text() for t in counts.axes[0].get_yticklabels()]
    assert len(bars) == MOST_CLASSES and bars[-1] == "other (11 classes)"


def test_label_counts_are_horizontal_bars_most_first_growing_with_the_classes():
    heights = []
    for count in CLASS_COUNTS:
        counts = _counts(count)
        figure = label_counts_figure(counts)
        assert _tick_labels_apart(figure) >= count
        labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
        totals = counts["train"] + counts["validation"]
        assert labels == list(totals.loc["kind"].sort_values(ascending=False, kind="stable").index)
        heights.append(figure.get_size_inches()[1])
    assert heights[0] < heights[1] < heights[2]


@pytest.mark.parametrize("count", CLASS_COUNTS)
def test_multilabel_confusion_labels_never_overlap(count):
    rng = np.random.default_rng(count)
    head = zoo.Head("tags", _classes(count))
    report = sigmoid_head_report(head, rng.integers(0, 2, (40, count)), rng.random((40, count)))
    assert _tick_labels_apart(confusion_figure(report, "tags", split="validation")) >= count
