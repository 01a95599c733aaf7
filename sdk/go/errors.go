package orchestrator

// Typed errors: every error answer of the API is an *APIError carrying the reference's code,
// message, details, request id and HTTP status; errors.Is matches it against the Err* sentinel
// of its code (and of its class: ErrValidation for any 422 code, ErrNotFound for any 404...).
// A transport failure is a *ConnectionError. No I/O here.

import (
	"encoding/json"
	"errors"
	"fmt"
)

// APIError is an error answer from the API (the reference's error body).
type APIError struct {
	Status    int                    // HTTP status (for a stream: its close code minus 4000)
	Code      string                 // e.g. "TENANT_NOT_FOUND"
	Message   string                 // the server's human message
	Details   map[string]interface{} // structured details, e.g. {"tenant_id": "..."} or {"field": "..."}
	RequestID string                 // X-Request-ID of the request
	Timestamp string
}

func (e *APIError) Error() string {
	rid := ""
	if e.RequestID != "" {
		rid = " (request " + e.RequestID + ")"
	}
	return fmt.Sprintf("ecp: %s: %s%s", e.Code, e.Message, rid)
}

// Is reports whether target is the sentinel of e's code, or of a class e's code belongs to.
func (e *APIError) Is(target error) bool {
	sentinel, ok := target.(*codeError)
	if !ok {
		return false
	}
	if sentinel.code == e.Code {
		return true
	}
	for _, class := range classesOf(e) {
		if class == sentinel {
			return true
		}
	}
	return false
}

// codeError is the type of the Err* sentinels; use them with errors.Is.
type codeError struct{ code string }

func (c *codeError) Error() string { return "ecp: " + c.code }

// Sentinels for errors.Is: one per error code of the reference and of this server.
var (
	ErrBadRequest            = &codeError{"BAD_REQUEST"}
	ErrValidation            = &codeError{"VALIDATION_ERROR"}
	ErrInvalidPreset         = &codeError{"INVALID_PRESET"}
	ErrSLAUnachievable       = &codeError{"SLA_UNACHIEVABLE"}
	ErrInsufficientResources = &codeError{"INSUFFICIENT_RESOURCES"}
	ErrManifestInvalid       = &codeError{"MANIFEST_INVALID"}
	ErrUnauthorized          = &codeError{"UNAUTHORIZED"}
	ErrForbidden             = &codeError{"FORBIDDEN"}
	ErrNotFound              = &codeError{"NOT_FOUND"}
	ErrTenantNotFound        = &codeError{"TENANT_NOT_FOUND"}
	ErrDeploymentNotFound    = &codeError{"DEPLOYMENT_NOT_FOUND"}
	ErrConflict              = &codeError{"CONFLICT"}
	ErrTenantAlreadyExists   = &codeError{"TENANT_ALREADY_EXISTS"}
	ErrPreconditionFailed    = &codeError{"PRECONDITION_FAILED"}
	ErrPayloadTooLarge       = &codeError{"PAYLOAD_TOO_LARGE"}
	ErrRateLimited           = &codeError{"RATE_LIMITED"}
	ErrServer                = &codeError{"SERVER_ERROR"}
	ErrDeploymentFailed      = &codeError{"DEPLOYMENT_FAILED"}
	ErrMonitoringUnavailable = &codeError{"MONITORING_UNAVAILABLE"}
	ErrDatabase              = &codeError{"DATABASE_ERROR"}
	ErrKubernetes            = &codeError{"KUBERNETES_ERROR"}
)

// The class sentinels an error also matches, by HTTP status (as the JS and Python SDKs'
// subclasses do: a TENANT_NOT_FOUND is also a NotFound, an INVALID_PRESET also a Validation).
func classesOf(e *APIError) []*codeError {
	switch {
	case e.Status == 400:
		return []*codeError{ErrBadRequest}
	case e.Status == 401:
		return []*codeError{ErrUnauthorized}
	case e.Status == 403:
		return []*codeError{ErrForbidden}
	case e.Status == 404:
		return []*codeError{ErrNotFound}
	case e.Status == 409:
		return []*codeError{ErrConflict}
	case e.Status == 412:
		return []*codeError{ErrPreconditionFailed}
	case e.Status == 413:
		return []*codeError{ErrPayloadTooLarge}
	case e.Status == 422:
		return []*codeError{ErrValidation}
	case e.Status == 429:
		return []*codeError{ErrRateLimited}
	case e.Status >= 500:
		return []*codeError{ErrServer}
	}
	return nil
}

// ConnectionError is a request that got no answer: the server was unreachable, the call timed
// out, or the answer could not be read. errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, context.Canceled) see through it.
type ConnectionError struct {
	Op        string // e.g. "GET http://host/api/v1/tenants/"
	RequestID string
	Err       error
}

func (e *ConnectionError) Error() string { return fmt.Sprintf("ecp: %s: %v", e.Op, e.Err) }
func (e *ConnectionError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time.
func (e *ConnectionError) Timeout() bool {
	var timeout interface{ Timeout() bool }
	return errors.As(e.Err, &timeout) && timeout.Timeout()
}

// errorFromBody builds the *APIError of an error answer; any body shape is tolerated.
func errorFromBody(status int, body []byte, requestID string) *APIError {
	var envelope struct {
		Error *struct {
			Code      string                 `json:"code"`
			Message   string                 `json:"message"`
			Details   map[string]interface{} `json:"details"`
			Timestamp string                 `json:"timestamp"`
			RequestID string                 `json:"request_id"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &envelope) != nil || envelope.Error == nil {
		return &APIError{
			Status:    status,
			Code:      fmt.Sprintf("HTTP_%d", status),
			Message:   fmt.Sprintf("HTTP %d", status),
			Details:   map[string]interface{}{},
			RequestID: requestID,
		}
	}
	e := envelope.Error
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP_%d", status)
	}
	if e.RequestID == "" {
		e.RequestID = requestID
	}
	if e.Details == nil {
		e.Details = map[string]interface{}{}
	}
	return &APIError{
		Status:    status,
		Code:      e.Code,
		Message:   e.Message,
		Details:   e.Details,
		RequestID: e.RequestID,
		Timestamp: e.Timestamp,
	}
}
