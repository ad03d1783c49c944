package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tradewithai/realtime/internal/engineio"
)

// Defaults of the options below.
const (
	DefaultPath                    = "/socket.io/"
	DefaultHeartbeatInterval       = 30 * time.Second
	DefaultConnectionCountInterval = time.Second
	DefaultPingInterval            = 25 * time.Second
	DefaultPingTimeout             = 20 * time.Second
	DefaultMaxPayload              = 1_000_000
	DefaultConnectTimeout          = 45 * time.Second
	DefaultMaxSubscriptions        = 100
	DefaultMaxSymbols              = 50
	DefaultMaxQueueMessages        = 1024
	DefaultMaxQueueBytes           = 1 << 20
)

// Option configures a Gateway. Options validate their arguments: New
// returns an error wrapping ErrInvalidOption for the first invalid one.
type Option func(*config) error

type config struct {
	authenticator    Authenticator
	developmentMode  bool
	limiter          Limiter
	heartbeat        time.Duration
	countInterval    time.Duration
	naming           RoomNaming
	channels         map[string]Channel
	authorizer       ChannelAuthorizer
	maxSubscriptions int
	maxSymbols       int
	connectTimeout   time.Duration
	logger           *slog.Logger
	engine           engineio.Config
	adapter          Adapter
	limits           connectionLimits
	handshakes       *handshakeLimiter
	clientAddress    func(remoteAddr string, header http.Header) string
}

func defaultConfig() *config {
	// The defaults are valid: newRateLimiter cannot fail here.
	limiter, _ := newRateLimiter(DefaultRateLimitEvents, DefaultRateLimitWindow, time.Now)
	c := &config{
		limiter:          limiter,
		heartbeat:        DefaultHeartbeatInterval,
		countInterval:    DefaultConnectionCountInterval,
		naming:           DefaultRoomNaming(),
		channels:         make(map[string]Channel),
		maxSubscriptions: DefaultMaxSubscriptions,
		maxSymbols:       DefaultMaxSymbols,
		connectTimeout:   DefaultConnectTimeout,
		logger:           slog.New(slog.DiscardHandler),
		clientAddress:    hostOnly,
		engine: engineio.Config{
			Path:             DefaultPath,
			PingInterval:     DefaultPingInterval,
			PingTimeout:      DefaultPingTimeout,
			MaxPayload:       DefaultMaxPayload,
			MaxQueueMessages: DefaultMaxQueueMessages,
			MaxQueueBytes:    DefaultMaxQueueBytes,
		},
	}
	for _, ch := range DefaultChannels() {
		c.channels[ch.Name] = ch
	}
	return c
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// WithAuthenticator sets how connections are authenticated, typically a
// *JWTAuthenticator. There is no default: New fails without one unless
// development mode is on.
func WithAuthenticator(a Authenticator) Option {
	return func(c *config) error {
		if a == nil {
			return invalid("nil authenticator")
		}
		c.authenticator = a
		return nil
	}
}

// WithDevelopmentMode lets clients that present no token connect as
// DevelopmentUserID ("test-user-id"), as the reference deployment does in
// development. Tokens that are presented are still verified by the
// authenticator, if one is set. Default off; New logs a warning when it is
// on. Never enable it in production.
func WithDevelopmentMode(on bool) Option {
	return func(c *config) error {
		c.developmentMode = on
		return nil
	}
}

// WithRateLimit limits each connection to events client events per per,
// counting every event alike. It is a token bucket holding events tokens: a
// client may send a burst of events at once, the next one inside the window
// is refused with an `error` event RATE_LIMITED (the connection stays open),
// and capacity returns steadily (one event every per/events) rather than all
// at once when a window ends, so a client cannot double its rate by
// straddling a window boundary. Default 60 events per minute
// (DefaultRateLimitEvents per DefaultRateLimitWindow), the reference
// deployment's limit. events must be at least 1 and per positive.
//
// WithRateLimit and WithLimiter set the same policy; the last one given
// applies.
func WithRateLimit(events int, per time.Duration) Option {
	return func(c *config) error {
		l, err := newRateLimiter(events, per, time.Now)
		if err != nil {
			return err
		}
		c.limiter = l
		return nil
	}
}

// WithLimiter replaces the rate limit with a policy of your own for client
// events; WithLimiter(NoLimit()) turns limiting off. Default: 60 events per
// minute per connection (see WithRateLimit).
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("nil limiter (use NoLimit() to disable rate limiting)")
		}
		c.limiter = l
		return nil
	}
}

