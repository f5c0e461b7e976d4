"""Keras 3 backends: the same numbers on TensorFlow, JAX and PyTorch, the harness on JAX,
and the library without TensorFlow installed (each in a fresh process)."""

import importlib.util
import json
import os

import numpy as np
import pytest

from tests.helpers import run_python, run_scripts

BACKENDS = [b for b in ("jax", "torch") if importlib.util.find_spec(b)]
needs_jax = pytest.mark.skipif("jax" not in BACKENDS, reason="jax is not installed")

# Every loss and streaming metric on fixed logits and labels (one ignored pixel), the
# generation metrics on fixed features and images, and the outputs of every registered
# model (tiny preset, saved under TensorFlow) on fixed inputs (inference.predict_batch:
# eager on TensorFlow, compiled on JAX).
NUMBERS = r"""
import json, sys
import numpy as np, keras, keras_segen
rng = np.random.default_rng(0)
logits = rng.normal(size=(2, 8, 8, 3)).astype("float32")
labels = rng.integers(0, 3, (2, 8, 8)).astype("int32")
labels[0, 0, 0] = 255
out = {}
for name in ("CrossEntropy", "FocalLoss", "DiceLoss", "JaccardLoss", "TverskyLoss", "CEDiceLoss"):
    out[name] = float(getattr(keras_segen.losses, name)()(labels, logits))
for name in ("PixelAccuracy", "MeanIoU", "MeanDice", "MeanPrecision", "MeanRecall"):
    metric = getattr(keras_segen.metrics, name)(3)
    metric.update_state(labels, logits)
    metric.update_state(labels[::-1], logits)
    out[name] = float(metric.result())
real = rng.normal(size=(40, 6)); fake = rng.normal(0.5, size=(40, 6))
out["fid"] = keras_segen.metrics.frechet_distance(real, fake)
out["kid"] = keras_segen.metrics.kernel_inception_distance(real, fake, 5, 20)[0]
probabilities = np.abs(real) / np.abs(real).sum(1, keepdims=True)
out["is"] = keras_segen.metrics.inception_score(probabilities, 2)[0]
images = rng.uniform(-1, 1, (2, 16, 16, 3))
noisy = np.clip(images + rng.normal(0, 0.2, images.shape), -1, 1)
out["psnr"] = keras_segen.metrics.psnr(images, noisy)
out["ssim"] = keras_segen.metrics.ssim(images, noisy)
out["novelty"] = keras_segen.metrics.novelty_score(fake, real)["novelty"]
kl = keras_segen.trainers.kl_divergence(logits[0, 0], logits[1, 0])
out["kl"] = keras.ops.convert_to_numpy(kl).tolist()
real_logits, fake_logits = logits[0, :, :, :1], logits[1, :, :, :1]
d_loss = keras_segen.trainers.discriminator_loss(real_logits, fake_logits, "bce", 0.1)
out["d_loss"] = float(d_loss)
from tests.helpers import sample_inputs
for name in keras_segen.list_models():  # every tiny preset, saved under TensorFlow
    model = keras.models.load_model(f"{sys.argv[1]}/{name}.keras")
    outputs = keras_segen.inference.predict_batch(model, sample_inputs(model, count=2))
    outputs = keras.tree.flatten(outputs)
    out[name] = [v for o in outputs for v in o.ravel().tolist()]
print(json.dumps(out))
"""

SAVE_MODELS = r"""
import os, sys, keras, keras_segen
keras.utils.set_random_seed(0)
for name in keras_segen.list_models():
    keras_segen.get_model(name, "tiny").save(os.path.join(sys.argv[1], name + ".keras"))
"""


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backends")
    run_python(SAVE_MODELS, "tensorflow", args=[str(folder)])
    return folder


@pytest.fixture(scope="module")
def tensorflow_numbers(saved_models):
    return json.loads(run_python(NUMBERS, "tensorflow", args=[str(saved_models)]))


