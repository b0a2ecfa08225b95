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
   the *mixed* load: ``--clients`` Python client *processes* (one keep-alive
   ``http.client`` connection each) for ``--seconds`` after ``--warmup``, mixing lineage
   API calls, tiny ``mlg:upstream+`` closures over ``/sparql``, deep closures and ~1%
   Graph Store PUTs of a small graph (Python clients, because the mix needs latencies per
   request type); the server's RSS (arbiter, gunicorn worker, query workers) is sampled
   every second over all runs against mlg;
3. runs each request type *alone* against ``mlg serve`` for ``--compare-seconds``:
   lineage, then the tiny, small and deep closures;
4. once ``mlg serve`` has stopped (nothing else loading the machine), the three closures
   alone against the *reference*: the minimal app of the issue's measurement
   (``REFERENCE_APP``: ``pyoxigraph.Store.read_only`` of the same store directory, one
   Flask route ``GET /sparql?query=`` that runs the query over the union graph and
   returns SPARQL JSON; no timeout, guard, negotiation or logging) under gunicorn
   (``gthread``, one worker a core, 4 threads each); ``--no-reference`` skips it;
5. then the three closures alone against ``rdflib-endpoint`` (a benchmark-only
   dependency: ``pip install rdflib-endpoint``) serving the same quads under uvicorn
   (``--no-rdflib`` skips it), and prints the throughput ratios: mlg / rdflib-endpoint
   (the targets), mlg / reference (how much of the bare app's throughput mlg keeps), and
   under the table the reference's own ratio to rdflib-endpoint (what the bare app reaches
   on this store, i.e. whether the targets are reachable on this data at all); the rows
   of each answer are checked on every endpoint.

The probes, all from the generator's probe team: *lineage* is
``/api/lineage/<iri>?depth=1..3`` over 32 nodes with 6-15 ancestors; the *tiny* closure
starts from the same 32 nodes (informational next to rdflib); the *small* one from a node
with ~58 ancestors (the issue's reference measurement; target ≥ 5x rdflib-endpoint); the
*deep* one from the node with ~1,000 ancestors (target ≥ 30x).

Load generator of the single-type runs: ``wrk`` when it is on ``PATH`` (``apt-get install
wrk``; ``--load-generator python`` forces the Python clients). It runs with one thread and
``--clients`` connections; a Lua script written for each run cycles through the requests
of that type (for lineage every probe IRI x depth 1..3, for closures the ``GET
/sparql?query=...`` of each start node, with ``Accept: application/sparql-results+json``)
and its ``done()`` writes one JSON line: requests, duration, p50/p95/p99 latency (wrk's
own histogram, so latencies of single-type runs come from wrk, not from Python lists),
responses with status ≥ 400, socket errors. Warm-up: a separate, unmeasured wrk run of
``--warmup`` seconds (whole seconds, as wrk takes them) precedes each measured run. wrk's
CPU is ``getrusage(RUSAGE_CHILDREN)`` over the measured run; the server's is the CPU its
process tree used over the same window (``/proc``). Without wrk the Python clients run
these, too, and the numbers are bounded by them (~0.3-0.5 ms of client CPU a request on
the same cores): the output says so.

Client and server share the machine: the load generator's CPU time is printed next to
the server's, with the rate the generator reaches on ``/healthz`` (the Python clients
always, as they drive the mixed run; wrk too when it drives the single-type runs), so a
reader can tell whether the load generator was the bottleneck.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import random
import resource
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

from generate import Probe, SyntheticGraph

