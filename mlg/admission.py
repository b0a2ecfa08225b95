"""The admission gate: a submission is validated whole, then committed whole, or not at all.

1. **Entail.** Super-classes and super-properties of the ontology are added, so the
   shapes (and later any PROV-only or DCAT-only client) see them without a reasoner.
2. **Validate.** pySHACL runs over an in-memory rdflib graph of one batch of the
   submission plus the ``rdf:type`` facts of the nodes it points at (taken from the
   submission or, for nodes it does not describe, from the store). The focus nodes
   are the nodes the batch describes, so the cost grows with the submission, not
   with the store.
3. **Commit.** Into the submission's own named graph, with its provenance, in one
   transaction (a new graph is inserted; a changed one is replaced by one SPARQL
   update holding the difference). A submission larger than ``atomic_limit`` triples
   streams through Oxigraph's bulk loader instead; a journal entry written before and
   removed after lets :func:`recover` drop a partial graph left by a crash.
   A submission into a graph its client named (Graph Store Protocol) replaces that graph
   in one update, and its provenance goes to :data:`PROVENANCE_GRAPH`, so that the graph
   holds what the client sent (with the entailed super-classes) and a GET returns it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path

import pyshacl
import rdflib
import rdflib.collection
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple, parse, serialize

from mlg import __version__, resources
from mlg.identity import Minter
from mlg.store import GraphName, GraphStore
from mlg.submission import Record, Submission
from mlg.vocab import (
    ONTOLOGY_IRI,
    PROV,
    RDF_TYPE,
    XSD_DATETIME,
    XSD_INTEGER,
    XSD_STRING,
    Ontology,
    mlg,
    ontology,
)

Progress = Callable[[int, int], None]
"""Called with (records validated so far, records in all) while a submission is checked."""

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_PENDING = mlg("pendingGraph")
_DIGEST = mlg("digest")
_AGENT_KINDS = (mlg("Team"), mlg("Person"))
PROVENANCE_GRAPH = mlg("provenanceGraph")
"""Holds the provenance of the graphs clients name themselves (Graph Store Protocol), outside them."""
DEFAULT_GRAPH_NODE = mlg("defaultGraph")
"""Stands for the default graph where an IRI is needed: the subject of its provenance."""
RESERVED_GRAPHS = frozenset({NamedNode(ONTOLOGY_IRI), PROVENANCE_GRAPH, _PENDING})
"""Graphs mlg keeps itself: no client names them as the target of a submission."""


@dataclass(frozen=True)
class Finding:
    """One SHACL result, in words a person can act on."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str | None = None

    def line(self) -> str:
        where = f" {self.path}" if self.path else ""
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{self.severity}: <{self.focus}>{where}: {self.message}{value}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def conforms(self) -> bool:
        return not self.of("Violation")

    def counts(self) -> dict[str, int]:
        return {s: len(self.of(s)) for s in ("Violation", "Warning", "Info")}


@dataclass
class Outcome:
    """What happened to one submission."""

    submission: Submission
    graph: GraphName
    status: str
    """admitted, replaced, unchanged, rejected (violations) or valid (validated only)."""
    report: Report
    assets: int = 0
    triples: int = 0
    seconds: float = 0.0
    edges: int = 0

    @property
    def ok(self) -> bool:
        return self.status != "rejected"


@cache
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(resources.shapes_path(), format="turtle")


@cache
def shape_terms() -> tuple[frozenset[NamedNode], frozenset[NamedNode]]:
    """The predicates and the classes the shapes read: only these go into the validation graph.

    A materialised super-property (prov:used...) or super-class (dcat:Dataset...) that no
    shape looks at would only cost time: the validation graph is a third of the submission.
    """
    shapes = shapes_graph()
    paths = set(shapes.objects(None, SH.path))
    for path in list(paths):
        for alternatives in shapes.objects(path, SH.alternativePath):
            paths |= set(rdflib.collection.Collection(shapes, alternatives))
    classes = set(shapes.objects(None, SH.targetClass)) | set(shapes.objects(None, SH["class"]))

    def iris(terms: set[rdflib.term.Node]) -> frozenset[NamedNode]:
        return frozenset(NamedNode(str(t)) for t in terms if isinstance(t, rdflib.URIRef))

    return iris(paths), iris(classes)


