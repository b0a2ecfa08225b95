"""One real asset, one node, across registries: three tools' outputs make one lineage path.

An OpenLineage-instrumented job writes a training table; an MLflow run trains a model on
that table and registers it; a Backstage catalog says that the checkout component calls
the API serving that model version. Each input is written by its own tool (openlineage-
python's FileTransport, MLflow on a SQLite tracking store, a catalog-info.yaml), loaded by
the real ``mlg load`` as its own submission, and the graph must hold one path from the
component down to the job's raw input, with no hand-made link between the formats.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import BASE
from pyoxigraph import NamedNode

from mlg.identity import Minter
from mlg.lineage import trace
from mlg.store import open_store

mlflow = pytest.importorskip("mlflow")
pd = pytest.importorskip("pandas")
ol = pytest.importorskip("openlineage.client")

MINTER = Minter(BASE)
RAW = ("s3://payments-raw", "transactions")
TRAINING_TABLE = "s3://fraud-data/training/transactions.parquet"

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: fraud-scoring
  description: Scores card payments for fraud
  annotations:
    mlg.io/model-version: model-version:fraud-detector@1
spec:
  type: openapi
  lifecycle: production
  owner: fraud-ml
  definition: "openapi: 3.0.0"
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-api
spec:
  type: service
  lifecycle: production
  owner: group:default/checkout-platform
  consumesApis: [fraud-scoring]
"""


def write_lineage_events(path: Path) -> None:
    """A Spark job reads the raw transactions and writes the training table: START, then COMPLETE."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.transport.file import FileConfig, FileTransport

    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="spark-prod", name="fraud.build_training_table")
    inputs = [InputDataset(namespace=RAW[0], name=RAW[1])]
    outputs = [OutputDataset(namespace="s3://fraud-data", name="training/transactions.parquet")]
    for state in (RunState.START, RunState.COMPLETE):
        client.emit(
            RunEvent(
                eventType=state,
                eventTime=dt.datetime.now(dt.UTC).isoformat(),
                run=run,
                job=job,
                producer="https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/spark",
                inputs=inputs,
                outputs=outputs,
            )
        )


def write_tracking_store(folder: Path) -> str:
    """MLflow trains on the table the job wrote and registers version 1 of fraud-detector."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        experiment = mlflow.create_experiment("fraud", artifact_location=(folder / "artifacts").as_uri())
        frame = pd.DataFrame({"amount": [12.5, 80.0], "label": [0, 1]})
        table = mlflow.data.from_pandas(frame, source=TRAINING_TABLE, name="transactions", targets="label")
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_input(table, context="training")
        client = MlflowClient(uri, registry_uri=uri)
        client.create_registered_model("fraud-detector")
        client.create_model_version("fraud-detector", "s3://fraud-models/1", run_id=run.info.run_id)
    finally:
        mlflow.set_tracking_uri(previous)
    return f"mlflow+{uri}"


@pytest.fixture
def loaded(tmp_path: Path, mlg: Callable[..., Result], store_path: Path) -> Path:
    events = tmp_path / "events.ndjson"
    write_lineage_events(events)
    tracking = write_tracking_store(tmp_path)
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text(CATALOG)
    for location in (str(events), tracking, str(catalog)):
        result = mlg("load", location)
        assert result.exit_code == 0, result.output
    return store_path


def test_the_component_reaches_the_jobs_raw_input_through_every_format(loaded: Path) -> None:
    service = MINTER.asset("service", "checkout-api")
    raw = MINTER.dataset(*RAW)
    store = open_store(loaded, read_only=True)
    try:
        lineage = trace(store, service, "upstream")
        kinds = {node.iri: node.kind for node in lineage.nodes}
        assert raw.value in kinds, f"the raw input is not upstream of the component: {sorted(kinds.values())}"
        # The path crosses each format's assets: Backstage, MLflow, OpenLineage.
        model_version = MINTER.version(MINTER.asset("model", "fraud-detector"), "1")
        training_table = MINTER.dataset_from_uri(TRAINING_TABLE)
        job = MINTER.qualified("job", "spark-prod", "fraud.build_training_table")
        for node, kind in (
            (model_version, "model-version"),
            (training_table, "dataset"),
            (job, "job"),
            (raw, "dataset"),
        ):
            assert kinds.get(node.value) == kind, (node, kinds.get(node.value))

        # The component, the version and the job each come from a different submission,
        # and the training table is one node that both MLflow and OpenLineage describe.
        def sources(*nodes: NamedNode) -> set[str]:
            values = " ".join(str(node) for node in nodes)
            query = (
                f"SELECT DISTINCT ?g WHERE {{ VALUES ?n {{ {values} }} GRAPH ?g {{ ?n mlg:name ?name }} }}"
            )
            return {row["g"].value for row in store.query(query)}

        assert len(sources(service, model_version, job)) == 3
        assert len(sources(training_table)) == 2
        # And a PROV-O client sees the same path without knowing mlg's terms.
        assert bool(store.query("ASK { ?s prov:wasDerivedFrom+ ?t }", {"s": service, "t": raw}))
    finally:
        store.close()
