"""How fast each loader converts its format into records, next to parsing the same input alone.

Run ``.venv/bin/python benchmarks/loaders.py`` (every format, its default size) or
``--format openlineage --entities 100000``. Each format runs in a fresh subprocess, so
peak RSS is per format. The output is a markdown table, to paste into the README; the
issue's target (5,000 entities/s of conversion for the file formats) is printed beside
the measurements, not asserted.

For each format, ``benchmarks/formats/<format>.py`` writes a large realistic input
(``make_input(n, folder) -> (location, entities)``). Conversion is
:func:`mlg.loaders.read_submission` plus materialising every record, the work a loader
adds before admission. The baseline, measured in the same process on the same input, is
the input read and parsed with no mapping (``json``/``yaml``/protobuf/SQL, per format):
the ratio says what the mapping costs on top of reading the format at all.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlg.identity import Minter
from mlg.loaders import read_submission, uri_scheme

TARGET_PER_S = 5_000
DEFAULT_ENTITIES = {
    "openlineage": 100_000,
    "datahub": 20_000,
    "backstage": 20_000,
    "huggingface": 10_000,
    "croissant": 10_000,
    "feast": 20_000,
    "mlflow": 2_000,
}
REPEATS = 3


def _peak_mib() -> float:
    match = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def _input_path(location: str) -> Path:
    """The file behind a location (``mlflow+sqlite:///tmp/x.db`` is ``/tmp/x.db``)."""
    return Path(location.split("://", 1)[1] if uri_scheme(location) else location)


def _parse_only(location: str) -> Callable[[], Any]:
    """The baseline: read and parse the input with no mapping."""
    path = _input_path(location)
    suffix = path.suffix.lower()
    if uri_scheme(location):  # an MLflow sqlite tracking store: read the tables the loader reads
        import sqlite3

        def read_sqlite() -> Any:
            with sqlite3.connect(path) as db:
                tables = ("experiments", "runs", "params", "metrics", "tags", "model_versions")
                return [db.execute(f"SELECT * FROM {table}").fetchall() for table in tables]

        return read_sqlite
    if suffix in (".yaml", ".yml", ".md"):  # libyaml's loader, as the loaders parse with libyaml too
        import yaml

        def read_yaml() -> Any:
            text = path.read_text()
            if suffix == ".md":  # a model card: its YAML front matter
                text = text.split("---", 2)[1]
            return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))

        return read_yaml
    if suffix in (".db", ".pb"):
        registry_pb2 = importlib.import_module("feast.protos.feast.core.Registry_pb2")
        return lambda: registry_pb2.Registry.FromString(path.read_bytes())

    def read_json() -> Any:
        text = path.read_text()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return [json.loads(line) for line in text.splitlines() if line.strip()]

    return read_json


def _median_seconds(work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(format_name: str, entities: int) -> dict[str, Any]:
    """One format, in this process: conversion and baseline medians, triples, peak RSS."""
    # By path: on sys.path, formats/feast.py and formats/mlflow.py would hide the real packages.
    path = Path(__file__).resolve().parent / "formats" / f"{format_name}.py"
    spec = importlib.util.spec_from_file_location(f"mlg_benchmark_input_{format_name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    minter = Minter("https://mlg.example.org/")
    with tempfile.TemporaryDirectory(prefix=f"mlg-bench-{format_name}-") as folder:
        location, count = module.make_input(entities, Path(folder))
        size = _input_path(location).stat().st_size

        def convert() -> int:
            submission = read_submission(location, minter=minter, max_bytes=1 << 34)
            return sum(len(record) for record in submission.records())

        convert_s, triples = _median_seconds(convert)
        parse_s, _ = _median_seconds(_parse_only(location))
    return {
        "format": format_name,
        "entities": count,
        "input_mib": size / 2**20,
        "triples": triples,
        "convert_s": convert_s,
        "parse_s": parse_s,
        "per_s": count / convert_s,
        "peak_mib": _peak_mib(),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| format | entities | input MiB | triples | conversion, median | entities/s | parse only | "
        "conversion / parse | peak RSS MiB | target 5,000/s |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        met = "met" if r["per_s"] >= TARGET_PER_S else "not met"
        lines.append(
            f"| {r['format']} | {r['entities']:,} | {r['input_mib']:.1f} | {r['triples']:,} | "
            f"{r['convert_s']:.2f} s | {r['per_s']:,.0f} | {r['parse_s']:.2f} s | "
            f"{r['convert_s'] / r['parse_s']:.1f}x | {r['peak_mib']:,.0f} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", action="append", choices=sorted(DEFAULT_ENTITIES), help="repeatable")
    parser.add_argument("--entities", type=int, help="input size (default: per format)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.entities)))
        return
    rows = []
    for name in args.format or list(DEFAULT_ENTITIES):
        n = args.entities or DEFAULT_ENTITIES[name]
        print(f"measuring {name} ({n:,} entities)...", file=sys.stderr)
        done = subprocess.run(
            [sys.executable, __file__, "--child", name, "--entities", str(n)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"Conversion rates, median of {REPEATS} (records materialised, no admission):\n")
    print(_table(rows))


if __name__ == "__main__":
    main()
