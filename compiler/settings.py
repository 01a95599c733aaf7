"""Settings: the one explicit object every stage and shell receives.

Read from an optional `ecp.toml` at the workspace root, then environment variables (ECP_*), with
embedded defaults that need no cluster and no server. No other module reads the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compiler.errors import Location, UsageError

CONFIG_FILE = "ecp.toml"
SCP_LIKE_URL = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+")  # git@host:org/repo.git


def is_remote_url(location: str) -> bool:
    """True for anything that names a git remote rather than a local path (checked or not)."""
    return "://" in location or "::" in location or bool(SCP_LIKE_URL.fullmatch(location))


class ClusterCapacity(BaseModel):
    """The cluster: how to reach it (kubeconfig + context, or in-cluster), and what it offers
    when it is not reached (the reference's system-metrics example is the default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpu_millicores: int = 500_000
    memory_gib: int = 1000
    gpu: int = 50
    storage_tb: float = 50.0
    # Zone names (topology.kubernetes.io/zone) when the cluster spans zones: replicas are then
    # spread across zones as well as nodes (DoNotSchedule). Empty: nodes only.
    zones: tuple[str, ...] = ()
    # No kubeconfig and not in_cluster: no cluster is read, answers come from the deploy repo.
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    timeout_s: float = Field(default=5.0, gt=0, le=60)

    @property
    def connected(self) -> bool:
        return self.in_cluster or self.kubeconfig is not None


class RateBudget(BaseModel):
    """A token bucket: `per_second` sustained, `burst` at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)


class RoleLimits(BaseModel):
    """Reads, and writes (create/update/delete, ingest, validate-manifest) on their own budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    reads: RateBudget
    writes: RateBudget


def _default_limits() -> dict[str, RoleLimits]:
    def limits(reads: float, writes: float) -> RoleLimits:
        return RoleLimits(
            reads=RateBudget(per_second=reads, burst=int(reads * 2)),
            writes=RateBudget(per_second=writes, burst=int(writes * 2)),
        )

    # Anonymous demo callers are counted per client address.
    return {
        "anonymous": limits(10, 2),
        "viewer": limits(100, 10),
        "ingest": limits(100, 100),  # metric agents post in bursts
        "editor": limits(100, 10),
        "admin": limits(1000, 100),
    }


class EditorPolicy(BaseModel):
    """What a non-admin writer may put in a spec. None = the default: registries, only the
    catalogue's own; GPU types and presets, any the catalogue has."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    allowed_registries: tuple[str, ...] | None = None
    allowed_gpu_types: tuple[str, ...] | None = None
    allowed_presets: tuple[str, ...] | None = None
    admin_only_fields: tuple[str, ...] = ()


class AccessSettings(BaseModel):
    """[access] in ecp.toml: editor policy, rate limits, WebSocket origins, OIDC group policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    editor: EditorPolicy = EditorPolicy()
    rate_limits: dict[str, RoleLimits] = Field(default_factory=_default_limits)
    # Browser origins allowed on WebSockets besides the server's own (same-origin by default).
    allowed_origins: tuple[str, ...] = ()
    # Argo CD-style `g, GROUP, ROLE[, SCOPE]` lines mapping OIDC groups to roles and scopes.
    oidc_policy: str = "access-policy.csv"
    oidc_groups_claim: str = "groups"
    oidc_leeway_s: int = Field(default=30, ge=0, le=300)
    audit_log_size: int = Field(default=10_000, ge=10)

    @field_validator("rate_limits")
    @classmethod
    def _every_role_has_limits(cls, value: dict[str, RoleLimits]) -> dict[str, RoleLimits]:
        known = set(_default_limits())
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}; roles are {', '.join(sorted(known))}")
        return {**_default_limits(), **value}  # a role not configured keeps its default


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    root: Path = Path()
    kubernetes_version: str = "1.33"
    # Deploy repo: a local path (relative to root) or a URL; created on first publish when local.
    tenants_path: str = "tenants"
    output_path: str = "output"
    presets_path: str = "presets"
    deploy_repo: str = ".ecp/deploy-repo"
    deploy_remote: str | None = None
    deploy_branch: str = "main"
    # Demo mode is a sandbox: its own specs, output and deploy repo, never the production ones.
    demo: bool = False
    demo_root: str = ".ecp/demo"
    consumers: tuple[Literal["argocd", "flux"], ...] = ("argocd", "flux")
    # The URL Argo CD and Flux clone; unset means deploy_remote (or a URL deploy_repo). With
    # neither, publish writes no consumer files rather than a placeholder a cluster would sync.
    repo_url_for_consumers: str | None = None
    # Refuse to compile a tenant whose images are not all pinned by digest (r/stt@sha256:...).
    require_image_digests: bool = False
    # One external Redis for every tenant whose spec names none (else each gets its own).
    redis_url: str | None = None
    git_author_name: str = "ecp-orchestrator"
    git_author_email: str = "ecp-orchestrator@localhost"
    database: str = ".ecp/ecp.sqlite3"
    # Generated schema-validator code, so an incremental compile does not regenerate it.
    cache_path: str = ".ecp/cache"
    # A client must send its request headers, and then its body, within these many seconds.
    http_header_timeout: float = Field(default=10.0, gt=0)
    http_body_timeout: float = Field(default=10.0, gt=0)
    # The API's write-ahead journal (one file per batch of writes in progress).
    journal_path: str = ".ecp/journal"
    metrics_retention_days: int = Field(default=30, ge=1)
    # Where metrics live: the embedded SQLite file, or a Prometheus (or Mimir/Thanos) reached at
    # prometheus_url: POSTed samples go there by remote-write, GET monitoring and alerts read it.
    metrics_backend: Literal["sqlite", "prometheus"] = "sqlite"
    prometheus_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    prometheus_timeout_s: float = Field(default=5.0, gt=0, le=60)
    cluster: ClusterCapacity = ClusterCapacity()
    # Real mode needs a bearer token; "none" is for local experiments and only on loopback.
    auth: Literal["token", "none"] = "token"
    # Anonymous callers may use the demo sandbox (rate-limited per client address).
    demo_anonymous: bool = False
    tokens_path: str = ".ecp/tokens.json"
    # OIDC: the issuer (`iss`, and its discovery document when oidc_jwks is unset), the audience
    # (`aud`), and a JWKS file or URL (optional).
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = None
    # The dashboard's "sign in with SSO" (authorization code + PKCE, a public client): its client
    # ID (default: the audience, which an ID token's `aud` is) and the scopes it asks for.
    oidc_client_id: str | None = None
    oidc_scopes: str = "openid profile email groups"
    access: AccessSettings = AccessSettings()

    @model_validator(mode="after")
    def _prometheus_backend_has_a_url(self) -> Settings:
        if self.metrics_backend == "prometheus" and not self.prometheus_url:
            raise ValueError('metrics_backend = "prometheus" needs prometheus_url')
        return self

    @property
    def tenants_dir(self) -> Path:
        return self.resolve(self.tenants_path)

    @property
    def cache_dir(self) -> Path:
        return self.resolve(self.cache_path)

    @property
    def journal_dir(self) -> Path:
        return self.resolve(self.journal_path)

    @property
    def presets_dir(self) -> Path:
        return self.resolve(self.presets_path)

    @property
    def output_dir(self) -> Path:
        return self.resolve(self.output_path)

    @property
    def deploy_repo_path(self) -> Path | None:
        """The deploy repo as a local path, or None when it is a URL."""
        if is_remote_url(self.deploy_repo):
            return None
        return self.resolve(self.deploy_repo)

    def demo_view(self) -> Settings:
        """The same settings pointed at the demo sandbox (specs, output, deploy repo)."""
        if self.demo:
            return self
        base = self.demo_root
        return self.model_copy(
            update={
                "demo": True,
                "tenants_path": f"{base}/tenants",
                "output_path": f"{base}/output",
                "deploy_repo": f"{base}/deploy-repo",
                "deploy_remote": None,
                "journal_path": f"{base}/journal",
            }
        )

    def resolve(self, value: str) -> Path:
        """A configured path, relative to the workspace root unless absolute."""
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    @classmethod
    def load(cls, root: Path, **overrides: Any) -> Settings:
        """Defaults < ecp.toml < ECP_* environment < explicit overrides."""
        values: dict[str, Any] = {}
        config = root / CONFIG_FILE
        if config.is_file():
            try:
                values.update(tomllib.loads(config.read_text(encoding="utf-8")))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise UsageError(
                    f"cannot parse config: {exc}", location=Location(file=str(config))
                ) from exc
        for name in cls.model_fields:
            env = os.environ.get(f"ECP_{name.upper()}")
            if env is not None and name not in ("root", "cluster", "consumers", "access"):
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["root"] = root
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise UsageError(
                f"invalid setting {field}: {first['msg']}",
                location=Location(file=str(config), field=field),
            ) from exc
