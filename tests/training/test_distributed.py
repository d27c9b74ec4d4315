"""Multi-worker training: two worker processes on 127.0.0.1 against one process with the same global batch."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import portpicker
import pytest

from zoo.training import distributed

JOB = Path(__file__).with_name("multi_worker_job.py")
ROOT = Path(__file__).resolve().parents[2]


def _start(args, tmp_path, name):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "-1"}
    env.pop("TF_CONFIG", None)
    out = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen([sys.executable, str(JOB), *args], stdout=out, stderr=subprocess.STDOUT, env=env), \
        tmp_path / f"{name}.log"


def _weights(log, tag="WEIGHTS"):
    line = next(line for line in log.read_text().splitlines() if line.startswith(f"{tag} "))
    return [np.asarray(w) for w in json.loads(line[len(tag) + 1:])]


def test_two_workers_end_with_the_weights_of_one_process_with_the_same_global_batch(tmp_path):
    workers = [f"127.0.0.1:{portpicker.pick_unused_port()}" for _ in range(2)]
    outputs = [tmp_path / f"worker{i}" for i in range(2)]
    started = []
    for i, folder in enumerate(outputs):
        folder.mkdir()
        started.append(_start(["multi", str(folder), json.dumps(distributed.cluster_config(workers, i)), "60"],
                              tmp_path, f"worker{i}"))
    single_folder = tmp_path / "single"
    single_folder.mkdir()
    single = _start(["single", str(single_folder)], tmp_path, "single")
    for process, log in [*started, single]:
        assert process.wait(timeout=300) == 0, log.read_text()[-3000:]
    first, second = (_weights(log) for _, log in started)
    reference = _weights(single[1])
    for a, b, c in zip(first, second, reference):
        np.testing.assert_array_equal(a, b)  # the all-reduce keeps the workers identical
        np.testing.assert_allclose(a, c, atol=1e-5, rtol=1e-4)  # and equal to one process up to rounding
    initial = _weights(single[1], "INITIAL")
    assert max(np.abs(a - b).max() for a, b in zip(first, initial)) > 1e-2  # training moved the weights
    assert (outputs[0] / "model.keras").is_file() and not (outputs[1] / "model.keras").exists()


def test_an_unreachable_worker_times_out_with_its_address(tmp_path):
    workers = [f"127.0.0.1:{portpicker.pick_unused_port()}" for _ in range(2)]
    start = time.monotonic()
    process, log = _start(["multi", str(tmp_path), json.dumps(distributed.cluster_config(workers, 0)), "3"],
                          tmp_path, "alone")
    try:
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert code != 0
    assert f"Workers did not answer within 3 s: {workers[1]} (worker 1)" in text, text[-2000:]
    assert time.monotonic() - start < 60


def test_configuration_helpers():
    config = distributed.cluster_config(["h1:1", "h2:2"], 1)
    assert config == {"cluster": {"worker": ["h1:1", "h2:2"]}, "task": {"type": "worker", "index": 1}}
    assert not distributed.is_chief(config) and distributed.is_chief(distributed.cluster_config(["h1:1"], 0))
    assert distributed.is_chief({})
    with pytest.raises(ValueError, match="Received: index=2"):
        distributed.cluster_config(["h1:1", "h2:2"], 2)
    with pytest.raises(ValueError, match="Received: workers=\\['h1'\\]"):
        distributed.cluster_config(["h1"], 0)
    port = portpicker.pick_unused_port()
    assert distributed.unreachable([f"127.0.0.1:{port}"], timeout=0.2) == [f"127.0.0.1:{port}"]
