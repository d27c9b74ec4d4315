"""`zoo audit` in a new process: label_issues.csv and label_issues.png from a tiny image set."""

import subprocess
import sys

import pandas as pd
import pytest

from tests.evaluation.test_audit import colour_images
from zoo.models.weights import pretrained_installed


def zoo_audit(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "zoo", "audit", *map(str, arguments)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_audit_refuses_one_fold_before_reading_anything(tmp_path):
    table, _ = colour_images(tmp_path, per_class=2, flipped=())
    table.to_csv(tmp_path / "labels.csv", index=False)
    result = zoo_audit("--csv", "labels.csv", "--heads", "color", "--label-column", "labels", "--folds", "1",
                       cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "zoo audit: error: --folds must be at least 2. Received: --folds 1"
    result = zoo_audit("--csv", "labels.csv", "--backbone", "small_cnn", cwd=tmp_path)
    assert result.returncode == 1 and "--backbone: 'small_cnn' is not a backbone with ImageNet weights" in result.stderr
    assert "Received: --backbone small_cnn" in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(not pretrained_installed("efficientnet_lite0"), reason="no efficientnet_lite0 ImageNet weights")
def test_audit_on_pretrained_features_ranks_the_swapped_labels_first(tmp_path):
    table, flipped = colour_images(tmp_path)
    table.to_csv(tmp_path / "labels.csv", index=False)
    result = zoo_audit("--csv", "labels.csv", "--label-column", "labels", "--heads", "color", "--folds", "4",
                       "--image-size", "32", "32", "--output", "audit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    issues = pd.read_csv(tmp_path / "audit" / "label_issues.csv")
    assert list(issues.columns) == ["file", "head", "given", "suggested", "score", "rank"]
    assert set(issues.file[:2]) == set(flipped)  # as the table names them, relative to the working folder
    assert (issues.given[:2] != issues.suggested[:2]).all() and list(issues["rank"][:2]) == [1, 2]
    assert (tmp_path / "audit" / "label_issues.png").is_file()
    assert "logistic regression on efficientnet_lite0 and colour histogram features" in result.stdout


@pytest.mark.slow
def test_audit_without_a_backbone_trains_k_times_and_writes_its_files(tmp_path):
    table, _ = colour_images(tmp_path, per_class=4, flipped=(0,))
    table.to_csv(tmp_path / "labels.csv", index=False)
    result = zoo_audit("--csv", "labels.csv", "--label-column", "labels", "--heads", "color", "--folds", "2",
                       "--backbone", "none", "--epochs", "1", "--image-size", "16", "16", "--output", "audit",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 training runs of multilabel_small from scratch (1 epochs, 16x16)" in result.stdout
    issues = pd.read_csv(tmp_path / "audit" / "label_issues.csv")
    assert list(issues.columns) == ["file", "head", "given", "suggested", "score", "rank"]
    assert set(issues.given) <= {"red", "green", "blue"} and set(issues["head"]) <= {"color"}
    assert (tmp_path / "audit" / "label_issues.png").is_file() == (len(issues) > 0)
