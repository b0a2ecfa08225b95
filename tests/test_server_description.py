"""GET /sparql without a query: the service description, with VoID statistics of the store."""

from __future__ import annotations

import pytest
import rdflib

from mlg.config import Config
from mlg.server import create_app
from mlg.store import OxigraphStore

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FOAF = rdflib.FOAF
TOKEN = "description-token"
PEOPLE = """
<http://example.org/alice> a <http://xmlns.com/foaf/0.1/Person> , <http://xmlns.com/foaf/0.1/Agent> .
<http://example.org/bob> a <http://xmlns.com/foaf/0.1/Person> .
"""


@pytest.fixture
def store():
    return OxigraphStore(None)


@pytest.fixture
def client(store):
    client = create_app(Config(update_token=TOKEN), store=store).test_client()
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}
    assert (
        client.put("/store?graph=http://example.org/people", data=PEOPLE, headers=headers).status_code == 201
    )
    return client


def description(client, accept: str = "text/turtle", format: str = "turtle") -> rdflib.Graph:
    reply = client.get("/sparql", headers={"Accept": accept})
    assert reply.status_code == 200 and reply.mimetype == accept
    return rdflib.Graph().parse(data=reply.data, format=format)


def dataset_of(graph: rdflib.Graph) -> rdflib.term.Node:
    service = graph.value(None, SD.endpoint, rdflib.URIRef("http://localhost/sparql"))
    return graph.value(service, SD.defaultDataset)


def test_the_service_says_what_it_speaks(client):
    graph = description(client)
    service = rdflib.URIRef("http://localhost/sparql")
    assert (service, rdflib.RDF.type, SD.Service) in graph
    assert set(graph.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query, SD.SPARQL11Update}
    assert {SD.UnionDefaultGraph, SD.EmptyGraphs} <= set(graph.objects(service, SD.feature))
    formats = {str(f).rsplit("/", 1)[1] for f in graph.objects(service, SD.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_CSV", "Turtle", "RDF_XML"} <= formats
    note = str(graph.value(service, rdflib.DCTERMS.description))
    assert "union of all the graphs" in note


def test_void_counts_match_the_store(client, store):
    graph = description(client)
    dataset = dataset_of(graph)
    # Three triples of people, and the provenance of their graph (in mlg:provenanceGraph).
    assert graph.value(dataset, VOID.triples).toPython() == len(store) > 3
    assert graph.value(dataset, VOID.entities).toPython() == 3  # alice, bob, the graph
    partitions = {
        graph.value(p, VOID["class"]): graph.value(p, VOID.entities).toPython()
        for p in graph.objects(dataset, VOID.classPartition)
    }
    assert partitions[FOAF.Person] == 2 and partitions[FOAF.Agent] == 1
    assert partitions[rdflib.URIRef("https://w3id.org/mlg#Submission")] == 1
    assert graph.value(dataset, VOID.classes).toPython() == len(partitions)
    names = {graph.value(n, SD.name) for n in graph.objects(dataset, SD.namedGraph)}
    assert names == {
        rdflib.URIRef("http://example.org/people"),
        rdflib.URIRef("https://w3id.org/mlg#provenanceGraph"),
    }


def test_the_statistics_follow_writes(client):
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}
    more = "<http://example.org/carol> a <http://xmlns.com/foaf/0.1/Person> ."
    before = description(client)
    assert (
        client.post("/store?graph=http://example.org/people", data=more, headers=headers).status_code == 204
    )
    after = description(client)
    count = lambda g: g.value(dataset_of(g), VOID.entities).toPython()  # noqa: E731
    assert count(after) == count(before) + 1


@pytest.mark.parametrize(
    ("accept", "format"),
    [("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt")],
)
def test_every_rdf_format(client, accept, format):
    assert (None, SD.endpoint, None) in description(client, accept, format)


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}
