"""`report.html`: one self-contained page that shows a run: its data, plan, history, every head's
figures, the images the model gets most wrong with their Grad-CAM, and likely label mistakes.

The page is built from the files of a run folder (`report*.csv`, `scores.npz`, `history.csv`,
`plan.json`, and `data_summary.json` and `label_issues.csv` where present), so the figures it
shows are those of `report.csv`, and `zoo report RUN_DIR` builds it again at any time. With the
model at hand, each gallery image also gets the Grad-CAM of its predicted class.

Example:
    >>> write_report("zoo_output", model)  # doctest: +SKIP
    PosixPath('zoo_output/report.html')
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.evaluation import html_page as h
from zoo.evaluation.plots import ORDERED_BY_NAME, fold_classes
from zoo.evaluation.scored_images import SCORES_FILE, given_labels, image_losses, load_scores, most_wrong

REPORT_HTML = "report.html"
DATA_SUMMARY = "data_summary.json"
LABEL_ISSUES = "label_issues.csv"
# The reports `zoo train` writes, in the order shown; report.csv is the one the model holds.
REPORT_FILES = (("threshold 0.5", "report_threshold_0.5.csv"),
                ("tuned, cross-fitted", "report_tuned_cross_fitted.csv"),
                ("model's thresholds", "report.csv"))
VAL_SCORE = ("val_score: the mean over heads of validation accuracy (multiclass heads) and mAP (multilabel and "
             "binary heads), a figure that needs no threshold; the epoch with the highest one is kept.")
GALLERY_SIZE = 24
LABEL_ISSUES_SHOWN = 60


def read_reports(folder, report_files=None) -> dict:
    """{label: report table} of the report CSVs (`zoo.cli.reports.report_frame` tables) present.

    Args:
        folder: The run folder.
        report_files: (label, file name) pairs (default: `REPORT_FILES`, or where none is
            there, every CSV file of report rows in the folder).
    """
    folder = Path(folder)
    reports = {}
    for label, name in report_files or REPORT_FILES:
        if (folder / name).is_file():
            reports[label] = (name, pd.read_csv(folder / name))
    if not reports and report_files is None:  # e.g. `zoo evaluate --output eval.csv`
        for path in sorted(folder.glob("*.csv")):
            with open(path, encoding="utf-8") as handle:
                if handle.readline().startswith("head,class,"):
                    reports[path.stem] = (path.name, pd.read_csv(path))
    return reports


def _summary_rows(frame: pd.DataFrame, head: str) -> dict:
    rows = frame[(frame["head"] == head) & (frame["class"] == "(all)")]
    if rows.empty:
        return {}
    row = rows.iloc[0].drop(["head", "class"])
    return {k: v for k, v in row.items() if not pd.isna(v)}


def summary_section(head: str, reports: dict) -> str:
    """The head's summary figures, one row per report; each cell names its file, head and figure."""
    summaries = {label: (name, _summary_rows(frame, head)) for label, (name, frame) in reports.items()}
    summaries = {label: part for label, part in summaries.items() if part[1]}  # tuned reports skip multiclass
    metrics = list(dict.fromkeys(m for _, values in summaries.values() for m in values))
    rows = []
    for label, (name, values) in summaries.items():
        cells = [h.cell(label), h.cell(name)]
        for metric in metrics:
            attributes = (f'data-report="{h.escape(name)}" data-head="{h.escape(head)}" '
                          f'data-metric="{h.escape(metric)}"')
            cells.append(h.cell(values.get(metric, float("nan")), attributes, integer=metric in h.COUNTS))
        rows.append(cells)
    shown = h.table(["report", "file"] + metrics, rows, raw_cells=True, attributes='class="summary"')
    return f'<div class="scroll">{shown}</div>'


