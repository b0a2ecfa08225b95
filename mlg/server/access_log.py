"""Structured request logs: one JSON line per request on the ``mlg.server.access`` logger.

A WSGI middleware, so a streamed answer is logged when its last byte has gone out, with
the bytes actually sent and the whole time it took. Each line has ``time`` (UTC, ISO
8601), ``method``, ``path`` (without the query string, which may hold a query),
``status``, ``bytes``, ``duration_ms`` and ``client``; a SPARQL request adds ``kind``
(SELECT, ASK, CONSTRUCT, DESCRIBE or UPDATE) and ``query_ms``, the time from the start of
its evaluation to the last byte of its answer. The query text is logged only when asked
(``MLG_LOG_QUERIES=1``), cut at :data:`QUERY_CHARS` characters; request headers, the
``Authorization`` header among them, never are.

>>> import io, logging
>>> from flask import Flask
>>> app = Flask("example")
>>> _ = app.route("/")(lambda: "hello")
>>> app.wsgi_app = AccessLog(app.wsgi_app)
>>> stream = io.StringIO()
>>> log.addHandler(handler := logging.StreamHandler(stream)); log.setLevel(logging.INFO)
>>> _ = app.test_client().get("/?secret=1").close()
>>> line = json.loads(stream.getvalue()); log.removeHandler(handler); log.setLevel(logging.NOTSET)
>>> line["method"], line["path"], line["status"], line["bytes"]
('GET', '/', 200, 5)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("mlg.server.access")

QUERY_CHARS = 2000
"""The longest query text a log line carries (with ``MLG_LOG_QUERIES=1``)."""

_KIND = "mlg.log.kind"
_TEXT = "mlg.log.text"
_EVALUATING = "mlg.log.evaluating"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def note_operation(environ: Environ, kind: str, text: str) -> None:
    """Record what a SPARQL request asks (its kind and, for the log only if enabled, its text)."""
    environ[_KIND] = kind
    environ[_TEXT] = text


def note_evaluation(environ: Environ) -> None:
    """Record that the operation's evaluation starts now (the start of ``query_ms``)."""
    environ[_EVALUATING] = time.perf_counter()


class AccessLog:
    """Wraps a WSGI application; logs each request when its answer has been sent."""

    def __init__(self, app: WsgiApp, *, log_queries: bool = False) -> None:
        self.app = app
        self.log_queries = log_queries

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        stamp = datetime.now(UTC)
        status: list[int] = []

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [int(status_line.split(" ", 1)[0])]
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            self._log(environ, stamp, started, status[0] if status else 500, 0, complete=False)
            raise
        return self._counted(body, environ, stamp, started, status)

    def _counted(
        self, body: Iterable[bytes], environ: Environ, stamp: datetime, started: float, status: list[int]
    ) -> Iterator[bytes]:
        sent = 0
        complete = False
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
            complete = True
        finally:
            close = getattr(body, "close", None)
            try:
                if close is not None:
                    close()
            finally:
                self._log(environ, stamp, started, status[0] if status else 500, sent, complete=complete)

    def _log(
        self, environ: Environ, stamp: datetime, started: float, status: int, sent: int, *, complete: bool
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        now = time.perf_counter()
        record: dict[str, object] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            "status": status,
            "bytes": sent,
            "duration_ms": round((now - started) * 1000, 3),
            "client": environ.get("REMOTE_ADDR", ""),
        }
        if _KIND in environ:
            record["kind"] = environ[_KIND]
            if _EVALUATING in environ:
                record["query_ms"] = round((now - environ[_EVALUATING]) * 1000, 3)
            if self.log_queries:
                record["query"] = environ[_TEXT][:QUERY_CHARS]
        if not complete:
            record["incomplete"] = True  # the answer was cut short (an error while streaming)
        log.info(json.dumps(record, ensure_ascii=False))
