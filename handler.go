package realtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/tradewithai/realtime/internal/socketio"
)

// HandlerFunc handles a client event registered with Gateway.Handle. What it
// returns is the client's acknowledgement (when the client passed a
// callback); an error becomes an `error` event instead (see Error). It runs
// on the client's read goroutine: move long work (streaming a reply) to a
// goroutine bound to ctx, which ends when the client disconnects.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// Request is a client event delivered to a HandlerFunc.
type Request struct {
	Client *Client
	Event  string
	args   socketio.Args
}

// NumArgs returns the number of arguments the client sent.
func (r *Request) NumArgs() int { return r.args.Len() }

// Decode unmarshals the first argument into v: the usual single payload.
func (r *Request) Decode(v any) error { return r.Arg(0, v) }

// Arg unmarshals argument i into v; a binary argument (a Buffer, a Blob,
// an ArrayBuffer) decodes into a *[]byte.
func (r *Request) Arg(i int, v any) error {
	if err := r.args.Decode(i, v); err != nil {
		return &Error{Code: CodeInvalidPayload, Message: fmt.Sprintf("%s: argument %d has the wrong shape", r.Event, i), Err: err}
	}
	return nil
}

// Handle registers fn for client events named event. It returns an error for
// the built-in events (subscribe, unsubscribe, ping, get-subscriptions,
// auth:refresh) and for Socket.IO's reserved names. Registering an event again replaces its
// handler.
func (g *Gateway) Handle(event string, fn HandlerFunc) error {
	if fn == nil {
		return invalid("nil handler for %q", event)
	}
	if event == "" || slices.Contains(builtinEvents, event) || socketio.IsReservedEvent(event) {
		return invalid("event %q is reserved", event)
	}
	g.handlersMu.Lock()
	g.handlers[event] = fn
	g.handlersMu.Unlock()
	return nil
}
