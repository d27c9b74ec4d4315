"""`zoo train` as a newcomer runs it: the freezing rule, the plan, resuming, the best model, NaN."""

import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import zoo
from zoo.training import run as training_run
from zoo.training.run_plan import boundary_heads
from zoo.training.backup import latest_backup
from zoo.cli import main
from zoo.cli.run_config import CommandReporter
from zoo.training.feature_cache import backbones_of
from zoo.training.finetune import describe_branches, set_trainable
from zoo.training.plan import Plan, choose_plan, shape_for, target_epochs
from zoo.models.registry import list_models

from tests.harness import heads_for


def _source(garments):
    return ["--folders", str(garments), "--separator", "_", "--heads", "color", "type"]


def _train_source(garments):
    """From scratch: these tests are about the run (the pretrained start: test_default_plan.py)."""
    return [*_source(garments), "--weights", "none"]


def _fixed(epochs=4):
    return ["--image-size", "32", "32", "--epochs", str(epochs), "--batch-size", "16", "--no-cache"]


@pytest.mark.parametrize("name", list_models())
def test_no_default_path_freezes_a_random_backbone(name, monkeypatch, tmp_path):
    """Offline, weights="auto" finds no ImageNet file: every backbone starts random and trains."""
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))  # and no weights package installed
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def not_installed(record):
        raise zoo.models.weights.WeightsNotFoundError(f"{record['source']['package']} is not installed")

    monkeypatch.setattr(zoo.models.weights, "source_file", not_installed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = zoo.build(name, heads=heads_for(name), input_shape=(32, 32, 3), weights="auto")
    fallbacks = [str(w.message) for w in caught if "no ImageNet weights" in str(w.message)]
    assert len(fallbacks) == (1 if zoo.models.architectures.MODELS.get(name).pretrainable else 0)
    starts = zoo.model_info(model)["pretrained"]
    assert starts and all(start == {"source": "random", "file": None} for start in starts.values())
    backbones = backbones_of(model)
    assert all(b.trainable for b in backbones)
    set_trainable(model, "auto")  # the planned first stage
    assert all(b.trainable for b in backbones)
    assert boundary_heads(model) == {}
    assert all("random init, trained from scratch" in line for line in describe_branches(model))


def test_pretrained_weights_are_frozen_first_then_the_top_block_unfrozen(tmp_path):
    heads = {"tags": ["a", "b"]}
    trained = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), compile=False)
    path = str(tmp_path / "trained.weights.h5")
    trained.save_weights(path)
    model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=path)
    backbone = model.get_layer("compact_resnet")
    assert not backbone.trainable
    assert describe_branches(model) == [f"tags: compact_resnet, weights from {path}, frozen"]
    np.testing.assert_array_equal(backbone.get_weights()[0], trained.get_layer("compact_resnet").get_weights()[0])
    boundaries = boundary_heads(model)
    assert boundaries == {"tags": "stage4"}
    plan = choose_plan(100, 25, (64, 64), 32, 1e-6, 1e-4, boundaries, budget_seconds=600)
    assert [s.trainable for s in plan.stages] == ["auto", {"tags": "stage4"}]
    assert plan.stages[1].learning_rate == pytest.approx(plan.stages[0].learning_rate / 10)
    set_trainable(model, plan.stages[1].trainable)
    assert backbone.get_layer("stage4_block1_conv1").trainable and not backbone.get_layer("stem_conv").trainable