TOKEN = "server-load-bench"
MLG = "https://w3id.org/mlg#"
TARGET_LINEAGE_RPS = 2_000
TARGET_LINEAGE_P95_MS = 20.0
TARGET_SMALL_RATIO = 5.0
TARGET_DEEP_RATIO = 30.0
LINEAGE_NODES = 32  # nodes with TINY_ANCESTORS ancestors: lineage API and tiny closures
TINY_ANCESTORS = (6, 15)
SMALL_ANCESTORS = 58  # the reference "small" closure
DEEP_ANCESTORS = 1_000
CLOSURES = ("sparql tiny", "sparql small", "sparql deep")
MIX = {"lineage": 0.60, "sparql tiny": 0.25, "sparql deep": 0.14, "write": 0.01}
QUANTILES = (0.5, 0.95, 0.99)
ALL = "all"  # Run.percentiles key of every request together
TICK = os.sysconf("SC_CLK_TCK")
JSON_RESULTS = {"Accept": "application/sparql-results+json"}
PYTHON_BOUND_NOTE = (
    "Load generator: Python clients (wrk not used), so the single-type rates are bounded by "
    "the load generator; install wrk (`apt-get install wrk`) for the real ceiling."
)


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


# -- the probes ---------------------------------------------------------------------------


@dataclass
class Probes:
    """Start nodes of the requests, with their ancestor counts in the generated graph."""

    lineage: list[tuple[str, int]]  # the lineage API and the tiny closures
    small: Probe
    deep: Probe

    @classmethod
    def of(cls, graph: SyntheticGraph, nodes: int = LINEAGE_NODES) -> Probes:
        small, deep, _ = graph.probes((SMALL_ANCESTORS, DEEP_ANCESTORS))
        index: dict[Any, Any] = {}
        low, high = TINY_ANCESTORS
        sizes = (
            (node.iri.value, graph.ancestors(node.iri, index)) for node in graph.team(graph.probe_team())
        )
        candidates = sorted((iri, n) for iri, n in sizes if low <= n <= high)
        if not candidates:
            raise RuntimeError(f"no node of the probe team has {low}-{high} ancestors")
        step = max(1.0, len(candidates) / nodes)  # spread over the IRIs: kinds and depths mix
        picked = [candidates[math.floor(i * step)] for i in range(min(nodes, len(candidates)))]
        return cls(picked, small, deep)

    def closures(self) -> dict[str, list[str]]:
        return {
            "sparql tiny": [iri for iri, _ in self.lineage],
            "sparql small": [self.small.iri.value],
            "sparql deep": [self.deep.iri.value],
        }

    def describe(self, kind: str) -> str:
        if kind == "sparql tiny":
            low, high = TINY_ANCESTORS
            total = sum(n for _, n in self.lineage)
            return f"{len(self.lineage)} nodes, {low}-{high} ancestors, {total:,} in all"
        probe = self.small if kind == "sparql small" else self.deep
        return f"{probe.ancestors:,} ancestors"


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
    """Parent pid, and CPU seconds of the process with its waited-for children (utime to cstime).

    Counting reaped children keeps a tree's total from dropping when a query worker exits.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICK


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


def children_cpu() -> float:
    """CPU seconds of this process's reaped children (wrk, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class RssSampler(threading.Thread):
    """Every second: RSS of the server's arbiter, its children (workers, writer), their query processes."""

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


# -- the requests -------------------------------------------------------------------------


@dataclass
class Workload:
    port: int
    kinds: dict[str, float]
    lineage: list[str]  # IRIs of the lineage API probes
    closures: dict[str, list[str]]  # closure kind -> the IRIs its closures start from
    sparql_path: str = "/sparql"


def closure_query(iri: str) -> str:
    return f"PREFIX mlg: <{MLG}>\nSELECT ?a WHERE {{ <{iri}> mlg:upstream+ ?a }}"


def lineage_path(iri: str, depth: int) -> str:
    return f"/api/lineage/{urllib.parse.quote(iri, safe='')}?depth={depth}"


def closure_path(work: Workload, iri: str) -> str:
    return f"{work.sparql_path}?{urllib.parse.urlencode({'query': closure_query(iri)})}"


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
    if kind == "lineage":
        return "GET", lineage_path(rng.choice(work.lineage), rng.randint(1, 3)), {}, None
    if kind in work.closures:
        return "GET", closure_path(work, rng.choice(work.closures[kind])), JSON_RESULTS, None
    if kind == "write":
        graph = urllib.parse.quote(f"https://bench.example.org/graph/load-{client}-{n % 5}", safe="")
        headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}
        return "PUT", f"/store?graph={graph}", headers, write_body(client, n)
    if kind == "healthz":
        return "GET", "/healthz", {}, None
    raise ValueError(kind)


