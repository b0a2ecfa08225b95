"""The benchmark's synthetic graph stays admissible, so the benchmark measures real admissions."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from generate import SyntheticGraph

from mlg.admission import Gate
from mlg.store import OxigraphStore


def test_generated_graph_passes_the_shapes_and_is_reproducible():
    graph = SyntheticGraph(1000, seed=7)
    outcome = Gate(OxigraphStore(None), graph.minter).validate(graph.submission())
    assert outcome.report.conforms, [f.line() for f in outcome.report.of("Violation")][:5]
    assert outcome.assets >= 900
    again = SyntheticGraph(1000, seed=7).submission()
    assert again.digest == graph.submission().digest
