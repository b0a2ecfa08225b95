"""The lineage edges, kinds and names of the store, in memory, for the long-running server.

A trace answered from the store costs several SPARQL queries (1.5-3 ms, mostly query
parsing and RocksDB term decoding); answered from this index it costs dictionary
look-ups. :mod:`mlg.lineage` walks the index with the very algorithm it uses on the
store (pass ``index=`` to :func:`~mlg.lineage.trace`), so both give the same answer.

The index keeps what each graph contributed: when a submission adds, replaces or drops a
graph, :meth:`LineageIndex.refresh` reads that graph alone again. A fact stated by two
graphs is held twice, so dropping one of them keeps it.

Terms are pyoxigraph's own, one object per distinct node (interned), held in flat tuples
(``(predicate, node, predicate, node...)``) on one record a node: no object per edge. The
100k-asset benchmark store (220k edge rows, 100k names) takes 7 s to read and about
120 MiB of RSS, a third of it RocksDB's cache from the read.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import repeat
from typing import Any, NamedTuple

from pyoxigraph import DefaultGraph, NamedNode

from mlg.lineage import Row, lineage_query
from mlg.store import GraphName, GraphStore
from mlg.vocab import MLG, OWL_SAME_AS, RDF_TYPE, ontology

MLG_NAME = NamedNode(MLG + "name")
PREDICATES = {p: p for p in (*ontology().lineage_properties, OWL_SAME_AS)}
"""One object a predicate, ``OWL_SAME_AS`` among them: the index tests sameAs by identity."""


class _Contribution(NamedTuple):
    """What one graph states, flat: ``edges`` (s, p, o, s, p, o...), ``types`` (s, class...), ``names``."""

    edges: tuple[Any, ...]
    types: tuple[Any, ...]
    names: tuple[Any, ...]


EMPTY = _Contribution((), (), ())
Intern = Callable[[Any], Any]


def _read(
    store: GraphStore, graphs: list[GraphName] | None, intern: Intern
) -> dict[GraphName, _Contribution]:
    """The facts of some graphs (None: every graph), by graph, in one query.

    Each term is interned as it arrives, so the hundreds of thousands of rows of a
    full read are never all held at once.
    """
    if graphs is None:
        default: list[GraphName] = [DefaultGraph()]
        named: list[NamedNode] = store.graphs()
    else:
        default = [g for g in graphs if isinstance(g, DefaultGraph)]
        named = [g for g in graphs if isinstance(g, NamedNode)]
    found: dict[GraphName, tuple[list[Any], list[Any], list[Any]]] = {}
    rows = store.query(lineage_query("lineage_facts"), default_graph=default, named_graphs=named)
    for graph, subject, predicate, value in rows:  # type: ignore[union-attr]
        key = DefaultGraph() if graph is None else graph
        edges, types, names = found.get(key) or found.setdefault(key, ([], [], []))
        if predicate == RDF_TYPE:
            types += (intern(subject), intern(value))
        elif predicate == MLG_NAME:
            names += (intern(subject), value.value)
        else:
            edges += (intern(subject), PREDICATES[predicate], intern(value))
    return {graph: _Contribution(*map(tuple, facts)) for graph, facts in found.items()}


def _pairs(flat: tuple[Any, ...]) -> Iterator[tuple[Any, Any]]:
    return zip(flat[::2], flat[1::2], strict=True)


class _Node:
    """What the graphs state about one node; tuples, not lists: a node changes rarely."""

    __slots__ = ("downstream", "kind", "names", "term", "types", "upstream")

    def __init__(self, term: Any) -> None:
        self.term = term
        self.upstream: tuple[Any, ...] = ()
        """(predicate, target, ...): the edges from the node, sameAs included."""
        self.downstream: tuple[Any, ...] = ()
        """(predicate, source, ...): the edges into the node."""
        self.types: tuple[Any, ...] = ()
        self.names: tuple[str, ...] = ()
        self.kind: str | None = None

    def empty(self) -> bool:
        return not (self.upstream or self.downstream or self.types or self.names)


_SLOTS = ("upstream", "downstream", "types", "names")
"""The fields of :class:`_Node` that hold facts, each a flat tuple of items."""
_WIDTH = {"upstream": 2, "downstream": 2, "types": 1, "names": 1}
"""How many tuple entries one fact takes in each field."""


def _by_node(contribution: _Contribution) -> dict[Any, dict[str, list[Any]]]:
    """A graph's facts regrouped by the node they are stored at, field by field."""
    grouped: dict[Any, dict[str, list[Any]]] = {}

    def at(node: Any, slot: str) -> list[Any]:
        return grouped.setdefault(node, {}).setdefault(slot, [])

    edges = contribution.edges
    for start in range(0, len(edges), 3):
        source, predicate, target = edges[start : start + 3]
        at(source, "upstream").extend((predicate, target))
        at(target, "downstream").extend((predicate, source))
    for node, type_ in _pairs(contribution.types):
        at(node, "types").append(type_)
    for node, name in _pairs(contribution.names):
        at(node, "names").append(name)
    return grouped


def _without(entries: tuple[Any, ...], gone: list[Any], width: int) -> tuple[Any, ...]:
    """``entries`` less one occurrence of each item of ``gone`` (``width`` entries an item)."""
    counts = Counter(zip(*(gone[i::width] for i in range(width)), strict=True))
    kept: list[Any] = []
    for start in range(0, len(entries), width):
        item = entries[start : start + width]
        if counts[item] > 0:
            counts[item] -= 1
        else:
            kept += item
    return tuple(kept)


