"""The W3C SPARQL 1.1 Service Description tests (../shared/w3c/service-description), against
`mlg serve` on loopback.

The manifest names three tests without machine-readable checks; each is written here:
the description is RDF in every format offered, it has an sd:endpoint triple naming the
URL it was fetched from, and it conforms to the Service Description vocabulary, checked
with SHACL shapes that encode the vocabulary's classes, domains, ranges and value sets.
"""

from __future__ import annotations

import pyshacl
import pytest
import rdflib
from test_w3c_manifest import RDF_TYPES, TOKEN, W3C, media_type

MANIFEST = W3C / "service-description" / "manifest.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


def _entries() -> list[str]:
    if not MANIFEST.exists():
        return []
    graph = rdflib.Graph().parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    head = graph.value(rdflib.URIRef(MANIFEST.as_uri()), MF.entries)
    return [str(node).rsplit("#", 1)[-1] for node in rdflib.collection.Collection(graph, head)]


ENTRIES = _entries()
pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="the W3C manifests (../shared/w3c) are absent")

SD_TERMS = {
    "Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile",
    "GraphCollection", "Dataset", "Graph", "NamedGraph",
    "endpoint", "feature", "defaultEntailmentRegime", "entailmentRegime", "defaultSupportedEntailmentProfile",
    "supportedEntailmentProfile", "extensionFunction", "extensionAggregate", "languageExtension",
    "supportedLanguage", "propertyFeature", "defaultDataset", "availableGraphs", "resultFormat",
    "inputFormat", "defaultGraph", "namedGraph", "name", "graph",
    "SPARQL10Query", "SPARQL11Query", "SPARQL11Update",
    "DereferencesURIs", "UnionDefaultGraph", "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery",
}  # fmt: skip

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <urn:shapes:> .

:Service a sh:NodeShape ; sh:targetClass sd:Service ;
  sh:property [ sh:path sd:endpoint ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:supportedLanguage ; sh:minCount 1 ;
                sh:in ( sd:SPARQL10Query sd:SPARQL11Query sd:SPARQL11Update ) ] ;
  sh:property [ sh:path sd:feature ;
                sh:in ( sd:DereferencesURIs sd:UnionDefaultGraph sd:RequiresDataset sd:EmptyGraphs
                        sd:BasicFederatedQuery ) ] ;
  sh:property [ sh:path sd:resultFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:inputFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultDataset ; sh:maxCount 1 ; sh:class sd:Dataset ] .
:Dataset a sh:NodeShape ; sh:targetClass sd:Dataset ;
  sh:property [ sh:path sd:defaultGraph ; sh:maxCount 1 ; sh:class sd:Graph ] ;
  sh:property [ sh:path sd:namedGraph ; sh:class sd:NamedGraph ] .
:NamedGraph a sh:NodeShape ; sh:targetClass sd:NamedGraph ;
  sh:property [ sh:path sd:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:graph ; sh:maxCount 1 ; sh:class sd:Graph ] .
:Counts a sh:NodeShape ; sh:targetSubjectsOf void:triples, void:entities, void:classes ;
  sh:property [ sh:path void:triples ; sh:maxCount 1 ; sh:datatype xsd:integer ] ;
  sh:property [ sh:path void:entities ; sh:maxCount 1 ; sh:datatype xsd:integer ] ;
  sh:property [ sh:path void:classes ; sh:maxCount 1 ; sh:datatype xsd:integer ] .
:Partition a sh:NodeShape ; sh:targetObjectsOf void:classPartition ;
  sh:property [ sh:path void:class ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path void:entities ; sh:minCount 1 ; sh:datatype xsd:integer ] .
"""


@pytest.fixture(scope="module")
def server(serve):
    server = serve({"MLG_UPDATE_TOKEN": TOKEN})
    reply = server.request(
        "PUT",
        "/store?graph=http://example.org/people",
        "<http://example.org/alice> a <http://xmlns.com/foaf/0.1/Person> .",
        {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status == 201, reply.body
    return server


def description(server, accept: str | None = "text/turtle") -> rdflib.Graph:
    reply = server.request("GET", "/sparql", headers={"Accept": accept} if accept else {})
    assert reply.status == 200, reply.body
    kind = media_type(reply.headers.get("Content-Type"))
    assert kind in RDF_TYPES, kind
    return rdflib.Graph().parse(data=reply.body, format=RDF_TYPES[kind])


def returns_rdf(server) -> None:
    for accept in (
        None,
        "*/*",
        "text/turtle",
        "application/rdf+xml",
        "application/ld+json",
        "application/n-triples",
    ):
        assert len(description(server, accept)) > 10, accept


def has_endpoint_triple(server) -> None:
    graph = description(server)
    endpoint = rdflib.URIRef(f"{server.url}/sparql")
    services = set(graph.subjects(SD.endpoint, endpoint))
    assert services, f"no sd:endpoint <{endpoint}>"
    assert all((s, rdflib.RDF.type, SD.Service) in graph for s in services)


def conforms_to_schema(server) -> None:
    graph = description(server)
    used = {
        str(t) for triple in graph for t in triple if isinstance(t, rdflib.URIRef) and str(t).startswith(SD)
    }
    assert {term.removeprefix(str(SD)) for term in used} <= SD_TERMS
    shapes = rdflib.Graph().parse(data=SHAPES, format="turtle")
    conforms, _, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text
    assert (None, SD.feature, SD.UnionDefaultGraph) in graph


CHECKS = {
    "returns-rdf": returns_rdf,
    "has-endpoint-triple": has_endpoint_triple,
    "conforms-to-schema": conforms_to_schema,
}


@pytest.mark.parametrize("name", ENTRIES)
def test_service_description(server, name):
    CHECKS[name](server)


def test_every_manifest_entry_has_a_check():
    assert sorted(ENTRIES) == sorted(CHECKS)
