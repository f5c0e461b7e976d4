"""Semi-supervised segmentation: Hung et al.'s discriminator and trainer, the self-training
ablation, unlabelled images and their pairing with labelled batches."""

import keras
import numpy as np
import PIL.Image
import pytest

import keras_segen
from keras_segen.trainers.semi_supervised_steps import masked_binary_crossentropy, pseudo_labels
from tests.helpers import IMAGE_SIZE, NUM_CLASSES, tiny_batch


def _conv_segmenter(seed=0):
    """A 3x3 convolution: no batch statistics, so a step's numbers can be worked out."""
    keras.utils.set_random_seed(seed)
    convolution = keras.layers.Conv2D(NUM_CLASSES, 3, padding="same")
    return keras.Sequential([keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)), convolution])


def _discriminator(seed=1):
    keras.utils.set_random_seed(seed)
    return keras_segen.confidence_discriminator((IMAGE_SIZE, IMAGE_SIZE, NUM_CLASSES), filters=4)


def _batch(batch=2):
    images, masks = tiny_batch(batch)
    unlabelled, _ = tiny_batch(batch, seed=5)
    return (images, masks), unlabelled


def _batches(steps):
    """``steps`` copies of ``_batch()`` as a dataset for ``fit``."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensors(_batch()).repeat(steps)


def _softmax(logits):
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def test_confidence_discriminator_layers_and_sizes():
    discriminator = keras_segen.confidence_discriminator((64, 64, 5), filters=8)
    convolutions = [layer for layer in discriminator.layers if hasattr(layer, "filters")]
    assert [(c.filters, c.kernel_size, c.strides) for c in convolutions] == [
        (8, (4, 4), (2, 2)), (16, (4, 4), (2, 2)), (32, (4, 4), (2, 2)), (64, (4, 4), (2, 2)),
        (1, (4, 4), (2, 2)),
    ]  # fmt: skip
    slopes = [layer.negative_slope for layer in discriminator.layers if "leaky" in layer.name]
    assert slopes == pytest.approx([0.2] * 4)
    # The 2x2 logit map (64 / 32) is resized to the input: one logit per pixel, any size.
    assert discriminator.output_shape == (None, 64, 64, 1)
    anywhere = keras_segen.confidence_discriminator((None, None, 3), filters=4)
    assert tuple(anywhere(np.zeros((1, 40, 72, 3))).shape) == (1, 40, 72, 1)
    with pytest.raises(ValueError, match=">= 2 class channels"):
        keras_segen.confidence_discriminator((32, 32, 1))
    with pytest.raises(ValueError, match="filters must be an integer >= 1"):
        keras_segen.confidence_discriminator((32, 32, 3), filters=0)


def test_masked_binary_crossentropy_and_pseudo_labels_by_hand():
    logits = np.array([[[[0.0], [2.0], [-1.0]]]], "float32")  # one 1 x 3 map
    valid = np.array([[[1.0, 1.0, 0.0]]], "float32")
    # target 1: softplus(-x): (ln 2 + ln(1 + e^-2)) / 2; the third pixel is left out.
    expected = (np.log(2.0) + np.log1p(np.exp(-2.0))) / 2
    assert float(masked_binary_crossentropy(logits, 1.0, valid)) == pytest.approx(expected, 1e-6)
    # target 0: softplus(x).
    expected = (np.log(2.0) + np.log1p(np.exp(2.0))) / 2
    assert float(masked_binary_crossentropy(logits, 0.0, valid)) == pytest.approx(expected, 1e-6)
    assert float(masked_binary_crossentropy(logits, 1.0, np.zeros_like(valid))) == 0.0

    class_logits = np.array([[[[0.0, 3.0, 1.0], [2.0, 0.0, 0.0], [0.0, 0.0, 5.0]]]], "float32")
    confidence = np.array([[[0.9, 0.2, 0.21]]], "float32")
    labels = keras.ops.convert_to_numpy(pseudo_labels(class_logits, confidence, 0.2, 99))
    assert labels.tolist() == [[[1, 99, 2]]]  # strictly above the threshold


def test_losses_of_one_step_worked_out_by_hand():
    """The logged terms of the first step, from the networks' outputs before it."""
    ((images, masks), unlabelled) = _batch()
    masks[0, :4] = 255  # ignored rows take no part in the adversarial term either
    segmenter, discriminator = _conv_segmenter(), _discriminator()
    logits = keras.ops.convert_to_numpy(segmenter(images))
    unlabelled_logits = keras.ops.convert_to_numpy(segmenter(unlabelled))
    fake = keras.ops.convert_to_numpy(discriminator(_softmax(logits)))[..., 0]
    fake_u = keras.ops.convert_to_numpy(discriminator(_softmax(unlabelled_logits)))[..., 0]
    valid = masks != 255
    softplus = np.logaddexp(0.0, -fake)
    adversarial = softplus[valid].mean()
    unlabelled_adversarial = np.logaddexp(0.0, -fake_u).mean()
    selected = 1 / (1 + np.exp(-fake_u)) > 0.2
    log_probabilities = np.log(_softmax(unlabelled_logits))
    pseudo_ce = -log_probabilities.max(-1)[selected].mean()  # the argmax class's log-probability

    trainer = keras_segen.SemiSupervisedSegmenter(
        segmenter, discriminator, adversarial_weight=0.5, unlabelled_adversarial_weight=0.25,
        self_training_weight=2.0, warmup_steps=0,
    )  # fmt: skip
    trainer.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    logs = trainer.train_on_batch(_batch(), return_dict=True)
    assert logs["adversarial_loss"] == pytest.approx(adversarial, rel=1e-4)
    assert logs["unlabelled_adversarial_loss"] == pytest.approx(unlabelled_adversarial, rel=1e-4)
    assert logs["pseudo_label_fraction"] == pytest.approx(selected.mean(), abs=1e-6)
    assert logs["self_training_loss"] == pytest.approx(pseudo_ce, rel=1e-4)
    total = logs["segmentation_loss"] + 0.5 * adversarial + 0.25 * unlabelled_adversarial
    assert logs["loss"] == pytest.approx(total + 2.0 * pseudo_ce, rel=1e-4)


