"""The DataHub loader, on files acryl-datahub itself writes and on DataHub's own sample files.

The inputs are written by acryl-datahub (``MetadataChangeProposalWrapper`` objects and a
``MetadataChangeEvent``, through the file sink's ``write_metadata_file``), loaded with
the real ``mlg load`` against an on-disk store, and checked with SPARQL. The identity
rules are checked against the IRIs other loaders mint for the same tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import BASE, SHARED, disk_snapshot

from mlg.admission import Gate
from mlg.identity import Minter
from mlg.loaders import detect, read_submission
from mlg.loaders.datahub import (
    SNAPSHOT_ENTITIES,
    _sniff,
    aspect_name,
    classification,
    dataset_name,
    parse_urn,
)
from mlg.store import OxigraphStore, open_store

datahub = pytest.importorskip("datahub", reason="the datahub extra (acryl-datahub) writes the test inputs")

Run = Callable[..., Result]
SAMPLES = SHARED / "samples" / "datahub"
MINTER = Minter(BASE)
T0 = 1767225600000  # 2026-01-01T00:00:00Z

BQ = "urn:li:dataset:(urn:li:dataPlatform:bigquery,proj.fraud.labelled_transactions,PROD)"
S3 = "urn:li:dataset:(urn:li:dataPlatform:s3,Payments-Raw/transactions,PROD)"
PG = "urn:li:dataset:(urn:li:dataPlatform:postgres,ledger.internal:5432.ledger.public.chargebacks,PROD)"
GROUP = "urn:li:mlModelGroup:(urn:li:dataPlatform:mlflow,fraud-detector,PROD)"
MODEL = "urn:li:mlModel:(urn:li:dataPlatform:mlflow,fraud-detector_3,PROD)"
RUN = "urn:li:dataProcessInstance:run-42"
DEPLOYMENT = "urn:li:mlModelDeployment:(urn:li:dataPlatform:sagemaker,fraud-scoring,PROD)"
FEATURE = "urn:li:mlFeature:(transactions,amount_7d)"
KEY = "urn:li:mlPrimaryKey:(transactions,card_id)"
TABLE = "urn:li:mlFeatureTable:(urn:li:dataPlatform:feast,transactions)"
FLOW = "urn:li:dataFlow:(airflow,fraud_etl,prod)"
JOB = "urn:li:dataJob:(urn:li:dataFlow:(airflow,fraud_etl,prod),build_labels)"

DATASET = MINTER.dataset("bigquery", "proj.fraud.labelled_transactions")
RAW = MINTER.dataset_from_uri("s3://payments-raw/transactions")
CHARGEBACKS = MINTER.dataset_from_uri("postgres://ledger.internal:5432/ledger.public.chargebacks")
VERSION = MINTER.version(MINTER.asset("model", "fraud-detector"), "3")
B = BASE
LOYALTY = MINTER.asset("feature", "customer_features/loyalty_tier")
# DataHub's Feast source writes project.view; the Feast loader names the view project/view.
DRIVER_STATS = MINTER.asset("feature-view", "feature_store/driver_hourly_stats")
CONV_RATE = MINTER.asset("feature", "feature_store/driver_hourly_stats/conv_rate")
FEATURE_IRI = MINTER.asset("feature", "transactions/amount_7d")
VIEW_IRI = MINTER.asset("feature-view", "transactions")
BACKUP = MINTER.dataset_from_uri("s3://project/root/events/logging_events_bckp")


def records(description: str = "Card transactions with fraud labels") -> list[Any]:
    """A small ML platform as DataHub describes it, built with acryl-datahub's own classes."""
    import datahub.emitter.mce_builder as builder
    import datahub.metadata.schema_classes as dh
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as Proposal

    stamp = dh.AuditStampClass(time=T0, actor="urn:li:corpuser:ingestion")

    def field(path: str, native: str, **extra: Any) -> Any:
        kind = dh.SchemaFieldDataTypeClass(
            dh.NumberTypeClass() if native != "STRING" else dh.StringTypeClass()
        )
        return dh.SchemaFieldClass(fieldPath=path, type=kind, nativeDataType=native, **extra)

    pii = dh.GlossaryTermsClass(
        terms=[dh.GlossaryTermAssociationClass(builder.make_term_urn("Classification.PII"))], auditStamp=stamp
    )
    aspects: list[tuple[str, Any]] = [
        (BQ, dh.DatasetPropertiesClass(name="Labelled transactions", description=description)),
        (
            BQ,
            dh.SchemaMetadataClass(
                schemaName="labelled_transactions",
                platform=builder.make_data_platform_urn("bigquery"),
                version=0,
                hash="",
                platformSchema=dh.MySqlDDLClass(tableSchema=""),
                fields=[
                    field("amount", "FLOAT64", description="Amount in EUR"),
                    field("card_number", "STRING", glossaryTerms=pii, isPartOfKey=True),
                ],
            ),
        ),
        (
            BQ,
            dh.UpstreamLineageClass(
                upstreams=[dh.UpstreamClass(dataset=S3, type=dh.DatasetLineageTypeClass.TRANSFORMED)],
                fineGrainedLineages=[
                    dh.FineGrainedLineageClass(
                        upstreamType=dh.FineGrainedLineageUpstreamTypeClass.FIELD_SET,
                        upstreams=[builder.make_schema_field_urn(S3, "amt")],
                        downstreamType=dh.FineGrainedLineageDownstreamTypeClass.FIELD,
                        downstreams=[builder.make_schema_field_urn(BQ, "amount")],
                    )
                ],
            ),
        ),
        (
            BQ,
            dh.OwnershipClass(
                owners=[
                    dh.OwnerClass(
                        owner=builder.make_group_urn("fraud-ml"), type=dh.OwnershipTypeClass.DATAOWNER
                    ),
                    dh.OwnerClass(
                        owner=builder.make_user_urn("alice"), type=dh.OwnershipTypeClass.TECHNICAL_OWNER
                    ),
                ]
            ),
        ),
        (BQ, dh.GlobalTagsClass(tags=[dh.TagAssociationClass(builder.make_tag_urn("gold"))])),
        (BQ, dh.BrowsePathsV2Class(path=[dh.BrowsePathEntryClass(id="fraud")])),
        (S3, dh.DeprecationClass(deprecated=True, note="use transactions_v2", actor="urn:li:corpuser:alice")),
        (GROUP, dh.MLModelGroupPropertiesClass(description="Scores card payments", createdAt=T0)),
        (
            MODEL,
            dh.MLModelPropertiesClass(
                groups=[GROUP],
                version=dh.VersionTagClass(versionTag="3"),
                hyperParams=[dh.MLHyperParamClass(name="max_depth", value="6")],
                trainingMetrics=[dh.MLMetricClass(name="auc", value="0.947")],
                mlFeatures=[FEATURE],
                trainingJobs=[RUN],
                deployments=[DEPLOYMENT],
                customProperties={"framework": "xgboost"},
            ),
        ),
        (MODEL, dh.GlobalTagsClass(tags=[dh.TagAssociationClass(builder.make_tag_urn("mlflow_production"))])),
        (
            MODEL,
            dh.OwnershipClass(
                owners=[dh.OwnerClass(owner=builder.make_group_urn("fraud-ml"), type="DATAOWNER")]
            ),
        ),
        (
            DEPLOYMENT,
            dh.MLModelDeploymentPropertiesClass(status=dh.DeploymentStatusClass.IN_SERVICE, createdAt=T0),
        ),
        (RUN, dh.DataProcessInstancePropertiesClass(name="train fraud-detector v3", created=stamp)),
        (RUN, dh.DataProcessInstanceInputClass(inputs=[BQ])),
        (
            RUN,
            dh.DataProcessInstanceRunEventClass(
                timestampMillis=T0 + 3_600_000,
                status=dh.DataProcessRunStatusClass.COMPLETE,
                result=dh.DataProcessInstanceRunResultClass(type="SUCCESS", nativeResultType="mlflow"),
            ),
        ),
        (FEATURE, dh.MLFeaturePropertiesClass(dataType="CONTINUOUS", sources=[BQ])),
        (KEY, dh.MLPrimaryKeyPropertiesClass(dataType="ORDINAL", sources=[BQ])),
        (TABLE, dh.MLFeatureTablePropertiesClass(mlFeatures=[FEATURE], mlPrimaryKeys=[KEY])),
        (FLOW, dh.DataFlowInfoClass(name="Fraud ETL")),
        (JOB, dh.DataJobInfoClass(name="Build labels", type="COMMAND", flowUrn=FLOW)),
        (JOB, dh.DataJobInputOutputClass(inputDatasets=[S3], outputDatasets=[BQ])),
        (
            "urn:li:corpGroup:fraud-ml",
            dh.CorpGroupInfoClass(
                displayName="Fraud ML",
                email="fraud-ml@example.com",
                admins=[],
                groups=[],
                members=["urn:li:corpuser:alice"],
            ),
        ),
        (
            "urn:li:corpuser:alice",
            dh.CorpUserInfoClass(active=True, displayName="Alice Moreau", email="alice@example.com"),
        ),
    ]
    snapshot = dh.MetadataChangeEventClass(
        proposedSnapshot=dh.DatasetSnapshotClass(
            urn=PG,
            aspects=[dh.DatasetPropertiesClass(description="Chargebacks"), dh.StatusClass(removed=True)],
        )
    )
    return [Proposal(entityUrn=urn, aspect=aspect) for urn, aspect in aspects] + [snapshot]