def per_class_frame(frame: pd.DataFrame, head: str) -> pd.DataFrame:
    """The head's per-class rows of a report table, without the columns it leaves empty."""
    rows = frame[(frame["head"] == head) & (frame["class"] != "(all)")].drop(columns=["head"])
    return rows.dropna(axis=1, how="all").reset_index(drop=True)


def _shade(fraction: float) -> str:
    fraction = 0.0 if np.isnan(fraction) else float(fraction)
    text = "#fff" if fraction > 0.55 else "#1d2330"
    return f"background:rgba(36,86,166,{0.06 + 0.94 * fraction:.3f});color:{text}"


def confusion_html(classes, matrix) -> str:
    """A multiclass confusion matrix as a table of counts, each cell shaded by its row's fraction
    (how the images of the true class were predicted); hover a cell for its class pair."""
    matrix = np.asarray(matrix)
    totals = matrix.sum(axis=1, keepdims=True)
    fractions = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    head = '<tr><th class="row">true \\ predicted</th>' + "".join(
        f'<th class="col">{h.escape(c)}</th>' for c in classes) + "</tr>"
    body = []
    for i, true in enumerate(classes):
        cells = "".join(
            f'<td style="{_shade(fractions[i, j])}" title="true {h.escape(true)}, predicted {h.escape(pred)}: '
            f'{matrix[i, j]} ({100 * fractions[i, j]:.0f}% of the row)">{matrix[i, j] if matrix[i, j] else ""}</td>'
            for j, pred in enumerate(classes))
        body.append(f'<tr><th class="row">{h.escape(true)} ({int(totals[i, 0])})</th>{cells}</tr>')
    return (f'<div class="scroll"><table class="confusion"><thead>{head}</thead><tbody>{"".join(body)}'
            f"</tbody></table></div>")


def sigmoid_confusion_html(per_class: pd.DataFrame) -> str:
    """Each class's 2x2 confusion as one row: true positives, misses, false alarms, true negatives,
    shaded by their share of the images with (TP, FN) and without (FP, TN) the class."""
    rows = []
    for _, row in per_class.iterrows():
        tp, fn, fp, tn = (int(row[k]) for k in ("tp", "fn", "fp", "tn"))
        positives, negatives = max(tp + fn, 1), max(fp + tn, 1)
        cells = [f'<td style="{_shade(v / total)}" class="num">{v}</td>'
                 for v, total in ((tp, positives), (fn, positives), (fp, negatives), (tn, negatives))]
        rows.append(h.cell(row["class"]) + "".join(cells))
    return h.table(["class", "TP (has it, predicted)", "FN (has it, missed)", "FP (predicted, has not)",
                    "TN"], [[r] for r in rows], raw_cells=True, attributes='class="confusion"')


def head_section(head, reports: dict, predictions) -> str:
    """Summary figures, the sortable per-class table, the confusion matrix and threshold curves of a head."""
    from zoo.evaluation.threshold_plots import threshold_curves_figure

    parts = ['<p class="note">Figures on the validation images, as in the report CSV files named. Click a '
             "column's header to sort the per-class table.</p>", summary_section(head.name, reports)]
    final_name, final = list(reports.values())[-1]
    per_class = per_class_frame(final, head.name)
    parts.append(f"<h3>Per class ({h.escape(final_name)})</h3>")
    rows = h.table(list(per_class.columns), per_class.values.tolist(), sortable=True,
                   attributes=f'data-head="{h.escape(head.name)}"')
    parts.append(f'<div class="scroll">{rows}</div>')
    parts.append("<h3>Confusion</h3>")
    if head.kind == "multiclass" and predictions is not None:
        _, targets, probabilities = predictions.by_head([head])[0]
        indices = np.arange(len(head.classes))
        matrix = pd.crosstab(pd.Categorical(np.asarray(targets).argmax(1), indices),
                             pd.Categorical(np.asarray(probabilities).argmax(1), indices), dropna=False).to_numpy()
        matrix, classes = fold_classes(matrix, list(head.classes), most=max(len(head.classes), 1))
        order = "; classes ordered by their number of images" if len(classes) > ORDERED_BY_NAME else ""
        parts.append('<p class="note">Rows: the given class (its number of images); columns: the predicted one. '
                     f"Shading is the share of the row{order}.</p>" + confusion_html(classes, matrix))
    elif {"tp", "fn", "fp", "tn"} <= set(per_class.columns):
        parts.append(sigmoid_confusion_html(per_class))
    if head.kind != "multiclass" and predictions is not None:
        parts.append("<h3>Against one threshold for all classes</h3>")
        parts.append(h.figure_tag(threshold_curves_figure(predictions, [head]), f"{head.name} threshold curves"))
    return "".join(parts)


