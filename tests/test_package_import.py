"""`import zoo` is light; zoo's custom Keras objects are registered whenever Keras is there."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


def test_import_zoo_does_not_import_keras():
    assert _run("import sys, zoo; print('keras' in sys.modules, 'tensorflow' in sys.modules)") == ["False", "False"]


@pytest.mark.parametrize("imports", ["import zoo; import keras", "import keras; import zoo", "import zoo; zoo.Head"])
def test_custom_objects_are_registered_once_keras_is_imported(imports):
    found = _run(f"{imports}\nimport keras\n"
                 "print(keras.saving.get_registered_object('zoo>ImagePreprocessing') is not None, "
                 "keras.saving.get_registered_object('zoo>AsymmetricLoss') is not None, "
                 "type(keras.__spec__.loader).__module__.split('.')[0])")
    assert found[:2] == ["True", "True"]
    assert found[2] != "zoo"  # Keras keeps its own loader
