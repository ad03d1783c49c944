package engineio

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults, as in the reference Engine.IO server.
const (
	DefaultPath             = "/socket.io/"
	DefaultPingInterval     = 25 * time.Second
	DefaultPingTimeout      = 20 * time.Second
	DefaultMaxPayload       = 1_000_000
	DefaultUpgradeTimeout   = 10 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultMaxQueueMessages = 1024
	DefaultMaxQueueBytes    = 1 << 20
)

// Transport is how a session's packets travel: HTTP long-polling or
// WebSocket.
type Transport uint8

// The transports. The zero Transport is none of them.
const (
	TransportPolling Transport = iota + 1
	TransportWebSocket
)

// String returns the transport's name, as it appears in the `transport`
// query parameter and in Config.Transports.
func (t Transport) String() string {
	switch t {
	case TransportPolling:
		return "polling"
	case TransportWebSocket:
		return "websocket"
	}
	return "unknown"
}

// ParseTransport returns the transport named name ("polling" or
// "websocket"), and false for any other name.
func ParseTransport(name string) (Transport, bool) {
	switch name {
	case "polling":
		return TransportPolling, true
	case "websocket":
		return TransportWebSocket, true
	}
	return 0, false
}

// OverflowPolicy decides what a session does when a send would exceed its
// queue bounds.
type OverflowPolicy uint8

const (
	// OverflowDisconnect closes the session with ErrSlowConsumer.
	OverflowDisconnect OverflowPolicy = iota
	// OverflowConflate first drops every queued message that a newer queued
	// message with the same Key replaces; only when that frees no room is
	// the session closed.
	OverflowConflate
)

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("engineio: invalid config")

// Config configures a Server. The zero value of every field means its
// default.
type Config struct {
	// Path is the URL path the server answers on. Default "/socket.io/".
	Path string
	// PingInterval is how often the server pings each session. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long a ping may wait for its pong before the
	// session is closed. Default 20s.
	PingTimeout time.Duration
	// MaxPayload is the largest request body, WebSocket message or packet
	// accepted from a client, in bytes. Default 1,000,000.
	MaxPayload int64
	// UpgradeTimeout bounds the polling-to-WebSocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// WriteTimeout bounds one write to a client's connection. Default 10s.
	WriteTimeout time.Duration
	// Transports lists the allowed transports by name ("polling",
	// "websocket"; see ParseTransport). Default both.
	Transports []string
	// AllowedOrigins lists the origins (scheme://host[:port]) whose pages
	// may open sessions; "*" allows any origin. Requests without an Origin
	// header (non-browser clients) and same-origin requests are always
	// allowed. Default: same origin only.
	AllowedOrigins []string
	// MaxQueueMessages and MaxQueueBytes bound each session's outbound
	// queue. A send that would exceed either closes the session with
	// ErrSlowConsumer. Defaults 1024 messages and 1 MiB.
	MaxQueueMessages int
	MaxQueueBytes    int
	// Overflow is what happens when a send would exceed the queue bounds.
	// Default OverflowDisconnect.
	Overflow OverflowPolicy
	// AllowRequest, when set, may refuse a handshake (new session) by
	// returning an error: a *RefusedError chooses the HTTP status (and
	// Retry-After); any other error is answered with 403 Forbidden.
	AllowRequest func(r *http.Request) error
	// Logger receives diagnostics. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !strings.HasPrefix(c.Path, "/") {
		return c, fmt.Errorf("%w: path %q must start with /", ErrInvalidConfig, c.Path)
	}
	if !strings.HasSuffix(c.Path, "/") {
		c.Path += "/"
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ping interval", &c.PingInterval, DefaultPingInterval},
		{"ping timeout", &c.PingTimeout, DefaultPingTimeout},
		{"upgrade timeout", &c.UpgradeTimeout, DefaultUpgradeTimeout},
		{"write timeout", &c.WriteTimeout, DefaultWriteTimeout},
	}
	for _, d := range durations {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < time.Millisecond {
			return c, fmt.Errorf("%w: %s %v is below 1ms", ErrInvalidConfig, d.name, *d.v)
		}
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.MaxPayload < 64 {
		return c, fmt.Errorf("%w: max payload %d is below 64 bytes", ErrInvalidConfig, c.MaxPayload)
	}
	if c.MaxQueueMessages == 0 {
		c.MaxQueueMessages = DefaultMaxQueueMessages
	}
	if c.MaxQueueBytes == 0 {
		c.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if c.MaxQueueMessages < 1 || c.MaxQueueBytes < 1 {
		return c, fmt.Errorf("%w: queue limits must be positive", ErrInvalidConfig)
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling.String(), TransportWebSocket.String()}
	}
	for _, t := range c.Transports {
		if _, ok := ParseTransport(t); !ok {
			return c, fmt.Errorf("%w: unknown transport %q", ErrInvalidConfig, t)
		}
	}
	for _, o := range c.AllowedOrigins {
		if o != "*" && !strings.Contains(o, "://") {
			return c, fmt.Errorf("%w: origin %q must be scheme://host[:port] or *", ErrInvalidConfig, o)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
