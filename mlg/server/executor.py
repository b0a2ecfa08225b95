"""Where queries and updates run: the seam between the HTTP layer and evaluation.

The HTTP layer hands over a :class:`QueryJob` (plain strings, so it can cross a process
boundary) and gets back an :class:`Answer`: a content type and the serialized result as
a stream of byte chunks. :class:`InProcessExecutor` evaluates against the store in this
process; an executor running queries in worker processes with a timeout implements the
same two methods.

pyoxigraph evaluates lazily: rows are computed while they are serialized, so an error
can come after the first byte. The query runs and is serialized in a thread of its own
(pyoxigraph's results may only be used by the thread that made them) writing into a
bounded queue: memory stays flat, and a slow client slows the serializer. The answer is
returned once its first 64 KiB (or all of a smaller one) or an error has come, so an
error while the first rows are computed is still a clean HTTP error. A later one cuts
the response short (the chunked body has no end), which a client sees as a failed
transfer, and is logged.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    parse_query_results,
    serialize,
)

from mlg.errors import MlgError, NotAcceptable, QueryError, StoreError
from mlg.server.negotiation import BOOLEAN, BY_CONTENT_TYPE, GRAPHS, SOLUTIONS, Representation
from mlg.store import GraphStore
from mlg.vocab import PREFIXES

log = logging.getLogger("mlg.server")


@dataclass(frozen=True)
class QueryJob:
    """A query to run and how to write its answer: plain values, so it can be sent to a process."""

    text: str
    base_iri: str | None = None
    default_graph: tuple[str, ...] | None = None
    """The protocol's default-graph-uri values; with ``named_graphs`` None too: the union of all graphs."""
    named_graphs: tuple[str, ...] | None = None
    union: bool = True
    """False when the query names its own dataset (FROM, FROM NAMED)."""
    solutions: str | None = None
    """The content type to write SELECT results as (None: the client accepts none)."""
    boolean: str | None = None
    """The content type for an ASK result."""
    graph: str | None = None
    """The content type for CONSTRUCT and DESCRIBE results."""


@dataclass
class Answer:
    content_type: str
    body: Iterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    """More response headers (``MLG-Truncated`` when a SELECT answer was cut at the row cap)."""


class Executor(Protocol):
    def query(self, job: QueryJob) -> Answer: ...

    def changed(self, generation: int | None = None) -> None:
        """The store was written: later queries must see it."""


