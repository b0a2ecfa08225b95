"""The Feast loader: a feature repository's registry.db and its JSON dump become one graph.

The inputs are made by Feast itself: a feature repository applied with the Python API
(entity, file, BigQuery, Snowflake, Kafka and push sources, feature views, a stream and
an on-demand view, a feature service) writes ``registry.db``, and ``registry_dump``,
the function behind ``feast registry-dump``, prints its JSON. Both go through the real
``mlg`` command and are checked with SPARQL; the Feast UI's sample registry
(``/work/shared/samples/feast``, skipped when absent) is loaded too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result
from conftest import BASE, SHARED, disk_snapshot
from pyoxigraph import NamedNode

import mlg.loaders.feast as feast_loader
from mlg.cli import cli
from mlg.errors import MissingDependencyError
from mlg.identity import Minter
from mlg.loaders import detect, read_submission
from mlg.store import OxigraphStore, open_store

SAMPLE = SHARED / "samples" / "feast" / "rag_registry.json"
MINTER = Minter(BASE)
PARQUET = "s3://fraud-features/txn_stats.parquet"
Run = Callable[..., Result]
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("feast") is None, reason="the feast extra is not installed"),
    # Feast warns that stream and on-demand views are experimental, each time they are applied.
    pytest.mark.filterwarnings("ignore:.*experimental:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:We will be deprecating:DeprecationWarning"),  # registry_dump's own
]


def iri(kind: str, identifier: str) -> NamedNode:
    return MINTER.asset(kind, identifier)


def ask(store: OxigraphStore, pattern: str) -> bool:
    return bool(store.query(f"ASK {{ {pattern} }}"))


def values(store: OxigraphStore, node: NamedNode, predicate: str) -> set[str]:
    return {row["o"].value for row in store.query(f"SELECT ?o WHERE {{ {node} {predicate} ?o }}")}


def triples(location: Path) -> set[str]:
    submission = read_submission(location, minter=MINTER, max_bytes=10_000_000)
    return {str(triple) for record in submission.records() for triple in record}


def apply_repo(folder: Path, *, short: bool = False) -> SimpleNamespace:
    """A feature repository applied by Feast into ``folder/registry.db``; ``short`` drops a feature."""
    feast = pytest.importorskip("feast")
    from feast.data_format import JsonFormat
    from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
    from feast.on_demand_feature_view import on_demand_feature_view
    from feast.repo_config import RepoConfig
    from feast.stream_feature_view import stream_feature_view
    from feast.types import Float32, Float64, Int64

    config = RepoConfig(
        project="fraud",
        registry=str(folder / "registry.db"),
        provider="local",
        online_store=SqliteOnlineStoreConfig(path=str(folder / "online.db")),
        entity_key_serialization_version=3,
    )
    customer = feast.Entity(
        name="customer",
        join_keys=["customer_id"],
        value_type=feast.ValueType.INT64,
        description="A card holder",
        owner="risk@example.com",
        tags={"pii": ""},
    )
    source = feast.FileSource(
        name="txn_stats_source",
        path=PARQUET,  # apply records the path; nothing is read
        timestamp_field="event_timestamp",
        description="Daily transaction statistics",
        owner="data@example.com",
        tags={"tier": "gold"},
    )
    schema = [
        feast.Field(
            name="txn_count_7d", dtype=Int64, description="Transactions in 7 days", tags={"window": "7d"}
        )
    ]
    if not short:
        schema.append(feast.Field(name="avg_amount_7d", dtype=Float32))
    stats = feast.FeatureView(
        name="txn_stats",
        entities=[customer],
        ttl=timedelta(days=1),
        schema=schema,
        source=source,
        description="Transaction statistics",
        owner="fraud-ml@example.com",
        tags={"team": "fraud"},
    )
    request = feast.RequestSource(name="txn_request", schema=[feast.Field(name="amount", dtype=Float64)])

    @on_demand_feature_view(
        sources=[stats, request],
        schema=[feast.Field(name="amount_ratio", dtype=Float64)],
        description="Ratio",
    )
    def amount_ratio(inputs):
        import pandas

        return pandas.DataFrame({"amount_ratio": inputs["amount"] / inputs["txn_count_7d"]})

    merchants = feast.BigQuerySource(
        name="merchants", table="acme-prod.fraud.merchants", timestamp_field="ts"
    )
    scores = feast.SnowflakeSource(
        name="scores", database="RISK", schema="PUBLIC", table="SCORES", timestamp_field="ts"
    )
    pushed = feast.PushSource(
        name="pushed",
        batch_source=feast.FileSource(
            name="pushed_batch", path="gs://fraud-push/txn.parquet", timestamp_field="ts"
        ),
    )
    kafka = feast.KafkaSource(
        name="card_txns",
        kafka_bootstrap_servers="broker1:9092,broker2:9092",
        topic="card-txns",
        timestamp_field="ts",
        message_format=JsonFormat(schema_json="amount double"),
        batch_source=feast.FileSource(
            name="txn_history", path="s3://fraud-features/history.parquet", timestamp_field="ts"
        ),
    )
    others = [
        feast.FeatureView(
            name=name,
            entities=[customer],
            schema=[feast.Field(name=f"{name}_score", dtype=Int64)],
            source=src,
        )
        for name, src in (("merchant", merchants), ("risk", scores), ("live", pushed))
    ]

    @stream_feature_view(
        entities=[customer],
        ttl=timedelta(hours=2),
        mode="python",
        schema=[feast.Field(name="amount_1h", dtype=Float32)],
        timestamp_field="ts",
        source=kafka,
        aggregations=[feast.Aggregation(column="amount", function="sum", time_window=timedelta(hours=1))],
    )
    def txn_stream(frame):
        return frame

    service = feast.FeatureService(
        name="fraud_model_v1",
        features=[stats[["txn_count_7d"]], amount_ratio],
        description="What the fraud model reads",
        owner="fraud-ml@example.com",
        tags={"model": "fraud-detector"},
    )
    store = feast.FeatureStore(config=config)
    store.apply(
        [
            customer,
            source,
            stats,
            request,
            amount_ratio,
            merchants,
            scores,
            pushed,
            kafka,
            *others,
            txn_stream,
            service,
        ]
    )

    from feast.repo_operations import registry_dump

    dump = folder / "registry-dump.json"
    dump.write_text(registry_dump(config, repo_path=folder))
    return SimpleNamespace(registry=folder / "registry.db", dump=dump, folder=folder)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return apply_repo(tmp_path_factory.mktemp("feature_repo"))


@pytest.fixture(scope="module")
def loaded(repo: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, OxigraphStore]:
    """registry.db loaded by `mlg load` (format detected), and the store it made (read-only)."""
    path = tmp_path_factory.mktemp("feast_store") / "store"
    result = CliRunner().invoke(
        cli, ["--store", str(path), "load", str(repo.registry)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result, open_store(path, read_only=True)


VIEW = iri("feature-view", "fraud/txn_stats")
DATASET = MINTER.dataset_from_uri(PARQUET)


# ---------------------------------------------------------------- registry.db made by feast apply


def test_registry_db_is_detected_and_admitted_without_violations(
    loaded: tuple[Result, OxigraphStore],
) -> None:
    result, _ = loaded
    line = result.stdout.strip()
    assert line.startswith("admitted feast "), line
    assert "violation" not in line and "warning" not in line, line
    assert "Feast ttl 2" in line  # kept as annotations, and said so


def test_feature_is_part_of_its_view_derived_from_the_parquet_dataset(
    loaded: tuple[Result, OxigraphStore],
) -> None:
    _, store = loaded
    count = iri("feature", "fraud/txn_stats/txn_count_7d")
    assert DATASET.value == f"{BASE}dataset/s3%3A%2F%2Ffraud-features/txn_stats.parquet"
    assert ask(store, f"{count} a mlg:Feature ; mlg:partOf {VIEW} ; mlg:derivedFrom {DATASET}")
    assert ask(store, f"{VIEW} a mlg:FeatureView ; mlg:derivedFrom {DATASET}")
    assert values(store, count, "mlg:dataType") == {"INT64"}
    assert values(store, count, "mlg:description") == {"Transactions in 7 days"}
    assert values(store, count, "mlg:tag") == {"window=7d"}
    assert values(store, count, "mlg:sourceId") == {"fraud/txn_stats/txn_count_7d"}
    assert values(store, iri("feature", "fraud/txn_stats/avg_amount_7d"), "mlg:dataType") == {"FLOAT"}
    assert values(store, VIEW, "mlg:name") == {"txn_stats"}
    assert values(store, VIEW, "mlg:tag") == {"team=fraud"}
    assert values(store, VIEW, "mlg:annotation") >= {"ttl=86400s", "entity=customer", "online=true"}
    assert ask(store, f"{VIEW} mlg:partOf {iri('system', 'feast:fraud')} ; mlg:created ?c ; mlg:modified ?m")
    owner = iri("person", "fraud-ml@example.com")
    assert ask(store, f'{VIEW} mlg:ownedBy {owner} . {owner} a mlg:Person ; mlg:email "fraud-ml@example.com"')


def test_dataset_is_named_the_openlineage_way(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    assert values(store, DATASET, "mlg:namespace") == {"s3://fraud-features"}
    assert values(store, DATASET, "mlg:qualifiedName") == {"txn_stats.parquet"}
    assert values(store, DATASET, "mlg:name") == {"txn_stats_source"}
    assert values(store, DATASET, "mlg:tag") == {"tier=gold"}
    assert ask(store, f"{DATASET} a mlg:Dataset ; mlg:ownedBy {iri('person', 'data@example.com')}")
    assert values(store, DATASET, "mlg:annotation") == {"timestampField=event_timestamp"}


def test_entity_is_the_join_key_field_of_each_view(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    key = iri("field", "fraud/txn_stats/customer_id")
    assert ask(
        store, f'{key} a mlg:Field ; mlg:partOf {VIEW} ; mlg:derivedFrom {DATASET} ; mlg:name "customer_id"'
    )
    assert values(store, key, "mlg:dataType") == {"INT64"}
    assert values(store, key, "mlg:description") == {"A card holder"}
    assert values(store, key, "mlg:tag") == {"pii"}
    assert values(store, key, "mlg:annotation") == {"entity=customer"}
    assert ask(store, f"{key} mlg:ownedBy {iri('person', 'risk@example.com')}")
    fields = store.query("SELECT ?f WHERE { ?f a mlg:Field ; mlg:name 'customer_id' }")
    assert len(list(fields)) == 5  # one a view keyed by the customer; none for Feast's __dummy entity


def test_on_demand_view_reads_the_features_it_computes_from(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    ratio_view, ratio = (
        iri("feature-view", "fraud/amount_ratio"),
        iri("feature", "fraud/amount_ratio/amount_ratio"),
    )
    assert ask(store, f"{ratio_view} a mlg:FeatureView ; mlg:derivedFrom {VIEW}")
    count = iri("feature", "fraud/txn_stats/txn_count_7d")
    assert ask(store, f"{ratio} mlg:partOf {ratio_view} ; mlg:derivedFrom {count}")
    assert 'source={"name": "txn_request", "request": {"amount": "DOUBLE"}}' in values(
        store, ratio_view, "mlg:annotation"
    )
    assert ask(store, f"{ratio} mlg:upstream+ {DATASET}")


def test_feature_service_is_a_view_over_what_it_serves(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    service = iri("feature-service", "fraud/fraud_model_v1")
    served = {row["x"].value for row in store.query(f"SELECT ?x WHERE {{ {service} mlg:derivedFrom ?x }}")}
    assert served == {
        VIEW.value,
        iri("feature", "fraud/txn_stats/txn_count_7d").value,
        iri("feature-view", "fraud/amount_ratio").value,
        iri("feature", "fraud/amount_ratio/amount_ratio").value,
    }
    assert ask(
        store,
        f'{service} a mlg:FeatureService, mlg:FeatureView ; mlg:name "fraud_model_v1" ; '
        'mlg:tag "model=fraud-detector"',
    )
    assert ask(store, f"{service} prov:wasDerivedFrom+ {DATASET}")  # PROV-only clients see the lineage too


def test_each_kind_of_source_is_named_by_its_rule(loaded: tuple[Result, OxigraphStore]) -> None:
    _, store = loaded
    expected = {
        "merchant": [MINTER.dataset("bigquery", "acme-prod.fraud.merchants")],
        "risk": [MINTER.dataset("snowflake", "RISK.PUBLIC.SCORES")],
        "live": [
            MINTER.dataset_from_uri("gs://fraud-push/txn.parquet")
        ],  # a push source lands in its batch source
        "txn_stream": [
            MINTER.dataset_from_uri("s3://fraud-features/history.parquet"),
            MINTER.dataset("kafka://broker1:9092", "card-txns"),
        ],
    }
    for view, datasets in expected.items():
        found = values(store, iri("feature-view", f"fraud/{view}"), "mlg:derivedFrom")
        assert found == {d.value for d in datasets}, view
        for dataset in datasets:
            assert ask(store, f"{dataset} a mlg:Dataset ; mlg:sourceRegistry 'feast'")
    stream = iri("feature-view", "fraud/txn_stream")
    notes = values(store, stream, "mlg:annotation")
    assert {"ttl=7200s", "mode=python", "transformation=txn_stream"} <= notes
    assert any(n.startswith('aggregations=[{"column": "amount", "function": "sum"') for n in notes)
    pushed = (
        'source={"name": "pushed", "type": "PUSH_SOURCE"}'  # named on the view; its data: the batch source
    )
    assert pushed in values(store, iri("feature-view", "fraud/live"), "mlg:annotation")


POSTGRES = "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource"
LOCATIONS = [
    (
        "redshift_options",
        {"table": "chargebacks", "schema": "public", "database": "ledger"},
        "",
        ("redshift", "ledger.public.chargebacks"),
    ),
    ("snowflake_options", {"table": "RISK.PUBLIC.SCORES"}, "", ("snowflake", "RISK.PUBLIC.SCORES")),
    ("trino_options", {"table": "hive.sales.orders"}, "", ("trino", "hive.sales.orders")),
    (
        "athena_options",
        {"table": "t", "database": "db", "data_source": "AwsDataCatalog"},
        "",
        ("awsathena", "AwsDataCatalog.db.t"),
    ),
    ("kinesis_options", {"region": "eu-west-1", "stream_name": "txns"}, "", ("kinesis://eu-west-1", "txns")),
    ("spark_options", {"path": "s3a://lake/events/"}, "", ("s3a://lake", "events")),
    ("spark_options", {"table": "db.events"}, "", ("spark", "db.events")),
    ("bigquery_options", {"table": "acme:fraud.merchants"}, "", ("bigquery", "acme.fraud.merchants")),
    ("bigquery_options", {"query": "SELECT 1"}, "", None),
    ("file_options", {"uri": "/data/txns.parquet"}, "", ("file", "/data/txns.parquet")),
    ("file_options", {"uri": "file:///data/txns.parquet"}, "", ("file", "/data/txns.parquet")),
    (
        "custom_options",
        {"configuration": b'{"name": "c", "query": "", "table": "public.chargebacks"}'},
        POSTGRES,
        ("postgres", "public.chargebacks"),
    ),
    ("custom_options", {"configuration": b'{"table": "x"}'}, "acme.ClickhouseSource", None),
]


@pytest.mark.parametrize(("options", "fields", "class_type", "expected"), LOCATIONS)
def test_sources_feast_apply_did_not_write_here_are_named_by_the_documented_rule(
    options: str, fields: dict, class_type: str, expected: tuple[str, str] | None
) -> None:
    registry_class, _ = feast_loader._protos()
    source = registry_class().data_sources.add(name="s", data_source_class_type=class_type)
    getattr(source, options).MergeFrom(type(getattr(source, options))(**fields))
    assert feast_loader._location(getattr(source, options), class_type) == expected


def test_the_dump_json_gives_the_same_facts(repo: SimpleNamespace) -> None:
    """Only the project's own timestamps differ: the dump holds no project objects."""
    from_db, from_dump = triples(repo.registry), triples(repo.dump)
    system = iri("system", "feast:fraud")
    only_db = from_db - from_dump
    assert {t.split(" ")[1] for t in only_db} == {
        "<https://w3id.org/mlg#created>",
        "<https://w3id.org/mlg#modified>",
    }
    assert all(t.startswith(str(system)) for t in only_db)
    assert from_dump - from_db == set()
    assert len(from_dump) > 250


