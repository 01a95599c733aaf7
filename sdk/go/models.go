package orchestrator

// Request and response bodies of the API reference v1.51 as Go types. Fields the server may add
// later are ignored on decoding; optional request fields are omitted when empty. No I/O here.

// SLATarget is a tenant's service-level target.
type SLATarget struct {
	Availability    string `json:"availability,omitempty"`  // e.g. "99.9%"
	ResponseTime    string `json:"response_time,omitempty"` // e.g. "200ms"
	ConcurrentUsers int    `json:"concurrent_users,omitempty"`
}

// Resources are resource totals as the API prints them ("24000m", "32Gi", 3, "1.0TB").
type Resources struct {
	CPU     string `json:"cpu"`
	Memory  string `json:"memory"`
	GPU     int    `json:"gpu"`
	Storage string `json:"storage,omitempty"`
}

// TenantRequest is the body of POST /tenants/.
type TenantRequest struct {
	TenantID            string            `json:"tenant_id"`
	Name                string            `json:"name,omitempty"`
	Preset              string            `json:"preset,omitempty"`
	ServiceRequirements map[string]int    `json:"service_requirements"`
	SLATarget           *SLATarget        `json:"sla_target,omitempty"`
	Description         string            `json:"description,omitempty"`
	GPUType             string            `json:"gpu_type,omitempty"`
	Images              map[string]string `json:"images,omitempty"`
	IngressHost         string            `json:"ingress_host,omitempty"`
	Labels              map[string]string `json:"labels,omitempty"`
}

// TenantUpdate is the body of PUT /tenants/{id}: only the fields set are changed.
type TenantUpdate struct {
	Name                string            `json:"name,omitempty"`
	Preset              string            `json:"preset,omitempty"`
	ServiceRequirements map[string]int    `json:"service_requirements,omitempty"`
	SLATarget           *SLATarget        `json:"sla_target,omitempty"`
	Description         string            `json:"description,omitempty"`
	GPUType             string            `json:"gpu_type,omitempty"`
	Images              map[string]string `json:"images,omitempty"`
	IngressHost         string            `json:"ingress_host,omitempty"`
	Labels              map[string]string `json:"labels,omitempty"`
}

// Service is one service of a tenant's detail.
type Service struct {
	ServiceName string                 `json:"service_name"`
	ServiceType string                 `json:"service_type"`
	Enabled     bool                   `json:"enabled"`
	Count       int                    `json:"count"`
	Replicas    int                    `json:"replicas"`
	Image       string                 `json:"image"`
	Resources   map[string]interface{} `json:"resources"` // cpu_request, memory_request, gpu, ...
}

// Tenant is a tenant as the API answers it: the detail of GET /tenants/{id}, and the answers of
// create and update (which fill DeploymentID, EstimatedResources, EstimatedCost, DeploymentTime).
type Tenant struct {
	TenantID            string         `json:"tenant_id"`
	Name                string         `json:"name,omitempty"`
	Preset              string         `json:"preset,omitempty"`
	IsDemo              bool           `json:"is_demo"`
	Status              string         `json:"status"`
	ServiceRequirements map[string]int `json:"service_requirements,omitempty"`
	Resources           *Resources     `json:"resources,omitempty"`
	SLATarget           *SLATarget     `json:"sla_target,omitempty"`
	Services            []Service      `json:"services,omitempty"`
	Description         string         `json:"description,omitempty"`
	Namespace           string         `json:"namespace,omitempty"`
	GPUType             string         `json:"gpu_type,omitempty"`
	PresetSource        string         `json:"preset_source,omitempty"` // "explicit" or "recommended"
	DeploymentID        string         `json:"deployment_id,omitempty"`
	EstimatedResources  *Resources     `json:"estimated_resources,omitempty"`
	EstimatedCost       string         `json:"estimated_cost,omitempty"`
	DeploymentTime      string         `json:"deployment_time,omitempty"`
	CreatedAt           string         `json:"created_at,omitempty"`
	UpdatedAt           string         `json:"updated_at,omitempty"`
}

