"""The default `zoo train` plan: pretrained two stages when the weights are installed, from scratch otherwise;
colour features where a probe finds colour serves a head better than the pretrained features."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

import zoo
from zoo.data.synthetic import make_garments
from zoo.models import weights as weight_files
from zoo.models.colour import ColourHistogram, colour_histogram
from zoo.training import heads_first
from zoo.training.colour_probe import probe_head, probe_score
from zoo.training.feature_cache import heads_model
from zoo.training.plan import (HEADS_EPOCHS, PATIENCE, PRETRAINED_BUDGET_SHARE, Plan, choose_plan,
                               fine_tune_epochs, shape_for, target_epochs)
from zoo.training.config import RunConfig
from zoo.training.reporter import Reporter
from zoo.training.run_plan import FINE_TUNE_PROBE_SIDES, PROBE_SIDES, default_model, make_plan

MEASURED = dict(train_images=1600, validation_images=400, median_size=(384, 256), default_side=224,
                seconds_per_pixel=4e-7, overhead_per_image=1e-3, seconds_per_epoch=0.5, budget_seconds=600)


@pytest.mark.parametrize("installed", [True, False])
def test_auto_model_is_the_pretrained_one_only_when_its_weights_are_installed(monkeypatch, installed):
    monkeypatch.setattr(weight_files, "pretrained_installed", lambda name: installed and name == "efficientnet_lite0")
    assert default_model("auto", "auto") == ("multilabel_efficientnet_lite0" if installed else "multilabel_small")
    assert default_model("auto", "imagenet") == default_model("auto", "auto")
    assert default_model("auto", "none") == "multilabel_small"  # today's from-scratch default
    assert default_model("color_type", "auto") == "color_type"  # an explicit choice is kept


def test_a_repeated_plan_takes_the_model_it_was_made_for(tmp_path):
    made = Plan((32, 32), 16, True, [], 60.0, 30.0, {"model": "multilabel_efficientnet_lite0"})
    made.save(tmp_path / "new.json")
    Plan((32, 32), 16, True, [], 60.0, 30.0, {}).save(tmp_path / "old.json")
    assert default_model("auto", "auto", tmp_path / "new.json") == "multilabel_efficientnet_lite0"
    assert default_model("auto", "auto", tmp_path / "old.json") == "multilabel_small"


@pytest.mark.parametrize("name, sides", [("multilabel_efficientnet_lite0", FINE_TUNE_PROBE_SIDES),
                                         ("multilabel_small", PROBE_SIDES)])
def test_the_speed_probe_times_sides_near_the_inputs_its_plan_chooses(name, sides, garments, monkeypatch, tmp_path):
    """A pretrained plan fine-tunes at 200-280 pixels a side; a from-scratch one trains near 96."""
    timed = []

    def measure(build_model, batches, probe_sides, clock, once):
        timed.append(tuple(probe_sides))
        once.update(decode_per_image=1e-3, stage_start=1.0)
        return 4e-7, 1e-3, 0.5

    monkeypatch.setattr(zoo.training.speed, "measure_training_speed", measure)
    rows = zoo.data.from_folders(garments, heads=["color", "type"], separator="_")
    heads = zoo.data.heads_from_dataframe(rows, {"color": "multiclass", "type": "multiclass"})
    model = zoo.build(name, heads=heads, input_shape=(32, 32, 3))
    config = RunConfig(output=tmp_path / "run", model=name, reporter=Reporter([].append))
    plan = make_plan(config, model, heads, rows, zoo.data.resolve_paths(rows), 8, began=0.0)
    assert timed == [sides]
    assert plan.cached_heads == (name == "multilabel_efficientnet_lite0")


def test_pretrained_weights_give_heads_on_cached_features_then_a_short_fine_tune():
    plan = choose_plan(**MEASURED, pretrained_boundaries={"scene": "block7"}, fine_tune_measured=True)
    heads, fine = plan.stages
    assert plan.cached_heads and plan.patience == PATIENCE
    assert (heads.name, heads.trainable, heads.epochs) == ("heads", "auto", HEADS_EPOCHS)
    assert (fine.name, fine.trainable) == ("fine-tune", {"scene": "block7"})
    assert fine.learning_rate == pytest.approx(heads.learning_rate / 10)
    assert fine.epochs == fine_tune_epochs(1600) == 4
    # The estimate: one forward pass over every image for the cache, one over the validation images for
    # the heads' stage's score, then the fine-tuning epochs and the final evaluation's pass over the
    # validation images, within the pretrained share of the budget.
    per_image = 4e-7 * plan.image_size[0] * plan.image_size[1] + 1e-3
    assert plan.estimated_seconds == pytest.approx(2800 * per_image + 4 * (2000 * per_image + 0.5), abs=0.1)
    assert plan.estimated_seconds <= 600 * PRETRAINED_BUDGET_SHARE * 0.95
    # What the run spent before planning counts against that half.
    later = choose_plan(**{**MEASURED, "budget_seconds": 500}, seconds_spent=100,
                        pretrained_boundaries={"scene": "block7"}, fine_tune_measured=True)
    assert later.estimated_seconds <= 600 * PRETRAINED_BUDGET_SHARE * 0.95 - 100
    assert plan.image_size == shape_for(224, 384 / 256)  # it fits: the backbone's own size
    # The run stops at that share too, should its epochs take longer than estimated; not where the user
    # fixed the input size or the epochs (then only the whole budget stops it).
    plan.measured["seconds_before_training"] = 40.0
    assert plan.training_deadline() == pytest.approx(600 * PRETRAINED_BUDGET_SHARE * 0.95)
    fixed = choose_plan(**MEASURED, pretrained_boundaries={"scene": "block7"}, image_size=(128, 128))
    fixed.measured["seconds_before_training"] = 40.0
    assert fixed.training_deadline() == pytest.approx(600 - 560 * 0.05)
    text = "\n".join(plan.describe())
    assert "up to 100 epochs on features cached once" in text and "not improved for 2" in text
    # A tight budget: a smaller input first, then fewer fine-tuning epochs, never past the budget.
    tight = choose_plan(**{**MEASURED, "budget_seconds": 60}, pretrained_boundaries={"scene": "block7"},
                        fine_tune_measured=True)
    assert tight.image_size[0] < plan.image_size[0] and tight.estimated_seconds <= 60


def test_a_short_pretrained_budget_keeps_the_input_size_and_fine_tunes_fewer_epochs():
    """The trunk reads best near the size it was trained at: fewer fine-tuning epochs before a smaller input."""
    plan = choose_plan(**{**MEASURED, "budget_seconds": 290}, pretrained_boundaries={"scene": "block7"},
                       fine_tune_measured=True)
    assert plan.image_size == shape_for(224, 384 / 256)
    assert plan.stages[1].epochs == 1 < fine_tune_epochs(1600)
    assert plan.estimated_seconds <= 290 * PRETRAINED_BUDGET_SHARE * 0.95


def test_the_pretrained_estimate_counts_what_a_short_run_pays_once():
    """Reading and decoding the images (training images twice: the feature pass, then the fine-tuning's first
    epoch; validation images once), building two stages' steps, the colour probe's pass over its sample."""
    fixed = dict(MEASURED, budget_seconds=1200, pretrained_boundaries={"scene": "block7"}, fine_tune_measured=True,
                 image_size=(224, 224))  # a budget where both fit every fine-tuning epoch
    bare = choose_plan(**fixed)
    once = choose_plan(**fixed, decode_per_image=0.01, stage_start=3.0, probe_images=400)
    per_image = 4e-7 * 224 * 224 + 1e-3
    extra = (400 + 2 * 1600 + 400) * 0.01 + 2 * 3.0 + 400 * per_image
    assert once.estimated_seconds - bare.estimated_seconds == pytest.approx(extra, abs=0.1)
    assert (once.measured["decode_per_image"], once.measured["stage_start"]) == (0.01, 3.0)
    # Left to choose, the plan spends the same share: a smaller input or fewer fine-tuning epochs.
    free = dict(fixed, budget_seconds=600, image_size=None)
    chosen = choose_plan(**free, decode_per_image=0.01, stage_start=3.0, probe_images=400)
    assert chosen.estimated_seconds <= 600 * PRETRAINED_BUDGET_SHARE * 0.95
    slower = choose_plan(**free, decode_per_image=0.05, stage_start=3.0, probe_images=400)
    assert (slower.image_size[0] * slower.image_size[1] * slower.stages[1].epochs
            < chosen.image_size[0] * chosen.image_size[1] * chosen.stages[1].epochs)
    assert slower.estimated_seconds <= 600 * PRETRAINED_BUDGET_SHARE * 0.95


def test_a_from_scratch_branch_beside_a_pretrained_one_keeps_the_classic_two_stages():
    """color_type-like: the colour branch trains from scratch in the heads' stage, on augmented images."""
    plan = choose_plan(**MEASURED, pretrained_boundaries={"type": "block5"}, all_pretrained=False)
    heads, fine = plan.stages
    assert not plan.cached_heads and plan.patience is None
    assert (heads.trainable, fine.trainable) == ("auto", {"type": "block5"})
    assert heads.epochs == plan.epochs // 2 and plan.estimated_seconds <= 600 * 0.95