class LineageFacts:
    """The union of every graph's contribution: per node, its edges both ways, kind and names.

    Read it only inside :meth:`LineageIndex.reading`, which holds the index's lock.
    """

    def __init__(self) -> None:
        self._nodes: dict[Any, _Node] = {}
        self._graphs: dict[GraphName, _Contribution] = {}
        self._by_name: dict[str, set[Any]] = {}
        """Nodes by lower-cased name: finding "the fraud model" by name is a look-up, not a scan."""

    # -------------------------------------------------------------- reading

    def step(self, frontier: Iterable[Any], direction: str) -> set[Row]:
        """The rows ``upstream_step.rq`` (or ``downstream_step.rq``) would return for a frontier."""
        rows: set[Row] = set()
        for node in frontier:
            record = self._nodes.get(node)
            if record is None:
                continue
            forward, backward = record.upstream, record.downstream
            if direction == "upstream":
                rows.update(zip(repeat(node), forward[::2], forward[1::2]))
                rows.update((node, p, s) for p, s in _pairs(backward) if p is OWL_SAME_AS)
            else:
                rows.update(zip(backward[1::2], backward[::2], repeat(node)))
                rows.update((o, p, node) for p, o in _pairs(forward) if p is OWL_SAME_AS)
        return rows

    def describe(self, node: Any) -> tuple[str | None, str | None]:
        """The node's kind and name; of several names the smallest, as :func:`mlg.lineage.describe`."""
        record = self._nodes.get(node)
        if record is None:
            return None, None
        return record.kind, min(record.names) if record.names else None

    def knows(self, node: Any) -> bool:
        """Whether a graph states an edge, a kind or a name of the node."""
        return node in self._nodes

    def named(self, name: str) -> list[Any]:
        """The nodes named ``name``, ignoring case (as ``find_by_name.rq``), in IRI order."""
        return sorted(self._by_name.get(name.lower(), ()), key=lambda node: node.value)

    def graphs(self) -> list[GraphName]:
        """The graphs that contribute something."""
        return list(self._graphs)

    def intern(self, term: Any) -> Any:
        """The node object already held for ``term``, so that equal terms share one object."""
        record = self._nodes.get(term)
        return term if record is None else record.term

    # -------------------------------------------------------------- writing

    def replace(self, graph: GraphName, contribution: _Contribution) -> None:
        """Forget what ``graph`` stated, then add what it states now."""
        for node, slots in _by_node(self._graphs.pop(graph, EMPTY)).items():
            record = self._nodes[node]
            named = record.names
            for slot, gone in slots.items():
                setattr(record, slot, _without(getattr(record, slot), gone, _WIDTH[slot]))
            self._changed(record, slots, named)
        if contribution == EMPTY:
            return
        self._graphs[graph] = contribution
        for node, slots in _by_node(contribution).items():
            record = self._nodes.get(node) or self._nodes.setdefault(node, _Node(node))
            named = record.names
            for slot, added in slots.items():
                setattr(record, slot, getattr(record, slot) + tuple(added))
            self._changed(record, slots, named)

    def _changed(self, record: _Node, slots: dict[str, list[Any]], named: tuple[str, ...]) -> None:
        """Derived facts after a change: the kind, the name look-up (``named``: the names before)."""
        if "types" in slots:
            record.kind = ontology().kind(record.types)
        if "names" in slots:
            before, after = {n.lower() for n in named}, {n.lower() for n in record.names}
            for key in before - after:
                nodes = self._by_name[key]
                nodes.discard(record.term)
                if not nodes:
                    del self._by_name[key]
            for key in after - before:
                self._by_name.setdefault(key, set()).add(record.term)
        if record.empty():
            del self._nodes[record.term]


class LineageIndex:
    """The store's lineage in memory, kept fresh by :meth:`refresh`; safe to share between threads.

    >>> from mlg.store import OxigraphStore
    >>> index = LineageIndex.build(OxigraphStore(None))
    >>> with index.reading() as facts:
    ...     facts.graphs()
    []
    """

    def __init__(self) -> None:
        self._facts = LineageFacts()
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        """Refreshes one at a time: an older read of a graph must not land after a newer one."""

    @classmethod
    def build(cls, store: GraphStore) -> LineageIndex:
        """Read every graph of ``store`` (one query)."""
        index = cls()
        index.refresh(store, None)
        return index

    def refresh(self, store: GraphStore, graphs: Iterable[GraphName] | None) -> None:
        """Read again the graphs whose content changed (replaced, dropped or new); None: all of them.

        The store is read before the lock is taken, so traces wait only for the
        dictionary updates (or, for None, the swap of the whole index).
        """
        terms: dict[Any, Any] = {}  # one object for each distinct term read
        with self._refreshing:
            if graphs is None:
                fresh = LineageFacts()
                for graph, contribution in _read(store, None, lambda t: terms.setdefault(t, t)).items():
                    fresh.replace(graph, contribution)
                with self._lock:
                    self._facts = fresh
                return
            wanted = list(dict.fromkeys(graphs))
            facts = self._facts  # only refreshes replace it, and they wait for each other
            found = _read(store, wanted, lambda t: terms.setdefault(t, facts.intern(t)))
            with self._lock:
                for graph in wanted:
                    self._facts.replace(graph, found.get(graph, EMPTY))

    @contextmanager
    def reading(self) -> Iterator[LineageFacts]:
        """The facts, unchanging until the block ends (it holds the lock: keep it short)."""
        with self._lock:
            yield self._facts

    def knows(self, node: NamedNode) -> bool:
        """Whether a graph states an edge, a kind or a name of ``node``."""
        with self.reading() as facts:
            return facts.knows(node)
