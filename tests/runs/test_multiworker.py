"""Multi-worker runs with real worker processes on 127.0.0.1 (TF_CONFIG): two workers train
like one worker of the same global batch, a lost worker is restarted and the run ends
with every epoch, a worker without peers fails after its timeout naming them; the same
arithmetic for two JAX processes (jax.distributed)."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

needs_jax = pytest.mark.skipif(not importlib.util.find_spec("jax"), reason="needs jax")

pytestmark = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="tf.distribute needs the TensorFlow backend",
)

# U-Net without BatchNorm and with the cross-entropy loss: a batch-mean loss over two
# halves of a batch is the loss of the batch, so the arithmetic of synchronous data
# parallelism makes two workers of batch 4 the same as one worker of batch 8. One batch per
# epoch: under a strategy Keras reads a batch before the first epoch to build the model,
# which moves the data order one reshuffle on, so only the set of each step's examples
# matches a run without a strategy.
RUN = dict(model="unet", preset="tiny", model_kwargs={"batch_norm": False}, loss="ce",
           dataset="shapes", num_examples=8, validation_examples=8, image_size=32,
           batch_size=8, epochs=2, augment="none", tensorboard=False)  # fmt: skip
TRAIN = "import json, sys, keras_segen; keras_segen.train(**json.loads(sys.argv[1]), verbose=0)"


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def worker_env(addresses, index, backend="tensorflow"):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("KERAS_SEGEN_WORKER_RESTARTS", None)
    if addresses is not None:
        cluster = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        env["TF_CONFIG"] = json.dumps(cluster)
    return env


def start(command, cwd, env, log):
    """A worker process; its stdout and stderr go to ``log``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(env, PYTHONPATH=os.pathsep.join([root, env.get("PYTHONPATH", "")]))
    with open(log, "a") as file:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=file, stderr=file)


def finish(process, log, timeout=420):
    """Waits for ``process`` (SIGKILL after ``timeout``: TensorFlow ignores SIGTERM while
    it waits for peers); returns its log."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with open(log) as file:
        return file.read()


def weights_of(path):
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


def train_in_processes(tmp_path, backend, options_of):
    """Trains ``RUN`` as workers 0 and 1 and as one process alone, each in a folder of its
    own (nothing shared; ``options_of(index, addresses)`` adds a worker's distribution
    options), and checks that the chief's run matches the single one."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    runs = {}
    for name, index in (("w0", 0), ("w1", 1), ("one", None)):
        folder = tmp_path / name
        folder.mkdir()
        extra = options_of(index, addresses) if index is not None else {}
        command = [sys.executable, "-c", TRAIN, json.dumps(dict(RUN, out="run", **extra))]
        log = str(folder / "log.txt")
        cluster = addresses if index is not None and backend == "tensorflow" else None
        env = worker_env(cluster, index or 0, backend)
        runs[name] = (start(command, folder, env, log), log)
    for name, (process, log) in runs.items():
        output = finish(process, log)
        assert process.returncode == 0, f"{name}: {output[-3000:]}"
    chief, single = tmp_path / "w0" / "run", tmp_path / "one" / "run"
    assert not (tmp_path / "w1" / "run").exists()  # the other worker writes nothing
    assert (chief / "metrics.json").exists()
    for mine, theirs in zip(weights_of(chief / "last.keras"), weights_of(single / "last.keras")):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)  # float32 summation order
    # Validation metrics are aggregated over both workers' halves of the data.
    chief_rows = (chief / "history.csv").read_text().splitlines()
    single_rows = (single / "history.csv").read_text().splitlines()
    assert chief_rows[0] == single_rows[0] and len(chief_rows) == 3
    header = chief_rows[0].split(",")
    for column in ("val_loss", "val_mean_iou", "loss"):
        i = header.index(column)
        mine = [float(row.split(",")[i]) for row in chief_rows[1:]]
        theirs = [float(row.split(",")[i]) for row in single_rows[1:]]
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, err_msg=column)