# The JAX scripts of the tests marked `in_jax_process` run in one process between them (one
# interpreter start and one JAX import instead of six), on two host CPU devices for the
# data-parallel test; the mark keeps those tests on one xdist worker, which runs it once.
in_jax_process = pytest.mark.xdist_group("jax_scripts")


@pytest.fixture(scope="module")
def jax_outputs():
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count=2"
    try:
        return run_scripts(
            {"mixed_precision": MIXED_PRECISION, "semi_supervised": SEMI_SUPERVISED,
             "spectral_norm": SPECTRAL_NORM, "quantization_aware": QUANTIZATION_AWARE,
             "frozen_encoder": FROZEN_ENCODER, "data_parallel": DATA_PARALLEL},
            "jax",
        )  # fmt: skip
    finally:
        os.environ["XLA_FLAGS"] = flags


@pytest.mark.parametrize("backend", BACKENDS)
def test_losses_metrics_and_saved_models_agree_across_backends(
    backend, saved_models, tensorflow_numbers
):
    numbers = json.loads(run_python(NUMBERS, backend, args=[str(saved_models)]))
    assert numbers.keys() == tensorflow_numbers.keys()
    for key, expected in tensorflow_numbers.items():
        # float32 kernels differ in summation order between backends
        np.testing.assert_allclose(numbers[key], expected, rtol=1e-4, atol=1e-5, err_msg=key)


@needs_jax
def test_trainer_harness_on_jax(tmp_path):
    """Every generation recipe through the shared harness on JAX. (Every registered model
    is loaded and run on JAX, against TensorFlow's numbers, in the test above.)"""
    code = "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    output = run_python(
        code, "jax", timeout=1500,
        args=["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=-ra",
              "--basetemp", str(tmp_path),
              "-k", "trainer", os.path.join("tests", "test_harness_suite.py")],
    )  # fmt: skip
    assert " passed" in output and "failed" not in output, output[-2000:]


# Makes `import tensorflow` (and the packages that need it) fail, as on a machine where it
# was never installed.
WITHOUT_TENSORFLOW = r"""
import importlib.abc, sys
BLOCKED = ("tensorflow", "tensorboard", "tf2onnx", "tensorflow_datasets", "ai_edge_litert")
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Absent())
import importlib.util
importlib.util.find_spec = (lambda find: lambda name, *a: None if name.split(".")[0] in BLOCKED
                            else find(name, *a))(importlib.util.find_spec)
"""

def test_tf_data_pipeline_asked_for_without_tensorflow_is_a_clear_error():
    code = WITHOUT_TENSORFLOW + r"""
import keras_segen
try:
    keras_segen.data.load_segmentation("shapes", pipeline="tf.data")
except ValueError as error:
    print(error)
"""
    assert "pipeline='tf.data' needs TensorFlow" in run_python(code, "jax" if BACKENDS else None)


# One epoch on one device and under keras.distribution.DataParallel over two CPU devices:
# the step sees the global batch, so the updates (and the random draws) must be the same.
DATA_PARALLEL = r"""
import numpy as np, keras, keras_segen

def weights_after_one_epoch(distributed, build):
    keras.utils.set_random_seed(0)
    keras.distribution.set_distribution(
        keras.distribution.DataParallel() if distributed else None)
    trainer = build()
    images = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
    trainer.fit(images, batch_size=8, epochs=1, shuffle=False, verbose=0)
    keras.distribution.set_distribution(None)
    return [keras.ops.convert_to_numpy(w) for w in trainer.weights]

def vae():
    trainer = keras_segen.VAE(keras_segen.get_model("vae_encoder", "tiny"),
                              keras_segen.get_model("vae_decoder", "tiny"), seed=1)
    trainer.compile(keras.optimizers.SGD(0.01))
    return trainer

def wgan():
    trainer = keras_segen.GAN(keras_segen.get_model("dcgan_generator", "tiny"),
                              keras_segen.get_model("dcgan_discriminator", "tiny"),
                              loss="wgan-gp", d_steps=2, seed=1)  # critic batches cut
    trainer.compile(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01))
    return trainer

print(len(keras.distribution.list_devices()))
for build in (vae, wgan):
    single, parallel = (weights_after_one_epoch(d, build) for d in (False, True))
    print(max(float(np.max(np.abs(a - b))) for a, b in zip(single, parallel)))
"""


