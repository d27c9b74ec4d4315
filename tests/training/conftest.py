"""Fixtures shared by the training tests."""

import pytest

from zoo.data.synthetic import make_garments


@pytest.fixture(scope="module")
def garments(tmp_path_factory):
    """A tiny color/type folder set: 7 color/type pairs, 6 images each, 32x32."""
    root = tmp_path_factory.mktemp("garments")
    make_garments(root, images_per_pair=6, image_size=(32, 32), held_out_images=1, seed=0)
    return root / "train"
