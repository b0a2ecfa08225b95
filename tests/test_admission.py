"""The admission gate: validate with SHACL, then commit whole into one named graph, or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import snapshot
from pyoxigraph import NamedNode, Quad

from mlg.admission import Gate, _journal, recover, stored_digest
from mlg.identity import Minter
from mlg.loaders import read_submission
from mlg.store import OxigraphStore

MANIFEST = """\
    mlg-manifest: 1
    source: team/catalog
    teams: [{id: ml, name: ML team, email: ml@example.com}]
    assets:
      - {kind: dataset, id: events, uri: "s3://lake/events", owner: ml}
      - {kind: model, id: churn, owner: ml}
      - {kind: model-version, id: churn@1, versionOf: churn, version: "1", trainedOn: [events], owner: ml}
"""


def submission(path: Path, minter: Minter, source: str | None = None):
    return read_submission(path, minter=minter, max_bytes=10_000_000, source=source)


def count(store: OxigraphStore, sparql: str) -> int:
    return len(list(store.query(sparql)))


def test_admitted_submission_lands_in_its_own_graph_with_provenance(gate, store, minter, write):
    outcome = gate.admit(submission(write("c.yaml", MANIFEST), minter))
    assert outcome.status == "admitted" and outcome.report.conforms
    assert outcome.assets == 4  # three assets and the team
    assert outcome.graph == minter.graph("team/catalog")
    provenance = list(
        store.query(
            "SELECT ?source ?format ?time ?digest ?version WHERE { GRAPH ?g { ?g a mlg:Submission ; "
            "mlg:source ?source ; mlg:format ?format ; prov:generatedAtTime ?time ; mlg:digest ?digest ; "
            "mlg:toolVersion ?version } }"
        )
    )
    assert len(provenance) == 1
    assert provenance[0]["source"].value == "team/catalog"
    assert provenance[0]["format"].value == "manifest"
    assert provenance[0]["digest"].value.startswith("sha256:")
    in_graph = count(store, f"SELECT * WHERE {{ GRAPH {outcome.graph} {{ ?s ?p ?o }} }}")
    assert in_graph == len(store) - count(
        store, "SELECT * WHERE { GRAPH <https://w3id.org/mlg> { ?s ?p ?o } }"
    )


def test_superclasses_and_superproperties_are_materialised(gate, store, minter, write):
    gate.admit(submission(write("c.yaml", MANIFEST), minter))
    version = minter.reference("model-version:churn@1")
    events = minter.dataset_from_uri("s3://lake/events")
    assert store.query(f"ASK {{ {version} prov:wasDerivedFrom {events} }}")
    assert store.query(f"ASK {{ {version} mlg:upstream {events} }}")
    assert store.query(f"ASK {{ {events} a dcat:Dataset, prov:Entity, mls:Dataset, mlg:DataAsset }}")
    assert store.query(f"ASK {{ {version} dcat:isVersionOf ?model ; a mls:Model }}")
    assert store.query("ASK { ?team a prov:Agent ; rdfs:label 'ML team' }")


def test_reloading_an_unchanged_input_is_a_no_op(gate, store, minter, write):
    path = write("c.yaml", MANIFEST)
    gate.admit(submission(path, minter))
    before = snapshot(store)
    outcome = gate.admit(submission(path, minter))
    assert outcome.status == "unchanged"
    assert snapshot(store) == before  # not even the load time moved


def test_a_changed_input_replaces_its_graph(gate, store, minter, write):
    path = write("c.yaml", MANIFEST)
    gate.admit(submission(path, minter))
    write(
        "c.yaml",
        MANIFEST.replace("trainedOn: [events]", "trainedOn: [events], stage: production").replace(
            "{kind: model, id: churn, owner: ml}", "{kind: model, id: churn, owner: ml, name: Churn}"
        ),
    )
    outcome = gate.admit(submission(path, minter))
    assert outcome.status == "replaced"
    assert store.query("ASK { ?m mlg:name 'Churn' }")
    assert not store.query("ASK { ?m mlg:name 'churn' }")  # the old name is gone
    assert count(store, "SELECT ?g WHERE { GRAPH ?g { ?g a mlg:Submission } }") == 1


def test_a_violation_rejects_the_whole_submission_and_changes_nothing(gate, store, minter, write):
    gate.admit(submission(write("c.yaml", MANIFEST), minter))
    before = snapshot(store)
    bad = write(
        "bad.yaml",
        """\
        mlg-manifest: 1
        assets:
          - {kind: dataset, id: fine, uri: "s3://lake/fine"}
          - {kind: model, id: m2}
          - {kind: model-version, id: m2@1, versionOf: m2, version: "1", trainedOn: [m2]}
    """,
    )
    outcome = gate.admit(submission(bad, minter))
    assert outcome.status == "rejected"
    [violation] = outcome.report.of("Violation")
    assert violation.path == "mlg:trainedOn"
    assert "data assets" in violation.message
    assert snapshot(store) == before


def test_warnings_and_infos_are_reported_but_let_through(gate, store, minter, write):
    path = write(
        "w.yaml",
        """\
        mlg-manifest: 1
        assets:
          - {kind: model, id: m}
          - {kind: model-version, id: m@1, versionOf: m, version: "1"}
          - {kind: deployment, id: d, deploys: m@1}
    """,
    )
    outcome = gate.admit(submission(path, minter))
    assert outcome.status == "admitted"
    messages = [f.message for f in outcome.report.of("Warning")]
    assert any("says nothing of how it was made" in m for m in messages)
    assert any("need an owner" in m for m in messages)
    assert outcome.report.of("Info")  # no owners anywhere


def test_an_edge_to_an_asset_already_in_the_store_validates_against_it(gate, store, minter, write):
    gate.admit(submission(write("c.yaml", MANIFEST), minter))
    # A Turtle file that points at the manifest's model version without describing it.
    path = write(
        "deploy.ttl",
        """\
        @prefix mlg: <https://w3id.org/mlg#> .
        <deployment/churn-api> a mlg:Deployment ; mlg:name "churn-api" ;
            mlg:deploys <model/churn/versions/1> .
    """,
    )
    assert gate.admit(submission(path, minter)).status == "admitted"
    wrong = write(
        "wrong.ttl",
        """\
        @prefix mlg: <https://w3id.org/mlg#> .
        <deployment/bad-api> a mlg:Deployment ; mlg:name "bad-api" ; mlg:deploys <model/churn> .
    """,
    )
    outcome = gate.admit(submission(wrong, minter))
    assert outcome.status == "rejected"
    assert outcome.report.of("Violation")[0].value.endswith("model/churn")


def test_an_edge_to_an_unknown_node_is_a_violation(gate, minter, write):
    path = write(
        "x.ttl",
        """\
        @prefix mlg: <https://w3id.org/mlg#> .
        <deployment/x> a mlg:Deployment ; mlg:name "x" ; mlg:deploys <model-version/nowhere> .
    """,
    )
    assert gate.validate(submission(path, minter)).status == "rejected"


def test_validate_writes_nothing(gate, store, minter, write):
    before = snapshot(store)
    outcome = gate.validate(submission(write("c.yaml", MANIFEST), minter))
    assert outcome.status == "valid"
    assert snapshot(store) == before


def test_replacing_a_graph_is_validated_without_its_own_old_facts(gate, store, minter, write):
    """A reload that drops an asset must not pass on the strength of that asset's old type."""
    text = """\
        @prefix mlg: <https://w3id.org/mlg#> .
        <dataset/d> a mlg:Dataset ; mlg:name "d" .
        <model/m> a mlg:Model ; mlg:name "m" .
        <model/m/versions/1> a mlg:ModelVersion ; mlg:name "m v1" ; mlg:version "1" ;
            mlg:versionOf <model/m> ; mlg:trainedOn <dataset/d> .
    """
    path = write("m.ttl", text)
    assert gate.admit(submission(path, minter)).status == "admitted"
    before = snapshot(store)
    write("m.ttl", text.replace('<dataset/d> a mlg:Dataset ; mlg:name "d" .', ""))
    outcome = gate.admit(submission(path, minter))
    assert outcome.status == "rejected"
    assert outcome.report.of("Violation")[0].path == "mlg:trainedOn"
    assert snapshot(store) == before


