"""ReSeg / ReNet: recurrent sweeps give every pixel its row, its column, then the image."""

import keras
import numpy as np
import pytest

import keras_segen
from keras_segen.layers import PatchesToChannels, ReNetSweep


def _changed(layer_or_model, x, row, col):
    bumped = x.copy()
    bumped[0, row, col] += 1.0
    diff = np.abs(np.asarray(layer_or_model(bumped)) - np.asarray(layer_or_model(x)))
    return diff.max(axis=-1)[0] > 1e-7


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_horizontal_sweep_reaches_exactly_the_row(cell):
    x = np.random.default_rng(0).random((1, 5, 6, 2)).astype("float32")
    changed = _changed(ReNetSweep(3, cell=cell), x, row=2, col=1)
    expected = np.zeros((5, 6), bool)
    expected[2] = True
    np.testing.assert_array_equal(changed, expected)


def test_vertical_sweep_reaches_exactly_the_column():
    x = np.random.default_rng(0).random((1, 5, 6, 2)).astype("float32")
    changed = _changed(ReNetSweep(3, direction="vertical"), x, row=2, col=4)
    expected = np.zeros((5, 6), bool)
    expected[:, 4] = True
    np.testing.assert_array_equal(changed, expected)
    assert ReNetSweep(3)(x).shape == (1, 5, 6, 6)  # forward and backward states


def test_reseg_has_a_global_receptive_field():
    model = keras_segen.reseg(
        (32, 32, 3),
        num_classes=2,
        stem_filters=(4,),
        renet_units=(4,),
        patch_sizes=(2,),
        upsampling_filters=4,
    )
    x = np.random.default_rng(1).random((1, 32, 32, 3)).astype("float32")
    renet = keras.Model(model.input, model.get_layer("renet1_columns").output)
    assert _changed(renet, x, row=0, col=0).all()  # every position of the 8x8 map
    assert _changed(model, x, row=0, col=0)[16:, 16:].any()  # the far quadrant


def test_patches_to_channels_by_hand():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    y = np.asarray(PatchesToChannels(2)(x))
    assert y.shape == (1, 2, 2, 4)
    np.testing.assert_array_equal(y[0, 0, 0], [0, 1, 4, 5])
    np.testing.assert_array_equal(y[0, 1, 1], [10, 11, 14, 15])


def test_total_stride_and_lstm_round_trip(tmp_path):
    model = keras_segen.reseg(
        (64, 64, 3),
        num_classes=3,
        stem_filters=(4, 4),
        renet_units=(4, 4),
        patch_sizes=(2, 2),
        cell="lstm",
        upsampling_filters=4,
    )
    assert model.get_layer("renet2_columns").output.shape[1] == 64 // 16
    assert sum(layer.name.startswith("upsample") for layer in model.layers) == 4
    model.save(tmp_path / "reseg.keras")
    restored = keras.models.load_model(tmp_path / "reseg.keras")
    x = np.random.rand(1, 64, 64, 3).astype("float32")
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(restored(x)))
    with pytest.raises(ValueError, match="stride 16"):
        keras_segen.reseg((40, 64, 3), stem_filters=(4, 4), renet_units=(4, 4), patch_sizes=(2, 2))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cell="rnn"), r"cell must be one of \('gru', 'lstm'\)"),
        (dict(patch_sizes=(3, 1)), "must be a power of two"),
        (dict(patch_sizes=(2,)), "one entry per ReNet layer"),
        (dict(stem_filters=()), "stem_filters must be a non-empty tuple"),
        (dict(renet_units=(8, 0)), "every entry of renet_units must be an integer >= 1"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_segen.reseg(**kwargs)


def test_forward_states_look_left_and_backward_states_look_right():
    x = np.random.default_rng(2).random((1, 1, 7, 2)).astype("float32")
    sweep = ReNetSweep(3)
    bumped = x.copy()
    bumped[0, 0, 3] += 1.0
    diff = np.abs(np.asarray(sweep(bumped)) - np.asarray(sweep(x)))[0, 0] > 1e-7
    forward, backward = diff[:, :3].any(-1), diff[:, 3:].any(-1)
    np.testing.assert_array_equal(forward, [False, False, False, True, True, True, True])
    np.testing.assert_array_equal(backward, [True, True, True, True, False, False, False])


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_unrolled_sweeps_equal_the_loop_and_round_trip(cell):
    x = np.random.default_rng(3).random((2, 5, 6, 3)).astype("float32")
    loop = ReNetSweep(4, cell=cell, direction="vertical")
    loop(x)
    unrolled = ReNetSweep.from_config({**loop.get_config(), "unroll": True})
    unrolled(x)
    unrolled.set_weights(loop.get_weights())
    assert unrolled.forward_rnn.unroll and unrolled.backward_rnn.unroll
    np.testing.assert_allclose(np.asarray(unrolled(x)), np.asarray(loop(x)), atol=1e-6)
    assert ReNetSweep.from_config(unrolled.get_config()).unroll
