package realtime

import (
	"errors"
	"fmt"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
	"github.com/tradewithai/realtime/internal/socketio"
)

// Codes a client receives in the `code` field of an `error` event. The
// connection stays open after every one of them, except TOKEN_EXPIRED
// (below). Every code a client can see is defined in this file.
const (
	CodeRateLimited          = "RATE_LIMITED"           // the event exceeded the client's rate limit and was dropped
	CodeInvalidPayload       = "INVALID_PAYLOAD"        // the event's payload has the wrong shape
	CodeUnknownChannel       = "UNKNOWN_CHANNEL"        // subscribe/unsubscribe named a channel that does not exist
	CodeInvalidSymbol        = "INVALID_SYMBOL"         // a symbol is empty, too long or has characters outside [A-Za-z0-9/._-]
	CodeTooManySymbols       = "TOO_MANY_SYMBOLS"       // one request named more symbols than allowed
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS" // the client would hold more subscriptions than allowed
	CodeForbidden            = "FORBIDDEN"              // the channel authorizer refused, or another user's room was requested
	CodeUnknownEvent         = "UNKNOWN_EVENT"          // no handler is registered for the event
	CodeInternal             = "INTERNAL_ERROR"         // a handler failed; details are in the server log only
)

// Codes a refused client receives as err.data.code in its connect_error
// handler. socket.io-client does not retry a refused connection by itself.
const (
	// CodeUnauthorized means the client presented no credential, or the
	// authenticator refused it without saying why.
	CodeUnauthorized = "UNAUTHORIZED"
	// CodeInvalidToken means the token can never be accepted: bad signature,
	// malformed, unexpected algorithm, wrong issuer or audience, not valid
	// yet, or without an expiry.
	CodeInvalidToken = "INVALID_TOKEN"
	// CodeTokenExpired means the token was valid but has expired; a client
	// should fetch a fresh token and reconnect. A connected client whose
	// token expires receives an `error` event with this code just before it
	// is disconnected.
	CodeTokenExpired = "TOKEN_EXPIRED"
	// CodeTooManyConnections means a connection limit (overall, per address
	// or per user) is reached; see WithConnectionLimits.
	CodeTooManyConnections = "TOO_MANY_CONNECTIONS"
)

var (
	// ErrClosed is returned by the Gateway's methods after Shutdown.
	ErrClosed = errors.New("realtime: gateway closed")
	// ErrDisconnected is returned when emitting to a client that has
	// disconnected.
	ErrDisconnected = errors.New("realtime: client disconnected")
	// ErrSlowConsumer is returned when emitting to a client whose queue is
	// full; the client is being disconnected (see WithQueueLimits).
	ErrSlowConsumer = errors.New("realtime: slow consumer")
	// ErrInvalidEvent is returned for an event name that cannot be sent: an
	// empty one, or one socket.io-client reserves (connect, disconnect, ...).
	ErrInvalidEvent = errors.New("realtime: invalid event name")
)

// sendError maps the protocol layers' errors to the package's.
func sendError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, engineio.ErrSlowConsumer):
		return ErrSlowConsumer
	case errors.Is(err, engineio.ErrClosed), errors.Is(err, socketio.ErrNotConnected):
		return ErrDisconnected
	case errors.Is(err, socketio.ErrReservedEvent):
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	return err
}

// Error is an error the client sees: returned by a handler or a channel
// authorizer, it becomes an `error` event {message, code, timestamp} (and
// the acknowledgement, when the client asked for one). Any other error a
// handler returns reaches the client as INTERNAL_ERROR with a generic
// message, so internals never leak.
type Error struct {
	Code    string
	Message string
	Err     error // cause, for server logs only
}

// NewError returns an *Error with the given code and client-facing message.
func NewError(code, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string {
	if e.Err != nil {
		return "realtime: " + e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return "realtime: " + e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errorPayload is the `error` event's payload.
type errorPayload struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	Timestamp string `json:"timestamp"`
}

func (e *Error) payload(now time.Time) errorPayload {
	return errorPayload{Message: e.Message, Code: e.Code, Timestamp: Timestamp(now)}
}

// Timestamp formats t as JavaScript's Date.prototype.toISOString does (UTC,
// milliseconds, "Z"): the format of every timestamp the gateway sends.
func Timestamp(t time.Time) string {
	var b [24]byte
	return string(t.UTC().AppendFormat(b[:0], "2006-01-02T15:04:05.000Z"))
}