def test_the_plan_fits_the_budget_and_follows_the_images():
    assert target_epochs(1600) == 63 and target_epochs(10) == 200 and target_epochs(10**6) == 30
    assert shape_for(64, 1.5) == (80, 56) and shape_for(64, 1 / 1.5) == (56, 80)

    def plan(budget, images=1600, size=(480, 640)):
        return choose_plan(images, images // 4, size, 96, seconds_per_pixel=1e-6, overhead_per_image=1e-4,
                           pretrained_boundaries={}, budget_seconds=budget, seconds_per_epoch=0.5)

    small, large = plan(300), plan(3000)
    assert small.image_size[0] * small.image_size[1] < large.image_size[0] * large.image_size[1]
    assert large.image_size == shape_for(96, 0.75)  # capped at the architecture's default side
    for p in (small, large):
        assert p.estimated_seconds <= p.budget_seconds
        assert p.image_size[0] < p.image_size[1]  # landscape images, landscape input
    assert plan(3000, size=(20, 20)).image_size == (32, 32)  # never far above the images' own size
    tight = plan(10)
    assert tight.image_size == shape_for(32, 0.75) and tight.epochs < target_epochs(1600)
    assert Plan.from_dict(json.loads(json.dumps(large.to_dict()))) == large


@pytest.fixture(scope="module")
def no_flag_run(garments, tmp_path_factory):
    """`zoo train` given only where the labels are (and a small budget): its output folder and printout."""
    output = tmp_path_factory.mktemp("no_flags") / "run"
    with pytest.MonkeyPatch.context() as patch:
        printed = io.StringIO()
        patch.setattr(sys, "stdout", printed)
        status = main(["train", *_train_source(garments), "--budget", "0.25", "--output", str(output)])
    return status, output, printed.getvalue()


def test_no_flag_run_plans_trains_and_records_everything(garments, no_flag_run, tmp_path, capsys):
    status, output, out = no_flag_run
    assert status == 0
    plan = Plan.load(output / "plan.json")
    assert plan.augment and plan.measured["seconds_per_pixel"] > 0
    assert "color, type: compact_resnet, random init, trained from scratch" in out
    assert f"{plan.epochs} epochs" in out and "Restored the weights of epoch" in out
    history = pd.read_csv(output / "history.csv")
    assert history["epoch"].tolist() == list(range(1, (plan.stop_after or plan.epochs) + 1))
    model = zoo.load_model(output / "model.keras")
    assert zoo.model_info(model)["plan"] == plan.to_dict()
    assert zoo.model_info(model)["input_shape"][:2] == list(plan.image_size)
    assert not (output / "backup").exists()
    listed = re.search(r"Written to .*?/: (.*)", out).group(1).split(", ")
    assert sorted(listed) == sorted(p.name for p in output.iterdir() if not p.name.startswith("."))
    split = pd.read_csv(output / "split.csv")
    assert len(split) == 42 and set(split["split"]) == {"train", "validation"}
    for name in ("best.keras", "report.csv", "history.png", "confusion_color.png"):
        assert name in out and (output / name).is_file()
    assert f"zoo predict {output / 'model.keras'}" in out

    # The same command again: a finished run is not overwritten by accident.
    assert main(["train", *_train_source(garments), "--budget", "0.25", "--output", str(output)]) == 1
    assert "holds a finished run" in capsys.readouterr().err
    # Its plan repeats exactly.
    again = tmp_path / "again"
    assert main(["train", *_train_source(garments), "--plan", str(output / "plan.json"), "--output", str(again)]) == 0
    assert Plan.load(again / "plan.json") == plan
    # And so does its training: the same shuffles, augmentations and weights, epoch by epoch.
    np.testing.assert_allclose(pd.read_csv(again / "history.csv")["loss"], history["loss"], rtol=1e-4)


