// Command scenario runs the cross-SDK contract (sdk/scenario.json) through the Go SDK and prints
// its transcript as JSON. tests/test_sdk_contract.py runs it beside the Python and JavaScript
// runs against the same server and requires the same transcript.
// Env: ECP_SCENARIO_BASE_URL, ECP_SCENARIO_TOKEN, ECP_SCENARIO_FILE.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	orchestrator "github.com/ecp-ai/orchestrator-client-go"
)

type scenario struct {
	Tenant           orchestrator.TenantRequest   `json:"tenant"`
	Update           orchestrator.TenantUpdate    `json:"update"`
	StaleUpdate      orchestrator.TenantUpdate    `json:"stale_update"`
	Calculate        orchestrator.ResourceRequest `json:"calculate"`
	Metrics          orchestrator.Metrics         `json:"metrics"`
	StreamMetrics    []string                     `json:"stream_metrics"`
	StreamIntervalMS int                          `json:"stream_interval_ms"`
	ExistingTenant   string                       `json:"existing_tenant"`
	MissingTenant    string                       `json:"missing_tenant"`
	InvalidTenant    orchestrator.TenantRequest   `json:"invalid_tenant"`
	OversizedTenant  orchestrator.TenantRequest   `json:"oversized_tenant"`
	Unreadable       string                       `json:"unreadable_manifest"`
	UnreachableBase  string                       `json:"unreachable_base_url"`
}

type m = map[string]interface{}

var transcript [][2]interface{}

func record(step string, value interface{}) {
	transcript = append(transcript, [2]interface{}{step, value})
}

// The SDK classes of the other languages, told apart here with errors.Is and errors.As.
var classes = []struct {
	sentinel error
	name     string
}{
	{orchestrator.ErrTenantNotFound, "TenantNotFoundError"},
	{orchestrator.ErrTenantAlreadyExists, "TenantAlreadyExistsError"},
	{orchestrator.ErrPreconditionFailed, "PreconditionFailedError"},
	{orchestrator.ErrInsufficientResources, "InsufficientResourcesError"},
	{orchestrator.ErrManifestInvalid, "ManifestInvalidError"},
	{orchestrator.ErrValidation, "ValidationError"},
}

func describe(err error) interface{} {
	if err == nil {
		return "no error"
	}
	var connErr *orchestrator.ConnectionError
	if errors.As(err, &connErr) {
		return m{"class": "ECPConnectionError"}
	}
	var apiErr *orchestrator.APIError
	if !errors.As(err, &apiErr) {
		return m{"class": fmt.Sprintf("%T", err), "message": err.Error()}
	}
	class := "ECPError"
	for _, c := range classes {
		if errors.Is(err, c.sentinel) {
			class = c.name
			break
		}
	}
	return m{"class": class, "code": apiErr.Code, "status": apiErr.Status, "message": apiErr.Message,
		"details": apiErr.Details, "request_id": apiErr.RequestID != ""}
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, "scenario:", err)
		os.Exit(1)
	}
	return v
}

