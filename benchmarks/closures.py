"""SPARQL closures on a random DAG shaped like issue #4's: mlg serve, the bare app, rdflib-endpoint.

Issue #4 sets the closure throughput targets of ``mlg serve`` against ``rdflib-endpoint``
(≥ 5x on small closures, ≥ 30x on deep ones) from this measurement: "on a 40k-edge DAG: a
minimal Flask + pyoxigraph app under gunicorn served a 58-ancestor closure at 3,500
requests/s against rdflib-endpoint's 430, and a 14,700-ancestor closure at 79 against
1.4" (8x and 56x). ``benchmarks/server_load.py`` compares closures on its synthetic
enterprise graph, whose deepest node has only ~1,000 ancestors; this script measures them
on a graph shaped like the issue's, where a closure can be 15 times deeper.

Run ``.venv/bin/python benchmarks/closures.py`` (20,000 datasets, 40,000 edges, 10 s a
run: a few minutes in all, most of it building the store and loading rdflib), or
``--seconds 5`` for a quicker one; ``--store PATH`` keeps the store built and reuses it
next time (it must come from the same ``--nodes``, ``--edges``, ``--seed`` and
``--window``: its counts are checked). Needs ``wrk`` on ``PATH``, gunicorn and Flask
(the reference app) and ``rdflib-endpoint`` (``--no-reference`` and ``--no-rdflib`` skip
those). The output is markdown; the targets are printed beside the ratios, never asserted.

What it does:

1. generates the DAG: ``--nodes`` datasets, node *i* ≥ 1 derived (``mlg:derivedFrom``)
   from parents drawn without replacement, uniformly among the ``--window`` nodes before
   it (``--window 0``: among all of 0..i-1), as many parents per node as spreads
   ``--edges`` evenly (2 by default; the few left over, one more each for nodes drawn at
   random); seeded by ``--seed``. Every node is an ``mlg:Dataset`` with an ``mlg:name``,
   owned by one ``mlg:Team``. The window is what makes deep closures: parents drawn among
   *all* earlier nodes give, at 20,000 nodes and 40,000 edges, at most 799 ancestors
   (seed 42; a random recursive DAG's closures stay shallow), never the issue's 14,700;
   among the 100 nodes before (the default), the ~86% of nodes that have a child chain
   into one lineage, and the deepest closures reach 15,842 ancestors;
2. admits it as one submission into a fresh on-disk store through
   :meth:`mlg.admission.Gate.admit` (SHACL validation, entailment: ``mlg:derivedFrom``
   materialises ``mlg:upstream``), then checks the store's counts of datasets,
   ``mlg:derivedFrom`` and ``mlg:upstream`` edges against the DAG, and exports it
   (``mlg export``, N-Quads) for rdflib-endpoint;
3. counts every node's ancestors in Python and picks the *small* probe (the node whose
   closure is closest to 58 ancestors) and the *deep* one (closest to 14,700);
4. measures each closure ``SELECT ?a WHERE { <iri> mlg:upstream+ ?a }`` alone with wrk
   (``server_load.run_wrk``: one thread, ``--clients`` connections, a Lua script, latencies
   from wrk's histogram) for ``--seconds``, after an unmeasured warm-up of ``--warmup``
   seconds (a run that completes fewer than ``--min-requests`` is measured again, longer,
   up to ``--max-seconds``: wrk drops the requests in flight when it stops, which is most
   of a window of a few 2-second answers), against, one after the other and each alone on
   the machine:
   (a) ``mlg serve --store <store>`` (its defaults: a worker a core; ``--threads``), once
   it has answered a closure query; (b) the reference, the issue's minimal Flask +
   pyoxigraph app (``server_load.REFERENCE_APP``) under gunicorn, a worker a core x 4
   threads, opening the store read-only once mlg serve has stopped; (c) rdflib-endpoint
   (uvicorn) over the exported quads. Each server is stopped, and its processes waited
   for, before the next starts. Before each warm-up and each measured run the script waits
   for the server's processes to go idle, since a request wrk gave up on at the end of a
   run is still evaluated (8 queued deep closures keep rdflib-endpoint busy for seconds);
5. checks that the rows of every answer equal the ancestor count computed in Python, on
   every endpoint, and prints the table: rows, req/s and p50 / p95 per endpoint, the
   ratios mlg / reference, mlg / rdflib-endpoint (the targets) and reference / rdflib
   (what the bare app reaches on this graph), then the CPU the server and wrk used.

The exit status is 1 when the rows differ from the Python counts anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple
from server_load import (
    RDFLIB_SERVER,
    REFERENCE_THREADS,
    TARGET_DEEP_RATIO,
    TARGET_SMALL_RATIO,
    Run,
    Workload,
    _log,
    _times,
    _version,
    closure_query,
    count_rows,
    free_port,
    met,
    mlg_command,
    process_tree,
    rss_mib,
    run_wrk,
    start_reference,
    stop,
    tree_cpu,
    wait_gone,
    wait_ready,
)

from mlg.identity import Minter
from mlg.submission import Record, Submission
from mlg.vocab import MLG

BASE = "https://dag.example.org/"
SMALL_ANCESTORS = 58  # the issue's reference measurement
DEEP_ANCESTORS = 14_700
ISSUE = {  # closure -> (reference req/s, rdflib-endpoint req/s) in the issue's measurement
    "small": (3_500, 430),
    "deep": (79, 1.4),
}
TARGETS = {"small": TARGET_SMALL_RATIO, "deep": TARGET_DEEP_RATIO}
SIDES = {"mlg": "mlg serve", "reference": "reference", "rdflib": "rdflib-endpoint"}
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _mlg(local: str) -> NamedNode:
    return NamedNode(MLG + local)


# -- the DAG ------------------------------------------------------------------------------


@dataclass
class Dag:
    """``parents[i]``: the nodes node ``i`` is derived from, all before it."""

    nodes: int
    edges: int
    seed: int
    window: int
    parents: list[tuple[int, ...]]

    @classmethod
    def generate(cls, nodes: int, edges: int, seed: int, window: int) -> Dag:
        if nodes < 2 or edges < nodes - 1:
            raise ValueError("ask for at least 2 nodes and one edge a node after the first")
        rng = random.Random(seed)
        lows = [max(0, i - window) if window else 0 for i in range(nodes)]
        fan_in = [min(i - lows[i], edges // (nodes - 1)) for i in range(nodes)]
        roomy = [i for i in range(1, nodes) if fan_in[i] < i - lows[i]]
        for i in rng.sample(roomy, min(len(roomy), edges - sum(fan_in))):
            fan_in[i] += 1  # the edges left over, one more parent each for nodes drawn at random
        parents = [tuple(sorted(rng.sample(range(lows[i], i), fan_in[i]))) for i in range(nodes)]
        return cls(nodes, sum(fan_in), seed, window, parents)

    def ancestors(self) -> list[int]:
        """How many ancestors each node has (what its ``mlg:upstream+`` closure answers)."""
        reach: list[int] = []  # bit j of reach[i]: j is an ancestor of i
        for parents in self.parents:
            bits = 0
            for p in parents:
                bits |= reach[p] | (1 << p)
            reach.append(bits)
        return [bits.bit_count() for bits in reach]

    def describe(self) -> str:
        among = f"the {self.window} nodes before it" if self.window else "all nodes before it"
        return (
            f"{self.nodes:,} datasets, {self.edges:,} `mlg:derivedFrom` edges (parents uniform among "
            f"{among}, seed {self.seed})"
        )


def closest(counts: list[int], target: int) -> int:
    """The node whose ancestors are closest in number to ``target`` (the first of a tie)."""
    return min(range(len(counts)), key=lambda i: (abs(counts[i] - target), i))


def iri(minter: Minter, i: int) -> NamedNode:
    return minter.asset("dataset", f"dag-{i:06d}")


def records(dag: Dag, minter: Minter) -> Iterator[Record]:
    team = minter.asset("team", "dag-owners")
    yield [Triple(team, RDF_TYPE, _mlg("Team")), Triple(team, _mlg("name"), Literal("DAG owners"))]
    for i, parents in enumerate(dag.parents):
        node = iri(minter, i)
        record = [
            Triple(node, RDF_TYPE, _mlg("Dataset")),
            Triple(node, _mlg("name"), Literal(f"DAG dataset {i}")),
            Triple(node, _mlg("ownedBy"), team),
        ]
        record += [Triple(node, _mlg("derivedFrom"), iri(minter, p)) for p in parents]
        yield record


def submission(dag: Dag, minter: Minter) -> Submission:
    source = f"benchmarks/closures/nodes-{dag.nodes}/edges-{dag.edges}/seed-{dag.seed}/window-{dag.window}"
    digest = "sha256:" + hashlib.sha256(source.encode()).hexdigest()
    return Submission(source, "synthetic", digest, lambda: records(dag, minter), source)


# -- the store ----------------------------------------------------------------------------


def build_store(directory: Path, dag: Dag, minter: Minter) -> None:
    from mlg.admission import Gate, install_ontology
    from mlg.store import OxigraphStore

    store = OxigraphStore(directory)
    install_ontology(store)
    started = time.perf_counter()
    outcome = Gate(store, minter).admit(submission(dag, minter))
    if not outcome.ok:
        raise RuntimeError(f"admission was {outcome.status}: {outcome.report.counts()}")
    _log(
        f"admitted {outcome.assets:,} assets, {outcome.edges:,} edges (mlg:ownedBy too), "
        f"{len(store):,} quads in {time.perf_counter() - started:.0f}s"
    )
    store.close()


STORE_COUNTS = {
    "datasets": "SELECT (COUNT(*) AS ?n) WHERE { ?s a mlg:Dataset }",
    "derivedFrom": "SELECT (COUNT(*) AS ?n) WHERE { ?s mlg:derivedFrom ?o }",
    "upstream": "SELECT (COUNT(*) AS ?n) WHERE { ?s mlg:upstream ?o }",
}


def check_store(directory: Path, dag: Dag) -> dict[str, int]:
    """The store's datasets, derivedFrom and (materialised) upstream edges; they must be the DAG's."""
    from mlg.store import OxigraphStore

    store = OxigraphStore(directory)
    try:
        counts = {
            name: int(next(iter(store.query(f"PREFIX mlg: <{MLG}>\n{query}")))["n"].value)
            for name, query in STORE_COUNTS.items()
        }
    finally:
        store.close()
    expected = {"datasets": dag.nodes, "derivedFrom": dag.edges, "upstream": dag.edges}
    if counts != expected:
        raise RuntimeError(
            f"the store at {directory} holds {counts}, the DAG {expected}: was it built with "
            "other --nodes, --edges, --seed or --window?"
        )
    return counts


# -- the endpoints --------------------------------------------------------------------------


@dataclass
class Measured:
    """One endpoint: the rows of each closure's answer, its runs, its RSS when they ended."""

    rows: dict[str, Any]
    runs: dict[str, Run]
    rss_mib: float
    ready: float  # seconds from its start to its first closure answer


