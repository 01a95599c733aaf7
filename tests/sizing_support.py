"""Helpers for the sizing tests: the shipped catalogue, edited copies of it, and a corpus of
varied plans (their calculate answers) for the model-versus-simulation check."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import yaml

from compiler.catalogue import Catalogue, load_catalogue
from compiler.errors import OrchestratorError
from compiler.sizing import calculate
from compiler.spec.models import CalculateRequest, TenantSpec

ROOT = Path(__file__).resolve().parents[1]


def shipped() -> Catalogue:
    return load_catalogue(ROOT / "presets")


def edited(tmp_path: Path, filename: str, edit: Any) -> Catalogue:
    """The shipped presets with one file's data passed through `edit(data)`."""
    folder = tmp_path / "presets"
    if not folder.exists():
        shutil.copytree(ROOT / "presets", folder)
    data = yaml.safe_load((folder / filename).read_text(encoding="utf-8"))
    edit(data)
    (folder / filename).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_catalogue(folder)


def request(services: dict[str, int], **sla: Any) -> CalculateRequest:
    body: dict[str, Any] = {"service_requirements": services}
    extra: dict[str, Any] = {k: sla.pop(k) for k in ("preset", "gpu_type", "engines") if k in sla}
    body.update(extra)
    if sla:
        body["sla_target"] = sla
    return CalculateRequest.model_validate(body)


def spec(services: dict[str, int], **fields: Any) -> TenantSpec:
    body: dict[str, Any] = {"tenant_id": "t", "name": "t", "service_requirements": services}
    body.update(fields)
    return TenantSpec.model_validate(body)


def corpus(count: int = 60, seed: int = 8) -> list[dict[str, Any]]:
    """`count` varied feasible plans as calculate answers: mixes of services, loads from a few
    channels to thousands, SLAs, percentiles p50-p99.9, both engines and pinned GPU types."""
    rng = random.Random(seed)
    catalogue = shipped()
    plans: list[dict[str, Any]] = []
    names = ["callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa"]
    while len(plans) < count:
        chosen = rng.sample(names, rng.randint(1, 4))
        services = {n: rng.choice([1, 3, 10, 40, 150, 600, 2000]) for n in chosen}
        body: dict[str, Any] = {
            "service_requirements": services,
            "sla_target": {
                "availability": rng.choice(["99%", "99.5%", "99.9%", "99.95%"]),
                "response_time": rng.choice(["250ms", "300ms", "400ms", "600ms", "1s", "3s"]),
                "percentile": rng.choice(["p50", "p90", "p95", "p99", "p99.9"]),
            },
        }
        if rng.random() < 0.25:
            body["engines"] = {"callbot": "llm", "chatbot": "llm"}
        if rng.random() < 0.15:
            body["gpu_type"] = rng.choice(["a100", "h100", "l4"])
        try:
            answer = calculate(CalculateRequest.model_validate(body), catalogue).to_response()
        except OrchestratorError:
            continue
        plans.append(answer)
    return plans


def balanced_corpus(
    count: int = 50, seed: int = 11, catalogue: Catalogue | None = None
) -> list[dict[str, Any]]:
    """`count` varied feasible plans whose paths run at similar rates (so that a simulation of
    each path's requests stays short): 1-4 entry services, each given the channels that start
    2-40 requests/s along its path; SLAs, percentiles, engines and GPU pins vary. Sized on the
    shipped catalogue unless `catalogue` is given."""
    rng = random.Random(seed)
    catalogue = catalogue or shipped()
    per_channel = {p.entry: p.requests_per_channel_per_s for p in catalogue.paths.values()}
    plans: list[dict[str, Any]] = []
    while len(plans) < count:
        rate = rng.choice([2, 5, 10, 20, 40])
        chosen = rng.sample(sorted(per_channel), rng.randint(1, 4))
        body: dict[str, Any] = {
            "service_requirements": {n: max(1, round(rate / per_channel[n])) for n in chosen},
            "sla_target": {
                "availability": rng.choice(["99%", "99.5%", "99.9%", "99.95%"]),
                "response_time": rng.choice(["300ms", "400ms", "600ms", "1s", "3s"]),
                "percentile": rng.choice(["p50", "p90", "p95", "p99", "p99.9"]),
            },
        }
        if rng.random() < 0.3:
            body["engines"] = {"callbot": "llm", "chatbot": "llm"}
        if rng.random() < 0.15:
            body["gpu_type"] = rng.choice(["a100", "h100", "l4"])
        try:
            answer = calculate(CalculateRequest.model_validate(body), catalogue).to_response()
        except OrchestratorError:
            continue
        plans.append(answer)
    return plans
