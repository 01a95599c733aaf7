"""Prometheus as the metrics backend: remote-write out, PromQL queries and alerts in.

Modules: remote_write (samples -> a snappy-compressed WriteRequest), client (the one HTTP client,
its timeout and its error mapping), queries (the PromQL for each reference metric over cAdvisor,
DCGM, kubelet and our own series), backend (the reference's answers from those queries). Talks
only to the configured prometheus_url; never to the SQLite store, the service or the cluster.
"""

from compiler.monitoring.prometheus.backend import PrometheusBackend
from compiler.monitoring.prometheus.client import PrometheusClient

__all__ = ["PrometheusBackend", "PrometheusClient"]
