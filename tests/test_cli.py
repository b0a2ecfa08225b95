"""The `mlg` command as a user runs it: every command, its formats, its exit codes."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph
import pytest
from conftest import disk_snapshot

from mlg.cli import cli

COMMANDS = sorted(cli.commands)
SERVICE = "service:checkout-api"


def test_the_commands_the_issue_asks_for_exist():
    assert {"load", "validate", "query", "lineage", "impact", "export", "stats", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example_or_description(mlg, command):
    result = mlg(command, "--help")
    assert result.exit_code == 0
    assert "Usage: mlg" in result.output and len(result.output.splitlines()) > 5


def test_demo_shows_lineage_prov_answer_and_impact(mlg, store_path):
    result = mlg("demo", "--store", str(store_path), "--no-serve")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[service] checkout-api" in out
    assert "consumes → [deployment] fraud-scoring (production endpoint)" in out
    assert "trainedOn → [dataset] Labelled transactions" in out
    assert "fineTunedFrom → [model-version] Transaction encoder v1" in out
    assert "Raw card transactions (v1 schema)" in out.split("2. The same raw datasets")[1]
    assert "Owners to notify:" in out and "Fraud ML <fraud-ml@example.com>" in out
    assert result.stdout.count("admitted") == 3
    # Running it again on the same store: every submission is unchanged.
    again = mlg("demo", "--store", str(store_path), "--no-serve")
    assert again.stdout.count("unchanged") == 3


def test_load_twice_is_unchanged_and_exit_zero(mlg, demo_loaded, tmp_path):
    from mlg.resources import demo_dir

    path = demo_dir() / "1-payments-data.yaml"
    before = disk_snapshot(demo_loaded)
    result = mlg("load", str(path), "--source", "demo/1-payments-data.yaml")
    assert result.exit_code == 0
    assert result.stdout.startswith("unchanged manifest")
    assert disk_snapshot(demo_loaded) == before


def test_load_a_folder(mlg, write, tmp_path):
    write("catalog/a.yaml", "mlg-manifest: 1\nassets: [{kind: dataset, id: a}]\n") if (
        tmp_path / "catalog"
    ).mkdir() is None else None
    write("catalog/b.ttl", '@prefix mlg: <https://w3id.org/mlg#> .\n<model/b> a mlg:Model ; mlg:name "b" .\n')
    write("catalog/notes.txt", "not an input")
    result = mlg("load", str(tmp_path / "catalog"))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("admitted") == 2


@pytest.mark.parametrize("fmt", ["tree", "json", "dot"])
def test_lineage_formats(mlg, demo_loaded, fmt):
    result = mlg("lineage", SERVICE, "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["direction"] == "upstream" and len(data["nodes"]) > 20
        assert {"source", "edge", "target"} == set(data["edges"][0])
    elif fmt == "dot":
        assert result.stdout.startswith("digraph lineage {") and '[label="consumes"]' in result.stdout
    else:
        assert result.stdout.startswith("[service] checkout-api")


def test_lineage_downstream_with_depth(mlg, demo_loaded):
    result = mlg(
        "lineage",
        "dataset:s3://payments-raw/transactions-v1",
        "--downstream",
        "--depth",
        "1",
        "--format",
        "json",
    )
    depths = {n["name"]: n["depth"] for n in json.loads(result.stdout)["nodes"]}
    assert depths == {
        "Raw card transactions (v1 schema)": 0,
        "Merchant risk table": 1,
        "Fraud detector v2": 1,
    }


def test_impact_text_and_json(mlg, demo_loaded):
    text = mlg("impact", "dataset:s3://payments-raw/transactions-v1")
    assert "affects 11 assets" in text.stdout
    data = json.loads(mlg("impact", "Raw card transactions (v1 schema)", "--format", "json").stdout)
    assert sorted(o["name"] for o in data["owners"]) == [
        "Checkout Platform",
        "Fraud ML",
        "Payments Data Platform",
    ]
    assert len(data["affected"]["service"]) == 2


def test_query_formats(mlg, demo_loaded):
    sparql = "SELECT ?v ?version WHERE { ?v a mlg:ModelVersion ; mlg:version ?version } ORDER BY ?version"
    table = mlg("query", sparql)
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split() == ["v", "version"]
    rows = list(csv.DictReader(io.StringIO(mlg("query", sparql, "--format", "csv").stdout)))
    assert [r["version"] for r in rows] == ["1", "2", "3"]
    results = json.loads(mlg("query", sparql, "--format", "json").stdout)
    assert len(results["results"]["bindings"]) == 3
    ET.fromstring(mlg("query", sparql, "--format", "xml").stdout)
    assert mlg("query", "ASK { ?s a mlg:Service }").stdout.strip() == "true"
    construct = mlg("query", "CONSTRUCT WHERE { ?s a mlg:Service }", "--format", "ntriples").stdout
    assert len(construct.strip().splitlines()) == 2


def test_query_from_file_and_stdin(mlg, demo_loaded, write):
    path = write("q.rq", "SELECT (COUNT(*) AS ?n) WHERE { ?s a mlg:Team }")
    assert mlg("query", "--file", str(path), "--format", "csv").stdout.splitlines()[1] == "3"
    assert mlg("query", "--file", "-", "--format", "tsv", input="ASK { ?s a mlg:Person }").exit_code == 0


@pytest.mark.parametrize(
    ("fmt", "rdf_format"), [("nquads", pyoxigraph.RdfFormat.N_QUADS), ("trig", pyoxigraph.RdfFormat.TRIG)]
)
def test_export_round_trips_every_quad(mlg, demo_loaded, tmp_path, fmt, rdf_format):
    out = tmp_path / f"export.{fmt}"
    assert mlg("export", "--format", fmt, "-o", str(out)).exit_code == 0
    exported = sorted(str(q) for q in pyoxigraph.parse(path=str(out), format=rdf_format))
    assert exported == disk_snapshot(demo_loaded)


def test_export_one_graph_as_turtle(mlg, demo_loaded):
    graph = "https://mlg.example.org/graph/demo%2F3-checkout-platform.ttl"
    result = mlg("export", "--format", "turtle", "--graph", graph)
    assert result.exit_code == 0, result.output
    triples = list(pyoxigraph.parse(result.stdout_bytes, pyoxigraph.RdfFormat.TURTLE))
    assert any(t.object.value == "checkout-api" for t in triples)
    assert mlg("export", "--format", "turtle").exit_code == 2  # a graph format needs --graph


def test_stats(mlg, demo_loaded):
    data = json.loads(mlg("stats", "--format", "json").stdout)
    assert len(data["submissions"]) == 3
    assert data["kinds"]["service"] == 2 and data["kinds"]["team"] == 3
    assert data["edges"]["consumes"] == 2
    assert "3 submissions" in mlg("stats").stdout


def test_validate_a_good_file_exits_zero_and_writes_nothing(mlg, demo_loaded, write):
    before = disk_snapshot(demo_loaded)
    path = write("ok.yaml", "mlg-manifest: 1\nassets: [{kind: dataset, id: ok, owner: 'team:fraud-ml'}]\n")
    result = mlg("validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("valid manifest")
    assert disk_snapshot(demo_loaded) == before


def test_validate_without_a_store_uses_an_empty_graph(mlg, store_path, write):
    path = write("ok.yaml", "mlg-manifest: 1\nassets: [{kind: dataset, id: ok}]\n")
    result = mlg("validate", str(path), "--report", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["conforms"] is True
    assert "empty graph" in result.stderr
    assert not store_path.exists()


def test_store_from_environment(monkeypatch, tmp_path, write):
    from click.testing import CliRunner

    monkeypatch.setenv("MLG_STORE", str(tmp_path / "env-store"))
    path = write("ok.yaml", "mlg-manifest: 1\nassets: [{kind: dataset, id: ok}]\n")
    result = CliRunner().invoke(cli, ["load", str(path)])
    assert result.exit_code == 0
    assert (tmp_path / "env-store").is_dir()
