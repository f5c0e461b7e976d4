"""Every trainer, and a run, under MirroredStrategy on two logical CPUs (one subprocess for
all checks)."""

import pytest

from tests.helpers import run_python

SCRIPT = """
import numpy as np, tensorflow as tf, keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras_segen

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])  # one per process


def tiny_pix2pix():
    source = keras.Input((8, 8, 3))
    generator = keras.Model(source, keras.layers.Conv2D(3, 3, padding="same",
                                                        activation="tanh")(source))
    target = keras.Input((8, 8, 3))
    joined = keras.layers.Concatenate()([source, target])
    discriminator = keras.Model([source, target], keras.layers.Conv2D(1, 3)(joined))
    return keras_segen.Pix2Pix(generator, discriminator, l1_weight=10.0)

# 1. Gradients are averaged, not summed, across replicas: one SGD step on a global
#    batch of 4 split over two replicas equals the same step on one device.
rng = np.random.default_rng(0)
sources = rng.uniform(-1, 1, (4, 8, 8, 3)).astype("float32")
targets = rng.uniform(-1, 1, (4, 8, 8, 3)).astype("float32")
weights = []
for scope in (tf.distribute.get_strategy().scope(), strategy.scope()):
    keras.utils.set_random_seed(0)
    with scope:
        trainer = tiny_pix2pix()
        trainer.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
    data = tf.data.Dataset.from_tensor_slices((sources, targets)).batch(4)
    trainer.fit(data, epochs=1, verbose=0)
    weights.append(trainer.generator.get_weights() + trainer.discriminator.get_weights())
difference = max(float(np.max(np.abs(a - b))) for a, b in zip(*weights))
print("same_step", difference < 1e-5, difference)

# 1b. The same for a segmenter compiled with a keras_segen loss (it divides by the replicas;
#     cross-entropy, a batch mean: Dice is taken per replica) and the adversarial segmenter.
images = rng.uniform(0, 1, (8, 32, 32, 3)).astype("float32")
masks = rng.integers(0, 3, (8, 32, 32)).astype("int32")
def segmenter():
    return keras_segen.get_model("unet", "tiny", batch_norm=False)
def plain():
    model = segmenter()
    model.compile(keras.optimizers.SGD(0.5), keras_segen.losses.CrossEntropy())
    return model
def adversarial():
    discriminator = keras_segen.get_model("label_map_discriminator", input_shape=(32, 32, 3),
                                          num_classes=3, filters=4)
    trainer = keras_segen.AdversarialSegmenter(segmenter(), discriminator, loss="ce")
    trainer.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
    return trainer
def semi_supervised():
    discriminator = keras_segen.confidence_discriminator((32, 32, 3), filters=4)
    # Threshold 0: every replica selects all its pixels, so per-replica means average exactly.
    trainer = keras_segen.SemiSupervisedSegmenter(
        segmenter(), discriminator, confidence_threshold=0.0, warmup_steps=0, loss="ce")
    trainer.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
    return trainer
def self_training():
    trainer = keras_segen.SelfTrainingSegmenter(
        segmenter(), confidence_threshold=0.0, warmup_steps=0, loss="ce")
    trainer.compile(keras.optimizers.SGD(0.5))
    return trainer
unlabelled = rng.uniform(0, 1, (8, 32, 32, 3)).astype("float32")
builders = (("plain", plain), ("adversarial", adversarial), ("semi_supervised", semi_supervised),
            ("self_training", self_training))
for name, build in builders:
    results = []
    for scope in (tf.distribute.get_strategy().scope(), strategy.scope()):
        keras.utils.set_random_seed(0)
        with scope:
            model = build()
        pairs = (images, masks)
        data = tf.data.Dataset.from_tensor_slices(
            (pairs, unlabelled) if name in ("semi_supervised", "self_training") else pairs).batch(4)
        history = model.fit(data, epochs=1, verbose=0).history
        results.append((model.get_weights(), history["loss"][-1]))
    (mine, my_loss), (theirs, their_loss) = results
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(mine, theirs))
    print(name, "same_steps", difference < 1e-5, difference, "same_loss",
          abs(my_loss - their_loss) < 1e-5 * abs(their_loss), my_loss, their_loss)

# 2. Each replica draws its own latent vectors.
with strategy.scope():
    gan = keras_segen.GAN(keras_segen.dcgan_generator(8, (32, 32, 1), filters=4),
                          keras_segen.dcgan_discriminator((32, 32, 1), filters=4, norm=None),
                          loss="wgan-gp", d_steps=2, seed=0)  # each critic step: 1 of 2
    gan.compile()
draws = strategy.experimental_local_results(
    strategy.run(tf.function(lambda: gan.sample_latent(2))))
print("replica_draws_differ", not np.allclose(draws[0].numpy(), draws[1].numpy()))

# 3. Every trainer fits with finite losses.
images = np.zeros((8, 32, 32, 1), "float32")
labels = np.arange(8) % 3
masks = np.zeros((8, 32, 32), "int32")
with strategy.scope():
    cgan = keras_segen.ConditionalGAN(
        keras_segen.conditional_generator(8, 3, (32, 32, 1), filters=4),
        keras_segen.conditional_discriminator((32, 32, 1), 3, filters=4), num_classes=3,
        d_steps=2)
    cgan.compile()
    vae = keras_segen.VAE(keras_segen.vae_encoder((32, 32, 1), 4, filters=4),
                          keras_segen.vae_decoder(4, (32, 32, 1), filters=4))
    vae.compile(keras.optimizers.Adam(1e-3))
    pix2pix = keras_segen.Pix2Pix(keras_segen.pix2pix_generator((32, 32, 3), 1, filters=4),
                                  keras_segen.patchgan_discriminator((32, 32, 3), 1, filters=4),
                                  num_classes=3)
    pix2pix.compile()
    colour = keras_segen.SelfTrainingSegmenter(
        keras_segen.unet((32, 32, 1), 3, filters=4, depth=2), warmup_steps=0,
        perturbation="colour", pseudo_label_share=0.5)
    colour.compile()
runs = {
    "gan": (gan, tf.data.Dataset.from_tensor_slices(images)),
    "cgan": (cgan, tf.data.Dataset.from_tensor_slices((images, labels))),
    "vae": (vae, tf.data.Dataset.from_tensor_slices(images)),
    "pix2pix": (pix2pix, tf.data.Dataset.from_tensor_slices((masks, images))),
    "colour": (colour, tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices((images, masks)),
                                            tf.data.Dataset.from_tensor_slices(images)))),
}
for name, (trainer, data) in runs.items():
    history = trainer.fit(data.batch(4), epochs=1, verbose=0).history
    print(name, "finite", all(np.isfinite(v[-1]) for v in history.values()))
print("replicas", strategy.num_replicas_in_sync)

# 3. A segmentation run (keras_segen.train) under the same strategy.
import tempfile
report = keras_segen.train(
    "unet", "shapes", out=tempfile.mkdtemp() + "/run", epochs=2, strategy=strategy,
    image_size=32, batch_size=8, num_examples=16, validation_examples=8,
    model_kwargs={"filters": 4, "depth": 2}, verbose=0)
print("run epochs", report["epochs"])
"""


def test_trainers_and_a_run_under_mirrored_strategy():
    output = run_python(SCRIPT)
    assert "run epochs 2" in output, output
    assert "same_step True" in output, output
    for name in ("plain", "adversarial", "semi_supervised", "self_training"):
        assert f"{name} same_steps True" in output and "same_loss True" in output, output
    assert "replica_draws_differ True" in output
    for name in ("gan", "cgan", "vae", "pix2pix", "colour"):
        assert f"{name} finite True" in output, output
    assert "replicas 2" in output


def test_strategies_name_the_backend_they_need():
    from keras_segen.runs.distribution import resolve_strategy

    with pytest.raises(ValueError, match="on TensorFlow use strategy='mirrored'"):
        resolve_strategy("data_parallel")
    with pytest.raises(ValueError, match="strategy must be one of"):
        resolve_strategy("tpu")
