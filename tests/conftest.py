import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The tests' programs are tiny: XLA's LLVM optimisation passes cost more compile time than
# they save in run time (JAX subprocess tests take ~30% less time without them). Inherited
# by every subprocess the tests start.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
)

import gc  # noqa: E402

import keras  # noqa: E402
import pytest  # noqa: E402

# Fewer cyclic garbage collections: a test process holds millions of TensorFlow and Keras
# objects, and every full collection walks them all (test_runs.py spent 13 s of 178 in
# the collector with Python's defaults, 5 s with these).
gc.set_threshold(50_000, 20, 20)


def pytest_configure(config):
    """One JAX compilation cache per test session, shared by its processes: the JAX
    subprocess tests compile many of the same small programs (initialisers and layers of the
    tiny presets), which each process then compiles once between them. Set before xdist
    starts its workers, which inherit it with every subprocess they start."""
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    folder = tempfile.mkdtemp(prefix="keras_segen_tests_jax_cache_")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = folder
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Every test starts from the same seed and the float32 policy."""
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished one-epoch U-Net run on 16 shapes (per test process); copy it before writing
    into it (``copy_of_tiny_run``)."""
    import keras_segen

    out = tmp_path_factory.mktemp("shared_run") / "run"
    keras.utils.set_random_seed(0)
    keras_segen.train(
        "unet", "shapes", image_size=32, batch_size=8, num_examples=16, validation_examples=8,
        model_kwargs={"filters": 4, "depth": 2}, epochs=1, out=str(out), verbose=0,
    )  # fmt: skip
    return out


@pytest.fixture
def copy_of_tiny_run(tiny_run, tmp_path):
    """A private copy of ``tiny_run`` that a test may evaluate, predict or export into."""
    import shutil

    return shutil.copytree(tiny_run, tmp_path / "run")