def cycle(kind: str, work: Workload) -> tuple[list[str], dict[str, str]]:
    """Every GET path of one request type (what a wrk run cycles through), and its headers."""
    if kind == "lineage":
        return [lineage_path(iri, depth) for iri in work.lineage for depth in (1, 2, 3)], {}
    if kind in work.closures:
        return [closure_path(work, iri) for iri in work.closures[kind]], JSON_RESULTS
    if kind == "healthz":
        return ["/healthz"], {}
    raise ValueError(f"{kind} cannot run under wrk")


# -- runs -----------------------------------------------------------------------------------


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass
class Run:
    """One load phase: what the load generator saw, and the CPU both sides used.

    Per request type the requests finished in the window, latency percentiles (ms,
    ``QUANTILES``; key ``ALL`` for every request together) and statuses (HTTP codes, or
    error names; wrk reports ``2xx`` for responses below 400).
    """

    name: str
    seconds: float
    generator: str
    counts: dict[str, int] = field(default_factory=dict)
    percentiles: dict[str, dict[float, float]] = field(default_factory=dict)
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def rps(self, kind: str | None = None) -> float:
        if kind is None:
            return sum(self.counts.values()) / self.seconds
        return self.counts.get(kind, 0) / self.seconds

    def pct(self, kind: str, fraction: float) -> float:
        return self.percentiles.get(kind, {}).get(fraction, float("nan"))

    def errors(self, kind: str | None = None) -> int:
        chosen = self.statuses.values() if kind is None else [self.statuses.get(kind, Counter())]
        return sum(c for counts in chosen for s, c in counts.items() if not s.startswith("2"))

    def log(self) -> None:
        statuses = dict(sum(self.statuses.values(), Counter()))
        _log(f"{self.name} ({self.generator}): {self.rps():,.0f} req/s, statuses {statuses}")


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


def run_python(
    name: str, work: Workload, clients: int, seconds: float, warmup: float, server_pid: int
) -> Run:
    """``clients`` Python client processes for ``warmup`` + ``seconds``; the window measured."""
    start = time.time() + 1.0  # every client connected and waiting
    with ProcessPoolExecutor(clients) as pool:
        futures = [pool.submit(client, work, i, start, warmup, seconds) for i in range(clients)]
        while time.time() < start + warmup:
            time.sleep(0.01)
        cpu_before = tree_cpu(server_pid)
        time.sleep(max(0.0, start + warmup + seconds - time.time()))
        cpu_after = tree_cpu(server_pid)
        results = [f.result() for f in futures]
    run = Run(name, seconds, "python", server_cpu=cpu_after - cpu_before)
    latencies: dict[str, list[float]] = {}
    for result in results:
        run.client_cpu += result["cpu"]
        for kind, values in result["latencies"].items():
            latencies.setdefault(kind, []).extend(values)
        for kind, counts in result["statuses"].items():
            run.statuses.setdefault(kind, Counter()).update(counts)
    latencies[ALL] = [v for values in latencies.values() for v in values]
    for kind, values in latencies.items():
        if kind != ALL:
            run.counts[kind] = len(values)
        run.percentiles[kind] = {q: pct(values, q) for q in QUANTILES}
    run.log()
    return run


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string literal


WRK_SCRIPT = """\
-- written by benchmarks/server_load.py: cycles through the requests of one type
local paths = {{ {paths} }}
local headers = {{ {headers} }}
local requests_ = {{}}
local n = 0

function init(args)
  for i, path in ipairs(paths) do
    local copy = {{}}
    for k, v in pairs(headers) do copy[k] = v end
    requests_[i] = wrk.format("GET", path, copy)
  end
end

function request()
  n = n % #requests_ + 1
  return requests_[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = io.open({out}, "w")
  out:write(string.format(
    '{{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
  out:close()
end
"""


