"""IRIs are stable and one real asset is one node, whoever names it."""

from __future__ import annotations

import pytest

from mlg.errors import InputError
from mlg.identity import Minter, split_dataset_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/raw/events", ("s3://bucket", "raw/events")),
        ("s3://Bucket/raw/events/", ("s3://bucket", "raw/events")),
        ("gs://lake/a/b.parquet", ("gs://lake", "a/b.parquet")),
        (
            "postgres://db.internal:5432/sales.public.orders",
            ("postgres://db.internal:5432", "sales.public.orders"),
        ),
        ("file:///data/train.csv", ("file", "/data/train.csv")),
        ("bigquery:project.dataset.table", ("bigquery", "project.dataset.table")),
    ],
)
def test_dataset_locations_follow_openlineage_naming(uri, expected):
    assert split_dataset_uri(uri) == expected


def test_the_same_dataset_from_two_registries_is_one_iri(minter: Minter):
    # MLflow reports a dataset source as a URI; OpenLineage as namespace + name.
    from_mlflow = minter.dataset_from_uri("s3://payments-raw/transactions/")
    from_openlineage = minter.dataset("s3://payments-raw", "transactions")
    assert from_mlflow == from_openlineage
    assert from_mlflow == minter.reference("dataset:s3://payments-raw/transactions")


def test_iris_are_stable_and_under_the_configured_base():
    one, two = Minter("https://graph.acme.test/id"), Minter("https://graph.acme.test/id/")
    assert one.asset("model", "fraud detector") == two.asset("model", "fraud detector")
    assert one.asset("model", "fraud detector").value == "https://graph.acme.test/id/model/fraud%20detector"


def test_versions_are_named_under_their_parent(minter: Minter):
    model = minter.asset("model", "churn")
    assert minter.reference("model-version:churn@3") == minter.version(model, "3")
    dataset = minter.dataset_from_uri("s3://b/k")
    assert minter.reference("dataset-version:s3://b/k@2026-01-01") == minter.version(dataset, "2026-01-01")


def test_identifiers_cannot_break_out_of_the_iri(minter: Minter):
    iri = minter.asset("model", "a> } ; DROP ALL ; <x")
    assert " " not in iri.value and ">" not in iri.value


@pytest.mark.parametrize("ref", ["churn", "nokind:churn", "model:", ""])
def test_what_is_not_a_reference_is_recognised(minter: Minter, ref):
    assert minter.reference(ref) is None


def test_a_location_without_scheme_is_an_input_error():
    with pytest.raises(InputError, match="no scheme"):
        split_dataset_uri("payments/raw")