@pytest.mark.parametrize("atomic_limit", [10, 500_000])
def test_bulk_and_atomic_paths_commit_the_same_triples(minter, write, atomic_limit):
    store = OxigraphStore(None)
    outcome = Gate(store, minter, atomic_limit=atomic_limit, chunk_assets=2).admit(
        submission(write("c.yaml", MANIFEST), minter)
    )
    assert outcome.status == "admitted"
    data = [q for q in snapshot(store) if "generatedAtTime" not in q]
    reference = OxigraphStore(None)
    Gate(reference, minter).admit(submission(write("c.yaml", MANIFEST), minter))
    assert data == [q for q in snapshot(reference) if "generatedAtTime" not in q]
    assert stored_digest(store, outcome.graph) == outcome.submission.digest


def test_recover_drops_a_graph_half_written_by_the_bulk_path(store, minter, gate, write):
    gate.admit(submission(write("c.yaml", MANIFEST), minter))
    before = snapshot(store)
    # What a crash in the middle of a bulk load leaves: the journal entry and part of a graph.
    half = minter.graph("huge/export")
    store.add_atomically(
        [
            _journal(half),
            Quad(NamedNode("http://x/a"), NamedNode("http://x/p"), NamedNode("http://x/b"), half),
        ]
    )
    assert recover(store) == [half]
    assert snapshot(store) == before
    assert recover(store) == []
