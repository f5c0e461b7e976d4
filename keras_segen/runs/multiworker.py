"""Multi-worker runs on TensorFlow: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``, a
deadline for the workers to join, and continuing after a worker is lost.

Every worker runs the same command. The chief (task ``chief``, else ``worker`` 0) writes
the run directory; the others read it, so after a restart every worker continues from
the chief's ``last.keras``: the run directory must be on storage every worker reads (NFS,
GCS), as ``keras.callbacks.BackupAndRestore``'s directory must. A worker that loses a peer
stops with ``WorkerLost``; the CLI then restarts it with its own command line.
"""

import json
import os
import re
import subprocess
import sys

RESTARTS_VARIABLE = "KERAS_SEGEN_WORKER_RESTARTS"


class WorkerLost(RuntimeError):
    """A peer of a multi-worker run stopped answering during training."""


def tf_config_tasks():
    """``(this task's address, {address: "type index"} of the other tasks)`` from
    ``TF_CONFIG``; ``(None, {})`` when it names no cluster."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return None, {}
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config.get("task", {})
        tasks = {
            address: f"{kind} {index}"
            for kind, addresses in cluster.items()
            for index, address in enumerate(addresses)
        }
        own = cluster[task["type"]][task["index"]]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ValueError(
            f"TF_CONFIG is not a cluster description ({type(error).__name__}: {error}); it "
            'should read {"cluster": {"worker": ["host:port", ...]}, "task": {"type": '
            '"worker", "index": i}}.'
        ) from None
    return own, {address: name for address, name in tasks.items() if address != own}


def multi_worker_strategy(timeout):
    """The ``MultiWorkerMirroredStrategy`` of ``TF_CONFIG``, once every worker has joined.

    TensorFlow waits for the other workers without a limit, holding the interpreter and
    ignoring SIGTERM; after ``timeout`` seconds ``worker_watchdog.py`` prints which peer
    addresses do not answer and kills this process. Its ``reduce`` also takes what Keras
    3's ``fit`` gives it (``nested_reduce_strategy``).
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"worker_timeout must be a positive number of seconds; got {timeout!r}.")
    own, peers = tf_config_tasks()
    if not peers:
        return nested_reduce_strategy()
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker_watchdog.py")
    arguments = [str(os.getpid()), str(timeout), own, json.dumps(peers)]
    watchdog = subprocess.Popen([sys.executable, script, *arguments], stdin=subprocess.PIPE)
    try:
        return nested_reduce_strategy()
    finally:
        watchdog.stdin.close()  # the workers joined: the watchdog exits
        watchdog.wait()


def nested_reduce_strategy():
    """``tf.distribute.MultiWorkerMirroredStrategy`` whose ``reduce`` takes nests and scalars.

    Across workers the strategy reduces one tensor with at least ``axis`` dimensions, but
    ``fit`` reduces the first distributed batch, an ``(image, mask)`` tuple, before it
    builds the model, and each step's scalar logs with ``axis=0``: every multi-worker
    ``fit`` stopped there (keras-team/keras#20585). Each tensor is reduced on its own, a
    scalar across replicas only: the same collectives.
    """
    import tensorflow as tf

    class NestedReduceStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis):
            parent = super()

            def reduce_one(tensor):
                local = self.experimental_local_results(tensor)[0]
                scalar = getattr(local, "shape", None) is not None and local.shape.rank == 0
                return parent.reduce(reduce_op, tensor, None if scalar else axis)

            return tf.nest.map_structure(reduce_one, value, check_types=False)

    return NestedReduceStrategy()


def is_multi_worker(strategy):
    """Whether ``strategy`` is a ``tf.distribute.MultiWorkerMirroredStrategy``."""
    if "tensorflow" not in sys.modules:
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def check_workers_agree(strategy, epochs_done, run_dir):
    """Raises unless every worker starts from ``epochs_done`` completed epochs (a worker
    that cannot read the chief's run directory would start over)."""
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    done = float(epochs_done)
    sums = [
        float(strategy.reduce("SUM", strategy.run(lambda value=value: tf.constant(value)), None))
        for value in (done, done * done)
    ]
    if abs(sums[0] * sums[0] - replicas * sums[1]) > 0.5:  # the epochs differ (variance > 0)
        raise ValueError(
            f"The workers do not agree where the run stands: this one starts after "
            f"{epochs_done} epoch(s), the mean over all is {sums[0] / replicas:g}. Every "
            f"worker must read the chief's run directory {run_dir} (shared storage) to "
            "continue it."
        )


def lost_worker(error, run_dir):
    """A ``WorkerLost`` for TensorFlow's ``error`` when it says a peer stopped, else None."""
    import tensorflow as tf

    lost = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.DeadlineExceededError)
    if not isinstance(error, lost):  # a peer stopped, restarted, or timed out
        return None
    text = str(error)
    found = re.findall(r"/job:\w+/(?:replica:\d+/)?task:\d+", text)
    tasks = sorted({re.sub(r"/replica:\d+", "", task) for task in found})
    cause = "restarted" if "incarnation" in text else "stopped answering"
    return WorkerLost(
        f"A worker of this multi-worker run {cause} ({', '.join(tasks) or type(error).__name__})."
        " Start the same command again on every worker that stopped: the run continues from"
        f" its last completed epoch in {run_dir}/last.keras (the CLI restarts a worker that"
        " lost a peer)."
    )


def restart_this_worker(error, max_restarts, arguments):
    """Replaces this process by ``keras-segen ARGUMENTS`` after ``WorkerLost`` (the CLI's
    way to survive a lost peer), at most ``max_restarts`` times; raises once they are
    spent."""
    done = int(os.environ.get(RESTARTS_VARIABLE, "0"))
    if done >= max_restarts:
        raise ValueError(f"{error} This worker has restarted {done} time(s) (--max-restarts "
                         f"{max_restarts}).")  # fmt: skip
    os.environ[RESTARTS_VARIABLE] = str(done + 1)
    print(f"keras-segen: {error} Restarting this worker ({done + 1}/{max_restarts}).",
          file=sys.stderr, flush=True)  # fmt: skip
    command = [sys.executable, "-m", "keras_segen.cli", *arguments]
    os.execv(sys.executable, command)
