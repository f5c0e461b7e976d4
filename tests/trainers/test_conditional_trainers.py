"""ConditionalGAN and Pix2Pix: fit changes both networks, losses by hand, saving, errors."""

import keras
import numpy as np
import pytest

import keras_segen


def _cgan(**kwargs):
    generator = keras_segen.conditional_generator(8, 3, (32, 32, 1), filters=4)
    discriminator = keras_segen.conditional_discriminator((32, 32, 1), 3, filters=4, norm=None)
    return keras_segen.ConditionalGAN(generator, discriminator, num_classes=3, seed=0, **kwargs)


def _labelled_images(count=8):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (count, 32, 32, 1)).astype("float32"), np.arange(count) % 3


@pytest.mark.parametrize("loss", ["bce", "wgan-gp"])
def test_cgan_fit_updates_both_networks(loss):
    cgan = _cgan(loss=loss)
    cgan.compile()
    before = [w.copy() for w in cgan.generator.get_weights()]
    images, labels = _labelled_images()
    history = cgan.fit(images, labels, batch_size=4, epochs=2, verbose=0).history
    assert all(np.isfinite(history[key]).all() for key in ("d_loss", "g_loss"))
    assert history["g_loss"][0] != history["g_loss"][1]
    embedding = cgan.generator.get_layer("label_embedding").get_weights()[0]
    assert not np.allclose(embedding, before[0])  # the label embedding learns


def test_cgan_generate_and_save(tmp_path):
    cgan = _cgan(ema=0.5)
    cgan.compile()
    images, labels = _labelled_images(4)
    cgan.fit(images, labels, batch_size=4, verbose=0)
    generated = keras.ops.convert_to_numpy(cgan.generate([0, 1, 2, 2]))
    assert generated.shape == (4, 32, 32, 1)
    with pytest.raises(ValueError, match=r"labels must be ints in \[0, 3\)"):
        cgan.generate([0, 3])
    cgan.save(tmp_path / "cgan.keras")
    restored = keras.models.load_model(tmp_path / "cgan.keras")
    assert isinstance(restored, keras_segen.ConditionalGAN) and restored.num_classes == 3
    inputs = [np.zeros((2, 8), "float32"), np.array([1, 2], "int32")]
    np.testing.assert_array_equal(np.asarray(cgan(inputs)), np.asarray(restored(inputs)))


def test_cgan_errors():
    with pytest.raises(ValueError, match="generator must take two inputs"):
        keras_segen.ConditionalGAN(
            keras_segen.dcgan_generator(8, (32, 32, 1), filters=4),
            keras_segen.conditional_discriminator((32, 32, 1), 3, filters=4),
            num_classes=3,
        )
    cgan = _cgan()
    cgan.compile()
    with pytest.raises(ValueError, match=r"\(images, labels\) batches"):
        cgan.fit(_labelled_images()[0], batch_size=4, verbose=0)


def _pix2pix(num_classes=4, **kwargs):
    channels = num_classes or 3
    generator = keras_segen.pix2pix_generator((32, 32, channels), 3, filters=4)
    discriminator = keras_segen.patchgan_discriminator((32, 32, channels), 3, filters=4)
    return keras_segen.Pix2Pix(generator, discriminator, num_classes=num_classes, **kwargs)


def _masks_and_images(count=8):
    images, masks = [], []
    for index in range(count):
        image, mask = keras_segen.data.shapes_example(index, 32)
        images.append(image * 2 - 1)
        masks.append(mask)
    return np.stack(masks), np.stack(images).astype("float32")


def test_label_to_image_fit_lowers_l1():
    pix2pix = _pix2pix()
    pix2pix.compile(keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-3, 0.5))
    masks, images = _masks_and_images()
    history = pix2pix.fit(masks, images, batch_size=4, epochs=6, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "adversarial_loss", "l1_loss"}
    np.testing.assert_allclose(
        np.array(history["adversarial_loss"]) + 100 * np.array(history["l1_loss"]),
        history["g_loss"],
        rtol=1e-4,
    )
    assert history["l1_loss"][-1] < history["l1_loss"][0]


