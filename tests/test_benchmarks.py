"""The GPU throughput script runs end to end on CPU at a tiny size."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_gpu_throughput_tiny_run(data_dir):
    result = subprocess.run([sys.executable, BENCHMARKS / "gpu_throughput.py", "--tiny", "--data", str(data_dir)],
                            capture_output=True, text=True, timeout=600, cwd=BENCHMARKS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MIML make_dataset" in result.stdout and "images/s" in result.stdout
