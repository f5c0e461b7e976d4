"""AdversarialSegmenter (Luc et al. 2016) and its label-map discriminator."""


import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.trainers.adversarial_segmentation import scale_ground_truth
from tests.helpers import (
    IMAGE_SIZE,
    NUM_CLASSES,
    run_config,
    small_model,
    tiny_batch,
)


def _discriminator(filters=8):
    return keras_segen.label_map_discriminator(
        (IMAGE_SIZE, IMAGE_SIZE, 3), num_classes=NUM_CLASSES, filters=filters
    )


def _segmenter():
    return small_model("unet")


def test_discriminator_shapes_and_branches():
    discriminator = _discriminator()
    assert [tuple(t.shape) for t in discriminator.inputs] == [
        (None, IMAGE_SIZE, IMAGE_SIZE, 3),
        (None, IMAGE_SIZE, IMAGE_SIZE, NUM_CLASSES),
    ]
    assert tuple(discriminator.output.shape) == (None, 1)
    # Label branch 5x5 f, image branch 5x5 f/4 then 5x5 f, joint 3x3 2f, 4f, 8f, 1.
    widths = {
        layer.name: layer.filters for layer in discriminator.layers if hasattr(layer, "filters")
    }
    assert widths == {
        "label_conv": 8,
        "image_conv1": 2,
        "image_conv2": 8,
        "joint_conv1": 16,
        "joint_conv2": 32,
        "joint_conv3": 64,
        "logit_map": 1,
    }
    # Any image size: the logit map is averaged.
    variable = keras_segen.label_map_discriminator((None, None, 3), num_classes=2, filters=4)
    logits = variable([np.zeros((1, 24, 40, 3)), np.zeros((1, 24, 40, 2))])
    assert tuple(logits.shape) == (1, 1)


def test_discriminator_argument_errors():
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        keras_segen.label_map_discriminator((32, 32, 3), num_classes=1)
    with pytest.raises(ValueError, match="input_shape"):
        keras_segen.label_map_discriminator((32, 32), num_classes=3)


def test_scaling_of_the_ground_truth_by_hand():
    one_hot = np.array([[0, 1, 0], [0, 1, 0], [0, 0, 0]], "float32")
    probabilities = np.array([[0.2, 0.5, 0.3], [0.03, 0.95, 0.02], [0.2, 0.5, 0.3]], "float32")
    scaled = keras.ops.convert_to_numpy(scale_ground_truth(one_hot, probabilities, 0.9))
    # True class raised to tau = 0.9; the rest 0.1 shared 0.2 : 0.3.
    np.testing.assert_allclose(scaled[0], [0.04, 0.9, 0.06], atol=1e-6)
    # Already above tau: unchanged.
    np.testing.assert_allclose(scaled[1], [0.03, 0.95, 0.02], atol=1e-6)
    # Ignored pixel (no class): zeros.
    np.testing.assert_allclose(scaled[2], [0, 0, 0])


def test_label_maps_zero_ignored_pixels_in_both():
    trainer = keras_segen.AdversarialSegmenter(_segmenter(), _discriminator())
    images, masks = tiny_batch(1)
    masks[0, :3, :3] = 255
    truth, predicted = trainer.label_maps(masks, trainer.segmenter(images))
    truth, predicted = keras.ops.convert_to_numpy(truth), keras.ops.convert_to_numpy(predicted)
    assert np.all(truth[0, :3, :3] == 0) and np.all(predicted[0, :3, :3] == 0)
    np.testing.assert_allclose(truth[0, 5:].sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(predicted[0, 5:].sum(-1), 1.0, atol=1e-5)
    assert truth[0, 5:].max(-1).min() >= 0.9 - 1e-6  # scaling tau


def test_without_adversarial_weight_the_step_is_plain_cross_entropy():
    images, masks = tiny_batch(4)
    plain = _segmenter()
    adversarial = keras.models.clone_model(plain)
    adversarial.set_weights(plain.get_weights())
    plain.compile(keras.optimizers.SGD(0.1), keras_segen.losses.CrossEntropy())
    plain.train_on_batch(images, masks)
    trainer = keras_segen.AdversarialSegmenter(adversarial, _discriminator(), adversarial_weight=0)
    trainer.compile(optimizer=keras.optimizers.SGD(0.1))
    trainer.train_on_batch(images, masks)
    for expected, got in zip(plain.get_weights(), adversarial.get_weights()):
        np.testing.assert_allclose(got, expected, atol=1e-6)

    # With lambda > 0 the discriminator's opinion changes the segmenter's update.
    weighted = keras.models.clone_model(plain)
    start = keras.models.clone_model(plain)
    weighted.set_weights(start.get_weights())
    reference = keras.models.clone_model(plain)
    reference.set_weights(start.get_weights())
    discriminator = _discriminator()
    for network, weight in ((weighted, 5.0), (reference, 0.0)):
        critic = keras.models.clone_model(discriminator)
        critic.set_weights(discriminator.get_weights())
        trainer = keras_segen.AdversarialSegmenter(network, critic, adversarial_weight=weight)
        trainer.compile(optimizer=keras.optimizers.SGD(0.1))
        trainer.train_on_batch(images, masks)
    differences = [
        np.abs(a - b).max() for a, b in zip(weighted.get_weights(), reference.get_weights())
    ]
    assert max(differences) > 1e-5


def test_discriminator_learns_to_tell_truth_from_predictions():
    images, masks = tiny_batch(4)
    trainer = keras_segen.AdversarialSegmenter(_segmenter(), _discriminator(), scaling_tau=None)
    trainer.compile(
        optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.Adam(1e-3)
    )  # frozen segmenter
    first = trainer.train_on_batch(images, masks, return_dict=True)["d_loss"]
    for _ in range(30):
        last = trainer.train_on_batch(images, masks, return_dict=True)["d_loss"]
    # d_loss = BCE(real, 1) + BCE(fake, 0) starts near 2 ln 2 for near-zero logits.
    assert abs(first - 2 * np.log(2)) < 0.2
    assert last < 0.5 * first
    images = keras.ops.convert_to_tensor(images)  # Keras rejects [array, tensor] inputs
    truth, predicted = trainer.label_maps(masks, trainer.segmenter(images))
    real = trainer.discriminator([images, truth])
    fake = trainer.discriminator([images, predicted])
    assert np.all(keras.ops.convert_to_numpy(real) > keras.ops.convert_to_numpy(fake))


# The trainer sees a segmenter only through its (B, H, W, C) logits; every registered
# segmenter's own training is in tests/models/test_segmentation_suite.py. These three cover
# a plain network, a recurrent one and one on the encoder seam.
@pytest.mark.parametrize("name", ["unet", "reseg", "fpn"])
def test_any_registered_segmenter_trains(name):
    images, masks = tiny_batch(4)
    trainer = keras_segen.AdversarialSegmenter(small_model(name), _discriminator(4))
    trainer.compile()
    history = trainer.fit(images, masks, batch_size=2, epochs=1, verbose=0).history
    assert set(history) == {"loss", "segmentation_loss", "adversarial_loss", "d_loss", "mean_iou"}
    assert all(np.isfinite(values[0]) for values in history.values())


def test_save_load_round_trip_with_optimizer_state(tmp_path):
    images, masks = tiny_batch(4)
    trainer = keras_segen.AdversarialSegmenter(
        _segmenter(), _discriminator(), adversarial_weight=0.3, loss="ce_dice", scaling_tau=0.8
    )
    trainer.compile()
    trainer.fit(images, masks, batch_size=2, epochs=1, verbose=0)
    path = tmp_path / "trainer.keras"
    trainer.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(images), trainer(images), atol=1e-6)
    assert (loaded.adversarial_weight, loaded.loss_name, loaded.scaling_tau) == (
        0.3,
        "ce_dice",
        0.8,
    )
    assert int(loaded.g_optimizer.iterations) == int(loaded.d_optimizer.iterations) == 2
    validation = loaded.evaluate(images, masks, verbose=0, return_dict=True)
    assert set(validation) == {"segmentation_loss", "mean_iou"}


