"""Model cards: what a model is, what it was trained on and how well it does.

`write_model_card` writes `MODEL_CARD.md` (for people) and `MODEL_CARD.json`
(the same facts, for programs) into a folder, usually beside the model file.

Example:
    >>> import zoo
    >>> from zoo.io.model_card import write_model_card
    >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]}, input_shape=(32, 32, 3),
    ...                   weights=None)
    >>> [p.name for p in write_model_card(model, "/tmp/card_example")]
    ['MODEL_CARD.md', 'MODEL_CARD.json']
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Mapping

import numpy as np

from zoo.io.atomic import write_text
from zoo.models.card import ModelCard, card_of

MARKDOWN_FILE = "MODEL_CARD.md"
JSON_FILE = "MODEL_CARD.json"
PIXELS = "RGB, pixels 0..255; the model applies its backbones' preprocessing itself"


def _plain(value):
    """JSON-safe copies of numbers, arrays and frames (NaN becomes None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return [_plain(row) for row in value.to_dict("records")]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _preprocessing(backbone: str):
    try:
        from zoo.models.backbones import get_backbone_spec

        return get_backbone_spec(backbone).preprocessing
    except Exception:  # a backbone this installation does not know
        return None


def _counts(label_counts) -> dict | None:
    """{"splits": [...], "rows": [{"head", "class", split: count}]} from `zoo.data.label_counts`."""
    if label_counts is None:
        return None
    splits = [c for c in label_counts.columns if not str(c).endswith("_fraction")]
    rows = [{"head": head, "class": name, **{s: int(row[s]) for s in splits}}
            for (head, name), row in label_counts.iterrows()]
    return {"splits": [str(s) for s in splits], "rows": rows}


def model_card(model_or_info, label_counts=None, report: dict | None = None, plan=None,
               notes: str | None = None) -> dict:
    """The facts of a model card as a JSON-ready dict.

    Args:
        model_or_info: A keras.Model, its `zoo.models.card.ModelCard`, or its `zoo.model_info` dict.
        label_counts: `zoo.data.label_counts(splits, heads)`: positives per
            (head, class) and split.
        report: `zoo.evaluate(model, dataset)`: per-head summaries and tables.
        plan: A `zoo.training.plan.Plan` or its dict; default: the plan stored in the
            model's metadata, if any.
        notes: Free text (intended use, limits), shown first.

    Returns:
        {"architecture", "branches", "input", "heads", "training_data", "plan",
        "evaluation", "notes"}.

    Example:
        >>> model_card({"architecture": "x", "input_shape": [32, 32, 3], "heads": {}})["input"]["shape"]
        [32, 32, 3]
    """
    if isinstance(model_or_info, ModelCard):
        card = model_or_info
    elif isinstance(model_or_info, Mapping):
        card = ModelCard.from_dict(model_or_info)
    else:
        card = card_of(model_or_info)
    branches = [
        {"layer": layer, "backbone": backbone, "preprocessing": _preprocessing(backbone),
         "started_from": card.pretrained[layer].source if layer in card.pretrained else "unknown",
         "weights_file": card.pretrained[layer].file if layer in card.pretrained else None}
        for layer, backbone in card.branches.items()
    ]
    heads = []
    for head in card.heads:
        threshold = head.threshold
        thresholds = [float(threshold)] * head.units if isinstance(threshold, (int, float)) else list(threshold)
        heads.append({"name": head.name, "kind": head.kind, "classes": list(head.classes),
                      "thresholds": None if head.kind == "multiclass" else thresholds})
    plan = plan if plan is not None else card.plan
    plan = plan.to_dict() if hasattr(plan, "to_dict") else plan
    evaluation = None
    if report is not None:
        evaluation = {head: {"summary": _plain(part["summary"]), "per_class": _plain(part.get("per_class"))}
                      for head, part in report.items()}
    return {
        "architecture": card.architecture,
        "backbone": dict(card.backbone) if isinstance(card.backbone, dict) else card.backbone,
        "branches": branches,
        "input": {"shape": list(card.input_shape), "pixels": PIXELS},
        "heads": heads,
        "training_data": _counts(label_counts),
        "plan": _plain(plan),
        "evaluation": evaluation,
        "notes": notes,
    }


def _table(header: list, rows: list) -> list[str]:
    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value).replace("|", "\\|")

    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def card_markdown(card: dict) -> str:
    """The card dict of `model_card` as Markdown.

    Example:
        >>> card = model_card({"architecture": "x", "input_shape": [32, 32, 3],
        ...                    "heads": {"tags": {"kind": "multilabel", "classes": ["a", "b"], "threshold": 0.5}}})
        >>> [line for line in card_markdown(card).splitlines() if line.startswith("| tags")]
        ['| tags | multilabel | a, b | 0.5, 0.5 |']
    """
    lines = [f"# Model card: {card['architecture'] or 'Keras model'}", ""]
    if card.get("notes"):
        lines += [card["notes"], ""]
    shape = card["input"]["shape"]
    lines += ["## Architecture", ""]
    if card["branches"]:
        lines += _table(["branch", "backbone", "preprocessing", "started from"],
                        [[b["layer"], b["backbone"], b["preprocessing"],
                          b["started_from"] + (f" ({b['weights_file']})" if b["weights_file"] else "")]
                         for b in card["branches"]])
    else:
        lines.append("No zoo backbone recorded (a plain Keras model).")
    lines += ["", "## Input", "", f"{'x'.join(str(d) for d in shape)} images, {card['input']['pixels']}.", ""]
    lines += ["## Heads", ""]
    lines += _table(["head", "kind", "classes", "thresholds"],
                    [[h["name"], h["kind"], ", ".join(h["classes"]),
                      "argmax" if h["thresholds"] is None else ", ".join(f"{t:.3g}" for t in h["thresholds"])]
                     for h in card["heads"]])
    data = card.get("training_data")
    if data:
        lines += ["", "## Training data", "", "Images with each label, per split:", ""]
        lines += _table(["head", "class", *data["splits"]],
                        [[r["head"], r["class"], *(r[s] for s in data["splits"])] for r in data["rows"]])
    plan = card.get("plan")
    if plan:
        size = plan.get("image_size")
        lines += ["", "## Training plan", "",
                  f"Input {'x'.join(str(d) for d in size) if size else '?'}, batch {plan.get('batch_size', '?')}, "
                  f"augmentation {'on' if plan.get('augment') else 'off'}.", ""]
        stages = plan.get("stages") or []
        keys = [k for k in ("name", "epochs", "trainable", "learning_rate", "schedule") if any(k in s for s in stages)]
        lines += _table(["stage", *keys], [[i, *(s.get(k) for k in keys)] for i, s in enumerate(stages, 1)])
    evaluation = card.get("evaluation")
    if evaluation:
        lines += ["", "## Evaluation", ""]
        for head, part in evaluation.items():
            summary = part["summary"]
            lines += [f"### {head}", ""] + _table(list(summary), [list(summary.values())]) + [""]
            per_class = part.get("per_class") or []
            if per_class:
                columns = [c for c in per_class[0] if c not in ("tp", "fp", "fn", "tn")]
                lines += _table(columns, [[row[c] for c in columns] for row in per_class]) + [""]
    return "\n".join(lines).rstrip() + "\n"


