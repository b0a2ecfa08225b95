"""Load on `mlg serve`: concurrent clients on loopback, next to rdflib-endpoint.

Run ``.venv/bin/python benchmarks/server_load.py`` (100k assets, 8 clients, 30 s) or
``--assets 10000 --seconds 15`` for a quick run; ``--store PATH`` keeps the store built
(and reuses it next time: it must have been built with the same ``--assets`` and
``--seed``, the probes come from the generator). The output is markdown; the targets of
issue #4 (item 11) are printed beside the measurements, never asserted.

What it does:

1. builds the synthetic graph (``benchmarks/generate.py``) into an on-disk store through
   :meth:`mlg.admission.Gate.admit`, as ``mlg load`` would, and exports it (``mlg export``);
2. starts ``mlg serve`` on it (127.0.0.1, a free port, ``MLG_UPDATE_TOKEN`` set) and runs
   ``--clients`` client *processes* (one keep-alive ``http.client`` connection each) for
   ``--seconds``, mixing small lineage API calls, a small and a deep ``mlg:upstream+``
   closure over ``/sparql``, and ~1% Graph Store PUTs of a small graph; the server's RSS
   (arbiter, gunicorn worker, query workers) is sampled every second;
3. runs each closure query alone against ``mlg serve`` and against ``rdflib-endpoint``
   (a benchmark-only dependency: ``pip install rdflib-endpoint``) serving the same quads
   under uvicorn, and prints the throughput ratio.

Client and server share the machine: the client's CPU time is printed next to the
server's, with the request rate the same clients reach on ``/healthz``, so a reader can
tell whether the load generator was the bottleneck.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generate import SyntheticGraph

TOKEN = "server-load-bench"
MLG = "https://w3id.org/mlg#"
TARGET_LINEAGE_RPS = 2_000
TARGET_LINEAGE_P95_MS = 20.0
TARGET_SMALL_RATIO = 5.0
TARGET_DEEP_RATIO = 30.0
MIX = {"lineage": 0.60, "sparql small": 0.25, "sparql deep": 0.14, "write": 0.01}
TICK = os.sysconf("SC_CLK_TCK")


def _log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- the store ----------------------------------------------------------------------------


def build_store(directory: Path, graph: SyntheticGraph) -> None:
    """Admit the whole graph as one submission (the Gate picks its bulk path when large)."""
    from mlg.admission import Gate, install_ontology
    from mlg.store import OxigraphStore

    store = OxigraphStore(directory)
    install_ontology(store)
    gate = Gate(store, graph.minter)
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 10:
            last[0] = time.perf_counter()
            _log(f"  validated {done:,}/{total:,} records ({time.perf_counter() - started:.0f}s)")

    outcome = gate.admit(graph.submission(), progress)
    if not outcome.ok:
        raise RuntimeError(f"admission was {outcome.status}: {outcome.report.counts()}")
    _log(f"built {outcome.assets:,} assets, {len(store):,} quads in {time.perf_counter() - started:.0f}s")
    store.close()


def mlg_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("mlg")), *args]


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before answering {path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no 200 from {path} in {timeout:.0f}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ppid_and_cpu(pid: int) -> tuple[int, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def process_tree(root: int) -> dict[int, int]:
    """pid -> depth below root (0 the root), by scanning /proc for parents."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = _ppid_and_cpu(int(entry))[0]
            except (OSError, IndexError, ValueError):
                continue
    depth = {root: 0}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if pid not in depth and parent in depth:
                depth[pid] = depth[parent] + 1
                changed = True
    return depth


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_cpu(root: int) -> float:
    total = 0.0
    for pid in process_tree(root):
        try:
            total += _ppid_and_cpu(pid)[1]
        except OSError:
            continue
    return total


