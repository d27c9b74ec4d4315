"""Labels as written: format detection, missing cells, duplicates, every problem at once, rare classes."""

import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.data import (
    DataError,
    DataWarning,
    detect_label_format,
    drop_rare_classes,
    encode,
    from_csv,
    from_dataframe,
    make_dataset,
    merge_duplicates,
    rare_classes,
    train_validation_split,
    validate,
)


def _csv(tmp_path, text, name="labels.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _labels(cells):
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(len(cells))], "labels": cells})
    return from_dataframe(df, ["labels"])


# Format detection, one kind of input per case.

@pytest.mark.parametrize(
    "cells, delimiter",
    [
        (["desert", "mountains", "desert,mountains", "sea"], ","),
        (["desert", "mountains", "desert, mountains"], ","),
        (["a", "b", "a;b", "c", "c;a"], ";"),
        (["a", "b", "a|b", "b|c", "c"], "|"),
        (["carton", "milk_bottle", "carton milk_bottle", "can"], " "),
        (["1", "2", "1 2", "3"], " "),
    ],
)
def test_delimited_lists_are_detected(cells, delimiter):
    assert detect_label_format(cells) == zoo.data.LabelFormat("delimited", delimiter)
    out = _labels(cells)
    assert out.attrs["multivalued"] == {"labels": True}
    assert all(len(labels) == len(cell.replace(delimiter, "\0").split("\0")) for labels, cell in zip(out["labels"], cells))


def test_punctuation_parts_that_recur_across_cells_also_split():
    # "Reality-TV" never stands alone, but it appears in two different cells.
    assert detect_label_format(["Drama", "Comedy", "Drama,Reality-TV", "Comedy,Reality-TV"]).delimiter == ","


@pytest.mark.parametrize(
    "cells",
    [
        ["Blue", "Navy Blue", "Black", "Navy Blue"],
        ["Tshirts", "Casual Shoes", "Sports Shoes", "Formal Shoes", "Sandals", "Sports Sandals"],
        ["Casual", "Smart Casual", "Sports"],
        ["7", "12", "7", "3"],
        ["sea"],
        ["Navy Blue"],
    ],
)
def test_single_labels_stay_whole(cells):
    assert detect_label_format(cells).kind == "single"
    out = _labels(cells)
    assert out["labels"].tolist() == [(cell,) for cell in cells]
    assert out.attrs["multivalued"] == {"labels": False}


def test_numeric_cells_are_labels_as_written():
    df = pd.DataFrame({"filename": ["a.jpg", "b.jpg"], "digit": [7, 12]})
    out = from_dataframe(df, ["digit"])
    assert out["digit"].tolist() == [("7",), ("12",)]


def test_list_literals_are_parsed_and_keep_elements_as_written():
    out = _labels(["['Comedy', 'Drama']", "['N/A']", "[]", "('Drama',)"])
    assert out["labels"].tolist() == [("Comedy", "Drama"), ("N/A",), (), ("Drama",)]
    assert out.attrs["multivalued"] == {"labels": True}
    assert out.attrs["label_formats"]["labels"].kind == "literal"


def test_a_mix_of_list_literals_and_plain_cells_is_refused():
    with pytest.raises(DataError, match=r"column 'labels': some cells are Python lists such as .*\n  row 1 \(1.jpg\): 'Drama'"):
        _labels(["['Comedy', 'Drama']", "Drama"])


def test_comma_joined_cells_that_cannot_be_told_name_the_argument():
    # A single row: nothing says whether "desert,mountains" is one label or two.
    with pytest.raises(
        DataError,
        match=r"column 'labels': cannot tell whether cells are lists joined by ',' or single labels.*\n"
        r"  row 0 \(0.jpg\): 'desert,mountains'\n"
        r"Pass delimiter=',' \(--delimiter ','\) to split them, or delimiter='' \(--delimiter ''\).*"
        r"Received: delimiter=None",
    ):
        _labels(["desert,mountains"])


def test_whitespace_cells_with_evidence_both_ways_are_refused():
    # "carton milk_bottle" splits into labels of their own, "mug can" holds a word found nowhere else.
    with pytest.raises(DataError, match=r"(?s)lists joined by ' '.*\n  row 3 \(3.jpg\): 'mug can'.*--delimiter ' '"):
        _labels(["carton", "milk_bottle", "carton milk_bottle", "mug can", "can"])


def test_whitespace_words_that_only_recur_inside_other_cells_are_refused():
    with pytest.raises(DataError, match="too few of them split into words that also stand alone as labels"):
        _labels(["Light Blue", "Dark Blue", "Light Green", "Dark Green"])


