"""The API's own request series: each (method, route, status class) counted apart, however often
its child is reused."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from compiler.monitoring.exposition import Exposition


def test_requests_are_counted_and_timed_by_their_own_labels() -> None:
    exposition = Exposition()
    for method, route, status, seconds in (
        ("GET", "/api/v1/tenants/", "2xx", 0.002),
        ("GET", "/api/v1/tenants/", "2xx", 0.004),
        ("GET", "/api/v1/tenants/", "4xx", 0.001),
        ("PUT", "/api/v1/tenants/{tenant_id}", "2xx", 0.3),
        ("GET", "/api/v1/tenants/{tenant_id}", "2xx", 0.003),
    ):
        exposition.observe_request(method, route, status, seconds)
    families = {f.name: f for f in text_string_to_metric_families(exposition.render().decode())}
    counted = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in families["ecp_api_requests"].samples
        if s.name.endswith("_total")
    }
    assert counted == {
        ("GET", "/api/v1/tenants/", "2xx"): 2,
        ("GET", "/api/v1/tenants/", "4xx"): 1,
        ("PUT", "/api/v1/tenants/{tenant_id}", "2xx"): 1,
        ("GET", "/api/v1/tenants/{tenant_id}", "2xx"): 1,
    }
    timed = {
        (s.labels["method"], s.labels["route"]): s.value
        for s in families["ecp_api_request_duration_seconds"].samples
        if s.name.endswith("_sum")
    }
    assert timed[("GET", "/api/v1/tenants/")] == 0.007
    assert timed[("PUT", "/api/v1/tenants/{tenant_id}")] == 0.3
