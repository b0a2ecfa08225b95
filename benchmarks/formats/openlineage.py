"""A large, realistic OpenLineage event log, as openlineage-python's FileTransport writes it.

About ``n`` events as JSON lines: START and COMPLETE pairs of ``n / 2`` runs spread over a
few thousand jobs (one job for every 40 events), each job reading one or two datasets
and writing one, in three layers over raw tables. Like real producers, every event
repeats its job's facets (``sql``, ``documentation``, ``ownership``) and its datasets'
facets (``schema``, and ``columnLineage`` on the output); runs carry ``nominalTime`` and
a ``parent`` (the scheduler's DAG run, shared by ten task runs), and a COMPLETE carries
``outputStatistics``. Deterministic: the same ``n`` writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/2.3.0"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
NAMESPACE = "postgres://warehouse.internal:5432"
SCHEDULER = "airflow://scheduler.internal"
TYPES = ("INTEGER", "BIGINT", "VARCHAR", "NUMERIC", "TIMESTAMP", "BOOLEAN", "DATE")


def _facet(facet: str, **fields: Any) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": f"https://openlineage.io/spec/facets/1-0-1/{facet}.json#/$defs/{facet}",
        **fields,
    }


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _Warehouse:
    """Tables with schemas, and jobs that each write one table from one or two others."""

    def __init__(self, jobs: int, rng: random.Random) -> None:
        self.columns: dict[str, list[str]] = {}
        layers: list[list[str]] = [[self._table(f"raw.source_{i}", rng) for i in range(max(2, jobs // 3))]]
        self.jobs: list[dict[str, Any]] = []
        for index in range(jobs):
            layer = 1 + index % 3
            upstream = [table for lower in layers[:layer] for table in lower]
            inputs = rng.sample(upstream, k=min(len(upstream), rng.randint(1, 2)))
            output = self._table(f"layer{layer}.table_{index}", rng)
            layers += [[] for _ in range(layer + 1 - len(layers))]
            layers[layer].append(output)
            self.jobs.append(
                {"name": f"warehouse_dag.build_table_{index}", "inputs": inputs, "output": output}
            )

    def _table(self, name: str, rng: random.Random) -> str:
        self.columns[name] = [f"col_{i}" for i in range(rng.randint(4, 8))]
        return name

    def dataset(self, table: str) -> dict[str, Any]:
        fields = [{"name": c, "type": TYPES[i % len(TYPES)]} for i, c in enumerate(self.columns[table])]
        return {
            "namespace": NAMESPACE,
            "name": f"analytics.{table}",
            "facets": {"schema": _facet("SchemaDatasetFacet", fields=fields)},
        }

    def output(self, job: dict[str, Any]) -> dict[str, Any]:
        dataset = self.dataset(job["output"])
        lineage = {}
        for i, column in enumerate(self.columns[job["output"]]):
            table = job["inputs"][i % len(job["inputs"])]
            source = self.columns[table][i % len(self.columns[table])]
            lineage[column] = {
                "inputFields": [{"namespace": NAMESPACE, "name": f"analytics.{table}", "field": source}]
            }
        dataset["facets"]["columnLineage"] = _facet("ColumnLineageDatasetFacet", fields=lineage)
        return dataset

    def job(self, index: int) -> dict[str, Any]:
        job = self.jobs[index]
        sources = ", ".join(f"analytics.{table}" for table in job["inputs"])
        return {
            "namespace": SCHEDULER,
            "name": job["name"],
            "facets": {
                "sql": _facet(
                    "SQLJobFacet", query=f"INSERT INTO analytics.{job['output']} SELECT * FROM {sources}"
                ),
                "documentation": _facet(
                    "DocumentationJobFacet", description=f"Builds analytics.{job['output']}."
                ),
                "ownership": _facet(
                    "OwnershipJobFacet",
                    owners=[{"name": f"team:data-team-{index % 12}", "type": "MAINTAINER"}],
                ),
            },
        }


def make_input(n: int, folder: Path) -> tuple[str, int]:
    rng = random.Random(20261122)
    warehouse = _Warehouse(max(1, n // 40), rng)
    started = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    path = folder / "events.ndjson"
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for index in range(max(1, n // 2)):
            if index % 10 == 0:
                dag_run = _uuid(rng)
            job_index = index % len(warehouse.jobs)
            job = warehouse.jobs[job_index]
            start = started + dt.timedelta(minutes=index)
            run = {
                "runId": _uuid(rng),
                "facets": {
                    "nominalTime": _facet("NominalTimeRunFacet", nominalStartTime=start.isoformat()),
                    "parent": _facet(
                        "ParentRunFacet",
                        run={"runId": dag_run},
                        job={"namespace": SCHEDULER, "name": "warehouse_dag"},
                    ),
                },
            }
            end = start + dt.timedelta(seconds=rng.randint(5, 900))
            for event_type, moment in (("START", start), ("COMPLETE", end)):
                output = warehouse.output(job)
                if event_type == "COMPLETE":
                    statistics = {"rowCount": rng.randint(1, 10**7), "size": rng.randint(1, 10**10)}
                    output["outputFacets"] = {
                        "outputStatistics": _facet("OutputStatisticsOutputDatasetFacet", **statistics)
                    }
                event = {
                    "eventTime": moment.isoformat(),
                    "eventType": event_type,
                    "inputs": [warehouse.dataset(table) for table in job["inputs"]],
                    "job": warehouse.job(job_index),
                    "outputs": [output],
                    "producer": PRODUCER,
                    "run": run,
                    "schemaURL": SCHEMA_URL,
                }
                out.write(json.dumps(event, sort_keys=True) + "\n")
                count += 1
    return str(path), count
