"""Every data fault is found before training, all at once, and named by its file."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_segen
from keras_segen.data import DataError, load_segmentation
from keras_segen.data.sources import data_errors_named
from tests.data import fixtures


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


FAULTS = {
    "truncated image": (
        lambda root: _truncate(root / "images" / "img_000.png"),
        r"images/img_000.png: truncated or damaged image file",
    ),
    "truncated mask": (
        lambda root: _truncate(root / "masks" / "img_001.png"),
        r"masks/img_001.png: truncated or damaged mask file",
    ),
    "jpeg mask": (
        lambda root: (
            (root / "masks" / "img_002.png").rename(root / "masks" / "img_002.jpg")
            or Image.fromarray(np.zeros((24, 32), np.uint8)).save(root / "masks" / "img_002.jpg")
        ),
        r"masks/img_002.jpg: masks must be lossless",
    ),
    "size mismatch": (
        lambda root: Image.fromarray(np.zeros((10, 10), np.uint8)).save(
            root / "masks" / "img_001.png"
        ),
        r"images/img_001.png: image is 32x24 but its mask .*img_001.png is 10x10",
    ),
    "label out of range": (
        lambda root: Image.fromarray(np.full((24, 32), 7, np.uint8)).save(
            root / "masks" / "img_003.png"
        ),
        r"masks/img_003.png: labels \[7\] outside 0..2 .*: 768 pixels",
    ),
    "image without mask": (
        lambda root: (root / "masks" / "img_000.png").unlink(),
        r"images/img_000.png: no mask img_000.\* in",
    ),
    "mask without image": (
        lambda root: (root / "images" / "img_000.png").unlink(),
        r"masks/img_000.png: no image for this mask",
    ),
    "not an image": (
        lambda root: (root / "images" / "notes.txt").write_text("x"),
        r"images/notes.txt: not an image file",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_names_its_file(tmp_path, fault):
    fixtures.write_generic(tmp_path, count=4)
    damage, message = FAULTS[fault]
    damage(tmp_path)
    with pytest.raises(DataError, match=message):
        load_segmentation(str(tmp_path), "train", 16, num_classes=3)


def test_all_faults_are_reported_together_and_skip_keeps_the_good_pairs(tmp_path):
    fixtures.write_generic(tmp_path, count=6)
    for fault in ("truncated image", "jpeg mask", "label out of range"):
        FAULTS[fault][0](tmp_path)
    with pytest.raises(DataError) as caught:
        load_segmentation(str(tmp_path), "train", 16, num_classes=3)
    assert [path.split("/")[-1] for path, _ in caught.value.problems] == [
        "img_000.png", "img_002.jpg", "img_003.png",
    ]  # fmt: skip
    assert "3 problem(s) in 3 file(s) of 6 pairs" in str(caught.value)
    dataset, info = load_segmentation(
        str(tmp_path), "train", 16, num_classes=3, on_bad="skip", with_info=True
    )
    assert info.num_examples == 3 and len(info.skipped) == 3
    assert sum(int(images.shape[0]) for images, _ in dataset) == 3


def test_many_faults_are_counted_by_kind(tmp_path):
    fixtures.write_generic(tmp_path, count=30)
    for index in range(25):
        Image.fromarray(np.full((24, 32), 9, np.uint8)).save(
            tmp_path / "masks" / f"img_{index:03d}.png"
        )
    with pytest.raises(DataError, match=r"(?s)25 x labels \[9\] outside .*\.\.\. and 5 more"):
        load_segmentation(str(tmp_path), "train", 16, num_classes=3)


def test_unknown_colour_names_the_file_the_colour_and_its_pixel_count(tmp_path):
    root = fixtures.write_camvid(tmp_path)
    mask_path = root / "train_labels" / "0001TP_006690_L.png"
    rgb = np.asarray(Image.open(mask_path)).copy()
    rgb[:2, :3] = (1, 2, 3)  # 6 pixels of a colour the table does not have
    Image.fromarray(rgb).save(mask_path)
    with pytest.raises(
        DataError,
        match=r"0001TP_006690_L.png: colours not in the colour table: \(1, 2, 3\): 6 pixels",
    ):
        load_segmentation(str(root), "train", 16)


def test_missing_file_of_a_voc_list_is_named(tmp_path):
    root = fixtures.write_voc(tmp_path)
    (root / "VOC2012" / "JPEGImages" / "2007_000039.jpg").unlink()
    with pytest.raises(DataError, match=r"2007_000039.jpg: listed as '2007_000039' in .*train.txt"):
        load_segmentation(str(root), "train", 16)


def test_cityscapes_id_outside_the_table_is_named(tmp_path):
    root = fixtures.write_cityscapes(tmp_path)
    mask = next((root / "gtFine" / "val").rglob("*_gtFine_labelIds.png"))
    Image.fromarray(np.full((32, 64), 40, np.uint8)).save(mask)
    with pytest.raises(
        DataError, match=r"values that are no Cityscapes label id \(0..33\): 40: 2048"
    ):
        load_segmentation(str(root), "validation", 16)


def test_a_fault_inside_the_graph_is_named_not_a_graph_error(tmp_path):
    fixtures.write_generic(tmp_path, count=2)
    dataset = load_segmentation(str(tmp_path), "train", 16, cache=False, shuffle=False)
    _truncate(tmp_path / "images" / "img_001.png")  # damaged after the check
    model = keras_segen.unet((16, 16, 3), 3, filters=2, depth=1)
    model.compile("adam", keras_segen.losses.CrossEntropy())
    with pytest.raises(ValueError) as caught, data_errors_named():
        model.fit(dataset, epochs=1, verbose=0)
    message = str(caught.value)
    assert message.startswith("Invalid data: ") and "img_001.png: truncated" in message
    assert "Graph execution" not in message and "Traceback" not in message
    assert not isinstance(caught.value, tf.errors.OpError)
