"""`import zoo` is light; zoo's custom Keras objects are registered by every module that loads models."""

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


@pytest.mark.parametrize("imports", [
    "import keras; import zoo", "import zoo.io.saving",
    *(pytest.param(i, marks=pytest.mark.slow) for i in ["import zoo; zoo.Head", "import zoo.models.card",
                                                          "import zoo.evaluation.predict"])])
def test_custom_objects_are_registered_by_any_module_that_loads_models(imports):
    found = _run(f"{imports}\nimport keras, sys\n"
                 "print(*(keras.saving.get_registered_object(f'zoo>{name}') is not None for name in "
                 "['ImagePreprocessing', 'AsymmetricLoss', 'ZooModel', 'ExactMatchAccuracy']), "
                 "any(type(f).__module__.startswith('zoo') for f in sys.meta_path))")
    assert found == ["True"] * 4 + ["False"]  # and no import hook of zoo's