def test_two_workers_train_like_one_worker_of_the_same_global_batch(tmp_path):
    train_in_processes(tmp_path, "tensorflow", lambda index, addresses: {
        "strategy": "multiworker"})  # fmt: skip


@needs_jax
def test_two_jax_processes_train_like_one_of_the_same_global_batch(tmp_path):
    train_in_processes(tmp_path, "jax", lambda index, addresses: {
        "strategy": "data_parallel", "coordinator": addresses[0], "num_processes": 2,
        "process_id": index})  # fmt: skip


def read_state(run):
    try:
        with open(os.path.join(run, "state.json")) as file:
            return json.load(file)
    except (OSError, ValueError):
        return {}


def test_a_killed_worker_restarted_with_its_command_finishes_the_run(tmp_path):
    """SIGKILL worker 1 in the second epoch and start it again: worker 0 loses its peer,
    restarts itself, and both continue from the chief's last.keras (shared folder)."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    epochs, steps = 2, 48
    command = [
        sys.executable, "-m", "keras_segen.cli", "train", "--dataset", "shapes",
        "--num-examples", str(steps * 8), "--validation-examples", "8", "--image-size", "32",
        "--batch-size", "8", "--epochs", str(epochs),
        "--preset", "tiny", "--strategy", "multiworker", "--out", "run", "--no-tensorboard",
        "--progress", "0",
    ]  # fmt: skip
    logs = [str(tmp_path / f"w{i}.txt") for i in range(2)]
    workers = [start(command, tmp_path, worker_env(addresses, i), logs[i]) for i in range(2)]
    deadline = time.time() + 300
    while read_state(tmp_path / "run").get("epochs_completed", 0) < 1:
        assert time.time() < deadline and workers[0].poll() is None, finish(workers[0], logs[0])
        time.sleep(0.5)
    time.sleep(1)  # into the second epoch (one takes several seconds)
    workers[1].send_signal(signal.SIGKILL)
    workers[1].wait()
    workers[1] = start(command, tmp_path, worker_env(addresses, 1), logs[1])
    outputs = [finish(worker, log) for worker, log in zip(workers, logs)]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    assert "A worker of this multi-worker run" in outputs[0]
    assert "Restarting this worker (1/3)" in outputs[0]
    state = read_state(tmp_path / "run")
    assert state["status"] == "finished" and state["epochs_completed"] == epochs
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == [str(e + 1) for e in range(epochs)]
    import keras

    import keras_segen  # noqa: F401 (registers the learning-rate schedule last.keras holds)

    model = keras.models.load_model(tmp_path / "run" / "last.keras")
    assert int(model.optimizer.iterations) == epochs * steps  # no step lost or repeated


def test_a_worker_without_its_peers_fails_after_its_timeout_naming_them(tmp_path):
    addresses = [f"127.0.0.1:{port}" for port in free_ports(2)]
    command = [
        sys.executable, "-m", "keras_segen.cli", "train", "--num-examples", "16",
        "--image-size", "32", "--preset", "tiny", "--strategy", "multiworker",
        "--worker-timeout", "3", "--out", "run",
    ]  # fmt: skip
    log = str(tmp_path / "log.txt")
    started = time.time()
    worker = start(command, tmp_path, worker_env(addresses, 0), log)
    output = finish(worker, log, timeout=120)
    assert worker.returncode == -9, output[-3000:]  # killed by its watchdog
    assert f"this worker ({addresses[0]}) waited 3 s" in output
    assert f"{addresses[1]} (worker 1) do not answer" in output
    assert time.time() - started < 100
    assert not (tmp_path / "run").exists()


def test_tf_config_that_is_not_a_cluster_is_a_clear_error(monkeypatch):
    from keras_segen.runs.multiworker import tf_config_tasks

    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, "task": {"index": 0}}')
    with pytest.raises(ValueError, match="TF_CONFIG is not a cluster description"):
        tf_config_tasks()
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]},
         "task": {"type": "worker", "index": 1}}))  # fmt: skip
    assert tf_config_tasks() == ("c:3", {"a:1": "chief 0", "b:2": "worker 0"})
