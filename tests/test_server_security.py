"""Writes need a token, SERVICE and LOAD cannot reach where they should not, hostile input gets a
clear 4xx, CORS is for reads only, and every error has one shape."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from mlg.config import Config
from mlg.server import create_app
from mlg.server.auth import Tokens
from mlg.server.guard import Policy, endpoint_problem, inspect
from mlg.store import OxigraphStore

TOKEN = "security-test-token"
PUT_BODY = '<http://example.org/s> <http://example.org/p> "o" .'
UPDATE = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> 1 } }"


def make(**settings: object):
    return create_app(Config(**settings), store=OxigraphStore(None)).test_client()


def error(reply, status: int) -> str:
    assert reply.status_code == status, reply.data
    assert reply.mimetype == "application/json"
    assert set(reply.json) <= {"error", "findings"}
    assert set(reply.json["error"]) == {"status", "message"}
    assert reply.json["error"]["status"] == status
    return reply.json["error"]["message"]


def update(client, token: str | None = TOKEN, text: str = UPDATE):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/sparql", data=text, content_type="application/sparql-update", headers=headers)


def put(client, token: str | None = TOKEN):
    headers = {"Content-Type": "text/turtle", **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.put("/store?graph=http://example.org/g", data=PUT_BODY, headers=headers)


# Writes are protected.


@pytest.fixture(scope="module")
def guarded():
    return make(update_token=f"{TOKEN}, second-token")


@pytest.mark.parametrize("write", [update, put])
def test_a_write_without_a_token_is_401_with_www_authenticate(guarded, write):
    reply = write(guarded, token=None)
    assert "Authorization: Bearer" in error(reply, 401)
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("write", [update, put])
def test_a_write_with_a_wrong_token_is_401(guarded, write):
    assert "not" in error(write(guarded, token=TOKEN + "x"), 401)
    assert error(
        guarded.post("/sparql", data={"update": "CLEAR ALL"}, headers={"Authorization": "Basic x"}), 401
    )


def test_every_configured_token_writes(guarded):
    assert update(guarded, TOKEN).status_code == 204
    assert update(guarded, "second-token").status_code == 204
    assert put(guarded, "second-token").status_code in (201, 204)
    assert (
        guarded.delete(
            "/store?graph=http://example.org/g", headers={"Authorization": "Bearer second-token"}
        ).status_code
        == 204
    )


def test_tokens_from_a_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("# writers\nfile-token-1\n\n  file-token-2  \n", encoding="utf-8")
    tokens = Tokens.from_config(Config(update_token_file=path))
    assert tokens.update == (b"file-token-1", b"file-token-2")
    client = make(update_token_file=path)
    assert update(client, "file-token-2").status_code == 204
    assert error(update(client, "writers"), 401)


@pytest.mark.parametrize(
    "write",
    [
        lambda c: update(c),
        lambda c: put(c),
        lambda c: c.delete("/store?graph=http://example.org/g", headers={"Authorization": f"Bearer {TOKEN}"}),
        lambda c: c.post("/store", data=PUT_BODY, headers={"Content-Type": "text/turtle"}),
    ],
)
def test_without_update_tokens_the_server_is_read_only_and_says_so(write):
    client = make()
    assert "MLG_UPDATE_TOKEN" in error(write(client), 403)
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_the_service_description_lists_updates_only_when_writes_are_possible():
    assert b"SPARQL11Update" not in make().get("/sparql").data
    assert b"SPARQL11Update" in make(update_token=TOKEN).get("/sparql").data


def test_reads_can_be_put_behind_a_token():
    client = make(read_token="reader", update_token=TOKEN)
    query = {"query": "ASK {}"}
    assert error(client.get("/sparql", query_string=query), 401)
    assert error(client.get("/sparql"), 401)
    assert error(client.get("/store?default"), 401)
    assert (
        client.get("/sparql", query_string=query, headers={"Authorization": "Bearer reader"}).status_code
        == 200
    )
    assert (
        client.get("/sparql", query_string=query, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    assert error(update(client, "reader"), 401)  # a read token does not write
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


# SERVICE and LOAD.

POLICY = Policy.of(["http://127.0.0.1:7878/query", "http://localhost:7879/sparql"], 10_000, 50)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELECT * { SERVICE <http://127.0.0.1/sparql> { ?s ?p ?o } }", "127.0.0.1 is a loopback address"),
        ("SELECT * { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }", "link-local"),
        (
            "SELECT * { SERVICE SILENT <http://localhost:8000/sparql> { ?s ?p ?o } }",
            "localhost is a loopback",
        ),
        ("SELECT * { SERVICE <http://[::1]:8000/sparql> { ?s ?p ?o } }", "::1 is a loopback address"),
        ("SELECT * { SERVICE <http://10.1.2.3/sparql> { ?s ?p ?o } }", "private"),
        ("SELECT * { SERVICE <https://dbpedia.org/sparql> { ?s ?p ?o } }", "not on the allow-list"),
        ("PREFIX e: <http://127.0.0.1/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }", "loopback"),
        ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", "variable endpoint"),
        ("SELECT * { SERVICE <http://127.0.0.\\u0031/> { ?s ?p ?o } }", "endpoint's IRI"),
        ("SELECT * { sErViCe <ftp://127.0.0.1/> { ?s ?p ?o } }", "http"),
        ("INSERT { ?s ?p ?o } WHERE { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }", "link-local"),
        ("LOAD <http://example.org/data.ttl>", "LOAD is refused"),
        ("load silent <http://example.org/data.ttl> INTO GRAPH <http://example.org/g>", "LOAD is refused"),
        ("SELECT * WHERE " + "{" * 51 + "}" * 51, "51 deep"),
        ("SELECT * { ?s ?p " + '"x" ' * 3000 + "}", "characters long"),
        ("SELECT * {} \\u0023", "backslashes"),
    ],
)
def test_the_guard_refuses(query, reason):
    with pytest.raises(Exception, match=reason.replace("?", r"\?").replace("[", r"\[")) as raised:
        inspect(query, POLICY)
    assert raised.value.http_status == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p 'SERVICE <http://127.0.0.1/>' }",
        'SELECT * { ?s ?p """LOAD <http://x/>\n SERVICE <http://127.0.0.1/>""" }',
        "SELECT * { ?s ?p ?o } # SERVICE <http://127.0.0.1/> LOAD <x>",
        "SELECT * { ?s <http://example.org/SERVICE#LOAD> ?service . ?load a mlg:Load }",
        "SELECT * { SERVICE <http://127.0.0.1:7878/query> { ?s ?p ?o } }",
        "PREFIX e: <http://localhost:7879/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }",
        "SELECT * { FILTER(?a<1 && ?b>2) }",
    ],
)
def test_the_guard_lets_through(query):
    inspect(query, POLICY)


