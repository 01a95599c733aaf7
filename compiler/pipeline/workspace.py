"""The compile workspace: what a run loads once (catalogue, alert rules, template, validator)
and how one tenant is built from its spec; the index entry each build leaves in index.json.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from compiler import __version__
from compiler.alerting import ALERTS_FILE, load_alert_rules
from compiler.catalogue import Catalogue, load_catalogue
from compiler.errors import Location, SpecInvalid, UsageError
from compiler.output import dump_documents
from compiler.rendering import Renderer, RenderOptions
from compiler.settings import Settings
from compiler.sizing import ResourcePlan, plan_tenant
from compiler.sizing.deployment_time import deployment_time
from compiler.sizing.redis import plan_with_redis
from compiler.spec.ids import namespace_for
from compiler.spec.models import TenantSpec, redis_url_problem
from compiler.validating.findings import Finding
from compiler.validating.validate import ManifestValidator, PolicyContext

# Sources whose change changes output: hashed into every tenant's input hash.
_FINGERPRINTED = ("spec", "sizing", "rendering", "output", "validating", "pipeline")
_FINGERPRINTED_MODULES = ("catalogue.py", "alerting.py", "quantity.py")
# Off the compile path (import-linter keeps it so): changing it must not invalidate compiled output.
_NOT_FINGERPRINTED = ("sizing/simulation",)


@dataclass(frozen=True)
class TenantBuild:
    spec: TenantSpec
    plan: ResourcePlan
    objects: list[dict[str, Any]]
    manifest_text: str
    findings: list[Finding]
    index_entry: dict[str, Any]


@functools.cache
def _fingerprint() -> str:
    # Once per process: the code that runs is the code imported at start, so a server (which
    # compiles on every write) need not re-read every source file each time (~20 ms).
    digest = hashlib.sha256(__version__.encode())
    package = resources.files("compiler")
    root = Path(str(package))
    for name in _FINGERPRINTED:
        folder = Path(str(package.joinpath(name)))
        for path in sorted(folder.rglob("*")):
            if path.relative_to(root).as_posix().startswith(_NOT_FINGERPRINTED):
                continue
            if path.suffix in (".py", ".j2", ".json") and path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    for module in _FINGERPRINTED_MODULES:
        digest.update(module.encode() + package.joinpath(module).read_bytes())
    return digest.hexdigest()


class Workspace:
    """Everything a compile loads once: catalogue, alert rules, template, validator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalogue: Catalogue = load_catalogue(settings.presets_dir)
        alerts = settings.presets_dir / ALERTS_FILE
        self.alert_rules = load_alert_rules(settings.presets_dir)
        fingerprint = _fingerprint()
        # Compiled templates bake in how filters are called: a compiler change must not reuse
        # bytecode from another version, so the cache folder is per compiler fingerprint.
        self.renderer = Renderer(
            self.catalogue,
            self.alert_rules,
            cache_dir=settings.cache_dir / "templates" / fingerprint[:16],
            zones=settings.cluster.zones,
        )
        self.validator = ManifestValidator(
            settings.kubernetes_version, cache_dir=settings.cache_dir / "schemas"
        )
        self.policy = PolicyContext(cluster_gpu=settings.cluster.gpu)
        problem = None if settings.redis_url is None else redis_url_problem(settings.redis_url)
        if problem:
            raise UsageError(
                f"invalid setting redis_url: {problem}", details={"field": "redis_url"}
            )
        self._salt = hashlib.sha256(
            f"{fingerprint}\0{self.catalogue.digest}\0{settings.kubernetes_version}\0"
            f"{','.join(settings.cluster.zones)}\0".encode()
            + (alerts.read_bytes() if alerts.is_file() else b"")
        ).digest()

    @property
    def salt(self) -> str:
        """What every input hash is salted with (compiler, presets, Kubernetes version, zones)."""
        return self._salt.hex()

    def input_hash(self, spec_text: str) -> str:
        return self.input_hash_bytes(spec_text.encode())

    def input_hash_bytes(self, spec: bytes) -> str:
        return hashlib.sha256(self._salt + spec).hexdigest()

    def build(
        self, spec: TenantSpec, options: RenderOptions | None = None, input_hash: str = ""
    ) -> TenantBuild:
        external = spec.redis_url or self.settings.redis_url
        redis = None
        if external is None:
            plan, redis = plan_with_redis(spec, self.catalogue)
        else:
            plan = plan_tenant(spec, self.catalogue, own_store=False)
        if self.settings.require_image_digests:
            preset = self.catalogue.redis
            _require_digests(plan, preset.image if redis is not None and preset else None)
        objects = self.renderer.render(
            spec, plan, options or RenderOptions(), redis=redis, external_redis_url=external
        )
        findings = self.validator.validate(objects, unknown_kind="error", policy=self.policy)
        findings += [  # the sizing's own warnings (concurrent_users against the channels)
            Finding("warning", "sizing", w, 0, None, None, "sla_target.concurrent_users")
            for w in plan.warnings
        ]
        text = dump_documents(objects)
        tier = self.catalogue.tiers[plan.tier]
        quota = {"cpu": tier.cpu, "memory": tier.memory, "gpu": tier.gpu, "storage": tier.storage}
        entry = index_entry(
            spec, plan, quota, text, len(objects), input_hash,
            deployment_time(plan, self.catalogue),
        )  # fmt: skip
        if redis is not None:
            entry["pods"] += redis.pods  # the session store's data pods and sentinels
        return TenantBuild(spec, plan, objects, text, findings, entry)


