"""zoo.export round trips, each read back by its own runtime (never by Keras).

Float32 exports must match the Keras model within 1e-5 (absolute, on
probabilities); the dynamic-quantized LiteRT file within 0.05.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

import zoo
from tests.harness import heads_for
from zoo.data.encoding import decode_predictions
from zoo.io.export import ExportError, open_exported
from zoo.models.card import heads_of, update_head

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
litert = pytest.importorskip("ai_edge_litert.interpreter")
pytest.importorskip("tf2onnx")
tf = pytest.importorskip("tensorflow")

SIZE = 32
FLOAT_TOLERANCE = 1e-5
QUANTIZED_TOLERANCE = 0.05

KERAS2_TWO_OUTPUTS = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tf_keras as k2
    k2.utils.set_random_seed(0)
    inputs = k2.Input((32, 32, 3), name="image")
    color = k2.Sequential([k2.layers.Rescaling(1 / 255, input_shape=(32, 32, 3)), k2.layers.Conv2D(4, 3),
                           k2.layers.GlobalAveragePooling2D(), k2.layers.Dense(3, activation="softmax")],
                          name="color_model")
    tags = k2.Sequential([k2.layers.Rescaling(1 / 255, input_shape=(32, 32, 3)), k2.layers.Conv2D(4, 3),
                          k2.layers.Flatten(), k2.layers.Dense(4, activation="sigmoid")], name="tags_model")
    model = k2.Model(inputs, [color(inputs), tags(inputs)])
    model.compile("adam", ["categorical_crossentropy", "binary_crossentropy"])
    model.save(sys.argv[1])
    """
)


@pytest.fixture(scope="module")
def real_images(data_dir):
    """The 7 clothing examples and 9 MIML scenes, stretched to SIZE x SIZE, float32 0..255."""
    files = sorted((data_dir / "clothing_examples").glob("*.jpg")) + [
        data_dir / "miml" / "images" / f"{i}.jpg" for i in range(1, 10)]
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), "float32")
                     for f in files])


def _thresholds_at_median(model, images):
    """Per-class thresholds at the median probability, so that some classes pass and some do not."""
    probabilities = _keras_probabilities(model, images)
    for head in heads_of(model):
        if head.kind != "multiclass":
            update_head(model, head.name, threshold=[float(t) for t in np.median(probabilities[head.name], 0)])


def _keras_probabilities(model, images):
    outputs = model.predict(images, verbose=0)
    if not isinstance(outputs, dict):
        outputs = dict(zip(model.output_names, outputs))
    return {name: np.asarray(value) for name, value in outputs.items()}


def _build(name, heads):
    return zoo.build(name, heads=heads, input_shape=(SIZE, SIZE, 3), weights=None, compile=False)


@pytest.fixture(scope="module")
def keras2_model(tmp_path_factory):
    pytest.importorskip("tf_keras")
    folder = tmp_path_factory.mktemp("keras2")
    (folder / "write.py").write_text(KERAS2_TWO_OUTPUTS)
    subprocess.run([sys.executable, folder / "write.py", folder / "model.h5"], check=True, timeout=300)
    return zoo.load_model(folder / "model.h5", compile=False)


@pytest.fixture(scope="module")
def models(real_images, keras2_model):
    """The models of the round trips, built once: {case: (model, exports folder)}."""
    built = {
        "shared_trunk": _build("multilabel_small", [zoo.Head("tags", ["sea", "sunset", "trees", "desert"])]),
        "two_branch": _build("color_type", heads_for("color_type")),
        "mixed_kinds": _build("multilabel_small", heads_for("multilabel_small")),
        "keras2_h5": keras2_model,
    }
    for model in built.values():
        _thresholds_at_median(model, real_images)
    return built


@pytest.fixture(scope="module")
def exports(models, tmp_path_factory):
    """Exports made on first use: exports(case, format, quantize=None) -> path."""
    folder = tmp_path_factory.mktemp("exports")
    made = {}
    suffixes = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}

    def get(case, format, quantize=None):
        key = (case, format, quantize)
        if key not in made:
            made[key] = zoo.export(models[case], folder / f"{case}_{quantize}{suffixes[format]}",
                                   format=format, quantize=quantize)
        return made[key]

    return get


