// Package orchestrator is the Go SDK of the ECP-AI Orchestrator API (reference v1.51).
//
//	client := orchestrator.NewClient(&orchestrator.Config{
//		BaseURL: "http://localhost:8001/api/v1",
//		IsDemo:  false,
//		Token:   os.Getenv("ECP_TOKEN"),
//	})
//	tenant, err := client.CreateTenant(&orchestrator.TenantRequest{TenantID: "my-service", ...})
//
// Every call has a ...Context variant taking a context.Context first (CreateTenantContext);
// the plain form is the reference's signature and uses context.Background() under the client's
// Timeout. Error answers are *APIError (errors.As), matched by code with errors.Is against the
// Err* sentinels; transport failures are *ConnectionError. The three WebSocket streams are
// channels (SubscribeMonitoring, SubscribeAlerts, SubscribeDeployment). A pure HTTP client.
package orchestrator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Version is this SDK's version, the project's (pyproject.toml); Go modules take theirs from
// the git tag sdk/go/vX.Y.Z.
const Version = "0.1.0"

// DefaultBaseURL is the reference's address of the API.
const DefaultBaseURL = "http://localhost:8001/api/v1"

// DefaultTimeout bounds each call: writes compile and publish before they answer.
const DefaultTimeout = 60 * time.Second

// Config configures a Client. The zero value talks to DefaultBaseURL in real mode.
type Config struct {
	BaseURL string
	IsDemo  bool
	// Token is sent as "Authorization: Bearer <token>" on every request and stream.
	Token string
	// Timeout per call (DefaultTimeout if zero; negative for none). A context's deadline
	// applies as well.
	Timeout time.Duration
	// Debug sends X-Debug: true (timings and the sizing explanation in answers).
	Debug bool
	// Header holds extra headers for every request.
	Header http.Header
	// HTTPClient to send requests with (http.DefaultClient if nil).
	HTTPClient *http.Client
}

// Client calls the API. It is safe for concurrent use.
type Client struct {
	baseURL    *url.URL
	isDemo     bool
	token      string
	timeout    time.Duration
	header     http.Header
	httpClient *http.Client

	mu            sync.Mutex
	lastRequestID string
}

// NewClient returns a client for cfg (nil means the defaults). A BaseURL that does not parse
// makes every call fail with that parse error.
func NewClient(cfg *Config) *Client {
	if cfg == nil {
		cfg = &Config{}
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	parsed, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || parsed.Host == "" {
		parsed = nil
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	header := http.Header{}
	for k, v := range cfg.Header {
		header[k] = append([]string(nil), v...)
	}
	header.Set("User-Agent", "ecp-orchestrator-client-go/"+Version)
	header.Set("X-Demo-Mode", boolText(cfg.IsDemo))
	if cfg.Debug {
		header.Set("X-Debug", "true")
	}
	if cfg.Token != "" {
		header.Set("Authorization", "Bearer "+cfg.Token)
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{
		baseURL: parsed, isDemo: cfg.IsDemo, token: cfg.Token, timeout: timeout,
		header: header, httpClient: httpClient,
	}
}

// LastRequestID is the X-Request-ID of the last answer (or of the last attempt that got none).
func (c *Client) LastRequestID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRequestID
}

type requestIDKey struct{}

// WithRequestID returns a context whose calls send id as X-Request-ID (one is generated
// otherwise), so a caller can trace a call through the server's logs and error bodies.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func newRequestID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("sdk-%016x", time.Now().UnixNano())
	}
	return "sdk-" + hex.EncodeToString(b[:])
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// segment quotes a path segment, so an id can never change the path it is sent to.
func segment(id string) string { return url.PathEscape(id) }

type call struct {
	method string
	path   string
	query  url.Values
	body   interface{}
	header http.Header
}

// do sends one request and returns the body of a 2xx answer with its headers.
func (c *Client) do(ctx context.Context, r call) ([]byte, http.Header, error) {
	rid, _ := ctx.Value(requestIDKey{}).(string)
	if rid == "" {
		rid = newRequestID()
	}
	if c.baseURL == nil {
		return nil, nil, &ConnectionError{Op: r.method + " " + r.path, RequestID: rid,
			Err: errors.New("Config.BaseURL is not an absolute URL")}
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	// r.path is built from literal text and segment()-escaped ids only.
	target := c.baseURL.String() + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	op := r.method + " " + target

	var body io.Reader
	if r.body != nil {
		encoded, err := json.Marshal(r.body)
		if err != nil {
			return nil, nil, fmt.Errorf("ecp: encoding the request body: %w", err)
		}
		body = bytes.NewReader(encoded)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, nil, &ConnectionError{Op: op, RequestID: rid, Err: err}
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Request-ID", rid)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		c.setRequestID(rid)
		return nil, nil, &ConnectionError{Op: op, RequestID: rid, Err: contextErr(ctx, err)}
	}
	defer resp.Body.Close()
	if answered := resp.Header.Get("X-Request-ID"); answered != "" {
		rid = answered
	}
	c.setRequestID(rid)
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, &ConnectionError{Op: op, RequestID: rid, Err: contextErr(ctx, err)}
	}
	if resp.StatusCode >= 400 {
		return nil, nil, errorFromBody(resp.StatusCode, data, rid)
	}
	return data, resp.Header, nil
}

// contextErr prefers the context's own error (Canceled, DeadlineExceeded) when it ended the call.
func contextErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return err
}

func (c *Client) setRequestID(id string) {
	c.mu.Lock()
	c.lastRequestID = id
	c.mu.Unlock()
}

// doJSON sends a call and decodes a 2xx answer into out.
func (c *Client) doJSON(ctx context.Context, r call, out interface{}) error {
	data, _, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &ConnectionError{Op: r.method + " " + r.path, RequestID: c.LastRequestID(),
			Err: fmt.Errorf("answer is not the expected JSON: %w", err)}
	}
	return nil
}

// fetch sends a call and decodes a 2xx answer as a T; on error it returns nil.
func fetch[T any](ctx context.Context, c *Client, r call) (*T, error) {
	var out T
	if err := c.doJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
