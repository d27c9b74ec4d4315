"""Multi-worker training: two worker processes on 127.0.0.1 (a training loop, and `zoo train`) against one process
with the same global batch; JAX data parallelism over two host devices against one device."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import portpicker
import pytest
from PIL import Image

import zoo
from tests.harness import JAX_WITHOUT_TENSORFLOW
from zoo.cli import main, workers
from zoo.data.synthetic import make_garments
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


@pytest.mark.slow
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


# `zoo train` as two workers. Dropout is the one part of a step that a cluster draws differently from one
# process (each worker draws for its part of the batch), so the runs compared with one process turn it off;
# zoo's augmentation does not repeat exactly from run to run, so they also pass --no-augment.
TRAIN = textwrap.dedent("""
    import sys
    if sys.argv[1] == "--no-dropout":
        import keras
        keras.layers.Dropout.call = lambda self, inputs, training=False: inputs
    from zoo.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.fixture(scope="module")
def garments(tmp_path_factory):
    """42 images of 7 color/type pairs, 32x32: 32 training (4 global batches of 8), 10 validation."""
    root = tmp_path_factory.mktemp("garments")
    make_garments(root, images_per_pair=6, image_size=(32, 32), held_out_images=1, seed=0)
    return root / "train"


def _train_args(garments, output, epochs=2):
    return ["train", "--folders", str(garments), "--separator", "_", "--heads", "color", "type", "--weights", "none",
            "--image-size", "32", "32", "--epochs", str(epochs), "--batch-size", "8", "--no-augment",
            "--output", str(output)]


