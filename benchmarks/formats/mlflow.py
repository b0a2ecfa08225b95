"""Benchmark input for the MLflow loader: a SQLite tracking store holding ``n`` runs.

MLflow writes the store and one complete run through its own client: an experiment,
params, a metric history, tags, a training and an evaluation dataset input, a
registered model version with an alias. The other ``n - 1`` runs are copies of that
run's rows, made with SQL (MLflow's client writes a run in several transactions, about
3 runs/s here, so 10,000 runs would take most of an hour); each copy has its own id,
name, parameter and metric values, and reads one of ``n / 50`` training datasets, and
every tenth run registers a version. The schema is MLflow's own, made by MLflow.
Deterministic but for MLflow's ids. The entities counted are the runs.
"""

from __future__ import annotations

import json
import logging
import pathlib
import random
import sqlite3
import uuid
from typing import Any

RUNS_PER_DATASET = 50
RUNS_PER_VERSION = 10


def _template(folder: pathlib.Path) -> tuple[pathlib.Path, str]:
    """The store, with one run written by MLflow itself; returns the path and the run id."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    for name in ("mlflow", "alembic"):  # MLflow sets its loggers up when imported
        logging.getLogger(name).setLevel(logging.WARNING)

    path = folder / "mlflow.db"
    uri = f"sqlite:///{path}"
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.create_experiment("churn", artifact_location=(folder / "artifacts").as_uri())
    run = client.create_run(experiment, run_name="churn-0", tags={"mlflow.user": "alice@example.com"})
    run_id = run.info.run_id
    start = run.info.start_time
    client.log_batch(
        run_id,
        metrics=[
            Metric("auc", 0.88, start, 0),
            Metric("auc", 0.91, start + 1, 1),
            Metric("loss", 0.31, start, 1),
        ],
        params=[Param("max_depth", "6"), Param("learning_rate", "0.05"), Param("n_estimators", "300")],
        tags=[RunTag("team", "growth"), RunTag("mlflow.source.name", "train.py")],
    )
    schema = json.dumps({"mlflow_colspec": [{"type": "double", "name": "tenure", "required": True}]})

    def data(name: str, uri: str, context: str) -> DatasetInput:
        source = json.dumps({"uri": uri})
        dataset = Dataset(name, uuid.uuid5(uuid.NAMESPACE_URL, uri).hex[:8], "s3", source, schema, "{}")
        return DatasetInput(dataset, [InputTag("mlflow.data.context", context)])

    client.log_inputs(
        run_id,
        [
            data("customers-0", "s3://churn-data/training/customers-0.parquet", "training"),
            data("holdout", "s3://churn-data/eval/holdout.parquet", "evaluation"),
        ],
    )
    client.set_terminated(run_id, "FINISHED")
    client.create_registered_model("churn-model", description="Who will leave next month")
    client.create_model_version("churn-model", f"{run.info.artifact_uri}/model", run_id=run_id)
    client.set_registered_model_alias("churn-model", "champion", "1")
    return path, run_id


def _rows(db: sqlite3.Connection, table: str, where: str, *args: Any) -> list[dict[str, Any]]:
    cursor = db.execute(f"SELECT * FROM {table} WHERE {where}", args)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        names = list(rows[0])
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        db.executemany(sql, [tuple(row[name] for name in names) for row in rows])


def make_input(n: int, folder: pathlib.Path) -> tuple[str, int]:
    path, template = _template(folder)
    rng = random.Random(7)
    with sqlite3.connect(path) as db:
        run_tables = {
            table: _rows(db, table, "run_uuid = ?", template) for table in ("runs", "params", "tags")
        }
        run_tables |= {
            table: _rows(db, table, "run_uuid = ?", template) for table in ("metrics", "latest_metrics")
        }
        inputs = _rows(db, "inputs", "destination_id = ? AND source_type = 'DATASET'", template)
        tags = {
            row["input_uuid"]: _rows(db, "input_tags", "input_uuid = ?", row["input_uuid"]) for row in inputs
        }
        datasets = {row["dataset_uuid"]: row for row in _rows(db, "datasets", "1 = 1")}
        training = next(d for d in datasets.values() if d["name"] == "customers-0")
        version = _rows(db, "model_versions", "run_id = ?", template)[0]
        copies: dict[str, list[dict[str, Any]]] = {
            table: [] for table in [*run_tables, "inputs", "input_tags"]
        }
        copies |= {"datasets": [], "model_versions": []}
        for d in range(1, max(1, n // RUNS_PER_DATASET)):
            uri = f"s3://churn-data/training/customers-{d}.parquet"
            copies["datasets"].append(
                training
                | {"dataset_uuid": uuid.uuid4().hex, "name": f"customers-{d}", "digest": f"{d:08x}"}
                | {"dataset_source": json.dumps({"uri": uri})}
            )
        training_ids = [training["dataset_uuid"]] + [d["dataset_uuid"] for d in copies["datasets"]]
        for i in range(1, n):
            run_id = uuid.uuid4().hex
            changes: dict[str, Any] = {"run_uuid": run_id}
            for table, rows in run_tables.items():
                for row in rows:
                    copy = row | changes
                    if table == "runs":
                        copy |= {
                            "name": f"churn-{i}",
                            "artifact_uri": row["artifact_uri"].replace(template, run_id),
                        }
                        copy |= {
                            "start_time": row["start_time"] + 60_000 * i,
                            "end_time": row["end_time"] + 60_000 * i,
                        }
                    elif table == "params" and row["key"] == "max_depth":
                        copy["value"] = str(rng.randint(3, 12))
                    elif table in ("metrics", "latest_metrics"):
                        copy["value"] = round(row["value"] * rng.uniform(0.9, 1.05), 4)
                    copies[table].append(copy)
            for row in inputs:
                input_id = uuid.uuid4().hex
                source = row["source_id"]
                if source == training["dataset_uuid"]:
                    source = training_ids[(i // RUNS_PER_DATASET) % len(training_ids)]
                copies["inputs"].append(
                    row | {"input_uuid": input_id, "destination_id": run_id, "source_id": source}
                )
                copies["input_tags"] += [tag | {"input_uuid": input_id} for tag in tags[row["input_uuid"]]]
            if i % RUNS_PER_VERSION == 0:
                number = i // RUNS_PER_VERSION + 1
                copies["model_versions"].append(
                    version
                    | {
                        "version": number,
                        "run_id": run_id,
                        "source": version["source"].replace(template, run_id),
                    }
                )
        for table, rows in copies.items():
            _insert(db, table, rows)
    return f"mlflow+sqlite:///{path}", n
