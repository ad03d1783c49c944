package redisadapter

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Publishing never makes the caller wait for Redis. Messages are encoded by
// the caller and queued; one goroutine sends whatever is queued to Redis
// in a single pipelined round trip (up to maxBatch messages), bounded by
// the publish timeout. Redis pub/sub keeps nothing for absent subscribers,
// so nothing is retried either: after a failed round trip its messages and
// those queued behind them are dropped, and for the retry interval new
// messages are refused with ErrUnavailable rather than queued behind a
// Redis that is down.

// maxBatch bounds the messages sent in one round trip.
const maxBatch = 128

// outbound is a message waiting to be published.
type outbound struct {
	channel string
	payload []byte
}

// publishState remembers the last publish failure.
type publishState struct {
	mu        sync.Mutex
	downUntil time.Time
	err       error // cause of the current outage; nil when publishing works
}

// refusal returns the error to refuse new messages with while a failure
// is recent.
func (s *publishState) refusal(now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil && now.Before(s.downUntil) {
		return fmt.Errorf("%w: %w", ErrUnavailable, s.err)
	}
	return nil
}

// failed records a failure and reports whether it starts an outage.
func (s *publishState) failed(err error, until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.err == nil
	s.err, s.downUntil = err, until
	return first
}

// succeeded records a success and reports whether it ends an outage.
func (s *publishState) succeeded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.err != nil
	s.err = nil
	return was
}

// enqueue queues a message for publishing without blocking.
func (a *Adapter) enqueue(channel string, payload []byte) error {
	if err := a.pub.refusal(time.Now()); err != nil {
		a.stats.dropped.Add(1)
		return err
	}
	select {
	case a.queue <- outbound{channel: channel, payload: payload}:
		return nil
	default:
		a.stats.dropped.Add(1)
		return ErrQueueFull
	}
}

// publish sends queued messages until Close, then flushes the queue.
func (a *Adapter) publish() {
	defer a.wg.Done()
	batch := make([]outbound, 0, maxBatch)
	for {
		select {
		case <-a.ctx.Done():
			for {
				batch = a.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				a.send(batch)
			}
		case m := <-a.queue:
			batch = a.fill(append(batch[:0], m))
			a.send(batch)
		}
	}
}

// fill appends queued messages to batch, without waiting, up to maxBatch.
func (a *Adapter) fill(batch []outbound) []outbound {
	for len(batch) < maxBatch {
		select {
		case m := <-a.queue:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// send publishes batch in one round trip.
func (a *Adapter) send(batch []outbound) {
	// Not a.ctx: the final flush runs after Close canceled it.
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.publishTimeout)
	defer cancel()
	var err error
	if len(batch) == 1 {
		err = a.client.Publish(ctx, batch[0].channel, batch[0].payload).Err()
	} else {
		pipe := a.client.Pipeline()
		for _, m := range batch {
			pipe.Publish(ctx, m.channel, m.payload)
		}
		_, err = pipe.Exec(ctx)
	}
	clear(batch) // let the payloads go
	if err == nil {
		a.stats.published.Add(uint64(len(batch)))
		if a.pub.succeeded() {
			a.log.Info("redisadapter: publishing to redis again")
		}
		return
	}
	dropped := len(batch)
	// What queued up behind the failure is as stale as what failed.
	for {
		select {
		case <-a.queue:
			dropped++
			continue
		default:
		}
		break
	}
	a.stats.dropped.Add(uint64(dropped))
	if a.pub.failed(err, time.Now().Add(a.cfg.retryInterval)) {
		a.log.Warn("redisadapter: publishing to redis failed; other instances miss messages until it recovers",
			"err", err, "dropped", dropped)
	}
}
