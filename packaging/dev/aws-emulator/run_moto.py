"""Start moto_server on loopback with Batch settings applied before the first request.

env:
  MOTO_BATCH_USE_DOCKER=false   -> moto's dockerless Batch (jobs SUCCEEDED at submit)
  MOTO_BATCH_TRANSITION_SECS=N  -> docker-mode jobs advance one state every N s (state manager)
  MOTO_EXIT_WITH_PARENT=1       -> exit when the parent process exits (test harnesses)
usage: python run_moto.py PORT

Copied from the tested setup described in ../../../ARCHITECTURE.md (cloud section): moto 5.2.5.
"""
import os
import sys

from moto.core.config import default_user_config
from moto.moto_api import state_manager
from moto.server import main


def _exit_with_parent() -> None:
    """Exit when the process that started us exits (a test binary cannot run teardown code
    after its last test, so the servers it starts must not outlive it)."""
    import threading
    import time

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


# moto gives Batch-collected log events float timestamps (e.g. 1795358358367.879), which
# aws-sdk-rust's GetLogEvents refuses; bna reads them anyway (crates/bna-cloud/src/logs.rs), and this
# server leaves them as they are so the tests see what a plain moto server sends.

if os.environ.get("MOTO_BATCH_USE_DOCKER", "true").lower() == "false":
    default_user_config["batch"] = {"use_docker": False}
if os.environ.get("MOTO_BATCH_TRANSITION_SECS"):
    state_manager.set_transition(
        "batch::job", {"progression": "time", "seconds": float(os.environ["MOTO_BATCH_TRANSITION_SECS"])})

if os.environ.get("MOTO_EXIT_WITH_PARENT") == "1":
    _exit_with_parent()
port = sys.argv[1] if len(sys.argv) > 1 else "5000"
os.environ.setdefault("MOTO_PORT", port)  # moto passes MOTO_PORT into job containers
main(["-H", "127.0.0.1", "-p", port])
