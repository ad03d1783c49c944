package redisadapter

import "errors"

var (
	// ErrUnavailable is wrapped by the errors returned when Redis cannot be
	// reached: by Start when the gateway starts, and by publishing methods
	// for a moment (WithRetryInterval) after a publish failed. Local
	// delivery is unaffected.
	ErrUnavailable = errors.New("redisadapter: redis unavailable")
	// ErrQueueFull is returned when more messages wait to be published than
	// WithQueueSize allows: Redis is slower than the rate of publishing.
	// The message reached local clients but not the other instances.
	ErrQueueFull = errors.New("redisadapter: publish queue full")
	// ErrTimeout is wrapped by the error RemoteClientCount returns when
	// some instances did not answer within the request timeout.
	ErrTimeout = errors.New("redisadapter: request timed out")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("redisadapter: adapter closed")
	// ErrNotStarted is returned by an Adapter that has not been started:
	// pass it to realtime.WithAdapter, whose gateway starts it.
	ErrNotStarted = errors.New("redisadapter: adapter not started")
)