def wait_idle(pid: int, timeout: float = 300.0, below: float = 0.05) -> float:
    """Wait until the process tree of ``pid`` uses < ``below`` cores over half a second; seconds waited."""
    started = time.monotonic()
    before = tree_cpu(pid)
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        after = tree_cpu(pid)
        if after - before < below * 0.5:
            break
        before = after
    return time.monotonic() - started


def measure(
    side: str,
    start: Callable[[int], subprocess.Popen[bytes]],
    probes: dict[str, str],
    args: argparse.Namespace,
    workdir: Path,
    ready_timeout: float,
    ready_path: str | None = None,
) -> Measured:
    """Start one endpoint on a free port, count the rows of each closure, run wrk on each alone, stop it."""
    port = free_port()
    began = time.monotonic()
    process = start(port)
    try:
        if ready_path:
            wait_ready(port, ready_path, process, ready_timeout)
        first = urllib.parse.urlencode({"query": closure_query(next(iter(probes)))})
        wait_ready(port, f"/sparql?{first}", process, ready_timeout)  # mlg: its query workers are up
        ready = time.monotonic() - began
        _log(f"{SIDES[side]} answers closures {ready:.0f}s after its start")
        rows = {kind: count_rows(port, node) for node, kind in probes.items()}
        _log(f"{SIDES[side]} rows: {rows}")
        work = Workload(port, {}, [], {kind: [node] for node, kind in probes.items()})
        runs: dict[str, Run] = {}
        for kind in probes.values():
            if args.warmup > 0:
                wait_idle(process.pid)
                run_wrk(
                    f"{side} {kind} warm-up", work, kind, args.clients, args.warmup, 0, process.pid, workdir
                )
            waited = wait_idle(process.pid)
            if waited > 2:
                _log(f"{SIDES[side]} was busy for {waited:.0f}s after the warm-up")
            run = run_wrk(f"{side} {kind}", work, kind, args.clients, args.seconds, 0, process.pid, workdir)
            done = run.counts.get(kind, 0)
            if done < args.min_requests and args.seconds < args.max_seconds:
                # A few slow answers: requests in flight when wrk stops are lost, so measure longer.
                longer = min(args.max_seconds, args.seconds * 1.2 * args.min_requests / max(done, 1))
                _log(f"{SIDES[side]} {kind}: {done} requests in {args.seconds:.0f}s, again for {longer:.0f}s")
                wait_idle(process.pid)
                run = run_wrk(f"{side} {kind}", work, kind, args.clients, longer, 0, process.pid, workdir)
            runs[kind] = run
        rss = sum(rss_mib(pid) for pid in process_tree(process.pid))
        tree = list(process_tree(process.pid))
        stop(process)
        if alive := wait_gone(tree):
            raise RuntimeError(f"processes of {SIDES[side]} still running after it stopped: {alive}")
        return Measured(rows, runs, rss, ready)
    finally:
        stop(process)


