import json

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo.io.model_card import card_markdown, model_card, write_model_card
from zoo.training.plan import choose_plan

HEADS = [zoo.Head("color", ["black", "blue", "red"], kind="multiclass"),
         zoo.Head("tags", ["sea", "sunset"], threshold=[0.3, 0.7])]


@pytest.fixture(scope="module")
def model():
    heads = {"color": ["black", "blue", "red"], "type": ["dress", "jeans", "shirt"]}
    return zoo.build("color_type", heads=heads, input_shape=(32, 32, 3), weights=None, compile=False)


@pytest.fixture(scope="module")
def tagged():
    return zoo.build("multilabel_small", heads=HEADS, input_shape=(32, 32, 3), weights=None, compile=False)


def _counts():
    train = pd.DataFrame({"file": list("abcd"), "color": [("black",), ("red",), ("red",), ("blue",)],
                          "tags": [("sea",), ("sea", "sunset"), (), ("sunset",)]})
    return zoo.data.label_counts({"train": train, "validation": train.head(1)}, HEADS)


def _report(model):
    rng = np.random.default_rng(0)
    probabilities = {"color": rng.dirichlet(np.ones(3), 12).astype("float32"),
                     "tags": rng.random((12, 2)).astype("float32")}
    targets = {"color": np.eye(3)[rng.integers(0, 3, 12)], "tags": rng.integers(0, 2, (12, 2)).astype("float32")}
    return zoo.evaluate(model, predictions=(probabilities, targets))


def test_card_holds_branches_heads_counts_plan_and_evaluation(tagged):
    report = _report(tagged)
    plan = choose_plan(train_images=1600, validation_images=400, median_size=(300, 400), default_side=96,
                       seconds_per_pixel=1e-6, overhead_per_image=1e-4, pretrained_boundaries={},
                       budget_seconds=600)
    card = model_card(tagged, label_counts=_counts(), report=report, plan=plan, notes="For tests.")
    assert card["architecture"] == "multilabel_small"
    assert [(b["backbone"], b["started_from"], b["preprocessing"]) for b in card["branches"]] == [
        ("compact_resnet", "random", "tf")]
    assert card["input"]["shape"] == [32, 32, 3]
    assert card["heads"] == [
        {"name": "color", "kind": "multiclass", "classes": ["black", "blue", "red"], "thresholds": None},
        {"name": "tags", "kind": "multilabel", "classes": ["sea", "sunset"], "thresholds": [0.3, 0.7]}]
    assert card["training_data"]["splits"] == ["train", "validation"]
    assert {"head": "color", "class": "red", "train": 2, "validation": 0} in card["training_data"]["rows"]
    assert {"head": "tags", "class": "sea", "train": 2, "validation": 1} in card["training_data"]["rows"]
    assert card["plan"]["image_size"] == list(plan.image_size)
    assert card["plan"]["stages"][0]["epochs"] == plan.stages[0].epochs
    assert card["evaluation"]["color"]["summary"]["accuracy"] == pytest.approx(
        report["color"]["summary"]["accuracy"])
    assert [row["class"] for row in card["evaluation"]["tags"]["per_class"]] == ["sea", "sunset"]
    json.dumps(card, allow_nan=False)  # valid JSON: no NaN

    markdown = card_markdown(card)
    assert markdown.startswith("# Model card: multilabel_small\n\nFor tests.\n")
    assert "| tags | multilabel | sea, sunset | 0.3, 0.7 |" in markdown
    assert "| color | red | 2 | 0 |" in markdown
    assert f"Input {plan.image_size[0]}x{plan.image_size[1]}, batch {plan.batch_size}" in markdown
    assert f"{report['color']['summary']['accuracy']:.4g}" in markdown


def test_save_model_writes_the_card_beside_the_model(model, tmp_path):
    zoo.save_model(model, tmp_path / "plain" / "model.keras")
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["model.keras"]

    zoo.save_model(model, tmp_path / "carded" / "model.h5", card={"notes": "Two branches."})
    folder = tmp_path / "carded"
    assert sorted(p.name for p in folder.iterdir()) == ["MODEL_CARD.json", "MODEL_CARD.md", "model.h5"]
    card = json.loads((folder / "MODEL_CARD.json").read_text())
    assert [b["backbone"] for b in card["branches"]] == ["small_cnn", "vgg16"]
    assert card["notes"] == "Two branches." and card["training_data"] is None and card["evaluation"] is None
    assert (folder / "MODEL_CARD.md").read_text() == card_markdown(card)


def test_write_model_card_from_a_plan_stored_in_the_model(tagged, tmp_path):
    info = zoo.model_info(tagged)
    info["plan"] = {"image_size": [48, 64], "batch_size": 16, "augment": True,
                    "stages": [{"name": "train", "epochs": 5, "trainable": "auto", "learning_rate": 0.001}]}
    markdown, data = write_model_card(info, tmp_path)
    assert "| 1 | train | 5 | auto | 0.001 |" in markdown.read_text()
    assert json.loads(data.read_text())["plan"]["batch_size"] == 16
