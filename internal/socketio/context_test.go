package socketio

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSocketContext(t *testing.T) {
	var c socketContext
	if c.Err() != nil {
		t.Fatalf("Err() = %v before cancel", c.Err())
	}
	child, cancelChild := context.WithTimeout(&c, time.Hour)
	defer cancelChild()
	ended, cancelEnded := context.WithCancel(&c)
	cancelEnded() // ends first: must leave nothing registered
	if len(c.funcs) != 1 {
		t.Fatalf("%d registrations after a derived context ended, want 1 (the one still open)", len(c.funcs))
	}
	ran := make(chan struct{})
	context.AfterFunc(&c, func() { close(ran) })
	stopped := false
	stop := context.AfterFunc(&c, func() { stopped = true })
	if !stop() {
		t.Fatal("stop() = false before cancel")
	}
	select {
	case <-c.Done():
		t.Fatal("Done closed before cancel")
	default:
	}

	c.cancel()
	c.cancel() // idempotent
	<-c.Done()
	<-child.Done()
	<-ran
	if !errors.Is(c.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) || !errors.Is(ended.Err(), context.Canceled) {
		t.Fatalf("Err() = %v, child %v, want context.Canceled", c.Err(), child.Err())
	}
	if stopped {
		t.Fatal("a stopped AfterFunc ran")
	}
	if c.funcs != nil {
		t.Fatalf("%d registrations left after cancel", len(c.funcs))
	}

	// Derived after the cancel: canceled at once.
	late, cancelLate := context.WithCancel(&c)
	defer cancelLate()
	<-late.Done()
}

// A context derived from a socket's and ended before it leaves nothing in
// the socket's context, not even a Done channel, when it is linked with
// AfterCancel.
func TestAfterCancelLeavesNothing(t *testing.T) {
	s := &Socket{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	stop := s.AfterCancel(cancel)
	stop()
	cancel()
	if s.ctx.funcs != nil || s.ctx.done != nil {
		t.Fatalf("socket context holds %d registrations, done %v", len(s.ctx.funcs), s.ctx.done != nil)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	s.AfterCancel(cancel2)
	s.ctx.cancel()
	if !errors.Is(ctx2.Err(), context.Canceled) || !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("linked context Err() = %v after the socket's cancel, want context.Canceled", ctx2.Err())
	}
	// Linked once canceled: runs at once.
	ran := false
	s.AfterCancel(func() { ran = true })
	if !ran {
		t.Fatal("AfterCancel on a canceled socket did not run f")
	}
}
