import numpy as np
import pandas as pd
import pytest

import zoo
from zoo.data import DataError, encode, from_csv, from_dataframe, from_folders, from_onehot_csv, from_voc


def test_dataframe_with_lists_and_tuples():
    df = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "labels": [["sea", "sunset"], ("trees",)]})
    out = from_dataframe(df, {"labels": "tags"}, file_column="path")
    assert list(out.columns) == ["filename", "tags"]
    assert out["tags"].tolist() == [("sea", "sunset"), ("trees",)]


@pytest.mark.parametrize("delimiter, cell", [(" ", "can milk_bottle"), (",", "can,milk_bottle"), ("|", "can|milk_bottle")])
def test_csv_with_delimited_labels_and_extension(tmp_path, delimiter, cell):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"filename": ["1", "2.png"], "labels": [cell, "can"]}).to_csv(path, index=False)
    df = from_csv(path, delimiter=delimiter, head="objects", extension="jpg")
    assert df["filename"].tolist() == ["1.jpg", "2.png"]
    assert df["objects"].tolist() == [("can", "milk_bottle"), ("can",)]


def test_csv_missing_column_is_named(tmp_path):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"file": ["a"], "tags": ["x"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"has no column\(s\) \['filename', 'labels'\]"):
        from_csv(path)