class RssSampler(threading.Thread):
    """Every second: RSS of the server's arbiter, its worker(s) and their query workers."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.samples: list[tuple[float, float, float, float]] = []  # t, arbiter, workers, query workers
        self.halt = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.halt.is_set():
            by_depth = [0.0, 0.0, 0.0]
            for pid, depth in process_tree(self.root).items():
                by_depth[min(depth, 2)] += rss_mib(pid)
            self.samples.append((time.monotonic() - self.started_at, *by_depth))
            self.halt.wait(1.0)


# -- the clients --------------------------------------------------------------------------


@dataclass
class Workload:
    port: int
    kinds: dict[str, float]
    small: list[str]  # IRIs of ~10-ancestor nodes
    deep: str  # IRI of the ~1,000-ancestor node
    sparql_path: str = "/sparql"


def closure_query(iri: str) -> str:
    return f"PREFIX mlg: <{MLG}>\nSELECT ?a WHERE {{ <{iri}> mlg:upstream+ ?a }}"


def write_body(client: int, n: int) -> bytes:
    team = f"https://bench.example.org/team/load-{client}"
    model = f"https://bench.example.org/model/load-{client}-{n % 5}"
    return (
        f"@prefix mlg: <{MLG}> .\n"
        f'<{team}> a mlg:Team ; mlg:name "Load team {client}" .\n'
        f'<{model}> a mlg:Model ; mlg:name "Load model {client}/{n}" ; mlg:status "active" ;\n'
        f"    mlg:ownedBy <{team}> .\n"
    ).encode()


def _request(
    kind: str, work: Workload, rng: random.Random, client: int, n: int
) -> tuple[str, str, dict[str, str], bytes | None]:
    json_results = {"Accept": "application/sparql-results+json"}
    if kind == "lineage":
        iri = rng.choice(work.small)
        return "GET", f"/api/lineage/{urllib.parse.quote(iri, safe='')}?depth={rng.randint(1, 3)}", {}, None
    if kind == "sparql small":
        query = closure_query(rng.choice(work.small))
    elif kind == "sparql deep":
        query = closure_query(work.deep)
    elif kind == "write":
        graph = urllib.parse.quote(f"https://bench.example.org/graph/load-{client}-{n % 5}", safe="")
        headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}
        return "PUT", f"/store?graph={graph}", headers, write_body(client, n)
    elif kind == "healthz":
        return "GET", "/healthz", {}, None
    else:
        raise ValueError(kind)
    return "GET", f"{work.sparql_path}?{urllib.parse.urlencode({'query': query})}", json_results, None


def client(work: Workload, client_id: int, start: float, warmup: float, seconds: float) -> dict[str, Any]:
    """One client process: requests back to back on one keep-alive connection until the deadline.

    Returns per kind the latencies (ms) of requests that finished inside the measured
    window, and the statuses; the process's own CPU time of the window, too.
    """
    rng = random.Random(client_id)
    kinds, weights = list(work.kinds), list(work.kinds.values())
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    statuses: dict[str, Counter[str]] = {kind: Counter() for kind in kinds}
    conn = http.client.HTTPConnection("127.0.0.1", work.port, timeout=120)
    while time.time() < start:
        time.sleep(0.001)
    measuring_from, deadline = start + warmup, start + warmup + seconds
    cpu_at_start: float | None = None
    n = 0
    while True:
        now = time.time()
        if now >= deadline:
            break
        if cpu_at_start is None and now >= measuring_from:
            cpu_at_start = time.process_time()
        kind = rng.choices(kinds, weights)[0]
        method, path, headers, body = _request(kind, work, rng, client_id, n)
        n += 1
        began = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = str(response.status)
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", work.port, timeout=120)
        ended = time.time()
        if measuring_from <= ended <= deadline:
            latencies[kind].append((time.perf_counter() - began) * 1000)
            statuses[kind][status] += 1
    conn.close()
    return {
        "latencies": latencies,
        "statuses": {k: dict(v) for k, v in statuses.items()},
        "cpu": time.process_time() - (cpu_at_start if cpu_at_start is not None else time.process_time()),
    }


@dataclass
class Run:
    """One load phase: what the clients saw, and the CPU both sides used."""

    name: str
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def rps(self, kind: str | None = None) -> float:
        if kind is None:
            return sum(len(v) for v in self.latencies.values()) / self.seconds
        return len(self.latencies.get(kind, [])) / self.seconds


def run_load(name: str, work: Workload, clients: int, seconds: float, warmup: float, server_pid: int) -> Run:
    start = time.time() + 1.0  # every client connected and waiting
    with ProcessPoolExecutor(clients) as pool:
        futures = [pool.submit(client, work, i, start, warmup, seconds) for i in range(clients)]
        while time.time() < start + warmup:
            time.sleep(0.01)
        cpu_before = tree_cpu(server_pid)
        time.sleep(max(0.0, start + warmup + seconds - time.time()))
        cpu_after = tree_cpu(server_pid)
        results = [f.result() for f in futures]
    run = Run(name, seconds, server_cpu=cpu_after - cpu_before)
    for result in results:
        run.client_cpu += result["cpu"]
        for kind, values in result["latencies"].items():
            run.latencies.setdefault(kind, []).extend(values)
        for kind, counts in result["statuses"].items():
            run.statuses.setdefault(kind, Counter()).update(counts)
    _log(f"{name}: {run.rps():,.0f} req/s, statuses {dict(sum(run.statuses.values(), Counter()))}")
    return run


def count_rows(port: int, iri: str) -> int | str:
    """Rows of one closure answer: both endpoints must give the same before their rates compare.

    Tried up to three times a second apart; a failure before the success is kept in the
    answer (``10 (first: 400 ...)``) rather than hidden.
    """
    failures: list[str] = []
    for _ in range(3):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            query = urllib.parse.urlencode({"query": closure_query(iri)})
            conn.request("GET", f"/sparql?{query}", headers={"Accept": "application/sparql-results+json"})
            response = conn.getresponse()
            body = response.read()
            if response.status == 200:
                rows = len(json.loads(body)["results"]["bindings"])
                return f"{rows} (first: {failures[0]})" if failures else rows
            failures.append(f"{response.status} {body[:120].decode(errors='replace')!r}")
        except (OSError, ValueError, KeyError, http.client.HTTPException) as error:
            failures.append(type(error).__name__)
        finally:
            conn.close()
        time.sleep(1)
    _log(f"closure from {iri} on port {port} failed: {failures}")
    return "; ".join(failures)


# -- rdflib-endpoint ----------------------------------------------------------------------

RDFLIB_SERVER = """
import sys, time, rdflib, uvicorn
from rdflib_endpoint import SparqlEndpoint
started = time.perf_counter()
dataset = rdflib.Dataset(default_union=True)
dataset.parse(sys.argv[1], format="nquads")
seconds = time.perf_counter() - started
print(f"rdflib: {len(dataset):,} quads in {seconds:.0f}s", file=sys.stderr, flush=True)
app = SparqlEndpoint(graph=dataset, path="/sparql", public_url=f"http://127.0.0.1:{sys.argv[2]}/sparql")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