func main() {
	var s scenario
	must(0, json.Unmarshal(must(os.ReadFile(os.Getenv("ECP_SCENARIO_FILE"))), &s))
	c := orchestrator.NewClient(&orchestrator.Config{
		BaseURL: os.Getenv("ECP_SCENARIO_BASE_URL"), IsDemo: false, Token: os.Getenv("ECP_SCENARIO_TOKEN"),
	})
	id := s.Tenant.TenantID

	created := must(c.CreateTenant(&s.Tenant))
	record("create", m{"tenant_id": created.TenantID, "status": created.Status, "estimated_resources": created.EstimatedResources,
		"estimated_cost": created.EstimatedCost, "deployment_id": strings.HasPrefix(created.DeploymentID, "dep-")})
	tenant := must(c.GetTenant(id))
	record("get", m{"tenant_id": tenant.TenantID, "name": tenant.Name, "preset": tenant.Preset,
		"service_requirements": tenant.ServiceRequirements, "resources": tenant.Resources,
		"sla_target": m{"availability": tenant.SLATarget.Availability, "response_time": tenant.SLATarget.ResponseTime}})

	etag := must(c.GetTenantETag(id))
	updated := must(c.UpdateTenant(id, &s.Update, &orchestrator.WriteOptions{IfMatch: etag}))
	record("update", m{"tenant_id": updated.TenantID, "status": updated.Status,
		"estimated_resources": updated.EstimatedResources, "estimated_cost": updated.EstimatedCost})
	record("get_after_update", must(c.GetTenant(id)).ServiceRequirements)
	_, err := c.UpdateTenant(id, &s.StaleUpdate, &orchestrator.WriteOptions{IfMatch: etag})
	record("error:precondition_failed", describe(err))

	estimate := must(c.CalculateResources(&s.Calculate))
	alternatives := []string{}
	for _, a := range estimate.Alternatives {
		alternatives = append(alternatives, a.Preset)
	}
	var gpuType interface{} = estimate.GPUType
	if estimate.GPUType == "" {
		gpuType = nil
	}
	record("calculate", m{"recommended_preset": estimate.RecommendedPreset, "resources": estimate.Resources,
		"gpu_type": gpuType, "estimated_cost": estimate.EstimatedCost, "alternatives": alternatives})

	manifest := must(c.GetManifest(id, nil))
	digest := sha256.Sum256([]byte(manifest))
	// Length in code points, as Python's len() and JavaScript's [...text].length count.
	record("manifest", m{"sha256": hex.EncodeToString(digest[:]), "length": len([]rune(manifest))})
	validation := must(c.ValidateManifest(manifest, id))
	record("validate", m{"valid": validation.Valid, "errors": len(validation.Errors), "warnings": len(validation.Warnings),
		"resource_summary": validation.ResourceSummary})

	accepted := must(c.SendMetrics(id, s.Metrics))
	record("send_metrics", m{"accepted": accepted.Accepted, "alerts": len(accepted.Alerts)})
	series := must(c.GetMonitoring(id, &orchestrator.MonitoringQuery{MetricType: "cpu", Hours: 1, Interval: "1m"}))
	found := false
	for _, p := range series.Metrics["cpu"] {
		found = found || p.Value == s.Metrics["cpu"]
	}
	record("monitoring", m{"has_sent_cpu": found})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	sub := must(c.SubscribeMonitoring(ctx, id, &orchestrator.MonitoringOptions{
		Metrics: s.StreamMetrics, Interval: time.Duration(s.StreamIntervalMS) * time.Millisecond}))
	update, ok := <-sub.C
	if !ok {
		must(0, fmt.Errorf("no stream update: %v", sub.Err()))
	}
	sub.Close()
	cancel()
	record("stream", m{"tenant_id": update.TenantID, "metrics": update.Metrics})

	deleted := must(c.DeleteTenant(id, nil))
	record("delete", m{"deletion_id": strings.HasPrefix(deleted.DeletionID, "del-")})
	_, err = c.GetTenant(id)
	record("error:not_found_after_delete", describe(err))

	_, err = c.GetTenant(s.MissingTenant)
	record("error:not_found", describe(err))
	existing := s.Tenant
	existing.TenantID = s.ExistingTenant
	_, err = c.CreateTenant(&existing)
	record("error:already_exists", describe(err))
	_, err = c.CreateTenant(&s.InvalidTenant)
	record("error:validation", describe(err))
	_, err = c.CreateTenant(&s.OversizedTenant)
	record("error:insufficient_resources", describe(err))
	_, err = c.ValidateManifest(s.Unreadable, "")
	record("error:manifest_invalid", describe(err))
	alerts, err := c.SubscribeAlerts(context.Background(), s.MissingTenant, nil)
	if err == nil {
		for range alerts.C {
		}
		err = alerts.Err()
	}
	record("error:stream", describe(err))
	unreachable := orchestrator.NewClient(&orchestrator.Config{BaseURL: s.UnreachableBase, Timeout: 5 * time.Second})
	_, err = unreachable.GetTenants(nil)
	record("error:connection", describe(err))

	must(0, json.NewEncoder(os.Stdout).Encode(transcript))
}