# -- reporting ------------------------------------------------------------------------------


def _ratio(measured: dict[str, Measured], kind: str, ours: str, theirs: str) -> float | None:
    a, b = measured.get(ours), measured.get(theirs)
    if a is None or b is None:
        return None
    rate = b.runs[kind].rps(kind)
    return a.runs[kind].rps(kind) / rate if rate else float("inf")


def table(
    measured: dict[str, Measured], ancestors: dict[str, int], starts: dict[str, int]
) -> tuple[str, bool]:
    """The comparison, and whether every endpoint's rows matched the Python counts."""
    sides = list(measured)
    head = "| closure | start node | ancestors | rows " + " / ".join(SIDES[s] for s in sides) + " "
    head += "".join(f"| {SIDES[s]} req/s | p50 / p95 ms " for s in sides)
    head += "| mlg / reference | mlg / rdflib | reference / rdflib | target (mlg / rdflib) |"
    lines = [head, "|---|--:|--:|--:|" + "--:|--:|" * len(sides) + "--:|--:|--:|---|"]
    all_match = True
    for kind, expected in ancestors.items():
        rows = [measured[s].rows[kind] for s in sides]
        match = all(r == expected for r in rows)
        all_match &= match
        cells = ""
        for side in sides:
            run = measured[side].runs[kind]
            cells += f"| {run.rps(kind):,.1f} | {run.pct(kind, 0.5):,.1f} / {run.pct(kind, 0.95):,.1f} "
        to_rdflib = _ratio(measured, kind, "mlg", "rdflib")
        target = TARGETS[kind]
        verdict = (
            f"≥ {target:.0f}x: not measured"
            if to_rdflib is None
            else f"≥ {target:.0f}x: {met(to_rdflib >= target)}"
        )
        lines.append(
            f"| {kind} | {starts[kind]:,} | {expected:,} | {' / '.join(str(r) for r in rows)}"
            f"{'' if match else ' **differ**'} {cells}"
            f"| {_times(_ratio(measured, kind, 'mlg', 'reference'), 2)} | {_times(to_rdflib, 1)} "
            f"| {_times(_ratio(measured, kind, 'reference', 'rdflib'), 1)} | {verdict} |"
        )
    return "\n".join(lines), all_match