def write_model_card(model, folder, label_counts=None, report: dict | None = None, plan=None,
                     notes: str | None = None) -> tuple[Path, Path]:
    """Writes `MODEL_CARD.md` and `MODEL_CARD.json` into `folder`.

    Args:
        model: A keras.Model (or its `zoo.models.card.ModelCard` or `zoo.model_info` dict).
        folder: Where to write, usually the model file's folder.
        label_counts: `zoo.data.label_counts(splits, heads)`.
        report: `zoo.evaluate(model, dataset)`.
        plan: A `zoo.training.plan.Plan` or its dict (default: the one in the model's metadata).
        notes: Free text shown at the top.

    Returns:
        The paths of the Markdown and JSON files.

    Example:
        >>> import zoo
        >>> model = zoo.build("multilabel_small", heads={"tags": ["sea", "sunset"]}, input_shape=(32, 32, 3),
        ...                   weights=None)
        >>> markdown, data = write_model_card(model, "/tmp/card_example", notes="Scenes.")
        >>> markdown.read_text().splitlines()[:3]
        ['# Model card: multilabel_small', '', 'Scenes.']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    card = model_card(model, label_counts=label_counts, report=report, plan=plan, notes=notes)
    markdown, data = folder / MARKDOWN_FILE, folder / JSON_FILE
    write_text(data, json.dumps(card, indent=1))
    write_text(markdown, card_markdown(card))
    return markdown, data


__all__ = ["card_markdown", "model_card", "write_model_card"]
