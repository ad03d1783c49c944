package engineio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The receive gate on its own: the Receiver contract without a session.

const gateWait = 5 * time.Second

// gateReceiver records the calls it gets, whether any two overlapped, and
// can hold Receive of one payload until released.
type gateReceiver struct {
	inCall     atomic.Int32
	overlapped atomic.Bool
	received   atomic.Int32
	closes     atomic.Int32
	lateRecv   atomic.Bool // a Receive after Closed

	block    string
	entered  chan string
	release  chan struct{}
	closed   chan error
	closing  chan error
	panicOn  string
	closedAt atomic.Bool
}

func newGateReceiver(block string) *gateReceiver {
	return &gateReceiver{
		block:   block,
		entered: make(chan string, 1024),
		release: make(chan struct{}),
		closed:  make(chan error, 16),
		closing: make(chan error, 16),
	}
}

func (r *gateReceiver) enter() {
	if r.inCall.Add(1) > 1 {
		r.overlapped.Store(true)
	}
}

func (r *gateReceiver) Receive(data []byte, _ bool) {
	r.enter()
	defer r.inCall.Add(-1)
	if r.closedAt.Load() {
		r.lateRecv.Store(true)
	}
	r.received.Add(1)
	r.entered <- string(data)
	if string(data) == r.block {
		<-r.release
	}
	if string(data) == r.panicOn {
		panic("receiver panics")
	}
}

func (r *gateReceiver) Closed(reason error) {
	r.enter()
	defer r.inCall.Add(-1)
	r.closedAt.Store(true)
	r.closes.Add(1)
	r.closed <- reason
}

// closingReceiver is a gateReceiver that wants Closing too.
type closingReceiver struct{ *gateReceiver }

func (r closingReceiver) Closing(reason error) { r.closing <- reason }

func awaitGate[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(gateWait):
		t.Fatalf("no %s within %v", what, gateWait)
		var zero T
		return zero
	}
}

func expectNone[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	case <-time.After(20 * time.Millisecond):
	}
}

func openGate(r Receiver) *receiveGate {
	g := &receiveGate{}
	g.enter()
	g.setReceiver(r)
	g.leave()
	return g
}

var errGateTest = errors.New("closed by the test")

func TestGateClosedOnce(t *testing.T) {
	r := newGateReceiver("")
	g := openGate(r)
	g.closed(errGateTest)
	g.closed(errors.New("second"))
	if got := awaitGate(t, r.closed, "Closed"); got != errGateTest {
		t.Fatalf("Closed(%v), want the first reason", got)
	}
	expectNone(t, r.closed, "second Closed")
	g.receive([]byte("late"), false)
	if n := r.received.Load(); n != 0 {
		t.Errorf("%d Receive calls after Closed", n)
	}
}

// A close decided while Receive runs is delivered when it returns, on the
// goroutine that ran it, and not before.
func TestGateCloseDuringReceive(t *testing.T) {
	r := newGateReceiver("busy")
	g := openGate(r)
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.receive([]byte("busy"), false)
	}()
	awaitGate(t, r.entered, "Receive")
	g.closed(errGateTest) // returns at once: the close is pending
	expectNone(t, r.closed, "Closed during Receive")
	// Messages that arrive meanwhile wait, then are dropped.
	late := make(chan struct{})
	go func() {
		defer close(late)
		g.receive([]byte("late"), false)
	}()
	close(r.release)
	if got := awaitGate(t, r.closed, "Closed"); got != errGateTest {
		t.Fatalf("Closed(%v), want %v", got, errGateTest)
	}
	<-done
	<-late
	if n := r.received.Load(); n != 1 {
		t.Errorf("%d Receive calls, want 1", n)
	}
	if r.overlapped.Load() || r.lateRecv.Load() {
		t.Error("calls overlapped, or Receive ran after Closed")
	}
}

// onSession counts as a Receive: a close decided while it runs (by a
// writer or a timer) is delivered once the receiver exists.
func TestGateCloseDuringSetup(t *testing.T) {
	r := newGateReceiver("")
	g := &receiveGate{}
	g.enter()
	g.closing(errGateTest) // no receiver yet: nothing to tell
	g.closed(errGateTest)
	g.setReceiver(closingReceiver{r})
	expectNone(t, r.closed, "Closed before onSession returned")
	g.leave()
	if got := awaitGate(t, r.closed, "Closed"); got != errGateTest {
		t.Fatalf("Closed(%v), want %v", got, errGateTest)
	}
	expectNone(t, r.closing, "Closing")
}

// Closing reaches a ClosingReceiver at once, even during Receive; Closed
// still waits.
func TestGateClosingDuringReceive(t *testing.T) {
	r := newGateReceiver("busy")
	g := openGate(closingReceiver{r})
	go g.receive([]byte("busy"), false)
	awaitGate(t, r.entered, "Receive")
	g.closing(errGateTest)
	g.closed(errGateTest)
	if got := awaitGate(t, r.closing, "Closing"); got != errGateTest {
		t.Fatalf("Closing(%v), want %v", got, errGateTest)
	}
	expectNone(t, r.closed, "Closed during Receive")
	close(r.release)
	awaitGate(t, r.closed, "Closed")
}

// A Receive that panics still ends its call: a close decided meanwhile
// is delivered, and the gate lets the next message through.
func TestGateReceivePanics(t *testing.T) {
	r := newGateReceiver("")
	r.panicOn = "boom"
	g := openGate(r)
	func() {
		defer func() { _ = recover() }()
		g.receive([]byte("boom"), false)
	}()
	g.receive([]byte("after"), false)
	if n := r.received.Load(); n != 2 {
		t.Fatalf("%d Receive calls, want 2", n)
	}
	g.closed(errGateTest)
	awaitGate(t, r.closed, "Closed")
}

// Many goroutines deliver while another closes, at a random moment: calls
// never overlap, Closed comes exactly once, and nothing is received after
// it.
func TestGateConcurrentReceiveAndClose(t *testing.T) {
	for round := range 200 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			r := newGateReceiver("")
			var g *receiveGate
			setupDone := make(chan struct{})
			g = &receiveGate{}
			g.enter()
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Go(func() {
					<-setupDone
					for j := range 50 {
						g.receive([]byte(fmt.Sprintf("%d.%d", i, j)), false)
					}
				})
			}
			wg.Go(func() {
				if rand.IntN(2) == 0 {
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				}
				g.closing(errGateTest)
				g.closed(errGateTest)
			})
			g.setReceiver(closingReceiver{r})
			g.leave()
			close(setupDone)
			wg.Wait()
			if got := r.closes.Load(); got != 1 {
				t.Fatalf("Closed called %d times, want once", got)
			}
			if r.overlapped.Load() {
				t.Fatal("Receive and Closed overlapped")
			}
			if r.lateRecv.Load() {
				t.Fatal("Receive ran after Closed")
			}
		})
	}
}