// WithHeartbeatInterval sets how often every client receives a `heartbeat`
// event. Default 30s; 0 disables heartbeat events (Engine.IO pings still
// detect dead connections).
func WithHeartbeatInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || (d > 0 && d < 10*time.Millisecond) {
			return invalid("heartbeat interval %v: want 0 (off) or at least 10ms", d)
		}
		c.heartbeat = d
		return nil
	}
}

// WithConnectionCountInterval sets how often, at most, clients receive the
// `connection-count` event after the number of connections changed. Arrivals
// and departures within one interval are coalesced into one event per
// client, so N connections arriving cost O(N) messages, not O(N²). Default
// 1s; 0 disables the event.
func WithConnectionCountInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || (d > 0 && d < 10*time.Millisecond) {
			return invalid("connection count interval %v: want 0 (off) or at least 10ms", d)
		}
		c.countInterval = d
		return nil
	}
}

// WithRoomNaming sets how user rooms and per-symbol rooms are named.
// Default DefaultRoomNaming(): "user:<id>" and "<channel>:<symbol>".
func WithRoomNaming(n RoomNaming) Option {
	return func(c *config) error {
		if n.User == nil || n.Symbol == nil {
			return invalid("room naming needs both User and Symbol functions")
		}
		c.naming = n
		return nil
	}
}

// WithChannels replaces the set of channels clients may subscribe to.
// Default DefaultChannels(): trading, market-data (with symbols) and llm.
func WithChannels(channels ...Channel) Option {
	return func(c *config) error {
		if len(channels) == 0 {
			return invalid("no channels")
		}
		set := make(map[string]Channel, len(channels))
		for _, ch := range channels {
			if err := ch.validate(); err != nil {
				return err
			}
			if _, dup := set[ch.Name]; dup {
				return invalid("channel %q listed twice", ch.Name)
			}
			set[ch.Name] = ch
		}
		c.channels = set
		return nil
	}
}

// WithChannelAuthorizer sets a hook that may refuse a subscription. Default
// none: every channel is open to every authenticated client.
func WithChannelAuthorizer(a ChannelAuthorizer) Option {
	return func(c *config) error {
		if a == nil {
			return invalid("nil channel authorizer")
		}
		c.authorizer = a
		return nil
	}
}

// WithMaxSubscriptions bounds the rooms one client may subscribe to (its
// user room not counted). Default 100.
func WithMaxSubscriptions(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return invalid("max subscriptions %d: want at least 1", n)
		}
		c.maxSubscriptions = n
		return nil
	}
}

// WithMaxSymbols bounds the symbols one subscribe or unsubscribe request may
// name. Default 50.
func WithMaxSymbols(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return invalid("max symbols %d: want at least 1", n)
		}
		c.maxSymbols = n
		return nil
	}
}

// WithAllowedOrigins lists the browser origins ("https://app.example.com")
// whose pages may connect, for long-polling CORS and for the WebSocket
// origin check alike; "*" allows every origin. Default: same origin only
// (clients that send no Origin header, such as Node processes, are always
// allowed).
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) error {
		for _, o := range origins {
			if o != "*" && !strings.Contains(o, "://") {
				return invalid("origin %q: want scheme://host[:port] or *", o)
			}
		}
		c.engine.AllowedOrigins = append([]string(nil), origins...)
		return nil
	}
}

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithPath sets the URL path the gateway answers on; mount the gateway on
// the same path. Default "/socket.io/", where socket.io-client looks.
func WithPath(path string) Option {
	return func(c *config) error {
		if path == "" || path[0] != '/' {
			return invalid("path %q must start with /", path)
		}
		c.engine.Path = path
		return nil
	}
}