CASES = ["shared_trunk", "two_branch", "mixed_kinds", "keras2_h5"]


def _assert_close(actual: dict, expected: dict, atol):
    assert sorted(actual) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(np.asarray(actual[name]), expected[name], atol=atol, rtol=0, err_msg=name)


@pytest.mark.parametrize("case", CASES)
def test_saved_model_matches_keras_and_names_labels(case, models, exports, real_images):
    model = models[case]
    loaded = tf.saved_model.load(str(exports(case, "saved_model")))
    expected = _keras_probabilities(model, real_images)
    _assert_close(loaded.signatures["serving_default"](images=tf.constant(real_images)), expected, FLOAT_TOLERANCE)

    as_uint8 = np.round(real_images).astype("uint8")
    _assert_close(loaded.signatures["serving_uint8"](images=tf.constant(as_uint8)),
                  _keras_probabilities(model, as_uint8.astype("float32")), FLOAT_TOLERANCE)

    labels = loaded.signatures["labels"](images=tf.constant(real_images))
    for head in heads_of(model):
        wanted = [" ".join(names) for names in decode_predictions(expected[head.name], head)]
        assert [s.decode() for s in labels[head.name].numpy()] == wanted, head.name
        if head.kind != "multiclass":
            assert len(set(wanted)) > 1, head.name  # the thresholds split the images