def test_no_pretrained_weights_keep_the_from_scratch_plan():
    plan = choose_plan(**MEASURED, pretrained_boundaries={})
    assert [s.name for s in plan.stages] == ["train"] and plan.stages[0].trainable == "auto"
    assert not plan.cached_heads and plan.patience is None and plan.colour_heads == []
    assert plan.epochs <= target_epochs(1600)
    assert "cached" not in "\n".join(plan.describe())


def test_the_plan_with_its_new_fields_repeats_exactly(tmp_path):
    plan = choose_plan(**MEASURED, pretrained_boundaries={"scene": "block7"})
    plan.colour_heads = ["scene"]
    plan.save(tmp_path / "plan.json")
    assert Plan.load(tmp_path / "plan.json") == plan
    assert heads_first.split_plan(plan).stages == plan.stages[1:]


def test_colour_histogram_counts_soft_colour_shares_by_region():
    image = np.zeros((1, 8, 8, 3), "float32")
    image[:, :, :4, 0] = 255  # left half red
    image[:, :, 4:, 2] = 255  # right half blue
    features = colour_histogram(image, bins=2, grid=2, size=8)
    red, blue = 4, 1  # index r*4 + g*2 + b of the (0/1, 0/1, 0/1) corners
    whole, cells = features[0, :8] ** 2, features[0, 8:].reshape(4, 8) ** 2
    np.testing.assert_allclose(whole[[red, blue]], [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(cells[:, red], [1, 0, 1, 0], atol=1e-6)  # cells row by row: left ones red
    np.testing.assert_allclose(cells.sum(axis=1), 1, atol=1e-6)  # soft counts share each pixel out
    grey = colour_histogram(np.full((1, 4, 4, 3), 255 / 3, "float32"), bins=3, grid=0, size=4)[0] ** 2
    corner = [0 * 9 + 0 * 3 + 0, 1 * 9 + 1 * 3 + 1]  # 1/3 lies between levels 0 and 0.5: 1/3 and 2/3 per channel
    np.testing.assert_allclose(grey[corner], [(1 / 3) ** 3, (2 / 3) ** 3], atol=1e-5)


def test_the_colour_rule_follows_the_probes_not_the_names():
    rng = np.random.default_rng(1)
    n = 120
    colour = rng.normal(size=(n, 6))
    shape = rng.normal(size=(n, 6))
    by_colour = np.eye(3)[np.argmax(colour[:, :3], axis=1)]
    by_shape = np.eye(3)[np.argmax(shape[:, :3], axis=1)]
    tags = (shape[:, 3:5] > 0).astype("float32")  # multilabel, from the "pretrained" features
    decisions = [probe_head("shade", "multiclass", by_colour, shape, colour),
                 probe_head("color", "multiclass", by_shape, shape, colour),  # the name says colour; data do not
                 probe_head("tags", "multilabel", tags, shape, colour)]
    assert [d.colour for d in decisions] == [True, False, False]
    assert decisions[0].colour_score > 0.8 and decisions[0].pretrained_score < 0.6
    assert decisions[0].describe() == (f"shade: colour features added: probe {decisions[0].pretrained_score:.2f} "
                                       f"on pretrained features vs {decisions[0].colour_score:.2f} on colour")
    assert np.isnan(probe_score(shape[:5], by_shape[:5], "multiclass"))  # no class the folds can split


def test_colour_heads_train_on_cached_features_and_survive_saving(tmp_path):
    heads = [zoo.Head("color", ["red", "blue"], kind="multiclass"), zoo.Head("type", ["a", "b"], kind="multiclass")]
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None, freeze_backbone=True,
                      colour_heads=["color"])
    assert zoo.model_info(model)["feature_layers"] == ["pool", "colour"]
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    extractor, head_model = heads_model(model)
    features = extractor(images)
    assert features[1].shape == (4, ColourHistogram().compute_output_shape((4, 32, 32, 3))[1])
    direct = model.predict(images, verbose=0)
    via_cache = head_model.predict(features, verbose=0)
    np.testing.assert_allclose(via_cache["color"], direct["color"], atol=1e-5)
    zoo.save_model(model, tmp_path / "m.keras")
    again = zoo.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(images, verbose=0)["color"], direct["color"], atol=1e-5)
    with pytest.raises(ValueError, match=r"colour_heads` names unknown heads \['size'\]"):
        zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None, colour_heads=["size"])


