package orchestrator

// Tenant, resource and manifest calls: one method per /api/v1 endpoint, each with a ...Context
// variant. The plain forms keep the reference's signatures (CreateTenant(req) (*Tenant, error)).

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions filters GET /tenants/. Zero values mean the server's defaults.
type ListOptions struct {
	Skip   int
	Limit  int
	Preset string
	Status string
}

// WriteOptions carries If-Match for updates and deletes.
type WriteOptions struct {
	// IfMatch is an ETag from GetTenantETag: the write fails with ErrPreconditionFailed if the
	// spec changed since.
	IfMatch string
}

// DeleteOptions are the options of DELETE /tenants/{id}.
type DeleteOptions struct {
	Force   bool
	IfMatch string
}

// ManifestOptions are the query of GET /tenants/{id}/manifest. nil means the defaults: YAML,
// with monitoring, without ingress, the generated namespace.
type ManifestOptions struct {
	Format            string // "yaml" (default) or "json"
	ExcludeMonitoring bool   // include_monitoring=false
	IncludeIngress    bool
	Namespace         string
}

func ifMatch(tag string) http.Header {
	if tag == "" {
		return nil
	}
	return http.Header{"If-Match": []string{tag}}
}

// GetTenants lists tenants (GET /tenants/).
func (c *Client) GetTenants(opts *ListOptions) (*TenantList, error) {
	return c.GetTenantsContext(context.Background(), opts)
}

// GetTenantsContext is GetTenants with a context.
func (c *Client) GetTenantsContext(ctx context.Context, opts *ListOptions) (*TenantList, error) {
	q := url.Values{}
	if opts != nil {
		if opts.Skip > 0 {
			q.Set("skip", strconv.Itoa(opts.Skip))
		}
		if opts.Limit > 0 {
			q.Set("limit", strconv.Itoa(opts.Limit))
		}
		if opts.Preset != "" {
			q.Set("preset", opts.Preset)
		}
		if opts.Status != "" {
			q.Set("status", opts.Status)
		}
	}
	return fetch[TenantList](ctx, c, call{method: "GET", path: "/tenants/", query: q})
}

// GetTenant reads one tenant's detail (GET /tenants/{id}).
func (c *Client) GetTenant(tenantID string) (*Tenant, error) {
	return c.GetTenantContext(context.Background(), tenantID)
}

// GetTenantContext is GetTenant with a context.
func (c *Client) GetTenantContext(ctx context.Context, tenantID string) (*Tenant, error) {
	return fetch[Tenant](ctx, c, call{method: "GET", path: "/tenants/" + segment(tenantID)})
}

// GetTenantETag is the spec's current ETag, for WriteOptions.IfMatch.
func (c *Client) GetTenantETag(tenantID string) (string, error) {
	return c.GetTenantETagContext(context.Background(), tenantID)
}

// GetTenantETagContext is GetTenantETag with a context.
func (c *Client) GetTenantETagContext(ctx context.Context, tenantID string) (string, error) {
	_, header, err := c.do(ctx, call{method: "GET", path: "/tenants/" + segment(tenantID)})
	if err != nil {
		return "", err
	}
	return header.Get("ETag"), nil
}

// CreateTenant writes, compiles and publishes a new tenant (POST /tenants/).
func (c *Client) CreateTenant(req *TenantRequest) (*Tenant, error) {
	return c.CreateTenantContext(context.Background(), req)
}

// CreateTenantContext is CreateTenant with a context.
func (c *Client) CreateTenantContext(ctx context.Context, req *TenantRequest) (*Tenant, error) {
	return fetch[Tenant](ctx, c, call{method: "POST", path: "/tenants/", body: req})
}

// UpdateTenant changes the fields set in changes (PUT /tenants/{id}); opts may be nil.
func (c *Client) UpdateTenant(tenantID string, changes *TenantUpdate, opts *WriteOptions) (*Tenant, error) {
	return c.UpdateTenantContext(context.Background(), tenantID, changes, opts)
}

