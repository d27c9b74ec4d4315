"""Delimiters decided by the statistics of the split parts, on generated tables of every shape."""

import random

import pandas as pd
import pytest

from zoo.data import (DataError, LabelFormat, detect_label_format, from_csv, from_dataframe, from_folders,
                      from_onehot_csv)

SYLLABLES = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "po", "ga", "zu", "be", "ri", "fo", "ta"]


def _vocabulary(size, rng, underscores=False, mixed_case=False):
    words = set()
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        if underscores and rng.random() < 0.5:
            word += "_" + "".join(rng.choice(SYLLABLES) for _ in range(2))
        words.add(word)
    words = sorted(words)
    if mixed_case:
        words = [w.upper() if i % 3 == 0 else w.capitalize() if i % 3 == 1 else w for i, w in enumerate(words)]
    return words


def _tag_cells(vocabulary, tags_per_cell, rows, delimiter, shuffle, underscores=False, mixed_case=False, seed=0):
    """Cells of 2..6 tags drawn with a long tail from the vocabulary; no tag ever stands alone."""
    rng = random.Random(seed)
    words = _vocabulary(vocabulary, rng, underscores, mixed_case)
    weights = [1 / (i + 1) ** 0.5 for i in range(vocabulary)]
    cells = []
    for _ in range(rows):
        chosen = set()
        count = min(rng.randint(*tags_per_cell), vocabulary)
        while len(chosen) < count:
            chosen.add(rng.choices(words, weights)[0])
        chosen = sorted(chosen, key=words.index)
        if shuffle:
            rng.shuffle(chosen)
        cells.append(delimiter.join(chosen))
    assert not set(cells) & set(words)  # no tag stands alone as a whole cell
    return cells


@pytest.mark.parametrize("delimiter", [" ", ",", ";", "|"])
@pytest.mark.parametrize("vocabulary, tags_per_cell", [(5, (2, 2)), (17, (2, 4)), (50, (2, 6)), (200, (3, 6))])
@pytest.mark.parametrize("shuffle", [False, True])
def test_tag_lists_split_even_when_no_tag_stands_alone(delimiter, vocabulary, tags_per_cell, shuffle):
    cells = _tag_cells(vocabulary, tags_per_cell, max(200, 15 * vocabulary), delimiter, shuffle)
    assert detect_label_format(cells) == LabelFormat("delimited", delimiter)