def test_heads_first_trains_on_cached_features_and_stops_when_validation_stops_improving(tmp_path):
    heads = {"tags": ["a", "b"]}
    trained = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), compile=False)
    path = str(tmp_path / "start.weights.h5")
    trained.save_weights(path)
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=path)  # a pretrained start
    rows, heads_list = _tiny_rows(tmp_path)
    data = zoo.data.make_dataset(rows, heads_list, image_size=(32, 32), batch_size=4, seed=0)
    flipped = rows.assign(tags=[["b"] if tags == ["a"] else ["a"] for tags in rows["tags"]])
    validation = zoo.data.make_dataset(flipped, heads_list, image_size=(32, 32), batch_size=4, shuffle=False)
    plan = Plan((32, 32), 4, True, [zoo.Stage(name="heads", epochs=60, trainable="auto", learning_rate=0.5,
                                              optimizer="sgd", schedule=None, warmup_epochs=0)], 60.0, 1.0,
                cached_heads=True)
    lines = []
    rows, kept = heads_first.train_heads(model, data, validation, plan, log=lines.append)
    assert kept == min(rows, key=lambda row: row["val_loss"])["epoch"] and f"kept epoch {kept}" in lines[0]
    assert [row["epoch"] for row in rows] == list(range(1, len(rows) + 1)) and {row["stage"] for row in rows} == {
        "heads"}
    assert all(np.isfinite(row["val_loss"]) and np.isfinite(row["loss"]) for row in rows)
    assert len(rows) < 20 and "ended early: the validation loss had not improved for 5 epochs" in lines[0]
    assert "on features cached once" in lines[0]
    assert not model.get_layer("compact_resnet").trainable  # the backbone stayed frozen