// TenantSummary is one entry of GET /tenants/.
type TenantSummary struct {
	TenantID        string            `json:"tenant_id"`
	Name            string            `json:"name"`
	Preset          string            `json:"preset"`
	IsDemo          bool              `json:"is_demo"`
	Status          string            `json:"status"`
	ServicesCount   int               `json:"services_count"`
	CPULimit        string            `json:"cpu_limit"`
	MemoryLimit     string            `json:"memory_limit"`
	GPULimit        int               `json:"gpu_limit"`
	StorageLimit    string            `json:"storage_limit"`
	GPUType         string            `json:"gpu_type"`
	SLAAvailability string            `json:"sla_availability"`
	SLAResponseTime string            `json:"sla_response_time"`
	CreatedAt       string            `json:"created_at"`
	Description     string            `json:"description"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// TenantList is the answer of GET /tenants/.
type TenantList struct {
	Tenants     []TenantSummary `json:"tenants"`
	TotalCount  int             `json:"total_count"`
	DemoCount   int             `json:"demo_count"`
	ActiveCount int             `json:"active_count"`
	Pagination  struct {
		Skip    int  `json:"skip"`
		Limit   int  `json:"limit"`
		HasMore bool `json:"has_more"`
	} `json:"pagination"`
}

// Deletion is the answer of DELETE /tenants/{id}.
type Deletion struct {
	Message       string `json:"message"`
	DeletionID    string `json:"deletion_id"`
	EstimatedTime string `json:"estimated_time"`
}

// ResourceRequest is the body of POST /tenants/calculate-resources.
type ResourceRequest struct {
	ServiceRequirements map[string]int `json:"service_requirements"`
	SLATarget           *SLATarget     `json:"sla_target,omitempty"`
	Preset              string         `json:"preset,omitempty"`
	GPUType             string         `json:"gpu_type,omitempty"`
}

// Alternative is a cheaper tier the calculation offers.
type Alternative struct {
	Preset            string    `json:"preset"`
	Resources         Resources `json:"resources"`
	Cost              string    `json:"cost"`
	PerformanceImpact string    `json:"performance_impact"`
}

// ResourceEstimate is the answer of POST /tenants/calculate-resources.
type ResourceEstimate struct {
	RecommendedPreset string        `json:"recommended_preset"`
	Resources         Resources     `json:"resources"`
	GPUType           string        `json:"gpu_type"`
	EstimatedCost     string        `json:"estimated_cost"`
	Alternatives      []Alternative `json:"alternatives"`
	MonthlyCostUSD    float64       `json:"monthly_cost_usd"`
}

// ManifestValidation is the answer of POST /tenants/validate-manifest.
type ManifestValidation struct {
	Valid           bool                   `json:"valid"`
	Warnings        []string               `json:"warnings"`
	Errors          []interface{}          `json:"errors"`
	ResourceSummary map[string]interface{} `json:"resource_summary"`
	EstimatedCost   string                 `json:"estimated_cost"`
	DeploymentTime  string                 `json:"deployment_time"`
}

// ResourceState is one created or pending resource of a deployment.
type ResourceState struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Replicas string `json:"replicas,omitempty"`
}

// DeploymentStatus is the answer of GET /tenants/{id}/deployment-status.
type DeploymentStatus struct {
	TenantID            string          `json:"tenant_id"`
	DeploymentID        string          `json:"deployment_id"`
	Status              string          `json:"status"`
	Progress            int             `json:"progress"`
	Phase               string          `json:"phase"`
	CreatedResources    []ResourceState `json:"created_resources"`
	PendingResources    []ResourceState `json:"pending_resources"`
	EstimatedCompletion string          `json:"estimated_completion"`
	Logs                []struct {
		Timestamp string `json:"timestamp"`
		Level     string `json:"level"`
		Message   string `json:"message"`
	} `json:"logs"`
}

// Metrics are metric values by name: cpu_usage, memory_usage, gpu_usage (percent),
// network_in/out, storage_used, request_count, response_time (ms), error_rate; or the short
// names cpu, memory, gpu.
type Metrics map[string]float64

// MetricSample is one timestamped sample (RFC 3339, UTC); an empty Timestamp means now.
type MetricSample struct {
	Timestamp string  `json:"timestamp,omitempty"`
	Metrics   Metrics `json:"metrics"`
}

// Alert is an alert as the API reports it (HTTP and the alert stream).
type Alert struct {
	AlertID      string  `json:"alert_id"`
	TenantID     string  `json:"tenant_id"`
	Severity     string  `json:"severity"`
	Type         string  `json:"type"`
	Message      string  `json:"message"`
	Metric       string  `json:"metric"`
	CurrentValue float64 `json:"current_value"`
	Threshold    float64 `json:"threshold"`
	Timestamp    string  `json:"timestamp"`
}

// MetricsAccepted is the answer of POST /tenants/{id}/monitoring.
type MetricsAccepted struct {
	TenantID string  `json:"tenant_id"`
	Accepted int     `json:"accepted"`
	Alerts   []Alert `json:"alerts"`
}

// Point is one value of a metric's time series.
type Point struct {
	Timestamp string  `json:"timestamp"`
	Value     float64 `json:"value"`
}

// MonitoringData is the answer of GET /tenants/{id}/monitoring.
type MonitoringData struct {
	TenantID  string `json:"tenant_id"`
	TimeRange struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"time_range"`
	Interval string              `json:"interval"`
	Metrics  map[string][]Point  `json:"metrics"`
	Summary  map[string]*float64 `json:"summary"` // avg_cpu, max_cpu, ...; nil without samples
}

// AlertList is the answer of GET /tenants/{id}/alerts, newest first.
type AlertList struct {
	TenantID string  `json:"tenant_id"`
	Alerts   []Alert `json:"alerts"`
	Count    int     `json:"count"`
}

// SystemMetrics is the answer of GET /monitoring/system.
type SystemMetrics struct {
	ClusterStatus  string             `json:"cluster_status"`
	TotalTenants   int                `json:"total_tenants"`
	ActiveTenants  int                `json:"active_tenants"`
	TotalResources Resources          `json:"total_resources"`
	UsedResources  Resources          `json:"used_resources"`
	Utilization    map[string]float64 `json:"utilization"`
}

// MonitoringUpdate is one push of the monitoring stream; a metric with no sample yet is nil.
type MonitoringUpdate struct {
	Timestamp string              `json:"timestamp"`
	TenantID  string              `json:"tenant_id"`
	Metrics   map[string]*float64 `json:"metrics"`
}

// DeploymentUpdate is one push of the deployment stream.
type DeploymentUpdate struct {
	DeploymentID string `json:"deployment_id"`
	Status       string `json:"status"`
	Progress     int    `json:"progress"`
	Phase        string `json:"phase"`
	Message      string `json:"message"`
}
