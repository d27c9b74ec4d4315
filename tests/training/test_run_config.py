"""The run as a library object: `RunConfig` from `zoo train`'s flags or by hand, its record, and its reporter."""

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

import zoo
from zoo.cli.app import build_parser
from zoo.cli.run_config import CommandReporter, run_config
from zoo.data.synthetic import make_garments
from zoo.training import budget, run
from zoo.training.config import RunConfig
from zoo.training.reporter import Reporter
from zoo.training.run_plan import make_plan

SOURCE_KEYS = {"csv", "onehot_csv", "voc", "folders", "file_column", "label_column", "delimiter", "extension",
               "separator", "heads", "kind", "min_count"}


def _parsed(*flags):
    return build_parser().parse_args(["train", "--folders", "shop", "--separator", "_", "--heads", "color", "type",
                                      *flags])


def _recorded_from_the_namespace(args) -> dict:
    """`run.json`'s "arguments" as `zoo train` wrote them from its parsed flags before the RunConfig."""
    output_only = {"output", "progress", "verbose", "restart", "run", "command", "tensorboard", "workers",
                   "worker_index", "worker_timeout"}
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(vars(args).items())
            if k not in output_only and not callable(v)}


def test_the_config_of_parsed_train_flags_holds_what_they_ask():
    args = _parsed("--output", "runs/a", "--image-size", "48", "64", "--epochs", "6", "--learning-rate", "0.01",
                   "--batch-size", "8", "--no-augment", "--mix", "cutmix", "--stage", "epochs=2,trainable=heads",
                   "--stage", "epochs=4,lr=1e-4", "--no-stratify", "--allow-empty", "--no-cache", "--loss",
                   "weighted_bce", "--tune-thresholds", "f1", "--format", "h5", "--restart", "--tensorboard", "logs",
                   "--seed", "3", "--on-error", "skip", "--progress", "--images", "photos", "--min-count", "2",
                   "--workers", "a:1", "b:2", "--worker-index", "1", "--worker-timeout", "5", "--budget", "2.5")
    config = run_config(args, model="multilabel_small")
    assert (config.output, config.model, config.weights, config.budget) == (Path("runs/a"), "multilabel_small",
                                                                           "auto", 2.5)
    assert (config.image_size, config.epochs, config.learning_rate, config.batch_size) == ((48, 64), 6, 0.01, 8)
    assert (config.augment, config.mix, config.stratify, config.allow_empty, config.cache) == (
        False, "cutmix", False, True, False)
    assert config.stages == ("epochs=2,trainable=heads", "epochs=4,lr=1e-4")
    assert (config.loss, config.tune_thresholds, config.format, config.restart) == ("weighted_bce", "f1", "h5", True)
    assert (config.tensorboard, config.seed, config.on_error, config.progress) == (Path("logs"), 3, "skip", True)
    assert config.images == Path("photos") and config.plan is None
    assert (config.workers, config.worker_index, config.worker_timeout) == (("a:1", "b:2"), 1, 5.0)
    assert set(config.source) == SOURCE_KEYS
    assert (config.source["folders"], config.source["heads"], config.source["min_count"]) == (
        Path("shop"), ["color", "type"], 2)
    assert isinstance(config.reporter, CommandReporter)
    defaults = run_config(_parsed())
    assert (defaults.model, defaults.augment, defaults.stratify, defaults.cache, defaults.output) == (
        "auto", True, True, True, Path("zoo_output"))
    assert defaults == RunConfig(model="auto", source=defaults.source)  # the library's defaults are the command's


@pytest.mark.parametrize("flags", [
    (),
    ("--image-size", "32", "32", "--epochs", "4", "--batch-size", "16", "--no-cache", "--weights", "none"),
    ("--no-augment", "--stage", "epochs=3,trainable=heads", "--no-stratify", "--mix", "mixup", "--seed", "7",
     "--images", "photos", "--kind", "color=multilabel", "--min-count", "2", "--tune-thresholds", "f1"),
    ("--plan", "runs/a/plan.json", "--output", "elsewhere", "--restart", "--progress", "--tensorboard", "logs",
     "--workers", "a:1", "b:2", "--worker-index", "0"),
])
def test_the_config_records_the_run_as_the_namespace_did(flags):
    args = _parsed(*flags)
    config = run_config(args)
    assert config.arguments() == _recorded_from_the_namespace(args)
    assert json.dumps(config.arguments()) == json.dumps(_recorded_from_the_namespace(args))


