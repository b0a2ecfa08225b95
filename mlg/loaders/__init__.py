"""Loaders turn an input into a :class:`~mlg.submission.Submission`; one module a format.

Each loader module exposes ``FORMATS``, a list of :class:`Format`. :func:`read_submission`
reads a file once (size-capped), picks the format (``--format`` wins; otherwise the
first format whose ``sniff`` accepts the file's name and first bytes) and calls its
``load``. A location that is a URI (``mlflow+sqlite:///mlflow.db``) goes to the format
that declares its scheme, which reads it itself.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from mlg.errors import InputError, MissingDependencyError, UnknownFormatError, UsageError
from mlg.identity import Minter
from mlg.submission import Submission


@dataclass(frozen=True)
class Request:
    """Everything a loader gets: the bytes, where they came from, how to mint IRIs."""

    location: str
    """The file path or URI as the user gave it; error messages name it."""
    data: bytes
    """The file's bytes (empty for a URI, which its loader reads itself)."""
    minter: Minter
    source: str | None
    """The submission's identity if the user gave one (``--source``)."""

    @property
    def path(self) -> Path:
        return Path(self.location)

    def default_source(self, declared: str | None = None) -> str:
        """--source, else what the input declares, else the location as the user gave it."""
        return self.source or declared or self.location


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    help: str
    sniff: Callable[[Path, bytes], bool]
    load: Callable[[Request], Submission]
    schemes: tuple[str, ...] = ()
    """URI schemes this format reads from directly, such as ``mlflow+sqlite``."""


_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def uri_scheme(location: str) -> str | None:
    """The scheme of a location that is a URI rather than a file path."""
    match = _URI.match(location)
    return match.group(1).lower() if match else None


MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


# Detection order: the most specific sniffers first, generic RDF last.
LOADER_MODULES = (
    "manifest",
    "mlflow",
    "openlineage",
    "datahub",
    "backstage",
    "huggingface",
    "croissant",
    "feast",
    "rdf",
)


def formats() -> list[Format]:
    """Every known format, in the order detection tries them."""
    return [f for name in LOADER_MODULES for f in importlib.import_module(f"mlg.loaders.{name}").FORMATS]


def require(module: str, extra: str) -> ModuleType:
    """Import a format's optional library, or say in one line how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"this format needs the optional {extra!r} dependencies: "
            f"pip install 'model-lifecycle-graph[{extra}]'"
        ) from None


def format_names() -> list[str]:
    return [f.name for f in formats()]


def read_input(path: Path, max_bytes: int) -> bytes:
    """The bytes of an input file, or one clear error naming it.

    At most ``max_bytes + 1`` bytes are read, whatever the file claims: a pipe or a
    device reports no size.
    """
    limit = f"over the {max_bytes:,}-byte limit (MLG_MAX_INPUT_BYTES)"
    try:
        if path.is_dir():
            raise InputError("is a directory, not a file", where=str(path))
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"is {size:,} bytes, {limit}", where=str(path))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except PermissionError:
        raise InputError("permission denied", where=str(path)) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", where=str(path)) from None
    if len(data) > max_bytes:
        raise InputError(f"is {limit}", where=str(path))
    return data


def detect(path: Path, data: bytes, forced: str | None = None) -> Format:
    known = formats()
    if forced:
        for candidate in known:
            if candidate.name == forced:
                return candidate
        raise UnknownFormatError(
            f"unknown format {forced!r}; known formats: " + ", ".join(f.name for f in known)
        )
    head = data[:4096]
    for candidate in known:
        if candidate.sniff(path, head):
            return candidate
    hint = (
        " (a manifest needs 'mlg-manifest: 1' at its top)" if path.suffix.lower() in MANIFEST_SUFFIXES else ""
    )
    names = ", ".join(f.name for f in known)
    raise UnknownFormatError(
        f"cannot tell the format of this file{hint}; name it with --format ({names})", where=str(path)
    )


def detect_uri(location: str, scheme: str, forced: str | None = None) -> Format:
    readers = [f for f in formats() if scheme in f.schemes]
    if forced:
        readers = [f for f in readers if f.name == forced]
    if not readers:
        schemes = ", ".join(sorted(s for f in formats() for s in f.schemes)) or "none"
        raise UnknownFormatError(f"no loader reads {scheme}:// locations (known: {schemes})", where=location)
    return readers[0]


def read_submission(
    location: Path | str,
    *,
    minter: Minter,
    max_bytes: int,
    format: str | None = None,
    source: str | None = None,
) -> Submission:
    """Read one input, a file or a URI, into a submission; every failure is one clear error."""
    text = str(location)
    scheme = uri_scheme(text) if isinstance(location, str) else None
    if scheme and scheme != "file":
        chosen = detect_uri(text, scheme, format)
        return chosen.load(Request(text, b"", minter, source))
    if scheme == "file":
        text = text[len("file://") :]
    path = Path(text)
    reader = next((f for f in formats() if f.name == format), None)
    if reader and reader.schemes and not reader.extensions:
        schemes = ", ".join(f"{s}://" for s in reader.schemes)
        raise UsageError(f"the {format} format reads {schemes} locations, not files", where=text)
    data = read_input(path, max_bytes)
    chosen = detect(path, data, format)
    return chosen.load(Request(text, data, minter, source))
