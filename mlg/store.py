"""The only module that touches pyoxigraph's Store, and the store interface everything uses.

:class:`GraphStore` is the small surface the rest of mlg needs (query, update,
read and write one named graph, dump). :class:`OxigraphStore` implements it over an
embedded Oxigraph, on disk (RocksDB) or in memory; a remote SPARQL 1.1 store can
implement it later without touching loaders, admission or lineage. pyoxigraph's
exceptions are translated here into :mod:`mlg.errors`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
)

from mlg.errors import NotFoundError, QueryError, StoreError, StoreLockedError
from mlg.sparql import bind
from mlg.vocab import PREFIXES

QueryResult = QuerySolutions | QueryBoolean | QueryTriples
GraphName = NamedNode | DefaultGraph


class GraphStore(Protocol):
    """What mlg needs from a quad store. Queries see the union of all named graphs."""

    location: str

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, object] | None = None,
        *,
        default_graph: Sequence[GraphName] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        base_iri: str | None = None,
        union: bool = True,
    ) -> QueryResult: ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None: ...

    def graph_quads(self, graph: GraphName) -> Iterator[Quad]: ...

    def has_graph(self, graph: GraphName) -> bool: ...

    def graphs(self) -> list[NamedNode]: ...

    def add_atomically(self, quads: Iterable[Quad]) -> None: ...

    def bulk_add(self, nquads_file: Path) -> None: ...

    def remove_graph(self, graph: NamedNode) -> None: ...

    def dump(self, output: IO[bytes], format: RdfFormat, graph: NamedNode | None = None) -> None: ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...


def _translate(error: Exception, location: str) -> Exception:
    text = str(error)
    if "lock" in text.lower():
        return StoreLockedError(
            f"the store at {location} is held by another process (mlg serve?): "
            "stop it, or send the data to its /store endpoint"
        )
    return StoreError(f"store {location}: {text}")


def _open_read_only(path: str, attempts: int = 20) -> Store:
    """A read-only view of a store another process may be writing.

    The writer's RocksDB compacts in the background: a file named in the manifest a view
    has just read can be gone when the view opens it ("Corruption: ... No such file").
    Opening again reads the new manifest.
    """
    delay = 0.005
    while True:
        try:
            return Store.read_only(path)
        except RuntimeError as error:
            attempts -= 1
            if "No such file" not in str(error) or attempts == 0:
                raise StoreError(f"store {path}: cannot open a read-only view: {error}") from None
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


class OxigraphStore:
    """Embedded Oxigraph: on disk when given a path, in memory otherwise."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        self.location = str(path) if path is not None else "(in memory)"
        try:
            if path is None:
                self._store = Store()
            elif read_only:
                self._store = _open_read_only(str(path))
            else:
                Path(path).mkdir(parents=True, exist_ok=True)
                self._store = Store(str(path))
        except OSError as error:
            raise _translate(error, self.location) from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except SyntaxError as error:
            raise QueryError(f"SPARQL syntax error: {error}") from None
        except RuntimeError as error:
            raise QueryError(f"SPARQL evaluation failed: {error}") from None
        except BrokenPipeError:
            raise  # the reader went away (`mlg export | head`): click ends quietly
        except OSError as error:
            raise _translate(error, self.location) from None

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, object] | None = None,
        *,
        default_graph: Sequence[GraphName] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        base_iri: str | None = None,
        union: bool = True,
    ) -> QueryResult:
        """Run a SPARQL query over the union of the graphs; ``bindings`` fill ``$var``s safely.

        A dataset given here (the SPARQL protocol's ``default-graph-uri`` and
        ``named-graph-uri``) replaces both the union and the query's own FROM clauses; a
        part left ``None`` is empty then. ``union=False`` lets the query's FROM clauses
        choose (pyoxigraph ignores them under the union).
        """
        dataset = default_graph is not None or named_graphs is not None
        with self._errors():
            return self._store.query(
                bind(sparql, bindings or {}),
                prefixes=PREFIXES,
                base_iri=base_iri,
                use_default_graph_as_union=union and not dataset,
                default_graph=list(default_graph or ()) if dataset else None,
                named_graphs=list(named_graphs or ()) if dataset else None,
            )

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update in one transaction: all of it is applied, or none."""
        with self._errors():
            self._store.update(sparql, prefixes=PREFIXES, base_iri=base_iri)

    def graph_quads(self, graph: GraphName) -> Iterator[Quad]:
        with self._errors():
            yield from self._store.quads_for_pattern(None, None, None, graph)

    def has_graph(self, graph: GraphName) -> bool:
        """Whether the graph exists (the default graph always does), even if it is empty."""
        if isinstance(graph, DefaultGraph):
            return True
        with self._errors():
            return self._store.contains_named_graph(graph)

    def graphs(self) -> list[NamedNode]:
        with self._errors():
            return [g for g in self._store.named_graphs() if isinstance(g, NamedNode)]

    def add_atomically(self, quads: Iterable[Quad]) -> None:
        """Insert in one transaction; keeps every quad in memory until it commits."""
        with self._errors():
            self._store.extend(quads)

    def bulk_add(self, nquads_file: Path) -> None:
        """Stream a large N-Quads file in through Oxigraph's bulk loader (not transactional)."""
        with self._errors():
            self._store.bulk_load(path=str(nquads_file), format=RdfFormat.N_QUADS)
            self._store.flush()

    def remove_graph(self, graph: NamedNode) -> None:
        with self._errors():
            self._store.remove_graph(graph)

    def dump(self, output: IO[bytes], format: RdfFormat, graph: NamedNode | None = None) -> None:
        with self._errors():
            if graph is not None:
                self._store.dump(output, format, from_graph=graph)
            else:
                self._store.dump(output, format)

    def __len__(self) -> int:
        with self._errors():
            return len(self._store)

    def backup(self, target: Path) -> None:
        """A copy of this on-disk store at ``target`` (which must not exist), usable as a store.

        RocksDB's checkpoint: hard links when ``target`` is on the same file system.
        """
        with self._errors():
            self._store.backup(str(target))

    def close(self) -> None:
        # pyoxigraph releases the RocksDB lock when the Store is garbage collected.
        self.__dict__.pop("_store", None)


def open_store(path: Path | str | None, *, read_only: bool = False) -> OxigraphStore:
    """The store at ``path`` (``None``: a fresh in-memory store)."""
    if read_only and path is not None and not os.path.isdir(path):
        raise NotFoundError(f"there is no store at {path} (load something first: mlg load FILE)")
    return OxigraphStore(path, read_only=read_only)