@needs_jax
@in_jax_process
def test_data_parallel_on_two_devices_matches_one_device(jax_outputs):
    devices, vae_difference, wgan_difference = jax_outputs["data_parallel"].split()
    assert devices == "2"
    assert float(vae_difference) < 1e-5 and float(wgan_difference) < 1e-5


# Fits, then the quickstart and a GAN run through the CLI, where TensorFlow is absent.
RUNS_WITHOUT_TENSORFLOW = WITHOUT_TENSORFLOW + r"""
import os, sys, keras, keras_segen
from keras_segen import cli
from keras_segen.data import load_images, load_segmentation
train = load_segmentation("shapes", image_size=32, batch_size=8, num_examples=16)
model = keras_segen.get_model("unet", "tiny", input_shape=(32, 32, 3), num_classes=4)
model.compile("adam", keras_segen.losses.CEDiceLoss(), metrics=[keras_segen.metrics.MeanIoU(4)])
history = model.fit(train, epochs=2, verbose=0).history
gan = keras_segen.GAN(keras_segen.get_model("dcgan_generator", "tiny"),
                      keras_segen.get_model("dcgan_discriminator", "tiny"))
gan.compile()
images = load_images("shapes", image_size=32, batch_size=8, num_examples=16)
gan_history = gan.fit(images, epochs=1, verbose=0).history
print("FITS", type(train).__name__, *sorted(history), *sorted(gan_history))
out = sys.argv[1]
assert cli.main(["--backend", "jax", "quickstart", "--epochs", "1", "--num-examples", "16",
                 "--image-size", "32", "--out", os.path.join(out, "quick")]) == 0
assert cli.main(["train-gan", "--model", "pix2pix", "--epochs", "1", "--image-size", "32",
                 "--num-examples", "8", "--batch-size", "4", "--out", os.path.join(out, "gan"),
                 "--progress", "0"]) == 0
print(*sorted(os.listdir(os.path.join(out, "quick"))), "tensorflow" in sys.modules)
"""


@needs_jax
def test_fit_quickstart_and_train_gan_run_with_tensorflow_absent(tmp_path):
    output = run_python(RUNS_WITHOUT_TENSORFLOW, "jax", args=[str(tmp_path)])
    fits = [line.split()[1:] for line in output.splitlines() if line.startswith("FITS")]
    assert fits == [["ArrayBatches", "loss", "mean_iou", "d_loss", "g_loss"]], output
    assert "export needs TensorFlow, which is not installed; skipped" in output
    listing = output.strip().splitlines()[-1].split()
    assert listing == [
        "best.keras", "config.json", "curves.png", "history.csv", "last.keras",
        "metrics.json", "predictions.png", "state.json", "False",
    ], listing  # fmt: skip
    assert (tmp_path / "gan" / "metrics.json").exists()  # pix2pix's held-out L1/PSNR/SSIM


MIXED_PRECISION = r"""
import numpy as np, keras, keras_segen
from keras_segen.runs.distribution import dtype_policy
images = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
with dtype_policy("mixed_float16"):
    gan = keras_segen.GAN(keras_segen.get_model("dcgan_generator", "tiny"),
                          keras_segen.get_model("dcgan_discriminator", "tiny"),
                          loss="wgan-gp", ema=0.99)
    gan.compile()
    history = gan.fit(images, batch_size=8, epochs=2, verbose=0).history
finite = all(np.isfinite(v).all() for v in history.values())
print(type(gan.d_optimizer).__name__, int(gan.g_optimizer.iterations), finite,
      keras.backend.standardize_dtype(gan(gan.sample_latent(2)).dtype))
"""


