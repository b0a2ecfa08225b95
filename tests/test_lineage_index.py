"""The in-memory lineage index answers exactly as the store does, stays so across refreshes, under threads."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode

from mlg import resources
from mlg.admission import Gate, drop_graph
from mlg.identity import Minter
from mlg.lineage import asset, impact, resolve, trace
from mlg.lineage_index import LineageIndex
from mlg.loaders import read_submission
from mlg.store import OxigraphStore, open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from generate import SyntheticGraph

DEPTHS = (None, 0, 1, 2, 3)
ALL_NODES = "SELECT DISTINCT ?n WHERE { { ?n ?p ?o } UNION { ?s ?p ?n } FILTER (isIRI(?n)) }"


def nodes_of(store: OxigraphStore) -> list[NamedNode]:
    return [row["n"] for row in store.query(ALL_NODES)]  # type: ignore[index,union-attr]


def assert_same_traces(store: OxigraphStore, index: LineageIndex, nodes: list[NamedNode]) -> None:
    for node in nodes:
        for direction in ("upstream", "downstream"):
            for depth in DEPTHS:
                expected = trace(store, node, direction, depth)
                assert trace(store, node, direction, depth, index=index) == expected, (node, direction, depth)


@pytest.fixture(scope="module")
def synthetic() -> OxigraphStore:
    graph = SyntheticGraph(1000, seed=3, team_size=250)
    store = OxigraphStore(None)
    outcome = Gate(store, graph.minter).admit(graph.submission())
    assert outcome.status == "admitted"
    return store


def test_every_trace_of_the_demo_store_is_the_same_with_the_index(demo_loaded):
    store = open_store(demo_loaded, read_only=True)
    index = LineageIndex.build(store)
    nodes = nodes_of(store)
    assert len(nodes) > 50
    assert_same_traces(store, index, nodes)
    for node in nodes:
        assert impact(store, node, index=index) == impact(store, node)
        assert asset(store, node, index=index) == asset(store, node)


def test_every_trace_of_a_synthetic_graph_is_the_same_with_the_index(synthetic):
    index = LineageIndex.build(synthetic)
    nodes = nodes_of(synthetic)
    assert len(nodes) > 500
    assert_same_traces(synthetic, index, nodes)
    for node in nodes[::25]:
        for depth in (None, 1):
            assert impact(synthetic, node, depth, index=index) == impact(synthetic, node, depth)
        assert asset(synthetic, node, index=index) == asset(synthetic, node)


def test_the_answers_do_not_depend_on_row_order(synthetic):
    """The sameAs shown, the edges' order and ties between nodes come from sorted rows."""
    index = LineageIndex.build(synthetic)
    twins = [row["s"] for row in synthetic.query("SELECT ?s WHERE { ?s owl:sameAs ?o } LIMIT 5")]  # type: ignore[index,union-attr]
    assert twins
    assert_same_traces(synthetic, index, twins)


def test_resolve_uses_the_index_and_falls_back_to_the_store(store, minter, write):
    gate = Gate(store, minter)
    admit(gate, minter, write, "a.yaml", ["d0"], {"d1": ["d0"]})
    store.update("INSERT DATA { <https://mlg.example.org/bare> <https://example.org/p> 1 }")
    index = LineageIndex.build(store)
    node = minter.asset("dataset", "d1")
    assert index.knows(node)
    assert resolve(store, minter, "dataset:d1", index=index) == node
    assert resolve(store, minter, "d1", index=index) == node
    bare = "https://mlg.example.org/bare"
    assert not index.knows(NamedNode(bare))
    assert resolve(store, minter, bare, index=index) == NamedNode(bare)


# ------------------------------------------------------------------------------ refresh


def manifest(assets: list[str], derived: dict[str, list[str]], names: dict[str, str] | None = None) -> str:
    lines = ["mlg-manifest: 1", "assets:"]
    for id_ in assets:
        name = f", name: {names[id_]}" if names and id_ in names else ""
        lines.append(f"  - {{kind: dataset, id: {id_}{name}}}")
    for id_, parents in derived.items():
        name = f", name: {names[id_]}" if names and id_ in names else ""
        lines.append(f"  - {{kind: dataset, id: {id_}, derivedFrom: [{', '.join(parents)}]{name}}}")
    return "\n".join(lines) + "\n"


def admit(gate: Gate, minter: Minter, write, file: str, assets, derived, names=None) -> NamedNode:
    path = write(file, manifest(assets, derived, names))
    outcome = gate.admit(read_submission(path, minter=minter, max_bytes=1 << 20))
    assert outcome.ok, [f.line() for f in outcome.report.findings]
    return outcome.graph  # type: ignore[return-value]


