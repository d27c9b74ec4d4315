"""The command line's first minutes: fast help and listing, early errors naming the flag, exit 1."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from zoo.models import catalog
from zoo.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _run_python(code):
    """Runs `code` as the `zoo` console script's process is (its argv[0] is the script `zoo`)."""
    code = "import sys\nsys.argv[0] = 'zoo'\n" + code
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("argv", [["list"], ["--help"], ["train", "--help"], ["train", "--onehot-csv", "x.csv"],
                                  ["predict", "missing.keras", "photos"]])
def test_help_list_and_errors_do_not_import_tensorflow(argv):
    result = _run_python(
        "import sys\nfrom zoo.cli import main\ntry:\n    status = main(%r)\nexcept SystemExit as exit_:\n"
        "    status = exit_.code\nheavy = sorted({'tensorflow', 'keras'} & set(sys.modules))\n"
        "print('status', status, 'heavy', heavy)" % (argv,)
    )
    assert result.stdout.splitlines()[-1] in ("status 0 heavy []", "status 1 heavy []"), result.stderr


def test_registry_listing_matches_the_registered_models_and_backbones():
    import zoo
    from zoo.models.backbones import get_backbone_spec
    from zoo.models.architectures import MODELS

    assert zoo.list_models() == sorted(catalog.MODELS)
    assert zoo.list_backbones() == sorted(catalog.BACKBONES)
    for name, entry in catalog.MODELS.items():
        architecture = MODELS.get(name)
        assert architecture.backbones == entry["backbones"], name
        assert architecture.default_input_shape == entry["default_input_shape"], name
        assert architecture.default_kind == entry["default_kind"], name
        assert architecture.description == entry["description"], name
    for name, entry in catalog.BACKBONES.items():
        spec = get_backbone_spec(name)
        assert (spec.preprocessing, spec.boundaries, spec.default_input_shape, spec.pretrained) == (
            entry["preprocessing"], entry["boundaries"], entry["default_input_shape"], entry["pretrained"]), name


@pytest.fixture
def clothing(data_dir):
    return ["--folders", str(data_dir / "clothing"), "--separator", "_", "--heads", "color", "type"]


@pytest.mark.parametrize("extra, expected", [
    (["--model", "foo"], "--model: unknown architecture 'foo'; choose from color_type, "),
    (["--kind", "color=multi"], "--kind: unknown head kind 'multi'; choose from multilabel, multiclass, binary. "
                                "Received: --kind color=multi"),
    (["--kind", "scene=multilabel"], "--kind names head 'scene', but the heads are ['color', 'type']"),
    (["--epochs", "0"], "--epochs must be a positive integer. Received: --epochs 0"),
    (["--weights", "none.weights.h5"], "--weights: no such file: 'none.weights.h5'"),
    (["--stage", "epochs=three"], "--stage: epochs must be a number. Received: --stage epochs=three"),
])
def test_train_errors_name_the_flag_and_create_nothing(clothing, extra, expected, tmp_path, capsys):
    output = tmp_path / "run"
    assert main(["train", *clothing, *extra, "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zoo train: error: ") and expected in err and len(err.splitlines()) == 1
    assert not output.exists()


def test_head_count_and_missing_files_are_named(data_dir, tmp_path, capsys):
    assert main(["train", "--folders", str(data_dir / "clothing"), "--model", "color_type"]) == 1
    assert "--heads: color_type takes exactly 2 heads" in capsys.readouterr().err
    assert main(["train", "--folders", str(data_dir / "clothing"), "--separator", "_", "--heads", "color"]) == 1
    assert "--heads: folder 'black_jeans' splits into 2 part(s)" in capsys.readouterr().err
    assert main(["train", "--onehot-csv", str(tmp_path / "x.csv")]) == 1
    assert capsys.readouterr().err == f"zoo train: error: --onehot-csv: no such file: '{tmp_path / 'x.csv'}'\n"
    miml = ["--onehot-csv", str(data_dir / "miml" / "miml_labels_1.csv"), "--file-column", "Filenames"]
    assert main(["evaluate", str(tmp_path / "m.keras"), *miml]) == 1
    assert f"model: no such file or folder: '{tmp_path / 'm.keras'}'" in capsys.readouterr().err
    assert main(["train", *miml[:2]]) == 1
    err = capsys.readouterr().err
    assert "--file-column: --onehot-csv" in err and "its columns: Filenames, desert" in err
    assert main(["train", *miml, "--images", str(data_dir / "clothing")]) == 1
    err = capsys.readouterr().err
    assert "--images: none of the first 5 files listed in --onehot-csv" in err
    assert f"Received: --images {data_dir / 'clothing'}" in err


def test_argparse_errors_exit_1_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--epochs", "many"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert err.splitlines() == ["zoo train: error: argument --epochs: invalid int value: 'many' "
                                "(see `zoo train --help`)"]
    with pytest.raises(SystemExit) as exit_:
        main(["fly"])
    assert exit_.value.code == 1 and len(capsys.readouterr().err.splitlines()) == 1


