"""Standard dataset layouts read exactly as distributed, and the file formats of masks and
images. Expected labels are worked out by hand from the official tables."""

import numpy as np
import pytest
from PIL import Image

import keras_segen
from keras_segen.data import load_segmentation, open_layout, read_image, read_mask
from tests.data import fixtures


def _labels(source, split, **kwargs):
    dataset, info = load_segmentation(
        str(source), split, None, batch_size=None, shuffle=False, with_info=True, **kwargs
    )
    return [mask.numpy() for _, mask in dataset], info


def test_voc_palette_masks_are_indices_and_boundary_is_ignored(tmp_path):
    root = fixtures.write_voc(tmp_path)
    source = open_layout(root)
    assert source.name == "voc" and source.root.endswith("VOCdevkit/VOC2012")
    assert list(source.splits) == ["train", "validation"]
    masks, info = _labels(root, "validation")
    assert info.num_classes == 21 and info.class_names[15] == "person"
    assert info.class_colours[1] == (128, 0, 0)  # the devkit colour of aeroplane
    assert len(masks) == len(fixtures.VOC_VAL)
    # Raw palette indices (0, 1, 255, 15), not the grey value of their palette colours.
    np.testing.assert_array_equal(masks[0][0, ::10], [0, 1, 255, 15])
    with pytest.raises(ValueError, match="no 'test' split.*VOC 2012 test masks are not public"):
        load_segmentation(str(root), "test", 16)


def test_voc_uses_the_sbd_augmented_train_list_when_present(tmp_path):
    root = fixtures.write_voc(tmp_path)
    base = root / "VOC2012"
    (base / "SegmentationClassAug").mkdir()
    for item in ("2007_000032", "2008_000002"):
        Image.fromarray(np.zeros((30, 40), np.uint8)).save(
            base / "SegmentationClassAug" / f"{item}.png"
        )
    Image.fromarray(fixtures.picture(30, 40, 0)).save(base / "JPEGImages" / "2008_000002.jpg")
    (base / "ImageSets" / "Segmentation" / "train_aug.txt").write_text("2007_000032\n2008_000002\n")
    source = open_layout(root)
    pairs, problems = source.pairs("train")
    assert [p[1].split("/")[-2:] for p in pairs] == [
        ["SegmentationClassAug", "2007_000032.png"],
        ["SegmentationClassAug", "2008_000002.png"],
    ]
    assert problems == [] and "SBD" in source.notes["train"]


def test_cityscapes_label_ids_become_the_19_train_ids(tmp_path):
    root = fixtures.write_cityscapes(tmp_path)
    source = open_layout(root)
    assert source.name == "cityscapes" and list(source.splits) == ["train", "validation"]
    masks, info = _labels(root, "train")
    assert len(masks) == 4  # aachen and bochum, two frames each; color/instance files unused
    assert info.num_classes == 19
    assert info.class_names[:3] == ("road", "sidewalk", "building")
    assert info.class_names[13] == "car" and info.class_colours[13] == (0, 0, 142)
    # labelIds 7 road -> 0, 26 car -> 13, 0 unlabeled -> 255, 24 person -> 11.
    np.testing.assert_array_equal(masks[0][0, ::16], [0, 13, 255, 11])
    with pytest.raises(ValueError, match="Cityscapes test masks are not public"):
        load_segmentation(str(root), "test", 16)


def test_ade20k_zero_is_ignored_and_labels_shift_by_one(tmp_path):
    root = fixtures.write_ade20k(tmp_path)
    assert open_layout(root).name == "ade20k"
    masks, info = _labels(root, "validation")
    assert info.num_classes == 150 and info.class_names[0] == "wall"
    assert info.class_names[149] == "flag" and info.class_colours[0] == (120, 120, 120)
    # 0 other -> 255, 1 wall -> 0, 3 sky -> 2, 150 flag -> 149.
    np.testing.assert_array_equal(masks[0][0, ::9], [255, 0, 2, 149])


def test_camvid_colour_masks_follow_class_dict_and_void_is_ignored(tmp_path):
    root = fixtures.write_camvid(tmp_path)
    source = open_layout(root)
    assert source.name == "camvid" and list(source.splits) == ["train", "validation", "test"]
    masks, info = _labels(root, "test")
    assert info.class_names == ("Sky", "Car", "Road")
    assert info.class_colours == ((128, 128, 128), (64, 0, 128), (128, 64, 128))
    np.testing.assert_array_equal(masks[0][0, ::8], [0, 1, 2, 255])


