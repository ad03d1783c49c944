package redisadapter

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
)

// Option configures an Adapter or an Emitter. Options that only concern
// one of them say so and are ignored by the other. An invalid option is
// reported, with an error wrapping realtime.ErrInvalidOption, by the
// Adapter's Start (and so by realtime.New) or by the Emitter's methods that
// publish.
type Option func(*config) error

type config struct {
	key              string
	requestTimeout   time.Duration
	publishTimeout   time.Duration
	startTimeout     time.Duration
	retryInterval    time.Duration
	queueSize        int
	specificResponse bool
	logger           *slog.Logger
	naming           realtime.RoomNaming
}

func defaultConfig() *config {
	return &config{
		key:            "socket.io",
		requestTimeout: 5 * time.Second,
		publishTimeout: 2 * time.Second,
		startTimeout:   5 * time.Second,
		retryInterval:  time.Second,
		queueSize:      1024,
		logger:         slog.New(slog.DiscardHandler),
		naming:         realtime.DefaultRoomNaming(),
	}
}

// newConfig applies opts to the defaults. When client is nil or an option
// is invalid, it returns the defaults with an error wrapping
// realtime.ErrInvalidOption, which the Adapter or Emitter reports when it
// is used.
func newConfig(client redis.UniversalClient, opts []Option) (*config, error) {
	if client == nil {
		return defaultConfig(), invalid("nil redis client")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return defaultConfig(), invalid("nil option")
		}
		if err := opt(cfg); err != nil {
			return defaultConfig(), err
		}
	}
	return cfg, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: redisadapter: %s", realtime.ErrInvalidOption, fmt.Sprintf(format, args...))
}

// WithKey sets the prefix of the Redis channel names; it must match the
// `key` option of the Node servers and emitters in the cluster. Default
// "socket.io".
func WithKey(key string) Option {
	return func(c *config) error {
		if key == "" {
			return invalid("empty key")
		}
		c.key = key
		return nil
	}
}

// WithRequestTimeout bounds how long the adapter waits for the other
// instances to answer a request (counting their clients), like the Node
// adapter's requestsTimeout. Adapter only. Default 5 s.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("request timeout %v: want > 0", d)
		}
		c.requestTimeout = d
		return nil
	}
}

// WithPublishTimeout bounds one round trip that publishes queued messages
// to Redis. Adapter only. Default 2 s.
func WithPublishTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("publish timeout %v: want > 0", d)
		}
		c.publishTimeout = d
		return nil
	}
}

// WithStartTimeout bounds how long Start waits for Redis to answer and
// confirm the subscriptions. Adapter only. Default 5 s.
func WithStartTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("start timeout %v: want > 0", d)
		}
		c.startTimeout = d
		return nil
	}
}

// WithRetryInterval sets how long, after a failed publish, the adapter
// refuses new messages with ErrUnavailable before trying Redis again.
// Adapter only. Default 1 s.
func WithRetryInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("retry interval %v: want > 0", d)
		}
		c.retryInterval = d
		return nil
	}
}

// WithQueueSize sets how many messages may wait to be published; beyond
// it, publishing fails with ErrQueueFull instead of blocking the caller.
// Adapter only. Default 1024.
func WithQueueSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return invalid("queue size %d: want >= 1", n)
		}
		c.queueSize = n
		return nil
	}
}

// WithSpecificResponseChannel makes the adapter answer requests on the
// requester's own response channel (socket.io-response#/#<uid>#) rather
// than the shared one, like the Node adapter's
// publishOnSpecificResponseChannel option; every server of the cluster
// should agree on it. Adapter only. Default false.
func WithSpecificResponseChannel(on bool) Option {
	return func(c *config) error {
		c.specificResponse = on
		return nil
	}
}

// WithLogger sets where the adapter logs connection losses and recoveries.
// Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithRoomNaming sets how Emitter.SendToUser names user rooms; it must
// match the gateways' realtime.WithRoomNaming. Emitter only. Default
// realtime.DefaultRoomNaming() ("user:<id>").
func WithRoomNaming(n realtime.RoomNaming) Option {
	return func(c *config) error {
		if n.User == nil || n.Symbol == nil {
			return invalid("room naming needs both User and Symbol functions")
		}
		c.naming = n
		return nil
	}
}
