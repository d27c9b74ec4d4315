"""A zoo model's labels survive every Keras path, each run in a new process that has loaded nothing of zoo's."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import zoo
from zoo.io.saving import read_card
from zoo.models.card import card_of

ROOT = Path(__file__).resolve().parents[2]

# Plain Keras only, after the one import that registers zoo's objects: load, predict, save, clone, JSON,
# and thresholds tuned after loading, saved by `model.save`.
PLAIN_KERAS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    import zoo.models.card as card_module

    path, resaved = sys.argv[1], sys.argv[2]
    model = keras.models.load_model(path)
    def labels(m):
        card = card_module.card_of(m, infer=False)
        return card and {h.name: [h.kind, list(h.classes)] for h in card.heads}
    images = np.asarray(json.loads(sys.argv[3]), "float32")
    card = card_module.card_of(model)
    first = card.heads[0]
    card_module.set_card(model, card.with_head(first.name, threshold=0.25))
    model.save(resaved)
    print(json.dumps({
        "class": type(model).__name__,
        "loaded": labels(model),
        "predictions": {k: np.asarray(v).tolist() for k, v in model.predict(images, verbose=0).items()},
        "again": labels(keras.models.load_model(resaved)),
        "clone": labels(keras.models.clone_model(model)),
        "json": labels(keras.models.model_from_json(model.to_json())),
    }))
""")


def _fresh(args, **kwargs):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, **kwargs)


def _models():
    shared = zoo.build("multilabel_small", heads={"tags": ["sea", "sun", "tree"]}, input_shape=(32, 32, 3),
                       weights=None)
    branches = zoo.build_branches({"color": "small_cnn", "type": "compact_resnet"},
                                  [zoo.Head("color", ["red", "blue"], kind="multiclass"),
                                   zoo.Head("type", ["shirt", "dress", "hat"], kind="multiclass")], (32, 32, 3))
    zoo.compile_model(branches)
    return {"shared": shared, "branches": branches}


def _labels(model):
    return {h.name: [h.kind, list(h.classes)] for h in card_of(model).heads}


@pytest.mark.parametrize("which, suffix", [
    ("shared", ".keras"),
    pytest.param("shared", ".h5", marks=pytest.mark.slow),
    pytest.param("branches", ".keras", marks=pytest.mark.slow),
    pytest.param("branches", ".h5", marks=pytest.mark.slow),
])
def test_plain_keras_load_save_clone_and_json_keep_the_labels(tmp_path, which, suffix):
    model = _models()[which]
    path = tmp_path / f"model{suffix}"
    zoo.save_model(model, path)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).round()
    result = _fresh(["-c", PLAIN_KERAS, str(path), str(tmp_path / f"again{suffix}"), json.dumps(images.tolist())])
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    expected = _labels(model)
    assert found["class"] == "ZooModel"
    assert found["loaded"] == found["again"] == found["clone"] == found["json"] == expected
    for head, values in model.predict(images, verbose=0).items():
        np.testing.assert_allclose(found["predictions"][head], values, rtol=1e-5, atol=1e-6)
    # the threshold tuned after a plain Keras load is in the file `model.save` wrote
    first = card_of(model).heads[0]
    assert read_card(tmp_path / f"again{suffix}").head(first.name).threshold == 0.25
    assert zoo.load_model(tmp_path / f"again{suffix}").name == model.name


def _write_earlier_layout(model, path: Path) -> None:
    """A file as earlier versions of `zoo.save_model` wrote it: a plain Functional model, the card beside it."""
    import keras
    from zoo.io._keras2 import save_h5

    plain = keras.Model(model.inputs, model.output, name=model.name)
    card = card_of(model).to_json()
    if path.suffix == ".keras":
        import zipfile

        plain.save(path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("zoo_metadata.json", card)
    else:
        save_h5(plain, path)
        with h5py.File(path, "r+") as f:
            f.attrs["zoo_metadata"] = card


@pytest.mark.parametrize("suffix", [".keras", pytest.param(".h5", marks=pytest.mark.slow)])
def test_a_file_of_the_earlier_layout_loads_with_its_labels_in_a_new_process(tmp_path, suffix):
    model = _models()["branches"]
    path = tmp_path / f"earlier{suffix}"
    _write_earlier_layout(model, path)
    code = ("import sys, json, zoo; m = zoo.load_model(sys.argv[1]); "
            "print(json.dumps({h: [i['kind'], i['classes']] for h, i in zoo.model_info(m)['heads'].items()}), "
            "type(m).__name__)")
    result = _fresh(["-c", code, str(path)])
    assert result.returncode == 0, result.stderr[-3000:]
    labels, cls = result.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert json.loads(labels) == _labels(model) and cls == "ZooModel"
