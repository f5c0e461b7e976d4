"""Training throughput of one U-Net: the library's pipeline against the naive way, in one run.

Usage:
    python benchmarks/train_throughput.py [--image-size 64] [--examples 1024] [--epochs 2]

"pipeline": ``load_segmentation("shapes", ...)`` (parallel map, cache, prefetch) and the
quickstart's compile settings (XLA). "naive": ``model.fit`` on NumPy arrays, no prefetch,
no XLA. Both train the same model from the same initial weights on the same examples; the
first epoch of each (tracing, compilation, cache fill) is left out of the figure.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_segen  # noqa: E402


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def _model(image_size, jit_compile, weights=None):
    model = keras_segen.get_model("unet", "small", input_shape=(image_size, image_size, 3))
    if weights is not None:
        model.set_weights(weights)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras_segen.losses.CEDiceLoss(),
        metrics=[keras_segen.metrics.MeanIoU(4)],
        jit_compile=jit_compile,
    )
    return model


def measure(fit, examples, epochs):
    """Images per second over the epochs after the first."""
    timer = _EpochTimer()
    fit(epochs + 1, timer)
    return examples * epochs / sum(timer.times[1:])


def main():
    """Trains both ways and prints images per second and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    dataset = keras_segen.data.load_segmentation(
        "shapes", "train", args.image_size, args.batch_size, num_examples=args.examples
    )
    images, masks = (np.concatenate(parts) for parts in zip(*dataset.as_numpy_iterator()))
    weights = _model(args.image_size, False).get_weights()

    pipeline_model = _model(args.image_size, True, weights)
    pipeline = measure(
        lambda epochs, timer: pipeline_model.fit(
            dataset, epochs=epochs, callbacks=[timer], verbose=0, shuffle=False
        ),
        args.examples,
        args.epochs,
    )
    naive_model = _model(args.image_size, False, weights)
    naive = measure(
        lambda epochs, timer: naive_model.fit(
            images, masks, batch_size=args.batch_size, epochs=epochs, callbacks=[timer], verbose=0
        ),
        args.examples,
        args.epochs,
    )
    print(
        f"U-Net (filters 8, depth 4), {args.image_size}x{args.image_size}, batch "
        f"{args.batch_size}, {args.examples} examples, {os.cpu_count()} CPU cores"
    )
    print(f"pipeline (tf.data cache+prefetch, XLA): {pipeline:8.1f} images/s")
    print(f"naive (NumPy arrays, no prefetch/XLA):  {naive:8.1f} images/s")
    print(f"speed-up: {pipeline / naive:.2f}x")


if __name__ == "__main__":
    main()
