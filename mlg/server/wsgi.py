"""``mlg serve``: the app under gunicorn, embedded through its ``BaseApplication`` API.

``MLG_WORKERS`` gunicorn worker processes (default: one per core), each with a pool of
threads, answer requests over their own read-only view of the store; one writer process
holds the store for writing and runs every write (:mod:`mlg.server.writer`). The writer
starts first, so a store that cannot be opened is one error line before anything
listens; the arbiter itself never opens the store (RocksDB does not survive a fork).
gunicorn restarts a worker that dies, finishes in-flight requests on SIGTERM and on
Ctrl-C (``graceful_timeout``), and streams responses without a Content-Length as chunked
transfer; the writer stops after gunicorn, once the writes in flight are done. gunicorn's
access log is off: the app logs each request as one JSON line on stderr
(:mod:`mlg.server.access_log`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from mlg.config import Config
from mlg.errors import MlgError, StoreError
from mlg.server.app import create_app
from mlg.server.writer import Link, start_writer


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config, link: Link, *, quiet: bool = False) -> None:
        self.mlg_config = config
        self.link = link
        self.quiet = quiet
        super().__init__()

    def load_config(self) -> None:
        config = self.mlg_config
        host = f"[{config.host}]" if ":" in config.host else config.host
        settings: dict[str, Any] = {
            "bind": f"{host}:{config.port}",
            "workers": max(config.workers, 1),
            "worker_class": "gthread",
            "threads": max(config.threads, 1),
            "timeout": 60,  # the worker's heartbeat, not a query time limit: threads keep it alive
            "graceful_timeout": 30,
            "limit_request_line": 8190,  # the longest GET query gunicorn can take
            "accesslog": None,  # mlg.server.access_log writes one JSON line per request instead
            "errorlog": "-",
            "loglevel": "warning" if self.quiet else "info",
            "proc_name": "mlg",
            "preload_app": False,
            "control_socket_disable": True,  # gunicorn >= 25: no runtime control interface
            "when_ready": self._ready,
            "post_worker_init": _graceful_on_interrupt,
        }
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def _ready(self, arbiter: Any) -> None:
        config = self.mlg_config
        writable = bool(config.update_token or config.update_token_file)
        mode = "read-write" if writable else "read-only: no MLG_UPDATE_TOKEN"
        for listener in arbiter.LISTENERS:
            print(
                f"mlg: serving {config.store} ({mode}) at {listener}/sparql and {listener}/store",
                file=sys.stderr,
                flush=True,
            )

    def load(self) -> Any:
        _log_requests(quiet=self.quiet)
        try:  # runs in the worker: its view of the store is opened after the fork
            return create_app(self.mlg_config, link=self.link)
        except MlgError as error:
            # One line, not a traceback; gunicorn stops when a worker cannot boot.
            print(f"mlg: error: {error}", file=sys.stderr, flush=True)
            sys.exit(error.exit_code)


def _log_requests(*, quiet: bool) -> None:
    """Send the JSON request log lines (``mlg.server.access``) to stderr, unless quiet.

    A line a request: the record attributes no line shows (the calling frame, thread and
    process names) are not collected, as the logging HOWTO's "Optimization" section
    describes; that halves the cost of a line.
    """
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    access = logging.getLogger("mlg.server.access")
    access.setLevel(logging.WARNING if quiet else logging.INFO)
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
    access.propagate = False


def _graceful_on_interrupt(worker: Any) -> None:
    """Make SIGINT (Ctrl-C) and SIGQUIT stop the worker the graceful way, like SIGTERM.

    gunicorn's quick shutdown shuts the thread pool down from inside the signal handler,
    which deadlocks when the signal lands while the worker's loop holds the pool's lock
    (seen in the tests: the worker then hangs until killed). The graceful handler only
    sets a flag: requests in flight finish, and the arbiter kills the worker after
    ``graceful_timeout`` if they do not.
    """
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, worker.handle_exit)


def serve(config: Config, *, quiet: bool = False) -> None:
    """Serve until interrupted (SIGINT, SIGTERM); returns when gunicorn and the writer have stopped."""
    arbiter = os.getpid()
    runtime = Path(tempfile.mkdtemp(prefix="mlg-serve-"))
    writer = None
    died: list[int] = []

    def writer_died(code: int) -> None:  # stop, so that a supervisor restarts the whole server
        died.append(code)
        os.kill(arbiter, signal.SIGTERM)

    try:
        writer = start_writer(config, runtime)
        writer.watch(writer_died)
        try:
            Server(config, writer.link, quiet=quiet).run()
        except SystemExit:
            if not died or os.getpid() != arbiter:
                raise
        if died:
            status = f" (exit status {died[0]})" if died[0] else ""
            raise StoreError(f"the writer process ended{status}, so the server stopped; start it again")
    finally:
        if os.getpid() == arbiter:  # gunicorn forks its workers in run(): they leave through here too
            if writer is not None:
                writer.stop()
            shutil.rmtree(runtime, ignore_errors=True)
