"""Lineage: unbounded by default, bounded on request, cycle-safe, through owl:sameAs, with edges."""

from __future__ import annotations

import pytest

from mlg import resources
from mlg.admission import Gate
from mlg.errors import NotFoundError, UsageError
from mlg.identity import Minter
from mlg.lineage import impact, resolve, trace
from mlg.loaders import read_submission
from mlg.store import OxigraphStore, open_store

CHAIN = """\
    mlg-manifest: 1
    teams: [{id: data, name: Data, email: data@example.com}, {id: apps, name: Apps}]
    assets:
      - {kind: dataset, id: d0, uri: "s3://lake/d0", owner: data}
      - {kind: dataset, id: d1, derivedFrom: [d0], owner: data}
      - {kind: dataset, id: d2, derivedFrom: [d1], owner: data, sameAs: ["dataset:s3a://lake/d2"]}
      - {kind: dataset, id: d3, derivedFrom: ["dataset:s3a://lake/d2"]}
      - {kind: model, id: m}
      - {kind: model-version, id: m@1, versionOf: m, version: "1", trainedOn: [d3], owner: data}
      - {kind: deployment, id: api, deploys: m@1, owner: apps}
      # Two services that call each other: a cycle.
      - {kind: service, id: a, consumes: [api, b], owner: apps}
      - {kind: service, id: b, consumes: [a]}
"""


@pytest.fixture
def chain(write, minter: Minter) -> OxigraphStore:
    store = OxigraphStore(None)
    path = write("chain.yaml", CHAIN)
    outcome = Gate(store, minter).admit(read_submission(path, minter=minter, max_bytes=1 << 20))
    assert outcome.status == "admitted", [f.line() for f in outcome.report.findings]
    return store


def names(lineage) -> dict[str, int]:
    return {(n.name or n.iri): n.depth for n in lineage.nodes}


def test_upstream_is_unbounded_follows_same_as_and_survives_cycles(chain, minter):
    lineage = trace(chain, minter.asset("service", "a"))
    found = names(lineage)
    assert found["d0"] == 6  # a > api > m@1 > d3 > s3a-d2 (= d2: sameAs costs nothing) > d1 > d0
    assert found["b"] == 1 and found["m"] == 3
    edges = {(e.source.rsplit("/", 1)[-1], e.edge, e.target.rsplit("/", 1)[-1]) for e in lineage.edges}
    assert ("a", "consumes", "b") in edges and ("b", "consumes", "a") in edges
    assert ("d3", "derivedFrom", "d2") in edges
    assert any(e.edge == "sameAs" for e in lineage.edges)
    assert ("m%401", "trainedOn", "d3") not in edges  # versions are named under their model
    assert any(e[1] == "trainedOn" for e in edges)


def test_depth_limits_the_walk_and_keeps_only_edges_inside_it(chain, minter):
    lineage = trace(chain, minter.asset("service", "a"), depth=2)
    assert max(n.depth for n in lineage.nodes) == 2
    assert set(names(lineage)) == {"a", "b", "api", "m@1"}
    inside = {n.iri for n in lineage.nodes}
    assert all(e.source in inside and e.target in inside for e in lineage.edges)
    assert trace(chain, minter.asset("service", "a"), depth=0).nodes[0].name == "a"


def test_bounded_and_unbounded_agree_when_the_bound_is_not_reached(chain, minter):
    root = minter.dataset_from_uri("s3://lake/d0")
    unbounded = trace(chain, root, "downstream")
    bounded = trace(chain, root, "downstream", depth=50)
    assert names(unbounded) == names(bounded)
    assert {(e.source, e.edge, e.target) for e in unbounded.edges} == {
        (e.source, e.edge, e.target) for e in bounded.edges
    }


def test_downstream_reaches_services_through_same_as(chain, minter):
    found = names(trace(chain, minter.dataset_from_uri("s3://lake/d0"), "downstream"))
    assert {"d1", "d2", "d3", "m@1", "api", "a", "b"} <= set(found)