class _Converter:
    """pyoxigraph terms to rdflib terms, remembering IRIs (they repeat a lot)."""

    def __init__(self) -> None:
        self._iris: dict[str, rdflib.URIRef] = {}

    def __call__(self, term: object) -> rdflib.term.Node:
        if isinstance(term, NamedNode):
            iri = self._iris.get(term.value)
            if iri is None:
                iri = self._iris[term.value] = rdflib.URIRef(term.value)
            return iri
        if isinstance(term, Literal):
            if term.language:
                return rdflib.Literal(term.value, lang=term.language)
            if term.datatype == XSD_STRING:  # rdflib keeps simple literals untyped, as sh:in lists do
                return rdflib.Literal(term.value)
            return rdflib.Literal(term.value, datatype=self(term.datatype))
        if isinstance(term, BlankNode):
            return rdflib.BNode(term.value)
        raise TypeError(f"unsupported term {term!r}")


@dataclass
class _Plan:
    """What the first pass learns about a submission."""

    types: dict[object, list[NamedNode]]
    described: set[object]
    triples: int
    record_count: int
    records: list[Record] | None
    """The entailed records, kept when the submission is small enough to commit at once."""
    edges: int
    """Edges as stated (before entailment), for the load summary."""


def _entailed_records(submission: Submission, onto: Ontology) -> Iterator[Record]:
    for record in submission.records():
        yield list(onto.entail(record))


def _plan(submission: Submission, onto: Ontology, keep_limit: int) -> _Plan:
    classes = {cls: cls for cls in shape_terms()[1]}  # one shared object per class
    types: dict[object, list[NamedNode]] = {}
    described: set[object] = set()
    kept: list[Record] | None = []
    triples = count = edges = 0
    edge_properties = onto.edge_properties
    for stated in submission.records():
        edges += sum(1 for triple in stated if triple.predicate in edge_properties)
        record = list(onto.entail(stated))
        triples += len(record)
        count += 1
        for triple in record:
            if triple.predicate == RDF_TYPE:
                if triple.object in classes:  # the only types validation reads
                    types.setdefault(triple.subject, []).append(classes[triple.object])
            else:
                described.add(triple.subject)
        if kept is not None:
            kept.append(record)
            if triples > keep_limit:
                kept = None
    return _Plan(types, described, triples, count, kept, edges)


def _store_types(
    store: GraphStore, nodes: Iterable[NamedNode], own_graph: NamedNode
) -> dict[NamedNode, list[NamedNode]]:
    """rdf:types the store holds for some nodes, outside the graph being replaced."""
    found: dict[NamedNode, list[NamedNode]] = {}
    pending = list(nodes)
    query = resources.query("types_of_nodes")
    for start in range(0, len(pending), 500):
        values = " ".join(str(node) for node in pending[start : start + 500])
        for row in store.query(query.replace("#VALUES", values), {"own": own_graph}):
            found.setdefault(row["node"], []).append(row["type"])  # type: ignore[arg-type]
    return found


def _findings(results: rdflib.Graph, focus: set[rdflib.term.Node]) -> list[Finding]:
    """The SHACL results about the focus nodes, in words."""
    findings = []
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        if results.value(result, SH.focusNode) not in focus:
            continue

        def get(prop: rdflib.URIRef, result: rdflib.term.Node = result) -> str | None:
            value = results.value(result, prop)
            return None if value is None else str(value)

        severity = (get(SH.resultSeverity) or str(SH.Violation)).rsplit("#", 1)[-1]
        path = get(SH.resultPath)
        if path and path.startswith("http"):
            path = path.replace("https://w3id.org/mlg#", "mlg:")
        elif path:
            path = None  # a complex path (blank node): the message says what it is
        findings.append(
            Finding(
                severity,
                get(SH.focusNode) or "",
                path,
                get(SH.value),
                get(SH.resultMessage) or "constraint not met",
                get(SH.sourceShape),
            )
        )
    return findings


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for each ill-typed literal; the shapes report it as a violation instead."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _validate(
    store: GraphStore,
    plan: _Plan,
    records: Iterable[Record],
    graph: NamedNode,
    chunk: int,
    progress: Progress | None,
) -> Report:
    convert = _Converter()
    report = Report()
    known_outside: dict[NamedNode, Sequence[NamedNode]] = {}
    iterator = iter(records)
    done = 0
    predicates, classes = shape_terms()
    rdf_type = convert(RDF_TYPE)
    while batch := list(islice(iterator, chunk)):
        data = rdflib.Graph()
        add = data.add
        focus: set[object] = set()
        pointed_at: set[object] = set()
        for record in batch:
            for triple in record:
                subject, predicate, value = triple.subject, triple.predicate, triple.object
                if predicate == RDF_TYPE:
                    if value in classes:
                        add((convert(subject), rdf_type, convert(value)))
                    continue
                if subject in plan.described:
                    focus.add(subject)
                if predicate in predicates:
                    add((convert(subject), convert(predicate), convert(value)))
                    if isinstance(value, NamedNode):
                        pointed_at.add(value)
        unknown = [n for n in pointed_at if n not in plan.types and n not in known_outside]
        if unknown:
            known_outside.update(dict.fromkeys(unknown, ()))
            known_outside.update(_store_types(store, unknown, graph))
        for node in pointed_at:
            # Both the submission's and the store's types are already entailed.
            for cls in plan.types.get(node) or known_outside.get(node, ()):
                if cls in classes:
                    add((convert(node), rdf_type, convert(cls)))
        if focus:
            # pySHACL's focus_nodes option filters with a list lookup per shape and value
            # node (quadratic: 41 assets/s at 10k); validating the batch's typed neighbours
            # too and keeping only the findings about described nodes is linear.
            _, results, _ = pyshacl.validate(
                data, shacl_graph=shapes_graph(), inference="none", allow_warnings=True, allow_infos=True
            )
            wanted = {convert(node) for node in focus}
            report.findings += _findings(results, wanted)
        done += len(batch)
        if progress:
            progress(done, plan.record_count)
    return report