def test_help_wraps_at_spaces_only(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for piece in ("epochs=10,trainable=type:block5_conv1,lr=1e-5;", "epochs=10,trainable=heads,lr=1e-3",
                  "trainable=auto|heads|all|BOUNDARY|BRANCH:BOUNDARY/...,", "auto)"):
        assert piece in out.split(), piece
    assert max(len(line) for line in out.splitlines()) <= 100


def _labelled_images(folder, present, missing):
    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True)
    names = [f"{i}.png" for i in range(present + missing)]
    for name in names[:present]:
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / "images" / name)
    tags = [[1, 0], [0, 1]] * ((present + missing) // 2 + 1)
    frame = pd.DataFrame({"filename": names, "a": [t[0] for t in tags[:len(names)]],
                          "b": [t[1] for t in tags[:len(names)]]})
    frame.to_csv(folder / "labels.csv", index=False)
    return ["--onehot-csv", str(folder / "labels.csv"), "--images", str(folder / "images")]


def test_failed_train_removes_the_folder_it_created_and_hints_at_images(tmp_path, capsys):
    source = _labelled_images(tmp_path, present=6, missing=14)
    common = ["train", *source, "--image-size", "16", "16", "--epochs", "1", "--weights", "none"]
    assert main([*common, "--output", str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err
    assert "image file(s) cannot be used" in err and "file not found" in err
    assert f"hint: the files were looked up under --images {tmp_path / 'images'}" in err
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    assert main([*common, "--output", str(existing)]) == 1
    assert (existing / "notes.txt").read_text() == "mine"


def test_a_failed_train_keeps_a_folder_holding_a_checkpoint(tmp_path, monkeypatch, capsys, data_dir):
    from zoo.cli import train

    output = tmp_path / "run"

    def fails_after_a_checkpoint(args):
        output.mkdir()
        (output / "best.keras").write_text("checkpoint")
        raise RuntimeError("out of memory")

    monkeypatch.setattr(train, "run", fails_after_a_checkpoint)
    source = ["--folders", str(data_dir / "clothing"), "--separator", "_", "--heads", "color", "type"]
    assert main(["train", *source, "--output", str(output)]) == 1
    assert capsys.readouterr().err == "zoo train: error: out of memory\n"
    assert (output / "best.keras").is_file()


def test_verbose_is_a_global_flag_and_a_demo_flag():
    from zoo.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--verbose", "demo"]).verbose is True
    assert parser.parse_args(["demo", "--verbose"]).verbose is True
    assert parser.parse_args(["demo"]).verbose is False


def test_heads_that_a_table_cannot_give_are_refused_instead_of_dropped(tmp_path, capsys):
    Image.new("RGB", (8, 8)).save(tmp_path / "1.jpg")
    table = tmp_path / "styles.csv"
    table.write_text("id,gender,colour\n1,Men,red\n")
    source = ["--csv", str(table), "--file-column", "id", "--extension", ".jpg", "--images", str(tmp_path)]
    assert main(["train", *source, "--heads", "gender", "color", "--output", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err == (f"zoo train: error: --heads: several heads name label columns of --csv '{table}', one head each, "
                   "but it has no column 'color' (did you mean 'colour'?); its columns: id, gender, colour. "
                   "Received: --heads gender color\n")
    assert not (tmp_path / "run").exists()
    # One name that is not a column would name the head of --label-column's column, which is not there either.
    assert main(["train", *source, "--heads", "gendre", "--output", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == (
        f"zoo train: error: --heads: --csv '{table}' has no column 'gendre' (did you mean 'gender'?); a --heads name "
        "that is not a column names the head of the --label-column column instead, and there is no column 'labels' "
        "either; its columns: id, gender, colour. Received: --heads gendre --label-column labels\n")
    assert main(["train", *source, "--heads", "size", "--output", str(tmp_path / "run")]) == 1
    assert "has no column 'size'; a --heads name" in capsys.readouterr().err  # nothing close: no guess
    assert not (tmp_path / "run").exists()
    onehot = tmp_path / "onehot.csv"
    onehot.write_text("id,sea,sunset\n1,1,0\n")
    assert main(["train", "--onehot-csv", str(onehot), "--file-column", "id", "--heads", "scene", "time"]) == 1
    assert capsys.readouterr().err == ("zoo train: error: --heads: --onehot-csv makes one head (its labels are that "
                                       "head's classes); name at most one. Received: --heads scene time\n")