# -- reporting ----------------------------------------------------------------------------


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def load_table(run: Run, clients: int, cores: int) -> str:
    lines = [
        f"#### {run.name}: {clients} clients, {run.seconds:.0f} s measured",
        "",
        "| request | requests/s | p50 ms | p95 ms | p99 ms | statuses | target |",
        "|---|--:|--:|--:|--:|---|---|",
    ]
    for kind, values in run.latencies.items():
        target = ""
        if kind == "lineage":
            ok = run.rps(kind) >= TARGET_LINEAGE_RPS and pct(values, 0.95) < TARGET_LINEAGE_P95_MS
            target = (
                f"≥ {TARGET_LINEAGE_RPS:,}/s, p95 < {TARGET_LINEAGE_P95_MS:.0f} ms "
                f"(alone, {cores} cores): {met(ok)}"
            )
        statuses = ", ".join(f"{s} x{c:,}" for s, c in sorted(run.statuses.get(kind, {}).items()))
        lines.append(
            f"| {kind} | {run.rps(kind):,.1f} | {pct(values, 0.5):,.1f} | {pct(values, 0.95):,.1f} "
            f"| {pct(values, 0.99):,.1f} | {statuses} | {target} |"
        )
    everything = [v for values in run.latencies.values() for v in values]
    errors = sum(c for counts in run.statuses.values() for s, c in counts.items() if not s.startswith("2"))
    lines.append(
        f"| **all** | **{run.rps():,.1f}** | {pct(everything, 0.5):,.1f} | {pct(everything, 0.95):,.1f} "
        f"| {pct(everything, 0.99):,.1f} | {errors:,} errors | zero errors: {met(errors == 0)} |"
    )
    lines += [
        "",
        f"CPU over the window: server {run.server_cpu / run.seconds:.2f} cores, "
        f"load generator {run.client_cpu / run.seconds:.2f} cores (of {cores}).",
    ]
    return "\n".join(lines)


