"""How fast validated admission is, next to the raw bulk-load ceiling, and how fast lineage reads.

Run ``.venv/bin/python benchmarks/admission.py`` (10k and 100k assets) or
``--assets 1000000``. Each size runs in a fresh subprocess, so peak RSS is per size;
within it, the peak is reset between phases (``/proc/self/clear_refs``), so admission,
the raw load and lineage each report their own. The output is markdown, to paste into
the README; the issue's targets are printed beside the measurements, not asserted.

The phases, for each size, on one synthetic graph (``benchmarks/generate.py``):

1. the generator alone (records/s), then with the ontology's entailment;
2. validated admission through :meth:`mlg.admission.Gate.admit` into an on-disk store,
   as one submission and split into submissions of whole teams (~10k assets each);
3. the same entailed quads through pyoxigraph's ``Store.bulk_extend`` (the ceiling:
   generation and entailment included, validation left out), and ``Store.bulk_load``
   of them from an N-Quads file (the store alone);
4. p50/p95 of :func:`mlg.lineage.trace` up and down from nodes with about 10, 100 and
   1,000 ancestors and from the node with the largest downstream, on the store from 2.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import inspect
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph
import pyshacl
import rdflib
from generate import Probe, SyntheticGraph
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, serialize

import mlg
from mlg.admission import Gate, install_ontology
from mlg.lineage import trace
from mlg.store import OxigraphStore
from mlg.submission import Submission
from mlg.vocab import ontology

TARGET_ASSETS_PER_S = 5_000
TARGET_RAW_FRACTION = 0.25
TARGET_RSS_MIB = 2048  # at 1M assets
TARGET_CLOSURE_P50_MS = 20  # up to 1,000 ancestors, on a 100k-asset store
MIB = 1024 * 1024
T = TypeVar("T")


# -- measuring ----------------------------------------------------------------------------


def _status_mib(key: str) -> float | None:
    """VmRSS, VmHWM... of this process from /proc, in MiB (None where there is no /proc)."""
    try:
        match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) / 1024 if match else None


def _start_peak_window() -> float:
    """Give freed memory back, then start a new peak-RSS window; returns the RSS it starts from.

    Linux resets VmHWM when 5 is written to clear_refs. Without the trim, a phase's peak
    would include what the previous one freed but the allocator kept.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):  # elsewhere the peak is the (fresh) process's own
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS") or 0.0


def _peak_mib() -> float:
    return _status_mib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Phase:
    """What one timed phase did; rates use the median of its runs."""

    name: str
    seconds: list[float] = field(default_factory=list)
    assets: int = 0
    records: int = 0
    triples: int = 0
    quads_stored: int = 0
    peak_rss_mib: float = 0.0
    start_rss_mib: float = 0.0
    detail: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else 0.0

    def rate(self, amount: int) -> float:
        return amount / self.median if self.median > 0 else 0.0


@contextmanager
def _peak(phase: Phase) -> Iterator[None]:
    start = _start_peak_window()
    yield
    if _peak_mib() > phase.peak_rss_mib:
        phase.peak_rss_mib, phase.start_rss_mib = _peak_mib(), start


def _log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _attempt(errors: list[str], name: str, measure: Callable[[], T]) -> T | None:
    """Run one phase; a failure is reported with the others' results instead of losing them."""
    try:
        return measure()
    except Exception as error:
        errors.append(f"{name}: {type(error).__name__}: {error}")
        _log(f"{name} failed:\n{traceback.format_exc()}")
        return None


# -- phases -------------------------------------------------------------------------------


def _entailed_quads(graph: SyntheticGraph, name: NamedNode) -> Iterator[Quad]:
    onto = ontology()
    for record in graph.records():
        for triple in onto.entail(record):
            yield Quad(triple.subject, triple.predicate, triple.object, name)


def measure_generator(graph: SyntheticGraph) -> tuple[Phase, Phase]:
    """The generator alone, then with entailment: what every load pays before validation."""
    alone = Phase("generator", assets=graph.assets)
    with _peak(alone):
        started = time.perf_counter()
        for record in graph.records():
            alone.records += 1
            alone.triples += len(record)
        alone.seconds.append(time.perf_counter() - started)
    entailed = Phase("generator + entailment", assets=graph.assets, records=alone.records)
    onto = ontology()
    with _peak(entailed):
        started = time.perf_counter()
        for record in graph.records():
            entailed.triples += sum(1 for _ in onto.entail(record))
        entailed.seconds.append(time.perf_counter() - started)
    return alone, entailed


