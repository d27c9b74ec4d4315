import subprocess
import sys

import keras
import pandas as pd
import pytest

import zoo
from zoo.cli import main
from zoo.cli.choices import TRAINING_LOSSES
from zoo.cli.train import training_losses
from zoo.training.finetune import parse_stage
from zoo.training.losses import LOSSES, AsymmetricLoss


def test_list_shows_models_and_backbones(capsys):
    assert main(["list"]) == 0
    quick = capsys.readouterr().out
    assert "color_type" in quick and "block5" in quick and "14.71M" not in quick and "zoo list --params" in quick
    assert main(["list", "--params"]) == 0
    out = capsys.readouterr().out
    assert "color_type" in out and "multilabel_small" in out and "block5" in out
    vgg16 = next(line for line in out.splitlines() if line.strip().startswith("vgg16 "))
    assert "14.71M" in vgg16 and "224x224x3" in vgg16  # VGG16 without its top: 14,714,688 parameters


def test_weights_lists_manifest(capsys):
    assert main(["weights"]) == 0
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["list", "demo", "weights", "inspect", "train", "evaluate", "predict", "export",
                                     "audit", "report"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and f"usage: zoo {command}" in capsys.readouterr().out


def test_the_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "zoo.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "{list,demo,weights,inspect,train,evaluate,predict,export,audit,report}" in result.stdout


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["train", "--csv", str(tmp_path / "missing.csv"), "--output", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zoo train: error:") and "missing.csv" in err and "Traceback" not in err


def test_stage_specs():
    stage = parse_stage("epochs=3,trainable=type:block5_conv1,lr=1e-5,loss_weights=color:0.1/type:1", ["color", "type"])
    assert stage.epochs == 3 and stage.learning_rate == 1e-5
    assert stage.trainable == {"type": "block5_conv1"} and stage.loss_weights == {"color": 0.1, "type": 1.0}
    assert parse_stage("trainable=stage4", ["tags"]).trainable == {"tags": "stage4"}
    with pytest.raises(ValueError, match="Received: --stage 'epochs'"):
        parse_stage("epochs", ["tags"])
    with pytest.raises(ValueError, match=r"Unknown stage field\(s\) \['speed'\]"):
        parse_stage("speed=3", ["tags"])


def test_loss_option_covers_sigmoid_heads_and_weighs_by_training_rows():
    assert TRAINING_LOSSES == LOSSES
    heads = [zoo.Head("tags", ["a", "b"]), zoo.Head("kind", ["x", "y"], kind="multiclass")]
    rows = pd.DataFrame({"filename": ["1.jpg", "2.jpg", "3.jpg", "4.jpg"],
                         "tags": [("a",), ("a", "b"), ("a",), ()], "kind": [("x",), ("y",), ("x",), ("y",)]})
    assert training_losses("bce", heads, rows) is None
    assert isinstance(training_losses("asymmetric", heads, rows)["tags"], AsymmetricLoss)
    weighted = training_losses("weighted_bce", heads, rows)
    assert set(weighted) == {"tags"}
    assert weighted["tags"].pos_weight == pytest.approx([1 / 3, 3.0])  # a: 1 negative / 3 positives; b: 3 / 1


def test_train_evaluate_predict_on_clothing_folders(data_dir, tmp_path, capsys):
    output = tmp_path / "run"
    source = ["--folders", str(data_dir / "clothing"), "--separator", "_", "--heads", "color", "type"]
    assert main(["train", *source, "--model", "color_type", "--image-size", "32", "32", "--weights", "none",
                 "--stage", "epochs=1,trainable=type:none", "--stage",
                 "epochs=1,trainable=type:block5_conv1,lr=1e-4,loss_weights=color:0.1/type:1",
                 "--batch-size", "16", "--format", "h5", "--no-cache", "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "Keeping the decoded images" not in out
    assert out.count("val_score: the mean over heads of validation accuracy") == 2  # before training, at restore
    header, first = out[out.index("Validation split:"):].splitlines()[1:3]
    assert header.split()[:3] == ["head", "report", "samples"] and first.split()[:2] == ["color", "validation"]
    for name in ("model.h5", "history.csv", "history.png", "report.csv", "label_counts.png", "confusion_color.png",
                 "scores.npz", "report.html"):
        assert (output / name).is_file(), name
    history = pd.read_csv(output / "history.csv")
    assert history["stage"].tolist() == ["stage1", "stage2"]

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    capsys.readouterr()
    assert main(["evaluate", str(output / "model.h5"), *source, "--output", str(blocker / "report.csv")]) == 1
    assert capsys.readouterr().err == (f"zoo evaluate: error: --output: cannot write there: {str(blocker)!r} is not "
                                       f"a writable folder. Received: --output {blocker / 'report.csv'}\n")
    misnamed = ["--folders", str(data_dir / "clothing"), "--separator", "_", "--heads", "colour", "type"]
    assert main(["evaluate", str(output / "model.h5"), *misnamed]) == 1
    assert capsys.readouterr().err == (
        "zoo evaluate: error: the model's heads are color, type, but the labels read have none for color (their "
        "columns: filename, colour, type); name the model's heads, e.g. --heads color type. Received: --heads colour "
        "type\n")
    evaluation = tmp_path / "evaluation" / "new"  # folders made as `zoo predict` makes them
    assert main(["evaluate", str(output / "model.h5"), *source, "--output", str(evaluation / "report.csv")]) == 0
    report = pd.read_csv(evaluation / "report.csv")
    assert set(report["head"]) == {"color", "type"}
    assert report.loc[(report["head"] == "color") & (report["class"] == "(all)"), "samples"].item() == 93
    assert 'data-report="report.csv" data-head="type" data-metric="accuracy"' in (evaluation / "report.html").read_text()

    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(output / "model.h5"), str(data_dir / "clothing_examples"),
                 "--output", str(predictions)]) == 0
    frame = pd.read_csv(predictions)
    assert len(frame) == 7
    assert set(frame["color"]) <= {"black", "blue", "red"} and set(frame["type"]) <= {"dress", "jeans", "shirt"}


@pytest.mark.slow
def test_train_and_tune_on_miml_onehot_csv(data_dir, tmp_path, capsys, monkeypatch):
    passes = []
    predict = zoo.Predictions.of.__func__
    monkeypatch.setattr(zoo.Predictions, "of",
                        classmethod(lambda cls, *a, **k: passes.append(1) or predict(cls, *a, **k)))
    miml = data_dir / "miml"
    output = tmp_path / "miml"
    source = ["--onehot-csv", str(miml / "miml_labels_1.csv"), "--file-column", "Filenames",
              "--images", str(miml / "images"), "--heads", "scene"]
    assert main(["train", *source, "--weights", "none", "--image-size", "32", "32", "--epochs", "1",
                 "--batch-size", "64",
                 "--tune-thresholds", "f1", "--loss", "asymmetric", "--precision", "mixed_bfloat16",
                 "--output", str(output)]) == 0
    assert len(passes) == 2  # once for the epoch's best-model figure, once for all three reports
    assert keras.config.dtype_policy().name == "float32"  # the policy applied to this model only
    stem = zoo.load_model(output / "model.keras", compile=False).get_layer("compact_resnet").get_layer("stem_conv")
    assert (stem.compute_dtype, stem.variable_dtype) == ("bfloat16", "float32")
    report = pd.read_csv(output / "report.csv")
    assert set(report["class"]) == {"(all)", "desert", "mountains", "sea", "sunset", "trees"}
    for name in ("report_threshold_0.5.csv", "report_tuned_cross_fitted.csv"):
        assert pd.read_csv(output / name)["class"].tolist() == report["class"].tolist()
    assert main(["evaluate", str(output / "model.keras"), *source, "--tune-thresholds", "exact_match"]) == 0
    out = capsys.readouterr().out
    assert "hamming_loss" in out and "Keeping the decoded images in memory (23 MiB)" in out
    predictions = tmp_path / "p.csv"
    images = sorted((miml / "images").iterdir())[:3]
    assert main(["predict", str(output / "model.keras"), *map(str, images), "--output", str(predictions)]) == 0
    frame = pd.read_csv(predictions, keep_default_na=False)
    assert len(frame) == 3
    scenes = {"desert", "mountains", "sea", "sunset", "trees"}
    assert all(labels == "(none)" or set(labels.split()) <= scenes for labels in frame["scene"])
    assert set(frame["scene:top"]) <= scenes