def test_an_explicit_delimiter_wins():
    cells = ["desert,mountains"]
    assert _labels_with(cells, ",") == [("desert", "mountains")]
    assert _labels_with(cells, "") == [("desert,mountains",)]
    assert _labels_with(["Navy Blue"], " ") == [("Navy", "Blue")]


def _labels_with(cells, delimiter):
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(len(cells))], "labels": cells})
    return from_dataframe(df, ["labels"], delimiter=delimiter)["labels"].tolist()


def test_several_columns_one_format_each(tmp_path):
    path = _csv(tmp_path, 'id,scene,colour,genre\n1,"desert,sea",Navy Blue,"[\'Drama\']"\n2,sea,Blue,"[\'Comedy\', \'Drama\']"\n'
                          "3,desert,Red,[]\n")
    df = from_csv(path, file_column="id", label_columns={"scene": "scene", "colour": "color", "genre": "genre"},
                  extension="jpg")
    assert list(df.columns) == ["filename", "scene", "color", "genre"]
    assert df["color"].tolist() == [("Navy Blue",), ("Blue",), ("Red",)]
    assert df["scene"].tolist() == [("desert", "sea"), ("sea",), ("desert",)]
    assert df["genre"].tolist() == [("Drama",), ("Comedy", "Drama"), ()]
    assert df.attrs["multivalued"] == {"scene": True, "color": False, "genre": True}
    per_column = from_csv(path, file_column="id", label_columns=["scene", "colour"], delimiter={"scene": ""})
    assert per_column["scene"].tolist() == [("desert,sea",), ("sea",), ("desert",)]


# Missing cells.

def test_missing_value_cells_are_named_by_file_line_and_column(tmp_path):
    path = _csv(tmp_path, "filename,labels\na.jpg,sea\nb.jpg,NaN\nc.jpg,\nd.jpg,null\ne.jpg,None\nf.jpg,N/A\ng.jpg,NA\n")
    with pytest.raises(
        DataError,
        match=rf"CSV {path}, column 'labels': 6 cell\(s\) hold no label .*\n  line 3 \(b.jpg\): 'NaN'\n"
        r"  line 4 \(c.jpg\): ''\n(.*\n){4}.*pass allow_empty=True .*Received: allow_empty=False",
    ):
        from_csv(path)
    assert from_csv(path, allow_empty=True)["labels"].tolist() == [("sea",)] + [()] * 6


def test_empty_labels_are_accepted_only_for_multilabel_heads(tmp_path):
    df = from_csv(_csv(tmp_path, "filename,labels\na.jpg,sea\nb.jpg,\n"), allow_empty=True)
    assert encode(df, [zoo.Head("labels", ["sea"])], allow_empty=True).kept.tolist() == [0, 1]
    with pytest.raises(DataError, match=r"Row 1 \(b.jpg\): head 'labels' is multiclass and needs exactly one label"):
        encode(df, [zoo.Head("labels", ["sea", "sky"], kind="multiclass")], allow_empty=True)


# Every bad row in one error.

def test_encode_reports_every_bad_row_capped_in_one_error():
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(25)], "tags": [("x",)] + [("w",)] * 24})
    with pytest.raises(DataError) as raised:
        encode(df, [zoo.Head("tags", ["x", "y"])])
    message = str(raised.value)
    assert message.startswith("24 of 25 row(s) have label problems:")
    assert "Row 1 (1.jpg)" in message and "Row 20 (20.jpg)" in message and "Row 21 (21.jpg)" not in message
    assert message.endswith("... and 4 more")


def _image(path):
    Image.new("RGB", (8, 8), (200, 10, 10)).save(path)
    return path.name


def test_a_bad_label_and_a_missing_file_are_reported_together(tmp_path):
    df = pd.DataFrame({"filename": [_image(tmp_path / "a.png"), "gone.png", _image(tmp_path / "c.png")],
                       "tags": [("sea",), ("sea",), ("snow",)]})
    heads = [zoo.Head("tags", ["sea"])]
    pattern = r"2 problem\(s\) in 3 row\(s\):\n.*\n  Row 2 \(c.png\): label\(s\) \['snow'\].*\n.*\n  .*gone.png: file not found"
    with pytest.raises(DataError, match=pattern):
        validate(df, heads, directory=tmp_path)
    with pytest.raises(DataError, match=pattern):
        make_dataset(df, heads, directory=tmp_path, image_size=(8, 8))
    result = validate(df, heads, directory=tmp_path, on_error="skip")
    assert result.rows["filename"].tolist() == ["a.png"]
    assert len(result.skipped) == 2


