"""The run configuration: one set of fields for the Python API, config.json and the CLI."""

import pytest

from keras_segen import cli
from keras_segen.runs.config import RunConfig, section_fields
from keras_segen.runs.config_fields import LOSSES
from keras_segen.runs.defaults import batchnorm_momentum, choose_defaults


def test_flat_options_round_trip_through_config_json_form():
    config = RunConfig.from_kwargs(
        "segmentation", model="segnet", image_size=(64, 96), epochs=3, warmup=1,
        model_kwargs={"filters": 8}, strategy="mirrored",
    )  # fmt: skip
    stored = config.to_dict()
    assert stored["data"]["image_size"] == [64, 96]  # JSON has no tuples
    assert stored["model"]["model_kwargs"] == {"filters": 8}
    assert stored["distribution"]["strategy"] == "mirrored"
    assert RunConfig.from_dict(stored) == config
    assert config.flat()["warmup"] == 1 and config.model.model == "segnet"
    assert "schedule" not in RunConfig.from_kwargs("generation").to_dict()["training"]


def test_unknown_options_and_old_config_files_are_refused():
    with pytest.raises(TypeError, match="Unknown segmentation run option.*batchsize"):
        RunConfig.from_kwargs("segmentation", batchsize=4)
    with pytest.raises(TypeError, match="Unknown generation run option.*loss"):
        RunConfig.from_kwargs("generation", loss="ce")
    with pytest.raises(ValueError, match="written by an older keras_segen"):
        RunConfig.from_dict({"task": "segmentation", "model": "unet", "epochs": 3})


@pytest.mark.parametrize("task, command", [("segmentation", "train"), ("generation", "train-gan")])
def test_every_field_is_a_cli_option_with_its_default_in_the_help(task, command, capsys):
    parser = cli.build_parser()
    args = parser.parse_args([command])
    assert not set(section_fields(task)) & set(vars(args))  # unset: the config decides
    with pytest.raises(SystemExit):
        parser.parse_args([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for name, (_, field) in section_fields(task).items():
        assert "--" + name.replace("_", "-") in help_text, name
        assert field.metadata["help"], name
    if task == "segmentation":
        assert "--image-size IMAGE_SIZE training size, S or HxW (default: 128 px)" in help_text
        assert "--warmup WARMUP linear learning-rate warm-up from 0 (default: 0 epochs)" in (
            help_text
        )
        assert "--schedule {cosine,constant}" in help_text
    assert "--out OUT run directory to create (default: runs/" in help_text


def test_cli_values_are_typed_as_the_fields():
    parser = cli.build_parser()
    args = parser.parse_args([
        "train", "--image-size", "64x96", "--model-kwargs", '{"depth": 2}', "--epochs", "3",
        "--no-tensorboard", "--learning-rate", "0.01",
    ])  # fmt: skip
    assert (args.image_size, args.model_kwargs, args.epochs) == ((64, 96), {"depth": 2}, 3)
    assert args.tensorboard is False and args.learning_rate == 0.01
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--schedule", "step"])


def test_the_loss_names_match_the_library():
    from keras_segen.losses import SEGMENTATION_LOSSES

    assert set(LOSSES) == set(SEGMENTATION_LOSSES)


def test_small_data_defaults_worked_by_hand():
    config = RunConfig.from_kwargs("segmentation")
    said = choose_defaults(config, 43, ("paper", "small"))
    # 43 images: batch 8 -> 6 steps per epoch; 300 steps need 50 epochs; momentum
    # 1 - 10 / 300.
    assert (config.data.batch_size, config.model.preset, config.training.epochs) == (
        8, "small", 50,
    )  # fmt: skip
    assert config.model.batchnorm_momentum == pytest.approx(0.9667)
    assert any("50 epochs (6 steps per epoch" in line for line in said)
    large = RunConfig.from_kwargs("segmentation")
    assert choose_defaults(large, 4000, ("paper", "small")) == []
    assert (large.data.batch_size, large.model.preset, large.training.epochs) == (16, None, 10)
    assert large.model.batchnorm_momentum == 0.99  # 2500 steps: Keras' own
    few = RunConfig.from_kwargs("segmentation", epochs=2, batch_size=16, preset="paper")
    said = choose_defaults(few, 48, ("paper", "small"))
    assert few.model.preset == "paper" and few.model.batchnorm_momentum == 0.5
    assert said[-1].startswith("warning: only 6 training steps (3 per epoch)")
    assert batchnorm_momentum(1000) == 0.99 and batchnorm_momentum(20) == 0.5


def test_generation_runs_take_the_recipe_values_left_unset():
    from keras_segen.runs.generation import build_trainer, choose_recipe_defaults
    from keras_segen.trainers.recipes import get_recipe

    pix2pix = RunConfig.from_kwargs("generation", model="pix2pix")
    choose_recipe_defaults(pix2pix)
    assert pix2pix.data.dataset == get_recipe("pix2pix").dataset == "shapes_coloured"
    dcgan = RunConfig.from_kwargs("generation", model="dcgan", dataset="mine", filters=4,
                                  d_filters=4, latent_dim=8)  # fmt: skip
    said = choose_recipe_defaults(dcgan)
    assert dcgan.data.dataset == "mine" and dcgan.model.filters == 4  # the user's values stay
    assert dcgan.model.ema == get_recipe("dcgan").ema == 0.99 and "ema 0.99" in said[0]
    assert build_trainer(get_recipe("dcgan"), dcgan, None).ema == 0.99
    off = RunConfig.from_kwargs("generation", model="dcgan", ema=0.0, filters=4, d_filters=4,
                                latent_dim=8)  # fmt: skip
    choose_recipe_defaults(off)
    assert build_trainer(get_recipe("dcgan"), off, None).ema_generator is None  # --ema 0: off
