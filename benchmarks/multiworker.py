"""Steps per second of one worker and of two local TF_CONFIG workers (multi-worker
mechanism, not a speed-up: two processes share this machine's cores).

Usage: python benchmarks/multiworker.py [--rounds 3] [--steps 40]
Prints one line per round and the median ratio; each run trains the tiny U-Net at 32x32
with a global batch of 16 for ``steps`` steps (one epoch) under
``MultiWorkerMirroredStrategy`` (the single worker too, so that only the worker count
differs), and is timed by a callback on the chief from its 5th step to the epoch's end.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = """
import json, sys, time, keras, keras_segen
class Timer(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 4:
            self.start = time.perf_counter()  # after tracing and the first steps
    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start
timer = Timer()
options = json.loads(sys.argv[1])
keras_segen.train(**options, callbacks=[timer], verbose=0)
print("STEPS_PER_SECOND", (options["num_examples"] // options["batch_size"] - 5) / timer.seconds)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(workers, steps, folder):
    """Steps per second of the chief when ``workers`` processes train together."""
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(workers)]
    options = dict(model="unet", preset="tiny", dataset="shapes", num_examples=16 * steps,
                   validation_examples=16, image_size=32, batch_size=16, epochs=1,
                   augment="none", tensorboard=False, strategy="multiworker",
                   out=os.path.join(folder, f"run{workers}-{time.time_ns()}"))  # fmt: skip
    processes = []
    for index in range(workers):
        cluster = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(cluster), TF_CPP_MIN_LOG_LEVEL="2")
        processes.append(subprocess.Popen(
            [sys.executable, "-c", SCRIPT, json.dumps(options)], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))  # fmt: skip
    outputs = [p.communicate(timeout=900)[0] for p in processes]
    line = [row for row in outputs[0].splitlines() if row.startswith("STEPS_PER_SECOND")]
    if not line:
        raise RuntimeError(f"worker 0 printed no timing: {outputs[0][-2000:]}")
    return float(line[0].split()[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            one, two = run(1, args.steps, folder), run(2, args.steps, folder)
            ratios.append(two / one)
            print(f"round {round_ + 1}: 1 worker {one:.2f} steps/s, 2 workers {two:.2f} steps/s "
                  f"(global batch 16), ratio {two / one:.2f}", flush=True)  # fmt: skip
    print(f"median ratio 2 workers / 1 worker: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
