package orchestrator

// The three WebSocket streams as channels: SubscribeMonitoring, SubscribeAlerts and
// SubscribeDeployment return a *Subscription whose C delivers parsed messages and is closed when
// the stream ends (Close, the context, a normal close, or an error: see Err). An error frame of
// the server becomes the same *APIError as over HTTP and ends the stream; abnormal closes
// reconnect with capped, jittered exponential backoff. WebSocket framing is gorilla/websocket.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// StreamOptions tune a subscription; nil means the defaults.
type StreamOptions struct {
	NoReconnect  bool          // end the stream at the first abnormal close
	MaxRetries   int           // reconnects in a row before giving up; 0 means unlimited
	InitialDelay time.Duration // first backoff (default 500ms), doubling per retry
	MaxDelay     time.Duration // backoff cap (default 30s)
	Buffer       int           // capacity of C (default 16)
}

// MonitoringOptions are the subscribe command of the monitoring stream plus StreamOptions.
type MonitoringOptions struct {
	StreamOptions
	Metrics  []string      // default cpu, memory, gpu
	Interval time.Duration // default 5s; the server accepts 250ms to 1h
}

// Subscription is one live stream. Read C until it is closed, then Err says why it ended.
type Subscription[T any] struct {
	C <-chan T

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
	closed bool
}

// Close stops the stream and waits until C is closed. Err is nil afterwards.
func (s *Subscription[T]) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
}

// Err is why the stream ended, once C is closed: nil after Close or a normal end (the
// deployment finished), the context's error, an *APIError from an error frame, or a
// *ConnectionError when reconnecting gave up.
func (s *Subscription[T]) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.err
}

const (
	healthyAfter    = 10 * time.Second // a connection up this long restarts the backoff
	closeGraceDelay = time.Second
)

// Server-side conditions that pass: 1001 going away, 1006 dropped, 1011 internal, 1012 restart,
// 1013 try again later (a slow consumer), 4429/4500/4502/4503. Other 4xxx are the caller's error.
var retryable = map[int]bool{1001: true, 1006: true, 1011: true, 1012: true, 1013: true,
	4429: true, 4500: true, 4502: true, 4503: true}

var apiVersionSuffix = regexp.MustCompile(`/api/v\d+/?$`)

// wsURL is ws(s)://host[/prefix]/ws/... for the base URL (its trailing /api/v1 is not part of it).
func (c *Client) wsURL(path string) (string, error) {
	if c.baseURL == nil {
		return "", errors.New("ecp: Config.BaseURL is not an absolute URL")
	}
	u := *c.baseURL
	u.Scheme = map[string]string{"https": "wss"}[u.Scheme]
	if u.Scheme == "" {
		u.Scheme = "ws"
	}
	prefix := apiVersionSuffix.ReplaceAllString(c.baseURL.EscapedPath(), "")
	u.Path, u.RawPath = "", ""
	return u.String() + prefix + path + "?" + url.Values{"demo": {boolText(c.isDemo)}}.Encode(), nil
}

// SubscribeMonitoring streams {timestamp, tenant_id, metrics} at the chosen interval.
func (c *Client) SubscribeMonitoring(ctx context.Context, tenantID string, opts *MonitoringOptions) (*Subscription[MonitoringUpdate], error) {
	if opts == nil {
		opts = &MonitoringOptions{}
	}
	metrics := opts.Metrics
	if len(metrics) == 0 {
		metrics = []string{"cpu", "memory", "gpu"}
	}
	interval := opts.Interval
	if interval == 0 {
		interval = 5 * time.Second
	}
	command := map[string]interface{}{"action": "subscribe", "metrics": metrics, "interval": interval.Milliseconds()}
	return subscribe[MonitoringUpdate](ctx, c, "/ws/monitoring/"+segment(tenantID), command, &opts.StreamOptions)
}

// SubscribeAlerts streams each new alert of the tenant as it fires.
func (c *Client) SubscribeAlerts(ctx context.Context, tenantID string, opts *StreamOptions) (*Subscription[Alert], error) {
	return subscribe[Alert](ctx, c, "/ws/alerts/"+segment(tenantID), nil, opts)
}

// SubscribeDeployment streams a deployment's progress; C is closed after its final update.
func (c *Client) SubscribeDeployment(ctx context.Context, deploymentID string, opts *StreamOptions) (*Subscription[DeploymentUpdate], error) {
	return subscribe[DeploymentUpdate](ctx, c, "/ws/deployment/"+segment(deploymentID), nil, opts)
}

type stream[T any] struct {
	client  *Client
	url     string
	command interface{}
	opts    StreamOptions
	out     chan T
}

