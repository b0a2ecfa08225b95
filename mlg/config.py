"""Settings: one row each, with its environment variable, default and help.

Every command reads its settings from here (flags override the environment, the
environment overrides an optional TOML file, which overrides the default), and the
README's settings table is these rows.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from mlg.errors import UsageError


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mlg"


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    help: str


SETTINGS = (
    Setting(
        "store",
        "MLG_STORE",
        "Directory of the on-disk Oxigraph store "
        "(default: $XDG_DATA_HOME/mlg/store, i.e. ~/.local/share/mlg/store).",
    ),
    Setting(
        "base_iri",
        "MLG_BASE_IRI",
        "Base under which asset IRIs are minted (default: https://mlg.example.org/).",
    ),
    Setting(
        "max_input_bytes",
        "MLG_MAX_INPUT_BYTES",
        "Largest input file a loader reads, in bytes (default: 268435456, 256 MiB).",
    ),
    Setting(
        "atomic_limit",
        "MLG_ATOMIC_LIMIT",
        "Submissions up to this many triples commit in one transaction; "
        "larger ones stream through the bulk loader (default: 500000).",
    ),
    Setting("chunk_assets", "MLG_CHUNK_ASSETS", "Assets validated by SHACL per batch (default: 2000)."),
    Setting(
        "config_file",
        "MLG_CONFIG",
        "TOML file of settings, keyed by their names without MLG_ in lower case "
        '(store = "/srv/mlg", port = 8080); the environment and flags override it.',
    ),
    Setting("host", "MLG_HOST", "Address `mlg serve` listens on (default: 127.0.0.1)."),
    Setting("port", "MLG_PORT", "Port `mlg serve` listens on (default: 8000; 0 picks a free one)."),
    Setting(
        "workers",
        "MLG_WORKERS",
        "Processes of `mlg serve` that answer requests, each over its own read-only view of the store; "
        "one more process runs the writes (default: one per CPU core).",
    ),
    Setting(
        "threads",
        "MLG_THREADS",
        "Requests each process of `mlg serve` answers at once, one thread each (default: 4).",
    ),
    Setting(
        "update_token",
        "MLG_UPDATE_TOKEN",
        "Bearer token(s), comma-separated, that allow SPARQL updates and Graph Store writes; "
        "with none (here or in MLG_UPDATE_TOKEN_FILE) the server is read-only (default: none).",
    ),
    Setting(
        "update_token_file",
        "MLG_UPDATE_TOKEN_FILE",
        "File of update tokens, one a line (blank lines and # comments skipped) (default: none).",
    ),
    Setting(
        "read_token",
        "MLG_READ_TOKEN",
        "Bearer token(s), comma-separated, required for reads; update tokens read too "
        "(default: none, reads are open).",
    ),
    Setting(
        "service_allow",
        "MLG_SERVICE_ALLOW",
        "SPARQL endpoints, comma-separated, that SERVICE may call; a listed name that resolves to a "
        "loopback, link-local or private address is still refused unless that address or `localhost` "
        "is what is listed (default: none, SERVICE refused).",
    ),
    Setting(
        "cors_origins",
        "MLG_CORS_ORIGINS",
        "Origins, comma-separated (or *), whose browser scripts may read query answers; "
        "never writes (default: none).",
    ),
    Setting(
        "max_body_bytes",
        "MLG_MAX_BODY_BYTES",
        "Largest request body the server reads, in bytes; larger ones get 413 (default: 67108864, 64 MiB).",
    ),
    Setting(
        "max_query_length",
        "MLG_MAX_QUERY_LENGTH",
        "Longest SPARQL query or update, in characters; send data through /store instead (default: 262144).",
    ),
    Setting(
        "max_query_depth",
        "MLG_MAX_QUERY_DEPTH",
        "Deepest nesting of brackets in a query or update: the parser is recursive (default: 100).",
    ),
    Setting(
        "query_timeout",
        "MLG_QUERY_TIMEOUT",
        "Seconds a SPARQL query may take, answer included; past it the query's worker process is "
        "killed and the client gets 503 (default: 30).",
    ),
    Setting(
        "query_workers",
        "MLG_QUERY_WORKERS",
        "Processes that evaluate SPARQL queries over a read-only view of the store, for each "
        "worker process of `mlg serve` (default: 2; 0 evaluates in the worker, without a timeout).",
    ),
    Setting(
        "max_rows",
        "MLG_MAX_ROWS",
        "Most rows a SELECT answer has; a longer one is cut there and flagged with the header "
        "`MLG-Truncated` (default: 100000).",
    ),
    Setting(
        "log_queries",
        "MLG_LOG_QUERIES",
        "1 adds each SPARQL query's text (cut at 2000 characters) to its JSON request log line "
        "(default: 0, the text is not logged).",
    ),
)


@dataclass(frozen=True)
class Config:
    store: Path = field(default_factory=lambda: _data_home() / "store")
    base_iri: str = "https://mlg.example.org/"
    max_input_bytes: int = 256 * 1024 * 1024
    atomic_limit: int = 500_000
    chunk_assets: int = 2000
    config_file: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    threads: int = 4
    update_token: str = field(default="", repr=False)
    update_token_file: Path | None = None
    read_token: str = field(default="", repr=False)
    service_allow: str = ""
    cors_origins: str = ""
    max_body_bytes: int = 64 * 1024 * 1024
    max_query_length: int = 262_144
    max_query_depth: int = 100
    query_timeout: int = 30
    query_workers: int = 2
    max_rows: int = 100_000
    log_queries: int = 0

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """Defaults, then the TOML file (``config_file``), then the environment, then explicit
        overrides that are not None."""
        overrides = {k: v for k, v in overrides.items() if v is not None}
        values: dict[str, object] = {}
        file = overrides.get("config_file") or os.environ.get("MLG_CONFIG")
        if file:
            values.update(_from_toml(Path(str(file))))
        for setting in SETTINGS:
            raw = os.environ.get(setting.env)
            if raw:
                values[setting.name] = _convert(setting.name, raw, setting.env)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @staticmethod
    def split(value: str) -> list[str]:
        """The items of a comma-separated setting, stripped, empty ones dropped."""
        return [item.strip() for item in value.split(",") if item.strip()]


_TYPES = {f.name: str(f.type) for f in fields(Config)}


def _convert(name: str, raw: str, where: str) -> object:
    kind = _TYPES[name]
    if kind.startswith("Path"):
        return Path(raw)
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"{where}={raw!r} is not a whole number") from None
    return raw


def _from_toml(path: Path) -> dict[str, object]:
    """Settings from a TOML file: keys are setting names; lists stand for comma-separated values."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read: {error.strerror or error}", where=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"not valid TOML: {error}", where=str(path)) from None
    values: dict[str, object] = {}
    for key, value in data.items():
        if key not in _TYPES or key == "config_file":
            close = difflib.get_close_matches(key, list(_TYPES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"unknown setting {key!r}{hint}", where=str(path))
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise UsageError(f"{key} must be a string, a number or a list of strings", where=str(path))
        if (_TYPES[key] == "int") != isinstance(value, int):
            wanted = "a whole number" if _TYPES[key] == "int" else "a string"
            raise UsageError(f"{key} must be {wanted}", where=str(path))
        if _TYPES[key].startswith("Path"):
            value = path.parent / str(value)  # relative to the file, wherever mlg runs
        values[key] = value
    return values


def default_demo_store() -> Path:
    """Where ``mlg demo`` builds its fresh store when no --store is given."""
    return _data_home() / "demo-store"
