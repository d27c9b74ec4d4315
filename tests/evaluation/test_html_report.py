import html
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.evaluation.report_run import make_run
from zoo.evaluation import html_report
from zoo.evaluation.html_page import json_html, number_text


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    made = make_run(folder)
    return folder, made


def _cells(page: str) -> list[dict]:
    """The summary cells: their exact value, shown text, report file, head and figure."""
    pattern = re.compile(r'<td class="num" data-value="([^"]*)" data-report="([^"]*)" data-head="([^"]*)" '
                         r'data-metric="([^"]*)">([^<]*)</td>')
    return [dict(zip(("value", "report", "head", "metric", "text"), map(html.unescape, m)))
            for m in pattern.findall(page)]


def test_every_heads_figures_equal_the_report_csv_files(run):
    folder, _ = run
    page = (folder / "report.html").read_text()
    cells = _cells(page)
    checked = 0
    for name in ("report.csv", "report_threshold_0.5.csv", "report_tuned_cross_fitted.csv"):
        frame = pd.read_csv(folder / name)
        for _, row in frame[frame["class"] == "(all)"].iterrows():
            for metric, value in row.drop(["head", "class"]).dropna().items():
                [shown] = [c for c in cells if (c["report"], c["head"], c["metric"]) == (name, row["head"], metric)]
                assert float(shown["value"]) == value
                assert shown["text"] == (str(int(value)) if metric == "samples" else f"{value:.4f}")
                checked += 1
    assert checked == len([c for c in cells if c["value"] != "nan"]) and checked > 30


def test_the_page_needs_no_network_and_shows_every_file_it_reads(run):
    folder, _ = run
    page = (folder / "report.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert all(src.startswith("data:image/") for src in re.findall(r'src="([^"]*)"', page))
    for heading in ("Data", "Plan", "History", "Head color", "Head tags", "Most wrong", "Likely label mistakes"):
        assert f"<h2>{heading}</h2>" in page
    assert "a_key_no_renderer_knows" in page  # data_summary.json, key by key
    assert "val_score: the mean over heads" in page
    issues = page[page.index('id="label-issues"'):]
    assert issues.index("03.png") < issues.index("05.png") and "suggested" in issues


def test_the_gallery_holds_the_highest_loss_images_first_with_grad_cams(run):
    folder, made = run
    predictions = made["predictions"]
    losses = np.zeros(len(predictions))
    for head, targets, probabilities in predictions.by_head():  # scikit-learn's log loss, image by image
        from sklearn.metrics import log_loss

        for i in range(len(losses)):
            if head.kind == "multiclass":
                losses[i] += log_loss([targets[i].argmax()], probabilities[i:i + 1], labels=range(len(head.classes)))
            else:
                losses[i] += np.mean([log_loss([targets[i, j]], [[1 - p, p]], labels=[0, 1])
                                      for j, p in enumerate(probabilities[i])])
    page = (folder / "report.html").read_text()
    shown = [html.unescape(f) for f in re.findall(r'<div class="card" style="[^"]*" data-file="([^"]*)"', page)]
    expected = [Path(made["files"][i]).resolve() for i in np.argsort(-losses, kind="stable")[:len(shown)]]
    assert [Path(f) for f in shown] == expected
    assert len(shown) == min(html_report.GALLERY_SIZE, len(losses))
    gallery = page[page.index('id="gallery"'):page.index('id="label-issues"')]
    assert gallery.count("Grad-CAM (color)") == len(shown) and gallery.count("Grad-CAM (tags)") == len(shown)


@pytest.mark.slow  # a new process loads TensorFlow: about 20 s
def test_report_command_writes_the_page_again_in_a_new_process(run, tmp_path):
    folder, _ = run
    output = tmp_path / "again.html"
    result = subprocess.run([sys.executable, "-m", "zoo", "report", str(folder), "--gallery", "3",
                             "--output", str(output)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"report written to {output}" in result.stdout
    page = output.read_text()
    assert page.count('<div class="card"') == 3 and "Grad-CAM (tags)" not in page  # no model file in the folder
    missing = subprocess.run([sys.executable, "-m", "zoo", "report", str(tmp_path / "nowhere")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "RUN_DIR: no such folder" in missing.stderr


def test_json_of_any_shape_renders_and_counts_show_as_integers():
    assert number_text(19.0, integer=True) == "19" and number_text(0.5) == "0.5000"
    page = json_html({"heads": {"a": {"train": 3, "validation": 1}, "b": {"train": 2}}, "list": [{"x": 1}],
                      "deep": {"deeper": [[1, 2], {"k": None}]}})
    assert "<th>train</th>" in page and "<dt>deeper</dt>" in page and "<th>x</th>" in page


def test_the_gallery_of_an_exported_model_shows_its_labels_without_grad_cams(run):
    from zoo.io.export.runtimes import ExportedModel
    from zoo.models.card import card_of

    folder, made = run
    exported = ExportedModel(folder / "model.onnx", card_of(made["model"]))  # no layers: no Grad-CAM
    section = html_report.gallery_section(made["files"], made["predictions"], exported, count=4)
    assert section.count('<div class="card"') == 4 and section.count("color: given") == 4
    assert "Grad-CAM (" not in section and section.count('src="data:image/') == 4


def test_gallery_grad_cams_are_those_of_each_images_own_predicted_class(run):
    import zoo

    folder, made = run
    model, predictions = made["model"], made["predictions"]
    rows = [0, 1, 2, 3]
    images = {row: np.asarray(html_report._read_image(Path(made["files"][row]), (32, 32))) for row in rows}
    cams = html_report._gradcams(model, images, predictions, rows)
    for head, _, _ in predictions.by_head():
        for row in rows:
            name, heatmap = cams[(row, head.name)]
            assert name == head.classes[int(np.argmax(model.predict(images[row][None], verbose=0)[head.name]))]
            expected = zoo.explain(model, images[row][None], head=head.name, class_name=name)[0]
            np.testing.assert_allclose(heatmap, expected, atol=1e-5)