@pytest.mark.parametrize("underscores, mixed_case", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("delimiter", [" ", ","])
def test_tags_with_underscores_or_mixed_case_split(underscores, mixed_case, delimiter):
    cells = _tag_cells(30, (2, 5), 400, delimiter, False, underscores, mixed_case, seed=3)
    assert detect_label_format(cells) == LabelFormat("delimited", delimiter)
    df = pd.DataFrame({"filename": [f"{i}.jpg" for i in range(len(cells))], "tags": cells})
    out = from_dataframe(df, ["tags"])
    assert [delimiter.join(labels) for labels in out["tags"]] == cells  # every tag kept as written


def _satellite_cells(rows=1000, seed=0):
    """The most common layout of a multi-label table: one weather tag, then land tags, space-separated;
    only "cloudy" stands alone; two tags are seen in a single image each."""
    rng = random.Random(seed)
    land = ["agriculture", "bare_ground", "cultivation", "habitation", "primary", "road", "selective_logging",
            "slash_burn", "water", "artisinal_mine", "blooming", "conventional_mine"]
    cells = []
    for _ in range(rows):
        weather = rng.choices(["clear", "partly_cloudy", "haze", "cloudy"], [70, 18, 7, 5])[0]
        if weather == "cloudy":
            cells.append("cloudy")
            continue
        tags = ["primary"] if rng.random() < 0.9 else []
        tags += [t for t in land[:9] if t != "primary" and rng.random() < 0.25]
        cells.append(" ".join([weather, *tags]))
    cells[5] += " blow_down"  # seen once
    cells[7] += " slash_burn_rare"  # seen once
    return cells


def test_a_satellite_tag_table_splits_into_its_tags():
    cells = _satellite_cells()
    assert detect_label_format(cells) == LabelFormat("delimited", " ")
    assert len(set(cells)) > 50  # read whole, these would be as many multiclass classes


MULTI_WORD_LABELS = {
    "colour": ["Blue", "Black", "White", "Red", "Green", "Grey", "Navy Blue", "Light Blue", "Dark Blue",
               "Off White", "Sea Green", "Light Grey", "Olive", "Pink", "Hot Pink", "Burgundy", "Cream"],
    "article": ["Tshirts", "Shirts", "Jeans", "Casual Shoes", "Sports Shoes", "Formal Shoes", "Sports Sandals",
                "Track Pants", "Flip Flops", "Water Bottle", "Duffel Bag", "Handbags", "Watches", "Heels",
                "Lounge Pants", "Night suits"],
    "category": ["Topwear", "Bottomwear", "Apparel Set", "Flip Flops", "Sports Equipment", "Water Bottle", "Shoes",
                 "Watches", "Bags", "Belts", "Innerwear", "Loungewear and Nightwear", "Socks"],
    "person": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth"],
}


@pytest.mark.parametrize("name", sorted(MULTI_WORD_LABELS))
@pytest.mark.parametrize("lower_half", [False, True])
def test_multi_word_single_labels_stay_whole(name, lower_half):
    rng = random.Random(1)
    cells = [rng.choice(MULTI_WORD_LABELS[name]) for _ in range(300)]
    if lower_half:  # a column of mixed case: the same labels written two ways
        cells = [cell.lower() if i % 2 else cell for i, cell in enumerate(cells)]
    assert detect_label_format(cells) == LabelFormat("single")


def test_mixed_evidence_shows_a_few_cells_and_the_flag():
    # Tags that combine freely, but half of the cells hold a word seen nowhere else.
    cells = _tag_cells(17, (2, 4), 10, " ", True, seed=0)
    with pytest.raises(DataError, match=r"(?s)cannot tell whether cells are lists joined by ' '.*"
                                        r"row \d+: .*--delimiter ' '.*--delimiter ''") as caught:
        detect_label_format(cells)
    assert str(caught.value).count("\n  row ") <= 10


def test_a_column_of_word_combinations_read_whole_is_an_error_naming_the_words():
    # 36 classes made of 12 words that keep their places ("Light Blue"), one with a word seen once.
    shades = ["Light", "Dark", "Pale", "Deep", "Soft", "Bright"]
    hues = ["Blue", "Green", "Red", "Grey", "Pink", "Brown"]
    cells = [f"{s} {h}" for s in shades for h in hues] + ["Navy Blue"]
    with pytest.raises(DataError) as caught:
        detect_label_format(cells, column="colour", source="CSV styles.csv")
    message = str(caught.value)
    assert "CSV styles.csv, column 'colour': 36 of its 37 distinct values are combinations of 12 recurring words" \
        in message
    assert "'Blue'" in message and "--delimiter ' '" in message and "--delimiter ''" in message
    assert len(message.splitlines()) <= 6


def test_a_long_vocabulary_list_of_words_in_a_message_is_capped():
    shades = [f"Shade{c}" for c in "ABCDEFGHIJKLMNOP"]
    hues = [f"Hue{c}" for c in "ABCDEFGHIJKLMNOP"]
    cells = [f"{s} {h}" for s in shades for h in hues] + ["Navy Blue"]
    with pytest.raises(DataError, match=r"and 20 more\), like lists"):
        detect_label_format(cells)


# The shared sets read as they always have.

def test_shared_tables_read_as_before(data_dir):
    miml = from_csv(data_dir / "miml" / "miml_labels_2.csv", file_column="Filenames")
    assert miml.attrs["label_formats"]["labels"] == LabelFormat("delimited", ",")
    assert max(len(labels) for labels in miml["labels"]) == 3
    fridge = from_csv(data_dir / "fridge" / "multilabelFridgeObjects" / "labels.csv")
    assert fridge.attrs["label_formats"]["labels"] == LabelFormat("delimited", " ")
    assert fridge["labels"].tolist()[-1] == ("carton", "milk_bottle")
    posters = from_csv(data_dir / "movie_posters" / "labels.csv", file_column="Id", label_column="Genre")
    assert posters.attrs["label_formats"]["Genre"].kind == "literal"
    styles_columns = ["gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage"]
    styles = from_csv(data_dir / "fashion_products" / "styles.csv", file_column="id", label_columns=styles_columns,
                      allow_empty=True)
    assert {c: styles.attrs["label_formats"][c].kind for c in styles_columns} == {c: "single" for c in styles_columns}
    assert ("Navy Blue",) in set(styles["baseColour"]) and ("Sports Shoes",) in set(styles["articleType"])
    onehot = from_onehot_csv(data_dir / "miml" / "miml_labels_1.csv", file_column="Filenames")
    assert onehot.attrs["classes"]["labels"] == ["desert", "mountains", "sea", "sunset", "trees"]
    clothing = from_folders(data_dir / "clothing", heads=["color", "type"], separator="_")
    assert sorted({c + "_" + t for (c,), (t,) in zip(clothing["color"], clothing["type"])}) == sorted(
        p.name for p in (data_dir / "clothing").iterdir() if p.is_dir())