def cpu_table(measured: dict[str, Measured], cores: int) -> str:
    lines = [
        "| closure | endpoint | s measured | requests | req/s | server cores | wrk cores "
        "| server CPU ms / request | statuses |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for kind in TARGETS:
        for side, m in measured.items():
            run = m.runs.get(kind)
            if run is None:
                continue
            count = run.counts.get(kind, 0)
            per = f"{run.server_cpu / count * 1000:,.1f}" if count else "n/a"
            statuses = ", ".join(f"{s} x{c:,}" for s, c in sorted(run.statuses.get(kind, {}).items()))
            lines.append(
                f"| {kind} | {SIDES[side]} | {run.seconds:.0f} | {count:,} | {run.rps(kind):,.1f} "
                f"| {run.server_cpu / run.seconds:.2f} | {run.client_cpu / run.seconds:.2f} | {per} "
                f"| {statuses} |"
            )
    return (
        "\n".join(lines)
        + f"\n\nCores: of {cores}; CPU over each measured run (server: its whole process tree)."
    )


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=20_000, help="datasets in the DAG")
    parser.add_argument("--edges", type=int, default=40_000, help="mlg:derivedFrom edges in all")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--window",
        type=int,
        default=100,
        help="parents are drawn among the WINDOW nodes before a node (0: among all nodes before it)",
    )
    parser.add_argument("--store", type=Path, help="build the store here, or reuse it if it exists")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds of each run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each run")
    parser.add_argument(
        "--min-requests",
        type=int,
        default=50,
        help="a run that completes fewer is measured again, longer (at most --max-seconds)",
    )
    parser.add_argument("--max-seconds", type=float, default=120.0, help="of a run measured again")
    parser.add_argument("--clients", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=4, help="mlg serve --threads (threads per worker)")
    parser.add_argument("--no-reference", action="store_true", help="skip the minimal Flask + pyoxigraph app")
    parser.add_argument("--no-rdflib", action="store_true", help="skip rdflib-endpoint")
    parser.add_argument("--workdir", help="for the temporary store, export and wrk scripts")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        parser.error("wrk is not on PATH (apt-get install wrk)")
    if not args.no_reference and not Path(sys.executable).with_name("gunicorn").exists():
        parser.error(f"no gunicorn next to {sys.executable} for the reference app (or --no-reference)")

    cores = os.cpu_count() or 1
    workdir = Path(tempfile.mkdtemp(prefix="mlg-bench-closures-", dir=args.workdir))
    logs: list[Any] = []
    try:
        began = time.monotonic()
        dag = Dag.generate(args.nodes, args.edges, args.seed, args.window)
        counts = dag.ancestors()
        picks = {"small": closest(counts, SMALL_ANCESTORS), "deep": closest(counts, DEEP_ANCESTORS)}
        ancestors = {kind: counts[i] for kind, i in picks.items()}
        _log(
            f"{dag.describe()}; most ancestors {max(counts):,}; small: node {picks['small']} with "
            f"{ancestors['small']:,} ancestors, deep: node {picks['deep']} with {ancestors['deep']:,}"
        )
        minter = Minter(BASE)
        probes = {iri(minter, i).value: kind for kind, i in picks.items()}  # start IRI -> closure

        store = args.store or workdir / "store"
        if store.exists() and any(store.iterdir()):
            _log(f"reusing the store at {store}")
        else:
            store.mkdir(parents=True, exist_ok=True)
            _log(f"building the store at {store}")
            build_store(store, dag, minter)
        stored = check_store(store, dag)
        _log(f"the store holds {stored}")
        export = workdir / "export.nq"
        if not args.no_rdflib:
            env = os.environ | {"MLG_STORE": str(store)}
            subprocess.run(mlg_command("export", "-o", str(export)), check=True, env=env)
            _log(f"exported {export.stat().st_size / 2**20:,.0f} MiB of N-Quads")

        def log_file(name: str) -> Any:
            logs.append((workdir / f"{name}.log").open("wb"))
            return logs[-1]

        def start_mlg(port: int) -> subprocess.Popen[bytes]:
            command = ["serve", "--store", str(store), "--port", str(port), "--threads", str(args.threads)]
            return subprocess.Popen(mlg_command(*command), stdout=log_file("mlg"), stderr=subprocess.STDOUT)

        def start_rdflib(port: int) -> subprocess.Popen[bytes]:
            command = [sys.executable, "-c", RDFLIB_SERVER, str(export), str(port)]
            return subprocess.Popen(command, stdout=log_file("rdflib"), stderr=subprocess.STDOUT)

        measured: dict[str, Measured] = {}
        measured["mlg"] = measure("mlg", start_mlg, probes, args, workdir, 120, "/readyz")
        if not args.no_reference:
            measured["reference"] = measure(
                "reference",
                lambda port: start_reference(store, workdir, port, cores, log_file("reference")),
                probes,
                args,
                workdir,
                120,
            )
        if not args.no_rdflib:
            _log("rdflib-endpoint loads the export")
            measured["rdflib"] = measure("rdflib", start_rdflib, probes, args, workdir, 3600)

        import pyoxigraph

        comparison, rows_match = table(measured, ancestors, picks)
        issue = "; ".join(
            f"{kind} ({target:,} ancestors): reference {ISSUE[kind][0]:,} vs rdflib {ISSUE[kind][1]:,} req/s "
            f"({ISSUE[kind][0] / ISSUE[kind][1]:.0f}x)"
            for kind, target in (("small", SMALL_ANCESTORS), ("deep", DEEP_ANCESTORS))
        )
        print(
            f"### SPARQL closures on a random DAG: {dag.nodes:,} datasets, {dag.edges:,} edges, "
            f"{cores} cores\n\n"
            f"Python {sys.version.split()[0]}, pyoxigraph {pyoxigraph.__version__}, "
            f"rdflib-endpoint {_version('rdflib-endpoint')}, {dt.date.today()}. "
            f"{dag.describe()}, one team owning all; admitted through the Gate "
            f"(store: {stored['datasets']:,} datasets, {stored['derivedFrom']:,} `mlg:derivedFrom`, "
            f"{stored['upstream']:,} materialised `mlg:upstream`); most ancestors of a node: "
            f"{max(counts):,}. Query: `SELECT ?a WHERE {{ <start> mlg:upstream+ ?a }}`, "
            f"`Accept: application/sparql-results+json`. Each closure alone: wrk, 1 thread, "
            f"{args.clients} connections, {args.seconds:.0f} s measured after a {args.warmup:.0f} s "
            f"warm-up (measured again, up to {args.max_seconds:.0f} s, when fewer than "
            f"{args.min_requests} requests completed: see the CPU table), one endpoint at a time, each "
            f"run once the server is idle; latencies from wrk's histogram, client-side.\n"
        )
        print(comparison + "\n")
        print(f"Issue #4's measurement on its 40k-edge DAG: {issue}.\n")
        print(cpu_table(measured, cores) + "\n")
        notes = [
            f"mlg serve: `mlg serve --store` defaults ({cores} workers), --threads {args.threads}; "
            f"first closure answered {measured['mlg'].ready:.1f} s after its start; RSS "
            f"{measured['mlg'].rss_mib:,.0f} MiB (all its processes) at the end."
        ]
        if "reference" in measured:
            notes.append(
                f"Reference: the issue's minimal Flask {_version('flask')} + pyoxigraph app "
                f"(`Store.read_only` of the same store, one `/sparql` route, SPARQL JSON) under gunicorn "
                f"{_version('gunicorn')} gthread, {cores} workers x {REFERENCE_THREADS} threads; RSS "
                f"{measured['reference'].rss_mib:,.0f} MiB."
            )
        if "rdflib" in measured:
            notes.append(
                f"rdflib-endpoint: uvicorn, `rdflib.Dataset(default_union=True)` of the `mlg export` "
                f"N-Quads ({export.stat().st_size / 2**20:,.0f} MiB), loaded and first answer in "
                f"{measured['rdflib'].ready:.0f} s; RSS {measured['rdflib'].rss_mib:,.0f} MiB."
            )
        notes.append(
            "Rows: the answer of each closure on every endpoint, checked against the ancestors "
            f"counted in Python: {'all equal' if rows_match else '**they differ**'}. "
            f"Whole script: {time.monotonic() - began:.0f} s."
        )
        print("\n\n".join(notes))
        return 0 if rows_match else 1
    finally:
        for log in logs:
            log.close()
        if args.workdir is None or not os.environ.get("MLG_BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