def test_scaled_ground_truth_is_what_the_discriminator_sees_as_real():
    ((images, masks), unlabelled) = _batch()
    segmenter, discriminator = _conv_segmenter(), _discriminator()
    probabilities = _softmax(keras.ops.convert_to_numpy(segmenter(images)))
    truth = np.eye(NUM_CLASSES, dtype="float32")[masks]
    scaled = keras.ops.convert_to_numpy(
        keras_segen.trainers.adversarial_segmentation.scale_ground_truth(truth, probabilities, 0.9)
    )
    assert scaled.max(-1).min() >= 0.9 - 1e-6  # the true class holds at least tau
    real = keras.ops.convert_to_numpy(discriminator(scaled))[..., 0]
    fake = keras.ops.convert_to_numpy(discriminator(probabilities))[..., 0]
    fake_u = keras.ops.convert_to_numpy(
        discriminator(_softmax(keras.ops.convert_to_numpy(segmenter(unlabelled))))
    )[..., 0]
    fakes = np.logaddexp(0.0, np.concatenate([fake, fake_u])).mean()
    expected = 0.5 * (fakes + np.logaddexp(0.0, -real).mean())
    trainer = keras_segen.SemiSupervisedSegmenter(segmenter, discriminator, scaling_tau=0.9)
    trainer.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    logs = trainer.train_on_batch(_batch(), return_dict=True)
    assert logs["d_loss"] == pytest.approx(expected, rel=1e-4)
    assert trainer.get_config()["scaling_tau"] == 0.9
    with pytest.raises(ValueError, match=r"scaling_tau must be None or in \(0, 1\]"):
        keras_segen.SemiSupervisedSegmenter(segmenter, discriminator, scaling_tau=0.0)


def test_warmup_holds_the_self_training_term_back():
    trainer = keras_segen.SelfTrainingSegmenter(
        _conv_segmenter(), self_training_weight=1.0, confidence_threshold=0.0, warmup_steps=2
    )
    trainer.compile(keras.optimizers.SGD(0.01))
    history = trainer.fit(_batches(4), epochs=1, verbose=0).history
    after = trainer.train_on_batch(_batch(), return_dict=True)
    assert history["pseudo_label_fraction"][0] == pytest.approx(1.0)  # threshold 0
    # Steps 0 and 1 count no self-training, steps 2 and 3 do: the epoch's mean is about
    # half of a later step's value (SGD 0.01 barely moves it).
    assert after["self_training_loss"] > 0
    assert history["self_training_loss"][0] == pytest.approx(
        after["self_training_loss"] / 2, rel=0.05
    )