def _find(file: str, roots) -> Path | None:
    path = Path(file)
    for candidate in [path] + [Path(r) / path for r in roots if r is not None]:
        if candidate.is_file():
            return candidate
    return None


def _read_image(path, size=None):
    """The image as a 0..255 array (resized to (height, width) `size`), or None when unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as picture:
            picture = picture.convert("RGB")
            if size is not None:
                picture = picture.resize((size[1], size[0]), Image.BILINEAR)
            return np.asarray(picture, "float32")
    except (OSError, ValueError):
        return None


def _predicted_class(head, probabilities) -> str:
    """The class whose Grad-CAM a gallery image shows: the top class (binary: the predicted side)."""
    if head.kind == "binary":
        positive = probabilities[0] > float(np.ravel(head.threshold)[0])
        return head.classes[-1] if positive or len(head.classes) == 1 else head.classes[0]
    return head.classes[int(np.argmax(probabilities))]


def _gradcams(model, images: dict, predictions, chosen: list[int]) -> dict:
    """{(row, head): (class, heatmap)} for the readable images: one gradient pass per head (a binary head's
    two sides: one each). The class is the model's prediction on the very pixels explained."""
    from zoo.evaluation.explain import explain

    cams = {}
    rows = [row for row in chosen if row in images]
    batch = np.stack([images[r] for r in rows])
    outputs = model.predict(batch, verbose=0)
    for head, _, _ in predictions.by_head():
        predicted = {row: _predicted_class(head, np.asarray(outputs[head.name][i])) for i, row in enumerate(rows)}
        if head.kind != "binary":  # the top class is each image's own top logit: one pass for all images
            maps = explain(model, batch, head=head.name)
            cams.update({(row, head.name): (predicted[row], heatmap) for row, heatmap in zip(rows, maps)})
            continue
        by_class = {}
        for row in rows:
            by_class.setdefault(predicted[row], []).append(row)
        for name, same in by_class.items():
            maps = explain(model, np.stack([images[r] for r in same]), head=head.name, class_name=name)
            cams.update({(row, head.name): (name, heatmap) for row, heatmap in zip(same, maps)})
    return cams


def _has_layers(model) -> bool:
    """Whether `model` is a keras.Model, whose layers Grad-CAM reads (an export's runtime model has none)."""
    if model is None:
        return False
    import keras

    return isinstance(model, keras.Model)