// WithPingInterval sets how often the server pings each connection.
// Default 25s.
func WithPingInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond {
			return invalid("ping interval %v: want at least 10ms", d)
		}
		c.engine.PingInterval = d
		return nil
	}
}

// WithPingTimeout sets how long a ping may go unanswered before the
// connection is closed. Default 20s.
func WithPingTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond {
			return invalid("ping timeout %v: want at least 10ms", d)
		}
		c.engine.PingTimeout = d
		return nil
	}
}

// WithMaxPayload bounds what a client may send in one message or request,
// in bytes. Default 1,000,000; a larger message closes the connection.
func WithMaxPayload(n int64) Option {
	return func(c *config) error {
		if n < 1024 {
			return invalid("max payload %d: want at least 1024 bytes", n)
		}
		c.engine.MaxPayload = n
		return nil
	}
}

// WithConnectTimeout bounds the time between opening a connection and
// joining the namespace. Default 45s.
func WithConnectTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond {
			return invalid("connect timeout %v: want at least 10ms", d)
		}
		c.connectTimeout = d
		return nil
	}
}

// WithTransports restricts the transports clients may use: "polling",
// "websocket". Default both.
func WithTransports(transports ...string) Option {
	return func(c *config) error {
		if len(transports) == 0 {
			return invalid("no transports")
		}
		for _, t := range transports {
			if _, ok := engineio.ParseTransport(t); !ok {
				return invalid("unknown transport %q", t)
			}
		}
		c.engine.Transports = append([]string(nil), transports...)
		return nil
	}
}

// WithQueueLimits bounds each connection's outbound queue. A client that
// falls further behind is disconnected as a slow consumer (counted in
// Stats), so it can neither slow others down nor grow memory without bound.
// Defaults 1024 messages and 1 MiB.
func WithQueueLimits(messages, bytes int) Option {
	return func(c *config) error {
		if messages < 1 || bytes < 1024 {
			return invalid("queue limits %d messages / %d bytes: want at least 1 and 1024", messages, bytes)
		}
		c.engine.MaxQueueMessages = messages
		c.engine.MaxQueueBytes = bytes
		return nil
	}
}

// SlowConsumerPolicy is what happens to a client whose outbound queue is
// full.
type SlowConsumerPolicy uint8

const (
	// SlowConsumerDisconnect disconnects the client (counted in
	// Stats().Counters.SlowConsumers); socket.io-client reconnects and
	// starts from fresh data.
	SlowConsumerDisconnect SlowConsumerPolicy = iota
	// SlowConsumerConflate first drops the queued symbol updates
	// (PublishToSymbol) that a newer update of the same event and symbol
	// replaces, since a stale price is worth nothing; the client is
	// disconnected only when that frees no room.
	SlowConsumerConflate
)

// WithSlowConsumerPolicy sets what happens when a client's queue (see
// WithQueueLimits) is full. Default SlowConsumerDisconnect.
func WithSlowConsumerPolicy(p SlowConsumerPolicy) Option {
	return func(c *config) error {
		switch p {
		case SlowConsumerDisconnect:
			c.engine.Overflow = engineio.OverflowDisconnect
		case SlowConsumerConflate:
			c.engine.Overflow = engineio.OverflowConflate
		default:
			return invalid("unknown slow consumer policy %d", p)
		}
		return nil
	}
}

// ChannelAuthorizer decides whether a client may subscribe to a channel
// (with the given symbols, if any). Returning an *Error sets the code the
// client sees; any other error is reported as FORBIDDEN.
type ChannelAuthorizer func(ctx context.Context, c *Client, channel string, symbols []string) error