def test_colour_perturbation_learns_the_perturbed_view_from_clean_pseudo_labels():
    """FixMatch's split: pseudo-labels from the unlabelled batch as it is, the loss on the
    segmenter's prediction for its colour-perturbed copy (the same draws as
    ``perturb_colours`` with a fresh generator seeded 0)."""
    ((images, masks), unlabelled) = _batch()
    segmenter = _conv_segmenter()
    labels = np.argmax(keras.ops.convert_to_numpy(segmenter(unlabelled)), -1)
    perturbed = keras_segen.trainers.perturb_colours(unlabelled, keras.random.SeedGenerator(0))
    log_probabilities = np.log(_softmax(keras.ops.convert_to_numpy(segmenter(perturbed))))
    expected = -np.take_along_axis(log_probabilities, labels[..., None], -1).mean()
    same_view = -np.log(_softmax(keras.ops.convert_to_numpy(segmenter(unlabelled)))).max(-1)

    trainer = keras_segen.SelfTrainingSegmenter(
        segmenter, self_training_weight=1.0, confidence_threshold=0.0, warmup_steps=0,
        perturbation="colour",
    )  # fmt: skip
    trainer.compile(keras.optimizers.SGD(0.0))
    logs = trainer.train_on_batch(_batch(), return_dict=True)
    assert logs["self_training_loss"] == pytest.approx(expected, rel=1e-4)
    assert abs(logs["self_training_loss"] - same_view.mean()) > 1e-3
    assert trainer.get_config()["perturbation"] == "colour"
    with pytest.raises(ValueError, match=r"perturbation must be one of \(None, 'colour'\)"):
        keras_segen.SemiSupervisedSegmenter(_conv_segmenter(), _discriminator(),
                                            perturbation="cutmix")  # fmt: skip


def test_pseudo_label_share_takes_the_most_confident_pixels_of_the_batch():
    ((images, masks), unlabelled) = _batch()
    segmenter = _conv_segmenter()
    probabilities = _softmax(keras.ops.convert_to_numpy(segmenter(unlabelled)))
    confidence = probabilities.max(-1)
    chosen = confidence >= np.quantile(confidence, 0.75)
    expected = -np.log(confidence[chosen]).mean()
    trainer = keras_segen.SelfTrainingSegmenter(
        segmenter, self_training_weight=1.0, confidence_threshold=0.99, warmup_steps=0,
        pseudo_label_share=0.25,
    )  # fmt: skip
    trainer.compile(keras.optimizers.SGD(0.0))
    logs = trainer.train_on_batch(_batch(), return_dict=True)
    assert logs["pseudo_label_fraction"] == pytest.approx(0.25, abs=1 / chosen.size)
    assert logs["self_training_loss"] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match=r"pseudo_label_share must be None or in \(0, 1\]"):
        keras_segen.SelfTrainingSegmenter(segmenter, pseudo_label_share=0.0)


def test_perturb_colours_draws_per_image_and_keeps_grey_images_grey():
    grey = np.repeat(np.linspace(0, 1, 2 * 8 * 8, dtype="float32").reshape(2, 8, 8, 1), 3, -1)
    copies = keras.ops.convert_to_numpy(
        keras_segen.trainers.perturb_colours(np.stack([grey[0], grey[0]]),
                                             keras.random.SeedGenerator(3))  # fmt: skip
    )
    assert copies.shape == (2, 8, 8, 3) and 0.0 <= copies.min() and copies.max() <= 1.0
    assert np.abs(copies[0] - copies[1]).mean() > 0.01  # each image draws its own jitter
    # Saturation, contrast and brightness act on all channels alike; only the noise differs.
    assert np.abs(copies - copies.mean(-1, keepdims=True)).max() < 0.2


def test_without_unlabelled_terms_the_step_is_plain_cross_entropy():
    (images, masks), _ = _batch()
    plain = _conv_segmenter()
    plain.compile(keras.optimizers.SGD(0.1), keras_segen.losses.CrossEntropy())
    plain.train_on_batch(images, masks)
    trainer = keras_segen.SemiSupervisedSegmenter(
        _conv_segmenter(), _discriminator(), adversarial_weight=0,
        unlabelled_adversarial_weight=0, self_training_weight=0, warmup_steps=0,
    )  # fmt: skip
    trainer.compile(keras.optimizers.SGD(0.1))
    trainer.train_on_batch(_batch())
    for expected, got in zip(plain.get_weights(), trainer.segmenter.get_weights()):
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_discriminator_learns_ground_truth_from_predictions_per_pixel():
    ((images, masks), unlabelled) = _batch()
    trainer = keras_segen.SemiSupervisedSegmenter(
        _conv_segmenter(), _discriminator(), warmup_steps=0
    )
    trainer.compile(keras.optimizers.SGD(0.0), keras.optimizers.Adam(1e-3))
    history = trainer.fit(_batches(30), epochs=1, verbose=0).history
    truth = keras.ops.one_hot(masks, NUM_CLASSES)
    predicted = keras.ops.softmax(trainer.segmenter(unlabelled))
    real = keras.ops.convert_to_numpy(keras.ops.sigmoid(trainer.discriminator(truth)))
    fake = keras.ops.convert_to_numpy(keras.ops.sigmoid(trainer.discriminator(predicted)))
    assert real.mean() > 0.6 > 0.4 > fake.mean(), (real.mean(), fake.mean(), history["d_loss"])