def test_the_heads_stage_model_is_the_best_until_a_fine_tuning_epoch_beats_it(tmp_path):
    from sklearn.metrics import average_precision_score

    from zoo.io.saving import read_card
    from zoo.training import run

    heads = {"tags": ["a", "b"]}
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None)
    rows, heads_list = _tiny_rows(tmp_path)
    validation = zoo.data.make_dataset(rows, heads_list, image_size=(32, 32), batch_size=4, shuffle=False)
    score = heads_first.keep_as_best(model, validation, tmp_path / run.BEST_MODEL)
    targets = np.array([[0, 1] if i % 2 == 0 else [1, 0] for i in range(8)])  # "b" on even rows, "a" on odd
    probabilities = model.predict(validation, verbose=0)["tags"]
    assert score == pytest.approx(np.mean([average_precision_score(targets[:, j], probabilities[:, j])
                                           for j in range(2)]))
    card = read_card(tmp_path / run.BEST_MODEL)
    assert (card.best.monitor, card.best.value, card.best.epoch) == (run.MONITOR, pytest.approx(score), 0)
    # The run's checkpoint starts from it: only a better fine-tuning epoch replaces that file.
    plan = Plan((32, 32), 4, True, [zoo.Stage(name="fine-tune", epochs=2)], 60.0, 1.0)
    checkpoints = {}
    for name, kwargs in {"fresh": {"best": score}, "resumed": {"resumed": {"epoch": 1, "best": None}},
                         "a stray file": {}}.items():
        callbacks, _, _ = run.training_callbacks(tmp_path, validation, plan, **{"resumed": None, **kwargs})
        checkpoints[name] = next(c for c in callbacks if isinstance(c, zoo.training.callbacks.SafeModelCheckpoint))
    assert checkpoints["fresh"].best == pytest.approx(score)
    assert checkpoints["resumed"].best == pytest.approx(score)  # read back from the file
    assert checkpoints["a stray file"].best is None  # a fresh run without the heads' score ignores the file


