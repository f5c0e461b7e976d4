"""Registry: names, tasks and the errors for unknown ones."""

import importlib.metadata

import pytest

import keras_segen
from keras_segen import registry


def test_list_models_by_task():
    assert keras_segen.list_models("segmentation") == [
        "deeplabv3_plus",
        "fcn",
        "fpn",
        "linknet",
        "pspnet",
        "reseg",
        "segnet",
        "unet",
        "unet_plus_plus",
    ]
    assert set(keras_segen.list_models("segmentation")) <= set(keras_segen.list_models())


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown model 'unet3'; registered models: .*unet"):
        keras_segen.get_model("unet3")
    with pytest.raises(ValueError) as error:
        keras_segen.get_model("bisenet")
    for name in keras_segen.list_models():
        assert name in str(error.value)


def test_unknown_task_is_rejected():
    with pytest.raises(
        ValueError, match=r"task must be None or one of \('segmentation', 'generation'\)"
    ):
        keras_segen.list_models("detection")


def test_entries_name_their_paper_and_defaults():
    entry = keras_segen.model_entry("unet")
    assert entry.task == "segmentation"
    assert "Ronneberger" in entry.paper
    assert entry.defaults["filters"] == 64 and entry.defaults["depth"] == 4
    assert entry.summary == "Builds a U-Net."


def test_register_and_reject_duplicates(monkeypatch):
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))

    @keras_segen.register_model("segmentation", paper="Test 2026")
    def toy_net(input_shape=(8, 8, 3), num_classes=2):
        """Builds a toy."""
        return (input_shape, num_classes)

    assert keras_segen.get_model("toy_net", num_classes=5) == ((8, 8, 3), 5)
    with pytest.raises(ValueError, match="already registered"):
        keras_segen.register_model("segmentation", paper="x")(toy_net)
    with pytest.raises(ValueError, match="task must be one of"):
        keras_segen.register_model("audio", paper="x")


def test_version_matches_the_installed_distribution():
    assert keras_segen.__version__ == importlib.metadata.version("keras_segen")