def wrk_script(kind: str, work: Workload, out: Path) -> str:
    paths, headers = cycle(kind, work)
    return WRK_SCRIPT.format(
        paths=", ".join(_lua_string(p) for p in paths),
        headers=", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()),
        out=_lua_string(str(out)),
    )


def _wrk(script: Path, clients: int, seconds: int, port: int) -> subprocess.CompletedProcess[str]:
    command = [
        "wrk",
        "-t1",
        f"-c{clients}",
        f"-d{seconds}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def run_wrk(
    name: str,
    work: Workload,
    kind: str,
    clients: int,
    seconds: float,
    warmup: float,
    server_pid: int,
    scratch: Path,
) -> Run:
    """wrk (one thread, ``clients`` connections) on one request type: a warm-up run, then the measured one."""
    slug = "".join(c if c.isalnum() else "-" for c in name)
    script, out = scratch / f"{slug}.lua", scratch / f"{slug}.json"
    script.write_text(wrk_script(kind, work, out))
    if warmup > 0:
        _wrk(script, clients, max(1, round(warmup)), work.port)
    out.unlink(missing_ok=True)
    cpu_before, server_before = children_cpu(), tree_cpu(server_pid)
    done = _wrk(script, clients, max(1, round(seconds)), work.port)
    server_cpu, client_cpu = tree_cpu(server_pid) - server_before, children_cpu() - cpu_before
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    result = json.loads(out.read_text())
    run = Run(name, result["duration_us"] / 1e6, "wrk", client_cpu=client_cpu, server_cpu=server_cpu)
    run.counts[kind] = answered = result["requests"]
    run.percentiles[kind] = run.percentiles[ALL] = {
        q: result[f"p{round(q * 100)}_us"] / 1000 if answered else float("nan") for q in QUANTILES
    }
    statuses = Counter({"2xx": result["requests"] - result["status"], "≥400": result["status"]})
    statuses.update({f"{e} errors": result[e] for e in ("connect", "read", "write", "timeout")})
    run.statuses[kind] = +statuses  # the zero counts dropped
    run.log()
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
            conn.request("GET", f"/sparql?{query}", headers=JSON_RESULTS)
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


def count_all_rows(port: int, iris: list[str]) -> int | str:
    """Rows of the closures from each of ``iris``, added up; else the first answer not a count."""
    total = 0
    for iri in iris:
        answer = count_rows(port, iri)
        if not isinstance(answer, int):
            return answer  # the others would most likely fail alike: not worth their retries
        total += answer
    return total


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


# -- the reference: the minimal Flask + pyoxigraph app ---------------------------

REFERENCE_MODULE = "reference_app"  # written into the workdir; gunicorn --chdir there
REFERENCE_THREADS = 4
REFERENCE_APP = """
import pyoxigraph
from flask import Flask, Response, request

store = pyoxigraph.Store.read_only(STORE)
app = Flask(__name__)


@app.get("/sparql")
def sparql():
    results = store.query(request.args["query"], use_default_graph_as_union=True)
    return Response(
        results.serialize(format=pyoxigraph.QueryResultsFormat.JSON),
        mimetype="application/sparql-results+json",
    )
"""


def start_reference(store: Path, workdir: Path, port: int, workers: int, log: Any) -> subprocess.Popen[bytes]:
    """gunicorn (gthread, ``workers`` x REFERENCE_THREADS) on REFERENCE_APP over ``store``.

    Each worker opens the store read-only at import: only while no writer (``mlg serve``)
    holds it, as RocksDB gives no guarantee to a read-only instance next to a writer.
    """
    module = workdir / f"{REFERENCE_MODULE}.py"
    module.write_text(f"STORE = {str(store.resolve())!r}\n" + REFERENCE_APP)
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--chdir",
        str(workdir),
        "-k",
        "gthread",
        "-w",
        str(workers),
        "--threads",
        str(REFERENCE_THREADS),
        "-b",
        f"127.0.0.1:{port}",
        f"{REFERENCE_MODULE}:app",
    ]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    """Wait for the processes ``pids`` (a stopped server's tree) to exit; those still alive."""
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _running(pid)]
        if alive:
            time.sleep(0.1)
    return alive


