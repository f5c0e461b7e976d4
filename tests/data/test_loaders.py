"""load_segmentation: shapes, folders of files and TFDS (offline, with mock data)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

import keras_segen
from keras_segen.data import load_segmentation


def _write_pair(root, stem, size=(20, 16), labels=(0, 1, 2), image_suffix=".png"):
    height, width = size
    rng = np.random.default_rng(len(stem))
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.array(labels, np.uint8)[
        np.arange(height * width).reshape(height, width) % len(labels)
    ]
    Image.fromarray(image).save(root / "images" / f"{stem}{image_suffix}")
    Image.fromarray(mask).save(root / "masks" / f"{stem}.png")
    return image, mask


def test_shapes_pipeline():
    dataset, info = load_segmentation(
        "shapes", "validation", 32, batch_size=4, num_examples=10, with_info=True
    )
    batches = list(dataset)
    assert [int(images.shape[0]) for images, _ in batches] == [4, 4, 2]
    images, masks = batches[0]
    assert images.shape == (4, 32, 32, 3) and images.dtype == tf.float32
    assert masks.shape == (4, 32, 32) and masks.dtype == tf.int32
    assert info.num_classes == 4 and info.num_examples == 10
    assert info.class_names == ("background", "circle", "rectangle", "triangle")


def test_folder_pairs_by_stem_and_keeps_values(tmp_path):
    image, mask = _write_pair(tmp_path, "a", size=(16, 16))
    _write_pair(tmp_path, "b", image_suffix=".jpg")
    dataset, info = load_segmentation(
        str(tmp_path), "train", 16, batch_size=2, shuffle=False, with_info=True
    )
    assert info.num_classes == 3  # inferred: the largest label is 2
    images, masks = next(iter(dataset))
    np.testing.assert_allclose(images[0].numpy(), image / 255.0, atol=1e-6)  # same size: exact
    np.testing.assert_array_equal(masks[0].numpy(), mask)
    assert masks.shape == (2, 16, 16)


def test_folder_with_split_subfolders(tmp_path):
    _write_pair(tmp_path / "train", "a")
    _write_pair(tmp_path / "test", "b")
    _, info = load_segmentation(str(tmp_path), "test", 8, with_info=True)
    assert info.num_examples == 1
    with pytest.raises(ValueError, match="has no 'validation' split; its splits are train, test"):
        load_segmentation(str(tmp_path), "validation", 8)


def test_flat_folder_only_provides_a_train_split(tmp_path):
    _write_pair(tmp_path, "a")
    with pytest.raises(ValueError, match="no 'test' split .*a flat folder is one set"):
        load_segmentation(str(tmp_path), "test", 8)


def test_ignore_index_is_allowed_in_folder_masks(tmp_path):
    _write_pair(tmp_path, "a", labels=(0, 1, 255))
    dataset, info = load_segmentation(str(tmp_path), "train", 8, with_info=True)
    assert info.num_classes == 2
    assert 255 in np.unique(next(iter(dataset))[1].numpy())


def test_empty_or_missing_folders(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with pytest.raises(ValueError, match="has no usable image/mask pairs"):
        load_segmentation(str(tmp_path), "train", 8)
    with pytest.raises(ValueError, match="is no dataset folder keras_segen knows"):
        load_segmentation(str(tmp_path / "images"), "train", 8)
    with pytest.raises(ValueError, match="does not exist"):
        load_segmentation(str(tmp_path / "nowhere"), "train", 8)


def _pet_examples(trimap_values=(1, 2, 3), mask_size=None):
    def as_dataset(*args, **kwargs):
        def generate():
            rng = np.random.default_rng(0)
            for index in range(3):
                image = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
                size = mask_size or (12, 10)
                trimap = np.array(trimap_values, np.uint8)[
                    rng.integers(0, len(trimap_values), size)
                ]
                yield {
                    "image": image,
                    "segmentation_mask": trimap[..., None],
                    "file_name": f"pet{index}.jpg",
                }

        return tf.data.Dataset.from_generator(
            generate,
            output_signature={
                "image": tf.TensorSpec((None, None, 3), tf.uint8),
                "segmentation_mask": tf.TensorSpec((None, None, 1), tf.uint8),
                "file_name": tf.TensorSpec((), tf.string),
            },
        )

    return as_dataset


def test_oxford_pet_trimap_becomes_classes():
    with tfds.testing.mock_data(num_examples=3, as_dataset_fn=_pet_examples()):
        dataset, info = load_segmentation(
            "oxford_iiit_pet", "train", 12, batch_size=3, shuffle=False, with_info=True
        )
        images, masks = next(iter(dataset))
    assert info.class_names == ("background", "pet", "border") and info.num_classes == 3
    assert images.shape == (3, 12, 12, 3)
    assert set(np.unique(masks.numpy())) == {0, 1, 2}


def test_oxford_pet_bad_trimap_and_size_mismatch_are_named():
    with tfds.testing.mock_data(num_examples=3, as_dataset_fn=_pet_examples((1, 9))):
        dataset = load_segmentation("oxford_iiit_pet", "train", 12, shuffle=False)
        with pytest.raises(ValueError, match="trimap values must be 1, 2 or 3"):
            keras_segen.evaluate_model(
                keras_segen.unet((12, 12, 3), 3, filters=2, depth=1), dataset, 3
            )
    with tfds.testing.mock_data(num_examples=3, as_dataset_fn=_pet_examples(mask_size=(5, 5))):
        dataset = load_segmentation("oxford_iiit_pet", "train", 12, shuffle=False)
        with pytest.raises(tf.errors.InvalidArgumentError, match="sizes differ in pet0.jpg"):
            next(iter(dataset))


def test_tfds_dataset_without_a_mask_is_rejected():
    with pytest.raises(ValueError, match="has no 'image' and single-channel mask"):
        load_segmentation("mnist", "train", 28)


def test_unknown_source_and_unprepared_tfds_data(tmp_path):
    with pytest.raises(ValueError, match="Unknown dataset 'shapez'"):
        load_segmentation("shapez", "train", 8)
    with pytest.raises(ValueError, match="is not prepared in"):
        load_segmentation("oxford_iiit_pet", "train", 8, data_dir=str(tmp_path))
