package engineio

import "sync"

// receiveGate delivers a session's inbound messages and its close to the
// Receiver under the Receiver's threading contract: Receive calls are
// serialised; Closed is called once, never concurrently with Receive; a
// close decided while Receive (or onSession, which counts as one) runs is
// delivered when it returns, on the goroutine that ran it.
type receiveGate struct {
	// deliverMu serialises Receive calls (a POST sent before an upgrade
	// may still be delivering when the WebSocket delivers its first
	// message); mu orders them with Closed. recv is set under mu once
	// onSession returns: a Send inside onSession can start a writer that
	// closes the session before then.
	deliverMu     sync.Mutex
	mu            sync.Mutex
	recv          Receiver
	receiving     bool
	closePending  bool
	closeNotified bool
	pendingReason error
}

// enter marks a call to the receiver's owner as running before there is a
// receiver (onSession): a close decided meanwhile waits for leave.
func (g *receiveGate) enter() {
	g.mu.Lock()
	g.receiving = true
	g.mu.Unlock()
}

// setReceiver sets the receiver, once onSession has returned it.
func (g *receiveGate) setReceiver(r Receiver) {
	g.mu.Lock()
	g.recv = r
	g.mu.Unlock()
}

// receive hands a message to the receiver, unless the close has been
// decided. A close decided while Receive runs is reported after it
// returns, never concurrently with it.
func (g *receiveGate) receive(data []byte, binary bool) {
	g.deliverMu.Lock()
	defer g.deliverMu.Unlock()
	g.mu.Lock()
	if g.closeNotified || g.closePending {
		g.mu.Unlock()
		return
	}
	g.receiving = true
	recv := g.recv
	g.mu.Unlock()
	defer g.leave() // also when Receive panics
	recv.Receive(data, binary)
}

// leave ends a Receive (or onSession) call and reports a close that was
// decided during it.
func (g *receiveGate) leave() {
	g.mu.Lock()
	g.receiving = false
	pending, reason := g.closePending, g.pendingReason
	g.closePending, g.pendingReason = false, nil
	if pending {
		g.closeNotified = true
	}
	recv := g.recv
	g.mu.Unlock()
	if pending {
		recv.Closed(reason)
	}
}

// closing tells a ClosingReceiver at once, whatever runs. A session closed
// while onSession still runs has no receiver yet, and nothing of it is
// running: Closed, delivered when onSession returns, is all it needs.
func (g *receiveGate) closing(reason error) {
	g.mu.Lock()
	recv := g.recv
	g.mu.Unlock()
	if r, ok := recv.(ClosingReceiver); ok {
		r.Closing(reason)
	}
}

// closed tells the receiver the session is closing, once, and never while
// Receive runs: a Receive in progress (on this goroutine or another)
// delivers it when it returns.
func (g *receiveGate) closed(reason error) {
	g.mu.Lock()
	if g.closeNotified || g.closePending {
		g.mu.Unlock()
		return
	}
	if g.receiving {
		g.closePending, g.pendingReason = true, reason
		g.mu.Unlock()
		return
	}
	g.closeNotified = true
	recv := g.recv
	g.mu.Unlock()
	recv.Closed(reason)
}