def test_argument_errors():
    segmenter = _segmenter()
    with pytest.raises(ValueError, match="adversarial_weight must be a number >= 0"):
        keras_segen.AdversarialSegmenter(segmenter, _discriminator(), adversarial_weight=-1)
    with pytest.raises(ValueError, match="scaling_tau"):
        keras_segen.AdversarialSegmenter(segmenter, _discriminator(), scaling_tau=1.5)
    with pytest.raises(ValueError, match="loss must be one of"):
        keras_segen.AdversarialSegmenter(segmenter, _discriminator(), loss="l2")
    binary = keras_segen.unet((IMAGE_SIZE, IMAGE_SIZE, 3), num_classes=1, filters=4, depth=2)
    with pytest.raises(ValueError, match="build it with num_classes=2"):
        keras_segen.AdversarialSegmenter(binary, _discriminator())
    wrong = keras_segen.label_map_discriminator((IMAGE_SIZE, IMAGE_SIZE, 3), num_classes=5)
    with pytest.raises(ValueError, match=r"num_classes=3"):
        keras_segen.AdversarialSegmenter(segmenter, wrong)
    with pytest.raises(ValueError, match=r"must take \[image, label map\]"):
        keras_segen.AdversarialSegmenter(segmenter, small_model("dcgan_discriminator"))
    trainer = keras_segen.AdversarialSegmenter(segmenter, _discriminator())
    trainer.compile()
    images, masks = tiny_batch(2)
    with pytest.raises(ValueError, match=r"\(image, mask\) batches"):
        trainer.train_step(images)
    with pytest.raises(ValueError, match=r"masks of size \(16, 16\) do not match images"):
        trainer.fit(images, masks[:, :16, :16], verbose=0)
    with pytest.raises(ValueError, match=r"masks \(B, H, W\) or \(B, H, W, 1\)"):
        trainer.fit(images, masks[:, 0], verbose=0)


def test_adversarial_run_keeps_the_segmenter_as_best(tmp_path):
    out = tmp_path / "run"
    report = keras_segen.train(
        "unet", "shapes", epochs=1, batch_size=8, image_size=32, out=str(out),
        model_kwargs={"filters": 4, "depth": 2}, num_examples=16, validation_examples=8,
        adversarial_weight=0.1, discriminator_filters=4, verbose=0,
    )  # fmt: skip
    assert report["epochs"] == 1 and report["images"] == 8 and len(report["per_class"]) == 4
    assert isinstance(keras.models.load_model(out / "last.keras"), keras_segen.AdversarialSegmenter)
    best = keras.models.load_model(out / "best.keras", compile=False)
    assert not isinstance(best, keras_segen.AdversarialSegmenter)
    assert tuple(best.output.shape) == (None, 32, 32, 4)
    config = run_config(out)
    assert config["adversarial_weight"] == 0.1
    report = keras_segen.resume(str(out), epochs=1, verbose=0)  # nothing left to train
    history = (out / "history.csv").read_text().splitlines()
    assert history[0].split(",")[:2] == ["epoch", "adversarial_loss"]