def measure_admission(
    graph: SyntheticGraph,
    submissions: list[Submission],
    name: str,
    runs: int,
    workdir: Path,
    gate_options: dict[str, int],
    keep: Callable[[Path], None] | None = None,
) -> Phase:
    """Admit every submission, in order, into a fresh on-disk store, ``runs`` times.

    The Gate keeps a submission in memory and commits it in one transaction up to
    ``atomic_limit`` triples, and streams it through the bulk loader above: the path
    column says which each submission took.
    """
    phase = Phase(name)
    for run in range(runs):
        directory = Path(tempfile.mkdtemp(prefix="mlg-bench-admit-", dir=workdir))
        store = OxigraphStore(directory)
        install_ontology(store)  # as `mlg load` does; not timed
        gate = Gate(store, graph.minter, **gate_options)
        paths: dict[str, int] = {}
        phase.assets = phase.triples = 0
        with _peak(phase):
            started = time.perf_counter()
            for submission in submissions:
                outcome = gate.admit(submission)
                if not outcome.ok:
                    raise RuntimeError(f"{submission.source} was {outcome.status}: {outcome.report.counts()}")
                phase.assets += outcome.assets
                phase.triples += outcome.triples
                path = "bulk" if outcome.triples > gate.atomic_limit else "atomic"
                paths[path] = paths.get(path, 0) + 1
            phase.seconds.append(time.perf_counter() - started)
        phase.quads_stored = len(store)
        phase.detail = ", ".join(f"{path} x{count}" for path, count in sorted(paths.items()))
        _log(f"{name}: run {run + 1}/{runs} {phase.seconds[-1]:.1f}s ({phase.detail})")
        store.close()
        if keep is not None and run == runs - 1:
            keep(directory)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return phase


def measure_raw(graph: SyntheticGraph, runs: int, workdir: Path) -> tuple[Phase, Phase]:
    """The ceiling: the same entailed quads through Store.bulk_extend, and bulk_load from a file."""
    name = graph.minter.graph(graph.submission().source)
    extend = Phase("raw bulk_extend", assets=graph.assets, detail="generation + entailment + store")
    for _ in range(runs):
        directory = Path(tempfile.mkdtemp(prefix="mlg-bench-raw-", dir=workdir))
        store = Store(str(directory))
        with _peak(extend):
            started = time.perf_counter()
            store.bulk_extend(_entailed_quads(graph, name))
            store.flush()
            extend.seconds.append(time.perf_counter() - started)
        extend.quads_stored = extend.triples = len(store)
        del store
        shutil.rmtree(directory, ignore_errors=True)

    nquads = workdir / "mlg-bench.nq"
    with nquads.open("wb") as output:  # not timed: the file is the next phase's input
        serialize(_entailed_quads(graph, name), output, RdfFormat.N_QUADS)
    size = nquads.stat().st_size / MIB
    load = Phase("raw bulk_load", assets=graph.assets, detail=f"N-Quads file of {size:,.0f} MiB + store")
    for _ in range(runs):
        directory = Path(tempfile.mkdtemp(prefix="mlg-bench-raw-", dir=workdir))
        store = Store(str(directory))
        with _peak(load):
            started = time.perf_counter()
            store.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
            store.flush()
            load.seconds.append(time.perf_counter() - started)
        load.quads_stored = load.triples = len(store)
        del store
        shutil.rmtree(directory, ignore_errors=True)
    nquads.unlink()
    return extend, load


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_trace(store: OxigraphStore, root: NamedNode, direction: str, calls: int, budget: float) -> dict:
    """Up to ``calls`` timed trace() calls after one warm-up, stopping once ``budget`` seconds are spent."""
    started = time.perf_counter()
    found = trace(store, root, direction)  # type: ignore[arg-type]
    warm_up = time.perf_counter() - started
    times: list[float] = []
    while len(times) < calls and warm_up + sum(times) / 1000 < budget:
        started = time.perf_counter()
        found = trace(store, root, direction)  # type: ignore[arg-type]
        times.append((time.perf_counter() - started) * 1000)
    times = times or [warm_up * 1000]  # one call past the budget: its time is all there is
    return {
        "nodes": len(found.nodes) - 1,
        "edges": len(found.edges),
        "calls": len(times),
        "p50_ms": _percentile(times, 0.5),
        "p95_ms": _percentile(times, 0.95),
    }