def test_edges_carry_the_most_specific_property(store, minter, write):
    path = write(
        "ft.yaml",
        """\
        mlg-manifest: 1
        assets:
          - {kind: model, id: base}
          - {kind: model-version, id: base@1, versionOf: base, version: "1"}
          - {kind: model, id: tuned}
          - {kind: model-version, id: tuned@1, versionOf: tuned, version: "1", fineTunedFrom: base@1}
    """,
    )
    Gate(store, minter).admit(read_submission(path, minter=minter, max_bytes=1 << 20))
    lineage = trace(store, minter.reference("model-version:tuned@1"))
    kinds = sorted(e.edge for e in lineage.edges)
    assert kinds == ["fineTunedFrom", "versionOf", "versionOf"]  # not derivedFrom, not upstream


def test_impact_groups_by_kind_and_lists_owners(chain, minter):
    result = impact(chain, minter.dataset_from_uri("s3://lake/d0"))
    assert set(result.affected) == {"dataset", "model-version", "deployment", "service"}
    assert [n.name for n in result.affected["service"]] == ["a", "b"]
    owners = {o.name: (o.email, len(o.assets)) for o in result.owners}
    assert owners == {"Data": ("data@example.com", 3), "Apps": (None, 2)}
    assert all(n.iri != result.root for group in result.affected.values() for n in group)


def test_resolve_accepts_iris_references_and_names(chain, minter):
    iri = minter.asset("service", "a")
    assert resolve(chain, minter, iri.value) == iri
    assert resolve(chain, minter, "service:a") == iri
    assert resolve(chain, minter, "M@1") == minter.reference("model-version:m@1")
    with pytest.raises(NotFoundError):
        resolve(chain, minter, "service:nope")
    with pytest.raises(NotFoundError):
        resolve(chain, minter, "no such name")


def test_bad_direction_and_depth_are_usage_errors(chain, minter):
    with pytest.raises(UsageError):
        trace(chain, minter.asset("service", "a"), "sideways")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        trace(chain, minter.asset("service", "a"), depth=-1)


def test_demo_service_lineage_reaches_its_raw_datasets(demo_loaded):
    store = open_store(demo_loaded, read_only=True)
    minter = Minter("https://mlg.example.org/")
    lineage = trace(store, resolve(store, minter, "service:checkout-api"))
    found = names(lineage)
    for raw in ("Raw card transactions", "Raw card transactions (v1 schema)", "Chargebacks"):
        assert raw in found
    assert found["fraud-scoring (production endpoint)"] == 1


def test_a_prov_only_client_finds_the_same_raw_datasets(demo_loaded):
    """Plain PROV-O, no mlg terms: `?service prov:wasDerivedFrom+ ?dataset`."""
    store = open_store(demo_loaded, read_only=True)
    minter = Minter("https://mlg.example.org/")
    service = resolve(store, minter, "service:checkout-api")
    prov = {
        row["dataset"].value
        for row in store.query(resources.query("prov_raw_datasets"), {"service": service})
    }
    # The raw datasets by mlg's own lineage: datasets in the upstream that derive from nothing.
    lineage = trace(store, service)
    derived = {e.source for e in lineage.edges if e.edge == "derivedFrom"}
    raw = {
        n.iri
        for n in lineage.nodes
        if n.kind == "dataset"
        and n.iri not in derived
        and not n.iri.startswith("https://mlg.example.org/dataset/s3a")
    }
    assert prov == raw
    assert len(prov) == 3
    plain = f"SELECT DISTINCT ?d WHERE {{ {service} <http://www.w3.org/ns/prov#wasDerivedFrom>+ ?d }}"
    assert prov <= {row["d"].value for row in store.query(plain)}


def test_a_dcat_only_client_finds_the_datasets(demo_loaded):
    store = open_store(demo_loaded, read_only=True)
    rows = store.query(
        "SELECT ?d ?title WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?title }"
    )
    titles = {row["title"].value for row in rows}
    assert {
        "Raw card transactions",
        "Curated transactions",
        "card_activity",
        "Chargebacks snapshot 2026-10-01",
    } <= titles
    versions = store.query(
        "SELECT DISTINCT ?v WHERE { ?v <http://www.w3.org/ns/dcat#isVersionOf> ?d . "
        "?d a <http://www.w3.org/ns/dcat#Dataset> }"
    )
    assert len(list(versions)) == 1