def _provenance(submission: Submission, graph: NamedNode, triples: int) -> list[Triple]:
    """What admission records about a submission, as triples about its graph's IRI."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return list(
        ontology().entail(
            [
                Triple(graph, RDF_TYPE, mlg("Submission")),
                Triple(graph, mlg("source"), Literal(submission.source)),
                Triple(graph, mlg("format"), Literal(submission.format)),
                Triple(graph, NamedNode(PROV + "generatedAtTime"), Literal(now, datatype=XSD_DATETIME)),
                Triple(graph, _DIGEST, Literal(submission.digest)),
                Triple(graph, mlg("toolVersion"), Literal(__version__)),
                Triple(graph, mlg("tripleCount"), Literal(str(triples), datatype=XSD_INTEGER)),
            ]
        )
    )


def stored_digest(store: GraphStore, graph: NamedNode) -> str | None:
    for row in store.query(resources.query("submission_digest"), {"graph": graph}):
        return row["digest"].value  # type: ignore[union-attr]
    return None


def _replace_atomically(store: GraphStore, graph: NamedNode, quads: list[Quad]) -> None:
    if not store.has_graph(graph):
        store.add_atomically(quads)
        return
    old = set(store.graph_quads(graph))
    new = set(quads)
    if old == new:
        return  # nothing to write: no transaction (install_ontology runs on every write command)
    removed = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in old - new)
    added = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in new - old)
    store.update(
        f"DELETE DATA {{ GRAPH {graph} {{ {removed} }} }} ;\nINSERT DATA {{ GRAPH {graph} {{ {added} }} }}"
    )


def _data_block(graph: GraphName, quads: Iterable[Quad]) -> str:
    triples = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return triples if isinstance(graph, DefaultGraph) else f"GRAPH {graph} {{ {triples} }}"


def _replace_named(store: GraphStore, graph: GraphName, quads: list[Quad], provenance: list[Triple]) -> None:
    """Replace a client-named graph and its provenance in :data:`PROVENANCE_GRAPH` by one update.

    Only the difference is written, unless the old graph holds blank nodes (written by a
    SPARQL update): DELETE DATA cannot name them, so the graph is dropped and rewritten.
    """
    old = set(store.graph_quads(graph))
    new = set(quads)
    removed, added = old - new, new - old
    target = "DEFAULT" if isinstance(graph, DefaultGraph) else f"GRAPH {graph}"
    operations = []
    if any(isinstance(term, BlankNode) for q in removed for term in (q.subject, q.object)):
        operations.append(f"DROP SILENT {target}")
        added = new
    elif removed:
        operations.append(f"DELETE DATA {{ {_data_block(graph, removed)} }}")
    if isinstance(graph, NamedNode):
        operations.append(f"CREATE SILENT GRAPH {graph}")  # a PUT of no triples still makes the graph
    subject = graph if isinstance(graph, NamedNode) else DEFAULT_GRAPH_NODE
    operations.append(f"DELETE WHERE {{ GRAPH {PROVENANCE_GRAPH} {{ {subject} ?p ?o }} }}")
    about = " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in provenance)
    operations.append(f"INSERT DATA {{ {_data_block(graph, added)} GRAPH {PROVENANCE_GRAPH} {{ {about} }} }}")
    store.update(" ;\n".join(operations))


def drop_graph(store: GraphStore, graph: GraphName) -> bool:
    """Remove a graph and the provenance kept about it, in one update; False if it does not exist."""
    if not store.has_graph(graph):
        return False
    target = "DEFAULT" if isinstance(graph, DefaultGraph) else f"GRAPH {graph}"
    subject = graph if isinstance(graph, NamedNode) else DEFAULT_GRAPH_NODE
    store.update(f"DROP SILENT {target} ;\nDELETE WHERE {{ GRAPH {PROVENANCE_GRAPH} {{ {subject} ?p ?o }} }}")
    return True


def _journal(graph: NamedNode) -> Quad:
    return Quad(_PENDING, _PENDING, graph, _PENDING)


def _bulk_replace(
    store: GraphStore, graph: NamedNode, records: Iterable[Record], provenance: list[Triple]
) -> None:
    fd, name = tempfile.mkstemp(prefix="mlg-bulk-", suffix=".nq")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as output:
            quads = (Quad(t.subject, t.predicate, t.object, graph) for r in records for t in r)
            serialize(quads, output, RdfFormat.N_QUADS)
        store.add_atomically([_journal(graph)])
        if store.has_graph(graph):
            store.remove_graph(graph)
        store.bulk_add(path)
        store.add_atomically(Quad(t.subject, t.predicate, t.object, graph) for t in provenance)
        store.update(f"DELETE DATA {{ GRAPH {_PENDING} {{ {_PENDING} {_PENDING} {graph} }} }}")
    finally:
        path.unlink(missing_ok=True)


def recover(store: GraphStore) -> list[NamedNode]:
    """Drop graphs a crash left half-written by the bulk path; returns what was dropped."""
    dropped = []
    for quad in list(store.graph_quads(_PENDING)):
        graph = quad.object
        if isinstance(graph, NamedNode):
            store.remove_graph(graph)
            dropped.append(graph)
    if dropped:
        store.remove_graph(_PENDING)
    return dropped


def install_ontology(store: GraphStore) -> None:
    """Keep the ontology in its own graph, so clients can read our terms' labels and hierarchy."""
    graph = NamedNode(ONTOLOGY_IRI)
    text = resources.ontology_path().read_bytes()
    quads = [Quad(q.subject, q.predicate, q.object, graph) for q in parse(text, RdfFormat.TURTLE)]
    _replace_atomically(store, graph, quads)


