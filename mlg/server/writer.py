"""One writer, many readers: where the server's writes run, and how readers see them.

The on-disk store can be held for writing by one process only, and Python answers
requests on one core per process. So ``mlg serve`` answers requests in several gunicorn
worker processes, each reading its own read-only view of the store, and runs every write
in one *writer process* that holds the store for writing (:func:`start_writer`).

- **A write** is a module-level function ``write(side, *args)`` (``side`` a
  :class:`WriteSide`: the writable store, its admission gate, the minter), called with
  ``state.write(write, *args)``. Arguments and result are pickled to and from the writer,
  so a request body is parsed in the worker and only committed in the writer, one write
  at a time. :class:`LocalWriter` runs the same functions in this process: the app
  built over a store in memory (tests, embedding) has no writer process.
- **Readers see every write.** After a write the writer appends the graphs it changed to
  a change log and then increments a generation number in shared memory, before it
  answers. Each request first compares the generation (:class:`Freshness`); when it
  moved, the worker reopens its view (~10 ms at 100k assets) and refreshes its lineage
  index from the log. A read that starts after a write was answered sees that write.
- **Stopping.** The writer ignores SIGINT and SIGTERM (Ctrl-C reaches the whole process
  group; the workers may still be finishing writes): it stops when its standard input
  ends, closed by ``mlg serve`` once gunicorn has stopped, or when ``mlg serve`` and its
  workers are gone. It then finishes the write in hand and closes the store.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import mmap
import os
import pickle
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, TypeVar

from pyoxigraph import DefaultGraph, NamedNode

from mlg.admission import Gate
from mlg.config import Config
from mlg.errors import MlgError, QueryError, StoreError, WriterUnavailable
from mlg.identity import Minter
from mlg.store import GraphName, GraphStore, OxigraphStore

log = logging.getLogger("mlg.server")
T = TypeVar("T")
EVERYTHING = "*"
"""The change log's word for "anything may have changed" (a SPARQL update)."""
_DEFAULT = "DEFAULT"


@dataclass
class WriteSide:
    """What a write function works with, in the process that holds the store for writing."""

    store: GraphStore
    gate: Gate
    minter: Minter
    changed: set[GraphName] | None = field(default_factory=set)
    """The graphs the write in hand changed; None: it may have changed anything."""

    def touched(self, graph: GraphName | None) -> None:
        """Record that ``graph`` (None: anything) was written."""
        if graph is None or self.changed is None:
            self.changed = None
        else:
            self.changed.add(graph)


class LocalWriter:
    """Runs write functions in this process, one at a time; tells ``after`` what changed."""

    def __init__(self, side: WriteSide, after: Callable[[list[GraphName] | None], None]) -> None:
        self.side = side
        self._after = after
        self._lock = threading.Lock()

    def close(self) -> None:
        """Wait for the write in hand, then close the store: no write runs after."""
        self._lock.acquire()
        self.side.store.close()

    def run(self, write: Callable[..., T], *args: Any) -> T:
        with self._lock:
            self.side.changed = set()
            try:
                return write(self.side, *args)
            finally:
                changed = self.side.changed
                if changed is None or changed:
                    self._after(None if changed is None else sorted(changed, key=str))


def run_update(side: WriteSide, text: str, base_iri: str | None) -> None:
    """A SPARQL update (it may change any graph)."""
    side.touched(None)
    try:
        side.store.update(text, base_iri=base_iri)
    except ValueError as error:  # an unusable base IRI (from the Host header)
        raise QueryError(f"SPARQL update refused: {error}") from None


# -- the change log -----------------------------------------------------------------------