def test_a_listed_name_that_resolves_to_a_private_address_is_refused():
    name = socket.gethostname()  # resolves through /etc/hosts, to this machine's own address
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    if all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        pytest.skip("this machine's name resolves to a public address")
    endpoint = f"http://{name}:7878/query"
    problem = endpoint_problem(endpoint, frozenset({endpoint}))
    assert problem is not None and f"{name} resolves to" in problem and "list the address itself" in problem
    for address in sorted(addresses):  # listing the address itself allows it
        literal = f"http://[{address}]:7878/query" if ":" in address else f"http://{address}:7878/query"
        assert endpoint_problem(literal, frozenset({literal})) is None


def test_service_and_load_are_refused_over_http_and_change_nothing():
    client = make(update_token=TOKEN)
    for address in ("127.0.0.1", "169.254.169.254", "localhost"):
        query = f"SELECT * {{ SERVICE <http://{address}/sparql> {{ ?s ?p ?o }} }}"
        message = error(client.get("/sparql", query_string={"query": query}), 400)
        assert f"SERVICE <http://{address}/sparql> is refused" in message
    message = error(
        update(client, text="LOAD <http://example.org/x.ttl> INTO GRAPH <http://example.org/g>"), 400
    )
    assert "LOAD is refused" in message
    assert client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).json["boolean"] is False
    assert client.get("/store?graph=http://example.org/g").status_code == 404