// UpdateTenantContext is UpdateTenant with a context.
func (c *Client) UpdateTenantContext(ctx context.Context, tenantID string, changes *TenantUpdate, opts *WriteOptions) (*Tenant, error) {
	r := call{method: "PUT", path: "/tenants/" + segment(tenantID), body: changes}
	if opts != nil {
		r.header = ifMatch(opts.IfMatch)
	}
	return fetch[Tenant](ctx, c, r)
}

// DeleteTenant removes a tenant (DELETE /tenants/{id}); opts may be nil.
func (c *Client) DeleteTenant(tenantID string, opts *DeleteOptions) (*Deletion, error) {
	return c.DeleteTenantContext(context.Background(), tenantID, opts)
}

// DeleteTenantContext is DeleteTenant with a context.
func (c *Client) DeleteTenantContext(ctx context.Context, tenantID string, opts *DeleteOptions) (*Deletion, error) {
	r := call{method: "DELETE", path: "/tenants/" + segment(tenantID), query: url.Values{"force": {"false"}}}
	if opts != nil {
		r.query.Set("force", boolText(opts.Force))
		r.header = ifMatch(opts.IfMatch)
	}
	return fetch[Deletion](ctx, c, r)
}

// CalculateResources sizes a set of service requirements (POST /tenants/calculate-resources).
func (c *Client) CalculateResources(req *ResourceRequest) (*ResourceEstimate, error) {
	return c.CalculateResourcesContext(context.Background(), req)
}

// CalculateResourcesContext is CalculateResources with a context.
func (c *Client) CalculateResourcesContext(ctx context.Context, req *ResourceRequest) (*ResourceEstimate, error) {
	return fetch[ResourceEstimate](ctx, c, call{method: "POST", path: "/tenants/calculate-resources", body: req})
}

// GetManifest returns the tenant's rendered manifest as text (GET /tenants/{id}/manifest).
func (c *Client) GetManifest(tenantID string, opts *ManifestOptions) (string, error) {
	return c.GetManifestContext(context.Background(), tenantID, opts)
}

// GetManifestContext is GetManifest with a context.
func (c *Client) GetManifestContext(ctx context.Context, tenantID string, opts *ManifestOptions) (string, error) {
	if opts == nil {
		opts = &ManifestOptions{}
	}
	format := opts.Format
	if format == "" {
		format = "yaml"
	}
	q := url.Values{
		"format":             {format},
		"include_monitoring": {boolText(!opts.ExcludeMonitoring)},
		"include_ingress":    {boolText(opts.IncludeIngress)},
	}
	if opts.Namespace != "" {
		q.Set("namespace", opts.Namespace)
	}
	data, _, err := c.do(ctx, call{method: "GET", path: "/tenants/" + segment(tenantID) + "/manifest", query: q})
	return string(data), err
}

// ValidateManifest checks manifest text (POST /tenants/validate-manifest); tenantID may be "".
func (c *Client) ValidateManifest(manifestContent, tenantID string) (*ManifestValidation, error) {
	return c.ValidateManifestContext(context.Background(), manifestContent, tenantID)
}

// ValidateManifestContext is ValidateManifest with a context.
func (c *Client) ValidateManifestContext(ctx context.Context, manifestContent, tenantID string) (*ManifestValidation, error) {
	body := map[string]string{"manifest_content": manifestContent}
	if tenantID != "" {
		body["tenant_id"] = tenantID
	}
	return fetch[ManifestValidation](ctx, c, call{method: "POST", path: "/tenants/validate-manifest", body: body})
}

// GetDeploymentStatus reads the tenant's latest deployment (GET /tenants/{id}/deployment-status).
func (c *Client) GetDeploymentStatus(tenantID string) (*DeploymentStatus, error) {
	return c.GetDeploymentStatusContext(context.Background(), tenantID)
}

// GetDeploymentStatusContext is GetDeploymentStatus with a context.
func (c *Client) GetDeploymentStatusContext(ctx context.Context, tenantID string) (*DeploymentStatus, error) {
	path := "/tenants/" + segment(tenantID) + "/deployment-status"
	return fetch[DeploymentStatus](ctx, c, call{method: "GET", path: path})
}
