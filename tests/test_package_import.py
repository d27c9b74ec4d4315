"""`import zoo` registers zoo's custom Keras objects, as does every module that loads models; the command stays light."""

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


def test_the_command_process_does_not_import_keras_until_a_subcommand_needs_it():
    code = "import sys, zoo.cli.app; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-m", "zoo", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "usage: zoo" in result.stdout
    for argv0 in ("zoo", "/usr/local/bin/zoo"):  # as the console script starts it
        assert _run(f"import sys; sys.argv[0] = {argv0!r}; {code.replace('import sys, ', 'import ')}") == ["False"] * 2
    assert _run(code) == ["True", "True"]  # any other process: `import zoo` registers zoo's Keras objects


def test_import_zoo_then_keras_loads_a_zoo_model_with_its_labels(tmp_path):
    path = tmp_path / "m.keras"
    _run(f"import zoo; zoo.save_model(zoo.build('multilabel_small', heads={{'tags': ['sea', 'sun']}}, "
         f"input_shape=(32, 32, 3), weights=None), {str(path)!r})")
    found = _run(f"import zoo, keras; m = keras.models.load_model({str(path)!r}); "
                 "print(*zoo.model_info(m)['heads']['tags']['classes'])")
    assert found == ["sea", "sun"]


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