// subscribe dials once (a failure is returned at once), then runs the stream in a goroutine.
func subscribe[T any](ctx context.Context, c *Client, path string, command interface{}, opts *StreamOptions) (*Subscription[T], error) {
	target, err := c.wsURL(path)
	if err != nil {
		return nil, err
	}
	st := &stream[T]{client: c, url: target, command: command}
	if opts != nil {
		st.opts = *opts
	}
	if st.opts.InitialDelay <= 0 {
		st.opts.InitialDelay = 500 * time.Millisecond
	}
	if st.opts.MaxDelay <= 0 {
		st.opts.MaxDelay = 30 * time.Second
	}
	if st.opts.Buffer <= 0 {
		st.opts.Buffer = 16
	}
	conn, err := st.dial(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	st.out = make(chan T, st.opts.Buffer)
	sub := &Subscription[T]{C: st.out, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(sub.done)
		defer close(st.out)
		err := st.run(ctx, conn)
		sub.mu.Lock()
		sub.err = err
		sub.mu.Unlock()
	}()
	return sub, nil
}

func (st *stream[T]) dial(ctx context.Context) (*websocket.Conn, error) {
	header := http.Header{}
	for k, v := range st.client.header {
		header[k] = v
	}
	header.Del("X-Demo-Mode") // the demo flag travels as ?demo=, as browsers must send it
	header.Del("Content-Type")
	rid := newRequestID()
	header.Set("X-Request-ID", rid)
	dialer := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 15 * time.Second}
	conn, resp, err := dialer.DialContext(ctx, st.url, header)
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			return nil, errorFromBody(resp.StatusCode, body, rid)
		}
		return nil, &ConnectionError{Op: "WS " + st.url, RequestID: rid, Err: err}
	}
	if st.command != nil {
		if err := conn.WriteJSON(st.command); err != nil {
			conn.Close()
			return nil, &ConnectionError{Op: "WS " + st.url, RequestID: rid, Err: err}
		}
	}
	return conn, nil
}

// run pumps connections until the stream ends, reconnecting after retryable closes.
func (st *stream[T]) run(ctx context.Context, conn *websocket.Conn) error {
	retries := 0
	for {
		opened := time.Now()
		code, apiErr, delivered := st.pump(ctx, conn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if delivered || time.Since(opened) >= healthyAfter {
			retries = 0
		}
		if code == websocket.CloseNormalClosure {
			return nil
		}
		retry := retryable[code] && !st.opts.NoReconnect
		if !retry || (st.opts.MaxRetries > 0 && retries >= st.opts.MaxRetries) {
			if apiErr != nil {
				return apiErr
			}
			return &ConnectionError{Op: "WS " + st.url, Err: fmt.Errorf("stream closed with code %d", code)}
		}
		// Redial with backoff until a connection opens, the retries run out or ctx ends.
		for {
			if !st.opts.NoReconnect && st.opts.MaxRetries > 0 && retries >= st.opts.MaxRetries {
				return &ConnectionError{Op: "WS " + st.url, Err: fmt.Errorf("gave up after %d retries", retries)}
			}
			delay := st.opts.InitialDelay << retries
			if delay > st.opts.MaxDelay || delay <= 0 {
				delay = st.opts.MaxDelay
			}
			delay = delay/2 + time.Duration(rand.Int63n(int64(delay/2)+1))
			retries++
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			next, err := st.dial(ctx)
			if err == nil {
				conn = next
				break
			}
			var e *APIError
			if errors.As(err, &e) && !retryable[4000+e.Status] {
				return err // the handshake itself was refused (401, 403, 404): retrying repeats it
			}
		}
	}
}

// pump reads one connection until it closes: the close code, the error frame that preceded it
// (as *APIError), and whether any message was delivered.
func (st *stream[T]) pump(ctx context.Context, conn *websocket.Conn) (int, *APIError, bool) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeGraceDelay))
			conn.Close()
		case <-stop:
		}
	}()
	defer conn.Close()
	var errorBody []byte
	delivered := false
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			code := websocket.CloseAbnormalClosure
			reason := ""
			var closeErr *websocket.CloseError
			if errors.As(err, &closeErr) {
				code, reason = closeErr.Code, closeErr.Text
			}
			return code, closeError(code, reason, errorBody), delivered
		}
		var probe struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &probe) == nil && len(probe.Error) > 0 && string(probe.Error) != "null" {
			errorBody = data
			continue
		}
		var message T
		if json.Unmarshal(data, &message) != nil {
			continue // the server only sends JSON objects of this stream's shape
		}
		select {
		case st.out <- message:
			delivered = true
		case <-ctx.Done():
			return websocket.CloseNormalClosure, nil, delivered
		}
	}
}

// closeError is the *APIError a close stands for: its error frame, or the code's status and the
// close reason (the server puts the error code there) when no frame came first.
func closeError(code int, reason string, body []byte) *APIError {
	if body == nil && (code < 4000 || code >= 5000) {
		return nil
	}
	status := 500
	if code >= 4000 && code < 5000 {
		status = code - 4000
	}
	if body == nil {
		e := errorFromBody(status, nil, "")
		if reason != "" {
			e.Code, e.Message = reason, reason
		}
		return e
	}
	return errorFromBody(status, body, "")
}
