"""Job and CronJob specs, as pkg/apis/batch/validation checks them: restartPolicy OnFailure or
Never, non-negative counts, a five-field schedule, CronJob names of at most 52 characters
(the Jobs it creates append an 11-character suffix). Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from compiler.validating.apiserver import pods
from compiler.validating.apiserver.apps import nonnegative
from compiler.validating.apiserver.fielderrors import (
    FieldError,
    child,
    invalid,
    not_supported,
    required,
)

CRONJOB_NAME_MAX = 52  # DNS1035LabelMaxLength - 11
_CONCURRENCY = ("Allow", "Forbid", "Replace")
_MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                     "@hourly"})  # fmt: skip
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?\-LW#]+$")


def job(spec: Mapping[str, Any], path: str = "spec") -> Iterator[FieldError]:
    for field in ("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"):
        yield from nonnegative(spec, field, path)
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= 0:
        yield invalid(child(path, "activeDeadlineSeconds"), deadline, "must be greater than 0")
    template = spec.get("template")
    yield from pods.template(template, child(path, "template"))
    policy = ((template or {}).get("spec") or {}).get("restartPolicy") or ""
    if policy not in ("OnFailure", "Never"):
        yield required(child(path, "template.spec.restartPolicy"),
                       'valid values: "OnFailure", "Never"')  # fmt: skip


def cron_job_name(name: str) -> list[str]:
    return [f"must be no more than {CRONJOB_NAME_MAX} characters"] if len(name) > 52 else []


def cron_job(spec: Mapping[str, Any], path: str = "spec") -> Iterator[FieldError]:
    schedule = spec.get("schedule") or ""
    if not schedule:
        yield required(child(path, "schedule"))
    else:
        problem = _schedule_problem(schedule)
        if problem:
            yield invalid(child(path, "schedule"), schedule, problem)
    concurrency = spec.get("concurrencyPolicy") or "Allow"
    if concurrency not in _CONCURRENCY:
        yield not_supported(child(path, "concurrencyPolicy"), concurrency, _CONCURRENCY)
    for field in ("startingDeadlineSeconds", "successfulJobsHistoryLimit",
                  "failedJobsHistoryLimit"):  # fmt: skip
        yield from nonnegative(spec, field, path)
    job_template = spec.get("jobTemplate") or {}
    yield from job(job_template.get("spec") or {}, child(path, "jobTemplate.spec"))


def _schedule_problem(schedule: str) -> str | None:
    if "TZ" in schedule:
        return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    if schedule.startswith("@"):
        return None if schedule in _MACROS or schedule.startswith("@every ") else (
            f"unrecognized descriptor: {schedule}")  # fmt: skip
    fields = schedule.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{schedule}]"
    if not all(_CRON_FIELD.match(part) for part in fields):
        return f"failed to parse schedule: [{schedule}]"
    return None
