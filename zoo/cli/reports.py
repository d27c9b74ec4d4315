"""What `zoo train` and `zoo evaluate` print and write: report tables, the summary, what to run next.

Example:
    >>> import pandas as pd
    >>> report = {"tags": {"summary": {"samples": 2, "micro_f1": 0.5},
    ...                    "per_class": pd.DataFrame([{"class": "sea", "f1": 0.5}])}}
    >>> report_frame(report)[["head", "class"]].values.tolist()
    [['tags', '(all)'], ['tags', 'sea']]
    >>> report_frame({}).columns.tolist()
    ['head', 'class']
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.cli.sources import source_flags

if TYPE_CHECKING:
    import pandas as pd


# Columns of counts: whole numbers in report.csv and the printed tables, never `19.0`.
COUNT_COLUMNS = ("samples", "support", "tp", "fp", "fn", "tn")


def integer_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its count columns as integers (empty where a row has none).

    Example:
        >>> import pandas as pd
        >>> integer_counts(pd.DataFrame({"samples": [19.0, None], "f1": [0.5, 0.25]}))["samples"].tolist()
        [19, <NA>]
    """
    frame = frame.copy()
    for column in COUNT_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def plain_table(frame: pd.DataFrame) -> str:
    """A table for the terminal: one header line, no index column, empty cells for missing figures."""
    return integer_counts(frame).to_string(index=False, na_rep="")


def print_report(report: dict) -> None:
    """Prints each head's summary and per-class table."""
    import pandas as pd

    from zoo.evaluation.report import summary_table

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print(plain_table(summary_table(report).rename_axis("head").reset_index()))
        for name, part in report.items():
            print(f"\n{name}:")
            print(plain_table(part["per_class"]))


def report_frame(report: dict) -> pd.DataFrame:
    """All heads' per-class rows and summaries in one CSV-ready table."""
    import pandas as pd

    frames = []
    for name, part in report.items():
        rows = part["per_class"].copy()
        rows.insert(0, "head", name)
        summary = pd.DataFrame([{"head": name, "class": "(all)", **part["summary"]}])
        frames.extend([summary, rows])
    if not frames:  # e.g. tuned thresholds of a model whose heads are all multiclass
        return pd.DataFrame(columns=["head", "class"])
    return integer_counts(pd.concat(frames, ignore_index=True))


def print_summary(reports: dict, model, written, output: Path, model_path: Path, config, took: str) -> None:
    """The figures (every report side by side), thresholds by class, the files, and what to run next.

    `config` is the run's `zoo.training.config.RunConfig` (its thresholds' metric and label source).
    """
    import numpy as np
    import pandas as pd

    from zoo.cli.run_config import source_arguments
    from zoo.models.heads import thresholded
    from zoo.models.card import heads_of

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        print("\nValidation split:")
        print(plain_table(side_by_side(reports).reset_index()))
        final = list(reports.values())[-1]
        for name, part in final.items():
            print(f"\n{name}:")
            print(plain_table(part["per_class"]))
    for head in thresholded(heads_of(model)) if config.tune_thresholds else ():
        pairs = ", ".join(f"{c} {t:.2f}" for c, t in zip(head.classes, np.ravel(head.threshold)))
        print(f"thresholds of {head.name} ({config.tune_thresholds}): {pairs}")
    print(f"\nDone in {took}. Written to {output}/: {', '.join(written)}")
    source = shlex.join(source_flags(source_arguments(config)))
    model_path, onnx = shlex.quote(str(model_path)), shlex.quote(str(output / "model.onnx"))
    print("Next:\n"
          f"  zoo evaluate {model_path} {source}    # on other labelled images\n"
          f"  zoo predict {model_path} PHOTOS/ --output predictions.csv\n"
          f"  zoo export {model_path} --format onnx --output {onnx}")


def side_by_side(reports: dict) -> pd.DataFrame:
    """One row per head and report, the main figures as columns."""
    import pandas as pd

    from zoo.evaluation.report import summary_table

    frames = []
    for label, report in reports.items():
        table = summary_table(report)
        table.insert(0, "report", label)
        frames.append(table)
    table = pd.concat(frames).rename_axis("head").reset_index().set_index(["head", "report"]).sort_index(
        level=0, sort_remaining=False)
    if "samples" in table:
        table["samples"] = table["samples"].astype(int)
    return table