def _require_digests(plan: ResourcePlan, redis_image: str | None) -> None:
    """Refuse unpinned images: the spec's own services first, then the Redis preset's."""
    unpinned = [s for s in plan.services if "@sha256:" not in s.image]
    if unpinned:
        first = unpinned[0]
        raise SpecInvalid(
            f"image {first.image!r} of {first.name} is not pinned by digest and "
            f"require_image_digests is set: give images.{first.name} as <image>@sha256:<digest>",
            details={"unpinned": {s.name: s.image for s in unpinned}},
            location=Location(field=f"images.{first.name}"),
        )
    if redis_image is not None and "@sha256:" not in redis_image:
        raise SpecInvalid(
            f"the Redis image {redis_image!r} (presets/redis.yaml) is not pinned by digest and "
            "require_image_digests is set: pin it there, or set redis_url to an external Redis",
            location=Location(file="presets/redis.yaml", field="redis.image"),
        )


def index_entry(
    spec: TenantSpec,
    plan: ResourcePlan,
    quota: dict[str, Any],
    manifest: str,
    documents: int,
    input_hash: str,
    rollout_time: str,
) -> dict[str, Any]:
    """One tenant's line in output/index.json (the contract other stages read); `quota` is the
    tier's envelope, which the namespace's ResourceQuota reserves; `rollout_time` is the plan's
    derived deployment_time (sizing/deployment_time.py), which the API's answers give."""
    totals = plan.totals
    tier = plan.tier
    return {
        "name": spec.name,
        "description": spec.description,
        # Only when the spec has some (the list's label filter reads them): entries without
        # labels stay as they were.
        **({"labels": dict(sorted(spec.labels.items()))} if spec.labels else {}),
        "namespace": namespace_for(spec.tenant_id),
        "preset": tier,
        "preset_source": plan.tier_source,
        "gpu_type": plan.gpu_type,
        "quota": quota,
        "totals": {
            **totals.as_resources(),
            "cpu_millicores": totals.cpu_millicores,
            "memory_mib": totals.memory_mib,
            "storage_gb": totals.storage_gb,
        },
        "monthly_cost_usd": round(plan.cost.total, 2),
        "estimated_cost": plan.cost.label(),
        "deployment_time": rollout_time,
        "replicas": {s.name: s.replicas for s in plan.services},
        "service_requirements": spec.service_requirements.given(),
        "sla_target": spec.sla_target.model_dump(),
        "input_hash": input_hash,
        "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
        "documents": documents,
        "pods": plan.pods,
    }
