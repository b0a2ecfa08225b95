"""The SPARQL 1.1 Service Description of /sparql, with a VoID description of the data.

A GET on the endpoint without a query returns it. It says what the endpoint speaks
(languages, result formats, features: the default graph of a query is the union of all
graphs), and what it holds: triples, entities, classes and the entities of each class,
and the named graphs. The statistics cost a scan of the store, so they are computed
once and kept until the next write through this server (the only writer: it holds the
store's lock).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, Triple, serialize

from mlg import resources
from mlg.server.negotiation import Representation
from mlg.store import GraphStore
from mlg.vocab import DCTERMS, RDF, XSD

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
PREFIXES = {"sd": SD, "void": VOID, "formats": FORMATS, "dcterms": DCTERMS}
RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
MAX_LISTED_GRAPHS = 1000
TYPE = RDF + "type"
DEFAULT_GRAPH_NOTE = (
    "The default graph of a query is the union of all the graphs of the store (sd:UnionDefaultGraph), "
    "unless the request names a dataset with default-graph-uri, named-graph-uri, FROM or FROM NAMED. "
    "An update without USING or WITH reads and writes the store's own default graph. "
    "The prefixes mlg, rdf, rdfs, owl, xsd, prov, dcat, dcterms, mls and schema are predefined."
)


@dataclass(frozen=True)
class Stats:
    triples: int
    entities: int
    classes: list[tuple[NamedNode, int]]
    graphs: list[NamedNode]


class Description:
    """Builds the service description; keeps the statistics until :meth:`invalidate`."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._stats: Stats | None = None
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._stats = None

    def stats(self) -> Stats:
        with self._lock:
            if self._stats is None:
                entities = next(iter(self.store.query(resources.query("void_entities"))))["entities"]
                classes = [
                    (row["class"], int(row["entities"].value))
                    for row in self.store.query(resources.query("void_classes"))
                ]
                self._stats = Stats(
                    len(self.store),
                    int(entities.value),  # type: ignore[union-attr]
                    classes,  # type: ignore[arg-type]
                    sorted(self.store.graphs(), key=lambda g: g.value),
                )
            return self._stats

    def triples(self, endpoint: str, *, updates: bool, federation: bool) -> list[Triple]:
        """The description of the service at ``endpoint`` (the URL the client asked)."""
        service = NamedNode(endpoint)
        dataset = NamedNode(endpoint + "#dataset")
        default = NamedNode(endpoint + "#default-graph")
        stats = self.stats()
        out: list[Triple] = []

        def add(subject: NamedNode | BlankNode, predicate: str, value: object) -> None:
            out.append(Triple(subject, NamedNode(predicate), value))  # type: ignore[arg-type]

        def count(value: int) -> Literal:
            return Literal(str(value), datatype=NamedNode(XSD + "integer"))

        add(service, TYPE, NamedNode(SD + "Service"))
        add(service, SD + "endpoint", service)
        add(service, SD + "supportedLanguage", NamedNode(SD + "SPARQL11Query"))
        if updates:
            add(service, SD + "supportedLanguage", NamedNode(SD + "SPARQL11Update"))
        for name in RESULT_FORMATS:
            add(service, SD + "resultFormat", NamedNode(FORMATS + name))
        add(service, SD + "feature", NamedNode(SD + "UnionDefaultGraph"))
        add(service, SD + "feature", NamedNode(SD + "EmptyGraphs"))
        if federation:
            add(service, SD + "feature", NamedNode(SD + "BasicFederatedQuery"))
        add(service, DCTERMS + "description", Literal(DEFAULT_GRAPH_NOTE))
        add(service, SD + "defaultDataset", dataset)

        add(dataset, TYPE, NamedNode(SD + "Dataset"))
        add(dataset, TYPE, NamedNode(VOID + "Dataset"))
        add(dataset, SD + "defaultGraph", default)
        add(dataset, VOID + "sparqlEndpoint", service)
        add(dataset, VOID + "triples", count(stats.triples))
        add(dataset, VOID + "entities", count(stats.entities))
        add(dataset, VOID + "classes", count(len(stats.classes)))
        for cls, entities in stats.classes:
            partition = BlankNode()
            add(dataset, VOID + "classPartition", partition)
            add(partition, VOID + "class", cls)
            add(partition, VOID + "entities", count(entities))
        add(default, TYPE, NamedNode(SD + "Graph"))
        add(default, DCTERMS + "description", Literal("The union of all the graphs of the store."))
        for graph in stats.graphs[:MAX_LISTED_GRAPHS]:
            named = BlankNode()
            add(dataset, SD + "namedGraph", named)
            add(named, TYPE, NamedNode(SD + "NamedGraph"))
            add(named, SD + "name", graph)
        return sorted(out, key=lambda triple: str(triple.subject))  # Turtle groups a subject's triples

    def document(self, endpoint: str, rep: Representation, *, updates: bool, federation: bool) -> bytes:
        triples = self.triples(endpoint, updates=updates, federation=federation)
        return serialize(triples, None, rep.format, prefixes=PREFIXES)  # type: ignore[arg-type,return-value]