def finish_run(config, model, plan, rows, validation_data, prepared, began: float) -> None:
    """The end of `zoo train`: the best epoch's weights, the reports, plots, model card and the model file.

    Everything is written to `config.output` (a `zoo.training.config.RunConfig`), which then
    records the run as finished.
    """
    import dataclasses
    import shutil
    import time

    import pandas as pd

    import zoo
    from zoo.io.model_card import write_model_card
    from zoo.io.progress import format_duration
    from zoo.models.card import card_of, set_card
    from zoo.training import run

    heads, validation_rows, counts, output = prepared.heads, prepared.validation_rows, prepared.counts, config.output
    best_epoch = restore_best(model, output)
    if best_epoch == 0:
        print(f"Restored the weights the heads' stage ended with: no fine-tuning epoch did better on validation "
              f"({run.MONITOR_MEANING})")
    elif best_epoch is not None:
        print(f"Restored the weights of epoch {best_epoch}, the best on validation ({run.MONITOR_MEANING})")
    zoo.evaluation.plots.plot_history(pd.DataFrame(rows), output / "history.png")

    predictions = zoo.Predictions.of(model, validation_data)  # one pass serves every report
    written = list(dict.fromkeys([run.RUN_FILE, run.PLAN_FILE, run.SPLIT_FILE, "label_counts.csv", "label_counts.png",
                                  *prepared.summary_files, "history.csv", "history.png", run.BEST_MODEL]))
    reports = {}
    if config.tune_thresholds:
        reports["threshold 0.5"] = zoo.evaluate(model, predictions)
        report_frame(reports["threshold 0.5"]).to_csv(output / "report_threshold_0.5.csv", index=False)
        # Tuned and scored on the same images, report.csv flatters the thresholds; this does not.
        reports["tuned, cross-fitted"] = zoo.evaluation.thresholds.cross_fitted_report(
            model, predictions, metric=config.tune_thresholds)
        report_frame(reports["tuned, cross-fitted"]).to_csv(output / "report_tuned_cross_fitted.csv", index=False)
        zoo.tune_thresholds(model, predictions, metric=config.tune_thresholds)
        written += ["report_threshold_0.5.csv", "report_tuned_cross_fitted.csv"]
    report = zoo.evaluate(model, predictions)
    reports["tuned on these images" if config.tune_thresholds else "validation"] = report
    report_frame(report).to_csv(output / "report.csv", index=False)
    for name, part in report.items():
        zoo.evaluation.plots.plot_confusion(part, output / f"confusion_{name}.png", title=name, split="validation")
        written.append(f"confusion_{name}.png")
    prediction_sheet(model, validation_rows, predictions, heads, output / "predictions.png", config.images)
    written.append("predictions.png")
    set_card(model, dataclasses.replace(card_of(model), plan=plan.to_dict()))
    model_path = output / f"model.{config.format}"
    zoo.save_model(model, model_path)
    write_model_card(model, output, label_counts=counts, report=report, plan=plan.to_dict())
    written += ["MODEL_CARD.md", "MODEL_CARD.json"]
    run.write_run(config, finished=True)
    shutil.rmtree(output / run.BACKUP_FOLDER, ignore_errors=True)
    written += [model_path.name, "report.csv"]
    written += [path.name for path in write_html_report(output, model, predictions, validation_data.files,
                                                         config.images)]
    print_summary(reports, model, written, output, model_path, config, format_duration(time.perf_counter() - began))


def write_html_report(output: Path, model, predictions, files, images=None, report_csv: Path | None = None) -> list:
    """Writes each scored image's probabilities and targets and the HTML page of the run; returns the paths.

    For `zoo train` (`report_csv` None): `scores.npz` and `report.html` in the `output` folder, from
    its report CSV files. For `zoo evaluate --output FILE.csv`: `FILE.scores.npz` and `FILE.html`
    beside it, so that evaluating into a run's folder leaves the run's own page alone.
    """
    from zoo.evaluation.html_report import write_report
    from zoo.evaluation.scored_images import SCORES_FILE, save_scores
    from zoo.models.card import heads_of

    scores = output / SCORES_FILE if report_csv is None else report_csv.with_suffix(".scores.npz")
    save_scores(predictions, [Path(f).resolve() for f in files], scores, heads=heads_of(model))
    page = write_report(output, model, scores=scores, roots=(images,) if images else (),
                        **({} if report_csv is None else {"report_files": [("evaluation", report_csv.name)],
                                                          "output": report_csv.with_suffix(".html")}))
    return [scores, page]


def restore_best(model, output: Path) -> int | None:
    """Loads the best validation epoch's weights; returns that epoch."""
    import zoo
    from zoo.models.card import card_of
    from zoo.training.run import BEST_MODEL

    best_file = output / BEST_MODEL
    if not best_file.is_file():
        return None
    best = zoo.load_model(best_file, compile=False)
    model.set_weights(best.get_weights())
    card = card_of(best, infer=False)  # the loaded model carries the card saved with it
    return card.best.epoch if card is not None and card.best is not None else None


def prediction_sheet(model, validation_rows, predictions, heads, path, directory=None, limit: int = 40) -> None:
    """A contact sheet of validation images with each head's prediction: the mistakes first (highest
    loss first), at least one image of every class, `limit` images or more to hold every class.

    `predictions` are the `zoo.Predictions` of `validation_rows`, in their order.
    """
    import numpy as np

    from zoo.data import decode_predictions, make_dataset
    from zoo.evaluation.plots import plot_prediction_sheet
    from zoo.evaluation.sheets import sheet_rows

    chosen = sheet_rows(predictions, limit, heads)
    rows = validation_rows.iloc[chosen]
    size = tuple(model.input_shape[1:3])
    images = np.concatenate(list(make_dataset(rows, None, directory=directory, image_size=size, shuffle=False,
                                              batch_size=len(rows))))
    probabilities = predictions.probabilities
    true = {h.name: [tuple(v) for v in rows[h.name]] for h in heads}
    guessed = {h.name: decode_predictions(probabilities[h.name][chosen], h) for h in heads}
    plot_prediction_sheet(images, list(rows["filename"]), true, guessed, path,
                          title=f"validation predictions, mistakes first ({len(rows)} of {len(validation_rows)})")