# -- reporting ----------------------------------------------------------------------------


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def load_table(run: Run, clients: int, cores: int) -> str:
    generator = (
        f"wrk, 1 thread, {clients} connections" if run.generator == "wrk" else f"{clients} Python clients"
    )
    lines = [
        f"#### {run.name}: {generator}, {run.seconds:.0f} s measured",
        "",
        "| request | requests/s | p50 ms | p95 ms | p99 ms | statuses | target |",
        "|---|--:|--:|--:|--:|---|---|",
    ]
    for kind in run.counts:
        target = ""
        if kind == "lineage":
            ok = run.rps(kind) >= TARGET_LINEAGE_RPS and run.pct(kind, 0.95) < TARGET_LINEAGE_P95_MS
            target = (
                f"≥ {TARGET_LINEAGE_RPS:,}/s, p95 < {TARGET_LINEAGE_P95_MS:.0f} ms "
                f"(alone, {cores} cores): {met(ok)}"
            )
        statuses = ", ".join(f"{s} x{c:,}" for s, c in sorted(run.statuses.get(kind, {}).items()))
        lines.append(
            f"| {kind} | {run.rps(kind):,.1f} | {run.pct(kind, 0.5):,.1f} | {run.pct(kind, 0.95):,.1f} "
            f"| {run.pct(kind, 0.99):,.1f} | {statuses} | {target} |"
        )
    errors = run.errors()
    lines.append(
        f"| **all** | **{run.rps():,.1f}** | {run.pct(ALL, 0.5):,.1f} | {run.pct(ALL, 0.95):,.1f} "
        f"| {run.pct(ALL, 0.99):,.1f} | {errors:,} errors | zero errors: {met(errors == 0)} |"
    )
    lines += [
        "",
        f"CPU over the window: server {run.server_cpu / run.seconds:.2f} cores, "
        f"load generator ({run.generator}) {run.client_cpu / run.seconds:.2f} cores (of {cores}).",
    ]
    return "\n".join(lines)


