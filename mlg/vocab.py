"""The vocabulary as Python sees it: IRIs of the terms, and the ontology's hierarchy.

Oxigraph does no inference, so the hierarchy is read once from ``ontology/mlg.ttl``
and used to materialise super-classes and super-properties at admission
(:meth:`Ontology.entail`): a client that knows only PROV-O or DCAT then finds
our data with plain SPARQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from pyoxigraph import NamedNode, Triple, parse

from mlg import resources

MLG = "https://w3id.org/mlg#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
MLS = "http://www.w3.org/ns/mls#"
SCHEMA = "https://schema.org/"

PREFIXES = {
    "mlg": MLG,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "prov": PROV,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "mls": MLS,
    "schema": SCHEMA,
}

ONTOLOGY_IRI = "https://w3id.org/mlg"


def mlg(local: str) -> NamedNode:
    return NamedNode(MLG + local)


RDF_TYPE = NamedNode(RDF + "type")
OWL_SAME_AS = NamedNode(OWL + "sameAs")
RDFS_SUBCLASS = NamedNode(RDFS + "subClassOf")
RDFS_SUBPROPERTY = NamedNode(RDFS + "subPropertyOf")
RDFS_LABEL = NamedNode(RDFS + "label")
OWL_OBJECT_PROPERTY = NamedNode(OWL + "ObjectProperty")
UPSTREAM = mlg("upstream")
XSD_STRING = NamedNode(XSD + "string")
XSD_DOUBLE = NamedNode(XSD + "double")
XSD_DATETIME = NamedNode(XSD + "dateTime")
XSD_ANYURI = NamedNode(XSD + "anyURI")
XSD_INTEGER = NamedNode(XSD + "integer")

# The classes a person picks from, by the name the manifest and the CLI use.
KINDS: dict[str, str] = {
    "dataset": "Dataset",
    "dataset-version": "DatasetVersion",
    "feature-view": "FeatureView",
    "feature-service": "FeatureService",
    "feature": "Feature",
    "field": "Field",
    "experiment": "Experiment",
    "run": "Run",
    "training-run": "TrainingRun",
    "model": "Model",
    "model-version": "ModelVersion",
    "evaluation": "Evaluation",
    "pipeline": "Pipeline",
    "job": "Job",
    "deployment": "Deployment",
    "service": "Service",
    "system": "System",
    "team": "Team",
    "person": "Person",
}
KIND_OF_CLASS = {MLG + local: kind for kind, local in KINDS.items()}


@dataclass(frozen=True)
class Ontology:
    """The closure of the class and property hierarchies, for entailment and lineage."""

    superclasses: dict[NamedNode, frozenset[NamedNode]]
    superproperties: dict[NamedNode, frozenset[NamedNode]]
    lineage_properties: frozenset[NamedNode]
    depth: dict[NamedNode, int]
    edge_properties: frozenset[NamedNode] = frozenset()
    """Our object properties but mlg:upstream: what a load summary counts as edges."""

    def entail(self, triples: Iterable[Triple]) -> Iterator[Triple]:
        """The triples, each followed by what RDFS entails from it through our hierarchy."""
        supers_of_class = self.superclasses
        supers_of_property = self.superproperties
        for triple in triples:
            yield triple
            predicate = triple.predicate
            if predicate == RDF_TYPE:
                for superclass in supers_of_class.get(triple.object, ()):  # type: ignore[arg-type]
                    yield Triple(triple.subject, RDF_TYPE, superclass)
            else:
                for superproperty in supers_of_property.get(predicate, ()):
                    yield Triple(triple.subject, superproperty, triple.object)

    def most_specific(self, terms: Iterable[NamedNode]) -> NamedNode | None:
        """The deepest of some classes or properties of ours: the one a person wants to see."""
        ours = [term for term in terms if term.value.startswith(MLG)]
        return max(ours, key=lambda term: (self.depth.get(term, 0), term.value), default=None)

    def kind(self, types: Iterable[NamedNode]) -> str | None:
        """The manifest kind (``model-version``...) of a node, from its rdf:types."""
        return KIND_OF_CLASS.get(getattr(self.most_specific(types), "value", ""))


def _closure(direct: dict[NamedNode, set[NamedNode]]) -> dict[NamedNode, frozenset[NamedNode]]:
    closed: dict[NamedNode, frozenset[NamedNode]] = {}

    def supers(term: NamedNode, seen: frozenset[NamedNode]) -> frozenset[NamedNode]:
        if term in closed:
            return closed[term]
        found: set[NamedNode] = set()
        for parent in direct.get(term, ()):
            if parent not in seen:
                found.add(parent)
                found |= supers(parent, seen | {parent})
        closed[term] = frozenset(found - {term})
        return closed[term]

    for term in list(direct):
        supers(term, frozenset({term}))
    return closed


@cache
def ontology() -> Ontology:
    """The shipped ontology's hierarchy, read once per process."""
    direct_classes: dict[NamedNode, set[NamedNode]] = {}
    direct_properties: dict[NamedNode, set[NamedNode]] = {}
    object_properties: set[NamedNode] = set()
    for quad in parse(path=str(resources.ontology_path())):
        if quad.predicate == RDF_TYPE and quad.object == OWL_OBJECT_PROPERTY:
            object_properties.add(quad.subject)  # type: ignore[arg-type]
        elif quad.predicate == RDFS_SUBCLASS:
            direct_classes.setdefault(quad.subject, set()).add(quad.object)
        elif quad.predicate == RDFS_SUBPROPERTY:
            direct_properties.setdefault(quad.subject, set()).add(quad.object)
    superclasses = _closure(direct_classes)
    superproperties = _closure(direct_properties)
    lineage = frozenset(p for p, supers in superproperties.items() if UPSTREAM in supers)
    depth = {term: len(supers) for term, supers in {**superclasses, **superproperties}.items()}
    edges = frozenset(p for p in object_properties if p.value.startswith(MLG) and p != UPSTREAM)
    return Ontology(superclasses, superproperties, lineage, depth, edges)