# Files listed twice.

def test_exact_duplicates_are_merged_with_a_warning_naming_them():
    df = pd.DataFrame({"filename": ["a.jpg", "b.jpg", "a.jpg"], "kind": [("cat",), ("dog",), ("cat",)]})
    with pytest.warns(DataWarning, match=r"a.jpg \(rows 0, 2\): exact duplicate rows merged"):
        merged = merge_duplicates(df, {"kind": "multiclass"})
    assert merged["filename"].tolist() == ["a.jpg", "b.jpg"]


def test_multilabel_duplicates_take_the_union_of_their_labels():
    df = pd.DataFrame({"filename": ["a.jpg", "./a.jpg"], "tags": [("sea",), ("sky", "sea")]})
    with pytest.warns(DataWarning, match=r"a.jpg \(rows 0, 1\): labels merged, head 'tags': \['sea', 'sky'\]"):
        merged = merge_duplicates(df, [zoo.Head("tags", ["sea", "sky"])])
    assert merged["tags"].tolist() == [("sea", "sky")]


def test_multiclass_duplicates_that_disagree_are_an_error_naming_both_labels():
    df = pd.DataFrame({"filename": ["a.jpg", "b.jpg", "a.jpg"], "kind": [("cat",), ("dog",), ("dog",)]})
    match = r"a.jpg \(rows 0, 2\): head 'kind' is multiclass and the rows disagree: \['cat'\] vs \['dog'\]"
    with pytest.raises(DataError, match=match):
        merge_duplicates(df, {"kind": "multiclass"})
    with pytest.raises(DataError, match=match):
        validate(df, [zoo.Head("kind", ["cat", "dog"], kind="multiclass")], check="none")


def test_a_file_listed_twice_never_lands_on_both_sides_of_a_split():
    files = [f"{i}.jpg" for i in range(20)]
    df = pd.DataFrame({"filename": files + files, "tags": [("a",), ("b",)] * 20})
    heads = [zoo.Head("tags", ["a", "b"])]
    for stratify in (True, False):
        with pytest.warns(DataWarning, match="20 file\\(s\\) listed more than once"):
            train, validation = train_validation_split(df, heads, 0.25, stratify=stratify)
        assert not set(train["filename"]) & set(validation["filename"])
        assert len(train) + len(validation) == 20


# Rare classes.

def test_rare_classes_stay_in_training_with_a_warning():
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(40)],
                       "kind": [("common",)] * 30 + [("other",)] * 7 + [("once",)] + [("twice",)] * 2})
    heads = [zoo.Head("kind", ["common", "once", "other", "twice"], kind="multiclass")]
    assert rare_classes(df, heads, 0.25) == {"kind": {"once": 1, "twice": 2}}
    for seed in range(5):
        with pytest.warns(DataWarning, match=r"kept in training only.*\n  head 'kind': 'once' \(1\), 'twice' \(2\)"):
            train, validation = train_validation_split(df, heads, 0.25, seed=seed)
        assert {"once", "twice"} <= {labels[0] for labels in train["kind"]}
        assert not {"once", "twice"} & {labels[0] for labels in validation["kind"]}
        assert "other" in {labels[0] for labels in validation["kind"]}
        assert train.attrs["rare_classes"] == {"kind": {"once": 1, "twice": 2}}
        assert len(validation) == 10


def test_a_split_without_rare_classes_warns_nothing():
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(10)], "tags": [("a",), ("b",)] * 5})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train, validation = train_validation_split(df, [zoo.Head("tags", ["a", "b"])], 0.2)
    assert (len(train), len(validation)) == (8, 2) and train.attrs["rare_classes"] == {}


