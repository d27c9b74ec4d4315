"""Benchmark scripts run end to end at a tiny size."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole scripts, end to end: pytest -m slow

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_gpu_throughput_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "gpu_throughput.py", "--tiny", "--data", str(data_dir)],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MIML make_dataset" in result.stdout and "images/s" in result.stdout


def test_gpu_throughput_tiny_run_on_jax(tmp_path):
    result = subprocess.run([sys.executable, BENCHMARKS / "gpu_throughput.py", "--tiny", "--data", str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS,
                            env={**os.environ, "KERAS_BACKEND": "jax"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "on jax" in result.stdout and "MIML make_dataset row skipped" in result.stdout
    header, *rows = result.stdout.strip().splitlines()[-2:]
    assert header.split() == ["data", "batch", "precision", "XLA", "images/s"]
    # --tiny: one float32 row of batch 4; Keras compiles every JAX step with XLA.
    assert [row.split()[:4] for row in rows] == [["synthetic", "4", "float32", "yes"]]


def test_miml_quality_script_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "quality_miml.py", "--data", str(data_dir), "--seeds", "0",
                             "--epochs", "1", "--size", "32", "--variants", "no augmentation"],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "zoo recipe, tuned thresholds, cross-fitted (mean +- sd of 1)" in result.stdout
    assert "no augmentation" in result.stdout.split("Changed recipes, seed 0")[1]


def test_cli_startup_tiny_run():
    result = subprocess.run([sys.executable, BENCHMARKS / "cli_startup.py", "--repeats", "1", "--no-baselines"],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("  ")[0]: line.split() for line in result.stdout.splitlines()[2:]}
    assert set(rows) == {"zoo --help", "zoo train --help", "zoo list", "zoo train --onehot-csv missing.csv (error)"}
    assert rows["zoo train --onehot-csv missing.csv (error)"][-5] == "1" and rows["zoo list"][-5] == "0"


def test_export_benchmark_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "export.py", "--data", str(data_dir), "--images", "8",
                             "--size", "32", "--rounds", "1", "--batch-size", "4"],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("  ")[0]: line.split() for line in result.stdout.splitlines()[2:]}
    assert list(rows) == ["Keras predict (.keras)", "SavedModel, tf.saved_model.load", "ONNX Runtime",
                          "LiteRT float32", "LiteRT dynamic int8"]
    assert float(rows["ONNX Runtime"][-1]) < 1e-5 and float(rows["LiteRT dynamic int8"][-1]) < 0.05


def test_mixing_script_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "mixing.py", "--data", str(data_dir), "--sets", "miml",
                             "--seeds", "0", "--modes", "none", "cutmix", "--epochs", "1", "--size", "32"],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    header, *rows = result.stdout.split("\n\n")[-1].strip().splitlines()
    assert header.split() == ["set", "figure", "none", "cutmix"]
    assert {r.split()[1] for r in rows} >= {"scene", "minutes"}
    assert all("(n=1)" in r for r in rows)


def test_threads_benchmark_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "threads.py", "--data", str(data_dir), "--images", "40",
                             "--side", "32", "--rounds", "1", "--epochs", "1"],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split("  ")[0] for line in result.stdout.splitlines()[2:]]
    assert rows[0] == "TensorFlow's default" and rows[1].startswith("zoo train: ")


def test_speed_probe_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "speed_probe.py", "--data", str(data_dir), "--set", "miml",
                             "--target", "40", "32", "--sides", "16", "24", "--rounds", "1"],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    header, probed, timed = result.stdout.split("miml, target 40x32:")[1].strip().splitlines()
    assert header.split() == ["round", "priced", "from", "step", "s/image", "forward", "s/image", "probe", "CPU", "s"]
    probed, timed = probed.split(), timed.split()
    assert probed[:5] == ["0", "sides", "16", "and", "24"] and len(probed) == 7  # price, probe time; no forward
    assert timed[:4] == ["0", "the", "target,", "timed"] and len(timed) == 7  # step, forward, probe time
    assert all(float(value) > 0 for value in probed[5:] + timed[4:])
