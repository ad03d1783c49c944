package socketio

import (
	"context"
	"slices"
	"sync"
	"time"
)

// socketContext is a Socket's context. It costs nothing until it is used:
// the channel Done returns is made on its first call, and contexts derived
// from it register through AfterFunc, which the context package uses
// instead of its own bookkeeping for parents it does not know. A derived
// context that ends leaves nothing behind, whereas a context.WithCancel
// parent keeps the map of its children, and its Done channel, for the
// rest of its life: memory every idle connection would pay for.
type socketContext struct {
	mu       sync.Mutex
	done     chan struct{} // made by the first Done
	canceled bool
	funcs    []*afterFunc
}

// afterFunc is one AfterFunc registration; its address identifies it.
type afterFunc struct{ f func() }

var _ context.Context = (*socketContext)(nil)

func (c *socketContext) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *socketContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.canceled {
			close(c.done)
		}
	}
	return c.done
}

func (c *socketContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled {
		return context.Canceled
	}
	return nil
}

func (c *socketContext) Value(any) any { return nil }

// AfterFunc arranges for f to run once c is canceled, on the canceling
// goroutine, or on a goroutine of its own if c is canceled already (the
// context package calls AfterFunc holding a lock f takes); stop
// unregisters f and reports whether it did so before f ran.
func (c *socketContext) AfterFunc(f func()) (stop func() bool) {
	stop, ok := c.register(f)
	if !ok {
		go f()
	}
	return stop
}

// register adds f to what cancel runs; ok is false, and f is not added,
// when c is canceled already.
func (c *socketContext) register(f func()) (stop func() bool, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled {
		return func() bool { return false }, false
	}
	a := &afterFunc{f: f}
	c.funcs = append(c.funcs, a)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.funcs, a)
		if i < 0 {
			return false
		}
		c.funcs = slices.Delete(c.funcs, i, i+1)
		if len(c.funcs) == 0 {
			c.funcs = nil
		}
		return true
	}, true
}

func (c *socketContext) cancel() {
	c.mu.Lock()
	if c.canceled {
		c.mu.Unlock()
		return
	}
	c.canceled = true
	if c.done != nil {
		close(c.done)
	}
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, a := range funcs {
		a.f()
	}
}
