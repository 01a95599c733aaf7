package orchestrator_test

// The three streams against a real `ecp serve` (updates, error frames as typed errors, Close,
// reconnect after the server restarts), plus a local gorilla server where the test must see
// the handshake itself or time the backoff.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	orchestrator "github.com/ecp-ai/orchestrator-client-go"
	"github.com/gorilla/websocket"
)

func receive[T any](t *testing.T, sub *orchestrator.Subscription[T]) T {
	t.Helper()
	select {
	case v, ok := <-sub.C:
		if !ok {
			t.Fatalf("stream ended: %v", sub.Err())
		}
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("no message within 20s")
	}
	panic("unreachable")
}

func ended[T any](t *testing.T, sub *orchestrator.Subscription[T]) error {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-sub.C:
			if !ok {
				return sub.Err()
			}
		case <-deadline:
			t.Fatal("stream did not end within 20s")
		}
	}
}

func TestSubscribeMonitoringDeliversTheMetricsJustSent(t *testing.T) {
	c := newClient()
	if _, err := c.SendMetrics("global-call-center", orchestrator.Metrics{"cpu": 65.5, "memory": 78.2, "gpu": 85.0}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.SubscribeMonitoring(context.Background(), "global-call-center", &orchestrator.MonitoringOptions{Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	update := receive(t, sub)
	sub.Close()
	if update.TenantID != "global-call-center" || *update.Metrics["cpu"] != 65.5 || *update.Metrics["memory"] != 78.2 || *update.Metrics["gpu"] != 85.0 {
		t.Fatalf("update = %+v", update)
	}
	if _, ok := <-sub.C; ok || sub.Err() != nil {
		t.Fatalf("after Close: channel open or err %v", sub.Err())
	}
}

func TestCancellingTheContextEndsTheStreamWithTheContextsError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := newClient().SubscribeMonitoring(ctx, "global-call-center", &orchestrator.MonitoringOptions{Metrics: []string{"cpu"}, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	update := receive(t, sub)
	if len(update.Metrics) != 1 {
		t.Fatalf("asked for cpu only, got %v", update.Metrics)
	}
	cancel()
	if err := ended(t, sub); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestAnErrorFrameIsATypedErrorAndEndsTheStream(t *testing.T) {
	sub, err := newClient().SubscribeAlerts(context.Background(), "no-such-tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = ended(t, sub)
	var apiErr *orchestrator.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "TENANT_NOT_FOUND" || apiErr.Status != 404 || apiErr.RequestID == "" {
		t.Fatalf("err = %#v", err)
	}
	sub2, err := newClient().SubscribeMonitoring(context.Background(), "global-call-center", &orchestrator.MonitoringOptions{Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := ended(t, sub2); !errors.Is(err, orchestrator.ErrValidation) {
		t.Fatalf("interval 1ms: %v", err)
	}
}

func TestSubscribeAlertsReceivesAnAlertAsItFires(t *testing.T) {
	c := newClient()
	sub, err := c.SubscribeAlerts(context.Background(), "speech-gateway", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	time.Sleep(300 * time.Millisecond) // the server registers the subscriber just after the handshake
	if _, err := c.SendSamples("speech-gateway", heldSamples(orchestrator.Metrics{"memory_usage": 96.5})); err != nil {
		t.Fatal(err)
	}
	alert := receive(t, sub)
	if alert.Severity != "critical" || alert.Metric != "memory" || alert.Threshold != 95.0 || alert.TenantID != "speech-gateway" {
		t.Fatalf("alert = %+v", alert)
	}
}

func TestSubscribeDeploymentFollowsTheDeploymentACreateReturned(t *testing.T) {
	c := newClient()
	created, err := c.CreateTenant(&orchestrator.TenantRequest{TenantID: "go-stream-dep", Name: "s", ServiceRequirements: map[string]int{"chatbot": 10}})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.SubscribeDeployment(context.Background(), created.DeploymentID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	update := receive(t, sub)
	if update.DeploymentID != created.DeploymentID || update.Status == "" || update.Phase == "" {
		t.Fatalf("update = %+v", update)
	}
}

// TestAStreamReconnectsAfterTheServerRestarts restarts the shared server: it runs last.
func TestAStreamReconnectsAfterTheServerRestarts(t *testing.T) {
	opts := &orchestrator.MonitoringOptions{Interval: 250 * time.Millisecond}
	opts.InitialDelay, opts.MaxDelay = 200*time.Millisecond, time.Second
	sub, err := newClient().SubscribeMonitoring(context.Background(), "global-call-center", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	receive(t, sub)
	server.restart(t)
	// A value sent to the new server can only arrive over a new connection.
	if _, err := newClient().SendMetrics("global-call-center", orchestrator.Metrics{"cpu": 12.25}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case u, ok := <-sub.C:
			if !ok {
				t.Fatalf("stream ended: %v", sub.Err())
			}
			if cpu := u.Metrics["cpu"]; cpu != nil && *cpu == 12.25 {
				return
			}
		case <-deadline:
			t.Fatal("no update after the restart")
		}
	}
}

// wsServer is a local WebSocket server recording handshakes; drop closes each connection at once.
type wsServer struct {
	*httptest.Server
	mu         sync.Mutex
	handshakes []*http.Request
	at         []time.Time
	drop       bool
}

func newWSServer(t *testing.T, drop bool) *wsServer {
	s := &wsServer{drop: drop}
	upgrader := websocket.Upgrader{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.handshakes, s.at = append(s.handshakes, r), append(s.at, time.Now())
		s.mu.Unlock()
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if s.drop {
			return // TCP close without a close frame: 1006 for the client
		}
		if strings.HasPrefix(r.URL.Path, "/ws/deployment/") {
			_ = conn.WriteJSON(map[string]interface{}{"deployment_id": "dep-1", "status": "completed", "progress": 100})
			_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			_, _, _ = conn.ReadMessage()
			return
		}
		var command map[string]interface{}
		if conn.ReadJSON(&command) == nil {
			_ = conn.WriteJSON(map[string]interface{}{"timestamp": "t", "tenant_id": command["action"], "metrics": map[string]float64{"cpu": command["interval"].(float64)}})
		}
		_, _, _ = conn.ReadMessage()
	}))
	t.Cleanup(s.Close)
	return s
}

func TestTheTokenTravelsAsAnAuthorizationHeaderAndTheDemoFlagInTheQuery(t *testing.T) {
	s := newWSServer(t, false)
	c := orchestrator.NewClient(&orchestrator.Config{BaseURL: s.URL + "/api/v1", IsDemo: true, Token: "ecp_abc"})
	sub, err := c.SubscribeMonitoring(context.Background(), "t/1", &orchestrator.MonitoringOptions{Interval: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	echo := receive(t, sub)
	sub.Close()
	r := s.handshakes[0]
	if r.Header.Get("Authorization") != "Bearer ecp_abc" || r.URL.RawQuery != "demo=true" || r.URL.EscapedPath() != "/ws/monitoring/t%2F1" {
		t.Fatalf("handshake %v %q %q", r.Header, r.URL.EscapedPath(), r.URL.RawQuery)
	}
	if echo.TenantID != "subscribe" || *echo.Metrics["cpu"] != 1500 {
		t.Fatalf("the subscribe command was not sent: %+v", echo)
	}
}

func TestANormalCloseEndsADeploymentStreamWithoutAnErrorOrAReconnect(t *testing.T) {
	s := newWSServer(t, false)
	c := orchestrator.NewClient(&orchestrator.Config{BaseURL: s.URL + "/api/v1"})
	sub, err := c.SubscribeDeployment(context.Background(), "dep-1", &orchestrator.StreamOptions{InitialDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if u := receive(t, sub); u.Status != "completed" || u.Progress != 100 {
		t.Fatalf("update = %+v", u)
	}
	if err := ended(t, sub); err != nil {
		t.Fatalf("err = %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.handshakes) != 1 {
		t.Fatalf("%d connections after a normal close", len(s.handshakes))
	}
}

func TestReconnectsBackOffExponentiallyAndGiveUpAfterMaxRetries(t *testing.T) {
	s := newWSServer(t, true)
	c := orchestrator.NewClient(&orchestrator.Config{BaseURL: s.URL + "/api/v1"})
	opts := &orchestrator.StreamOptions{MaxRetries: 4, InitialDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second}
	sub, err := c.SubscribeAlerts(context.Background(), "t3", opts)
	if err != nil {
		t.Fatal(err)
	}
	err = ended(t, sub)
	var connErr *orchestrator.ConnectionError
	if !errors.As(err, &connErr) || !strings.Contains(err.Error(), "1006") && !strings.Contains(err.Error(), "retries") {
		t.Fatalf("err = %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.at) != 5 {
		t.Fatalf("%d connections, want one and four retries", len(s.at))
	}
	var gaps []time.Duration
	for i := 1; i < len(s.at); i++ {
		gaps = append(gaps, s.at[i].Sub(s.at[i-1]))
	}
	for n, gap := range gaps {
		// Retry n waits 100ms * 2^n, jittered down to at most half.
		if floor := (50 * time.Millisecond << n) - 15*time.Millisecond; gap < floor {
			t.Errorf("gap %d = %v, below %v (%v)", n, gap, floor, gaps)
		}
	}
	if gaps[3] <= 2*gaps[0] {
		t.Errorf("no growth: %v", gaps)
	}
}

func TestARefusedHandshakeIsReturnedAtOnceAsAnAPIError(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"error": {"code": "UNAUTHORIZED", "message": "token required", "details": {}, "request_id": "req-1"}}`))
	}))
	defer refuse.Close()
	_, err := orchestrator.NewClient(&orchestrator.Config{BaseURL: refuse.URL + "/api/v1"}).SubscribeAlerts(context.Background(), "t", nil)
	if !errors.Is(err, orchestrator.ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
}