def test_generic_folder_with_classes_file_and_colour_masks(tmp_path):
    fixtures.write_generic(tmp_path, count=2, classes=("background", "cat", "dog"))
    _, info = _labels(tmp_path, "train")
    assert info.class_names == ("background", "cat", "dog") and info.class_colours is None
    colour_root = tmp_path / "colour"
    (colour_root / "images").mkdir(parents=True)
    (colour_root / "masks").mkdir()
    Image.fromarray(fixtures.picture(8, 8, 0)).save(colour_root / "images" / "a.png")
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, 4:] = (255, 0, 0)
    Image.fromarray(rgb).save(colour_root / "masks" / "a.png")
    colours = {"background": (0, 0, 0), "fire": (255, 0, 0)}
    masks, info = _labels(colour_root, "train", colours=colours)
    np.testing.assert_array_equal(masks[0][0], [0, 0, 0, 0, 1, 1, 1, 1])
    assert info.class_colours == ((0, 0, 0), (255, 0, 0))
    with pytest.raises(ValueError, match="RGB colour mask but no colour table"):
        load_segmentation(str(colour_root), "train", 8)


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("classes.txt", "sky\nroad\n", (("sky", "road"), None, ())),
        ("classes.txt", "sky 70 130 180\nroad 128 64 128\n",
         (("sky", "road"), ((70, 130, 180), (128, 64, 128)), ())),
        ("classes.json", '["sky", "road"]', (("sky", "road"), None, ())),
        ("classes.json",
         '{"classes": [{"name": "sky", "colour": [1, 2, 3]}], ' '"ignore": [[0, 0, 0]]}',
         (("sky",), ((1, 2, 3),), ((0, 0, 0),))),
        ("label_colors.txt", "64 128 64\tAnimal\n192 0 128\tArchway\n0 0 0\tVoid\n",
         (("Animal", "Archway"), ((64, 128, 64), (192, 0, 128)), ((0, 0, 0),))),
        ("class_dict.csv", "name,r,g,b\nSky,128,128,128\nVoid,0,0,0\n",
         (("Sky",), ((128, 128, 128),), ((0, 0, 0),))),
    ],
)  # fmt: skip
def test_class_files(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text)
    assert keras_segen.data.read_class_file(tmp_path / name) == expected


def test_class_file_errors_name_the_file(tmp_path):
    (tmp_path / "classes.txt").write_text("sky 1 2 3\nroad\n")
    with pytest.raises(ValueError, match=r"classes.txt: give a colour for every class"):
        keras_segen.data.read_class_file(tmp_path / "classes.txt")
    with pytest.raises(ValueError, match="is given to classes 0 and 1"):
        keras_segen.data.classes.colour_mapping([(1, 2, 3), (1, 2, 3)])


def test_detects_no_layout_with_a_clear_message(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(ValueError, match="no dataset folder keras_segen knows"):
        open_layout(tmp_path)
    with pytest.raises(ValueError, match="layout must be one of"):
        open_layout(tmp_path, layout="coco")


def test_validation_split_is_seeded_disjoint_and_complete(tmp_path):
    fixtures.write_generic(tmp_path, count=10)
    sizes = {}
    for split in ("train", "validation"):
        _, info = load_segmentation(
            str(tmp_path), split, 8, batch_size=None, shuffle=False, validation_split=0.3,
            seed=3, with_info=True,
        )  # fmt: skip
        sizes[split] = info.num_examples
    assert sizes == {"train": 7, "validation": 3}
    pairs = open_layout(tmp_path).pairs("train")[0]
    train, validation = keras_segen.data.carve_validation(pairs, 0.3, seed=3)
    assert sorted(train + validation) == sorted(pairs) and not set(train) & set(validation)
    assert keras_segen.data.carve_validation(pairs, 0.3, seed=3) == (train, validation)
    assert keras_segen.data.carve_validation(pairs, 0.3, seed=4) != (train, validation)
    with pytest.raises(ValueError, match=r"validation_split must be a float in \(0, 1\)"):
        keras_segen.data.carve_validation(pairs, 1.5, seed=0)


def test_flat_folder_has_only_a_train_split(tmp_path):
    fixtures.write_generic(tmp_path, count=2)
    with pytest.raises(ValueError, match="no 'validation' split .*validation_split="):
        load_segmentation(str(tmp_path), "validation", 8)


def test_mask_formats(tmp_path):
    sixteen = np.array([[0, 300], [65535, 2]], np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "m16.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m16.png"), sixteen)
    grey_rgb = np.repeat(np.array([[0, 3]], np.uint8)[..., None], 3, axis=-1)
    Image.fromarray(grey_rgb).save(tmp_path / "grey_rgb.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "grey_rgb.png"), [[0, 3]])
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "mask.jpg")
    with pytest.raises(ValueError, match=r"mask.jpg: masks must be lossless \(PNG\)"):
        read_mask(tmp_path / "mask.jpg")


def test_image_formats(tmp_path):
    grey = np.array([[0, 128]], np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    np.testing.assert_array_equal(read_image(tmp_path / "grey.png")[0], [[0, 0, 0], [128] * 3])
    rgba = np.array([[[10, 20, 30, 0], [40, 50, 60, 255]]], np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), rgba[..., :3])
    sixteen = np.array([[0, 257 * 100, 65535]], np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "grey16.png")
    np.testing.assert_array_equal(read_image(tmp_path / "grey16.png")[0, :, 0], [0, 100, 255])


def test_exif_rotated_jpeg_is_read_as_viewers_show_it(tmp_path):
    stored = np.zeros((10, 20, 3), np.uint8)  # 20 wide, 10 high as stored
    stored[:, :10] = 255  # left half white
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    image.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    shown = read_image(tmp_path / "phone.jpg")
    assert shown.shape == (20, 10, 3)  # displayed upright: 10 wide, 20 high
    assert shown[:8].mean() > 200 and shown[12:].mean() < 50  # the white half is now on top