def write_file(path: Path, items: list[Any]) -> Path:
    from datahub.ingestion.sink.file import write_metadata_file

    write_metadata_file(path, items)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The platform written by the file sink, once as written and once with a changed description."""
    folder = tmp_path_factory.mktemp("datahub")
    return {
        "platform": write_file(folder / "platform.json", records()),
        "changed": write_file(folder / "changed.json", records("Relabelled in 2026")),
        # The serialised form of proposals: the aspect as a JSON string with its content type.
        "serialised": write_file(
            folder / "serialised.json",
            [
                item.to_obj(simplified_structure=False) if hasattr(item, "entityUrn") else item
                for item in records()
            ],
        ),
    }


@pytest.fixture(scope="module")
def loaded(inputs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    """The platform admitted through the real `mlg load`, in a store of its own."""
    from click.testing import CliRunner

    from mlg.cli import cli

    path = tmp_path_factory.mktemp("store") / "store"
    result = CliRunner().invoke(cli, ["--store", str(path), "load", str(inputs["platform"])])
    assert result.exit_code == 0, result.output
    assert re.search(r"admitted datahub .*platform\.json", result.output), result.output
    assert "unknown aspect 1" in result.output, result.output  # browsePathsV2, kept as an annotation
    return open_store(path, read_only=True)


def values(store: OxigraphStore, sparql: str) -> set[tuple[str, ...]]:
    return {tuple(term.value for term in row) for row in store.query(sparql)}


def one(store: OxigraphStore, node: Any, predicate: str) -> set[str]:
    return {row[0].value for row in store.query(f"SELECT ?o WHERE {{ {node} {predicate} ?o }}")}


# ---------------------------------------------------------------- real tool output


def test_dataset_schema_lineage_owners_and_tags(loaded: OxigraphStore) -> None:
    assert one(loaded, DATASET, "a") >= {"https://w3id.org/mlg#Dataset"}
    assert one(loaded, DATASET, "mlg:name") == {"Labelled transactions"}
    assert one(loaded, DATASET, "mlg:namespace") == {"bigquery"}
    assert one(loaded, DATASET, "mlg:qualifiedName") == {"proj.fraud.labelled_transactions"}
    assert one(loaded, DATASET, "mlg:sourceId") == {BQ}
    assert one(loaded, DATASET, "mlg:derivedFrom") == {RAW.value}
    assert one(loaded, DATASET, "mlg:ownedBy") == {f"{BASE}team/fraud-ml", f"{BASE}person/alice"}
    assert one(loaded, DATASET, "mlg:tag") == {"gold"}
    assert one(loaded, DATASET, "mlg:annotation") == {'browsePathsV2={"path": [{"id": "fraud"}]}'}
    assert one(loaded, RAW, "mlg:status") == {"deprecated"}
    fields = values(
        loaded,
        f"SELECT ?n ?t WHERE {{ ?f a mlg:Field ; mlg:partOf {DATASET} ; mlg:name ?n ; mlg:dataType ?t }}",
    )
    assert fields == {("amount", "FLOAT64"), ("card_number", "STRING")}
    card = f"<{DATASET.value}/fields/card_number>"
    assert one(loaded, card, "mlg:classification") == {"pii"}
    assert one(loaded, card, "mlg:tag") == {"Classification.PII"}
    assert one(loaded, card, "mlg:annotation") == {"isPartOfKey=true"}
    assert one(loaded, f"<{DATASET.value}/fields/amount>", "mlg:derivedFrom") == {f"{RAW.value}/fields/amt"}


def test_model_version_meets_its_mlflow_name(loaded: OxigraphStore) -> None:
    """mlModel fraud-detector_3 in group fraud-detector is version 3 of the model fraud-detector."""
    assert one(loaded, VERSION, "a") >= {"https://w3id.org/mlg#ModelVersion"}
    assert one(loaded, VERSION, "mlg:versionOf") == {f"{BASE}model/fraud-detector"}
    assert one(loaded, VERSION, "mlg:version") == {"3"}
    assert one(loaded, VERSION, "mlg:stage") == {"production"}
    assert one(loaded, VERSION, "mlg:producedBy") == {f"{BASE}run/run-42"}
    assert one(loaded, VERSION, "mlg:usesFeature") == {FEATURE_IRI.value}
    assert one(loaded, VERSION, "mlg:ownedBy") == {f"{BASE}team/fraud-ml"}
    assert one(loaded, VERSION, "mlg:annotation") == {"framework=xgboost"}
    metric = "?m mlg:metricName ?n ; mlg:metricValue ?v . BIND(DATATYPE(?v) AS ?t)"
    metrics = values(loaded, f"SELECT ?n ?v ?t WHERE {{ {VERSION} mlg:hasMetric ?m . {metric} }}")
    assert metrics == {("auc", "0.947", "http://www.w3.org/2001/XMLSchema#double")}
    parameter = "?p mlg:parameterName ?n ; mlg:parameterValue ?v"
    parameters = values(loaded, f"SELECT ?n ?v WHERE {{ {VERSION} mlg:hasParameter ?p . {parameter} }}")
    assert parameters == {("max_depth", "6")}
    assert one(loaded, f"<{BASE}model/fraud-detector>", "mlg:description") == {"Scores card payments"}
    deployment = f"<{BASE}deployment/fraud-scoring>"
    assert one(loaded, deployment, "mlg:deploys") == {VERSION.value}
    assert one(loaded, deployment, "mlg:stage") == {"production"}
    assert one(loaded, deployment, "mlg:status") == {"active"}


def test_run_job_pipeline_features_people(loaded: OxigraphStore) -> None:
    run = f"<{BASE}run/run-42>"
    assert one(loaded, run, "a") >= {"https://w3id.org/mlg#TrainingRun"}
    assert one(loaded, run, "mlg:used") == {DATASET.value}
    assert one(loaded, run, "mlg:runState") == {"completed"}
    assert one(loaded, run, "mlg:endedAt") == {"2026-01-01T01:00:00Z"}
    job = MINTER.qualified("job", "airflow", "fraud_etl.build_labels")
    assert one(loaded, job, "mlg:name") == {"Build labels"}
    assert one(loaded, job, "mlg:used") == {RAW.value}
    assert one(loaded, job, "mlg:partOf") == {MINTER.qualified("pipeline", "airflow", "fraud_etl").value}
    assert one(loaded, DATASET, "mlg:producedBy") == {job.value}
    feature, view = FEATURE_IRI, VIEW_IRI
    assert one(loaded, feature, "mlg:derivedFrom") == {DATASET.value}
    assert one(loaded, feature, "mlg:partOf") == {view.value}
    key = MINTER.asset("field", "transactions/card_id")  # a Feast entity's join key is a field of the view
    assert one(loaded, key, "mlg:partOf") == {view.value}
    assert one(loaded, key, "mlg:dataType") == {"ORDINAL"}
    assert one(loaded, view, "mlg:derivedFrom") == {DATASET.value}
    alice = f"<{BASE}person/alice>"
    assert one(loaded, alice, "mlg:name") == {"Alice Moreau"}
    assert one(loaded, alice, "mlg:email") == {"alice@example.com"}
    assert one(loaded, alice, "mlg:memberOf") == {f"{BASE}team/fraud-ml"}
    assert one(loaded, f"<{BASE}team/fraud-ml>", "mlg:name") == {"Fraud ML"}


def test_a_snapshot_with_a_platform_instance(loaded: OxigraphStore) -> None:
    """The MCE form; the instance before db.schema.table is the host OpenLineage names."""
    assert one(loaded, CHARGEBACKS, "mlg:status") == {"retired"}
    assert one(loaded, CHARGEBACKS, "mlg:namespace") == {"postgres://ledger.internal:5432"}
    assert one(loaded, CHARGEBACKS, "mlg:description") == {"Chargebacks"}


def test_serialised_and_json_lines_forms_give_the_same_graph(inputs: dict[str, Path], tmp_path: Path) -> None:
    def triples(path: Path) -> set[str]:
        submission = read_submission(path, minter=MINTER, max_bytes=10**8)
        assert submission.format == "datahub"
        return {str(t) for record in submission.records() for t in record}

    expected = triples(inputs["platform"])
    assert '"value": "{' in inputs["serialised"].read_text()  # the aspect as a JSON string
    assert triples(inputs["serialised"]) == expected
    lines = tmp_path / "platform.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in json.loads(inputs["platform"].read_text())) + "\n")
    assert triples(lines) == expected


def test_reload_is_unchanged_and_a_changed_file_replaces(
    inputs: dict[str, Path], mlg: Run, store_path: Path
) -> None:
    def load(path: Path) -> str:
        result = mlg("load", "--source", "datahub/platform", str(path))
        assert result.exit_code == 0, result.output
        return result.output.split()[0]

    assert load(inputs["platform"]) == "admitted"
    assert load(inputs["platform"]) == "unchanged"
    assert load(inputs["changed"]) == "replaced"
    store = open_store(store_path, read_only=True)
    assert one(store, DATASET, "mlg:description") == {"Relabelled in 2026"}


# ---------------------------------------------------------------- identity


def test_a_datahub_table_and_an_openlineage_table_are_one_node(
    inputs: dict[str, Path], gate: Gate, store
) -> None:
    """The same tables named the OpenLineage way by another source meet the DataHub ones."""
    assert gate.admit(read_submission(inputs["platform"], minter=MINTER, max_bytes=10**8)).ok
    other = Path(inputs["platform"].parent / "openlineage-named.yaml")
    other.write_text(
        "mlg-manifest: 1\n"
        "assets:\n"
        "  - {kind: dataset, id: labels, uri: 'bigquery:proj.fraud.labelled_transactions'}\n"
        "  - {kind: dataset, id: raw, uri: 's3://payments-raw/transactions'}\n"
        "  - {kind: dataset, id: chargebacks, uri: 'postgres://ledger.internal:5432/ledger.public.chargebacks'}\n"
    )
    assert gate.admit(read_submission(other, minter=MINTER, max_bytes=10**8)).ok
    registries = values(store, "SELECT ?d ?r WHERE { ?d a mlg:Dataset ; mlg:sourceRegistry ?r }")
    for node in (DATASET, RAW, CHARGEBACKS):
        assert {r for d, r in registries if d == node.value} == {"datahub", "manifest"}


def test_a_model_in_a_group_without_a_version_tag_is_named_group_version(tmp_path: Path, gate: Gate, store):
    """DataHub's MLflow source names a model version GROUP_VERSION; with no version tag, that
    suffix is the version. A model in no group stays a model, whatever its name."""
    import datahub.metadata.schema_classes as dh
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as Proposal

    path = write_file(
        tmp_path / "models.json",
        [
            Proposal(entityUrn=MODEL.replace("_3", "_7"), aspect=dh.MLModelPropertiesClass(groups=[GROUP])),
            Proposal(entityUrn=MODEL.replace("_3", "_8"), aspect=dh.MLModelPropertiesClass()),
        ],
    )
    assert gate.admit(read_submission(path, minter=MINTER, max_bytes=10**8)).ok
    seven = MINTER.version(MINTER.asset("model", "fraud-detector"), "7")
    assert one(store, seven, "mlg:version") == {"7"}
    assert one(store, MINTER.asset("model", "fraud-detector_8"), "a") >= {"https://w3id.org/mlg#Model"}


@pytest.mark.parametrize(
    ("platform", "name", "uri"),
    [
        ("s3", "Payments-Raw/transactions/", "s3://payments-raw/transactions"),
        ("gcs", "lake/events/2026", "gs://lake/events/2026"),
        ("bigquery", "proj.ds.table", "bigquery:proj.ds.table"),
        ("file", "/data/x.csv", "file:///data/x.csv"),
        ("postgres", "db.internal:5432.ledger.public.t", "postgres://db.internal:5432/ledger.public.t"),
        ("snowflake", "xy12345.analytics.public.orders", "snowflake://xy12345/analytics.public.orders"),
        ("mysql", "shop.orders", "mysql:shop.orders"),
        ("kafka", "payments.events.v1", "kafka:payments.events.v1"),
    ],
)
def test_dataset_urns_name_tables_the_openlineage_way(platform: str, name: str, uri: str) -> None:
    assert MINTER.dataset(*dataset_name(platform, name)) == MINTER.dataset_from_uri(uri)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Classification.PII", "pii"),
        ("PersonalData.Sensitive", "sensitive"),
        ("HighlyConfidential", "confidential"),
        ("NonSensitive", None),
        ("Classification.Public", None),
        ("gold", None),
        ("spiii", None),
    ],
)
def test_governance_labels_become_classifications(label: str, expected: str | None) -> None:
    assert classification(label) == expected


def test_urns_split_as_datahub_splits_them() -> None:
    from datahub.utilities.urns.urn import Urn

    for urn in (
        BQ,
        PG,
        MODEL,
        RUN,
        FEATURE,
        TABLE,
        JOB,
        "urn:li:schemaField:(" + BQ + ",[version=2.0].[type=int].id)",
    ):
        assert list(parse_urn(urn).parts) == Urn.from_string(urn).entity_ids, urn


def test_every_snapshot_type_and_aspect_class_is_known() -> None:
    import datahub.metadata.schema_classes as dh

    union = next(f for f in dh.MetadataChangeEventClass.RECORD_SCHEMA.fields if f.name == "proposedSnapshot")
    assert {schema.name for schema in union.type.schemas} == set(SNAPSHOT_ENTITIES)
    assert set(SNAPSHOT_ENTITIES.values()) <= set(dh.ENTITY_TYPE_TO_ASPECT_NAMES)
    for name, cls in dh.ASPECT_NAME_MAP.items():
        assert aspect_name(cls.RECORD_SCHEMA.fullname) == name


# ---------------------------------------------------------------- DataHub's own samples


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        (
            "ml_showcase.json",
            {
                f"<{B}deployment/churn_model_v3-prod> mlg:deploys ?o": f"{B}model/churn_model/versions/3",
                f"<{B}model/churn_model/versions/1> mlg:producedBy/a ?o": "https://w3id.org/mlg#TrainingRun",
                f"<{B}model/churn_model/versions/3> mlg:ownedBy ?o": f"{B}team/ml-platform",
                f"{LOYALTY} mlg:partOf ?o": f"{B}feature-view/customer_features",
            },
        ),
        (
            "mlflow_mcps_golden.json",
            {
                f"<{B}model/test-model/versions/1> mlg:versionOf ?o": f"{B}model/test-model",
                f"<{B}model/test-model/versions/1> mlg:stage ?o": "archived",
                f"<{B}model/test-model/versions/1> mlg:hasMetric/mlg:metricValue ?o": "0.85",
                f"<{B}model/test-model> mlg:description ?o": "This a test registered model",
            },
        ),
        (
            "feast_repository_mces_golden.json",
            {
                f"{CONV_RATE} mlg:partOf ?o": DRIVER_STATS.value,
                f"{MINTER.asset('field', 'feature_store/driver_hourly_stats/driver_id')} mlg:partOf ?o": (
                    DRIVER_STATS.value
                ),
                f"{CONV_RATE} mlg:derivedFrom ?o": MINTER.dataset(
                    "file", "data.driver_stats_with_string.parquet"
                ).value,
                f"{CONV_RATE} mlg:dataType ?o": "CONTINUOUS",
            },
        ),
        (
            "bootstrap_mce.json",
            {
                f"<{B}job/airflow/dag_abc.task_123> mlg:used ?o": f"{B}dataset/hive/logging_events",
                f"<{B}dataset/hive/fct_users_created> mlg:producedBy ?o": f"{B}job/airflow/dag_abc.task_123",
                f"<{B}person/datahub> mlg:name ?o": "Data Hub",  # an Avro union, {"string": "Data Hub"}
                f"<{B}model/scienceModel> mlg:trainedOn ?o": f"{B}dataset/hive/pageViewsHive",
                f"{BACKUP} mlg:derivedFrom ?o": f"{B}dataset/hive/logging_events",
            },
        ),
    ],
)
def test_samples_load_and_admit(name: str, facts: dict[str, str], gate: Gate, store: OxigraphStore) -> None:
    path = sample(name)
    assert detect(path, path.read_bytes()).name == "datahub"
    outcome = gate.admit(read_submission(path, minter=MINTER, max_bytes=10**8))
    assert outcome.status == "admitted" and not outcome.report.of("Violation"), outcome.report.findings
    for pattern, expected in facts.items():
        assert expected in {row[0].value for row in store.query(f"SELECT ?o WHERE {{ {pattern} }}")}, pattern


def test_duplicated_keys_keep_the_last_like_datahub(gate: Gate, store: OxigraphStore) -> None:
    """A column lineage of fct_users_created says "upstreams" twice; DataHub's reader keeps the last.

    It names no downstream field, so it is kept whole as an annotation of the dataset.
    """
    gate.admit(read_submission(sample("bootstrap_mce.json"), minter=MINTER, max_bytes=10**8))
    (kept,) = [
        a for a in one(store, f"<{BASE}dataset/hive/fct_users_created>", "mlg:annotation") if "upstreams" in a
    ]
    assert "fct_users_created,PROD),user_name" in kept
    assert "event_data" not in kept  # the first "upstreams"


# ---------------------------------------------------------------- sniffing


def test_other_formats_files_are_not_claimed(write: Callable[[str, str], Path]) -> None:
    others = [p for p in (SHARED / "samples").rglob("*") if p.is_file() and SAMPLES not in p.parents]
    claimed = [p for p in others if _sniff(p, p.read_bytes()[:4096])]
    assert not claimed
    manifest = write("catalog.json", '{"mlg-manifest": 1, "assets": [{"kind": "model", "id": "urn:li:x"}]}')
    event = write("event.json", '{"eventType": "START", "run": {"runId": "x"}, "job": {"namespace": "n"}}')
    for path in (manifest, event):
        assert not _sniff(path, path.read_bytes())
    assert detect(manifest, manifest.read_bytes()).name == "manifest"


# ---------------------------------------------------------------- bad and hostile input

MCP = {"entityType": "dataset", "entityUrn": BQ, "changeType": "UPSERT", "aspectName": "upstreamLineage"}
DEEP = "[" * 100_000 + "]" * 100_000
SNAPSHOT = "com.linkedin.pegasus2avro.metadata.snapshot."
BROKEN = "urn:li:dataset:(urn:li:x,(a,PROD)"
SHORT = "urn:li:dataset:(urn:li:dataPlatform:hive,x)"


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("content", "place", "fragments"),
    [
        pytest.param(json.dumps([MCP])[:-20], r":1:\d+: ", ("malformed JSON",), id="truncated"),
        pytest.param(
            json.dumps([{**MCP, "aspect": {"json": {"upstreams": "urn:li:dataset:x"}}}]),
            re.escape(": [0].aspect.json.upstreams: "),
            ("expected a list, got str",),
            id="wrong-typed-aspect",
        ),
        pytest.param(
            json.dumps([{"proposedSnapshot": {f"{SNAPSHOT}FooSnapshot": {"urn": BQ}}}]),
            re.escape(": [0].proposedSnapshot: "),
            ("unknown snapshot type", "FooSnapshot"),
            id="unknown-snapshot-type",
        ),
        pytest.param(
            json.dumps([{**MCP, "aspect": {"json": {}}}, {**MCP, "entityUrn": BROKEN}]),
            re.escape(": [1].entityUrn: "),
            (repr(BROKEN), "unbalanced parentheses"),
            id="urn-that-does-not-parse",
        ),
        pytest.param(
            json.dumps([{**MCP, "entityUrn": SHORT, "aspect": {"json": {}}}]),
            re.escape(": [0]"),
            (SHORT, "3 part(s), not 2"),
            id="urn-with-parts-missing",
        ),
        pytest.param(
            '[{"entityUrn": "urn:li:x", "aspectName": "x", "aspect": ' + DEEP,
            "",
            ("nested too deeply",),
            id="deep-nesting",
        ),
        pytest.param(
            json.dumps(
                [
                    {
                        "proposedSnapshot": {
                            f"{SNAPSHOT}DatasetSnapshot": {
                                "urn": BQ,
                                "aspects": [
                                    {"com.linkedin.pegasus2avro.dataset.DatasetProperties": nested(99)}
                                ],
                            }
                        }
                    }
                ]
            ),
            re.escape(": [0].proposedSnapshot.DatasetSnapshot.aspects[0].DatasetProperties: "),
            ("nested more than 64 levels deep",),
            id="deep-aspect",
        ),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    content: str,
    place: str,
    fragments: tuple[str, ...],
    inputs: dict[str, Path],
    mlg: Run,
    store_path: Path,
    tmp_path: Path,
) -> None:
    assert mlg("load", str(inputs["platform"])).exit_code == 0
    before = disk_snapshot(store_path)
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = mlg("load", str(path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert re.match(re.escape(f"mlg: error: {path}") + place, line), line
    for fragment in fragments:
        assert fragment in line, line
    assert "Traceback" not in result.output
    assert disk_snapshot(store_path) == before