def _tiny_rows(tmp_path):
    from PIL import Image

    files = []
    for index in range(8):
        pixels = np.full((32, 32, 3), 30 * index, "uint8")
        Image.fromarray(pixels).save(tmp_path / f"{index}.png")
        files.append(str(tmp_path / f"{index}.png"))
    import pandas as pd

    rows = pd.DataFrame({"filename": files, "tags": [["a"] if i % 2 else ["b"] for i in range(8)]})
    return rows, [zoo.Head("tags", ["a", "b"])]


@pytest.mark.slow
@pytest.mark.skipif(not getattr(weight_files, "pretrained_installed", lambda name: False)("efficientnet_lite0"),
                    reason="the EfficientNet-Lite0 ImageNet weights are not installed")
def test_no_flag_train_starts_pretrained_and_finds_the_colour_head(tmp_path):
    """A new process given only the label source: the pretrained plan, colour where the probe says so."""
    make_garments(tmp_path / "garments", images_per_pair=6, image_size=(32, 32), held_out_images=1, seed=0)
    output = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "zoo", "train", "--folders", str(tmp_path / "garments" / "train"),
                             "--separator", "_", "--heads", "color", "type", "--budget", "0.5",
                             "--output", str(output)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    plan = json.loads((output / "plan.json").read_text())
    assert plan["measured"]["model"] == "multilabel_efficientnet_lite0"
    assert [s["name"] for s in plan["stages"]] == ["heads", "fine-tune"] and plan["cached_heads"]
    assert plan["colour_heads"] == ["color"]  # the garments' colour is a plain tint; their type a shape
    assert "color: colour features added: probe" in result.stdout
    assert "type: pretrained features alone" in result.stdout
    assert "on features cached once" in result.stdout
    info = zoo.model_info(zoo.load_model(output / "model.keras"))
    assert info["feature_layers"] == ["pool", "colour"] and info["plan"]["colour_heads"] == ["color"]
    # history.csv holds every epoch: the heads' stage first (its kept epoch scored), the fine-tuning after it.
    history = pd.read_csv(output / "history.csv")
    ran = int(re.search(r"stage heads: (\d+) of 100 epochs", result.stdout).group(1))
    assert history["stage"].tolist() == ["heads"] * ran + ["fine-tune"] * (len(history) - ran)
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    heads_score = float(re.search(r"the heads' stage scores val_score (\d\.\d+)", result.stdout).group(1))
    scored = history[history["stage"].eq("heads") & history["val_score"].notna()]
    assert len(scored) == 1 and scored["val_score"].iloc[0] == pytest.approx(heads_score, abs=1e-4)
    assert scored["val_loss"].iloc[0] == history.loc[history["stage"].eq("heads"), "val_loss"].min()
    best = zoo.io.saving.read_card(output / "best.keras").best
    fine = history[history["stage"].eq("fine-tune")]
    if best.epoch == 0:  # the heads' stage's model was kept
        assert (fine["val_score"] <= heads_score + 1e-4).all() and "heads' stage ended with" in result.stdout
    else:  # the card names the epoch as history.csv numbers it
        assert best.value == pytest.approx(fine["val_score"].max()) and best.epoch in fine["epoch"].tolist()
        assert history.set_index("epoch").loc[best.epoch, "val_score"] == pytest.approx(best.value)
        assert f"Restored the weights of epoch {best.epoch}," in result.stdout
