"""A large, realistic Feast ``registry.db``, as a file-based registry keeps it after ``feast apply``.

About ``n`` registry objects in one project: feature views of nine features each, every
view on its own parquet file source in S3 (named again inside the view, as Feast embeds
it), keyed by one of a few entities, with a TTL, tags, an owner and timestamps; one
on-demand feature view for every ten views, reading one of them and a request source;
one feature service for every five views. Built with Feast's generated protobuf classes,
as ``feast apply`` serialises them. Deterministic: the same ``n`` writes the same bytes.
"""

from __future__ import annotations

import pathlib

PROJECT = "fraud_benchmark"
FEATURES = 9
ENTITIES = ("customer", "merchant", "card", "device")
OWNERS = ("fraud-ml@example.com", "risk-data@example.com", "payments-ml@example.com")
STAMP = 1767225600  # 2026-01-01T00:00:00Z


def _stamped(meta, offset: int) -> None:
    meta.created_timestamp.FromSeconds(STAMP + offset)
    meta.last_updated_timestamp.FromSeconds(STAMP + offset + 3600)


def make_input(n: int, folder: pathlib.Path) -> tuple[str, int]:
    from feast.protos.feast.core.DataSource_pb2 import DataSource
    from feast.protos.feast.core.Registry_pb2 import Registry
    from feast.protos.feast.types.Value_pb2 import ValueType

    registry = Registry(registry_schema_version="1", version_id="benchmark")
    registry.last_updated.FromSeconds(STAMP)
    project = registry.projects.add()
    project.spec.name = PROJECT
    project.spec.description = "Feature repository of the benchmark"
    _stamped(project.meta, 0)
    registry.project_metadata.add(project=PROJECT, project_uuid="00000000-0000-4000-8000-000000000000")
    count = 1
    for index, name in enumerate(ENTITIES):
        entity = registry.entities.add()
        spec = entity.spec
        spec.name, spec.project, spec.join_key = name, PROJECT, f"{name}_id"
        spec.value_type = ValueType.INT64
        spec.description = f"A {name}"
        spec.owner = OWNERS[index % len(OWNERS)]
        _stamped(entity.meta, index)
        count += 1

    views = max(1, n // (FEATURES + 2))
    for v in range(views):
        source = registry.data_sources.add()
        source.name, source.project = f"table_{v}_source", PROJECT
        source.type = DataSource.SourceType.BATCH_FILE
        source.file_options.uri = f"s3://fraud-features/tables/table_{v}.parquet"
        source.timestamp_field, source.created_timestamp_column = "event_timestamp", "created"
        source.data_source_class_type = "feast.infra.offline_stores.file_source.FileSource"
        source.description = f"Daily aggregates of table {v}"
        source.owner = OWNERS[v % len(OWNERS)]
        source.tags["tier"] = ("gold", "silver", "bronze")[v % 3]
        _stamped(source.meta, v)
        view = registry.feature_views.add()
        spec = view.spec
        spec.name, spec.project = f"view_{v}", PROJECT
        entity = ENTITIES[v % len(ENTITIES)]
        spec.entities.append(entity)
        spec.entity_columns.add(name=f"{entity}_id", value_type=ValueType.INT64)
        for f in range(FEATURES):
            feature = spec.features.add(
                name=f"feature_{f}", value_type=(ValueType.INT64, ValueType.FLOAT)[f % 2]
            )
            feature.description = f"Feature {f} of view {v}"
            feature.tags["window"] = ("1d", "7d", "30d")[f % 3]
        spec.tags["team"] = "fraud"
        spec.ttl.FromSeconds(86400 * (1 + v % 7))
        spec.batch_source.CopyFrom(source)
        spec.online = True
        spec.description = f"Aggregates of table {v} by {entity}"
        spec.owner = OWNERS[v % len(OWNERS)]
        _stamped(view.meta, v)
        count += 2 + FEATURES
        if v % 10 == 9:
            on_demand = registry.on_demand_feature_views.add()
            spec = on_demand.spec
            spec.name, spec.project = f"ratio_{v}", PROJECT
            spec.features.add(name="ratio", value_type=ValueType.DOUBLE)
            projection = spec.sources[f"view_{v}"].feature_view_projection
            projection.feature_view_name = f"view_{v}"
            projection.feature_columns.add(name="feature_0", value_type=ValueType.INT64)
            request = spec.sources["request"].request_data_source
            request.name, request.type = f"request_{v}", DataSource.SourceType.REQUEST_SOURCE
            request.request_data_options.schema.add(name="amount", value_type=ValueType.DOUBLE)
            spec.mode = "python"
            _stamped(on_demand.meta, v)
            count += 2
        if v % 5 == 4:
            service = registry.feature_services.add()
            spec = service.spec
            spec.name, spec.project = f"model_{v}_features", PROJECT
            for w in range(v - 4, v + 1):
                projection = spec.features.add(feature_view_name=f"view_{w}")
                projection.feature_columns.add(name="feature_1", value_type=ValueType.FLOAT)
            spec.owner = OWNERS[v % len(OWNERS)]
            _stamped(service.meta, v)
            count += 1

    path = folder / "registry.db"
    path.write_bytes(registry.SerializeToString())
    return str(path), count
