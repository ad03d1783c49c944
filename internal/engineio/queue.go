package engineio

// maxRetainedQueue is the largest queue capacity a session keeps between
// bursts; larger backing arrays are dropped so idle sessions stay small.
const maxRetainedQueue = 16

// queueLimits bound every session's send queue.
type queueLimits struct {
	messages int
	bytes    int
	conflate bool // OverflowConflate: drop replaced keyed messages before refusing
}

func (c *Config) queueLimits() queueLimits {
	return queueLimits{messages: c.MaxQueueMessages, bytes: c.MaxQueueBytes, conflate: c.Overflow == OverflowConflate}
}

// sendQueue is a session's outbound queue: the messages waiting for a
// writer (or a long-polling GET), bounded in messages and bytes. A writer
// takes the whole queue at once and gives the backing array back once it
// has written it, so a session that is sent to and drained steadily
// allocates nothing. The queue also tells a reader waiting for room (see
// Session.awaitRoom) when the queue is taken.
//
// The queue has no lock of its own: its session's mutex guards it.
type sendQueue struct {
	msgs      []Message
	spare     []Message // the array of a written batch, for the next take
	bytes     int       // the bytes of msgs' Data, counted against the bounds
	roomFreed chan struct{}
}

// len returns the number of queued messages.
func (q *sendQueue) len() int { return len(q.msgs) }

// seed queues m ahead of everything, outside the bounds and the byte
// count: the open packet of a WebSocket session.
func (q *sendQueue) seed(m Message) { q.msgs = append(q.msgs, m) }

// push appends msgs as a unit. It reports false, queueing nothing, when
// the bounds would be exceeded even after conflation (under
// OverflowConflate); a batch is always accepted into an empty queue, so
// one large message cannot wedge a session.
func (q *sendQueue) push(msgs []Message, lim queueLimits) bool {
	n := 0
	for i := range msgs {
		n += len(msgs[i].Data)
	}
	if q.overflows(len(msgs), n, lim) {
		if !lim.conflate || !q.conflate(lim) || q.overflows(len(msgs), n, lim) {
			return false
		}
	}
	q.msgs = append(q.msgs, msgs...)
	q.bytes += n
	return true
}

func (q *sendQueue) overflows(msgs, bytes int, lim queueLimits) bool {
	return len(q.msgs) > 0 && (len(q.msgs)+msgs > lim.messages || q.bytes+bytes > lim.bytes)
}

// conflate drops queued messages that a newer queued message with the
// same key replaces, keeping the order of the rest. It reports whether
// that freed a quarter of the queue at least: a client that stays behind
// by more than its queue holds distinct keys is disconnected rather than
// compacted again on every send.
func (q *sendQueue) conflate(lim queueLimits) bool {
	newest := make(map[uint64]int, len(q.msgs)/4)
	for i, m := range q.msgs {
		if m.Key != 0 {
			newest[m.Key] = i
		}
	}
	kept := q.msgs[:0]
	bytes := 0
	for i, m := range q.msgs {
		if m.Key != 0 && newest[m.Key] != i {
			continue
		}
		kept = append(kept, m)
		bytes += len(m.Data)
	}
	freed := len(q.msgs) - len(kept)
	clear(q.msgs[len(kept):])
	q.msgs = kept
	q.bytes = bytes
	return freed > 0 && freed >= lim.messages/4
}

// take hands the queued messages to a writer and empties the queue onto
// the spare backing array; a reader waiting for room goes on.
func (q *sendQueue) take() []Message {
	batch := q.msgs
	q.msgs = q.spare
	q.spare = nil
	q.bytes = 0
	q.freeRoom()
	return batch
}

// recycle clears a written batch (outside the session's lock) and reports
// whether its backing array is small enough to be given back.
func recycle(batch []Message) bool {
	clear(batch)
	return cap(batch) <= maxRetainedQueue
}

// giveBack keeps a written, recycled batch's array for the next take.
func (q *sendQueue) giveBack(batch []Message) {
	if q.spare == nil {
		q.spare = batch[:0]
	}
}

// discard drops what is queued, keeping the array.
func (q *sendQueue) discard() {
	clear(q.msgs)
	q.msgs, q.bytes = q.msgs[:0], 0
}

// release drops what is queued and both arrays: the session is closed.
func (q *sendQueue) release() { q.msgs, q.spare, q.bytes = nil, nil, 0 }

// overHalf reports whether the queue is more than half full, in messages
// or in bytes: then the client's next message is held back.
func (q *sendQueue) overHalf(lim queueLimits) bool {
	return len(q.msgs) > lim.messages/2 || q.bytes > lim.bytes/2
}

// roomSignal returns a channel closed when the queue is next taken (or
// freeRoom is called): what a reader waiting for room waits on.
func (q *sendQueue) roomSignal() <-chan struct{} {
	if q.roomFreed == nil {
		q.roomFreed = make(chan struct{})
	}
	return q.roomFreed
}

// waiting reports whether a reader waits for room.
func (q *sendQueue) waiting() bool { return q.roomFreed != nil }

// freeRoom wakes a reader waiting for room.
func (q *sendQueue) freeRoom() {
	if q.roomFreed != nil {
		close(q.roomFreed)
		q.roomFreed = nil
	}
}