def test_label_maps_are_one_hot_encoded():
    pix2pix = _pix2pix()
    masks = np.array([[[0, 3], [255, 1]]])
    encoded = keras.ops.convert_to_numpy(pix2pix.prepare_source(masks[..., None]))
    assert encoded.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(encoded[0, 0, 1], [0, 0, 0, 1])
    np.testing.assert_array_equal(encoded[0, 1, 0], [0, 0, 0, 0])  # ignore index: all zeros


def test_image_to_image_and_save(tmp_path):
    pix2pix = _pix2pix(num_classes=None, l1_weight=10.0, loss="hinge")
    pix2pix.compile()
    _, images = _masks_and_images(4)
    history = pix2pix.fit(
        images, -images, batch_size=2, epochs=1, verbose=0, validation_data=(images, -images)
    ).history
    assert np.isfinite(history["val_l1_loss"][-1])
    pix2pix.save(tmp_path / "pix2pix.keras")
    restored = keras.models.load_model(tmp_path / "pix2pix.keras")
    assert (restored.l1_weight, restored.loss_name, restored.num_classes) == (10.0, "hinge", None)
    np.testing.assert_allclose(np.asarray(pix2pix(images)), np.asarray(restored(images)), atol=1e-6)
    assert int(restored.g_optimizer.iterations) == 2


def test_pix2pix_errors():
    with pytest.raises(ValueError, match="num_classes=5 does not match the generator's input"):
        keras_segen.Pix2Pix(
            keras_segen.pix2pix_generator((32, 32, 4), filters=4),
            keras_segen.patchgan_discriminator((32, 32, 4), filters=4),
            num_classes=5,
        )
    with pytest.raises(ValueError, match=r"takes \[source, image\]|must take \[source, image\]"):
        keras_segen.Pix2Pix(
            keras_segen.pix2pix_generator((32, 32, 3), filters=4),
            keras_segen.dcgan_discriminator((32, 32, 3), filters=4),
        )
    pix2pix = _pix2pix()
    with pytest.raises(ValueError, match="takes sparse label maps"):
        pix2pix(np.zeros((1, 32, 32, 4), "int32"))


def test_mixed_precision_pix2pix_and_cgan():
    keras.mixed_precision.set_global_policy("mixed_float16")
    pix2pix = _pix2pix()
    pix2pix.compile()
    assert isinstance(pix2pix.g_optimizer, keras.optimizers.LossScaleOptimizer)
    masks, images = _masks_and_images(4)
    history = pix2pix.fit(masks, images, batch_size=4, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())
    cgan = _cgan()
    cgan.compile()
    history = cgan.fit(*_labelled_images(4), batch_size=4, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())


def test_sample_grid_for_conditional_and_paired_trainers(tmp_path):
    cgan = _cgan()
    cgan.compile()
    grid = keras_segen.trainers.SampleGrid(str(tmp_path / "c"), num_samples=6)
    cgan.fit(*_labelled_images(4), batch_size=4, verbose=0, callbacks=[grid])
    pix2pix = _pix2pix()
    pix2pix.compile()
    masks, images = _masks_and_images(4)
    paired = keras_segen.trainers.SampleGrid(str(tmp_path / "p"), inputs=masks[:2])
    pix2pix.fit(masks, images, batch_size=4, verbose=0, callbacks=[paired])
    assert len(grid.paths) == len(paired.paths) == 1
    with pytest.raises(ValueError, match="has no latent space; pass the fixed inputs"):
        pix2pix.fit(masks, images, batch_size=4, verbose=0,
                    callbacks=[keras_segen.trainers.SampleGrid(str(tmp_path / "x"))])  # fmt: skip
