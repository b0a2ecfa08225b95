"""The OpenLineage loader, on events written by openlineage-python and on public samples.

Events are emitted by the real client (``FileTransport``, one event a line), loaded by the
real ``mlg load`` into an on-disk store, and checked with SPARQL: jobs, runs, datasets,
fields and the lineage between them. The public samples (OpenLineage's full example
event, Marquez's demo metadata, a column-lineage facet) load and are admitted. Our own
JSON Schema is cross-checked against the published one on good and bad events, and bad
or hostile files are refused on one line with the store unchanged.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, SHARED, disk_snapshot
from pyoxigraph import Literal, NamedNode

from mlg.admission import Gate
from mlg.cli import cli
from mlg.errors import InputError
from mlg.identity import Minter
from mlg.lineage import trace
from mlg.loaders import Request, detect, read_submission
from mlg.loaders.openlineage import FORMATS, events_submission, validate_event
from mlg.store import OxigraphStore, open_store
from mlg.submission import sha256_digest
from mlg.vocab import XSD_DATETIME

pytest.importorskip("fastjsonschema")

SAMPLES = SHARED / "samples" / "openlineage"
MINTER = Minter(BASE)
UTC = dt.UTC

NS = "postgres://db.internal:5432"
RAW = MINTER.dataset(NS, "shop.public.raw_orders")
ORDERS = MINTER.dataset(NS, "shop.public.orders")
REPORT = MINTER.dataset("s3://reports", "daily/orders.parquet")
REPORT_TABLE = MINTER.dataset("hive://metastore:9083", "reports.daily_orders")
SCHEDULER = "airflow://scheduler.internal"
BUILD = MINTER.qualified("job", SCHEDULER, "shop_dag.build_orders")
DAILY = MINTER.qualified("job", SCHEDULER, "shop_dag.daily_report")
DAG = MINTER.qualified("job", SCHEDULER, "shop_dag")
T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RUN_1, RUN_2, DAG_RUN = (str(uuid.UUID(int=i, version=4)) for i in (1, 2, 3))


def run_iri(run_id: str) -> NamedNode:
    return MINTER.asset("run", run_id)


def field(dataset: NamedNode, path: str) -> NamedNode:
    return NamedNode(f"{dataset.value}/fields/{path}")


def moment(offset_minutes: int) -> Literal:
    return Literal((T0 + dt.timedelta(minutes=offset_minutes)).isoformat(), datatype=XSD_DATETIME)


# ---------------------------------------------------------------- events from openlineage-python


def emit_events(path: Path) -> None:
    """Two task runs of one Airflow DAG run, as openlineage-python's FileTransport writes them.

    build_orders reads raw_orders and writes orders (START, COMPLETE, then an OTHER that
    must not change its state); daily_report reads orders and writes a versioned report
    with another name (a symlink), then fails; a RUNNING heartbeat arrives after the FAIL.
    """
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        column_lineage_dataset,
        data_quality_metrics_input_dataset,
        dataset_version_dataset,
        documentation_dataset,
        documentation_job,
        error_message_run,
        ownership_job,
        parent_run,
        schema_dataset,
        sql_job,
        storage_dataset,
        symlinks_dataset,
    )
    from openlineage.client.transport.file import FileConfig, FileTransport

    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    fields = schema_dataset.SchemaDatasetFacetFields
    lineage = column_lineage_dataset
    parent = {
        "parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=DAG_RUN), job=parent_run.Job(namespace=SCHEDULER, name="shop_dag")
        )
    }
    raw = InputDataset(
        namespace=NS,
        name="shop.public.raw_orders",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    fields(name="id", type="INTEGER"),
                    fields(name="amount", type="NUMERIC", description="Order amount in cents"),
                    fields(
                        name="customer",
                        type="STRUCT",
                        fields=[fields(name="email", type="VARCHAR"), fields(name="name", type="VARCHAR")],
                    ),
                ]
            )
        },
        inputFacets={
            "dataQualityMetrics": data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
                columnMetrics={}, rowCount=1200
            )
        },
    )

    def source(name: str) -> Any:
        return lineage.InputField(namespace=NS, name="shop.public.raw_orders", field=name)

    orders_facets = {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[fields(name=n, type=t) for n, t in (("order_id", "BIGINT"), ("total", "NUMERIC"))]
            + [fields(name="customer_email", type="VARCHAR")]
        ),
        "columnLineage": lineage.ColumnLineageDatasetFacet(
            fields={
                "order_id": lineage.Fields(inputFields=[source("id")]),
                "total": lineage.Fields(
                    inputFields=[source("amount")], transformationDescription="SUM(amount)"
                ),
                "customer_email": lineage.Fields(inputFields=[source("customer.email")]),
            }
        ),
        "documentation": documentation_dataset.DocumentationDatasetFacet(description="One row per order."),
    }
    build = Job(
        namespace=SCHEDULER,
        name="shop_dag.build_orders",
        facets={
            "sql": sql_job.SQLJobFacet(query="INSERT INTO orders SELECT id, amount FROM raw_orders"),
            "documentation": documentation_job.DocumentationJobFacet(description="Builds the orders table."),
            "ownership": ownership_job.OwnershipJobFacet(
                owners=[ownership_job.Owner(name="team:data-platform", type="MAINTAINER")]
            ),
        },
    )
    orders_out = OutputDataset(namespace=NS, name="shop.public.orders", facets=orders_facets)
    orders_in = InputDataset(namespace=NS, name="shop.public.orders")
    report = OutputDataset(
        namespace="s3://reports",
        name="daily/orders.parquet",
        facets={
            "datasetVersion": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="2026-03-01"),
            "symlinks": symlinks_dataset.SymlinksDatasetFacet(
                identifiers=[
                    symlinks_dataset.Identifier(
                        namespace="hive://metastore:9083", name="reports.daily_orders", type="TABLE"
                    )
                ]
            ),
            "storage": storage_dataset.StorageDatasetFacet(storageLayer="iceberg", fileFormat="parquet"),
        },
    )
    daily = Job(namespace=SCHEDULER, name="shop_dag.daily_report")
    failure = {
        **parent,
        "errorMessage": error_message_run.ErrorMessageRunFacet(
            message="division by zero", programmingLanguage="PYTHON"
        ),
    }
    events = [
        (RunState.START, 0, Run(runId=RUN_1, facets=parent), build, [raw], [orders_out]),
        (RunState.COMPLETE, 5, Run(runId=RUN_1, facets=parent), build, [raw], [orders_out]),
        (RunState.OTHER, 6, Run(runId=RUN_1), build, [], []),
        (RunState.START, 10, Run(runId=RUN_2, facets=parent), daily, [orders_in], [report]),
        (RunState.FAIL, 12, Run(runId=RUN_2, facets=failure), daily, [orders_in], [report]),
        (RunState.RUNNING, 11, Run(runId=RUN_2), daily, [], []),
    ]
    for state, minutes, run, job, inputs, outputs in events:
        when = (T0 + dt.timedelta(minutes=minutes)).isoformat()
        client.emit(
            RunEvent(eventType=state, eventTime=when, run=run, job=job, inputs=inputs, outputs=outputs)
        )


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("openlineage.client")
    path = tmp_path_factory.mktemp("openlineage") / "events.ndjson"
    emit_events(path)
    return path


def run_cli(store: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def loaded(events_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Result]]:
    """The emitted events loaded by `mlg load` into an on-disk store (read by the tests below)."""
    store = tmp_path_factory.mktemp("store") / "store"
    result = run_cli(store, "load", str(events_file))
    assert result.exit_code == 0, result.output
    yield store, result


@pytest.fixture(scope="module")
def graph(loaded: tuple[Path, Result]) -> Iterator[OxigraphStore]:
    store = open_store(loaded[0], read_only=True)
    yield store
    store.close()


def ask(store: OxigraphStore, pattern: str, **terms: Any) -> bool:
    """ASK the pattern, with ``$name`` bound to each term (all of them must be used)."""
    for name in terms:
        assert f"${name}" in pattern, f"${name} is not in the pattern: the query would ignore it"
    return bool(store.query(f"ASK {{ {pattern} }}", terms))


def values(store: OxigraphStore, subject: NamedNode, predicate: str) -> set[str]:
    rows = store.query(f"SELECT ?v WHERE {{ $s {predicate} ?v }}", {"s": subject})
    return {row["v"].value for row in rows}


def test_the_emitted_events_are_detected_and_admitted(loaded: tuple[Path, Result]) -> None:
    _, result = loaded
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("admitted openlineage "), line
    # Kept as annotations, and said: the report's storage facet (once: it repeats unchanged)
    # and the input's data quality metrics (a fact of each of the two runs' events).
    assert "not mapped: unknown facet 3" in line, line


def test_runs_have_their_state_and_times(graph: OxigraphStore) -> None:
    run_1, run_2 = run_iri(RUN_1), run_iri(RUN_2)
    assert ask(
        graph,
        "$r a mlg:Run ; mlg:runState 'completed' ; mlg:startedAt $s ; mlg:endedAt $e",
        r=run_1,
        s=moment(0),
        e=moment(5),
    )
    # FAIL ends the run; the RUNNING heartbeat written after it does not reopen it.
    assert ask(
        graph,
        "$r mlg:runState 'failed' ; mlg:startedAt $s ; mlg:endedAt $e",
        r=run_2,
        s=moment(10),
        e=moment(12),
    )
    assert values(graph, run_1, "mlg:runState") == {"completed"}  # OTHER kept the state
    assert "errorMessage.message=division by zero" in values(graph, run_2, "mlg:annotation")
    assert values(graph, run_1, "mlg:name") == {f"shop_dag.build_orders run {RUN_1}"}
    assert values(graph, run_1, "mlg:sourceId") == {RUN_1}


def test_jobs_datasets_and_runs_are_linked(graph: OxigraphStore) -> None:
    assert ask(
        graph,
        "$out mlg:producedBy $job . $job a mlg:Job ; mlg:used $in",
        out=ORDERS,
        job=BUILD,
        **{"in": RAW},
    )
    assert ask(graph, "$out mlg:producedBy $job . $job mlg:used $in", out=REPORT, job=DAILY, **{"in": ORDERS})
    assert ask(graph, "$run mlg:partOf $job ; mlg:used $in", run=run_iri(RUN_1), job=BUILD, **{"in": RAW})
    # The run that wrote a version of the report: the version, not the report, is its output.
    version = MINTER.version(REPORT, "2026-03-01")
    assert ask(
        graph,
        "$v a mlg:DatasetVersion ; mlg:versionOf $d ; mlg:producedBy $run ; mlg:version '2026-03-01'",
        v=version,
        d=REPORT,
        run=run_iri(RUN_2),
    )
    assert not ask(graph, "$d mlg:producedBy $run", d=REPORT, run=run_iri(RUN_2))
    # Both task runs are part of the DAG run, which is part of the DAG.
    for run_id in (RUN_1, RUN_2):
        assert ask(
            graph,
            "$run mlg:partOf $parent . $parent a mlg:Run ; mlg:partOf $dag",
            run=run_iri(run_id),
            parent=run_iri(DAG_RUN),
            dag=DAG,
        )
    assert ask(
        graph,
        "$d owl:sameAs $other . $other a mlg:Dataset ; mlg:name 'reports.daily_orders'",
        d=REPORT,
        other=REPORT_TABLE,
    )


def test_identity_and_descriptive_facets(graph: OxigraphStore) -> None:
    assert values(graph, ORDERS, "mlg:namespace") == {NS}
    assert values(graph, ORDERS, "mlg:qualifiedName") == {"shop.public.orders"}
    assert values(graph, ORDERS, "mlg:name") == {"shop.public.orders"}
    assert values(graph, ORDERS, "mlg:sourceRegistry") == {"openlineage"}
    assert values(graph, ORDERS, "mlg:description") == {"One row per order."}
    assert values(graph, BUILD, "mlg:description") == {"Builds the orders table."}
    assert ask(
        graph,
        "$job mlg:ownedBy $team . $team a mlg:Team",
        job=BUILD,
        team=MINTER.asset("team", "data-platform"),
    )
    assert "sql.query=INSERT INTO orders SELECT id, amount FROM raw_orders" in values(
        graph, BUILD, "mlg:annotation"
    )
    assert any(a.startswith("storage=") and "iceberg" in a for a in values(graph, REPORT, "mlg:annotation"))
    quality = values(graph, run_iri(RUN_1), "mlg:annotation")
    assert any(a.startswith("inputFacets.dataQualityMetrics[") and '"rowCount": 1200' in a for a in quality)


def test_schema_fields_and_column_lineage(graph: OxigraphStore) -> None:
    email = field(RAW, "customer.email")
    assert ask(
        graph,
        "$f a mlg:Field ; mlg:partOf $d ; mlg:name 'customer.email' ; mlg:dataType 'VARCHAR'",
        f=email,
        d=RAW,
    )
    assert values(graph, field(RAW, "amount"), "mlg:description") == {"Order amount in cents"}
    assert ask(graph, "$out mlg:derivedFrom $in", out=field(ORDERS, "total"), **{"in": field(RAW, "amount")})
    assert ask(graph, "$out mlg:derivedFrom $in", out=field(ORDERS, "customer_email"), **{"in": email})
    assert "transformationDescription=SUM(amount)" in values(graph, field(ORDERS, "total"), "mlg:annotation")
    fields = {row["f"].value for row in graph.query("SELECT ?f WHERE { ?f mlg:partOf $d }", {"d": RAW})}
    assert fields == {
        field(RAW, p).value for p in ("id", "amount", "customer", "customer.email", "customer.name")
    }


def test_lineage_upstream_of_the_report_reaches_the_raw_table(
    graph: OxigraphStore, loaded: tuple[Path, Result]
) -> None:
    lineage = trace(graph, REPORT, "upstream")
    depths = {node.iri: node.depth for node in lineage.nodes}
    assert depths[DAILY.value] == 1 and depths[ORDERS.value] == 2 and depths[BUILD.value] == 3
    assert depths[RAW.value] == 4
    # The same through the command line, naming the dataset by its location.
    result = run_cli(loaded[0], "lineage", "dataset:s3://reports/daily/orders.parquet", "--format", "json")
    assert result.exit_code == 0, result.output
    assert RAW.value in {node["iri"] for node in json.loads(result.stdout)["nodes"]}
    # Column lineage is lineage too: the report's upstream field reaches the raw column.
    assert ask(
        graph,
        "$out mlg:upstream+ $in",
        out=field(ORDERS, "customer_email"),
        **{"in": field(RAW, "customer.email")},
    )


def test_reloading_is_unchanged_and_a_changed_file_replaces_the_graph(
    events_file: Path, tmp_path: Path, mlg: Callable[..., Result], store_path: Path
) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(events_file.read_bytes())
    assert mlg("load", str(path)).exit_code == 0
    again = mlg("load", str(path))
    assert again.exit_code == 0 and again.output.startswith("unchanged openlineage"), again.output
    # The log now holds only the daily report's events: build_orders' run leaves the graph.
    kept = [line for line in events_file.read_text().splitlines() if RUN_1 not in line]
    path.write_text("\n".join(kept) + "\n")
    replaced = mlg("load", str(path))
    assert replaced.exit_code == 0 and replaced.output.startswith("replaced openlineage"), replaced.output
    store = open_store(store_path, read_only=True)
    try:
        assert not ask(store, "$r ?p ?o", r=run_iri(RUN_1))
        assert ask(store, "$r mlg:runState 'failed'", r=run_iri(RUN_2))
    finally:
        store.close()


# ---------------------------------------------------------------- mapping rules, on events written by hand


def event(
    event_type: str | None = "START",
    minutes: int = 0,
    run_id: str = RUN_1,
    job: str = "etl.job",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "eventTime": (T0 + dt.timedelta(minutes=minutes)).isoformat(),
        "producer": "https://github.com/example/producer",
        "run": {"runId": run_id},
        "job": {"namespace": "etl", "name": job},
        "inputs": inputs or [],
        "outputs": outputs or [],
        **extra,
    }
    if event_type:
        result["eventType"] = event_type
    return result


def dataset(name: str, **facets: Any) -> dict[str, Any]:
    return {"namespace": "warehouse", "name": name, "facets": facets}


def admit(gate: Gate, minter: Minter, events: list[dict[str, Any]]) -> Any:
    submission = events_submission(
        events,
        minter=minter,
        source="test",
        location="request",
        digest=sha256_digest(json.dumps(events).encode()),
    )
    outcome = gate.admit(submission)
    assert outcome.status == "admitted", [f.line() for f in outcome.report.findings]
    assert not [f for f in outcome.report.findings if f.severity == "Violation"]
    return submission


@pytest.mark.parametrize(
    ("types", "state"),
    [
        (["START", "RUNNING"], "running"),
        (["START", "COMPLETE", "OTHER"], "completed"),
        (["START", "ABORT"], "aborted"),
        (["START", "FAIL", "RUNNING"], "failed"),
        (["COMPLETE", "START"], "completed"),  # out of order: an ended run is not reopened
        (["OTHER"], None),
        ([None], None),  # eventType is optional in the spec
    ],
)
def test_run_state_follows_the_events(
    gate: Gate, minter: Minter, store: OxigraphStore, types: list[str | None], state: str | None
) -> None:
    admit(gate, minter, [event(t, minutes=i) for i, t in enumerate(types)])
    assert values(store, run_iri(RUN_1), "mlg:runState") == ({state} if state else set())


def test_the_last_facet_wins_as_if_every_event_were_mapped(
    gate: Gate, minter: Minter, store: OxigraphStore
) -> None:
    """A facet equal to the last one mapped for its node is skipped; any other is mapped
    again, so a description that goes back to an earlier value ends with that value."""

    def table(name: str, description: str) -> dict[str, Any]:
        return dataset(name, documentation={"description": description})

    events = [
        event(outputs=[table("a", "first"), table("b", "first")], minutes=0),
        event(outputs=[table("a", "second"), table("b", "second")], minutes=1),
        event(outputs=[table("a", "first")], minutes=2),
    ]
    submission = admit(gate, minter, events)
    a, b = minter.dataset("warehouse", "a"), minter.dataset("warehouse", "b")
    assert values(store, a, "mlg:description") == {"first"}
    assert values(store, b, "mlg:description") == {"second"}
    records = [r for r in submission.records() if r[0].subject == a]
    assert len(records) == 1  # many events, one record for the table


def test_a_dataset_read_and_written_with_different_facets_ends_with_the_last(
    gate: Gate, minter: Minter, store: OxigraphStore
) -> None:
    """The validator remembers a dataset by role (input, output), the mapping by node: its
    shortcut applies only when both compared with the same earlier object."""
    written = dataset("x", documentation={"description": "as written"})
    read = dataset("x", documentation={"description": "as read"})
    events = [
        event(outputs=[written], job="writer", run_id=RUN_1),
        event(inputs=[read], job="reader", run_id=RUN_2),
        event(outputs=[copy.deepcopy(written)], job="writer", run_id=RUN_1, minutes=1),
    ]
    admit(gate, minter, events)
    assert values(store, minter.dataset("warehouse", "x"), "mlg:description") == {"as written"}


def test_facets_that_retire_rename_own_and_tag(gate: Gate, minter: Minter, store: OxigraphStore) -> None:
    events = [
        event(
            outputs=[
                dataset(
                    "old_orders",
                    lifecycleStateChange={"lifecycleStateChange": "DROP"},
                    tags={
                        "tags": [
                            {"key": "pii", "value": "true"},
                            {"key": "tier", "value": "gold"},
                            {"key": "pii", "value": "true", "field": "email"},
                        ]
                    },
                ),
                dataset(
                    "orders",
                    lifecycleStateChange={
                        "lifecycleStateChange": "RENAME",
                        "previousIdentifier": {"namespace": "warehouse", "name": "old_orders"},
                    },
                    ownership={
                        "owners": [
                            {"name": "team:sales"},
                            {"name": "user:bob"},
                            {"name": "carol@example.com"},
                            {"name": "application:crm"},
                        ]
                    },
                    schema={"_deleted": True},
                ),
            ]
        )
    ]
    submission = admit(gate, minter, events)
    old, new = minter.dataset("warehouse", "old_orders"), minter.dataset("warehouse", "orders")
    assert values(store, old, "mlg:status") == {"retired"}
    assert values(store, old, "mlg:tag") == {"pii", "tier=gold"}
    assert values(store, field(old, "email"), "mlg:tag") == {"pii"}
    assert ask(store, "$new owl:sameAs $old", new=new, old=old)
    owners = values(store, new, "mlg:ownedBy")
    expected = [
        minter.asset("team", "sales"),
        minter.asset("person", "bob"),
        minter.asset("person", "carol@example.com"),
    ]
    assert owners == {iri.value for iri in expected}
    assert 'owner={"name": "application:crm"}' in values(store, new, "mlg:annotation")
    assert submission.warnings == {"owner that is not a team or person": 1, "deleted facet (ignored)": 1}


def test_job_and_dataset_events_are_read(gate: Gate, minter: Minter, store: OxigraphStore) -> None:
    job_event = event(inputs=[dataset("a")], outputs=[dataset("b")])
    del job_event["run"], job_event["eventType"]
    dataset_event = {
        "eventTime": T0.isoformat(),
        "producer": "https://github.com/example/producer",
        "dataset": dataset("c", documentation={"description": "static metadata"}),
    }
    admit(gate, minter, [job_event, dataset_event])
    job = minter.qualified("job", "etl", "etl.job")
    assert ask(
        store,
        "$b mlg:producedBy $job . $job mlg:used $a",
        b=minter.dataset("warehouse", "b"),
        job=job,
        a=minter.dataset("warehouse", "a"),
    )
    assert not ask(store, "?r a mlg:Run")
    assert values(store, minter.dataset("warehouse", "c"), "mlg:description") == {"static metadata"}


def test_unknown_fields_are_kept_and_counted(gate: Gate, minter: Minter, store: OxigraphStore) -> None:
    custom = event(outputs=[dataset("t", myFacet={"_producer": "x", "answer": 42})], customTopLevel="yes")
    custom["job"]["owner"] = "someone"
    submission = admit(gate, minter, [custom])
    assert submission.warnings == {"unknown facet": 1, "unknown event field": 1, "unknown field": 1}
    assert 'myFacet={"answer": 42}' in values(store, minter.dataset("warehouse", "t"), "mlg:annotation")
    assert "customTopLevel=yes" in values(store, run_iri(RUN_1), "mlg:annotation")
    assert "owner=someone" in values(store, minter.qualified("job", "etl", "etl.job"), "mlg:annotation")


def test_a_data_source_password_is_not_kept(gate: Gate, minter: Minter, store: OxigraphStore) -> None:
    source = {"name": "db", "uri": "postgres://app:s3cret@db.internal:5432/shop"}
    admit(gate, minter, [event(outputs=[dataset("t", dataSource=source)])])
    annotations = values(store, minter.dataset("warehouse", "t"), "mlg:annotation")
    assert "dataSource.uri=postgres://app@db.internal:5432/shop" in annotations
    assert not any("s3cret" in a for a in annotations)


def test_dataset_namespaces_meet_other_formats_names(minter: Minter) -> None:
    events = [event(outputs=[{"namespace": "S3://Fraud-Data", "name": "training/x.parquet"}])]
    submission = events_submission(events, minter=minter, source="s", location="request", digest="d")
    subjects = {record[0].subject for record in submission.records()}
    assert minter.dataset_from_uri("s3://fraud-data/training/x.parquet") in subjects


# ---------------------------------------------------------------- public samples


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample {path} is absent")
    return path


def load_sample(path: Path, gate: Gate, minter: Minter) -> Any:
    submission = read_submission(path, minter=minter, max_bytes=1 << 24)
    assert submission.format == "openlineage"
    outcome = gate.admit(submission)
    assert outcome.status == "admitted"
    assert not [f.line() for f in outcome.report.findings if f.severity != "Info"]
    return submission


def test_the_full_example_event(gate: Gate, minter: Minter, store: OxigraphStore) -> None:
    submission = load_sample(sample("example_full_event.json"), gate, minter)
    run = run_iri("ea041791-68bc-4ae1-bd89-4c8106a157e4")
    job = minter.qualified("job", "my-scheduler-namespace", "myjob.mytask")
    ended = Literal("2020-12-28T19:51:01.641000+00:00", datatype=XSD_DATETIME)
    assert ask(
        store, "$run mlg:runState 'completed' ; mlg:endedAt $t ; mlg:partOf $job", run=run, t=ended, job=job
    )
    assert ask(
        store, "$run mlg:partOf $parent", run=run, parent=run_iri("3f5e83fa-3480-44ff-99c5-ff943904e5e8")
    )
    assert values(store, run, "mlg:tag") == {"openlineage_client_version=1.30.0"}
    assert "nominalTime.nominalStartTime=2020-12-17T03:00:00.001Z" in values(store, run, "mlg:annotation")
    table = minter.dataset("my-datasource-namespace", "instance.schema.table")
    assert values(store, field(table, "column1"), "mlg:dataType") == {"VARCHAR"}
    assert ask(store, "$t mlg:producedBy $job . $job mlg:used $t", t=table, job=job)
    # The input's data quality assertions and the output's statistics belong to the run.
    assert submission.warnings == {"unknown facet": 2}


def test_the_marquez_demo_metadata(gate: Gate, minter: Minter, store: OxigraphStore) -> None:
    load_sample(sample("metadata.json"), gate, minter)
    rows = store.query("SELECT (COUNT(?r) AS ?n) WHERE { ?r a mlg:Run ; mlg:runState 'completed' }")
    assert next(iter(rows))["n"].value == "13"

    def table(name: str) -> NamedNode:
        return minter.dataset("food_delivery", name)

    menus_job = minter.qualified("job", "food_delivery", "etl_menus")
    assert ask(store, "$t mlg:producedBy $job", t=table("public.menus"), job=menus_job)
    assert values(store, menus_job, "mlg:description") == {"Loads newly added restaurant menus daily."}
    assert ask(
        store,
        "$out mlg:derivedFrom $in",
        out=field(table("public.orders_7_days"), "order_id"),
        **{"in": field(table("public.orders"), "id")},
    )
    # Five jobs downstream, the popular-orders table still reaches the menus.
    assert ask(
        store,
        "$t mlg:upstream+ $menus",
        t=table("public.popular_orders_day_of_week"),
        menus=table("public.menus"),
    )
    uris = {
        a for a in values(store, table("public.menus"), "mlg:annotation") if a.startswith("dataSource.uri=")
    }
    assert uris == {"dataSource.uri=postgres://food_delivery@postgres:5432/food_delivery"}


def test_the_column_lineage_facet_sample(
    gate: Gate, minter: Minter, store: OxigraphStore, tmp_path: Path
) -> None:
    facet = json.loads(sample("1.json").read_text())["columnLineage"]
    snowflake = {"namespace": "SnowflakeOpenLineage"}
    path = tmp_path / "snowflake.json"  # the facet is not an event: give it one to live in
    path.write_text(
        json.dumps(
            event(
                "COMPLETE",
                inputs=[{**snowflake, "name": "CUSTOMERS"}, {**snowflake, "name": "DISCOUNTS"}],
                outputs=[{**snowflake, "name": "CUSTOMER_DISCOUNTS", "facets": {"columnLineage": facet}}],
            )
        )
    )
    load_sample(path, gate, minter)
    out = minter.dataset("SnowflakeOpenLineage", "CUSTOMER_DISCOUNTS")
    customers, discounts = (minter.dataset("SnowflakeOpenLineage", n) for n in ("CUSTOMERS", "DISCOUNTS"))
    upstream = values(store, field(out, "NAME"), "mlg:derivedFrom")
    assert upstream == {
        field(customers, "NAME").value,
        field(customers, "ID").value,
        field(discounts, "CUSTOMERS_ID").value,
    }
    assert ask(
        store, "$f mlg:partOf $d ; mlg:name 'CUSTOMERS_ID'", f=field(discounts, "CUSTOMERS_ID"), d=discounts
    )
    kept = values(store, field(out, "NAME"), "mlg:annotation")
    assert "transformationDescription=SELECT NAME" in kept
    assert any(
        a.startswith("transformations[SnowflakeOpenLineage/CUSTOMERS#ID]=") and "JOIN" in a for a in kept
    )


def test_a_marquez_export_is_read(gate: Gate, minter: Minter, store: OxigraphStore, tmp_path: Path) -> None:
    """Marquez's GET /api/v1/events/lineage answers {"events": [...]}; errors name events[i]."""
    export = tmp_path / "lineage-events.json"
    export.write_text(json.dumps({"events": [event("START"), event("COMPLETE", minutes=3)], "totalCount": 2}))
    load_sample(export, gate, minter)
    assert values(store, run_iri(RUN_1), "mlg:runState") == {"completed"}
    export.write_text(json.dumps({"events": [event("START"), event("DONE")], "totalCount": 2}))
    with pytest.raises(InputError, match=r"lineage-events\.json: events\[1\]: eventType: must be one of"):
        read_submission(export, minter=minter, max_bytes=1 << 20)