def test_onehot_csv_keeps_column_order_as_classes(tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("Filenames,sea,desert\n1.jpg,1,0\n2.jpg,1,1\n3.jpg,0,0\n")
    df = from_onehot_csv(path, file_column="Filenames", head="scene")
    assert df["scene"].tolist() == [("sea",), ("sea", "desert"), ()]
    assert zoo.data.learn_classes(df, "scene") == ["sea", "desert"]


def test_onehot_csv_uses_only_zero_one_columns_by_default(tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("Id,Genre,note,sea,desert\n1.jpg,['sea'],x,1,0\n2.jpg,\"['sea', 'desert']\",,1,1\n")
    df = from_onehot_csv(path, file_column="Id", head="scene")
    assert df["scene"].tolist() == [("sea",), ("sea", "desert")]
    assert df.attrs["ignored_columns"] == ["Genre", "note"]
    path.write_text("Id,Genre\n1.jpg,['sea']\n")
    with pytest.raises(DataError, match=r"has no column of 0/1 values besides the file column 'Id'; columns: \['Genre'\]"):
        from_onehot_csv(path, file_column="Id")


def test_onehot_csv_missing_value_names_line_and_column(tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("Filenames,sea,desert\n1.jpg,1,0\n2.jpg,,1\n3.jpg,0,\n")
    with pytest.raises(DataError, match=r"2 bad one-hot cell\(s\):\n  line 3 \(2.jpg\), column 'sea': missing value. "
                                        r"Received: nan\n  line 4 \(3.jpg\), column 'desert': missing value"):
        from_onehot_csv(path, file_column="Filenames")


def test_onehot_csv_bad_value_names_row_and_column(tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("Filenames,sea,desert\n1.jpg,1,0\n2.jpg,1,2\n")
    with pytest.raises(ValueError, match=r"line 3 \(2.jpg\), column 'desert': one-hot values must be 0 or 1. Received: 2"):
        from_onehot_csv(path, file_column="Filenames", label_columns=["sea", "desert"])


def _voc_xml(filename, names):
    objects = "".join(f"<object><name>{n}</name><bndbox><xmin>1</xmin></bndbox></object>" for n in names)
    return f"<annotation><folder>VOC</folder><filename>{filename}</filename>{objects}</annotation>"


@pytest.mark.parametrize("unique, expected", [(True, ("dog", "person")), (False, ("dog", "person", "dog"))])
def test_voc_annotations(tmp_path, unique, expected):
    annotations = tmp_path / "Annotations"
    annotations.mkdir()
    (annotations / "0001.xml").write_text(_voc_xml("0001.jpg", ["dog", "person", "dog"]))
    (annotations / "0002.xml").write_text(_voc_xml("0002.jpg", ["cat"]))
    df = from_voc(annotations, unique=unique)
    assert df["filename"].tolist() == [str(tmp_path / "JPEGImages" / "0001.jpg"), str(tmp_path / "JPEGImages" / "0002.jpg")]
    assert df["objects"].tolist() == [expected, ("cat",)]


def test_voc_bad_xml_is_named(tmp_path):
    (tmp_path / "bad.xml").write_text("<annotation><object>")
    with pytest.raises(ValueError, match="bad.xml is not valid XML"):
        from_voc(tmp_path)


def test_folders_split_into_heads_and_plain_classes(tmp_path):
    for folder in ("black_jeans", "blue_dress"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "1.jpg").write_bytes(b"")
    df = from_folders(tmp_path, heads=("color", "type"), separator="_")
    assert df[["color", "type"]].values.tolist() == [[("black",), ("jeans",)], [("blue",), ("dress",)]]
    plain = from_folders(tmp_path)
    assert plain["label"].tolist() == [("black_jeans",), ("blue_dress",)]
    with pytest.raises(ValueError, match=r"'black_jeans' splits into 2 part.*3 heads"):
        from_folders(tmp_path, heads=("a", "b", "c"), separator="_")


def test_encoding_multihot_onehot_binary():
    df = pd.DataFrame({"filename": ["a", "b"], "tags": [("x", "z"), ()], "kind": [("k2",), ("k1",)],
                       "cat": [("cat",), ()]})
    heads = [zoo.Head("tags", ["x", "y", "z"]), zoo.Head("kind", ["k1", "k2"], kind="multiclass"),
             zoo.Head("cat", ["cat"], kind="binary")]
    encoded = encode(df, heads, allow_empty=True)
    np.testing.assert_array_equal(encoded.targets["tags"], [[1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(encoded.targets["kind"], [[0, 1], [1, 0]])
    np.testing.assert_array_equal(encoded.targets["cat"], [[1], [0]])


def test_encoding_errors_name_row_and_value():
    df = pd.DataFrame({"filename": ["a.jpg", "b.jpg"], "tags": [("x",), ("w",)]})
    heads = [zoo.Head("tags", ["x", "y"])]
    with pytest.raises(ValueError, match=r"Row 1 \(b.jpg\): label\(s\) \['w'\] not in the classes"):
        encode(df, heads)
    skipped = encode(df, heads, on_error="skip")
    assert skipped.kept.tolist() == [0] and len(skipped.skipped) == 1
    with pytest.raises(ValueError, match=r"Row 0 \(a.jpg\): no label for head 'tags'"):
        encode(pd.DataFrame({"filename": ["a.jpg"], "tags": [()]}), heads)
    with pytest.raises(ValueError, match=r"No label column for head\(s\) \['kind'\]"):
        encode(df, [zoo.Head("kind", ["a", "b"], kind="multiclass")])
    with pytest.raises(ValueError, match="needs exactly one label"):
        encode(pd.DataFrame({"filename": ["a"], "k": [("a", "b")]}), [zoo.Head("k", ["a", "b"], kind="multiclass")])


# Real data sets from ../shared/data.

def test_miml_both_csv_layouts_agree(data_dir):
    onehot = from_onehot_csv(data_dir / "miml" / "miml_labels_1.csv", file_column="Filenames", head="scene")
    joined = from_csv(data_dir / "miml" / "miml_labels_2.csv", file_column="Filenames", label_column="labels",
                      head="scene")
    assert joined.attrs["label_formats"]["scene"] == zoo.data.LabelFormat("delimited", ",")
    assert len(onehot) == len(joined) == 2000
    assert zoo.data.learn_classes(onehot, "scene") == ["desert", "mountains", "sea", "sunset", "trees"]
    merged = onehot.merge(joined, on="filename")
    assert len(merged) == 2000
    assert all(set(a) == set(b) for a, b in zip(merged["scene_x"], merged["scene_y"]))
    counts = pd.Series([len(s) for s in onehot["scene"]]).value_counts().to_dict()
    assert counts == {1: 1543, 2: 442, 3: 15}


def test_clothing_folders(data_dir):
    df = from_folders(data_dir / "clothing", heads=("color", "type"), separator="_")
    assert len(df) == 93
    assert zoo.data.learn_classes(df, "color") == ["black", "blue", "red"]
    assert ("black", "dress") not in {(c[0], t[0]) for c, t in zip(df["color"], df["type"])}


def test_fridge_labels_csv(data_dir):
    df = from_csv(data_dir / "fridge" / "multilabelFridgeObjects" / "labels.csv", head="objects")
    assert len(df) == 10
    assert set(zoo.data.learn_classes(df, "objects")) <= {"can", "carton", "milk_bottle", "water_bottle"}
    assert max(len(labels) for labels in df["objects"]) > 1


def test_fridge_labels_csv_is_detected_as_space_delimited(data_dir):
    df = from_csv(data_dir / "fridge" / "multilabelFridgeObjects" / "labels.csv", head="objects")
    assert df.attrs["multivalued"] == {"objects": True}
    assert df["objects"].tolist()[-2:] == [("carton", "milk_bottle"), ("carton", "milk_bottle")]


FASHION_COLUMNS = ["gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage"]


def test_fashion_styles_one_single_valued_head_per_column(data_dir):
    folder = data_dir / "fashion_products"
    df = from_csv(folder / "styles.csv", file_column="id", label_columns=FASHION_COLUMNS, extension=".jpg")
    assert len(df) == 1099 and df["filename"].iloc[0] == "1163.jpg"
    assert df.attrs["multivalued"] == {column: False for column in FASHION_COLUMNS}
    assert all(len(labels) == 1 for column in FASHION_COLUMNS for labels in df[column])
    classes = {column: zoo.data.learn_classes(df, column) for column in FASHION_COLUMNS}
    assert {column: len(names) for column, names in classes.items()} == {
        "gender": 5, "masterCategory": 4, "subCategory": 13, "articleType": 27, "baseColour": 21, "season": 4, "usage": 6}
    assert {"Navy Blue", "Casual Shoes", "Smart Casual"} <= set().union(*classes.values())
    heads = zoo.data.heads_from_dataframe(df, {column: "multiclass" for column in FASHION_COLUMNS})
    assert zoo.data.rare_classes(df, heads, 0.2)["articleType"] == {
        "Basketballs": 3, "Duffel Bag": 1, "Socks": 4, "Sports Sandals": 1, "Trousers": 2}
    kept, report = zoo.data.drop_rare_classes(df, heads, 5)
    assert report.classes["articleType"] == {"Basketballs": 3, "Duffel Bag": 1, "Socks": 4, "Sports Sandals": 1,
                                             "Trousers": 2}
    assert report.rows_removed == len(df) - len(kept) > 0 and report.labels_removed == 0
    assert not zoo.data.rare_classes(kept, {c: "multiclass" for c in FASHION_COLUMNS}, 0.2)


def test_movie_posters_genre_list_literals_agree_with_the_onehot_columns(data_dir):
    path = data_dir / "movie_posters" / "labels.csv"
    genre = from_csv(path, file_column="Id", label_column="Genre", head="genre", extension="jpg")
    onehot = from_onehot_csv(path, file_column="Id", head="genre", extension="jpg")
    assert genre.attrs["multivalued"] == {"genre": True}
    assert onehot.attrs["ignored_columns"] == ["Genre"]
    assert "N/A" in zoo.data.learn_classes(onehot, "genre")
    assert sum(labels == ("N/A",) for labels in genre["genre"]) == 2
    assert [set(a) for a in genre["genre"]] == [set(b) for b in onehot["genre"]]


def test_onehot_csv_column_of_mostly_zero_one_values_is_not_ignored(tmp_path):
    path = tmp_path / "onehot.csv"
    path.write_text("Filenames,sea,desert,year\n1.jpg,1,0,2011\n2.jpg,1,yes,2012\n3.jpg,0,1,2013\n")
    with pytest.raises(DataError, match=r"columns mostly of 0/1 values hold other values:\n"
                                        r"  line 3 \(2.jpg\), column 'desert': Received: yes\nFix them"):
        from_onehot_csv(path, file_column="Filenames")