class ChangeLog:
    """Lines ``<generation>\\t<graph>`` appended by the writer, read by every worker."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, generation: int, graphs: Iterable[GraphName] | None) -> None:
        names = [EVERYTHING] if graphs is None else [_graph_text(g) for g in graphs]
        with self.path.open("a", encoding="utf-8") as log_file:
            log_file.writelines(f"{generation}\t{name}\n" for name in names)

    def read(self, offset: int, up_to: int) -> tuple[list[GraphName] | None, int]:
        """Graphs changed by the writes after ``offset`` up to generation ``up_to``, and the new offset.

        A write newer than ``up_to`` may be in the log already but not in a view opened
        at ``up_to``: it is left for the next read.
        """
        graphs: set[GraphName] = set()
        everything = False
        with self.path.open("rb") as log_file:
            log_file.seek(offset)
            for line in log_file:
                if not line.endswith(b"\n"):
                    break  # being written
                generation, name = line.decode("utf-8").rstrip("\n").split("\t", 1)
                if int(generation) > up_to:
                    break
                offset += len(line)
                if name == EVERYTHING:
                    everything = True
                else:
                    graphs.add(DefaultGraph() if name == _DEFAULT else NamedNode(name))
        return (None if everything else sorted(graphs, key=str)), offset


def _graph_text(graph: GraphName) -> str:
    return _DEFAULT if isinstance(graph, DefaultGraph) else graph.value


class Generation:
    """The count of writes, in a file every process of ``mlg serve`` maps into memory.

    One process (the writer) adds to it; the workers read it at the start of every
    request: an aligned 8-byte word, read and written whole.
    """

    def __init__(self, path: Path) -> None:
        with path.open("r+b") as file:
            self._map = mmap.mmap(file.fileno(), 8)
        self._word = ctypes.c_int64.from_buffer(self._map)

    @property
    def value(self) -> int:
        return self._word.value

    @value.setter
    def value(self, value: int) -> None:
        self._word.value = value


@dataclass(frozen=True)
class Link:
    """Where the writer of one ``mlg serve`` listens, and the files it shares with the workers."""

    runtime: Path
    authkey: bytes = field(repr=False)

    @property
    def address(self) -> str:
        return str(self.runtime / "writer.sock")

    @property
    def changes(self) -> Path:
        return self.runtime / "changes.log"

    @property
    def generation(self) -> Path:
        return self.runtime / "generation"


class Freshness:
    """A worker's read-only view of the store, reopened when the writer has written since."""

    def __init__(self, link: Link, store_path: Path) -> None:
        self.store_path = store_path
        self.log = ChangeLog(link.changes)
        self.generation = Generation(link.generation)
        self.seen = self.generation.value
        self.store = OxigraphStore(store_path, read_only=True)  # holds every write up to seen
        _, self.offset = self.log.read(0, self.seen)

    def current(self) -> bool:
        """Whether the view holds every write so far (a read of shared memory)."""
        return self.generation.value == self.seen

    def poll(self) -> tuple[OxigraphStore, list[GraphName] | None] | None:
        """None when nothing was written since the last poll; else a fresh view and what changed.

        Not thread-safe: the caller polls one thread at a time.
        """
        generation = self.generation.value
        if generation == self.seen:
            return None
        store = OxigraphStore(self.store_path, read_only=True)  # holds every write up to generation
        changed, self.offset = self.log.read(self.offset, generation)
        self.store, self.seen = store, generation
        return store, changed


