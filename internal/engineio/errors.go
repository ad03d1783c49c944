package engineio

import (
	"errors"
	"net/http"
	"time"
)

// Reasons a session closes, passed to Receiver.Closed. Their texts are the
// reasons the reference implementation reports.
var (
	// ErrTransportClose: the client closed the connection or it was lost.
	ErrTransportClose = errors.New("transport close")
	// ErrTransportError: reading or writing the connection failed, or the
	// client broke the transport's rules (a second concurrent request, an
	// oversized body).
	ErrTransportError = errors.New("transport error")
	// ErrPingTimeout: the client did not answer a ping in time.
	ErrPingTimeout = errors.New("ping timeout")
	// ErrParseError: the client sent a malformed packet.
	ErrParseError = errors.New("parse error")
	// ErrPayloadTooLarge: the client sent a message or request body over
	// the maximum payload.
	ErrPayloadTooLarge = errors.New("payload too large")
	// ErrForcedClose: the server closed the session.
	ErrForcedClose = errors.New("forced close")
	// ErrServerShutdown: the server is shutting down.
	ErrServerShutdown = errors.New("server shutting down")
	// ErrSlowConsumer: the session's outbound queue overflowed, or a write
	// to it timed out, because the client does not read fast enough.
	ErrSlowConsumer = errors.New("slow consumer")
	// ErrClosed is returned by Send on a session that is closing or closed.
	ErrClosed = errors.New("engineio: session closed")
)

// RefusedError refuses a handshake with an HTTP status other than 403,
// such as 503 with a Retry-After for a client that opens sessions too
// fast.
type RefusedError struct {
	Status     int
	RetryAfter time.Duration
	Reason     string
}

func (e *RefusedError) Error() string { return "engineio: handshake refused: " + e.Reason }

// Handshake error codes, as the reference server sends them in the JSON
// body of an HTTP error.
const (
	codeUnknownTransport   = 0
	codeUnknownSID         = 1
	codeBadHandshakeMethod = 2
	codeBadRequest         = 3
	codeForbidden          = 4
	codeUnsupportedVersion = 5
)

var errorMessages = map[int]string{
	codeUnknownTransport:   "Transport unknown",
	codeUnknownSID:         "Session ID unknown",
	codeBadHandshakeMethod: "Bad handshake method",
	codeBadRequest:         "Bad request",
	codeForbidden:          "Forbidden",
	codeUnsupportedVersion: "Unsupported protocol version",
}

// writeError answers a request the way the reference server does: HTTP 400
// (403 for Forbidden) with a JSON body {code, message}.
func writeError(w http.ResponseWriter, code int) {
	status := http.StatusBadRequest
	if code == codeForbidden {
		status = http.StatusForbidden
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The messages are constants without characters that need escaping.
	_, _ = w.Write([]byte(`{"code":` + string(rune('0'+code)) + `,"message":"` + errorMessages[code] + `"}`))
}
