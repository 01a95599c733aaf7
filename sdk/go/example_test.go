package orchestrator_test

// Examples for the package documentation. They need a running server, so they are compiled
// (go vet, go test) but have no Output lines to run; the tests cover the same calls.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	orchestrator "github.com/ecp-ai/orchestrator-client-go"
)

func ExampleClient_CreateTenant() {
	client := orchestrator.NewClient(&orchestrator.Config{
		BaseURL: "http://localhost:8001/api/v1",
		IsDemo:  false,
		Token:   os.Getenv("ECP_TOKEN"),
	})
	tenant, err := client.CreateTenant(&orchestrator.TenantRequest{
		TenantID:            "my-service",
		Name:                "내 서비스",
		Preset:              "medium",
		ServiceRequirements: map[string]int{"chatbot": 100},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("테넌트 생성됨: %s (%s)\n", tenant.TenantID, tenant.DeploymentID)
}

func ExampleClient_UpdateTenantContext() {
	client := orchestrator.NewClient(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	etag, err := client.GetTenantETagContext(ctx, "my-service")
	if err != nil {
		log.Fatal(err)
	}
	changes := &orchestrator.TenantUpdate{ServiceRequirements: map[string]int{"chatbot": 150}}
	_, err = client.UpdateTenantContext(ctx, "my-service", changes, &orchestrator.WriteOptions{IfMatch: etag})
	if errors.Is(err, orchestrator.ErrPreconditionFailed) {
		log.Print("someone else changed the tenant first: read it again")
	}
}

func ExampleAPIError() {
	_, err := orchestrator.NewClient(nil).GetTenant("nope")
	var apiErr *orchestrator.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.Status, apiErr.RequestID) // TENANT_NOT_FOUND 404 req-…
	}
}

func ExampleClient_SubscribeMonitoring() {
	client := orchestrator.NewClient(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := client.SubscribeMonitoring(ctx, "my-service", &orchestrator.MonitoringOptions{
		Metrics: []string{"cpu", "gpu"}, Interval: 5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	for update := range sub.C {
		if cpu := update.Metrics["cpu"]; cpu != nil {
			fmt.Println(update.Timestamp, *cpu)
		}
	}
	if err := sub.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Fatal(err)
	}
}
