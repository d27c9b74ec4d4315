"""Models built and trained on Keras' JAX backend, without TensorFlow, load back on TensorFlow."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import hamming_loss

import zoo
from tests.harness import JAX_WITHOUT_TENSORFLOW

pytestmark = pytest.mark.slow  # a training run on another backend, in its own process: pytest -m slow

JAX_TRAINING = JAX_WITHOUT_TENSORFLOW + textwrap.dedent(
    """
    import keras
    import numpy as np
    import zoo

    out = sys.argv[1]
    heads = [zoo.Head("tags", ["desert", "sea", "trees"]), zoo.Head("kind", ["day", "night"], kind="multiclass")]
    with zoo.training.scale.mixed_precision("mixed_float16"):
        model = zoo.build("multilabel_small", heads=heads, input_shape=(32, 32, 3), weights=None)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    targets = {"tags": rng.integers(0, 2, (16, 3)).astype("float32"),
               "kind": np.eye(2, dtype="float32")[rng.integers(0, 2, 16)]}
    history = model.fit(images, targets, batch_size=8, epochs=2, verbose=0)
    batches = [(images[i:i + 8], {k: v[i:i + 8] for k, v in targets.items()}) for i in (0, 8)]
    hamming = zoo.evaluate(model, batches)["tags"]["summary"]["hamming_loss"]
    thresholds = zoo.tune_thresholds(model, batches)
    for ext in ("keras", "h5"):
        zoo.save_model(model, f"{out}/model.{ext}")
    predictions = model.predict(images, verbose=0)
    np.savez(f"{out}/jax.npz", images=images, tags_targets=targets["tags"], **predictions)
    print(json.dumps({"backend": keras.backend.backend(), "jit_compile": model.jit_compile,
                      "losses": history.history["loss"], "hamming": hamming, "thresholds": thresholds}))
    """
)


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("jax")
    script = out / "train.py"
    script.write_text(JAX_TRAINING)
    result = subprocess.run([sys.executable, script, out], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, json.loads(result.stdout.strip().splitlines()[-1])


def test_jax_backend_trains_with_xla_and_no_tensorflow(jax_run):
    _, report = jax_run
    assert report["backend"] == "jax"
    assert report["jit_compile"] is True  # zoo's default on JAX: eager JAX would be slow
    assert len(report["losses"]) == 2 and all(np.isfinite(report["losses"]))


def test_evaluate_and_tuned_thresholds_on_jax(jax_run):
    out, report = jax_run
    saved = np.load(out / "jax.npz")
    # evaluate ran before tuning, at the default threshold 0.5
    assert report["hamming"] == pytest.approx(hamming_loss(saved["tags_targets"], saved["tags"] > 0.5))
    model = zoo.load_model(out / "model.keras")
    assert zoo.model_info(model)["heads"]["tags"]["threshold"] == report["thresholds"]["tags"]


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_model_trained_on_jax_predicts_the_same_on_tensorflow(jax_run, ext):
    out, _ = jax_run
    expected = np.load(out / "jax.npz")
    model = zoo.load_model(out / f"model.{ext}")
    predictions = model.predict(expected["images"], verbose=0)
    assert zoo.model_info(model)["heads"]["kind"]["classes"] == ["day", "night"]
    for head in ("tags", "kind"):
        np.testing.assert_allclose(predictions[head], expected[head], atol=2e-3)
