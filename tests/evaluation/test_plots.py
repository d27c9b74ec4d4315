import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn import metrics as skm

import zoo
from zoo.evaluation.report import multiclass_head_report, sigmoid_head_report


def _is_png(path):
    with Image.open(path) as image:
        return image.format == "PNG" and image.size[0] > 100


def test_every_plot_writes_an_image(tmp_path):
    rng = np.random.default_rng(0)
    history = pd.DataFrame({"epoch": [1, 2, 3], "stage": ["a", "a", "b"], "loss": [1.0, 0.8, 0.7],
                            "val_loss": [1.1, 0.9, 0.8], "tags_f1": [0.2, 0.4, 0.5], "val_tags_f1": [0.1, 0.3, 0.4]})
    y_true = rng.integers(0, 2, (30, 3))
    scores = rng.random((30, 3))
    tags = zoo.Head("tags", ["a", "b", "c"])
    kind = zoo.Head("kind", ["x", "y"], kind="multiclass")
    df = pd.DataFrame({"filename": ["1", "2", "3"], "tags": [("a",), ("b", "c"), ("a",)]})
    counts = zoo.data.label_counts({"train": df, "validation": df.head(1)}, [tags])
    paths = [
        zoo.evaluation.plots.plot_history(history, tmp_path / "history.png"),
        zoo.evaluation.plots.plot_thresholds(y_true, scores, tmp_path / "thresholds.png"),
        zoo.evaluation.plots.plot_confusion(sigmoid_head_report(tags, y_true, scores), tmp_path / "tags.png"),
        zoo.evaluation.plots.plot_confusion(multiclass_head_report(kind, np.eye(2)[[0, 1, 1]], rng.random((3, 2))),
                                 tmp_path / "kind.png"),
        zoo.evaluation.plots.plot_label_counts(counts, tmp_path / "counts.png"),
        zoo.evaluation.plots.plot_predictions(rng.uniform(0, 255, (3, 16, 16, 3)), ["a", None, "b"], ["a", "b", "c"],
                                   tmp_path / "grid.png"),
    ]
    assert all(_is_png(p) for p in paths)


def test_threshold_curves_of_predictions_have_one_panel_per_thresholded_head(tmp_path):
    rng = np.random.default_rng(0)
    heads = [zoo.Head("tags", ["a", "b"]), zoo.Head("kind", ["x", "y"], kind="multiclass"), zoo.Head("sea", ["sea"],
                                                                                                    kind="binary")]
    targets = {"tags": rng.integers(0, 2, (20, 2)), "kind": np.eye(2)[rng.integers(0, 2, 20)],
               "sea": rng.integers(0, 2, (20, 1))}
    probabilities = {name: rng.random(value.shape) for name, value in targets.items()}
    predictions = zoo.Predictions(probabilities, targets, heads)
    figure = zoo.evaluation.plots.threshold_curves_figure(predictions)
    assert [axes.get_title() for axes in figure.axes] == ["tags", "sea"]
    micro_f1 = figure.axes[0].lines[0].get_ydata()
    at_half = skm.f1_score(targets["tags"], probabilities["tags"] > 0.5, average="micro", zero_division=0)
    assert micro_f1[49] == pytest.approx(at_half)  # the curve's 50th point is threshold 0.5
    assert _is_png(zoo.evaluation.plots.plot_threshold_curves(predictions, tmp_path / "t.png"))
    only_kind = zoo.Predictions({"kind": targets["kind"]}, {"kind": targets["kind"]}, [heads[1]])
    with pytest.raises(ValueError, match="No multilabel or binary head"):
        zoo.evaluation.plots.threshold_curves_figure(only_kind)


def _texts(figure):
    return [text for axes in figure.axes for text in axes.texts]


def test_confusion_counts_contrast_with_their_cells_and_the_title_names_split_and_threshold(tmp_path):
    kind = zoo.Head("kind", ["x", "y"], kind="multiclass")
    report = multiclass_head_report(kind, np.eye(2)[[0] * 9 + [1] * 4], np.eye(2)[[0] * 9 + [0] + [1] * 3])
    figure = zoo.evaluation.plots.confusion_figure(report, "kind", split="validation")  # 9, 0 / 1, 3
    colors = {text.get_text(): text.get_color() for text in _texts(figure)}
    # Shaded by the share of the row: 9 of 9 and 3 of 4 are dark, 0 of 9 and 1 of 4 light.
    assert colors == {"9": "white", "0": "black", "1": "black", "3": "white"}
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["x (9)", "y (4)"]
    assert figure.get_suptitle() == "kind: validation split"
    tags = zoo.Head("tags", ["a", "b"])
    sigmoid = sigmoid_head_report(tags, np.array([[1, 0], [1, 1], [0, 0]]), np.array([[0.9, 0.1], [0.8, 0.7],
                                                                                      [0.2, 0.6]]))
    figure = zoo.evaluation.plots.confusion_figure(sigmoid, "tags", split="validation", threshold=0.5)
    assert figure.get_suptitle() == "tags: validation split, threshold 0.5"
    assert [axes.get_title() for axes in figure.axes] == ["a", "b"]
    per_class = zoo.evaluation.plots.confusion_figure(sigmoid, "tags", split="validation")
    assert [axes.get_title() for axes in per_class.axes] == ["a (threshold 0.50)", "b (threshold 0.50)"]
    assert _is_png(zoo.evaluation.plots.plot_confusion(sigmoid, tmp_path / "c.png", "tags", split="validation"))