@pytest.mark.parametrize("case", CASES)
def test_onnx_matches_keras_and_carries_metadata(case, models, exports, real_images):
    model = models[case]
    path = exports(case, "onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    names = [o.name for o in session.get_outputs()]
    _assert_close(dict(zip(names, session.run(None, {"images": real_images}))),
                  _keras_probabilities(model, real_images), FLOAT_TOLERANCE)

    stored = json.loads({p.key: p.value for p in onnx.load(str(path)).metadata_props}["zoo_metadata"])
    for name, head in zoo.model_info(model)["heads"].items():
        assert stored["heads"][name]["classes"] == head["classes"]
        assert stored["heads"][name]["kind"] == head["kind"]
        assert stored["heads"][name]["threshold"] == head["threshold"]


@pytest.mark.parametrize("case", CASES)
def test_litert_matches_keras_and_has_its_labels_beside_it(case, models, exports, real_images):
    model = models[case]
    path = exports(case, "litert")
    runner = litert.Interpreter(model_path=str(path)).get_signature_runner()
    _assert_close(runner(images=real_images), _keras_probabilities(model, real_images), FLOAT_TOLERANCE)
    labels = json.loads(path.with_name(f"{case}_None.labels.json").read_text())
    assert labels["heads"] == zoo.model_info(model)["heads"]


def test_dynamic_quantized_litert_is_smaller_and_close(models, exports, real_images):
    path = exports("mixed_kinds", "litert", "dynamic")
    runner = litert.Interpreter(model_path=str(path)).get_signature_runner()
    _assert_close(runner(images=real_images), _keras_probabilities(models["mixed_kinds"], real_images),
                  QUANTIZED_TOLERANCE)
    assert path.stat().st_size < 0.5 * exports("mixed_kinds", "litert").stat().st_size


@pytest.mark.parametrize("format", ["onnx", "saved_model", "litert"])
def test_predictor_gives_the_same_frame_from_an_export(format, models, exports, data_dir, tmp_path):
    model = models["mixed_kinds"]
    zoo.save_model(model, tmp_path / "model.keras")
    folder = data_dir / "clothing_examples"
    expected = zoo.Predictor(tmp_path / "model.keras").predict(folder)
    frame = zoo.Predictor(exports("mixed_kinds", format)).predict(folder)
    assert list(frame.columns) == list(expected.columns)
    numbers = [c for c in expected.columns if ":" in c and expected[c].dtype.kind == "f"]
    np.testing.assert_allclose(frame[numbers].to_numpy(), expected[numbers].to_numpy(), atol=FLOAT_TOLERANCE)
    text = [c for c in expected.columns if c not in numbers]
    assert frame[text].equals(expected[text])


def test_unknown_format_lists_the_valid_ones(models, tmp_path):
    with pytest.raises(ValueError, match=r"saved_model, onnx, litert\. Received: format='pt'"):
        zoo.export(models["shared_trunk"], tmp_path / "m.pt", format="pt")
    with pytest.raises(ValueError, match=r"Received: quantize='dynamic' with format='onnx'"):
        zoo.export(models["shared_trunk"], tmp_path / "m.onnx", format="onnx", quantize="dynamic")


@keras.saving.register_keras_serializable(package="test_export")
class PythonCallback(keras.layers.Layer):
    """Runs Python code inside the graph: no exporter can convert that."""

    def call(self, inputs):
        doubled = tf.numpy_function(lambda x: x * 2, [inputs], tf.float32)
        return tf.ensure_shape(doubled, inputs.shape)


@pytest.mark.parametrize("format, suffix", [("saved_model", ""), ("onnx", ".onnx"), ("litert", ".tflite")])
def test_unconvertible_custom_layer_is_named_and_the_old_export_kept(format, suffix, tmp_path):
    images = keras.Input((SIZE, SIZE, 3), name="image")
    pooled = keras.layers.GlobalAveragePooling2D()(PythonCallback(name="python_step")(images))
    model = keras.Model(images, {"tags": keras.layers.Dense(2, activation="sigmoid", name="tags")(pooled)})
    path = tmp_path / f"m{suffix}"
    previous = path / "saved_model.pb" if format == "saved_model" else path  # what an earlier export wrote
    previous.parent.mkdir(parents=True, exist_ok=True)
    previous.write_bytes(b"previous export")
    if format == "saved_model":
        (path / "assets.extra").mkdir()
        (path / "assets.extra" / "zoo_metadata.json").write_text("{}")
    with pytest.raises(ExportError, match=rf"layer 'python_step' \(PythonCallback\) to {format}.*"
                                                     rf"Received: format='{format}'"):
        zoo.export(model, path, format=format)
    assert previous.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.slow
def test_existing_exports_are_replaced_whole(models, real_images, tmp_path):
    for format, path in [("saved_model", tmp_path / "served"), ("onnx", tmp_path / "m.onnx")]:
        zoo.export(models["two_branch"], path, format=format)
        zoo.export(models["shared_trunk"], path, format=format)
        runtime = open_exported(path)
        assert list(zoo.model_info(runtime)["heads"]) == ["tags"]
        _assert_close(runtime.predict(real_images), _keras_probabilities(models["shared_trunk"], real_images),
                      FLOAT_TOLERANCE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "served"]


def test_missing_runtime_names_the_extra(models, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "keras-zoo\[export\]"'):
        zoo.export(models["shared_trunk"], tmp_path / "m.onnx", format="onnx")
    assert not list(tmp_path.iterdir())


def test_zoo_export_command_writes_the_export_and_copies_the_card(models, tmp_path, real_images):
    from zoo.cli import main

    model_path = tmp_path / "trained" / "model.keras"
    zoo.save_model(models["two_branch"], model_path, card=True)
    output = tmp_path / "deploy" / "model.tflite"
    assert main(["export", str(model_path), "--format", "litert", "--output", str(output), "--quantize",
                 "dynamic"]) == 0
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "MODEL_CARD.json", "MODEL_CARD.md", "model.labels.json", "model.tflite"]
    assert (output.parent / "MODEL_CARD.md").read_text() == (model_path.parent / "MODEL_CARD.md").read_text()
    runtime = open_exported(output)
    _assert_close(runtime.predict(real_images), _keras_probabilities(models["two_branch"], real_images),
                  QUANTIZED_TOLERANCE)


@pytest.mark.parametrize("name", ["m.TFLITE", "model"])
def test_litert_export_to_a_path_not_ending_in_tflite_is_written_there(name, real_images, tmp_path):
    model = _build("multilabel_small", [zoo.Head("tags", ["sea", "sun"])])
    path = zoo.export(model, tmp_path / name, format="litert")
    assert path == tmp_path / name and path.is_file() and not list(tmp_path.glob(".*"))  # no temporary left
    runner = litert.Interpreter(model_path=str(path)).get_signature_runner()
    _assert_close(runner(images=real_images), _keras_probabilities(model, real_images), FLOAT_TOLERANCE)
