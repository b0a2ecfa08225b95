"""A large, realistic DataHub metadata file, as DataHub's ``file`` sink writes it.

About ``n`` MCPs (one aspect of one entity each) in a JSON array indented by four, the
sink's layout, over the entities an ML platform's DataHub holds: warehouse tables on a
platform instance (``datasetProperties``, ``schemaMetadata`` with five to twelve fields,
``upstreamLineage`` with column lineage, ``ownership``, ``globalTags``, a glossary term),
Airflow tasks that build them (``dataJobInfo``, ``dataJobInputOutput``), MLflow
registered models and their versions (``mlModelGroupProperties``, ``mlModelProperties``
with hyperparameters, metrics, features, training run and deployments, ``versionProperties``),
training runs (``dataProcessInstance*``), features and feature tables, deployments,
teams and people, and a few aspects no rule maps (``browsePathsV2``, ``subTypes``).
Deterministic: the same ``n`` writes the same bytes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

INSTANCE = "warehouse.internal:5432"
TYPES = ("INTEGER", "BIGINT", "VARCHAR(64)", "NUMERIC(12,2)", "TIMESTAMP", "BOOLEAN", "DATE")
TEAMS = ("fraud-ml", "growth-ml", "payments-data", "ml-platform")


def _mcp(entity_type: str, urn: str, aspect: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "entityType": entity_type,
        "entityUrn": urn,
        "changeType": "UPSERT",
        "aspectName": aspect,
        "aspect": {"json": value},
        "systemMetadata": {
            "lastObserved": 1767225600000,
            "runId": "benchmark-2026_01_01",
            "lastRunId": "no-run",
        },
    }


def _dataset(index: int) -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:postgres,{INSTANCE}.warehouse.public.table_{index},PROD)"


def _stamp(rng: random.Random) -> dict[str, Any]:
    return {"time": 1767225600000 - rng.randrange(10**9), "actor": "urn:li:corpuser:ingestion"}


def _records(rng: random.Random) -> Iterator[dict[str, Any]]:
    """An endless, deterministic stream of MCPs, one block of related entities at a time."""
    for block in range(10**9):
        team = TEAMS[block % len(TEAMS)]
        owner = {"owners": [{"owner": f"urn:li:corpGroup:{team}", "type": "TECHNICAL_OWNER"}]}
        if block < len(TEAMS):
            yield _mcp(
                "corpGroup",
                f"urn:li:corpGroup:{team}",
                "corpGroupInfo",
                {"displayName": team.replace("-", " ").title(), "email": f"{team}@example.com", "admins": []},
            )
        person = f"urn:li:corpuser:user{block}"
        yield _mcp("corpuser", person, "corpUserInfo", {"active": True, "displayName": f"User {block}"})
        yield _mcp("corpuser", person, "groupMembership", {"groups": [f"urn:li:corpGroup:{team}"]})
        tables = []
        for offset in range(4):
            index = block * 4 + offset
            urn = _dataset(index)
            tables.append(urn)
            fields = [f"column_{k}" for k in range(rng.randint(5, 12))]
            yield _mcp(
                "dataset",
                urn,
                "datasetProperties",
                {
                    "name": f"table_{index}",
                    "description": f"Table {index}",
                    "customProperties": {"layer": "1"},
                },
            )
            yield _mcp(
                "dataset",
                urn,
                "schemaMetadata",
                {
                    "schemaName": f"table_{index}",
                    "platform": "urn:li:dataPlatform:postgres",
                    "version": 0,
                    "hash": "",
                    "platformSchema": {"com.linkedin.schema.MySqlDDL": {"tableSchema": ""}},
                    "fields": [
                        {
                            "fieldPath": field,
                            "nativeDataType": rng.choice(TYPES),
                            "type": {"type": {"com.linkedin.schema.StringType": {}}},
                            "nullable": True,
                            "recursive": False,
                            "isPartOfKey": k == 0,
                        }
                        for k, field in enumerate(fields)
                    ],
                },
            )
            if index > 4:
                upstream = _dataset(rng.randrange(index - 4))
                yield _mcp(
                    "dataset",
                    urn,
                    "upstreamLineage",
                    {
                        "upstreams": [
                            {"auditStamp": _stamp(rng), "dataset": upstream, "type": "TRANSFORMED"}
                        ],
                        "fineGrainedLineages": [
                            {
                                "upstreamType": "FIELD_SET",
                                "upstreams": [f"urn:li:schemaField:({upstream},column_1)"],
                                "downstreamType": "FIELD",
                                "downstreams": [f"urn:li:schemaField:({urn},column_1)"],
                            }
                        ],
                    },
                )
            yield _mcp("dataset", urn, "ownership", owner)
            tags = {"tags": [{"tag": "urn:li:tag:tier1"}]}
            yield _mcp("dataset", urn, "globalTags", tags)
            if offset == 0:
                terms = {
                    "terms": [{"urn": "urn:li:glossaryTerm:Classification.PII"}],
                    "auditStamp": _stamp(rng),
                }
                yield _mcp("dataset", urn, "glossaryTerms", terms)
                yield _mcp("dataset", urn, "browsePathsV2", {"path": [{"id": "warehouse"}, {"id": "public"}]})
        flow = f"urn:li:dataFlow:(airflow,warehouse_dag_{block % 50},prod)"
        job = f"urn:li:dataJob:({flow},build_{block})"
        yield _mcp(
            "dataJob", job, "dataJobInfo", {"name": f"build_{block}", "type": "COMMAND", "flowUrn": flow}
        )
        yield _mcp(
            "dataJob", job, "dataJobInputOutput", {"inputDatasets": tables[:2], "outputDatasets": tables[2:]}
        )
        group = f"urn:li:mlModelGroup:(urn:li:dataPlatform:mlflow,model_{block // 3},PROD)"
        if block % 3 == 0:
            yield _mcp(
                "mlModelGroup",
                group,
                "mlModelGroupProperties",
                {"description": "A model", "createdAt": 1767225600000},
            )
        version = block % 3 + 1
        model = f"urn:li:mlModel:(urn:li:dataPlatform:mlflow,model_{block // 3}_{version},PROD)"
        run = f"urn:li:dataProcessInstance:{rng.getrandbits(128):032x}"
        features = [f"urn:li:mlFeature:(features_{block // 10},feature_{k})" for k in range(3)]
        deployment = (
            f"urn:li:mlModelDeployment:(urn:li:dataPlatform:sagemaker,model_{block // 3}-endpoint,PROD)"
        )
        yield _mcp(
            "mlModel",
            model,
            "mlModelProperties",
            {
                "customProperties": {"framework": "xgboost"},
                "created": _stamp(rng),
                "hyperParams": [{"name": "max_depth", "value": str(rng.randint(3, 9))}],
                "trainingMetrics": [{"name": "auc", "value": f"{rng.random():.4f}"}],
                "mlFeatures": features,
                "trainingJobs": [run],
                "groups": [group],
                "deployments": [deployment] if version == 3 else [],
                "tags": [],
            },
        )
        yield _mcp(
            "mlModel", model, "versionProperties", {"version": {"versionTag": str(version)}, "aliases": []}
        )
        yield _mcp("mlModel", model, "ownership", owner)
        if version == 3:
            yield _mcp(
                "mlModelDeployment", deployment, "mlModelDeploymentProperties", {"status": "IN_SERVICE"}
            )
        yield _mcp(
            "dataProcessInstance",
            run,
            "dataProcessInstanceProperties",
            {"name": f"run-{block}", "type": "BATCH_AD_HOC", "created": _stamp(rng)},
        )
        yield _mcp("dataProcessInstance", run, "dataProcessInstanceInput", {"inputs": tables[2:]})
        yield _mcp("dataProcessInstance", run, "subTypes", {"typeNames": ["ML Training Run"]})
        if block % 10 == 0:
            table = f"urn:li:mlFeatureTable:(urn:li:dataPlatform:feast,features_{block // 10})"
            yield _mcp("mlFeatureTable", table, "mlFeatureTableProperties", {"mlFeatures": features})
            for feature in features:
                yield _mcp(
                    "mlFeature",
                    feature,
                    "mlFeatureProperties",
                    {"dataType": "CONTINUOUS", "sources": tables[2:]},
                )


def make_input(n: int, folder: Path) -> tuple[str, int]:
    """Write about ``n`` MCPs to ``folder/datahub_mcps.json``; return its path and the MCP count."""
    rng = random.Random(n)
    records = _records(rng)
    path = folder / "datahub_mcps.json"
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for index in range(n):
            out.write(",\n" if index else "")
            out.write(json.dumps(next(records), indent=4))
        out.write("\n]")
    return str(path), n