def gallery_section(files, predictions, model=None, roots=(), count: int = GALLERY_SIZE) -> str:
    """The `count` validation images with the highest loss, highest first, with given and predicted
    labels per head and, with a keras.Model `model`, the Grad-CAM of each head's predicted class
    (an exported model's runtime gets the labels alone)."""
    from zoo.data.encoding import decode_predictions

    chosen = most_wrong(predictions, count)
    losses = image_losses(predictions)
    size = None
    if model is not None:
        from zoo.models.card import card_of

        size = tuple(card_of(model).input_shape[:2])
    images, paths = {}, {}
    for row in chosen:
        paths[row] = _find(files[row], roots)
        image = _read_image(paths[row], size) if paths[row] is not None else None
        if image is not None:
            images[row] = image
    cams = _gradcams(model, images, predictions, chosen) if _has_layers(model) and images else {}
    if cams:
        from zoo.evaluation.explain import overlay
    given = {head.name: given_labels(head, targets) for head, targets, _ in predictions.by_head()}
    guessed = {head.name: decode_predictions(probabilities, head) for head, _, probabilities in predictions.by_head()}
    cards = []
    for rank, row in enumerate(chosen, start=1):
        pictures = (h.thumbnail_tag(images[row], f"image {rank}") if row in images
                    else '<p class="note">image not found</p>')
        lines = []
        for head in predictions.heads:
            truth, guess = given[head.name][row], guessed[head.name][row]
            ok = set(truth) == set(guess)
            lines.append(f'<div class="{"right" if ok else "wrong"}" data-head="{h.escape(head.name)}">'
                         f"{h.escape(head.name)}: given {h.escape(' '.join(truth) or '(none)')}, predicted "
                         f"{h.escape(' '.join(guess) or '(none)')}</div>")
            if (row, head.name) in cams:
                name, heatmap = cams[(row, head.name)]
                pictures += h.thumbnail_tag(overlay(images[row], heatmap), f"Grad-CAM {head.name}: {name}",
                                            attributes=f'title="Grad-CAM of {h.escape(head.name)}: {h.escape(name)}"')
                lines.append(f'<div class="note">Grad-CAM ({h.escape(head.name)}): {h.escape(name)}</div>')
        shown = "/".join(Path(files[row]).parts[-2:])
        width = 116 * (1 + (len(predictions.heads) if cams else 0)) + 4
        cards.append(f'<div class="card" style="width:{width}px" data-file="{h.escape(files[row])}" '
                     f'data-loss="{losses[row]!r}">'
                     f'<div class="pair">{pictures}</div><div class="file">{rank}. {h.escape(shown)}</div>'
                     f"<div>loss {losses[row]:.3f}</div>{''.join(lines)}</div>")
    note = (f'<p class="note">The {len(chosen)} of {len(files)} validation images with the highest loss (summed '
            "over heads), highest first. "
            + ("Beside each image: the Grad-CAM of the predicted class, where in the image the model found its "
               "evidence. " if cams else "")
            + "Some will be label mistakes rather than model mistakes.</p>")
    return note + f'<div class="gallery">{"".join(cards)}</div>'


def label_issues_section(frame: pd.DataFrame, roots=(), shown: int = LABEL_ISSUES_SHOWN) -> str:
    """The likely label mistakes `zoo audit` found (label_issues.csv), most likely first, with thumbnails."""
    if "rank" in frame:
        frame = frame.sort_values("rank", kind="stable")
    total = len(frame)
    frame = frame.head(shown)
    columns = [c for c in frame.columns]
    rows = []
    for number, (_, row) in enumerate(frame.iterrows()):
        path = _find(str(row.get("file", "")), roots) if number < 30 and "file" in row else None
        image = _read_image(path) if path is not None else None
        picture = h.thumbnail_tag(image, str(row["file"]), size=80) if image is not None else ""
        rows.append(f"<td>{picture}</td>" + "".join(h.cell(row[c], integer=c in h.COUNTS) for c in columns))
    note = (f'<p class="note">From {LABEL_ISSUES} (`zoo audit`): images whose given label the cross-fitted '
            f"model doubts, most likely mistakes first ({len(frame)} of {total} shown).</p>")
    shown_table = h.table(["image"] + columns, [[r] for r in rows], sortable=True, raw_cells=True)
    return note + f'<div class="scroll">{shown_table}</div>'