def test_dump_loads_through_the_cli_detected(repo: SimpleNamespace, mlg: Run) -> None:
    result = mlg("load", str(repo.dump))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"admitted feast {repo.dump}: ")


def test_reload_is_unchanged_and_a_changed_registry_replaces_the_graph(
    repo: SimpleNamespace, mlg: Run, store_path: Path, tmp_path: Path
) -> None:
    assert mlg("load", str(repo.registry), "--source", "feast/fraud").exit_code == 0
    again = mlg("load", str(repo.registry), "--source", "feast/fraud")
    assert again.stdout.startswith("unchanged feast "), again.stdout
    changed = tmp_path / "changed"
    shutil.copytree(repo.folder, changed)
    apply_repo(changed, short=True)  # txn_stats loses avg_amount_7d
    result = mlg("load", str(changed / "registry.db"), "--source", "feast/fraud")
    assert result.stdout.startswith("replaced feast "), result.output
    store = open_store(store_path, read_only=True)
    gone = iri("feature", "fraud/txn_stats/avg_amount_7d")
    assert not ask(store, f"{gone} mlg:partOf {VIEW}")
    assert ask(store, f"{iri('feature', 'fraud/txn_stats/txn_count_7d')} mlg:partOf {VIEW}")


def test_registry_loads_in_a_fresh_process_without_importing_the_feast_sdk(repo: SimpleNamespace) -> None:
    """Only Feast's generated protobuf modules are imported, and none is left behind."""
    code = (
        "import sys; from mlg.identity import Minter; from mlg.loaders import read_submission\n"
        f"s = read_submission({str(repo.registry)!r}, minter=Minter({BASE!r}), max_bytes=10**8)\n"
        "print(sum(1 for _ in s.records()), any(m == 'feast' or m.startswith('feast.') for m in sys.modules),"
        " 'pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    records, left, pandas = done.stdout.split()
    assert int(records) > 20 and left == "False" and pandas == "False", done.stdout


def test_without_feast_the_error_names_the_extra(
    repo: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feast_loader, "_classes", None)
    for module in ("feast", feast_loader._REGISTRY_MODULE):  # what an import meets without Feast installed
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'model-lifecycle-graph\[feast\]'"):
        read_submission(repo.registry, minter=MINTER, max_bytes=10_000_000)
    monkeypatch.setattr(feast_loader, "_classes", None)


# ---------------------------------------------------------------- the Feast UI's sample registry


def test_feast_ui_sample_registry_loads_and_admits(mlg: Run, store_path: Path) -> None:
    if not SAMPLE.is_file():
        pytest.skip("the shared Feast sample is absent")
    result = mlg("load", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"admitted feast {SAMPLE}: "), result.stdout
    assert "violation" not in result.stdout
    assert "unknown Feast field 2" in result.stdout  # the UI's dataSources[].spec, counted
    store = open_store(store_path, read_only=True)
    system = iri("system", "feast:rag_project")
    assert values(store, system, "mlg:description") == {"Project for Retrieval Augmented Generation"}
    embeddings = iri("feature-view", "rag_project/rag_document_embeddings")
    assert ask(store, f'{embeddings} mlg:partOf {system} ; mlg:description "Document embeddings for RAG"')
    embedding = iri("feature", "rag_project/rag_document_embeddings/document_embedding")
    assert values(store, embedding, "mlg:dataType") == {"BYTES_LIST"}
    document = iri("field", "rag_project/rag_document_metadata/document")
    assert ask(
        store, f'{document} mlg:partOf ?v ; mlg:description "Document entity for RAG" ; mlg:dataType "STRING"'
    )
    # Its file sources name no path: no dataset is invented, the source is kept by name.
    note = 'source={"name": "rag_document_source", "type": "BATCH_FILE"}'
    assert note in values(store, embeddings, "mlg:annotation")
    assert not ask(store, "?d a mlg:Dataset")


# ---------------------------------------------------------------- detection


def test_registry_files_are_detected(repo: SimpleNamespace) -> None:
    for path in (repo.registry, repo.dump, *([SAMPLE] if SAMPLE.is_file() else [])):
        assert detect(path, path.read_bytes()).name == "feast", path


def test_other_formats_are_not_claimed(tmp_path: Path) -> None:
    mlflow_db = tmp_path / "mlflow.db"
    with sqlite3.connect(mlflow_db) as connection:
        connection.execute("CREATE TABLE experiments (experiment_id INTEGER)")
    manifest = tmp_path / "catalog.json"
    manifest.write_text(json.dumps({"mlg-manifest": 1, "assets": [{"kind": "dataset", "id": "dataSources"}]}))
    others = [
        mlflow_db,
        manifest,
        *(p for p in (SHARED / "samples").rglob("*") if p.is_file() and "feast" not in p.parts),
    ]
    for path in others:
        assert not feast_loader.sniff(path, path.read_bytes()[:4096]), path


# ---------------------------------------------------------------- bad and hostile input


def _truncated(repo: SimpleNamespace) -> bytes:
    return repo.registry.read_bytes()[:-3]


def _hostile_time(repo: SimpleNamespace) -> bytes:
    registry_class, _ = feast_loader._protos()
    registry = registry_class.FromString(repo.registry.read_bytes())
    registry.feature_views[0].meta.created_timestamp.seconds = 10**15
    return registry.SerializeToString()


def _nameless(repo: SimpleNamespace) -> bytes:
    registry_class, _ = feast_loader._protos()
    registry = registry_class.FromString(repo.registry.read_bytes())
    registry.feature_views[0].spec.name = ""
    return registry.SerializeToString()


def _dump_with(change: Callable[[dict], None]) -> Callable[[SimpleNamespace], bytes]:
    def make(repo: SimpleNamespace) -> bytes:
        document = json.loads(repo.dump.read_text())
        change(document)
        return json.dumps(document).encode()

    return make


BAD = [
    pytest.param("registry.db", _truncated, (), ": ", ("corrupt or truncated",), id="truncated-registry-db"),
    pytest.param(
        "registry.db",
        lambda _: os.urandom(2048),
        ("--format", "feast"),
        ": ",
        ("corrupt or truncated",),
        id="random-bytes",
    ),
    pytest.param(
        "registry.db",
        lambda _: b"SQLite format 3\x00" + bytes(200),
        ("--format", "feast"),
        ": ",
        ("SQLite",),
        id="sqlite",
    ),
    pytest.param("registry.db", lambda _: b"", ("--format", "feast"), ": ", ("no Feast object",), id="empty"),
    pytest.param(
        "registry.db",
        _hostile_time,
        (),
        r": featureViews\[0\]\.meta\.createdTimestamp: ",
        ("not a date",),
        id="date-out-of-range",
    ),
    pytest.param(
        "registry.db",
        _nameless,
        (),
        r": featureViews\[0\]\.spec\.name: ",
        ("has no name",),
        id="nameless-view",
    ),
    pytest.param(
        "registry-dump.json",
        lambda r: r.dump.read_bytes()[:-40],
        (),
        r":\d+:\d+: ",
        ("malformed JSON",),
        id="truncated-json",
    ),
    pytest.param(
        "registry-dump.json",
        _dump_with(lambda d: d["featureViews"][0]["spec"].__setitem__("name", 3)),
        (),
        r": featureViews\.spec\.name: ",
        ("not a Feast registry", "got 'int'"),
        id="name-is-a-number",
    ),
    pytest.param(
        "registry-dump.json",
        _dump_with(lambda d: d["featureViews"][0]["spec"]["features"][0].__setitem__("valueType", "FLOAT64")),
        (),
        r": featureViews\[0\]\.spec\.features\[0\]\.valueType: ",
        ("Invalid enum value FLOAT64",),
        id="unknown-value-type",
    ),
    pytest.param(
        "registry-dump.json",
        _dump_with(lambda d: d.__setitem__("featureViews", {"txn_stats": {}})),
        (),
        ": ",
        ("must be in []",),
        id="views-not-a-list",
    ),
    pytest.param(
        "registry-dump.json",
        _dump_with(lambda d: d.__setitem__("project", ["fraud"])),
        (),
        ": project: ",
        ("as text",),
        id="project-not-text",
    ),
    pytest.param(
        "registry-dump.json",
        lambda _: ('{"dataSources": [' + '{"batchSource": ' * 200 + "{}" + "}" * 200 + "]}").encode(),
        (),
        r": dataSources\.batchSource",
        ("too deep",),
        id="deeply-nested",
    ),
]


@pytest.mark.parametrize(("name", "make", "options", "place", "fragments"), BAD)
def test_bad_input_is_refused_in_one_line_and_changes_nothing(
    repo: SimpleNamespace,
    mlg: Run,
    store_path: Path,
    tmp_path: Path,
    name: str,
    make: Callable[[SimpleNamespace], bytes],
    options: tuple[str, ...],
    place: str,
    fragments: tuple[str, ...],
) -> None:
    assert mlg("load", str(repo.registry)).exit_code == 0  # a store that already holds something
    before = disk_snapshot(store_path)
    path = tmp_path / name
    path.write_bytes(make(repo))
    result = mlg("load", str(path), *options)
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(re.escape(f"mlg: error: {path}") + place, lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert disk_snapshot(store_path) == before
