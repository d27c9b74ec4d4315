"""`import zoo` is light; zoo's custom Keras objects are registered whenever Keras is there."""

import subprocess
import sys
import textwrap
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


def test_old_module_paths_answer_with_the_new_modules_and_say_where_they_went():
    found = _run(textwrap.dedent("""
        import importlib, warnings
        from zoo._moved import MOVED
        for old, new in MOVED.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                module = importlib.import_module(old)
            said = " ".join(str(w.message) for w in caught if w.category is DeprecationWarning)
            print(old, module is importlib.import_module(new), new in said)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from zoo.progress import EpochProgress, Progress
            from zoo.backbones.base import BackboneSpec
        import zoo.io.progress, zoo.io.progress_callbacks, zoo.models.backbones.base
        print("both-halves", EpochProgress is zoo.io.progress_callbacks.EpochProgress,
              Progress is zoo.io.progress.Progress)
        print("package-member", BackboneSpec is zoo.models.backbones.base.BackboneSpec, True)
        try:
            import zoo.commands
        except ImportError as error:
            print("split", "zoo.cli.train" in str(error), "zoo.cli.sources" in str(error))
    """))
    rows = [found[i:i + 3] for i in range(0, len(found), 3)]
    assert len(rows) >= 30 and all(row[1:] == ["True", "True"] for row in rows), rows
    assert [row[0] for row in rows[-3:]] == ["both-halves", "package-member", "split"]
