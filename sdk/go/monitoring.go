package orchestrator

// Monitoring calls over HTTP: send metrics, read series, alerts and system metrics.

import (
	"context"
	"net/url"
	"strconv"
)

// MonitoringQuery is the query of GET /tenants/{id}/monitoring; nil means the defaults
// (all metrics, 24 hours, 5m interval).
type MonitoringQuery struct {
	MetricType string // cpu, memory, gpu, network, storage, ...
	Hours      int
	Interval   string // 1m, 5m, 1h
}

// AlertQuery is the query of GET /tenants/{id}/alerts; nil means 100 alerts of 24 hours.
type AlertQuery struct {
	Limit int
	Hours int
}

// SendMetrics sends one sample of the current moment (POST /tenants/{id}/monitoring), e.g.
// Metrics{"cpu": 65.5, "memory": 78.2}.
func (c *Client) SendMetrics(tenantID string, metrics Metrics) (*MetricsAccepted, error) {
	return c.SendMetricsContext(context.Background(), tenantID, metrics)
}

// SendMetricsContext is SendMetrics with a context.
func (c *Client) SendMetricsContext(ctx context.Context, tenantID string, metrics Metrics) (*MetricsAccepted, error) {
	return c.SendSamplesContext(ctx, tenantID, []MetricSample{{Metrics: metrics}})
}

// SendSamples sends timestamped samples as one batch: all are stored, or none.
func (c *Client) SendSamples(tenantID string, samples []MetricSample) (*MetricsAccepted, error) {
	return c.SendSamplesContext(context.Background(), tenantID, samples)
}

// SendSamplesContext is SendSamples with a context.
func (c *Client) SendSamplesContext(ctx context.Context, tenantID string, samples []MetricSample) (*MetricsAccepted, error) {
	var body interface{} = map[string][]MetricSample{"samples": samples}
	if len(samples) == 1 {
		body = samples[0] // the reference's single-sample body
	}
	path := "/tenants/" + segment(tenantID) + "/monitoring"
	return fetch[MetricsAccepted](ctx, c, call{method: "POST", path: path, body: body})
}

// GetMonitoring reads a tenant's metric series (GET /tenants/{id}/monitoring).
func (c *Client) GetMonitoring(tenantID string, q *MonitoringQuery) (*MonitoringData, error) {
	return c.GetMonitoringContext(context.Background(), tenantID, q)
}

// GetMonitoringContext is GetMonitoring with a context.
func (c *Client) GetMonitoringContext(ctx context.Context, tenantID string, q *MonitoringQuery) (*MonitoringData, error) {
	values := url.Values{"hours": {"24"}, "interval": {"5m"}}
	if q != nil {
		if q.Hours > 0 {
			values.Set("hours", strconv.Itoa(q.Hours))
		}
		if q.Interval != "" {
			values.Set("interval", q.Interval)
		}
		if q.MetricType != "" {
			values.Set("metric_type", q.MetricType)
		}
	}
	path := "/tenants/" + segment(tenantID) + "/monitoring"
	return fetch[MonitoringData](ctx, c, call{method: "GET", path: path, query: values})
}

// GetAlerts reads a tenant's recent alerts, newest first (GET /tenants/{id}/alerts).
func (c *Client) GetAlerts(tenantID string, q *AlertQuery) (*AlertList, error) {
	return c.GetAlertsContext(context.Background(), tenantID, q)
}

// GetAlertsContext is GetAlerts with a context.
func (c *Client) GetAlertsContext(ctx context.Context, tenantID string, q *AlertQuery) (*AlertList, error) {
	values := url.Values{"limit": {"100"}, "hours": {"24"}}
	if q != nil {
		if q.Limit > 0 {
			values.Set("limit", strconv.Itoa(q.Limit))
		}
		if q.Hours > 0 {
			values.Set("hours", strconv.Itoa(q.Hours))
		}
	}
	path := "/tenants/" + segment(tenantID) + "/alerts"
	return fetch[AlertList](ctx, c, call{method: "GET", path: path, query: values})
}

// GetSystemMetrics reads cluster capacity and use (GET /monitoring/system).
func (c *Client) GetSystemMetrics() (*SystemMetrics, error) {
	return c.GetSystemMetricsContext(context.Background())
}

// GetSystemMetricsContext is GetSystemMetrics with a context.
func (c *Client) GetSystemMetricsContext(ctx context.Context) (*SystemMetrics, error) {
	return fetch[SystemMetrics](ctx, c, call{method: "GET", path: "/monitoring/system"})
}
