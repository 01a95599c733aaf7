"""deployment_time: how long a planned tenant takes from its merged commit to every pod Ready.

Input: a ResourcePlan and the catalogue (presets/rollout.yaml). Output: the reference's string,
"N-M minutes". A new tenant's pods are all created at once, so the time is the GitOps sync delay
plus the slowest service's start: pulling its image (and an LLM's weights), loading the weights
onto the GPU, starting, passing readiness. The low end has images and weights already cached on
the nodes and a webhook-triggered sync; the high end pulls everything after a full poll interval.
Without presets/rollout.yaml the tier's nominal figure (presets/tiers.yaml) is returned, labelled
as nominal so that no reader takes it for an estimate of this plan. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from compiler.catalogue import Catalogue, RolloutPreset
from compiler.sizing.models import ResourcePlan, ServicePlan


@dataclass(frozen=True, slots=True)
class ServiceStart:
    service: str
    cached_s: float  # images and weights on the node already
    cold_s: float  # everything pulled first


def deployment_time(plan: ResourcePlan, catalogue: Catalogue) -> str:
    """ "N-M minutes" for the plan, or its tier's nominal figure (labelled) when no rollout
    preset exists."""
    rollout = catalogue.rollout
    if rollout is None or not plan.services:
        return nominal_deployment_time(plan.tier, catalogue.tiers[plan.tier].deployment_time)
    starts = [_start_of(s, catalogue, rollout) for s in plan.services]
    low = rollout.sync_delay_s[0] + max(s.cached_s for s in starts)
    high = rollout.sync_delay_s[1] + max(s.cold_s for s in starts)
    low_minutes = max(1, math.floor(low / 60))
    return f"{low_minutes}-{max(low_minutes + 1, math.ceil(high / 60))} minutes"


def nominal_deployment_time(tier: str, figure: str) -> str:
    """A tier's nominal figure (presets/tiers.yaml), said to be one: for answers that have no
    plan to derive the time from (a foreign manifest, an index entry from an older compiler)."""
    return f"{figure} (nominal for the {tier} tier, not derived from this plan)"


def _start_of(service: ServicePlan, catalogue: Catalogue, rollout: RolloutPreset) -> ServiceStart:
    """service_start, memoised on the catalogue: the service and its engine decide it (as for
    options_for, the presets are the memo's catalogue's: copies that share it differ in tiers)."""
    key = ("service start", service.name, service.option.engine)
    found: ServiceStart | None = catalogue.memo.get(key)
    if found is None:
        found = service_start(service, catalogue, rollout)
        catalogue.memo[key] = found
    return found


def service_start(
    service: ServicePlan, catalogue: Catalogue, rollout: RolloutPreset
) -> ServiceStart:
    """One service's pod start, cached and cold (its replicas start in parallel on their nodes)."""
    weights_gb = 0.0
    image_gb = rollout.image_gb.get(service.name, 0.0)
    if service.option.engine == "llm":
        profile = catalogue.services[service.name].llm_profile
        weights_gb = catalogue.llm_profiles[profile].weights_gb if profile else 0.0
        image_gb = rollout.llm_image_gb
    load_s = weights_gb / rollout.model_load_gb_per_s
    ready_s = rollout.container_start_s + rollout.readiness_s
    pull_s = (image_gb + weights_gb) * 1000 / rollout.pull_mb_per_s
    return ServiceStart(service.name, load_s + ready_s, pull_s + load_s + ready_s)