def rss_table(samples: list[tuple[float, float, float, float]]) -> str:
    if not samples:
        return "(no RSS samples)"
    picks = {"start": samples[0], "middle": samples[len(samples) // 2], "end": samples[-1]}
    peak = max(samples, key=lambda s: s[1] + s[2] + s[3])
    picks["max (total)"] = peak
    lines = [
        "| when | s | arbiter MiB | gunicorn workers and writer MiB | query processes MiB | total MiB |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for label, (t, arbiter, worker, queries) in picks.items():
        lines.append(
            f"| {label} | {t:.0f} | {arbiter:,.0f} | {worker:,.0f} | {queries:,.0f} "
            f"| {arbiter + worker + queries:,.0f} |"
        )
    return "\n".join(lines)


def _short(answer: Any, limit: int = 60) -> str:
    text = str(answer)
    return text if len(text) <= limit else text[: limit - 1] + "…"


SIDES = {"mlg": "mlg", "reference": "reference", "rdflib": "rdflib"}  # key -> column label


def _ratio(runs: dict[tuple[str, str], Run], kind: str, ours: str, theirs: str) -> float | None:
    """req/s of ``ours`` over ``theirs`` on one closure, or None when either did not run."""
    a, b = runs.get((ours, kind)), runs.get((theirs, kind))
    if a is None or b is None:
        return None
    return a.rps(kind) / b.rps(kind) if b.rps(kind) else float("inf")


def compare_table(runs: dict[tuple[str, str], Run], rows: dict[tuple[str, str], Any], probes: Probes) -> str:
    """Closures alone on mlg serve, the reference app and rdflib-endpoint; "n/a" where one did not run.

    The targets are on mlg / rdflib-endpoint; mlg / reference is how much of the bare
    app's throughput mlg keeps.
    """
    sides = [side for side in SIDES if any(key[0] == side for key in runs)]
    head = "| closure | start | rows " + " / ".join(SIDES[side] for side in sides) + " "
    head += "".join(f"| {SIDES[side]} req/s | {SIDES[side]} p50 / p95 ms " for side in sides)
    head += "| mlg / reference | mlg / rdflib | target |"
    lines = [head, "|---|---|--:|" + "--:|--:|" * len(sides) + "--:|--:|---|"]
    targets = {"sparql tiny": None, "sparql small": TARGET_SMALL_RATIO, "sparql deep": TARGET_DEEP_RATIO}
    for kind, target in targets.items():
        if ("mlg", kind) not in runs:
            continue
        answers = [_short(rows.get((side, kind), "?"), 40) for side in sides]
        same = "" if len(set(answers)) == 1 else " **differ**"
        cells = ""
        for side in sides:
            run = runs.get((side, kind))
            cells += (
                "| n/a | n/a "
                if run is None
                else f"| {run.rps(kind):,.1f} | {run.pct(kind, 0.5):,.1f} / {run.pct(kind, 0.95):,.1f} "
            )
        errors = {side: run.errors(kind) for (side, k), run in runs.items() if k == kind}
        note = "".join(f" ({n:,} {SIDES[side]} errors)" for side, n in errors.items() if n)
        to_reference, to_rdflib = _ratio(runs, kind, "mlg", "reference"), _ratio(runs, kind, "mlg", "rdflib")
        if target is None:
            verdict = "informational"
        elif to_rdflib is None:
            verdict = f"≥ {target:.0f}x vs rdflib: not measured"
        else:
            verdict = f"≥ {target:.0f}x: {met(to_rdflib >= target)}"
        lines.append(
            f"| {kind.removeprefix('sparql ')} | {probes.describe(kind)} | {' / '.join(answers)}{same} "
            f"{cells}| {_times(to_reference, 2)} | {_times(to_rdflib, 1)}{note} | {verdict} |"
        )
    return "\n".join(lines)


def _times(ratio: float | None, digits: int) -> str:
    return "n/a" if ratio is None else f"{ratio:,.{digits}f}x"


def reference_line(runs: dict[tuple[str, str], Run]) -> str:
    """What the bare app reaches against rdflib-endpoint on this store: can mlg meet its targets here?"""
    parts = []
    targets = {"sparql tiny": None, "sparql small": TARGET_SMALL_RATIO, "sparql deep": TARGET_DEEP_RATIO}
    for kind, target in targets.items():
        ratio = _ratio(runs, kind, "reference", "rdflib")
        if ratio is None:
            continue
        if target is None:
            reach = ""
        else:
            within = "within" if ratio >= target else "**beyond**"
            reach = f" (mlg's target ≥ {target:.0f}x: {within} the bare app's reach)"
        parts.append(f"{kind.removeprefix('sparql ')} {ratio:,.1f}x{reach}")
    if not parts:
        return ""
    return "Reference / rdflib-endpoint (what the bare app reaches on this store): " + "; ".join(parts) + "."


# -- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--store", type=Path, help="build the store here, or reuse it if it exists")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (wrk: connections)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds of the mixed load")
    parser.add_argument(
        "--compare-seconds", type=float, default=10.0, help="measured seconds of each single-type run"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each run")
    parser.add_argument(
        "--threads", type=int, default=4, help="mlg serve --threads (threads per worker process)"
    )
    parser.add_argument(
        "--load-generator",
        choices=("wrk", "python"),
        help="of the single-type runs (the mixed run is always Python): wrk when it is on PATH",
    )
    parser.add_argument("--no-rdflib", action="store_true", help="skip the rdflib-endpoint comparison")
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip the minimal Flask + pyoxigraph app (gunicorn) of the closure comparison",
    )
    parser.add_argument("--workdir", help="for the temporary store and export")
    args = parser.parse_args(argv)

    generator = args.load_generator or ("wrk" if shutil.which("wrk") else "python")
    if generator == "wrk" and not shutil.which("wrk"):
        parser.error("--load-generator wrk: wrk is not on PATH (apt-get install wrk)")
    if generator == "python":
        _log(PYTHON_BOUND_NOTE)
    if not args.no_reference and not Path(sys.executable).with_name("gunicorn").exists():
        parser.error(f"no gunicorn next to {sys.executable} for the reference app (or --no-reference)")

    cores = os.cpu_count() or 1
    workdir = Path(tempfile.mkdtemp(prefix="mlg-bench-load-", dir=args.workdir))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        graph = SyntheticGraph(args.assets, seed=args.seed)
        probes = Probes.of(graph)
        _log(
            f"{graph.assets:,} assets; {len(probes.lineage)} lineage probes with "
            f"{sorted({n for _, n in probes.lineage})} ancestors; small {probes.small.ancestors:,}, "
            f"deep {probes.deep.ancestors:,}"
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

        def alone(name: str, port: int, kind: str, pid: int, seconds: float, warmup: float) -> Run:
            work = Workload(port, {kind: 1.0}, [iri for iri, _ in probes.lineage], probes.closures())
            if generator == "wrk":
                return run_wrk(name, work, kind, args.clients, seconds, warmup, pid, workdir)
            return run_python(name, work, args.clients, seconds, warmup, pid)

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
        work = Workload(port, MIX, [iri for iri, _ in probes.lineage], probes.closures())
        rows: dict[tuple[str, str], Any] = {
            ("mlg", k): count_all_rows(port, v) for k, v in work.closures.items()
        }
        sampler = RssSampler(server.pid)
        sampler.start()

        python_ceiling = run_python(
            "healthz", Workload(port, {"healthz": 1.0}, [], {}), args.clients, 3, 1, server.pid
        )
        ceiling = python_ceiling
        if generator == "wrk":
            ceiling = alone("healthz", port, "healthz", server.pid, 3, 1)
        mixed = run_python("mixed", work, args.clients, args.seconds, args.warmup, server.pid)
        single = {
            kind: alone(f"{kind} alone", port, kind, server.pid, args.compare_seconds, args.warmup)
            for kind in ("lineage", *CLOSURES)
        }
        sampler.halt.set()
        sampler.join()
        tree = list(process_tree(server.pid))
        stop(server)
        log.close()
        if alive := wait_gone(tree):
            raise RuntimeError(f"processes of mlg serve still running after it stopped: {alive}")

        compared: dict[tuple[str, str], Run] = {("mlg", k): r for k, r in single.items()}
        reference_note = ""
        if not args.no_reference:
            fport = free_port()
            flog = (workdir / "reference.log").open("wb")
            reference = start_reference(store, workdir, fport, cores, flog)
            processes.append(reference)
            query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
            wait_ready(fport, f"/sparql?{query}", reference, 120)
            rows |= {("reference", k): count_all_rows(fport, v) for k, v in work.closures.items()}
            for kind in CLOSURES:
                compared[("reference", kind)] = alone(
                    f"reference {kind}", fport, kind, reference.pid, args.compare_seconds, args.warmup
                )
            rss = sum(rss_mib(pid) for pid in process_tree(reference.pid))
            reference_note = (
                f"Reference: minimal Flask {_version('flask')} + pyoxigraph app (`Store.read_only` of the "
                f"same store, one `/sparql` route, SPARQL JSON; no timeout, guard, negotiation or logging) "
                f"under gunicorn {_version('gunicorn')} gthread, {cores} workers x {REFERENCE_THREADS} "
                f"threads, run after mlg serve stopped; RSS {rss:,.0f} MiB."
            )
            reference_tree = list(process_tree(reference.pid))
            stop(reference)
            flog.close()
            if alive := wait_gone(reference_tree):
                raise RuntimeError(f"processes of the reference app still running after it stopped: {alive}")

        rdflib_note = ""
        if not args.no_rdflib:
            rport = free_port()
            rlog = (workdir / "rdflib.log").open("wb")
            rdflib_server = subprocess.Popen(
                [sys.executable, "-c", RDFLIB_SERVER, str(export), str(rport)],
                stdout=rlog,
                stderr=subprocess.STDOUT,
            )
            processes.append(rdflib_server)
            _log("loading the export into rdflib-endpoint")
            query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
            loaded = time.monotonic()
            wait_ready(rport, f"/sparql?{query}", rdflib_server, 3600)
            rdflib_note = f"rdflib loaded the export in {time.monotonic() - loaded:.0f} s; "
            rows |= {("rdflib", k): count_all_rows(rport, v) for k, v in work.closures.items()}
            for kind in CLOSURES:
                compared[("rdflib", kind)] = alone(
                    f"rdflib {kind}", rport, kind, rdflib_server.pid, args.compare_seconds, args.warmup
                )
            rdflib_note += f"rdflib-endpoint RSS {rss_mib(rdflib_server.pid):,.0f} MiB."
            stop(rdflib_server)
            rlog.close()

        import pyoxigraph

        tiny = sorted({n for _, n in probes.lineage})
        print(
            f"### mlg serve under load: {graph.assets:,} assets, {cores} cores, {args.clients} clients, "
            f"--threads {args.threads}\n\n"
            f"Python {sys.version.split()[0]}, pyoxigraph {pyoxigraph.__version__}, "
            f"{dt.date.today()}. Lineage: `/api/lineage/<iri>?depth=1..3` of {len(probes.lineage)} nodes "
            f"with {tiny[0]}-{tiny[-1]} ancestors; tiny closure: `mlg:upstream+` from the same nodes; "
            f"small closure: from a node with {probes.small.ancestors:,} ancestors; deep closure: from "
            f"the node with {probes.deep.ancestors:,} ancestors; writes: Graph Store PUT of a 4-triple "
            f"graph. Mixed run (Python client processes): "
            f"{', '.join(f'{k} {v:.0%}' for k, v in MIX.items())}. "
            f"Single-type runs: "
            + (
                f"wrk (1 thread, {args.clients} connections, a Lua script cycling through the requests "
                f"of the type; latencies from wrk's histogram)."
                if generator == "wrk"
                else f"the same Python client processes. {PYTHON_BOUND_NOTE}"
            )
            + " Latencies are client-side, whole response read.\n"
        )
        print(load_table(mixed, args.clients, cores) + "\n")
        for run in single.values():
            print(load_table(run, args.clients, cores) + "\n")
        ceilings = [python_ceiling] + ([ceiling] if ceiling is not python_ceiling else [])
        print(
            "Load generator ceiling on `/healthz`: "
            + "; ".join(
                f"{'wrk reaches' if run.generator == 'wrk' else f'the {args.clients} Python clients reach'} "
                f"{run.rps():,.0f} req/s (generator {run.client_cpu / run.seconds:.2f} cores, "
                f"server {run.server_cpu / run.seconds:.2f} cores)"
                for run in ceilings
            )
            + ".\n"
        )
        print(
            "Server RSS (sampled every second over all mlg runs; the arbiter, its children "
            "(gunicorn workers and the writer process), the query processes):\n"
        )
        print(rss_table(sampler.samples) + "\n")
        if not (args.no_rdflib and args.no_reference):
            others = [
                name
                for name, skipped in (
                    ("the reference app", args.no_reference),
                    (f"rdflib-endpoint {_version('rdflib-endpoint')} (uvicorn, same quads)", args.no_rdflib),
                )
                if not skipped
            ]
            print(
                f"#### SPARQL closures alone, mlg serve vs {' and '.join(others)}: "
                f"{args.compare_seconds:.0f} s each, {generator}\n"
            )
            print(compare_table(compared, rows, probes) + "\n")
            if line := reference_line(compared):
                print(line + "\n")
            print(
                " ".join(n for n in (reference_note, rdflib_note) if n)
                + " Rows: the answers to each closure (the tiny ones added up), checked on every endpoint."
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