@needs_jax
@in_jax_process
def test_mixed_precision_wgan_gp_with_ema_trains_on_jax(jax_outputs):
    output = jax_outputs["mixed_precision"].split()
    assert output == ["LossScaleOptimizer", "4", "True", "float32"], output


# Two SGD steps of each semi-supervised trainer from the same weights and batches: the
# step written once must give the same numbers on every backend.
SEMI_SUPERVISED = r"""
import json
import numpy as np, keras, keras_segen, tensorflow as tf
rng = np.random.default_rng(0)
images = rng.uniform(0, 1, (4, 32, 32, 3)).astype("float32")
masks = rng.integers(0, 3, (4, 32, 32)).astype("int32")
masks[0, :4] = 255
unlabelled = rng.uniform(0, 1, (4, 32, 32, 3)).astype("float32")
data = tf.data.Dataset.from_tensor_slices(((images, masks), unlabelled)).batch(2)
def fixed(model):
    weights = np.random.default_rng(1)
    model.set_weights([weights.normal(0, 0.2, w.shape).astype("float32")
                       for w in model.get_weights()])
    return model
def segmenter():
    return fixed(keras_segen.get_model("unet", "tiny", batch_norm=False))
out = {}
semi = keras_segen.SemiSupervisedSegmenter(
    segmenter(), fixed(keras_segen.confidence_discriminator((32, 32, 3), filters=4)),
    adversarial_weight=0.5, unlabelled_adversarial_weight=0.5, self_training_weight=1.0,
    warmup_steps=1, pseudo_label_share=0.5)
semi.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
self_training = keras_segen.SelfTrainingSegmenter(
    segmenter(), self_training_weight=1.0, confidence_threshold=0.4, warmup_steps=1)
self_training.compile(keras.optimizers.SGD(0.1))
# Backends draw different colour perturbations: only its pseudo-labels can agree.
colour = keras_segen.SelfTrainingSegmenter(
    segmenter(), self_training_weight=1.0, confidence_threshold=0.4, warmup_steps=1,
    perturbation="colour")
colour.compile(keras.optimizers.SGD(0.0))
for name, trainer in (("semi", semi), ("self_training", self_training), ("colour", colour)):
    history = trainer.fit(data, epochs=1, verbose=0).history
    out[name] = {key: values[-1] for key, values in history.items()}
    out[name + "_weights"] = [float(np.abs(w).sum()) for w in trainer.get_weights()]
print(json.dumps(out))
"""


@needs_jax
@in_jax_process
def test_semi_supervised_steps_agree_on_tensorflow_and_jax(jax_outputs):
    expected = json.loads(run_python(SEMI_SUPERVISED, "tensorflow"))
    got = json.loads(jax_outputs["semi_supervised"])
    assert expected["semi"]["self_training_loss"] > 0 and expected["semi"]["d_loss"] > 0
    assert expected["semi"]["pseudo_label_fraction"] == pytest.approx(0.5, abs=0.01)
    colour, colour_expected = got.pop("colour"), expected.pop("colour")
    expected.pop("colour_weights"), got.pop("colour_weights")
    assert colour["pseudo_label_fraction"] == pytest.approx(
        colour_expected["pseudo_label_fraction"], abs=1e-6
    )
    assert 0 < colour["self_training_loss"] < 10 and 0 < colour_expected["self_training_loss"] < 10
    for key, values in expected.items():
        if isinstance(values, dict):
            assert got[key].keys() == values.keys()
            for metric, value in values.items():
                assert got[key][metric] == pytest.approx(value, rel=1e-3, abs=1e-5), (key, metric)
        else:
            np.testing.assert_allclose(got[key], values, rtol=1e-4, err_msg=key)