def _zoo_train(args, log, dropout=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "-1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    return subprocess.Popen([sys.executable, "-c", TRAIN, "--dropout" if dropout else "--no-dropout", *args],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env=env)


def _cluster(count=2):
    return ["--workers", *(f"127.0.0.1:{portpicker.pick_unused_port()}" for _ in range(count))]


def _wait(processes, timeout=900):
    for process, log in processes:
        try:
            code = process.wait(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
        assert code == 0, log.read_text()[-3000:]


def _epochs(output):
    return pd.read_csv(output / "history.csv")["epoch"].tolist()


@pytest.mark.slow
def test_zoo_train_on_two_workers_writes_on_the_chief_only_and_matches_one_process(garments, tmp_path):
    cluster = _cluster()
    outputs = [tmp_path / "chief", tmp_path / "worker1"]
    started = [(_zoo_train([*_train_args(garments, out), *cluster, "--worker-index", str(i)],
                           tmp_path / f"worker{i}.log", dropout=False), tmp_path / f"worker{i}.log")
               for i, out in enumerate(outputs)]
    single = (_zoo_train(_train_args(garments, tmp_path / "single"), tmp_path / "single.log", dropout=False),
              tmp_path / "single.log")
    _wait([*started, single])

    chief, worker = outputs
    for name in ("model.keras", "best.keras", "plan.json", "split.csv", "run.json", "history.csv", "report.csv"):
        assert (chief / name).is_file(), name
    assert not worker.exists()  # the other worker reads and writes nothing in its --output
    assert not (chief / "backup").exists()
    assert "Worker 1 done; the chief (worker 0" in started[1][1].read_text()

    history, reference = pd.read_csv(chief / "history.csv"), pd.read_csv(tmp_path / "single" / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    for column in ("loss", "val_loss", "val_score"):
        np.testing.assert_allclose(history[column], reference[column], rtol=1e-5, err_msg=column)

    images = np.stack([np.asarray(Image.open(f), "float32") for f in sorted(garments.rglob("*.jpg"))[:20]])
    ours = zoo.load_model(chief / "model.keras").predict(images, verbose=0)
    theirs = zoo.load_model(tmp_path / "single" / "model.keras").predict(images, verbose=0)
    for head in ("color", "type"):  # the same model as one process with the global batch, up to rounding
        np.testing.assert_allclose(ours[head], theirs[head], atol=1e-5, err_msg=head)


@pytest.mark.slow
def test_a_killed_worker_stops_the_chief_and_both_continue_from_its_last_backup(garments, tmp_path):
    cluster = _cluster()
    outputs = [tmp_path / "chief", tmp_path / "worker1"]

    def start(i):
        log = tmp_path / f"worker{i}-{len(list(tmp_path.glob(f'worker{i}-*.log')))}.log"
        return _zoo_train([*_train_args(garments, outputs[i], epochs=4), *cluster, "--worker-index", str(i)],
                          log), log

    (chief, chief_log), (worker, _) = start(0), start(1)
    try:
        deadline = time.monotonic() + 600
        while not ((outputs[0] / "history.csv").is_file() and _epochs(outputs[0])):
            assert chief.poll() is None and worker.poll() is None, chief_log.read_text()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert chief.wait(timeout=120) == 1  # the chief notices at its next exchange
        assert time.monotonic() - killed < 90
    finally:
        for process in (chief, worker):
            if process.poll() is None:
                process.kill()
            process.wait()
    assert "zoo train: error: lost the connection to another worker" in chief_log.read_text()
    done = _epochs(outputs[0])
    assert 1 <= len(done) < 4 and done == list(range(1, len(done) + 1))

    again = [start(0), start(1)]  # the same commands
    _wait(again)
    chief_text, worker_text = (log.read_text() for _, log in again)
    assert f"Continuing the interrupted run in {outputs[0]} after epoch {done[-1]} of 4" in chief_text
    assert f"Continuing the interrupted run of the chief after epoch {done[-1]} of 4" in worker_text
    assert _epochs(outputs[0]) == [1, 2, 3, 4]  # each epoch once
    assert (outputs[0] / "model.keras").is_file() and not outputs[1].exists()


def test_a_worker_with_other_images_stops_every_worker(garments, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(garments, other)
    next(other.rglob("*.jpg")).unlink()
    cluster = _cluster()
    chief = (_zoo_train([*_train_args(garments, tmp_path / "chief"), *cluster, "--worker-index", "0"],
                        tmp_path / "chief.log"), tmp_path / "chief.log")
    worker = (_zoo_train([*_train_args(other, tmp_path / "worker"), *cluster, "--worker-index", "1"],
                         tmp_path / "worker.log"), tmp_path / "worker.log")
    codes = [p.wait(timeout=600) for p, _ in (chief, worker)]
    assert codes == [1, 1]
    assert "training and validation images on worker 1 differ from the chief's" in worker[1].read_text()
    assert "worker 1 stopped with an error (see its output)" in chief[1].read_text()
    assert not (tmp_path / "chief").exists()  # the folder it made holds no model: removed


def test_zoo_train_names_a_worker_that_never_starts(garments, tmp_path, capsys):
    cluster = _cluster()
    start = time.monotonic()
    process = _zoo_train([*_train_args(garments, tmp_path / "run"), *cluster, "--worker-index", "0",
                          "--worker-timeout", "3"], tmp_path / "alone.log")
    assert process.wait(timeout=120) == 1
    text = (tmp_path / "alone.log").read_text()
    assert f"Workers did not answer within 3 s: {cluster[2]} (worker 1)" in text, text[-2000:]
    assert time.monotonic() - start < 90 and not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags, message", [
    (["--workers", "h1:2222", "h2", "--worker-index", "0"],
     "--workers: 'h2' is not HOST:PORT (a port between 1 and 65535). Received: --workers h1:2222 h2"),
    (["--workers", "h1:2222", "h2:2222", "--worker-index", "2"],
     "--worker-index must be between 0 and 1 (one per --workers address). Received: --worker-index 2"),
    (["--workers", "h1:2222", "h2:2222"], "--workers needs --worker-index"),
    (["--worker-index", "1"], "--worker-index needs --workers, every worker's HOST:PORT. Received: --worker-index 1"),
    (["--workers", "h1:2222", "h2:2222", "--worker-index", "0", "--worker-timeout", "0"],
     "--worker-timeout must be a positive number. Received: --worker-timeout 0"),
])
def test_cluster_flags_are_checked_before_any_work(garments, tmp_path, capsys, flags, message):
    assert main([*_train_args(garments, tmp_path / "run"), *flags]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zoo train: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_tf_config_is_read_and_checked(garments, tmp_path, capsys, monkeypatch):
    args = argparse.Namespace(workers=None, worker_index=None)
    config = distributed.cluster_config(["10.0.0.1:2222", "10.0.0.2:2222"], 1)
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert workers.cluster_of(args) == config
    monkeypatch.setenv("TF_CONFIG", json.dumps({**config, "task": {"type": "worker", "index": 5}}))
    assert main(_train_args(garments, tmp_path / "run")) == 1
    assert "TF_CONFIG: the task index must be between 0 and 1. Received: TF_CONFIG=" in capsys.readouterr().err
    flags = argparse.Namespace(workers=["a:1", "b:2"], worker_index=0)  # the flags win over TF_CONFIG
    assert workers.cluster_of(flags) == distributed.cluster_config(["a:1", "b:2"], 0)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"index": 0}}))
    assert workers.cluster_of(args) is None  # a cluster of one is one machine


