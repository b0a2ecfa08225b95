"""Federation between two real `mlg serve` processes on loopback.

Server B is an "enterprise graph": owners' departments and datasets' classification
labels, written through its Graph Store with a token. Server A holds the demo lineage
and lists B's endpoint, exactly as written, in ``MLG_SERVICE_ALLOW``. A query at A joins
its lineage with B; B may call A only once A is on B's own list; pyoxigraph's SERVICE
client (in B, and in this process) reads A's answers; an unlisted endpoint is refused
while other clients keep their answers.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pyoxigraph
import pytest
from click.testing import CliRunner

from mlg.cli import cli

TOKEN = "enterprise-token"
BASE = "https://mlg.example.org/"
ENT = "https://corp.example.com/ns#"
ENTERPRISE = f"""
@prefix ent: <{ENT}> .
<{BASE}team/fraud-ml> ent:department "Risk" .
<{BASE}team/payments-data> ent:department "Payments" .
<{BASE}dataset/s3%3A%2F%2Fpayments-raw/transactions> ent:classification "confidential" .
<{BASE}dataset/bigquery/fraud.training.labelled_transactions> ent:classification "confidential" .
<{BASE}dataset/bigquery/payments.curated.merchant_risk> ent:classification "internal" .
<{BASE}dataset/hr/salaries> ent:classification "restricted" .
"""
CHECKOUT = f"<{BASE}service/checkout-api>"
LINEAGE = f"{CHECKOUT} mlg:upstream+ ?dataset . ?dataset a mlg:Dataset"
JOINED = {
    (f"{BASE}dataset/s3%3A%2F%2Fpayments-raw/transactions", "confidential", "Payments"),
    (f"{BASE}dataset/bigquery/fraud.training.labelled_transactions", "confidential", "Risk"),
    (f"{BASE}dataset/bigquery/payments.curated.merchant_risk", "internal", "Payments"),
}


def enterprise_graph(serve, env: dict[str, str] | None = None):
    """A server holding the enterprise graph, written through its Graph Store."""
    server = serve({"MLG_UPDATE_TOKEN": TOKEN, **(env or {})})
    reply = server.request(
        "PUT",
        "/store?graph=https://corp.example.com/graph/governance",
        ENTERPRISE,
        {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status == 201, reply.body
    return server


@pytest.fixture(scope="module")
def enterprise(serve):
    return enterprise_graph(serve)


@pytest.fixture(scope="module")
def lineage(serve, enterprise, tmp_path_factory):
    store = tmp_path_factory.mktemp("lineage") / "store"
    result = run_mlg("demo", "--no-serve", "--store", str(store))
    assert result.exit_code == 0, result.output
    return serve({"MLG_SERVICE_ALLOW": f"{enterprise.url}/sparql"}, store=store)


def run_mlg(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def select(server, text: str) -> tuple[int, list[dict[str, str]] | str]:
    reply = server.query(text)
    body = json.loads(reply.body)
    if reply.status != 200:
        return reply.status, body["error"]["message"]
    rows = [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]
    return reply.status, rows


def test_a_query_joins_the_local_lineage_with_the_enterprise_graph(lineage, enterprise):
    status, rows = select(
        lineage,
        f"""PREFIX ent: <{ENT}>
        SELECT DISTINCT ?dataset ?classification ?department WHERE {{
          {LINEAGE} ; mlg:ownedBy ?team .
          SERVICE <{enterprise.url}/sparql> {{
            ?dataset ent:classification ?classification . ?team ent:department ?department
          }}
        }}""",
    )
    assert status == 200, rows
    assert {(r["dataset"], r["classification"], r["department"]) for r in rows} == JOINED
    assert len(rows) == len(JOINED)


def test_the_service_description_says_the_endpoint_federates(lineage, enterprise):
    federated = b"<http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery>"
    for server, expected in ((lineage, True), (enterprise, False)):
        reply = server.request("GET", "/sparql", headers={"Accept": "application/n-triples"})
        assert (federated in reply.body) is expected


def test_the_other_direction_is_refused_until_the_lineage_server_is_listed(serve, lineage, enterprise):
    pattern = f"SELECT ?dataset WHERE {{ SERVICE <{lineage.url}/sparql> {{ {LINEAGE} }} }}"
    reply = enterprise.request(
        "GET", "/sparql?" + urlencode({"query": pattern}), headers={"Accept": "application/json"}
    )
    assert reply.status == 400
    assert reply.body.strip().count(b"\n") == 0  # one line
    message = json.loads(reply.body)["error"]["message"]
    assert message == (
        f"SERVICE <{lineage.url}/sparql> is refused: 127.0.0.1 is a loopback address, "
        "and the endpoint is not on the allow-list (MLG_SERVICE_ALLOW)"
    )

    listing = enterprise_graph(serve, {"MLG_SERVICE_ALLOW": f"http://example.org/other,{lineage.url}/sparql"})
    status, rows = select(
        listing,
        f"""PREFIX ent: <{ENT}>
        SELECT ?dataset ?classification WHERE {{
          SERVICE <{lineage.url}/sparql> {{ {LINEAGE} }}
          ?dataset ent:classification ?classification
        }}""",
    )
    assert status == 200, rows
    assert {(r["dataset"], r["classification"]) for r in rows} == {(d, c) for d, c, _ in JOINED}


def test_pyoxigraphs_service_client_reads_the_same_answers_as_a_direct_query(lineage):
    status, direct = select(lineage, f"SELECT ?dataset ?name WHERE {{ {LINEAGE} ; mlg:name ?name }}")
    assert status == 200 and len(direct) >= 5
    prefix = "PREFIX mlg: <https://w3id.org/mlg#>\n"
    remote = pyoxigraph.Store().query(
        f"{prefix}SELECT ?dataset ?name WHERE {{ SERVICE <{lineage.url}/sparql> "
        f"{{ {LINEAGE} ; mlg:name ?name }} }}"
    )
    got = sorted((s["dataset"].value, s["name"].value) for s in remote)  # type: ignore[union-attr]
    assert got == sorted((r["dataset"], r["name"]) for r in direct)
    asked = pyoxigraph.Store().query(
        f"{prefix}SELECT * WHERE {{ SERVICE <{lineage.url}/sparql> {{ {CHECKOUT} a mlg:Service }} }}"
    )
    assert len(list(asked)) == 1  # a pattern without variables: one empty solution


def test_pyoxigraphs_request_is_answered_in_the_format_it_asks_for(lineage):
    query = f"SELECT ?dataset WHERE {{ {LINEAGE} }}"
    json_or_xml = "application/sparql-results+json, application/sparql-results+xml"  # as pyoxigraph sends
    for accept, content_type, form in (
        (json_or_xml, "application/sparql-results+json", pyoxigraph.QueryResultsFormat.JSON),
        (
            "application/sparql-results+xml",
            "application/sparql-results+xml",
            pyoxigraph.QueryResultsFormat.XML,
        ),
    ):
        reply = lineage.request(
            "POST",
            "/sparql",
            query,
            {"Content-Type": "application/sparql-query", "Accept": accept, "User-Agent": "Oxigraph/0.5"},
        )
        assert reply.status == 200 and reply.headers["Content-Type"] == content_type
        parsed = pyoxigraph.parse_query_results(reply.body, form)
        assert len(list(parsed)) >= 5  # type: ignore[arg-type]


def test_an_unlisted_endpoint_is_refused_while_other_clients_get_answers(lineage, enterprise):
    unlisted = f"http://127.0.0.1:{enterprise.port + 1}/sparql"
    elsewhere = f"{enterprise.url}/other"
    count = f"SELECT (COUNT(DISTINCT ?dataset) AS ?n) WHERE {{ {LINEAGE} }}"
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [pool.submit(select, lineage, count) for _ in range(12)]
        refusals = [
            pool.submit(select, lineage, f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}")
            for endpoint in (unlisted, elsewhere)
            for _ in range(3)
        ]
        for future in refusals:
            status, message = future.result()
            assert status == 400 and "not on the allow-list (MLG_SERVICE_ALLOW)" in message
        counts = {(status, rows[0]["n"]) for status, rows in (f.result() for f in answers)}
    assert counts == {(200, "7")}