KILL_IN_BACKUP = textwrap.dedent("""
    import os, signal, sys
    from zoo.training import backup
    write = backup.RunBackup._write
    def write_then_die(self, epoch, state):
        if epoch == 3:  # the weights are written, the state that completes the backup is not
            partial = self.folder / ".partial-00003"
            partial.mkdir(parents=True)
            self.model.save_weights(partial / backup.WEIGHTS_FILE)
            os.kill(os.getpid(), signal.SIGKILL)
        write(self, epoch, state)
    backup.RunBackup._write = write_then_die
    from zoo.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _history_epochs(output):
    return pd.read_csv(output / "history.csv")["epoch"].tolist()


@pytest.mark.slow
def test_killed_while_writing_a_backup_resumes_after_the_last_complete_epoch(garments, tmp_path, capsys):
    output = tmp_path / "run"
    args = ["train", *_train_source(garments), *_fixed(epochs=5), "--output", str(output)]
    killed = subprocess.run([sys.executable, "-c", KILL_IN_BACKUP, *args],
                            capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _history_epochs(output) == [1, 2]
    assert (output / "backup" / ".partial-00003").is_dir() and latest_backup(output / "backup")["epoch"] == 2

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Continuing the interrupted run" in out and "after epoch 2 of 5" in out
    assert _history_epochs(output) == [1, 2, 3, 4, 5]
    assert not (output / "backup").exists()


@pytest.mark.slow
def test_killed_mid_epoch_resumes_at_the_next_epoch(garments, tmp_path, capsys):
    output = tmp_path / "run"
    args = ["train", *_train_source(garments), *_fixed(epochs=8), "--output", str(output)]
    process = subprocess.Popen([sys.executable, "-m", "zoo.cli", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    try:
        for _ in range(1200):
            if (output / "history.csv").is_file() and len(_history_epochs(output)) >= 2:
                break
            if process.poll() is not None:
                pytest.fail("the run ended before it could be killed")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    done = _history_epochs(output)
    assert 2 <= len(done) < 8 and done == list(range(1, len(done) + 1))
    assert main(args) == 0
    assert f"after epoch {done[-1]} of 8" in capsys.readouterr().out
    assert _history_epochs(output) == list(range(1, 9))


def test_a_resumed_run_never_replaces_a_better_best_model(garments, tmp_path):
    output = tmp_path / "run"
    output.mkdir()
    model = zoo.build("multilabel_small", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    card = zoo.models.card.card_of(model)
    zoo.models.card.set_card(model, dataclasses.replace(card, best=zoo.models.card.Best("val_score", 0.9, 5)))
    zoo.save_model(model, output / "best.keras")
    plan = choose_plan(10, 2, (32, 32), 32, 0, 0, {}, budget_seconds=60)
    # The backup was written before epoch 5's better model: it remembers 0.8 only.
    callbacks, _, _ = training_run.training_callbacks(output, None, plan, {"best": 0.8, "rows": []})
    checkpoint = callbacks[2]
    assert checkpoint.best == 0.9
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(5, {"loss": 0.1, "val_score": 0.85})
    assert zoo.io.saving.read_card(output / "best.keras").best == zoo.models.card.Best("val_score", 0.9, 5)
    checkpoint.on_epoch_end(6, {"loss": 0.1, "val_score": 0.95})
    assert zoo.io.saving.read_metadata(output / "best.keras")["best"] == {"val_score": 0.95, "epoch": 7}
    assert zoo.io.saving.read_card(output / "best.keras").best == zoo.models.card.Best("val_score", 0.95, 7)


def test_nan_loss_stops_with_one_message_and_status_1(garments, tmp_path, capsys):
    output = tmp_path / "run"
    assert main(["train", *_train_source(garments), *_fixed(epochs=3), "--learning-rate", "1e30",
                 "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(r"the loss became NaN at epoch \d+, batch \d+", err)
    assert "Input contains NaN" not in err


def test_other_arguments_in_an_unfinished_run_are_refused(garments, tmp_path, capsys):
    output = tmp_path / "run"
    output.mkdir()
    (output / "run.json").write_text(json.dumps({"arguments": {"seed": 5}, "finished": False}))
    assert main(["train", *_train_source(garments), *_fixed(), "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert "holds an unfinished run made with other arguments" in err and "--restart" in err


def test_a_second_run_into_the_same_output_is_refused_while_the_first_runs(garments, tmp_path, capsys):
    output = tmp_path / "run"
    args = ["train", *_train_source(garments), *_fixed(epochs=1), "--output", str(output)]
    with training_run.holding(output):  # the first run, still writing
        assert main(args) == 1
        err = capsys.readouterr().err
        assert f"another zoo train (process {os.getpid()}) is writing to --output {output}" in err
        assert sorted(p.name for p in output.iterdir()) == [".lock"]  # nothing of the first run touched
    with training_run.holding(output):  # the hold ends with the first run: the next one takes it
        pass


def test_evaluate_warns_about_training_images(garments, no_flag_run, capsys):
    _, output, _ = no_flag_run
    assert main(["evaluate", str(output / "model.keras"), *_source(garments)]) == 0
    out = capsys.readouterr().out
    train_count = (pd.read_csv(output / "split.csv")["split"] == "train").sum()
    assert f"{train_count} of the 42 images were in this model's training split" in out


def test_a_resumed_run_refuses_other_images(tmp_path):
    training_run.write_split(tmp_path, ["a.jpg", "b.jpg"], ["c.jpg"])
    training_run.check_same_split(tmp_path, ["b.jpg", "a.jpg"], ["c.jpg"])  # the same files: fine
    with pytest.raises(training_run.RunError, match=r"the train images differ .* \(1 new, 0 gone\); run with --restart"):
        training_run.check_same_split(tmp_path, ["a.jpg", "b.jpg", "d.jpg"], ["c.jpg"], CommandReporter())
    with pytest.raises(training_run.RunError, match=r"run with restart=True, or choose another output\.$"):
        training_run.check_same_split(tmp_path, ["a.jpg", "b.jpg", "d.jpg"], ["c.jpg"])  # a library run


def test_flags_fix_one_choice_and_the_plan_fits_the_rest():
    common = dict(train_images=1600, validation_images=400, median_size=(480, 640), default_side=96,
                  seconds_per_pixel=1e-6, overhead_per_image=1e-4, pretrained_boundaries={}, budget_seconds=300,
                  seconds_per_epoch=0.5)
    fixed_size = choose_plan(**common, image_size=(224, 224))
    assert fixed_size.image_size == (224, 224) and fixed_size.estimated_seconds <= 300
    assert fixed_size.epochs < choose_plan(**common).epochs
    fixed_epochs = choose_plan(**common, epochs=5)
    assert fixed_epochs.epochs == 5 and fixed_epochs.image_size == shape_for(96, 0.75)
    two_stages = choose_plan(**{**common, "pretrained_boundaries": {"tags": "stage4"}}, epochs=1)
    assert [s.epochs for s in two_stages.stages] == [1]


def test_stage_specs_take_auto_and_layer_counts():
    from zoo.training.finetune import parse_stage

    assert parse_stage("trainable=auto", ["tags"]).trainable == "auto"
    assert parse_stage("trainable=tags:20", ["tags"]).trainable == {"tags": 20}


def test_plan_repeats_exactly_and_takes_no_other_plan_flag(garments, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    choose_plan(10, 2, (32, 32), 32, 0, 0, {}, budget_seconds=60).save(plan)
    assert main(["train", *_train_source(garments), "--plan", str(plan), "--epochs", "3"]) == 1
    assert "--plan repeats a plan exactly; it takes no --epochs" in capsys.readouterr().err


def test_a_larger_input_keeps_at_least_the_set_share_of_the_target_epochs():
    from zoo.training.plan import EPOCH_SHARE_FOR_SIZE

    def plan(budget):  # 1000 images, 0 validation, a second per 10,000 pixels of an image, 64x64 at most
        return choose_plan(1000, 0, (64, 64), 64, 1e-4, 0.0, {}, budget_seconds=budget / (1 - 0.05))

    target = target_epochs(1000)  # 100
    full_64 = target * 1000 * 64 * 64 * 1e-4 * 1.001  # a hair more, for rounding
    assert (plan(full_64).image_size, plan(full_64).epochs) == ((64, 64), target)
    # Just enough for the share at 64x64: the size stays and the epochs shrink to what fits.
    share = plan(full_64 * EPOCH_SHARE_FOR_SIZE)
    assert share.image_size == (64, 64) and share.epochs == int(target * EPOCH_SHARE_FOR_SIZE)
    # Less than that: the next size down, 56x56, with the target epochs if they fit.
    below = plan(full_64 * EPOCH_SHARE_FOR_SIZE * 0.98)
    assert below.image_size == (56, 56) and below.epochs == target