def test_the_split_fingerprint_ignores_where_the_images_are():
    heads = [zoo.Head("color", ["red", "blue"], kind="multiclass")]

    def split(root, names):
        return pd.DataFrame({"filename": [f"{root}/{n}" for n in names]})

    here = workers.fingerprint(heads, split("/data/set", ["a/1.jpg", "b/2.jpg"]), split("/data/set", ["a/3.jpg"]))
    there = workers.fingerprint(heads, split("/mnt/copy", ["a/1.jpg", "b/2.jpg"]), split("/mnt/copy", ["a/3.jpg"]))
    assert here == there
    assert here != workers.fingerprint(heads, split("/data/set", ["a/1.jpg"]),
                                       split("/data/set", ["a/3.jpg", "b/2.jpg"]))


JAX_DATA_PARALLEL = JAX_WITHOUT_TENSORFLOW + textwrap.dedent("""
    import jax
    import keras
    import numpy as np
    import zoo
    from zoo.training.distributed import jax_data_parallel

    heads = [zoo.Head("tags", ["desert", "sea", "trees"]), zoo.Head("kind", ["day", "night"], kind="multiclass")]
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (32, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (32, 3)).astype("float32"),
               "kind": np.eye(2, dtype="float32")[rng.integers(0, 2, 32)]}

    def train(distribution):
        keras.distribution.set_distribution(distribution)
        keras.utils.set_random_seed(0)
        model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None)
        initial = [np.asarray(w) for w in model.get_weights()]
        history = model.fit(images, targets, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return model, initial, history.history["loss"]

    single, initial, single_loss = train(None)
    distribution = jax_data_parallel()
    parallel, _, parallel_loss = train(distribution)
    print(json.dumps({
        "devices": jax.device_count(), "mesh": list(distribution.device_mesh.shape),
        "batch_axis": list(distribution.get_data_layout((8, 32, 32, 3)).axes),
        "weight_devices": len(parallel.trainable_weights[0].value.sharding.device_set),
        "difference": max(float(np.abs(np.asarray(a) - np.asarray(b)).max())
                          for a, b in zip(single.get_weights(), parallel.get_weights())),
        "moved": max(float(np.abs(np.asarray(a) - b).max()) for a, b in zip(single.get_weights(), initial)),
        "losses": [single_loss, parallel_loss]}))
""")


@pytest.mark.slow
def test_jax_data_parallel_over_two_devices_matches_one_device(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "KERAS_BACKEND": "jax"}
    result = subprocess.run([sys.executable, "-c", JAX_DATA_PARALLEL], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == 2 and report["mesh"] == [2] and report["weight_devices"] == 2
    assert report["batch_axis"][0] == "batch"  # each device takes half of every batch
    assert report["moved"] > 1e-2  # training changed the weights
    assert report["difference"] < 1e-4  # and both ways ended the same, up to rounding
    np.testing.assert_allclose(*report["losses"], rtol=1e-5)
