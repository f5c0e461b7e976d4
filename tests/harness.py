"""The shared test harness (keras-hub's TestCase idea): every registered model and every
generation recipe goes through these checks, parametrised from the registry.

- ``run_builder_test(name)``: the ``tiny`` preset builds a functional model whose outputs
  are finite and shaped as the preset says, that ``get_model`` and the builder agree on,
  that survives a ``.keras`` round trip bit for bit and gives float32 outputs under
  ``mixed_float16``.
- ``run_trainer_test(recipe)``: the recipe's trainer on tiny networks trains with finite
  losses, its reconstruction loss falls (VAE, pix2pix), it round-trips through ``.keras``
  with its optimizer state, and under ``mixed_float16`` it samples float32 images.
- ``run_export_test(model)``: SavedModel, ONNX and float TFLite artifacts match Keras.
"""

import keras
import numpy as np

import keras_segen
from keras_segen.inference import predict_batch
from keras_segen.runs.config import RunConfig
from keras_segen.runs.distribution import dtype_policy
from keras_segen.runs.generation import build_trainer
from keras_segen.trainers.base import optimizers_in_use
from keras_segen.trainers.recipes import get_recipe
from tests.helpers import sample_inputs

TINY_RUN = {
    "image_size": 32, "channels": 3, "latent_dim": 8, "filters": 4, "d_filters": 4,
    "ema": None, "seed": 0,
}  # fmt: skip
TINY_CLASSES = 3
# SPADE's generator starts at H / 32, which must be at least 2 pixels.
TINY_SIZE = {"spade": 64}
# The loss that must fall within a few epochs (adversarial losses need not fall).
FALLING_LOSS = {"vae": "reconstruction_loss", "pix2pix": "l1_loss"}


def run_builder_test(name, tmp_path):
    """Checks the ``tiny`` preset of a registered model (see the module docstring)."""
    entry = keras_segen.model_entry(name)
    config = entry.config("tiny")
    model = keras_segen.get_model(name, "tiny")
    assert isinstance(model, keras.Model) and model.name
    assert model.get_config() == entry.builder(**config).get_config()
    inputs = sample_inputs(model, count=2)
    outputs = model(inputs)
    arrays = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(outputs)]
    assert all(np.all(np.isfinite(a)) and a.dtype == np.float32 for a in arrays)
    if entry.task == "segmentation":
        height, width, _ = config["input_shape"]
        assert arrays[0].shape == (2, height, width, config["num_classes"])
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    for got, expected in zip(keras.tree.flatten(restored(inputs)), arrays):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), expected)
    with dtype_policy("mixed_float16"):
        mixed = keras_segen.get_model(name, "tiny")
    for output in keras.tree.flatten(mixed(inputs)):
        assert keras.backend.standardize_dtype(output.dtype) == "float32", name


def tiny_data(recipe, count=8, seed=0, size=32):
    """A NumPy training set in the form the recipe's trainer takes."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (count, size, size, 3)).astype("float32")
    if recipe.data == "images":
        return images
    labels = rng.integers(0, TINY_CLASSES, count).astype("int32")
    if recipe.data == "labelled_images":
        return images, labels
    maps = np.arange(size) * TINY_CLASSES // size
    maps = np.broadcast_to(maps, (count, size, size)).astype("int32")
    return maps, np.repeat((maps[..., None] / (TINY_CLASSES - 1)) * 2 - 1, 3, -1).astype("float32")


def run_trainer_test(name, tmp_path, epochs=6):
    """Checks a generation recipe's trainer on tiny networks (see the module docstring)."""
    recipe = get_recipe(name)
    size = TINY_SIZE.get(name, TINY_RUN["image_size"])
    config = RunConfig.from_kwargs(
        "generation", model=name, **{**TINY_RUN, "image_size": size},
        learning_rate=recipe.learning_rate, d_learning_rate=recipe.d_learning_rate,
    )  # fmt: skip
    keras.utils.set_random_seed(0)
    trainer = build_trainer(recipe, config, TINY_CLASSES)
    data = tiny_data(recipe, size=size)
    fit_args = (data,) if not isinstance(data, tuple) else data
    history = trainer.fit(*fit_args, batch_size=4, epochs=epochs, verbose=0).history
    assert history and all(np.all(np.isfinite(values)) for values in history.values()), history
    if name in FALLING_LOSS:
        losses = history[FALLING_LOSS[name]]
        assert losses[-1] < losses[0], (name, losses)
    path = tmp_path / f"{name}.keras"
    trainer.save(path)
    restored = keras.models.load_model(path)
    before = list(optimizers_in_use(trainer).values())
    after = list(optimizers_in_use(restored).values())
    assert len(before) == len(after) == recipe.optimizers
    for original, loaded in zip(before, after):
        assert int(loaded.iterations) == int(original.iterations) > 0
        for a, b in zip(original.variables, loaded.variables):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            )
    with dtype_policy("mixed_float16"):
        mixed = build_trainer(recipe, config, TINY_CLASSES)
    generated = predict_batch(mixed, _generator_inputs(recipe, data))
    assert keras.backend.standardize_dtype(generated.dtype) == "float32", name


def _generator_inputs(recipe, data, count=2):
    """What the trainer's ``call`` (its generator or decoder) takes."""
    if recipe.data == "label_maps":
        return data[0][:count]
    latent = np.random.default_rng(1).normal(size=(count, TINY_RUN["latent_dim"]))
    latent = latent.astype("float32")
    if recipe.data == "labelled_images":
        return [latent, np.arange(count, dtype="int32") % TINY_CLASSES]
    return latent


def run_export_test(model, tmp_path, samples):
    """SavedModel, ONNX and TFLite (float32, float16, dynamic) artifacts match Keras.

    Float artifacts within 1e-4, float16 within 1e-2 and smaller than float32, dynamic-range
    int8 weights within 0.05 on average (or 1% of the output range, for outputs spanning
    more than 5: int8 rounding is relative); the TFLite file uses built-in ops only.
    """
    from keras_segen import export

    reports = {
        "saved_model": export.verify(
            model, export.to_saved_model(model, tmp_path / "saved_model"), samples
        ),
        "onnx": export.verify(model, export.to_onnx(model, tmp_path / "model.onnx"), samples),
    }
    for quantization in (None, "float16", "dynamic"):
        path = export.to_tflite(model, tmp_path / f"{quantization}.tflite", quantization)
        reports[f"tflite-{quantization}"] = export.verify(model, path, samples)
    for key in ("saved_model", "onnx", "tflite-None"):
        assert reports[key]["max_abs_diff"] <= 1e-4, (key, reports[key])
    assert reports["tflite-float16"]["max_abs_diff"] <= 1e-2, reports["tflite-float16"]
    dynamic = reports["tflite-dynamic"]
    assert dynamic["mean_abs_diff"] <= max(0.05, 0.01 * dynamic["output_range"]), dynamic
    assert reports["tflite-float16"]["size_bytes"] < reports["tflite-None"]["size_bytes"]
    ops = export.inspect(tmp_path / "None.tflite")["ops"]
    assert "FlexDelegate" not in " ".join(ops) and all(op.isupper() for op in ops)
    return reports