SPECTRAL_NORM = r"""
import numpy as np, keras, keras_segen
keras.utils.set_random_seed(0)
critic = keras_segen.conditional_discriminator(
    (32, 32, 3), num_classes=3, filters=4, norm=None, spectral_normalization=True)
layer = critic.get_layer("down1_conv_sn")
before = keras.ops.convert_to_numpy(layer.vector_u).copy()
gan = keras_segen.ConditionalGAN(
    keras_segen.get_model("conditional_generator", "tiny"), critic, num_classes=3, loss="hinge")
gan.compile()
images = np.random.default_rng(0).uniform(-1, 1, (48, 32, 32, 3)).astype("float32")
labels = np.arange(48) % 3
history = gan.fit(images, labels, batch_size=8, epochs=1, verbose=0).history
kernel = keras.ops.convert_to_numpy(layer.normalized_kernel()).reshape(-1, 4)
print(not np.allclose(keras.ops.convert_to_numpy(layer.vector_u), before),
      all(np.isfinite(v).all() for v in history.values()),
      round(float(np.linalg.svd(kernel, compute_uv=False)[0]), 3))
"""


@needs_jax
@in_jax_process
def test_spectral_normalisation_trains_on_jax(jax_outputs):
    """u updates through JAX's stateless step like BatchNorm statistics; sigma(W/sigma) ~ 1."""
    output = jax_outputs["spectral_norm"].split()
    # One power iteration per step: after 2 steps from a random u the estimate was still 12%
    # off (1.117 in CI); after 6 it agrees to 1e-5. The raw kernel's sigma is about 0.16.
    assert output[:2] == ["True", "True"] and abs(float(output[2]) - 1.0) < 0.02, output


QUANTIZATION_AWARE = r"""
import numpy as np, keras, keras_segen
model = keras_segen.get_model("unet", "tiny")
before = [w.copy() for w in model.get_weights()]
view = keras_segen.quantization_aware(model)
view.compile(keras.optimizers.Adam(1e-3), keras_segen.losses.CrossEntropy())
rng = np.random.default_rng(0)
images = rng.random((8, 32, 32, 3), "float32")
view.fit(images, rng.integers(0, 3, (8, 32, 32)), batch_size=4, epochs=1, verbose=0)
ranges = [l for l in view.layers if isinstance(l, keras_segen.layers.FakeQuant)]
plain = keras_segen.without_fake_quantization(view)
print(not all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())),
      all(float(l.observed) == 1.0 and float(l.maximum) > float(l.minimum) for l in ranges),
      np.array_equal(plain.predict(images, verbose=0), model.predict(images, verbose=0)))
"""


@needs_jax
@in_jax_process
def test_quantization_aware_fine_tuning_on_jax(jax_outputs):
    """The view trains in JAX's stateless step: weights move, every range is observed."""
    output = jax_outputs["quantization_aware"].split()
    assert output == ["True", "True", "True"], output


FROZEN_ENCODER = r"""
import numpy as np, keras, keras_segen
model = keras_segen.unet((32, 32, 3), 3, backbone="mobilenetv2", freeze_backbone=True,
                         backbone_kwargs={"alpha": 0.35}, decoder_filters=(8,) * 5)
encoder = model.get_layer("encoder")
before = [w.copy() for w in encoder.get_weights()]
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
images = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
history = model.fit(images, np.zeros((4, 32, 32), "int32"), epochs=1, verbose=0).history
dilated = keras_segen.deeplabv3_plus((32, 32, 3), 3, backbone="resnet50", output_stride=8,
                                     aspp_filters=8)
print(all(np.array_equal(a, b) for a, b in zip(encoder.get_weights(), before)),
      bool(np.isfinite(history["loss"][0])), tuple(dilated(images[:1]).shape))
"""


@needs_jax
@in_jax_process
def test_frozen_pretrained_style_encoder_trains_on_jax(jax_outputs):
    """The seam's models (preprocessing, dilation, a frozen encoder) under JAX."""
    assert jax_outputs["frozen_encoder"].split() == ["True", "True", "(1,", "32,", "32,", "3)"]
