"""Monitoring: metric samples and alerts in an embedded SQLite store, live events, demo data.

Stage modules: samples (request bodies -> rows), store (SQLite), alerts (rules with `for`,
hysteresis and inhibition, as the rendered PrometheusRule), broadcast (bounded fan-out), demo
(synthetic series), system (capacity vs quotas), exposition (/metrics), compiled (what
output/index.json says of a tenant), prometheus/ (Prometheus as the metrics backend), service
(what the API shell holds). May import compiler.spec, settings, errors, alerting and cluster;
never compiler.service or compiler.cli.
"""

from compiler.monitoring.service import MonitoringService
from compiler.monitoring.space import MonitoringQuery, MonitoringSpace

__all__ = ["MonitoringQuery", "MonitoringService", "MonitoringSpace"]
