"""Every registered model and every generation recipe through the shared harness."""

import pytest

import keras_segen
from keras_segen.trainers import list_recipes
from tests.harness import run_builder_test, run_trainer_test


def test_every_registered_model_has_a_tiny_preset():
    missing = [n for n in keras_segen.list_models() if "tiny" not in keras_segen.list_presets(n)]
    assert not missing


@pytest.mark.parametrize("name", keras_segen.list_models())
def test_builder(name, tmp_path):
    run_builder_test(name, tmp_path)


@pytest.mark.parametrize("recipe", list_recipes())
def test_trainer(recipe, tmp_path):
    run_trainer_test(recipe, tmp_path)
