"""The quickstart: a U-Net on the embedded shapes data, evaluated, plotted and exported."""

import os
import shutil
import time

from keras_segen.data.arrays import tensorflow_available
from keras_segen.runs.export import export_run
from keras_segen.runs.segmentation import train

QUICKSTART = dict(
    model="unet",
    preset="small",
    dataset="shapes",
    image_size=64,
    num_examples=4000,
    validation_examples=200,
    epochs=6,
    batch_size=8,
    learning_rate=2e-3,
    schedule="cosine",
    augment="none",
    jit_compile=True,
)


def quickstart(out="runs/quickstart", verbose=1, progress=None, **overrides):
    """Trains a U-Net on the embedded shapes data, evaluates, plots and exports it to int8.

    The settings (``QUICKSTART``) take about four minutes on a 2-core CPU; keyword
    arguments override them (e.g. ``epochs=1, num_examples=64, jit_compile=False`` for a
    smoke test, too short to repay XLA's compilation).
    ``verbose`` and ``progress`` are ``train``'s; the summary and the file paths are always
    printed.

    Returns:
        The held-out report (``metrics.json``) with the int8 TFLite export's report under
        ``"export"`` (``export_run``).

    Example:
        >>> report = keras_segen.quickstart("runs/quickstart")  # doctest: +SKIP
        >>> report = keras_segen.quickstart("runs/smoke", verbose=0, epochs=1, image_size=32,
        ...     num_examples=32, validation_examples=16, jit_compile=False)  # a smoke test
        <BLANKLINE>
        quickstart: held-out mean IoU ... (16 test images) after ... s
          runs/smoke/metrics.json
          runs/smoke/curves.png
          runs/smoke/predictions.png
          runs/smoke/best.keras
        quickstart: int8 TFLite runs/smoke/model_int8.tflite (... kB): argmax agreement ...
        >>> report["export"]["artifact"]
        'runs/smoke/model_int8.tflite'
    """
    settings = {**QUICKSTART, **overrides}
    if os.path.exists(os.path.join(out, "state.json")):
        print(f"quickstart: replacing the previous quickstart run in {out}")
        shutil.rmtree(out)
    start = time.perf_counter()
    report = train(out=out, verbose=verbose, progress=progress, **settings)
    print(
        f"\nquickstart: held-out mean IoU {report['mean_iou']:.4f} "
        f"({report['images']} test images) after {time.perf_counter() - start:.0f} s"
    )
    for name in ("metrics.json", "curves.png", "predictions.png", "best.keras"):
        print(f"  {os.path.join(out, name)}")
    if not tensorflow_available():
        print("quickstart: the int8 TFLite export needs TensorFlow, which is not installed; "
              "skipped (pip install tensorflow, then keras-segen export RUN_DIR).")  # fmt: skip
        return report
    exported = export_run(out, "tflite", quantize="int8", num_samples=32)
    print(
        f"quickstart: int8 TFLite {exported['artifact']} ({exported['size_bytes'] / 1e3:.0f} kB): "
        f"argmax agreement with Keras {exported['argmax_agreement']:.4f}, mean IoU change "
        f"{exported['miou_change']:+.4f}, {exported['speedup']:.1f}x the speed of the eager "
        "Keras model per image"
    )
    report["export"] = exported
    return report