# ---------------------------------------------------------------- our schema against the published one


def published_validator() -> Callable[[dict[str, Any]], bool]:
    """The published OpenLineage.json, with date-time and URI formats checked (jsonschema
    checks neither without optional packages). schemaURL, required there, is filled in:
    real producers (Marquez's demo) omit it, and mlg accepts that."""
    schema = json.loads(sample("OpenLineage.json").read_text())
    try:
        import jsonschema
    except ImportError:
        return published_by_fastjsonschema(schema)
    checker = copy.deepcopy(jsonschema.Draft202012Validator.FORMAT_CHECKER)

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = dt.datetime.fromisoformat(value)
        return "T" in value.upper() and parsed.tzinfo is not None

    @checker.checks("uri")
    def uri(value: object) -> bool:
        return not isinstance(value, str) or bool(urlsplit(value).scheme)

    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)

    def valid(event: dict[str, Any]) -> bool:
        return validator.is_valid(
            {"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json", **event}
        )

    return valid


def published_by_fastjsonschema(schema: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    import fastjsonschema

    def date_time(value: str) -> bool:
        return "T" in value.upper() and dt.datetime.fromisoformat(value).tzinfo is not None

    formats = {
        "date-time": date_time,
        "uuid": lambda v: bool(uuid.UUID(v)),
        "uri": lambda v: bool(urlsplit(v).scheme),
    }
    validate = fastjsonschema.compile(schema, formats=formats)

    def valid(event: dict[str, Any]) -> bool:
        try:
            validate({"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json", **event})
        except (fastjsonschema.JsonSchemaException, ValueError):
            return False
        return True

    return valid


@pytest.fixture(scope="module")
def good_events(events_file: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    events.append(json.loads(sample("example_full_event.json").read_text()))
    events += json.loads(sample("metadata.json").read_text())
    return events


def test_good_events_pass_both_schemas(good_events: list[dict[str, Any]]) -> None:
    published = published_validator()
    for index, good in enumerate(good_events):
        assert published(good), index
        validate_event(good, f"events.ndjson:{index}")


def without(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(event: dict[str, Any]) -> None:
        node = event
        for key in parents:
            node = node[key]
        del node[last]

    return change


def setting(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(event: dict[str, Any]) -> None:
        node = event
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return change


# (change to a good event, JSON path, message fragment, whether the published schema rejects it too)
BAD = [
    pytest.param(without("run.runId"), "run.runId", "is missing (required)", True, id="no-runId"),
    pytest.param(
        setting("run.runId", "run-42"), "run.runId", "must be a UUID, not 'run-42'", True, id="runId-not-uuid"
    ),
    pytest.param(
        setting("eventTime", "yesterday"),
        "eventTime",
        "must be an RFC 3339 date-time",
        True,
        id="eventTime-not-a-date",
    ),
    pytest.param(
        setting("eventTime", "2026-03-01T02:00:00"),
        "eventTime",
        "with a time zone",
        True,
        id="eventTime-no-zone",
    ),
    pytest.param(without("job.name"), "job.name", "is missing (required)", True, id="no-job-name"),
    pytest.param(
        setting("inputs", {"namespace": "x"}),
        "inputs",
        "must be a list, not an object",
        True,
        id="inputs-not-a-list",
    ),
    pytest.param(
        setting("outputs.0.namespace", 7),
        "outputs[0].namespace",
        "must be text, not int",
        True,
        id="namespace-not-text",
    ),
    pytest.param(
        setting("eventType", "DONE"),
        "eventType",
        "must be one of START, RUNNING",
        True,
        id="unknown-eventType",
    ),
    pytest.param(without("producer"), "producer", "is missing (required)", True, id="no-producer"),
    pytest.param(
        setting("run.facets.parent.run.runId", "x"),
        "run.facets.parent.run.runId",
        "must be a UUID",
        False,
        id="parent-runId",
    ),
    pytest.param(
        setting("outputs.0.facets.schema.fields.0.name", None),
        "outputs[0].facets.schema.fields[0].name",
        "must be text, not null",
        False,
        id="field-name-null",
    ),
    pytest.param(
        setting("outputs.0.facets.columnLineage.fields.total", {"inputFields": "amount"}),
        "outputs[0].facets.columnLineage.fields.total.inputFields",
        "must be a list",
        False,
        id="lineage-not-a-list",
    ),
    pytest.param(
        setting("outputs.0.facets.documentation", "text"),
        "outputs[0].facets.documentation",
        "must be an object",
        True,
        id="facet-not-an-object",
    ),
]


@pytest.mark.parametrize(("change", "path", "fragment", "published_rejects"), BAD)
def test_bad_events_are_rejected_with_their_place(
    good_events: list[dict[str, Any]],
    change: Callable[[dict[str, Any]], None],
    path: str,
    fragment: str,
    published_rejects: bool,
) -> None:
    bad = copy.deepcopy(good_events[1])  # build_orders' COMPLETE, with every facet the changes touch
    change(bad)
    with pytest.raises(InputError) as caught:
        validate_event(bad, "events.ndjson:3")
    assert str(caught.value).startswith(f"events.ndjson:3: {path}: "), str(caught.value)
    assert fragment in caught.value.message
    if published_rejects:
        assert not published_validator()(bad)


def test_a_request_body_names_the_bad_event_by_index(
    good_events: list[dict[str, Any]], minter: Minter
) -> None:
    bad = copy.deepcopy(good_events[0])
    del bad["job"]["namespace"]
    with pytest.raises(InputError, match=r"^POST /api/v1/lineage: \[1\]: job\.namespace: is missing"):
        events_submission(
            [good_events[0], bad], minter=minter, source="s", location="POST /api/v1/lineage", digest="d"
        )
    with pytest.raises(InputError, match=r"^request: not an OpenLineage event"):
        validate_event({"eventTime": "2026-01-01T00:00:00Z"}, "request")


# ---------------------------------------------------------------- bad and hostile files


def good_line(run_id: str = RUN_1) -> str:
    return json.dumps(event(run_id=run_id, outputs=[dataset("t")]))


HOSTILE = [
    pytest.param(
        "events.ndjson",
        good_line() + "\n" + good_line() + "\n" + '{"eventTime": "2026-' + "\n",
        r":3:\d+: ",
        ("malformed JSON",),
        id="ndjson-line-3-truncated",
    ),
    pytest.param(
        "events.ndjson",
        good_line() + "\n" + good_line("not-a-uuid") + "\n",
        r":2: run\.runId: ",
        ("must be a UUID",),
        id="ndjson-schema-error",
    ),
    pytest.param(
        "events.json", "[" * 100_000 + "]" * 100_000, r": ", ("nested too deeply",), id="nested-100k-arrays"
    ),
    pytest.param(
        "events.ndjson",
        json.dumps(event(outputs=[dataset("t", custom={"deep": "X"})])).replace(
            '"X"', "[" * 100_000 + "]" * 100_000
        )
        + "\n"
        + good_line()
        + "\n",
        r"(:1)?: ",
        ("nested too deeply",),
        id="nested-in-a-facet",
    ),
    pytest.param("events.ndjson", "", r": ", ("empty",), id="empty-file"),
    pytest.param("events.ndjson", "\n\n  \n", r": ", ("empty",), id="blank-file"),
    pytest.param(
        "events.json",
        json.dumps([json.loads(good_line()), {**json.loads(good_line()), "inputs": "raw_orders"}]),
        r": \[1\]: inputs: ",
        ("must be a list, not text",),
        id="inputs-wrong-type",
    ),
    pytest.param(
        "events.json",
        "[1, 2]",
        r": \[0\]: ",
        ("an event must be a JSON object, not int",),
        id="array-of-numbers",
    ),
    pytest.param(
        "events.ndjson",
        good_line()
        + "\n"
        + json.dumps(event(minutes=0)).replace("2026-03-01T02:00", "2026-02-30T02:00")
        + "\n",
        r":2: eventTime: ",
        ("is not a date-time that exists",),
        id="impossible-date",
    ),
    pytest.param(
        "events.ndjson",
        good_line().encode() + b"\n" + good_line().encode().replace(b"etl.job", b"etl.\xff") + b"\n",
        r":2: ",
        ("not UTF-8",),
        id="not-utf8",
    ),
]


@pytest.fixture(scope="module")
def occupied_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store already holding a submission, which bad inputs must leave as it is."""
    folder = tmp_path_factory.mktemp("occupied")
    path = folder / "good.ndjson"
    path.write_text(good_line() + "\n")
    store = folder / "store"
    assert run_cli(store, "load", str(path)).exit_code == 0
    return store


@pytest.mark.parametrize(("name", "content", "place", "fragments"), HOSTILE)
def test_bad_files_are_refused_on_one_line_and_change_nothing(
    occupied_store: Path,
    tmp_path: Path,
    name: str,
    content: str | bytes,
    place: str,
    fragments: tuple[str, ...],
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = disk_snapshot(occupied_store)
    result = run_cli(occupied_store, "load", "--format", "openlineage", str(path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(re.escape(f"mlg: error: {path}") + place, lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert disk_snapshot(occupied_store) == before


# ---------------------------------------------------------------- detection


def test_event_files_are_detected_without_format(events_file: Path, tmp_path: Path) -> None:
    for path in (events_file, sample("example_full_event.json"), sample("metadata.json")):
        assert detect(path, path.read_bytes()).name == "openlineage", path
    array = tmp_path / "events.jsonl"
    array.write_text(events_file.read_text())
    assert detect(array, array.read_bytes()).name == "openlineage"


def test_other_formats_are_not_claimed(tmp_path: Path) -> None:
    sniff = FORMATS[0].sniff
    manifest = tmp_path / "catalog.json"
    manifest.write_text('{"mlg-manifest": 1, "assets": [{"kind": "job", "id": "etl", "eventTime": "x"}]}')
    assert not sniff(manifest, manifest.read_bytes()[:4096])
    others = [
        p
        for folder in ("datahub", "croissant", "feast", "mlflow-export-import")
        for p in (SHARED / "samples" / folder).glob("*.json")
    ]
    if not others:
        pytest.skip("no other formats' samples")
    for path in [*others, sample("1.json"), sample("OpenLineage.json")]:
        assert not sniff(path, path.read_bytes()[:4096]), path
    # An OpenLineage event under another extension is not claimed either.
    text = tmp_path / "events.txt"
    text.write_text(good_line())
    assert not sniff(text, text.read_bytes())


def test_the_loader_reads_a_request(minter: Minter, events_file: Path) -> None:
    """A file given to the loader's Request directly (as the receiver hands over bytes)."""
    data = events_file.read_bytes()
    submission = FORMATS[0].load(Request("events.ndjson", data, minter, "lineage/airflow"))
    assert submission.source == "lineage/airflow" and submission.digest == sha256_digest(data)
    assert submission.location == "events.ndjson"