def measure_lineage(directory: Path, probes: list[Probe], calls: int, budget: float) -> list[dict[str, Any]]:
    """p50/p95 of trace() both ways from each probe, on the store admission just wrote."""
    store = OxigraphStore(directory, read_only=True)
    rows = []
    for probe in probes:
        row: dict[str, Any] = {"probe": asdict(probe) | {"iri": probe.iri.value}}
        for direction in ("upstream", "downstream"):
            row[direction] = time_trace(store, probe.iri, direction, calls, budget)
            _log(f"lineage {probe.label}, {direction}: {_latency(row[direction])}")
        rows.append(row)
    store.close()
    return rows


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """One size, in this (fresh) process: what the parent prints."""
    assets = args.worker
    runs = args.runs or (3 if assets <= 20_000 else 1)
    workdir = Path(tempfile.mkdtemp(prefix="mlg-bench-", dir=args.workdir))
    defaults = inspect.signature(Gate).parameters
    gate = {
        "atomic_limit": args.atomic_limit or defaults["atomic_limit"].default,
        "chunk_assets": args.chunk_assets or defaults["chunk_assets"].default,
    }
    errors: list[str] = []
    try:
        graph = SyntheticGraph(assets, seed=args.seed)
        started = time.perf_counter()
        probes = graph.probes()
        graph._team_cache.cache_clear()  # the probe search's teams are not the generator's memory
        _log(
            f"{graph.assets:,} assets in {graph.teams} teams; probes in {time.perf_counter() - started:.1f}s"
        )

        phases: list[Phase] = []
        generated = _attempt(errors, "generator", lambda: measure_generator(graph))
        phases += generated or ()
        kept: list[Path] = []
        whole = _attempt(
            errors,
            "validated, 1 submission",
            lambda: measure_admission(
                graph, [graph.submission()], "validated, 1 submission", runs, workdir, gate, kept.append
            ),
        )
        parts = graph.submissions(args.batch_assets)
        if len(parts) == 1:  # a graph of one batch is split by team instead
            parts = graph.submissions(1)
        name = f"validated, {len(parts)} submissions of ~{graph.assets // len(parts):,}"
        split = None
        if len(parts) > 1:
            split = _attempt(errors, name, lambda: measure_admission(graph, parts, name, 1, workdir, gate))
        raw = _attempt(errors, "raw", lambda: measure_raw(graph, 1 if assets > 20_000 else runs, workdir))
        phases += [p for p in (whole, split) if p is not None] + list(raw or ())

        lineage: list[dict[str, Any]] = []
        if kept:
            lineage_phase = Phase("lineage")
            with _peak(lineage_phase):
                measured = _attempt(
                    errors,
                    "lineage",
                    lambda: measure_lineage(kept[0], probes, args.lineage_calls, args.trace_budget),
                )
            lineage = measured or []
            phases.append(lineage_phase)
        return {
            "requested": assets,
            "assets": graph.assets,
            "teams": graph.teams,
            "runs": runs,
            "gate": gate,
            "phases": [asdict(p) for p in phases],
            "lineage": lineage,
            "lineage_calls": args.lineage_calls,
            "errors": errors,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- reporting ----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mlg_revision() -> str:
    """The commit of the mlg being measured (it changes under a long run in a shared tree)."""
    root = Path(mlg.__file__).resolve().parents[1]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--exclude=*"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def header() -> str:
    return (
        f"mlg admission benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
        f"mlg {mlg.__version__} at {_mlg_revision()}; CPU {_cpu_model()} ({os.cpu_count()} cores); "
        f"Python {platform.python_version()}; pyoxigraph {pyoxigraph.__version__}; "
        f"pySHACL {pyshacl.__version__}; rdflib {rdflib.__version__}"
    )


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _latency(timing: dict[str, Any]) -> str:
    return f"{_ms(timing['p50_ms'])} / {_ms(timing['p95_ms'])} (n={timing['calls']})"


def _rss(phase: Phase) -> str:
    return f"{_n(phase.peak_rss_mib)} ({_n(phase.start_rss_mib)})"


def _ratio(validated: Phase, raw: Phase | None) -> str:
    if raw is None or not raw.rate(raw.assets):
        return "-"
    return f"{validated.rate(validated.assets) / raw.rate(raw.assets):.1%}"


def table(result: dict[str, Any]) -> str:
    """The markdown for one size."""
    phases = {p["name"]: Phase(**p) for p in result["phases"]}
    admitted = [p for name, p in phases.items() if name.startswith("validated")]
    extend, load = phases.get("raw bulk_extend"), phases.get("raw bulk_load")
    gate = result["gate"]
    stored = next((p.quads_stored for p in phases.values() if p.quads_stored), 0)
    lines = [
        f"### {result['assets']:,} assets ({result['teams']} teams, {stored:,} quads stored; "
        f"Gate atomic_limit={gate['atomic_limit']:,} triples, chunk_assets={gate['chunk_assets']:,})",
        "",
        "| phase | assets/s | triples/s | seconds | path | peak RSS MiB (from) | target |",
        "|---|--:|--:|--:|---|--:|---|",
    ]
    for phase in admitted:
        runs = f" (median of {len(phase.seconds)})" if len(phase.seconds) > 1 else ""
        lines.append(
            f"| {phase.name}{runs} | {_n(phase.rate(phase.assets))} | {_n(phase.rate(phase.triples))} "
            f"| {phase.median:,.1f} | {phase.detail} | {_rss(phase)} "
            f"| ≥ {TARGET_ASSETS_PER_S:,} assets/s; < {TARGET_RSS_MIB:,} MiB at 1M |"
        )
    for phase in (extend, load):
        if phase is not None:
            lines.append(
                f"| {phase.name} ({phase.detail}) | {_n(phase.rate(phase.assets))} "
                f"| {_n(phase.rate(phase.triples))} | {phase.median:,.1f} | - "
                f"| {_rss(phase)} | ceiling |"
            )
    for key in ("generator", "generator + entailment"):
        if (phase := phases.get(key)) is not None:
            lines.append(
                f"| {phase.name} ({_n(phase.rate(phase.records))} records/s) "
                f"| {_n(phase.rate(phase.assets))} | {_n(phase.rate(phase.triples))} | {phase.median:,.1f} "
                f"| - | {_rss(phase)} | |"
            )
    if admitted:
        lines += [
            "",
            "| validated / raw (assets/s) | bulk_extend | bulk_load | target |",
            "|---|--:|--:|---|",
        ]
        for phase in admitted:
            lines.append(
                f"| {phase.name} | {_ratio(phase, extend)} | {_ratio(phase, load)} "
                f"| ≥ {TARGET_RAW_FRACTION:.0%} of bulk |"
            )
    if result["lineage"]:
        lines += [
            "",
            f"`trace` p50 / p95 ms on the store just admitted; n = calls timed (up to "
            f"{result['lineage_calls']}, fewer once one probe and direction has used its time budget).",
            "",
            "| probe | kind | ancestors | upstream | descendants | downstream | target |",
            "|---|---|--:|--:|--:|--:|---|",
        ]
        for row in result["lineage"]:
            probe, up, down = row["probe"], row["upstream"], row["downstream"]
            target = f"p50 < {TARGET_CLOSURE_P50_MS} ms at 100k" if probe["label"].startswith("~") else ""
            lines.append(
                f"| {probe['label']} | {probe['kind']} | {up['nodes']:,} | {_latency(up)} "
                f"| {down['nodes']:,} | {_latency(down)} | {target} |"
            )
    peak = max(p.peak_rss_mib for p in phases.values())
    lines += [
        "",
        f"Whole size: {result['wall_seconds'] / 60:.1f} min; peak RSS {_n(peak)} MiB. A phase's peak "
        "includes the RSS it started from (in brackets), after garbage collection and malloc_trim.",
    ]
    lines += [f"\nFAILED {error}" for error in result["errors"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assets", type=int, nargs="+", default=[10_000, 100_000], help="graph sizes")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--runs", type=int, help="runs of the single submission (default: 3 up to 20k, else 1)"
    )
    parser.add_argument(
        "--batch-assets", type=int, default=10_000, help="assets in a submission of the split"
    )
    parser.add_argument("--atomic-limit", type=int, help="Gate atomic_limit (default: the Gate's)")
    parser.add_argument("--chunk-assets", type=int, help="Gate chunk_assets (default: the Gate's)")
    parser.add_argument("--lineage-calls", type=int, default=200, help="timed trace calls per probe and way")
    parser.add_argument(
        "--trace-budget", type=float, default=30.0, help="seconds of trace calls per probe and way"
    )
    parser.add_argument("--workdir", help="where the temporary stores go (default: the system's temp dir)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        json.dump(worker(args), sys.stdout)
        return 0

    print(header(), flush=True)
    forwarded = _without(sys.argv[1:] if argv is None else argv, {"--assets", "--json"})
    results = []
    for assets in args.assets:
        started = time.perf_counter()
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(assets), *forwarded]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode:
            print(
                f"\n### {assets:,} assets: the worker failed (exit {done.returncode}; see stderr)", flush=True
            )
            continue
        result = json.loads(done.stdout) | {"wall_seconds": time.perf_counter() - started}
        results.append(result)
        print("\n" + table(result), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({"header": header(), "results": results}, indent=2))
    return 0 if len(results) == len(args.assets) else 1


def _without(arguments: list[str], options: set[str]) -> list[str]:
    """The command line minus some options and their values, to hand the rest to a worker."""
    kept: list[str] = []
    skipping = False
    for argument in arguments:
        if argument.startswith("--"):
            skipping = argument.split("=", 1)[0] in options
        if not skipping:
            kept.append(argument)
    return kept


if __name__ == "__main__":
    sys.exit(main())
