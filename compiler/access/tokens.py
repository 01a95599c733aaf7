"""API tokens: create, list, revoke, and check a bearer against them, in `.ecp/tokens.json`.

Input: a token name, role and scope (create) or a presented bearer (check). Output: the secret,
once, and TokenRecords. Only a SHA-256 of each token is stored (mode 0600): tokens are 238 random
bits, so a fast hash is right; a slow password hash would only add latency to every request, since
nobody can brute-force 2^238. The stored hash is compared in constant time. The file is re-read
when it changes (checked at most every CHECK_S), so a running server sees a new or revoked token
within a second. Never logs, prints or stores a token itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import string
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from compiler.access.roles import ROLES, Grant, Principal, Role, TenantScope
from compiler.errors import UsageError

PREFIX = "ecp_"  # secret scanners match on it
_ID_CHARS = 8
_SECRET_CHARS = 40  # 62^40 ≈ 2^238
_ALPHABET = string.ascii_letters + string.digits
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_TOKEN = re.compile(rf"{PREFIX}[A-Za-z0-9]{{{_ID_CHARS + _SECRET_CHARS}}}")
CHECK_S = 0.25
log = logging.getLogger("ecp.access")
FILE_NAME = "tokens.json"


@dataclass(frozen=True)
class TokenRecord:
    name: str
    token_id: str
    sha256: str
    role: Role
    tenants: tuple[str, ...] = ()
    selector: tuple[str, ...] = ()  # KEY=VALUE
    created_at: float = 0.0
    expires_at: float | None = None
    revoked_at: float | None = None

    @property
    def scope(self) -> TenantScope:
        return TenantScope.parse(self.tenants, self.selector)

    def state(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def principal(self) -> Principal:
        return Principal(
            name=f"token:{self.name}",
            kind="token",
            grants=(Grant(self.role, self.scope),),
            display=self.name,
            email=f"{self.name}@tokens.ecp.local",
            subject=self.token_id,
            token_id=self.token_id,
            expires_at=self.expires_at,
        )

    def public(self, now: float) -> dict[str, Any]:
        """What `ecp token list` shows: everything but the hash."""
        data = asdict(self)
        data.pop("sha256")
        data["state"] = self.state(now)
        data["scope"] = self.scope.describe()
        return data


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def parse_duration(text: str) -> float:
    """'30d', '12h', '15m', '90s' to seconds (UsageError otherwise)."""
    match = re.fullmatch(r"(\d{1,6})([smhd])", text.strip())
    if not match:
        raise UsageError(f"--expires takes a duration like 30d, 12h or 15m (got {text!r})")
    return int(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]


class TokenStore:
    """The token file of one workspace. Safe to share between threads of one server and the CLI
    (writes take an flock and replace the file atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: tuple[int, int, int] | None = None
        self._checked = -1.0
        self._by_id: dict[str, TokenRecord] = {}
        self._principals: dict[str, Principal] = {}  # by token id, rebuilt with the file
        self._bad_key: tuple[int, int, int] | None = None  # a damaged version, logged once

    # -- reading ---------------------------------------------------------------------------

    def records(self) -> list[TokenRecord]:
        self._refresh(force=True, strict=True)
        return sorted(self._by_id.values(), key=lambda r: r.name)

    def lookup(self, token: str) -> TokenRecord | None:
        """The record a presented token belongs to (revoked and expired ones too), or None."""
        if not _TOKEN.fullmatch(token):
            return None
        self._refresh()
        token_id = token[len(PREFIX) : len(PREFIX) + _ID_CHARS]
        record = self._by_id.get(token_id)
        if record is None:
            # A token made a moment ago: one stat tells (unknown ids are rare and rate-limited).
            self._refresh(force=True)
            record = self._by_id.get(token_id)
        if record is None or not hmac.compare_digest(record.sha256, _digest(token)):
            return None
        return record

    def principal(self, record: TokenRecord) -> Principal:
        """The record's Principal, built once per load of the file (a few µs per request)."""
        found = self._principals.get(record.token_id)
        if found is None:
            found = self._principals[record.token_id] = record.principal()
        return found

    def current(self, token_id: str) -> TokenRecord | None:
        self._refresh()
        return self._by_id.get(token_id)

    def _refresh(self, force: bool = False, strict: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < CHECK_S:
            return
        self._checked = now
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._key, self._by_id, self._principals = None, {}, {}
            return
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != self._key and (strict or key != self._bad_key):
            try:
                records = self._load()
            except UsageError as exc:
                if strict:
                    raise  # the CLI: say what is wrong
                # A server keeps its last good tokens (none: every call is 401) rather than
                # answering with the file's path or problem; the operator sees it in the log.
                log.error("%s; keeping the tokens read before", exc)
                self._bad_key = key
                return
            self._by_id = {r.token_id: r for r in records}
            self._principals = {}
            self._key = key

    def _load(self) -> list[TokenRecord]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [_record(item) for item in data.get("tokens", [])]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise UsageError(f"cannot read the token file {self.path}: {exc}") from exc

    # -- writing ---------------------------------------------------------------------------

    def create(
        self,
        name: str,
        role: str,
        scope: TenantScope | None = None,
        expires_in: float | None = None,
        *,
        secret: str | None = None,
    ) -> tuple[str, TokenRecord]:
        """A new token and its record; the token is shown once and never stored. `secret` lets
        a test harness install a token it generated itself."""
        if not _NAME.fullmatch(name):
            raise UsageError(
                f"token name {name!r}: lowercase letters, digits, '.', '_' or '-', at most 63"
            )
        if role not in ROLES:
            raise UsageError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
        token = secret or PREFIX + "".join(
            secrets.choice(_ALPHABET) for _ in range(_ID_CHARS + _SECRET_CHARS)
        )
        if not _TOKEN.fullmatch(token):
            raise UsageError("a token is 'ecp_' and 48 letters or digits")
        scope = scope or TenantScope()
        now = time.time()
        record = TokenRecord(
            name=name,
            token_id=token[len(PREFIX) : len(PREFIX) + _ID_CHARS],
            sha256=_digest(token),
            role=role,
            tenants=tuple(sorted(scope.tenant_ids)),
            selector=tuple(f"{k}={v}" for k, v in scope.selector),
            created_at=round(now, 3),
            expires_at=round(now + expires_in, 3) if expires_in else None,
        )
        with self._locked() as records:
            if any(r.name == name and r.revoked_at is None for r in records):
                raise UsageError(f"a token named {name!r} exists; revoke it first")
            records[:] = [r for r in records if r.name != name] + [record]
        return token, record

    def revoke(self, name: str) -> TokenRecord:
        with self._locked() as records:
            for i, record in enumerate(records):
                if record.name == name and record.revoked_at is None:
                    records[i] = revoked = _replace(record, revoked_at=round(time.time(), 3))
                    return revoked
        raise UsageError(f"no active token named {name!r}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[TokenRecord]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = self._load() if self.path.exists() else []
            yield records
            self._write(records)
        finally:
            os.close(fd)
        self._refresh(force=True)

    def _write(self, records: list[TokenRecord]) -> None:
        body = {"version": 1, "tokens": [asdict(r) for r in records]}
        fd, tmp = tempfile.mkstemp(prefix=".tokens.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _record(item: dict[str, Any]) -> TokenRecord:
    return TokenRecord(
        name=str(item["name"]),
        token_id=str(item["token_id"]),
        sha256=str(item["sha256"]),
        role=_known_role(item["role"]),
        tenants=tuple(item.get("tenants", ())),
        selector=tuple(item.get("selector", ())),
        created_at=float(item.get("created_at", 0.0)),
        expires_at=item.get("expires_at"),
        revoked_at=item.get("revoked_at"),
    )


def _known_role(value: object) -> Role:
    if value not in ROLES:
        raise ValueError(f"unknown role {value!r}")
    return value


def _replace(record: TokenRecord, **changes: Any) -> TokenRecord:
    return TokenRecord(**{**asdict(record), **changes})