def assert_current(store: OxigraphStore, index: LineageIndex) -> None:
    """The index answers as a fresh one and as the store, for every node and what the index knew."""
    fresh = LineageIndex.build(store)
    with index.reading() as facts, fresh.reading() as expected:
        assert sorted(map(str, facts.graphs())) == sorted(map(str, expected.graphs()))
    nodes = nodes_of(store)
    assert_same_traces(store, index, nodes)
    for node in nodes:
        assert index.knows(node) == fresh.knows(node)
    for row in store.query("SELECT DISTINCT ?name WHERE { ?node <https://w3id.org/mlg#name> ?name }"):
        name = row["name"].value
        found = store.query(resources.query("find_by_name"), {"wanted": Literal(name.upper())})
        with index.reading() as facts:
            assert facts.named(name.upper()) == sorted((r["node"] for r in found), key=str)


def test_refresh_follows_added_replaced_and_dropped_graphs(store, minter, write):
    gate = Gate(store, minter)
    first = admit(gate, minter, write, "a.yaml", ["a0"], {"a1": ["a0"], "a2": ["a1"]})
    index = LineageIndex.build(store)
    second = admit(gate, minter, write, "b.yaml", ["b0"], {"b1": ["b0", "dataset:a2"]})
    index.refresh(store, [second])
    assert_current(store, index)
    reached = trace(store, minter.asset("dataset", "b1"), index=index)
    assert minter.asset("dataset", "a0").value in {n.iri for n in reached.nodes}

    admit(gate, minter, write, "a.yaml", ["a0", "a3"], {"a2": ["a3"]}, {"a2": "Second name"})  # replaced
    index.refresh(store, [first])
    assert_current(store, index)
    assert resolve(store, minter, "second NAME", index=index) == minter.asset("dataset", "a2")
    assert not index.knows(minter.asset("dataset", "a1"))

    assert drop_graph(store, second)
    index.refresh(store, [second])
    assert_current(store, index)
    assert not index.knows(minter.asset("dataset", "b1"))


def test_refresh_of_the_default_graph_and_of_none(store, minter, write):
    index = LineageIndex.build(store)
    d1, d0 = minter.asset("dataset", "x1"), minter.asset("dataset", "x0")
    store.update(f"INSERT DATA {{ {d1} mlg:derivedFrom {d0} . {d1} a mlg:Dataset }}")
    index.refresh(store, [DefaultGraph()])
    assert_current(store, index)
    assert [n.kind for n in trace(store, d1, index=index).nodes] == ["dataset", None]
    admit(Gate(store, minter), minter, write, "a.yaml", ["a0"], {"a1": ["a0"]})
    index.refresh(store, None)
    assert_current(store, index)


def test_a_fact_stated_by_two_graphs_survives_dropping_one(store, minter, write):
    gate = Gate(store, minter)
    first = admit(gate, minter, write, "a.yaml", ["d0"], {"d1": ["d0"]}, {"d1": "One"})
    second = admit(gate, minter, write, "b.yaml", ["d0"], {"d1": ["d0"]}, {"d1": "Another"})
    index = LineageIndex.build(store)
    d1 = minter.asset("dataset", "d1")
    assert trace(store, d1, index=index).node(d1.value).name == "Another"  # the smallest of two names
    drop_graph(store, second)
    index.refresh(store, [second])
    assert_current(store, index)
    lineage = trace(store, d1, index=index)
    assert [e.edge for e in lineage.edges] == ["derivedFrom"]
    assert lineage.node(d1.value).name == "One"
    drop_graph(store, first)
    index.refresh(store, [first, first])
    assert_current(store, index)
    assert not index.knows(d1)


# ------------------------------------------------------------------------------ threads


def test_traces_see_one_state_or_the_other_while_another_thread_refreshes(store, minter, write):
    """A refresh that swaps a graph between two contents: every trace is one of the two answers."""
    gate = Gate(store, minter)
    admit(gate, minter, write, "base.yaml", ["r"], {"m": ["r"]})
    states = [
        manifest(["r"], {"x1": ["r"], "x2": ["x1"], "top": ["x2", "dataset:m"]}),
        manifest(["r", "y1"], {"top": ["y1"], "m": ["r"]}),
    ]
    top = minter.asset("dataset", "top")
    expected = []
    for text in states:
        graph = gate.admit(read_submission(write("swap.yaml", text), minter=minter, max_bytes=1 << 20)).graph
        expected.append(trace(store, top))
    index = LineageIndex.build(store)
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = [0, 0]

    def refresher() -> None:
        try:
            for turn in range(40):
                path = write("swap.yaml", states[turn % 2])
                gate.admit(read_submission(path, minter=minter, max_bytes=1 << 20))
                index.refresh(store, [graph])
        except BaseException as error:
            errors.append(error)
        finally:
            stop.set()

    def tracer() -> None:
        try:
            while not stop.is_set():
                found = trace(store, top, index=index)
                assert found in expected
                seen[expected.index(found)] += 1
        except BaseException as error:
            errors.append(error)
            stop.set()

    threads = [threading.Thread(target=refresher), *(threading.Thread(target=tracer) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(seen), seen