def rss_table(samples: list[tuple[float, float, float, float]]) -> str:
    if not samples:
        return "(no RSS samples)"
    picks = {"start": samples[0], "middle": samples[len(samples) // 2], "end": samples[-1]}
    peak = max(samples, key=lambda s: s[1] + s[2] + s[3])
    picks["max (total)"] = peak
    lines = [
        "| when | s | arbiter MiB | gunicorn worker MiB | query workers MiB | total MiB |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for label, (t, arbiter, worker, queries) in picks.items():
        lines.append(
            f"| {label} | {t:.0f} | {arbiter:,.0f} | {worker:,.0f} | {queries:,.0f} "
            f"| {arbiter + worker + queries:,.0f} |"
        )
    return "\n".join(lines)


def compare_table(runs: dict[tuple[str, str], Run], rows: dict[tuple[str, str], Any]) -> str:
    lines = [
        "| query | rows mlg / rdflib | mlg req/s | mlg p50 / p95 ms | rdflib-endpoint req/s "
        "| rdflib p50 / p95 ms | mlg / rdflib | target |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for kind, target in (("sparql small", TARGET_SMALL_RATIO), ("sparql deep", TARGET_DEEP_RATIO)):
        ours, theirs = runs.get(("mlg", kind)), runs.get(("rdflib", kind))
        if ours is None or theirs is None:
            continue
        a, b = ours.latencies.get(kind, []), theirs.latencies.get(kind, [])
        ratio = ours.rps(kind) / theirs.rps(kind) if theirs.rps(kind) else float("inf")
        bad = sum(c for s, c in theirs.statuses.get(kind, {}).items() if not s.startswith("2"))
        note = f" ({bad} rdflib errors)" if bad else ""
        lines.append(
            f"| {kind} | {rows.get(('mlg', kind), '?')} / {rows.get(('rdflib', kind), '?')} "
            f"| {ours.rps(kind):,.1f} | {pct(a, 0.5):,.1f} / {pct(a, 0.95):,.1f} "
            f"| {theirs.rps(kind):,.2f} | {pct(b, 0.5):,.1f} / {pct(b, 0.95):,.1f} "
            f"| {ratio:,.1f}x{note} | ≥ {target:.0f}x: {met(ratio >= target)} |"
        )
    return "\n".join(lines)


# -- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, help="build the store here, or reuse it if it exists")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds of the mixed load")
    parser.add_argument(
        "--compare-seconds", type=float, default=10.0, help="measured seconds of each single-query run"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each run")
    parser.add_argument("--threads", type=int, default=8, help="mlg serve --threads")
    parser.add_argument("--no-rdflib", action="store_true", help="skip the rdflib-endpoint comparison")
    parser.add_argument("--workdir", help="for the temporary store and export")
    args = parser.parse_args(argv)

    cores = os.cpu_count() or 1
    workdir = Path(tempfile.mkdtemp(prefix="mlg-bench-load-", dir=args.workdir))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        graph = SyntheticGraph(args.assets, seed=args.seed)
        found = graph.probes((6, 8, 10, 12, 15, 1000))
        small = sorted({p.iri.value: p.ancestors for p in found[:-2]}.items())
        deep = found[-2]
        _log(
            f"{graph.assets:,} assets; small probes {[a for _, a in small]} ancestors; "
            f"deep {deep.ancestors:,}"
        )

        store = args.store or workdir / "store"
        if store.exists() and any(store.iterdir()):
            _log(f"reusing the store at {store}")
        else:
            store.mkdir(parents=True, exist_ok=True)
            _log(f"building the store at {store} (100k assets take a few minutes)")
            build_store(store, graph)
        export = workdir / "export.nq"
        if not args.no_rdflib:
            subprocess.run(
                mlg_command("export", "-o", str(export)),
                check=True,
                env=os.environ | {"MLG_STORE": str(store)},
            )
            _log(f"exported {export.stat().st_size / 2**20:,.0f} MiB of N-Quads")

        port = free_port()
        env = os.environ | {"MLG_UPDATE_TOKEN": TOKEN}
        log = (workdir / "mlg-serve.log").open("wb")
        server = subprocess.Popen(
            mlg_command("serve", "--store", str(store), "--port", str(port), "--threads", str(args.threads)),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(server)
        wait_ready(port, "/readyz", server, 120)
        work = Workload(port, MIX, [iri for iri, _ in small], deep.iri.value)
        rows = {
            ("mlg", "sparql small"): count_rows(port, work.small[0]),
            ("mlg", "sparql deep"): count_rows(port, work.deep),
        }
        sampler = RssSampler(server.pid)
        sampler.start()

        ceiling = run_load(
            "healthz", Workload(port, {"healthz": 1.0}, [], ""), args.clients, 3, 1, server.pid
        )
        mixed = run_load("mixed", work, args.clients, args.seconds, args.warmup, server.pid)
        alone = {
            kind: run_load(
                f"{kind} alone",
                Workload(port, {kind: 1.0}, work.small, work.deep),
                args.clients,
                args.compare_seconds,
                args.warmup,
                server.pid,
            )
            for kind in ("lineage", "sparql small", "sparql deep")
        }
        sampler.halt.set()
        sampler.join()
        stop(server)
        log.close()

        compared: dict[tuple[str, str], Run] = {("mlg", k): r for k, r in alone.items()}
        rdflib_note = ""
        if not args.no_rdflib:
            rport = free_port()
            rlog = (workdir / "rdflib.log").open("wb")
            reference = subprocess.Popen(
                [sys.executable, "-c", RDFLIB_SERVER, str(export), str(rport)],
                stdout=rlog,
                stderr=subprocess.STDOUT,
            )
            processes.append(reference)
            _log("loading the export into rdflib-endpoint")
            query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
            loaded = time.monotonic()
            wait_ready(rport, f"/sparql?{query}", reference, 3600)
            rdflib_note = f"rdflib loaded the export in {time.monotonic() - loaded:.0f} s; "
            rows |= {
                ("rdflib", "sparql small"): count_rows(rport, work.small[0]),
                ("rdflib", "sparql deep"): count_rows(rport, work.deep),
            }
            rwork = Workload(rport, {}, work.small, work.deep, sparql_path="/sparql")
            for kind in ("sparql small", "sparql deep"):
                rwork.kinds = {kind: 1.0}
                compared[("rdflib", kind)] = run_load(
                    f"rdflib {kind}", rwork, args.clients, args.compare_seconds, args.warmup, reference.pid
                )
            rdflib_note += f"rdflib-endpoint RSS {rss_mib(reference.pid):,.0f} MiB."
            stop(reference)
            rlog.close()

        import pyoxigraph

        print(
            f"### mlg serve under load: {graph.assets:,} assets, {cores} cores, {args.clients} client "
            f"processes, --threads {args.threads}\n\n"
            f"Python {sys.version.split()[0]}, pyoxigraph {pyoxigraph.__version__}, "
            f"{dt.date.today()}. Small lineage: `/api/lineage/<iri>?depth=1..3` of {len(small)} nodes with "
            f"{', '.join(str(a) for _, a in small)} ancestors; small closure: `mlg:upstream+` from the same; "
            f"deep closure: from the node with {deep.ancestors:,} ancestors; writes: Graph Store PUT of a "
            f"4-triple graph. Mix {', '.join(f'{k} {v:.0%}' for k, v in MIX.items())}. Latencies are "
            "client-side, whole response read.\n"
        )
        print(load_table(mixed, args.clients, cores) + "\n")
        for run in alone.values():
            print(load_table(run, args.clients, cores) + "\n")
        print(
            f"Load generator ceiling: the same {args.clients} client processes reach "
            f"{ceiling.rps():,.0f} req/s on `/healthz` "
            f"(client {ceiling.client_cpu / ceiling.seconds:.2f} cores, "
            f"server {ceiling.server_cpu / ceiling.seconds:.2f} cores).\n"
        )
        print(
            "Server RSS (sampled every second over all mlg runs; arbiter, its gunicorn worker, "
            "the query workers):\n"
        )
        print(rss_table(sampler.samples) + "\n")
        if not args.no_rdflib:
            print(
                f"#### SPARQL closures alone, mlg serve vs rdflib-endpoint {_version('rdflib-endpoint')} "
                f"(uvicorn, same quads, {args.compare_seconds:.0f} s each)\n"
            )
            print(compare_table(compared, rows) + "\n")
            print(
                rdflib_note
                + " Rows: the answer to the deep closure and to the first small one, checked on both."
            )
        return 0
    finally:
        for process in processes:
            stop(process)
        if args.workdir is None or not os.environ.get("MLG_BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