def test_drop_rare_classes_counts_what_it_removed():
    df = pd.DataFrame({
        "filename": [f"{i}.jpg" for i in range(6)],
        "kind": [("x",), ("x",), ("x",), ("y",), ("x",), ("x",)],
        "tags": [("p", "q"), ("p",), ("q",), ("p",), ("r",), ("p", "r")],
    })
    kept, report = drop_rare_classes(df, {"kind": "multiclass", "tags": "multilabel"}, 3)
    assert report.classes == {"kind": {"y": 1}, "tags": {"q": 2, "r": 2}}
    # Row 3 (class y) goes; row 4 had only r, left empty, goes; q and r leave rows 0, 2, 4, 5.
    assert kept["filename"].tolist() == ["0.jpg", "1.jpg", "5.jpg"]
    assert kept["tags"].tolist() == [("p",), ("p",), ("p",)]
    assert (report.rows_removed, report.labels_removed) == (3, 4)
    assert str(report).startswith("Removed 3 class(es) with fewer than 3 examples, 3 row(s) and 4 label(s)")
    kept_empty, report_empty = drop_rare_classes(df, {"kind": "multiclass", "tags": "multilabel"}, 3, allow_empty=True)
    assert report_empty.rows_removed == 1 and len(kept_empty) == 5
    assert kept_empty["tags"].tolist() == [("p",), ("p",), (), (), ("p",)]
    with pytest.raises(ValueError, match="Received: min_count=0"):
        drop_rare_classes(df, {"kind": "multiclass"}, 0)


def test_drop_rare_classes_updates_recorded_class_order():
    df = pd.DataFrame({"filename": ["a", "b", "c"], "tags": [("sea",), ("sea", "sky"), ("sea",)]})
    df.attrs["classes"] = {"tags": ["sky", "sea"]}
    kept, _ = drop_rare_classes(df, {"tags": "multilabel"}, 2)
    assert zoo.data.learn_classes(kept, "tags") == ["sea"]
    assert np.array_equal(encode(kept, zoo.data.heads_from_dataframe(kept, {"tags": "multilabel"})).targets["tags"],
                          [[1.0], [1.0], [1.0]])


def test_a_cell_of_delimiters_only_is_missing_too():
    with pytest.raises(DataError, match=r"1 cell\(s\) hold no label.*\n  row 1 \(1.jpg\): ','"):
        from_dataframe(pd.DataFrame({"filename": ["0.jpg", "1.jpg"], "labels": ["a,b", ","]}), ["labels"], delimiter=",")


@pytest.mark.parametrize("name", ["errors", "sources", "encoding", "validation", "splits"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    module = importlib.import_module(f"zoo.data.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def _genre_lists(delimiter):
    genres = ["Drama", "Comedy", "Action", "Crime", "Horror", "Romance"]
    combos = [(a, b) for a in genres for b in genres if a < b]
    return genres + [delimiter.join(c) for c in combos] + [delimiter.join(("Drama", "Reality-TV"))]


@pytest.mark.parametrize("delimiter", [",", ";", "|", " "])
def test_a_label_seen_once_inside_many_clean_lists_still_splits(delimiter):
    assert detect_label_format(_genre_lists(delimiter)).delimiter == delimiter


def test_whitespace_lists_need_most_cells_to_split_into_standalone_labels():
    cells = ["Blue", "Green", "Blue Green", "Light Blue", "Dark Blue", "Light Green", "Dark Green"]
    with pytest.raises(DataError, match="cannot tell whether cells are lists joined by ' '"):
        detect_label_format(cells)


def test_validate_merges_a_file_named_relative_and_absolute(tmp_path):
    name = _image(tmp_path / "a.png")
    df = pd.DataFrame({"filename": [name, str(tmp_path / name)], "tags": [("sea",), ("sea",)]})
    with pytest.warns(DataWarning, match=r"a.png \(rows 0, 1\): exact duplicate rows merged"):
        result = validate(df, [zoo.Head("tags", ["sea"])], directory=tmp_path)
    assert result.rows["filename"].tolist() == [name] and result.skipped == []


def test_a_table_of_only_rare_classes_cannot_be_split():
    df = pd.DataFrame({"filename": ["a.jpg", "b.jpg", "c.jpg"], "kind": [("x",), ("y",), ("z",)]})
    with pytest.warns(DataWarning), pytest.raises(DataError, match=r"Too few rows without rare classes to split: 0 of 3"):
        train_validation_split(df, [zoo.Head("kind", ["x", "y", "z"], kind="multiclass")], 0.3)


def test_a_tiny_set_whose_classes_are_all_rare_still_splits():
    labels = [("carton",), ("milk",), ("can",), ("water",), ("water",), ("can",), ("milk",), ("carton",),
              ("carton", "milk"), ("carton", "milk")]
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(10)], "tags": labels})
    assert rare_classes(df, {"tags": "multilabel"}, 0.2)  # every class: fewer than 5 examples
    train, validation = train_validation_split(df, [zoo.Head("tags", ["can", "carton", "milk", "water"])], 0.2,
                                               seed=0)
    assert (len(train), len(validation)) == (8, 2)
    assert set(train["filename"]) | set(validation["filename"]) == set(df["filename"])