def test_the_description_announces_federation_only_with_an_allow_list():
    assert b"BasicFederatedQuery" not in make().get("/sparql").data
    assert b"BasicFederatedQuery" in make(service_allow="https://example.org/sparql").get("/sparql").data


# Limits.


def test_an_oversized_body_is_413():
    client = make(update_token=TOKEN, max_body_bytes=1000)
    big = "ASK { " + "?s ?p ?o . " * 200 + "}"
    assert "MLG_MAX_BODY_BYTES" in error(
        client.post("/sparql", data=big, content_type="application/sparql-query"), 413
    )
    assert error(client.post("/sparql", data={"query": big}), 413)
    assert error(
        client.put(
            "/store?graph=http://e/g",
            data=big,
            headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
        ),
        413,
    )
    assert client.post("/sparql", data="ASK {}", content_type="application/sparql-query").status_code == 200


def test_long_and_deep_queries_are_400_with_the_setting_named():
    client = make(max_query_length=100, max_query_depth=5)
    message = error(client.get("/sparql", query_string={"query": "ASK { " + "?s ?p ?o . " * 20 + "}"}), 400)
    assert "MLG_MAX_QUERY_LENGTH" in message
    message = error(client.get("/sparql", query_string={"query": "ASK " + "{" * 6 + "}" * 6}), 400)
    assert "MLG_MAX_QUERY_DEPTH" in message


def test_the_default_depth_limit_stops_what_would_crash_the_parser():
    # ~2,500 nested groups overflow pyoxigraph's recursive parser and kill the process.
    client = make()
    query = "SELECT * WHERE " + "{" * 3000 + "}" * 3000
    assert "3000 deep" in error(client.post("/sparql", data={"query": query}), 400)


# CORS.


@pytest.fixture(scope="module")
def cors():
    return make(update_token=TOKEN, cors_origins="https://app.example.org")


def test_cors_headers_on_reads_from_allowed_origins(cors):
    origin = {"Origin": "https://app.example.org"}
    reply = cors.get("/sparql", query_string={"query": "ASK {}"}, headers=origin)
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "Origin" in reply.headers["Vary"]
    reply = cors.post("/sparql", data="ASK {}", content_type="application/sparql-query", headers=origin)
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    other = cors.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in make().get("/sparql?query=ASK%7B%7D", headers=origin).headers


def test_no_cors_on_writes(cors):
    origin = {"Origin": "https://app.example.org", "Authorization": f"Bearer {TOKEN}"}
    reply = cors.post("/sparql", data=UPDATE, content_type="application/sparql-update", headers=origin)
    assert reply.status_code == 204 and "Access-Control-Allow-Origin" not in reply.headers
    reply = cors.put(
        "/store?graph=http://e/g", data=PUT_BODY, headers={**origin, "Content-Type": "text/turtle"}
    )
    assert reply.status_code in (201, 204) and "Access-Control-Allow-Origin" not in reply.headers


def test_preflight_allows_reading_methods_only(cors):
    headers = {"Origin": "https://app.example.org", "Access-Control-Request-Method": "POST"}
    reply = cors.options("/sparql", headers=headers)
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert "Authorization" not in reply.headers["Access-Control-Allow-Headers"]
    reply = cors.options("/store", headers={**headers, "Access-Control-Request-Method": "PUT"})
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, HEAD"


# One error shape.


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (lambda c: c.get("/nowhere"), 404),
        (lambda c: c.delete("/sparql"), 405),
        (lambda c: c.get("/sparql?query=SELECT"), 400),
        (lambda c: c.post("/sparql", data="ASK {}", content_type="text/plain"), 415),
        (lambda c: c.get("/sparql?query=ASK%7B%7D", headers={"Accept": "image/png"}), 406),
        (lambda c: update(c, token=None), 401),
        (lambda c: c.get("/store?graph=http://example.org/none"), 404),
    ],
)
def test_every_error_has_one_json_shape(request_, status):
    error(request_(make(update_token=TOKEN)), status)
