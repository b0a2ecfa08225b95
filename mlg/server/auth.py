"""Bearer tokens: who may write, and (optionally) who may read.

Writes (SPARQL updates, Graph Store PUT, POST and DELETE) need a token from
MLG_UPDATE_TOKEN or MLG_UPDATE_TOKEN_FILE; with none configured the server is read-only
and says so (403). Reads are open unless MLG_READ_TOKEN is set; an update token reads
too. Tokens are compared in constant time against every configured token, so timing
tells neither which token nor how much of one matched.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from mlg.config import Config
from mlg.errors import AuthenticationRequired, Forbidden, UsageError


@dataclass(frozen=True)
class Tokens:
    update: tuple[bytes, ...]
    read: tuple[bytes, ...]

    @classmethod
    def from_config(cls, config: Config) -> Tokens:
        update = Config.split(config.update_token)
        if config.update_token_file is not None:
            update += _read_token_file(config.update_token_file)
        read = Config.split(config.read_token)
        return cls(tuple(t.encode() for t in update), tuple(t.encode() for t in read))

    @property
    def writable(self) -> bool:
        return bool(self.update)

    def require_write(self, authorization: str | None) -> None:
        if not self.update:
            raise Forbidden(
                "this server is read-only: set MLG_UPDATE_TOKEN (or MLG_UPDATE_TOKEN_FILE) "
                "and restart it to accept writes"
            )
        _require(self.update, authorization, "a write")

    def require_read(self, authorization: str | None) -> None:
        if self.read:
            _require(self.read + self.update, authorization, "reading")


def _read_token_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise UsageError(f"cannot read the token file: {error.strerror or error}", where=str(path)) from None
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def presented(authorization: str | None) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode()


def _require(tokens: tuple[bytes, ...], authorization: str | None, what: str) -> None:
    token = presented(authorization)
    if token is None:
        raise AuthenticationRequired(f"{what} needs a token: send Authorization: Bearer <token>")
    matched = False
    for candidate in tokens:  # every one, whatever matched before
        matched |= hmac.compare_digest(candidate, token)
    if not matched:
        raise AuthenticationRequired(f"{what} needs a valid token; the one sent is not")
