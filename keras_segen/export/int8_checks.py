"""Checks of int8 ``.tflite`` files that the converter writes without complaint but that
compute garbage or do not load: what XNNPACK refuses, and data-movement operators whose
output came out with other quantisation parameters than their input."""

import os

import numpy as np

# Operators whose int8 kernels move bytes without requantising: their output must have their
# data input's scale and zero point, which the converter does not always give (REVERSE_V2).
BYTE_COPIES = (
    "DEPTH_TO_SPACE", "EXPAND_DIMS", "GATHER", "RESHAPE", "REVERSE_V2", "SLICE",
    "SPACE_TO_DEPTH", "SQUEEZE", "STRIDED_SLICE", "TILE", "TRANSPOSE",
)  # fmt: skip


def requantisation_gaps(interpreter):
    """``[(op name, output tensor name, input (scale, zero point), output (scale, zero
    point))]`` for every int8 byte-copy operator (``BYTE_COPIES``) of an opened TFLite
    interpreter whose output quantisation differs from its data input's."""
    details = {detail["index"]: detail for detail in interpreter.get_tensor_details()}
    gaps = []
    for op in interpreter._get_ops_details():
        if op["op_name"] not in BYTE_COPIES:
            continue
        given = details[int(op["inputs"][0])]["quantization"]
        for index in op["outputs"]:
            target = details[int(index)]
            if target["dtype"] not in (np.int8, np.uint8, np.int16):
                continue
            got = target["quantization"]
            if given[1] != got[1] or not np.isclose(given[0], got[0], rtol=1e-5):
                gaps.append((op["op_name"], target["name"].split(";")[0], given, got))
    return gaps


def check_byte_copies(interpreter, path):
    """Raises ``ValueError`` naming the operators ``requantisation_gaps`` finds in ``path``."""
    gaps = requantisation_gaps(interpreter)
    if not gaps:
        return
    listed = "; ".join(
        f"{op} {name!r}: input scale {source[0]:.3g} (zero point {source[1]}), output "
        f"{target[0]:.3g} ({target[1]})"
        for op, name, source, target in gaps[:5]
    )
    raise ValueError(
        f"{os.fspath(path)}: the int8 converter gave {len(gaps)} operator(s) that copy bytes "
        f"without requantising other output parameters than their input ({listed}), so "
        "their outputs would be wrong. Replace the layer behind them (a channel flip by a 1x1 "
        "convolution or keras.ops.take, for example), or export float16."
    )


def xnnpack_refusal(path, interpreter, runtime):
    """What to tell a user whose ``.tflite`` file the XNNPACK delegate refuses to prepare."""
    details = {detail["index"]: detail for detail in interpreter.get_tensor_details()}
    activations = [  # the outputs of operators, not their weights
        details[int(index)] for op in interpreter._get_ops_details() for index in op["outputs"]
    ]
    quantized = [d for d in activations if np.issubdtype(d["dtype"], np.integer)]
    largest = max(quantized, key=lambda d: d["quantization"][0], default=None)
    message = (
        f"{os.fspath(path)} does not run with XNNPACK, the CPU delegate of {runtime} and of "
        "most TFLite runtimes on devices: it refused to prepare the graph. XNNPACK's int8 "
        "kernels need every operator's input scale times its weight scale to be under 256 "
        "times its output scale."
    )
    if largest is not None:
        scale, name = largest["quantization"][0], largest["name"].split(";")[0]
        message += (
            f" The largest int8 activation scale here is {scale:.3g} ({name!r}: "
            f"values up to about {128 * scale:.3g}); scales in the thousands come from a "
            "float model whose activations blew up in training (it may still look right "
            "in float)."
        )
    return message + " Export it as float16 or float32, or retrain it (lower learning rate)."
