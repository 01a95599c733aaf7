"""Our alert engine and the PrometheusRule we render fire the same alerts for the same samples.

Each scenario of alert_scenarios.py is run through the engine, then through the real
`promtool test rules` over the rendered rule group; both must match the scenario's expected
firing minute by minute (`for`, hysteresis, inhibition of warning by critical).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from alert_scenarios import SCENARIOS, Scenario
from prometheus_tools import tool

from compiler.alerting import AlertRules, load_alert_rules, metric, prometheus_rule_groups
from compiler.monitoring.alerts import SEVERITIES, AlertEngine
from compiler.monitoring.samples import Sample, parse_samples

REPO = Path(__file__).resolve().parent.parent
START_MS = 1_800_000_000_000
TENANT = "t-1"
IDS = [s.id for s in SCENARIOS]


@pytest.fixture(scope="module")
def rules() -> AlertRules:
    return load_alert_rules(REPO / "presets")


def minute_samples(scenario: Scenario) -> list[Sample]:
    body = [
        {"timestamp": (START_MS + 60_000 * i) / 1000, "metrics": {scenario.metric: v}}
        for i, v in enumerate(scenario.values)
    ]
    return parse_samples(body, START_MS + 86_400_000)


def engine_firing(rules: AlertRules, scenario: Scenario) -> list[str | None]:
    """What the engine has firing after each sample, fed one sample per batch as agents send."""
    engine = AlertEngine(rules)
    seen: list[str | None] = []
    for sample in minute_samples(scenario):
        engine.commit(engine.evaluate(TENANT, [sample], scenario.sla_ms))
        seen.append(SEVERITIES.get(engine.level(TENANT, scenario.metric)))
    return seen


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_the_engine_fires_what_the_scenario_expects(rules: AlertRules, scenario: Scenario) -> None:
    assert engine_firing(rules, scenario) == list(scenario.firing)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_the_engine_raises_one_alert_per_start_of_firing(
    rules: AlertRules, scenario: Scenario
) -> None:
    evaluation = AlertEngine(rules).evaluate(TENANT, minute_samples(scenario), scenario.sla_ms)
    starts = [
        (START_MS + 60_000 * i, level)
        for i, level in enumerate(scenario.firing)
        if level is not None and (i == 0 or scenario.firing[i - 1] != level)
    ]
    assert [(a.timestamp_ms, a.severity) for a in evaluation.alerts] == starts


def promtool_test(rules: AlertRules, scenario: Scenario) -> dict[str, Any]:
    """A promtool unit test: the scenario as an input series, the expected alerts per minute."""
    definition = metric(scenario.metric)
    groups = prometheus_rule_groups(TENANT, f"ecp-ai-{TENANT}", scenario.sla_ms, rules)
    by_name = {r["alert"]: r for r in groups[0]["rules"]}
    stem = next(r for r in rules.rules if r.metric == scenario.metric).alert_stem
    values = " ".join(format(v * definition.gauge_scale, ".10g") for v in scenario.values)
    tests = []
    for minute, level in enumerate(scenario.firing):
        for severity in ("Warning", "Critical"):
            rule = by_name[f"{stem}{severity}"]
            firing = level == severity.lower()
            tests.append(
                {
                    "eval_time": f"{minute}m",
                    "alertname": rule["alert"],
                    "exp_alerts": [
                        {"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}
                    ]
                    if firing
                    else [],
                }
            )
    return {
        "groups": groups,
        "test": {
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        {"series": f'{definition.gauge}{{tenant="{TENANT}"}}', "values": values}
                    ],
                    "alert_rule_test": tests,
                }
            ],
        },
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_promtool_fires_the_same_alerts_from_the_rendered_rules(
    rules: AlertRules, scenario: Scenario, tmp_path: Path
) -> None:
    promtool = tool("promtool")
    case = promtool_test(rules, scenario)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": case["groups"]}), "utf-8")
    test = {"rule_files": ["rules.yaml"], **case["test"]}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, allow_unicode=True), "utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_would_catch_an_engine_that_ignored_for(rules: AlertRules, tmp_path: Path) -> None:
    """The comparison can fail: expecting the alert at once (no `for`) is refused by promtool."""
    promtool = tool("promtool")
    scenario = Scenario("at-once", "gpu_usage", (97, 97, 97), ("critical",) * 3)
    case = promtool_test(rules, scenario)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": case["groups"]}), "utf-8")
    test = {"rule_files": ["rules.yaml"], **case["test"]}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, allow_unicode=True), "utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0


def test_every_rendered_rule_file_passes_promtool_check_rules(
    rules: AlertRules, tmp_path: Path
) -> None:
    promtool = tool("promtool")
    for has_gpu in (True, False):
        groups = prometheus_rule_groups(TENANT, f"ecp-ai-{TENANT}", 200, rules, has_gpu=has_gpu)
        path = tmp_path / f"rules-{has_gpu}.yaml"
        path.write_text(yaml.safe_dump({"groups": groups}, allow_unicode=True), "utf-8")
        done = subprocess.run(
            [promtool, "check", "rules", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