class RemoteWriter:
    """A worker's side of the writer: sends a write function and its arguments, waits for the answer."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    def run(self, write: Callable[..., T], *args: Any) -> T:
        with self._lock:  # the writer runs one write at a time anyway
            try:
                if self._conn is None:
                    self._conn = Client(self.link.address, family="AF_UNIX", authkey=self.link.authkey)
                self._conn.send((write, args))
                ok, value = self._conn.recv()
            except (OSError, EOFError):
                self._conn = None
                raise WriterUnavailable(
                    "the writer process does not answer: the server is stopping"
                ) from None
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


# -- the writer process -------------------------------------------------------------------


class WriterProcess:
    """The process holding the store for writing; :meth:`stop` ends it after the write in hand."""

    def __init__(self, process: subprocess.Popen[bytes], link: Link) -> None:
        self.process = process
        self.link = link
        self._stopping = False

    def watch(self, ended: Callable[[int], None]) -> None:
        """Call ``ended(exit code)``, from a thread, if the process ends before :meth:`stop`."""

        def wait() -> None:
            code = self.process.wait()
            if not self._stopping:
                ended(code)

        threading.Thread(target=wait, name="mlg-writer-watch", daemon=True).start()

    def stop(self, timeout: float = 60) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("the writer process did not stop in %g s; killing it", timeout)
            self.process.kill()
            self.process.wait()


def start_writer(config: Config, runtime: Path) -> WriterProcess:
    """Start the writer process over ``config.store``; returns once it holds the store.

    A fresh interpreter, not a fork (the caller may have threads), and not a
    :mod:`multiprocessing` child, whose bookkeeping gunicorn's forked workers inherit.
    Its standard input carries the settings, then stays open: its end is the signal to
    stop. Raises the error that kept it from opening the store.
    """
    link = Link(runtime, secrets.token_bytes(32))
    link.changes.touch()
    link.generation.write_bytes(bytes(8))
    process = subprocess.Popen(
        [sys.executable, "-m", "mlg.server.writer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    pickle.dump((config, link), process.stdin)
    process.stdin.flush()
    try:
        status, payload = pickle.load(process.stdout)
    except (EOFError, pickle.UnpicklingError):
        process.wait()
        raise StoreError(
            "the writer process ended while opening the store; the log above may say why"
        ) from None
    if status == "error":
        process.wait()
        raise payload
    return WriterProcess(process, link)


def main() -> None:
    """The writer process: hold the store, answer writes until standard input ends."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    logging.basicConfig(stream=sys.stderr, format="mlg writer: %(message)s")
    control, answer = sys.stdin.buffer, sys.stdout.buffer
    config, link = pickle.load(control)
    from mlg.server.app import open_served_store  # after the signals: this takes a while

    try:
        store = open_served_store(config.store)
    except MlgError as error:
        pickle.dump(("error", error), answer)
        answer.flush()
        return
    minter = Minter(config.base_iri)
    gate = Gate(store, minter, atomic_limit=config.atomic_limit, chunk_assets=config.chunk_assets)
    changes, generation = ChangeLog(link.changes), Generation(link.generation)

    def published(graphs: list[GraphName] | None) -> None:
        changes.append(generation.value + 1, graphs)
        generation.value += 1  # after the log: a worker that sees it finds the entry

    writer = LocalWriter(WriteSide(store, gate, minter), published)
    listener = Listener(link.address, family="AF_UNIX", authkey=link.authkey)
    threading.Thread(target=_accept, args=(listener, writer), name="mlg-writer-accept", daemon=True).start()
    pickle.dump(("ready", None), answer)
    answer.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads the pipe from now on
    control.read()  # until mlg serve closes it (or dies)
    listener.close()
    writer.close()


def _accept(listener: Listener, writer: LocalWriter) -> None:
    while True:
        try:
            conn = listener.accept()
        except (OSError, EOFError):
            return  # closed: stopping
        except Exception as error:  # a client that failed the handshake
            log.warning("refused a connection to the writer: %s", error)
            continue
        threading.Thread(target=_serve, args=(conn, writer), name="mlg-writer-conn", daemon=True).start()


def _serve(conn: Connection, writer: LocalWriter) -> None:
    with conn:
        while True:
            try:
                write, args = conn.recv()
            except (EOFError, OSError):
                return
            try:
                answer: tuple[bool, Any] = (True, writer.run(write, *args))
            except MlgError as error:
                answer = (False, error)
            except Exception:
                log.exception("a write failed")
                answer = (False, StoreError("the write failed; the server log has the details"))
            try:
                conn.send(answer)
            except (pickle.PicklingError, TypeError, AttributeError):
                conn.send((False, StoreError(str(answer[1]))))
            except (OSError, EOFError):
                return


if __name__ == "__main__":
    main()
