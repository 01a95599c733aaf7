package orchestrator_test

// The HTTP calls against a real `ecp serve`: every endpoint, If-Match, typed errors, request
// ids, contexts and timeouts. Headers are checked on a local capture server, since a server
// without auth would accept a missing token silently.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	orchestrator "github.com/ecp-ai/orchestrator-client-go"
)

func newClient() *orchestrator.Client {
	return orchestrator.NewClient(&orchestrator.Config{BaseURL: server.baseURL, IsDemo: false, Token: server.token})
}

func TestATenantIsCreatedReadUpdatedWithIfMatchAndDeleted(t *testing.T) {
	c := newClient()
	created, err := c.CreateTenant(&orchestrator.TenantRequest{
		TenantID: "go-sdk-tenant", Name: "내 서비스", Preset: "medium",
		ServiceRequirements: map[string]int{"chatbot": 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.TenantID != "go-sdk-tenant" || !regexp.MustCompile(`^dep-[0-9a-f]+$`).MatchString(created.DeploymentID) {
		t.Fatalf("created = %+v", created)
	}
	if created.EstimatedResources == nil || created.EstimatedResources.CPU == "" {
		t.Fatalf("no estimated resources: %+v", created)
	}
	tenant, err := c.GetTenant("go-sdk-tenant")
	if err != nil || tenant.ServiceRequirements["chatbot"] != 100 || tenant.Resources == nil {
		t.Fatalf("get = %+v, %v", tenant, err)
	}
	etag, err := c.GetTenantETag("go-sdk-tenant")
	if err != nil || !strings.HasSuffix(etag, `"`) {
		t.Fatalf("etag %q, %v", etag, err)
	}
	changes := &orchestrator.TenantUpdate{ServiceRequirements: map[string]int{"chatbot": 150}}
	if _, err := c.UpdateTenant("go-sdk-tenant", changes, &orchestrator.WriteOptions{IfMatch: etag}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetTenant("go-sdk-tenant"); got.ServiceRequirements["chatbot"] != 150 {
		t.Fatalf("update not applied: %+v", got.ServiceRequirements)
	}
	// The ETag read before the update names a version that is gone now.
	_, err = c.UpdateTenant("go-sdk-tenant", &orchestrator.TenantUpdate{Name: "x"}, &orchestrator.WriteOptions{IfMatch: etag})
	var apiErr *orchestrator.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 412 || !errors.Is(err, orchestrator.ErrPreconditionFailed) {
		t.Fatalf("stale If-Match: %v", err)
	}
	etag, _ = c.GetTenantETag("go-sdk-tenant")
	deleted, err := c.DeleteTenant("go-sdk-tenant", &orchestrator.DeleteOptions{IfMatch: etag})
	if err != nil || !strings.HasPrefix(deleted.DeletionID, "del-") {
		t.Fatalf("delete = %+v, %v", deleted, err)
	}
	if _, err := c.GetTenant("go-sdk-tenant"); !errors.Is(err, orchestrator.ErrTenantNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestListFiltersAndPaginationReachTheServer(t *testing.T) {
	c := newClient()
	page, err := c.GetTenants(&orchestrator.ListOptions{Skip: 1, Limit: 2})
	if err != nil || page.Pagination.Skip != 1 || page.Pagination.Limit != 2 || len(page.Tenants) > 2 {
		t.Fatalf("page = %+v, %v", page, err)
	}
	medium, err := c.GetTenants(&orchestrator.ListOptions{Preset: "large"})
	if err != nil || len(medium.Tenants) == 0 {
		t.Fatalf("medium = %+v, %v", medium, err)
	}
	for _, tenant := range medium.Tenants {
		if tenant.Preset != "large" {
			t.Errorf("%s has preset %s", tenant.TenantID, tenant.Preset)
		}
	}
	all, err := c.GetTenants(nil)
	if err != nil || all.TotalCount < 5 {
		t.Fatalf("all = %+v, %v", all, err)
	}
}

func TestCalculateResourcesAnswersAPresetAndTotals(t *testing.T) {
	estimate, err := newClient().CalculateResources(&orchestrator.ResourceRequest{
		ServiceRequirements: map[string]int{"callbot": 100, "chatbot": 200, "advisor": 50},
		SLATarget:           &orchestrator.SLATarget{Availability: "99.9%", ResponseTime: "300ms"},
	})
	if err != nil || estimate.RecommendedPreset == "" || !strings.HasSuffix(estimate.Resources.CPU, "m") {
		t.Fatalf("estimate = %+v, %v", estimate, err)
	}
}

func TestGetManifestReturnsExactlyTheCompiledBytes(t *testing.T) {
	c := newClient()
	manifest, err := c.GetManifest("my-ai-service", nil)
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := os.ReadFile(filepath.Join(server.root, "output", "my-ai-service", "manifest.yaml"))
	if err != nil || manifest != string(compiled) {
		t.Fatalf("manifest differs from output/ (%d vs %d bytes, %v)", len(manifest), len(compiled), err)
	}
	withIngress, err := c.GetManifest("my-ai-service", &orchestrator.ManifestOptions{Format: "json", IncludeIngress: true, ExcludeMonitoring: true})
	if err != nil || !strings.Contains(withIngress, `"Ingress"`) || strings.Contains(withIngress, `"ServiceMonitor"`) {
		t.Fatalf("options not applied: %v", err)
	}
	valid, err := c.ValidateManifest(manifest, "my-ai-service")
	if err != nil || !valid.Valid {
		t.Fatalf("validate = %+v, %v", valid, err)
	}
	bad, err := c.ValidateManifest("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n", "")
	if err != nil || bad.Valid || len(bad.Errors) == 0 {
		t.Fatalf("broken manifest = %+v, %v", bad, err)
	}
	status, err := c.GetDeploymentStatus("my-ai-service")
	if err != nil || status.TenantID != "my-ai-service" {
		t.Fatalf("status = %+v, %v", status, err)
	}
}

// heldSamples: the same metrics once a minute for three minutes, ending now.
func heldSamples(metrics orchestrator.Metrics) []orchestrator.MetricSample {
	now := time.Now().UTC().Truncate(time.Second)
	samples := make([]orchestrator.MetricSample, 0, 3)
	for m := 2; m >= 0; m-- {
		stamp := now.Add(-time.Duration(m) * time.Minute).Format(time.RFC3339)
		samples = append(samples, orchestrator.MetricSample{Timestamp: stamp, Metrics: metrics})
	}
	return samples
}

func TestMetricsSentComeBackAndFireAnAlert(t *testing.T) {
	c := newClient()
	// Held for the rule's `for: 2m` (one sample a minute), as the server's alert rules require.
	accepted, err := c.SendSamples("my-ai-service", heldSamples(orchestrator.Metrics{"cpu": 65.5, "memory": 96.5}))
	if err != nil || accepted.Accepted != 3 {
		t.Fatalf("accepted = %+v, %v", accepted, err)
	}
	data, err := c.GetMonitoring("my-ai-service", &orchestrator.MonitoringQuery{MetricType: "cpu", Hours: 1, Interval: "1m"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range data.Metrics["cpu"] {
		found = found || p.Value == 65.5
	}
	if !found {
		t.Fatalf("65.5 not in %+v", data.Metrics["cpu"])
	}
	alerts, err := c.GetAlerts("my-ai-service", &orchestrator.AlertQuery{Limit: 10})
	if err != nil || len(alerts.Alerts) == 0 || alerts.Alerts[0].Metric != "memory" || alerts.Alerts[0].Severity != "critical" {
		t.Fatalf("alerts = %+v, %v", alerts, err)
	}
	system, err := c.GetSystemMetrics()
	if err != nil || system.TotalTenants < 5 || system.ClusterStatus == "" {
		t.Fatalf("system = %+v, %v", system, err)
	}
	_, err = c.SendMetrics("my-ai-service", orchestrator.Metrics{"cpu": 101})
	if !errors.Is(err, orchestrator.ErrValidation) {
		t.Fatalf("cpu 101: %v", err)
	}
}

func TestErrorAnswersAreTypedAPIErrors(t *testing.T) {
	c := newClient()
	ctx := orchestrator.WithRequestID(context.Background(), "goreq42")
	_, err := c.GetTenantContext(ctx, "nope")
	var apiErr *orchestrator.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("not an APIError: %#v", err)
	}
	if apiErr.Code != "TENANT_NOT_FOUND" || apiErr.Status != 404 || apiErr.RequestID != "goreq42" || apiErr.Details["tenant_id"] != "nope" {
		t.Fatalf("apiErr = %+v", apiErr)
	}
	if !errors.Is(err, orchestrator.ErrTenantNotFound) || !errors.Is(err, orchestrator.ErrNotFound) || errors.Is(err, orchestrator.ErrConflict) {
		t.Fatal("errors.Is does not follow the code and class")
	}
	if c.LastRequestID() != "goreq42" {
		t.Fatalf("LastRequestID = %q", c.LastRequestID())
	}
	_, err = c.CreateTenant(&orchestrator.TenantRequest{TenantID: "my-ai-service", Name: "x", ServiceRequirements: map[string]int{"chatbot": 1}})
	if !errors.Is(err, orchestrator.ErrTenantAlreadyExists) || !errors.Is(err, orchestrator.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = c.CreateTenant(&orchestrator.TenantRequest{TenantID: "go-too-big", Name: "x", Preset: "micro", ServiceRequirements: map[string]int{"callbot": 500}})
	if !errors.Is(err, orchestrator.ErrInsufficientResources) || !errors.Is(err, orchestrator.ErrValidation) {
		t.Fatalf("too big: %v", err)
	}
	_, err = c.GetTenant("../../openapi.json")
	if !errors.As(err, &apiErr) || (apiErr.Status != 404 && apiErr.Status != 422) {
		t.Fatalf("a tenant id steered the path: %v", err)
	}
}

func TestAnUnreachableServerIsAConnectionError(t *testing.T) {
	c := orchestrator.NewClient(&orchestrator.Config{BaseURL: "http://127.0.0.1:9/api/v1", Timeout: 5 * time.Second})
	_, err := c.GetTenants(nil)
	var connErr *orchestrator.ConnectionError
	if !errors.As(err, &connErr) || connErr.Timeout() || !strings.HasPrefix(connErr.RequestID, "sdk-") {
		t.Fatalf("err = %#v", err)
	}
	var apiErr *orchestrator.APIError
	if errors.As(err, &apiErr) {
		t.Fatal("a transport failure is not an API error")
	}
}

func TestHeadersTimeoutsAndCancellationOnACaptureServer(t *testing.T) {
	seen := make(chan *http.Request, 10)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		if strings.HasPrefix(r.URL.Path, "/api/v1/hang") || strings.Contains(r.URL.Path, "hang") {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tenants": [], "total_count": 0}`))
	}))
	defer capture.Close()

	demo := orchestrator.NewClient(&orchestrator.Config{BaseURL: capture.URL + "/api/v1", IsDemo: true, Token: "ecp_test_token"})
	if _, err := demo.GetTenants(&orchestrator.ListOptions{Preset: "small"}); err != nil {
		t.Fatal(err)
	}
	r := <-seen
	if r.Header.Get("Authorization") != "Bearer ecp_test_token" || r.Header.Get("X-Demo-Mode") != "true" ||
		!regexp.MustCompile(`^sdk-[0-9a-f]{16}$`).MatchString(r.Header.Get("X-Request-ID")) || r.URL.RawQuery != "preset=small" {
		t.Fatalf("headers %v query %q", r.Header, r.URL.RawQuery)
	}
	if _, err := orchestrator.NewClient(&orchestrator.Config{BaseURL: capture.URL + "/api/v1"}).GetTenants(nil); err != nil {
		t.Fatal(err)
	}
	if r := <-seen; r.Header.Get("Authorization") != "" || r.Header.Get("X-Demo-Mode") != "false" {
		t.Fatalf("anonymous real-mode headers %v", r.Header)
	}

	slow := orchestrator.NewClient(&orchestrator.Config{BaseURL: capture.URL + "/api/v1", Timeout: 200 * time.Millisecond})
	started := time.Now()
	_, err := slow.GetTenant("hang")
	var connErr *orchestrator.ConnectionError
	if !errors.As(err, &connErr) || !connErr.Timeout() || !errors.Is(err, context.DeadlineExceeded) || time.Since(started) > 5*time.Second {
		t.Fatalf("timeout: %v", err)
	}
	<-seen

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = orchestrator.NewClient(&orchestrator.Config{BaseURL: capture.URL + "/api/v1", Timeout: -1}).GetTenantContext(ctx, "hang")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}
