"""The OpenLineage receiver at POST /api/v1/lineage: Marquez's path, openlineage-python's
HttpTransport. Events of one run accumulate; any error leaves the store unchanged.
"""

from __future__ import annotations

import io
import json
import uuid
from urllib.parse import quote

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from pyoxigraph import RdfFormat

from mlg.config import Config
from mlg.server import create_app
from mlg.store import OxigraphStore

TOKEN = "receiver-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "https://mlg.example.org/"
PRODUCER = "https://github.com/example/pipeline"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def snapshot(store: OxigraphStore) -> list[bytes]:
    output = io.BytesIO()
    store.dump(output, RdfFormat.N_QUADS)
    return sorted(output.getvalue().splitlines())


def event(run_id: str, event_type: str, time: str, output: str = "out") -> dict:
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT,
        "run": {"runId": run_id},
        "job": {"namespace": "etl", "name": "build_orders"},
        "inputs": [{"namespace": "s3://lake", "name": "raw/orders"}],
        "outputs": [{"namespace": "s3://lake", "name": output}],
    }


@pytest.fixture
def store():
    return OxigraphStore(None)


@pytest.fixture
def client(store):
    return create_app(Config(update_token=TOKEN), store=store).test_client()


def run_state(client, run_id: str) -> dict[str, list[str]]:
    return client.get(f"/api/assets/run:{run_id}").get_json()["properties"]


def test_start_then_complete_leaves_the_run_completed_with_both_times(client, store):
    run_id = str(uuid.uuid4())
    first = client.post("/api/v1/lineage", json=event(run_id, "START", "2026-03-01T10:00:00Z"), headers=AUTH)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["source"] == f"openlineage/run/{run_id}"
    assert first.get_json()["events"] == 1
    running = run_state(client, run_id)
    assert running["https://w3id.org/mlg#runState"] == ["running"]
    second = client.post(
        "/api/v1/lineage", json=event(run_id, "COMPLETE", "2026-03-01T10:05:00Z"), headers=AUTH
    )
    assert second.status_code == 200 and second.get_json()["events"] == 2
    done = run_state(client, run_id)
    assert done["https://w3id.org/mlg#runState"] == ["completed"]
    assert done["https://w3id.org/mlg#startedAt"] == ["2026-03-01T10:00:00Z"]
    assert done["https://w3id.org/mlg#endedAt"] == ["2026-03-01T10:05:00Z"]
    before = snapshot(store)
    again = client.post(
        "/api/v1/lineage", json=event(run_id, "COMPLETE", "2026-03-01T10:05:00Z"), headers=AUTH
    )
    assert again.status_code == 200 and again.get_json()["status"] == "unchanged"
    assert snapshot(store) == before
    lineage = client.get("/api/lineage/dataset:s3://lake/out?depth=2").get_json()
    assert any(e["edge"] == "producedBy" for e in lineage["edges"])


def test_a_second_run_is_a_submission_of_its_own(client):
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    for run_id in (one, two):
        reply = client.post(
            "/api/v1/lineage", json=event(run_id, "START", "2026-03-01T10:00:00Z"), headers=AUTH
        )
        assert reply.status_code == 201
    client.post("/api/v1/lineage", json=event(one, "FAIL", "2026-03-01T10:01:00Z"), headers=AUTH)
    assert run_state(client, one)["https://w3id.org/mlg#runState"] == ["failed"]
    assert run_state(client, two)["https://w3id.org/mlg#runState"] == ["running"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"eventType": "START"}, {}, 400, "request body: "),
        ({**event("r", "START", "2026-03-01T10:00:00Z"), "eventTime": 3}, {}, 400, "eventTime"),
        (
            {
                **event(str(uuid.uuid4()), "START", "2026-03-01T10:00:00Z"),
                "inputs": [{"namespace": "s3://x"}],
            },
            {},
            400,
            "inputs[0]",
        ),
        ("[1, 2", {}, 400, "not JSON"),
        (event(str(uuid.uuid4()), "START", "2026-03-01T10:00:00Z"), {"Authorization": ""}, 401, "token"),
        (
            event(str(uuid.uuid4()), "START", "2026-03-01T10:00:00Z"),
            {"Authorization": "Bearer wrong"},
            401,
            "token",
        ),
    ],
)
def test_bad_events_and_bad_tokens_change_nothing(client, store, body, headers, status, message):
    client.post(
        "/api/v1/lineage", json=event(str(uuid.uuid4()), "START", "2026-03-01T09:00:00Z"), headers=AUTH
    )
    before = snapshot(store)
    data = body if isinstance(body, str) else json.dumps(body)
    reply = client.post(
        "/api/v1/lineage", data=data, headers={"Content-Type": "application/json", **AUTH, **headers}
    )
    assert reply.status_code == status, reply.get_json()
    error = reply.get_json()["error"]
    assert message in error["message"] and "\n" not in error["message"]
    assert snapshot(store) == before


def test_a_read_only_server_refuses_events(store):
    client = create_app(Config(), store=store).test_client()
    before = snapshot(store)
    reply = client.post("/api/v1/lineage", json=event(str(uuid.uuid4()), "START", "2026-03-01T10:00:00Z"))
    assert reply.status_code == 403 and "read-only" in reply.get_json()["error"]["message"]
    assert snapshot(store) == before


def test_the_openlineage_python_client_against_a_real_server(serve):
    server = serve({"MLG_UPDATE_TOKEN": TOKEN})
    config = HttpConfig(url=server.url, auth=ApiKeyTokenProvider({"apiKey": TOKEN}))
    client = OpenLineageClient(transport=HttpTransport(config))
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="etl", name="daily_report")
    inputs = [InputDataset(namespace="s3://lake", name="orders")]
    outputs = [OutputDataset(namespace="s3://lake", name="reports/daily")]
    for state, time in (
        (RunState.START, "2026-03-02T06:00:00Z"),
        (RunState.COMPLETE, "2026-03-02T06:07:00Z"),
    ):
        client.emit(
            RunEvent(
                eventType=state,
                eventTime=time,
                run=run,
                job=job,
                producer=PRODUCER,
                inputs=inputs,
                outputs=outputs,
            )
        )
    reply = server.request("GET", f"/api/assets/run:{run.runId}")
    assert reply.status == 200, reply.body
    properties = json.loads(reply.body)["properties"]
    assert properties["https://w3id.org/mlg#runState"] == ["completed"]
    assert properties["https://w3id.org/mlg#startedAt"] == ["2026-03-02T06:00:00Z"]
    assert properties["https://w3id.org/mlg#endedAt"] == ["2026-03-02T06:07:00Z"]
    upstream = json.loads(
        server.request("GET", "/api/lineage/" + quote("dataset:s3://lake/reports/daily")).body
    )
    assert "https://mlg.example.org/dataset/s3%3A%2F%2Flake/orders" in {n["iri"] for n in upstream["nodes"]}
    ask = f'ASK {{ <{BASE}run/{run.runId}> <https://w3id.org/mlg#runState> "completed" }}'
    answer = server.query(ask)
    assert json.loads(answer.body)["boolean"] is True
    unauthenticated = OpenLineageClient(transport=HttpTransport(HttpConfig(url=server.url)))
    with pytest.raises(Exception, match="401"):
        unauthenticated.emit(
            RunEvent(
                eventType=RunState.START,
                eventTime="2026-03-02T07:00:00Z",
                run=Run(runId=str(uuid.uuid4())),
                job=job,
                producer=PRODUCER,
            )
        )
