import argparse
import json
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo.cli.app import build_parser, interrupted_message
from zoo.cli.reports import print_report, report_frame
from zoo.evaluation.report import multiclass_head_report, sigmoid_head_report


def _parsers(parser, name="zoo"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                yield from _parsers(sub, command)


def test_every_flag_of_every_command_has_help_and_no_parser_abbreviates():
    missing = [(name, action.option_strings or action.dest) for name, parser in _parsers(build_parser())
               for action in parser._actions
               if not action.help and not isinstance(action, argparse._SubParsersAction)]
    assert missing == []
    assert all(not parser.allow_abbrev for _, parser in _parsers(build_parser()))


@pytest.mark.parametrize("misspelt, meant", [("--folder", "--folders"), ("--epoch", "--epochs")])
def test_misspelt_flags_are_refused_not_taken_for_abbreviations(tmp_path, misspelt, meant):
    result = subprocess.run([sys.executable, "-m", "zoo", "train", "--folders", str(tmp_path), misspelt, "3"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"unrecognized arguments: {misspelt} 3" in result.stderr and "Traceback" not in result.stderr


def _report():
    rng = np.random.default_rng(0)
    tags = zoo.Head("tags", ["sea", "sun"])
    kind = zoo.Head("kind", ["x", "y"], kind="multiclass")
    return {"tags": sigmoid_head_report(tags, rng.integers(0, 2, (19, 2)), rng.random((19, 2))),
            "kind": multiclass_head_report(kind, np.eye(2)[rng.integers(0, 2, 19)], rng.random((19, 2)))}


def test_counts_are_whole_numbers_in_report_csv(tmp_path):
    report_frame(_report()).to_csv(tmp_path / "report.csv", index=False)
    text = (tmp_path / "report.csv").read_text()
    rows = [line.split(",") for line in text.splitlines()]
    header = rows[0]
    for column in ("samples", "support", "tp", "fp", "fn", "tn"):
        values = [row[header.index(column)] for row in rows[1:] if row[header.index(column)]]
        assert values and all(v.isdigit() for v in values), (column, values)
    assert "19.0" not in text


def test_printed_tables_have_one_header_line_and_whole_counts(capsys):
    print_report(_report())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["head", "samples"]
    assert lines[1].split()[:2] == ["tags", "19"] and lines[2].split()[:2] == ["kind", "19"]
    assert not any(line.split() == ["head"] for line in lines)  # no second header line of an index name


def test_ctrl_c_names_the_kept_epoch_and_the_command_that_continues(tmp_path):
    args = argparse.Namespace(command="train", output=str(tmp_path))
    argv = ["train", "--folders", "my images", "--output", str(tmp_path)]
    started = interrupted_message(args, argv)
    assert "before the first epoch finished" in started
    state = tmp_path / "backup" / "epoch-00003" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"epoch": 3, "rows": []}))
    message = interrupted_message(args, argv)
    assert "Epoch 3 is kept" in message and str(state.parent) in message
    assert message.endswith(f"\n  zoo train --folders 'my images' --output {tmp_path}")
    assert interrupted_message(argparse.Namespace(command="predict"), ["predict"]) == "zoo predict: interrupted"