class Gate:
    """Validates and commits submissions into one store."""

    def __init__(
        self, store: GraphStore, minter: Minter, *, atomic_limit: int = 500_000, chunk_assets: int = 2000
    ) -> None:
        self.store = store
        self.minter = minter
        self.atomic_limit = atomic_limit
        self.chunk_assets = chunk_assets

    def validate(self, submission: Submission, progress: Progress | None = None) -> Outcome:
        """Validate without writing anything."""
        return self._run(submission, commit=False, progress=progress)

    def admit(self, submission: Submission, progress: Progress | None = None) -> Outcome:
        """Validate, then commit the whole submission or nothing of it."""
        return self._run(submission, commit=True, progress=progress)

    def _run(self, submission: Submission, *, commit: bool, progress: Progress | None) -> Outcome:
        started = time.perf_counter()
        named = submission.graph
        graph = named if named is not None else self.minter.graph(submission.source)
        own = graph if isinstance(graph, NamedNode) else DEFAULT_GRAPH_NODE
        if commit and named is None and stored_digest(self.store, own) == submission.digest:
            return Outcome(submission, graph, "unchanged", Report(), seconds=time.perf_counter() - started)
        onto = ontology()
        # A client-named graph is written in one update (its request body is capped), never in bulk.
        plan = _plan(submission, onto, self.atomic_limit if named is None else sys.maxsize)
        records = plan.records if plan.records is not None else _entailed_records(submission, onto)
        with _quiet_rdflib():
            report = _validate(self.store, plan, records, own, self.chunk_assets, progress)
        assets = sum(1 for node in plan.described if self._is_asset(plan.types.get(node, ())))
        outcome = Outcome(submission, graph, "valid", report, assets, plan.triples, edges=plan.edges)
        if not report.conforms:
            outcome.status = "rejected"
        elif commit:
            outcome.status = "replaced" if self.store.has_graph(graph) else "admitted"
            provenance = _provenance(submission, own, plan.triples)
            if named is not None:
                kept = plan.records or []
                quads = [Quad(t.subject, t.predicate, t.object, named) for r in kept for t in r]
                _replace_named(self.store, named, quads, provenance)
            elif plan.records is not None:
                quads = [
                    Quad(t.subject, t.predicate, t.object, graph)
                    for record in (*plan.records, provenance)
                    for t in record
                ]
                _replace_atomically(self.store, own, quads)
            else:
                _bulk_replace(self.store, own, _entailed_records(submission, onto), provenance)
        outcome.seconds = time.perf_counter() - started
        return outcome

    @staticmethod
    def _is_asset(types: Iterable[NamedNode]) -> bool:
        return any(t == mlg("Asset") or t in _AGENT_KINDS for t in types)