class InProcessExecutor:
    """Evaluates in this process, against the store itself; no timeout."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def query(self, job: QueryJob) -> Answer:
        # pyoxigraph's results may only be read by the thread that made them: the query runs
        # in the stream's thread from the start.
        stream = Stream(lambda pipe: self._evaluate(job, pipe))
        return Answer(stream.content_type, stream, stream.headers)

    def _evaluate(self, job: QueryJob, pipe: Pipe) -> None:
        evaluate(self.store, job, pipe)

    def changed(self, generation: int | None = None) -> None:
        """Nothing to do: queries read the store itself."""


class Sink(Protocol):
    """Where :func:`evaluate` writes an answer: its content type and headers, then its bytes."""

    def begin(self, content_type: str, headers: dict[str, str] | None = None) -> None: ...

    def write(self, data: bytes) -> int: ...


def evaluate(store: GraphStore, job: QueryJob, sink: Sink, max_rows: int | None = None) -> None:
    """Run ``job`` on ``store`` and write its answer into ``sink``.

    With ``max_rows``, a SELECT answer has at most that many rows; one that had more is
    cut there and begun with the header ``MLG-Truncated: <max_rows>``. To know that before
    the first byte, up to ``max_rows + 1`` rows are read first (kept as TSV text, then
    written in the wanted format by pyoxigraph's own serializer).
    """
    dataset = job.default_graph is not None or job.named_graphs is not None
    result = store.query(
        job.text,
        default_graph=[NamedNode(g) for g in job.default_graph or ()] if dataset else None,
        named_graphs=[NamedNode(g) for g in job.named_graphs or ()] if dataset else None,
        base_iri=job.base_iri,
        union=job.union,
    )
    offers: tuple[Representation, ...]
    if isinstance(result, QueryBoolean):
        wanted, offers, what = job.boolean, BOOLEAN, "an ASK result"
    elif isinstance(result, QuerySolutions):
        wanted, offers, what = job.solutions, SOLUTIONS, "a SELECT result"
    else:
        wanted, offers, what = job.graph, GRAPHS, "a CONSTRUCT or DESCRIBE result"
    if wanted is None:
        names = ", ".join(o.media_type for o in offers)
        raise NotAcceptable(f"{what} can be sent as {names}; the Accept header allows none of these")
    chosen = BY_CONTENT_TYPE[wanted]
    if isinstance(result, QuerySolutions) and max_rows is not None:
        result, truncated = _capped(result, max_rows)
        sink.begin(chosen.content_type, {"MLG-Truncated": str(max_rows)} if truncated else None)
    else:
        sink.begin(chosen.content_type)
    if isinstance(result, QueryBoolean | QuerySolutions):
        result.serialize(sink, chosen.format)  # type: ignore[arg-type]
    else:
        serialize(result, sink, chosen.format, prefixes=PREFIXES)  # type: ignore[arg-type]


def _capped(solutions: QuerySolutions, max_rows: int) -> tuple[QuerySolutions, bool]:
    """The first ``max_rows`` solutions, and whether there were more.

    pyoxigraph writes them as TSV (in Rust, a chunk at a time) until one more row than
    ``max_rows`` is there; those are read back as solutions, to be written in the
    format asked for.
    """
    lines = _FirstLines(max_rows + 2)  # the header, max_rows rows, and one more
    with contextlib.suppress(_Enough):
        solutions.serialize(lines, QueryResultsFormat.TSV)
    kept = lines.first(max_rows + 1)
    return parse_query_results(kept, QueryResultsFormat.TSV), lines.full  # type: ignore[return-value]


class _Enough(Exception):
    """Raised into pyoxigraph's serializer to stop it: the rows wanted are there."""


class _FirstLines(io.RawIOBase):
    """Keeps what is written until it holds ``wanted`` lines, then refuses more."""

    def __init__(self, wanted: int) -> None:
        super().__init__()
        self.data = bytearray()
        self.lines = 0
        self.wanted = wanted
        self.full = False

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        if self.full:
            raise _Enough
        chunk = bytes(data)  # type: ignore[call-overload]
        self.data += chunk
        self.lines += chunk.count(b"\n")
        if self.lines >= self.wanted:
            self.full = True
            raise _Enough
        return len(chunk)

    def first(self, count: int) -> bytes:
        """The first ``count`` lines (all there are, if fewer)."""
        parts = self.data.split(b"\n", count)
        return b"\n".join(parts[:count]) + b"\n" if len(parts) > count else bytes(self.data)


_END = object()


def evaluation_error(error: BaseException) -> MlgError:
    """An error pyoxigraph raised while computing rows, as the error to answer."""
    if isinstance(error, MlgError):
        return error
    if isinstance(error, RuntimeError | ValueError | SyntaxError):
        return QueryError(f"SPARQL evaluation failed: {error}")
    return StoreError(f"query evaluation failed: {error}")


class Pipe(io.RawIOBase):
    """What a producer writes into: the stream's queue, after :meth:`begin` names the content type.

    The first ``hold`` bytes are held back until there are that many or the producer is
    done: an error while they are computed (pyoxigraph flushes what it has when it fails)
    is then still raised before the answer begins.
    """

    def __init__(self, stream: Stream, hold: int) -> None:
        super().__init__()
        self._stream = stream
        self._held: bytearray | None = bytearray()
        self._hold = hold

    def writable(self) -> bool:
        return True

    def begin(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._stream.content_type = content_type
        self._stream.headers.update(headers or {})

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        if self._held is not None:
            self._held += chunk
            if len(self._held) >= self._hold:
                self.release()
        elif chunk:
            self._stream._put(chunk)
        return len(chunk)

    def release(self) -> None:
        """Send what is held back (the producer is done, or there is enough of it)."""
        if self._held:
            self._stream._put(bytes(self._held))
        self._held = None


class Stream:
    """The bytes ``produce(pipe)`` writes from its own thread, as an iterator.

    The constructor waits for the first chunk (at least ``hold`` bytes, or all of a
    smaller answer) or an error, raised here as the error to answer. ``close()``, called
    by the WSGI server when the response ends or the client went away, makes the next
    write fail, which ends the producer.
    """

    def __init__(
        self, produce: Callable[[Pipe], None], *, chunks: int = 16, hold: int = 65536, content_type: str = ""
    ) -> None:
        self.content_type = content_type
        self.headers: dict[str, str] = {}
        self._hold = hold
        self._queue: queue.Queue[object] = queue.Queue(maxsize=chunks)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce,), name="mlg-serialize", daemon=True)
        self._thread.start()
        first = self._queue.get()
        self._next: object = _END if isinstance(first, BaseException) else first
        if isinstance(first, BaseException):
            raise evaluation_error(first)

    def _put(self, item: object) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise BrokenPipeError("the client went away")

    def _run(self, produce: Callable[[Pipe], None]) -> None:
        pipe = Pipe(self, self._hold)
        try:
            produce(pipe)
            pipe.release()
            self._put(_END)
        except BrokenPipeError:
            pass
        except BaseException as raised:
            error = evaluation_error(raised)
            # pyoxigraph's result objects may only be dropped by the thread that made them,
            # and a traceback keeps the producer's frames (and its results) alive.
            raised.__traceback__ = error.__traceback__ = None
            error.__context__ = error.__cause__ = None
            del raised
            with contextlib.suppress(BrokenPipeError):
                self._put(error)

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> bytes:
        item, self._next = self._next, None
        if item is None:
            item = self._queue.get()
        if item is _END:
            self._next = _END
            raise StopIteration
        if isinstance(item, BaseException):
            self._next = _END
            log.error("query failed after its answer began; the response was cut short: %s", item)
            raise evaluation_error(item)
        return item  # type: ignore[return-value]

    def close(self) -> None:
        self._closed.set()