def test_an_unfinished_run_recorded_from_the_namespace_continues(tmp_path):
    flags = ("--output", str(tmp_path), "--epochs", "4", "--image-size", "32", "32")
    (tmp_path / "run.json").write_text(json.dumps(
        {"arguments": _recorded_from_the_namespace(_parsed(*flags)), "finished": False}, indent=2))
    assert run.previous_run(run_config(_parsed(*flags)))["finished"] is False
    # A record of the former --augment flag (on by default) asks for the same run as no flag.
    (tmp_path / "run.json").write_text(json.dumps(
        {"arguments": {**_recorded_from_the_namespace(_parsed(*flags)), "augment": True}, "finished": False}))
    assert run.previous_run(run_config(_parsed(*flags))) is not None
    with pytest.raises(run.RunError, match=r"made with other arguments \(epochs, seed\); run the same command to "
                                           r"continue it, choose another --output, or pass --restart\.$"):
        run.previous_run(run_config(_parsed("--output", str(tmp_path), "--epochs", "5", "--image-size", "32", "32",
                                            "--seed", "1")))


def test_the_command_names_flags_and_the_library_names_settings(tmp_path):
    run.write_run(RunConfig(output=tmp_path), finished=True)
    with pytest.raises(run.RunError) as from_the_command:
        run.previous_run(RunConfig(output=tmp_path, reporter=CommandReporter()))
    assert str(from_the_command.value) == (
        f"--output {tmp_path} holds a finished run; choose another --output, or pass --restart to train again "
        f"there. Received: --output {tmp_path}")
    with pytest.raises(run.RunError) as from_python:
        run.previous_run(RunConfig(output=tmp_path))
    assert str(from_python.value) == (
        f"output='{tmp_path}' holds a finished run; choose another output, or pass restart=True to train again "
        f"there. Received: output='{tmp_path}'")
    assert "--" not in str(from_python.value)
    command, library = CommandReporter(), Reporter()
    assert [command.option(n) for n in ("learning_rate", "stages", "augment", "cache", "image_size")] == [
        "--learning-rate", "--stage", "--no-augment", "--no-cache", "--image-size"]
    assert command.option("image_size", (32, 48)) == "--image-size 32 48"
    assert [library.option(n) for n in ("learning_rate", "stages")] == ["learning_rate", "stages"]
    assert library.option("image_size", (32, 48)) == "image_size=(32, 48)"


def test_restart_clears_the_backup_and_best_model_of_the_earlier_run(tmp_path):
    run.write_run(RunConfig(output=tmp_path), finished=True)
    (tmp_path / run.BACKUP_FOLDER).mkdir()
    (tmp_path / run.BEST_MODEL).write_text("earlier")
    assert run.previous_run(RunConfig(output=tmp_path, restart=True)) is None
    assert not (tmp_path / run.BACKUP_FOLDER).exists() and not (tmp_path / run.BEST_MODEL).exists()


def _library_run(tmp_path, lines):
    """A RunConfig made in Python, its rows, heads, model and plan: no argparse anywhere."""
    make_garments(tmp_path / "garments", images_per_pair=3, image_size=(32, 32), held_out_images=0, seed=0)
    config = RunConfig(output=tmp_path / "run", image_size=(32, 32), stages=["epochs=1,lr=1e-3"], batch_size=8,
                       cache=False,
                       weights="none", reporter=Reporter(lines.append))
    df = zoo.data.from_folders(tmp_path / "garments" / "train", heads=["color", "type"], separator="_")
    heads = zoo.data.heads_from_dataframe(df, {"color": "multiclass", "type": "multiclass"})
    train_rows, validation_rows = zoo.data.train_validation_split(df, heads, config.validation_split,
                                                                  seed=config.seed)
    model = zoo.build(config.model, heads=heads, weights=None, input_shape=(*config.image_size, 3))
    assert run.previous_run(config) is None
    plan = make_plan(config, model, heads, train_rows, zoo.data.resolve_paths(train_rows), len(validation_rows),
                     began=0.0)
    return config, model, heads, train_rows, validation_rows, plan


