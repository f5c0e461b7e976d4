"""``import keras_segen`` is lazy, yet saved models load whatever the import order."""

import keras
import pytest

import keras_segen
from tests.helpers import run_python


def test_import_keras_segen_alone_imports_no_keras():
    out = run_python(
        "import sys, keras_segen\n"
        "heavy = sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)\n"
        "print(keras_segen.__version__, heavy)"
    )
    assert out.strip() == f"{keras_segen.__version__} []"


@pytest.mark.parametrize("imports", ["import keras_segen, keras", "import keras, keras_segen"])
def test_saved_custom_objects_load_without_touching_the_package(imports, tmp_path):
    """SegNet's layers and the CE + Dice loss are keras_segen classes: loading needs them
    registered, though the script never uses a keras_segen name."""
    model = keras_segen.segnet((32, 32, 3), num_classes=3, filters=4)
    model.compile("adam", keras_segen.losses.CEDiceLoss())
    path = tmp_path / "segnet.keras"
    model.save(path)
    out = run_python(
        f"{imports}\n"
        f"model = keras.models.load_model({str(path)!r})\n"
        "print(type(model.loss).__name__, model.count_params())"
    )
    assert out.split() == ["CEDiceLoss", str(model.count_params())]
    keras.backend.clear_session(free_memory=False)