def test_history_panels_fill_their_rows_with_whole_epochs_and_named_stages():
    epochs = np.arange(1, 6)
    history = pd.DataFrame({"epoch": epochs, "stage": ["frozen"] * 3 + ["fine-tune"] * 2,
                            **{name: epochs * 0.1 for name in ("loss", "a_loss", "b_loss", "a_acc", "b_acc")},
                            "val_loss": epochs * 0.2, "val_score": epochs * 0.3, "empty": [np.nan] * 5})
    figure = zoo.evaluation.plots.history_figure(history)
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["loss", "a_acc", "a_loss", "b_acc", "b_loss", "score"]  # no panel for all-NaN "empty"
    assert [axes.get_subplotspec().colspan for axes in figure.axes][:4] == [range(0, 2), range(2, 4),
                                                                          range(4, 6), range(0, 2)]
    for axes in figure.axes:
        assert all(float(tick).is_integer() for tick in axes.get_xticks())
        assert [t.get_text() for t in axes.texts] == ["stage: frozen", "stage: fine-tune"]
        assert axes.get_xlabel() == "epoch" and axes.get_ylabel()
        assert [line.get_xdata()[0] for line in axes.lines if line.get_linestyle() == ":"] == [3.5]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["train", "validation", "stage boundary"]
    one_epoch = zoo.evaluation.plots.history_figure(history.head(1))
    assert all(list(axes.get_xticks()) == [1] for axes in one_epoch.axes)
    one_stage = zoo.evaluation.plots.history_figure(history.assign(stage="train"))
    assert all(not axes.texts for axes in one_stage.axes)  # no lone "train" beside the train line
    assert [t.get_text() for t in one_stage.legends[0].get_texts()] == ["train", "validation"]


def test_prediction_sheet_marks_each_head_right_or_wrong(tmp_path):
    images = np.random.default_rng(0).uniform(0, 255, (3, 16, 16, 3))
    true = {"color": ["red", "blue", "red"], "tags": [("a", "b"), ("a",), ()]}
    predicted = {"color": ["red", "red", "red"], "tags": [("a", "b"), ("a",), ("b",)]}
    figure = zoo.evaluation.plots.prediction_sheet_figure(images, ["x/1.jpg", "x/2.jpg", "y/3.jpg"], true, predicted)
    texts = [(t.get_text(), t.get_color()) for t in _texts(figure)]
    assert texts == [("color: red", "green"), ("tags: a b", "green"),
                     ("color: red (true: blue)", "red"), ("tags: a", "green"),
                     ("color: red", "green"), ("tags: b (true: (none))", "red")]
    assert figure.get_suptitle() == "color 2/3 right, tags 2/3 right"
    assert [axes.get_title() for axes in figure.axes] == ["x/1.jpg", "x/2.jpg", "y/3.jpg"]
    path = zoo.evaluation.plots.plot_prediction_sheet(images, ["1.jpg", "2.jpg", "3.jpg"], true, predicted,
                                           tmp_path / "sheet.png")
    assert _is_png(path)


def test_contact_sheet_shows_mistakes_first_and_every_class():
    from zoo.evaluation.sheets import sheet_rows

    rng = np.random.default_rng(0)
    classes = [f"c{i}" for i in range(12)]
    kind = zoo.Head("kind", classes, kind="multiclass")
    truth = np.r_[np.zeros(80, int), np.arange(12)]  # 80 images of c0 first, then one of each class
    probabilities = np.full((92, 12), 0.01)
    probabilities[np.arange(92), truth] = rng.uniform(0.5, 0.9, 92)
    mistakes = [3, 40, 85]
    probabilities[mistakes, truth[mistakes]] = 0.01
    probabilities[mistakes, 7] = 0.9
    predictions = zoo.Predictions({"kind": probabilities}, {"kind": np.eye(12)[truth]}, [kind])
    rows = sheet_rows(predictions, limit=20)
    assert len(rows) == 20 and set(rows[:3]) == set(mistakes)
    assert {truth[i] for i in rows} == set(range(12))  # the first 20 rows would all be c0
    shown_right = rows[3:]
    losses = -np.log(probabilities[shown_right, truth[shown_right]])
    assert sheet_rows(predictions, limit=200) and list(losses) == sorted(losses, reverse=True)
    many = zoo.Head("many", [f"m{i}" for i in range(60)], kind="multiclass")
    every = zoo.Predictions({"many": np.eye(60)[np.arange(120) % 60]}, {"many": np.eye(60)[np.arange(120) % 60]},
                           [many])
    assert len(sheet_rows(every, limit=40)) == 60  # grows to hold every class