def test_a_library_user_plans_a_run_without_the_command_line(tmp_path):
    lines = []
    config, _, _, _, _, plan = _library_run(tmp_path, lines)
    assert (plan.image_size, plan.epochs, plan.batch_size, plan.measured["model"]) == (
        (32, 32), 1, 8, "multilabel_small")
    assert plan.stages == [zoo.Stage(epochs=1, learning_rate=1e-3, name="stage1")]  # the config's, named
    assert budget.stop_for_run(config, plan, None, False, began=0.0) is None  # the stages are fixed
    config.output.mkdir()
    run.write_run(config, finished=False)
    assert json.loads((config.output / "run.json").read_text())["arguments"] == config.arguments()
    assert run.previous_run(config)["finished"] is False  # interrupted, the same config continues
    assert lines == []  # nothing measured: every choice was fixed


@pytest.mark.slow
def test_a_library_user_trains_a_run_without_the_command_line(tmp_path):
    lines = []
    config, model, heads, train_rows, validation_rows, plan = _library_run(tmp_path, lines)
    with run.holding(config.output):
        run.write_run(config, finished=False)
        common = dict(image_size=plan.image_size, batch_size=plan.batch_size, seed=config.seed)
        rows = run.fit(model, zoo.data.make_dataset(train_rows, heads, **common),
                       zoo.data.make_dataset(validation_rows, heads, shuffle=False, **common), plan, config,
                       None, None)
    assert [row["epoch"] for row in rows] == [1]
    assert pd.read_csv(config.output / "history.csv")["epoch"].tolist() == [1]
    assert any(line.startswith("  (val_score:") for line in lines)
    assert any("stage stage1:" in line for line in lines)  # the stages' lines went to the reporter too


def test_source_arguments_name_the_label_source_again():
    from zoo.cli.run_config import source_arguments
    from zoo.cli.sources import source_flags

    config = run_config(_parsed("--images", "photos", "--allow-empty"))
    assert source_flags(source_arguments(config)) == source_flags(_parsed("--images", "photos", "--allow-empty"))
    assert isinstance(source_arguments(config), argparse.Namespace)


def test_the_users_stages_on_a_pretrained_trunk_run_as_given(garments, tmp_path):
    """Not as the planned heads' stage on cached features with its early stop: the user's first stage may
    train anything."""
    config = RunConfig(output=tmp_path / "run", model="multilabel_efficientnet_lite0", image_size=(32, 32),
                       stages=["epochs=2,trainable=all,lr=1e-4", "epochs=1,trainable=heads"],
                       reporter=Reporter([].append))
    df = zoo.data.from_folders(garments, heads=["color", "type"], separator="_")
    heads = zoo.data.heads_from_dataframe(df, {"color": "multiclass", "type": "multiclass"})
    model = zoo.build(config.model, heads=heads, input_shape=(32, 32, 3))
    plan = make_plan(config, model, heads, df, zoo.data.resolve_paths(df), 0, began=0.0)
    assert [(s.epochs, s.trainable) for s in plan.stages] == [(2, "all"), (1, "heads")]
    assert not plan.cached_heads and plan.patience is None


def test_a_stage_that_cannot_be_recorded_is_refused_when_the_config_is_made():
    import keras

    with pytest.raises(ValueError, match=r"name the optimizer .*Received: optimizer=<function"):
        RunConfig(stages=[zoo.Stage(epochs=1, optimizer=lambda rate: keras.optimizers.SGD(rate))])
