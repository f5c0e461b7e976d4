"""Ends a multi-worker process that waits too long for its peers (run as a script).

TensorFlow holds the interpreter while ``MultiWorkerMirroredStrategy`` waits for the other
workers, without a limit, and ignores SIGTERM meanwhile: no thread of the worker can act.
This script, started before that wait with its standard input a pipe from the worker,
exits when the pipe closes (the workers joined, or the worker ended); after the timeout it
prints which peers do not answer and kills the worker.

Usage: ``python worker_watchdog.py PID TIMEOUT OWN_ADDRESS PEERS_JSON``.
"""

import json
import os
import select
import signal
import socket
import sys


def answers(address, timeout=2.0):
    """Whether something accepts TCP connections at ``host:port``."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def main(pid, timeout, own, peers):
    """Waits ``timeout`` seconds for standard input to close, else reports and kills ``pid``."""
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if ready:
        return
    silent = [f"{address} ({name})" for address, name in peers.items() if not answers(address)]
    reason = (
        f"{', '.join(silent)} do not answer" if silent
        else f"{', '.join(peers)} answer but did not join: give every worker the same "
        "TF_CONFIG cluster"
    )  # fmt: skip
    print(
        f"keras-segen: error: this worker ({own}) waited {timeout:g} s for the other workers "
        f"of TF_CONFIG: {reason}. Start the same command on every worker, or check the "
        "addresses and the firewall (--worker-timeout sets the wait).",
        file=sys.stderr,
        flush=True,
    )
    os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4]))
