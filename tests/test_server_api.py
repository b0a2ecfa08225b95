"""The lineage API under /api, through Flask's test client on the demo store.

The API calls the CLI's functions and prints with the same renderer, so its answers are
byte for byte what `mlg lineage --format json` and `mlg impact --format json` print; every
answer validates against the OpenAPI document the server serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from mlg.config import Config
from mlg.server import create_app
from mlg.server.api import OPENAPI
from mlg.store import open_store

SERVICE = "https://mlg.example.org/service/checkout-api"
RAW = "https://mlg.example.org/dataset/s3%3A%2F%2Fpayments-raw/transactions"
DOC = json.loads(OPENAPI.read_text(encoding="utf-8"))


@pytest.fixture
def app(demo_loaded: Path) -> Iterator:
    store = open_store(demo_loaded)
    yield create_app(Config(), store=store)
    del store


@pytest.fixture
def client(app):
    return app.test_client()


def template(path: str) -> str:
    """The OpenAPI path template of a request path under /api."""
    for name in DOC["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(name)) + "$"
        if re.match(pattern, path):
            return name
    raise AssertionError(f"{path} is not in the OpenAPI document")


def checked(response, method: str = "get") -> dict:
    """The response's JSON, after validating it against its schema in the OpenAPI document."""
    path = response.request.path
    described = DOC["paths"][template(path)][method]["responses"]
    assert str(response.status_code) in described, (path, response.status_code)
    schema = described[str(response.status_code)]["content"]["application/json"]["schema"]
    body = response.get_json()
    jsonschema.Draft202012Validator({**schema, "components": DOC["components"]}).validate(body)
    return body


def test_every_api_route_is_in_the_openapi_document(app, client):
    jsonschema.Draft202012Validator.check_schema({"$defs": DOC["components"]["schemas"]})
    assert DOC["openapi"].startswith("3.1")
    served = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    under_api = {rule for rule in served if rule.startswith("/api")}
    assert under_api == set(DOC["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in DOC["paths"][path], (path, method)
    assert client.get("/api/openapi.json").get_json() == DOC


def test_search_by_name_kind_owner_and_tag(client):
    body = checked(client.get("/api/assets?q=FRAUD+detector"))
    assert {hit["name"] for hit in body["assets"]} >= {"Fraud detector", "Fraud detector v3"}
    assert all("fraud detector" in hit["name"].lower() for hit in body["assets"])
    versions = checked(client.get("/api/assets?q=fraud&kind=model-version"))["assets"]
    assert {hit["kind"] for hit in versions} == {"model-version"}
    owned = checked(client.get("/api/assets?owner=payments-data&tag=PII"))["assets"]
    assert owned and all("pii" in hit["tags"] for hit in owned)
    assert all("https://mlg.example.org/team/payments-data" in hit["owners"] for hit in owned)
    same = checked(client.get("/api/assets?owner=https://mlg.example.org/team/payments-data&tag=pii"))
    assert same["assets"] == owned


def test_search_pages(client):
    everything = checked(client.get("/api/assets?limit=1000"))["assets"]
    first = checked(client.get("/api/assets?limit=3"))
    second = checked(client.get("/api/assets?limit=3&offset=3"))
    assert first["more"] and first["assets"] + second["assets"] == everything[:6]
    last = checked(client.get(f"/api/assets?limit=3&offset={len(everything) - 1}"))
    assert len(last["assets"]) == 1 and not last["more"]


def test_one_asset_with_its_neighbours(client):
    body = checked(client.get("/api/assets/model-version:fraud-detector@3"))
    assert body["kind"] == "model-version" and body["name"] == "Fraud detector v3"
    assert body["properties"]["https://w3id.org/mlg#stage"] == ["production"]
    assert {"edge": "fineTunedFrom", "name": "Transaction encoder v1"}.items() <= next(
        n for n in body["upstream"] if n["edge"] == "fineTunedFrom"
    ).items()
    assert any(n["edge"] == "deploys" and n["kind"] == "deployment" for n in body["downstream"])
    by_iri = checked(client.get(f"/api/assets/{body['iri']}"))
    assert by_iri == body
    assert checked(client.get("/api/assets/Fraud detector v3")) == body


def test_lineage_and_impact_are_what_the_cli_prints(demo_loaded, mlg):
    cli_upstream = mlg("lineage", "service:checkout-api", "--format", "json").output
    cli_downstream = mlg(
        "lineage",
        "dataset:s3://payments-raw/transactions",
        "--downstream",
        "--depth",
        "2",
        "--format",
        "json",
    ).output
    cli_impact = mlg("impact", "dataset:s3://payments-raw/transactions-v1", "--format", "json").output
    cli_search = mlg("search", "fraud", "--kind", "model", "--format", "json").output
    store = open_store(demo_loaded)
    client = create_app(Config(), store=store).test_client()
    upstream = client.get("/api/lineage/service:checkout-api")
    # The same JSON: the API's compact, the CLI's indented.
    assert upstream.get_json() == json.loads(cli_upstream)
    checked(upstream)
    downstream = client.get(
        "/api/lineage/dataset:s3://payments-raw/transactions?direction=downstream&depth=2"
    )
    assert downstream.get_json() == json.loads(cli_downstream)
    assert checked(downstream)["depth"] == 2
    impact = client.get("/api/impact/dataset:s3://payments-raw/transactions-v1")
    assert impact.get_json() == json.loads(cli_impact)
    assert checked(impact)["owners"]
    search = client.get("/api/assets?q=fraud&kind=model")
    assert search.get_json() == json.loads(cli_search)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/lineage/service:checkout-api?depth=two", "depth must be an integer, not 'two'"),
        ("/api/lineage/service:checkout-api?depth=-1", "depth must be 0 or more, not -1"),
        ("/api/lineage/service:checkout-api?direction=sideways", "direction must be upstream or downstream"),
        ("/api/impact/service:checkout-api?depth=1.5", "depth must be an integer"),
        ("/api/assets?kind=spaceship", "unknown kind 'spaceship'"),
        ("/api/assets?limit=0", "limit must be 1 or more"),
    ],
)
def test_bad_parameters_are_400_in_one_line(client, path, message):
    response = client.get(path)
    assert response.status_code == 400
    error = checked(response)["error"]
    assert message in error["message"] and "\n" not in error["message"]


def test_unknown_assets_are_404(client):
    for path in ("/api/assets/model:nope", "/api/lineage/model:nope", "/api/impact/No such thing"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "\n" not in checked(response)["error"]["message"]
    assert client.get("/api/assets?owner=team:nobody").status_code == 404


def test_reads_can_need_a_token(demo_loaded):
    store = open_store(demo_loaded)
    client = create_app(Config(read_token="r"), store=store).test_client()
    assert client.get("/api/assets").status_code == 401
    assert client.get("/api/assets", headers={"Authorization": "Bearer r"}).status_code == 200