def data_section(folder: Path) -> str | None:
    """The data summary (`data_summary.json`, rendered key by key), else the label counts table."""
    if (folder / DATA_SUMMARY).is_file():
        summary = json.loads((folder / DATA_SUMMARY).read_text())
        return f'<p class="note">From {DATA_SUMMARY}.</p>' + h.json_html(summary)
    if (folder / "label_counts.csv").is_file():
        counts = pd.read_csv(folder / "label_counts.csv")
        return (f'<p class="note">Images per class and split (label_counts.csv).</p><div class="scroll">'
                f"{h.table(list(counts.columns), counts.values.tolist(), sortable=True)}</div>")
    return None


def history_section(folder: Path) -> str | None:
    """The history plot and the epochs' table."""
    from zoo.evaluation.plots import history_figure

    if not (folder / "history.csv").is_file():
        return None
    history = pd.read_csv(folder / "history.csv")
    if history.empty:
        return None
    shown = [c for c in history.columns if c in ("epoch", "stage", "loss", "val_loss", "val_score")]
    return (h.figure_tag(history_figure(history), "training history") + f'<p class="note">{h.escape(VAL_SCORE)}</p>'
            + f'<div class="scroll">{h.table(shown, history[shown].values.tolist(), sortable=True)}</div>')


def write_report(folder, model=None, *, output=None, report_files=None, scores=None, roots=(),
                 gallery: int = GALLERY_SIZE, title: str | None = None) -> Path:
    """Writes the run's `report.html` from the files in `folder`.

    Args:
        folder: The run folder (`zoo train --output`, or the folder of `zoo evaluate --output`).
        model: The model, for the Grad-CAM of the gallery images (optional).
        output: The HTML file (default: `folder/report.html`).
        report_files: (label, CSV file name) pairs of the reports to show (default: those
            `zoo train` writes).
        scores: The `save_scores` file (default: `folder/scores.npz`).
        roots: Folders that relative image names in the files are looked up under.
        gallery: How many of the highest-loss images to show.
        title: The page's heading.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: `folder` holds none of the report CSV files.
    """
    folder = Path(folder)
    reports = read_reports(folder, report_files)
    if not reports:
        names = ", ".join(name for _, name in report_files or REPORT_FILES)
        raise FileNotFoundError(f"No report in {folder}: none of {names}. Received: {folder}")
    scores = Path(scores) if scores is not None else folder / SCORES_FILE
    files, predictions = load_scores(scores) if scores.is_file() else ([], None)
    roots = (folder, *roots)
    sections = []
    data = data_section(folder)
    if data:
        sections.append(("data", "Data", data))
    if (folder / "plan.json").is_file():
        plan = json.loads((folder / "plan.json").read_text())
        sections.append(("plan", "Plan", h.json_html(plan)))
    history = history_section(folder)
    if history:
        sections.append(("history", "History", history))
    heads = predictions.heads if predictions is not None else _heads_of_report(list(reports.values())[-1][1])
    for head in heads:
        sections.append((f"head-{head.name}", f"Head {head.name}", head_section(head, reports, predictions)))
    if predictions is not None and len(files):
        sections.append(("gallery", "Most wrong", gallery_section(files, predictions, model, roots, gallery)))
    if (folder / LABEL_ISSUES).is_file():
        sections.append(("label-issues", "Likely label mistakes",
                         label_issues_section(pd.read_csv(folder / LABEL_ISSUES), roots)))
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    subtitle = f"{folder.resolve()} · {len(files) or 'no'} scored images · written {when}"
    document = h.page(title or f"zoo report: {folder.resolve().name}", subtitle, sections)
    path = Path(output) if output is not None else folder / REPORT_HTML
    path.write_text(document, encoding="utf-8")
    return path


def _heads_of_report(frame: pd.DataFrame) -> list:
    """Stand-in heads (names and classes) when no scores file is there."""
    from types import SimpleNamespace

    return [SimpleNamespace(name=name, kind="multiclass" if "accuracy" in rows and rows["accuracy"].notna().any()
                            else "multilabel", classes=list(rows.loc[rows["class"] != "(all)", "class"]))
            for name, rows in frame.groupby("head", sort=False)]