def test_save_resume_and_errors(tmp_path):
    trainer = keras_segen.SemiSupervisedSegmenter(
        keras_segen.get_model("unet", "tiny"), _discriminator(), warmup_steps=1
    )
    trainer.compile()
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(1e-4)
    assert (float(trainer.d_optimizer.beta_1), float(trainer.d_optimizer.beta_2)) == (0.9, 0.99)
    trainer.fit(_batches(2), epochs=1, verbose=0)
    trainer.save(tmp_path / "semi.keras")
    restored = keras.models.load_model(tmp_path / "semi.keras")
    assert (restored.warmup_steps, restored.confidence_threshold) == (1, 0.2)
    assert int(restored.g_optimizer.iterations) == int(restored.d_optimizer.iterations) == 2
    for a, b in zip(trainer.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    restored.fit(_batches(1), epochs=1, verbose=0)
    assert int(restored.g_optimizer.iterations) == 3

    with pytest.raises(ValueError, match=r"\(\(images, masks\), unlabelled_images\) batches"):
        trainer.train_on_batch(tiny_batch(2))
    with pytest.raises(ValueError, match="one label map of 3 channels"):
        keras_segen.SemiSupervisedSegmenter(
            _conv_segmenter(), keras_segen.confidence_discriminator((32, 32, 4), filters=4)
        )
    with pytest.raises(ValueError, match=r"confidence_threshold must be in \[0, 1\)"):
        keras_segen.SelfTrainingSegmenter(_conv_segmenter(), confidence_threshold=1.5)
    with pytest.raises(ValueError, match="warmup_steps must be an integer >= 0"):
        keras_segen.SelfTrainingSegmenter(_conv_segmenter(), warmup_steps=-1)
    with pytest.raises(ValueError, match="unlabelled_adversarial_weight must be a number >= 0"):
        keras_segen.SemiSupervisedSegmenter(_conv_segmenter(), _discriminator(),
                                            unlabelled_adversarial_weight=-0.1)  # fmt: skip


def test_unlabelled_folder_is_checked_before_training(tmp_path):
    folder = tmp_path / "photos"
    (folder / "day").mkdir(parents=True)
    PIL.Image.new("RGB", (40, 30), (255, 0, 0)).save(folder / "a.png")
    PIL.Image.new("RGB", (17, 64), (0, 0, 255)).save(folder / "day" / "b.jpg")
    (folder / "broken.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("not an image")
    with pytest.raises(keras_segen.data.DataError, match=r"broken\.png"):
        keras_segen.data.load_unlabelled(folder, 16)
    images, info = keras_segen.data.load_unlabelled(
        folder, (16, 24), shuffle=False, on_bad="skip", with_info=True
    )
    assert info.num_examples == 2 and [p for p, _ in info.skipped] == [str(folder / "broken.png")]
    arrays = [image.numpy() for image in images]
    assert [a.shape for a in arrays] == [(16, 24, 3)] * 2
    np.testing.assert_allclose(arrays[0][..., 0], 1.0)  # a.png, red, scaled to [0, 1]
    np.testing.assert_allclose(arrays[1][..., 2], 1.0, atol=2 / 255)  # day/b.jpg, blue
    (folder / "day" / "empty").mkdir()
    with pytest.raises(ValueError, match="No image files"):
        keras_segen.data.load_unlabelled(folder / "day" / "empty", 16)
    with pytest.raises(ValueError, match="does not exist"):
        keras_segen.data.load_unlabelled(folder / "elsewhere", 16)


def test_embedded_unlabelled_images_are_not_the_labelled_ones():
    labelled = keras_segen.data.load_segmentation(
        "streets", "train", image_size=32, batch_size=None, num_examples=4, shuffle=False
    )
    unlabelled = keras_segen.data.load_unlabelled("streets", 32, num_examples=4, shuffle=False)
    first = [image.numpy() for image, _ in labelled]
    for image in unlabelled:
        assert all(np.abs(image.numpy() - other).max() > 0.1 for other in first)
    batches = keras_segen.data.with_unlabelled(labelled.batch(2), unlabelled.batch(1))
    assert int(batches.cardinality()) == 4  # the labelled batches repeat
    with pytest.raises(ValueError, match="known, non-zero length"):
        keras_segen.data.with_unlabelled(labelled.batch(2).repeat(), unlabelled.batch(1))
