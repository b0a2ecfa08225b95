"""Queries in worker processes, cut at a timeout: :class:`ProcessExecutor`.

pyoxigraph has no timeout and no cancellation, so a query that runs forever can only be
stopped by ending the process it runs in. Each of ``MLG_QUERY_WORKERS`` processes opens
a read-only view of the on-disk store (``Store.read_only``, which works while the server
holds the write lock), evaluates one query at a time and writes its answer, serialized,
back through a pipe in chunks of 64 KiB; the server thread streams them on to the client.

- **Timeout.** The whole answer must be out within ``MLG_QUERY_TIMEOUT`` seconds of the
  request (waiting for a free worker counts). Past it the worker is killed (SIGKILL) and a
  new one started; the client gets 503 if nothing was sent yet, otherwise a cut stream,
  which is logged.
- **Fresh reads.** A read-only view sees the store as it was when it was opened.
  Every write bumps a generation number, and a worker whose view is older reopens it
  before its next query (about 10 ms at 100k assets), so a query sent after a write has
  committed sees the write.
- **Row cap.** A SELECT answer has at most ``MLG_MAX_ROWS`` rows; a longer one is cut
  there and flagged with the header ``MLG-Truncated: <cap>``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from mlg import errors
from mlg.errors import MlgError, QueryTimeout, StoreError
from mlg.server.executor import Answer, Executor, InProcessExecutor, QueryJob, evaluate, evaluation_error
from mlg.store import GraphStore, OxigraphStore

log = logging.getLogger("mlg.server")
CHUNK = 65536
_READY, _WHOLE, _HEAD, _CHUNK, _END, _ERROR = b"R", b"W", b"H", b"C", b"E", b"X"
STARTUP = 60.0
"""Seconds a new worker process may take to start (not counted in any query's time)."""


class _Sender:
    """The worker's side: holds the answer back until its first 64 KiB, or all of it, is there.

    A small answer crosses the pipe as one message (``_WHOLE``: head and body); a larger
    one as ``_HEAD`` with its first chunk, then ``_CHUNK``s and ``_END``. An error before
    the first message is still a clean HTTP error.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._buffer = bytearray()
        self._head = b""
        self._started = False

    def begin(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._head = json.dumps([content_type, headers or {}]).encode() + b"\n"

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._buffer += chunk
        if len(self._buffer) >= CHUNK:
            self._send(_HEAD if not self._started else _CHUNK)
        return len(chunk)

    def flush(self) -> None:
        """pyoxigraph flushes when it is done; what is held is sent by :meth:`end`."""

    def end(self) -> None:
        if not self._started:
            self._send(_WHOLE)
            return
        if self._buffer:
            self._send(_CHUNK)
        self._conn.send_bytes(_END)

    def _send(self, kind: bytes) -> None:
        head = b"" if self._started else self._head
        self._conn.send_bytes(kind + head + bytes(self._buffer))
        self._started = True
        self._buffer.clear()


def _work(conn: Connection, path: str) -> None:
    """A worker process: answer jobs until the server closes the pipe (or kills it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group: the server decides
    store: OxigraphStore | None = None
    seen = -1
    conn.send_bytes(_READY)
    while True:
        try:
            job, generation, max_rows = conn.recv()
        except (EOFError, OSError):
            return
        sender = _Sender(conn)
        try:
            if store is None or generation != seen:
                store = None  # drop the old view first
                store = OxigraphStore(path, read_only=True)
                seen = generation
            evaluate(store, job, sender, max_rows)
            sender.end()
        except BaseException as raised:
            error = evaluation_error(raised)
            conn.send_bytes(_ERROR + json.dumps([type(error).__name__, str(error)]).encode())


def _error(payload: bytes) -> MlgError:
    name, message = json.loads(payload)
    kind = getattr(errors, name, StoreError)
    try:
        return kind(message)  # type: ignore[no-any-return]
    except TypeError:
        return StoreError(message)


class _Worker:
    def __init__(self, path: str) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a threaded server holding RocksDB
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child, path), name="mlg-query", daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self) -> bool:
        """Wait until the process has started; False (and killed) if it did not."""
        try:
            if self.conn.poll(STARTUP) and self.conn.recv_bytes() == _READY:
                return True
        except (EOFError, OSError):
            pass
        log.error("a query worker process did not start")
        self.kill()
        return False

    def receive(self, deadline: float) -> bytes:
        """The next message, or :class:`QueryTimeout` once ``deadline`` has passed."""
        if not self.conn.poll(max(deadline - time.monotonic(), 0)):
            raise QueryTimeout("timed out")
        try:
            return self.conn.recv_bytes()
        except (EOFError, OSError):
            raise StoreError("the query worker died (out of memory?); the server log may say more") from None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class ProcessExecutor:
    """Queries in a pool of worker processes over a read-only view, cut at ``timeout`` seconds.

    Workers start at the first query, or at :meth:`start`; :meth:`changed` must be
    called after each committed write, so that they reopen their views.
    """

    def __init__(
        self, store: GraphStore, *, workers: int = 2, timeout: float = 30, max_rows: int = 100_000
    ) -> None:
        self.path = store.location
        self.timeout = timeout
        self.max_rows = max_rows
        self.size = max(workers, 1)
        self.generation = 0
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._started = False
        self._lock = threading.Lock()

    def changed(self, generation: int | None = None) -> None:
        """The store was written (to ``generation``, the writer process's count, when given)."""
        self.generation = self.generation + 1 if generation is None else generation

    def start(self) -> None:
        """Start the worker processes now, in the background (each takes about a second)."""
        threading.Thread(target=self._start_pool, name="mlg-query-pool", daemon=True).start()

    def _start_pool(self) -> None:
        with self._lock:  # a query arriving meanwhile waits here for the pool
            if not self._started:
                self._started = True
                for worker in [_Worker(self.path) for _ in range(self.size)]:
                    if worker.wait_ready():
                        self._idle.put(worker)

    def _checkout(self, deadline: float) -> _Worker:
        self._start_pool()
        try:
            return self._idle.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise QueryTimeout(self._too_long("waiting for a free query worker")) from None

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker``; a new one joins the pool once started (in the background)."""
        worker.kill()

        def start() -> None:
            new = _Worker(self.path)
            if new.wait_ready():
                self._idle.put(new)

        threading.Thread(target=start, name="mlg-query-start", daemon=True).start()

    def _too_long(self, doing: str) -> str:
        return f"the query was stopped after {self.timeout:g} s {doing} (MLG_QUERY_TIMEOUT)"

    def query(self, job: QueryJob) -> Answer:
        deadline = time.monotonic() + self.timeout
        worker = self._checkout(deadline)
        returned = False
        try:
            worker.conn.send((job, self.generation, self.max_rows))
            message = worker.receive(deadline)
            kind, payload = message[:1], message[1:]
            if kind in (_ERROR, _WHOLE):
                returned = True
                self._idle.put(worker)
            if kind == _ERROR:
                raise _error(payload)
            head, _, body = payload.partition(b"\n")
            content_type, headers = json.loads(head)
            if kind == _WHOLE:
                return Answer(content_type, iter((body,)), headers)
            return Answer(content_type, _Reply(self, worker, body, deadline), headers)
        except BaseException as error:
            if not returned:
                self._replace(worker)
            if isinstance(error, QueryTimeout):
                raise QueryTimeout(self._too_long("without an answer")) from None
            raise


class _Reply:
    """The rest of an answer, read from the worker until its end; ``close()`` frees the worker."""

    def __init__(self, executor: ProcessExecutor, worker: _Worker, first: bytes, deadline: float) -> None:
        self._executor = executor
        self._worker: _Worker | None = worker
        self._next: bytes | None = _CHUNK + first
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        worker = self._worker
        if worker is None:
            raise StopIteration
        message, self._next = self._next, None
        try:
            if message is None:
                message = worker.receive(self._deadline)
        except MlgError as error:
            self._worker = None
            self._executor._replace(worker)
            if isinstance(error, QueryTimeout):
                error = QueryTimeout(self._executor._too_long("while its answer was sent"))
            log.error("query stopped after its answer began; the response was cut short: %s", error)
            raise error from None
        kind, payload = message[:1], message[1:]
        if kind == _CHUNK:
            return payload
        self._worker = None
        self._executor._idle.put(worker)
        if kind == _ERROR:
            failure = _error(payload)
            log.error("query failed after its answer began; the response was cut short: %s", failure)
            raise failure
        raise StopIteration

    def close(self) -> None:
        """The response ended early (the client went away): the worker is mid-answer, replace it."""
        worker, self._worker = self._worker, None
        if worker is not None:
            self._executor._replace(worker)


def default_executor(store: GraphStore, *, workers: int, timeout: float, max_rows: int) -> Executor:
    """The executor to query ``store`` with.

    An on-disk store gets a :class:`ProcessExecutor` (``workers`` > 0); an in-memory one,
    or ``workers`` 0, evaluates in this process, without a timeout.
    """
    if workers <= 0 or not isinstance(store, OxigraphStore) or store.location == "(in memory)":
        return InProcessExecutor(store)
    return ProcessExecutor(store, workers=workers, timeout=timeout, max_rows=max_rows)
