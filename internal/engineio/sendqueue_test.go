package engineio

import (
	"fmt"
	"strings"
	"testing"
)

// The send queue on its own: no session, no transport, no lock.

func msg(s string) Message { return Message{Data: []byte(s)} }

func keyed(key uint64, s string) Message { return Message{Data: []byte(s), Key: key} }

func batch(n int, size int) []Message {
	out := make([]Message, n)
	for i := range out {
		out[i] = msg(strings.Repeat("x", size))
	}
	return out
}

func queued(q *sendQueue) string {
	parts := make([]string, len(q.msgs))
	for i, m := range q.msgs {
		parts[i] = string(m.Data)
	}
	return strings.Join(parts, ",")
}

func TestSendQueueBounds(t *testing.T) {
	tests := []struct {
		name string
		lim  queueLimits
		// pushes are push calls in order; accepted[i] is whether push i
		// must be accepted.
		pushes   [][]Message
		accepted []bool
		msgs     int // queued afterwards
		bytes    int
	}{
		{"message bound", queueLimits{messages: 3, bytes: 100}, [][]Message{batch(1, 1), batch(1, 1), batch(1, 1), batch(1, 1)}, []bool{true, true, true, false}, 3, 3},
		{"byte bound", queueLimits{messages: 10, bytes: 100}, [][]Message{batch(1, 40), batch(1, 40), batch(1, 40)}, []bool{true, true, false}, 2, 80},
		{"exactly at both bounds", queueLimits{messages: 4, bytes: 40}, [][]Message{batch(2, 10), batch(2, 10)}, []bool{true, true}, 4, 40},
		{"a batch is refused whole", queueLimits{messages: 4, bytes: 100}, [][]Message{batch(2, 1), batch(3, 1)}, []bool{true, false}, 2, 2},
		{"an empty queue takes any batch", queueLimits{messages: 2, bytes: 10}, [][]Message{batch(5, 100)}, []bool{true}, 5, 500},
		{"but nothing after it", queueLimits{messages: 2, bytes: 10}, [][]Message{batch(1, 100), batch(1, 0)}, []bool{true, false}, 1, 100},
		{"disconnect policy ignores keys", queueLimits{messages: 2, bytes: 100}, [][]Message{{keyed(1, "a")}, {keyed(1, "b")}, {keyed(1, "c")}}, []bool{true, true, false}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q sendQueue
			for i, p := range tt.pushes {
				if got := q.push(p, tt.lim); got != tt.accepted[i] {
					t.Fatalf("push %d = %v, want %v", i, got, tt.accepted[i])
				}
			}
			if q.len() != tt.msgs || q.bytes != tt.bytes {
				t.Errorf("queue holds %d messages, %d bytes; want %d, %d", q.len(), q.bytes, tt.msgs, tt.bytes)
			}
		})
	}
}

func TestSendQueueConflation(t *testing.T) {
	tests := []struct {
		name   string
		max    int // the queue's bound in messages
		queue  []Message
		push   Message
		ok     bool
		result string
	}{
		// b1 stays: b2 is not queued yet when the queue is compacted.
		{"a stale update makes room, order kept", 4, []Message{keyed(1, "a1"), keyed(2, "b1"), msg("note"), keyed(1, "a2")}, keyed(2, "b2"), true, "b1,note,a2,b2"},
		{"every stale update goes", 5, []Message{keyed(1, "a1"), keyed(2, "b1"), msg("note"), keyed(1, "a2"), keyed(2, "b2")}, keyed(1, "a3"), true, "note,a2,b2,a3"},
		{"unkeyed messages are never dropped", 4, []Message{msg("m1"), msg("m2"), msg("m3"), keyed(1, "a1")}, keyed(1, "a2"), false, ""},
		{"distinct keys: nothing to drop", 4, []Message{keyed(1, "a"), keyed(2, "b"), keyed(3, "c"), keyed(4, "d")}, keyed(5, "e"), false, ""},
		{"a quarter freed is enough", 4, []Message{keyed(1, "a1"), keyed(1, "a2"), msg("m"), msg("n")}, msg("o"), true, "a2,m,n,o"},
		{"less than a quarter is not", 8, []Message{keyed(1, "a1"), keyed(1, "a2"), msg("m"), msg("n"), msg("o"), msg("p"), msg("q"), msg("r")}, msg("s"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := queueLimits{messages: tt.max, bytes: 1 << 20, conflate: true}
			var q sendQueue
			for _, m := range tt.queue {
				if !q.push([]Message{m}, lim) {
					t.Fatal("setup push refused")
				}
			}
			if got := q.push([]Message{tt.push}, lim); got != tt.ok {
				t.Fatalf("push = %v, want %v (queue %s)", got, tt.ok, queued(&q))
			}
			if !tt.ok {
				return
			}
			if got := queued(&q); got != tt.result {
				t.Errorf("queue %s, want %s", got, tt.result)
			}
			want := 0
			for _, m := range q.msgs {
				want += len(m.Data)
			}
			if q.bytes != want {
				t.Errorf("bytes = %d, want %d", q.bytes, want)
			}
		})
	}
}

func TestSendQueueConflationClearsDropped(t *testing.T) {
	lim := queueLimits{messages: 4, bytes: 1 << 20, conflate: true}
	var q sendQueue
	q.push([]Message{keyed(1, "a1"), keyed(1, "a2"), msg("m")}, lim)
	arr := q.msgs
	if !q.conflate(lim) {
		t.Fatal("conflate freed nothing")
	}
	if got := queued(&q); got != "a2,m" {
		t.Fatalf("queue %s, want a2,m", got)
	}
	// The slot left behind does not pin the dropped message's data.
	if arr[2].Data != nil {
		t.Errorf("slot 2 still holds %q", arr[2].Data)
	}
}

func TestSendQueueReusesSpareArray(t *testing.T) {
	lim := queueLimits{messages: 100, bytes: 1 << 20}
	var q sendQueue
	m := msg("tick")
	// Two rounds give the queue its pair of arrays.
	for range 2 {
		q.push([]Message{m}, lim)
		b := q.take()
		if recycle(b) {
			q.giveBack(b)
		}
	}
	// The queue's array and the spare: every take returns one of them.
	first, other := &q.msgs[:1][0], &q.spare[:1][0]
	allocs := testing.AllocsPerRun(100, func() {
		q.push([]Message{m}, lim)
		b := q.take()
		if recycle(b) {
			q.giveBack(b)
		}
	})
	if allocs != 0 {
		t.Errorf("push, take and give back allocate %.1f times, want 0", allocs)
	}
	q.push([]Message{m}, lim)
	b := q.take()
	if got, now := &b[0], &q.msgs[:1][0]; !(got == first && now == other) && !(got == other && now == first) {
		t.Error("take and the queue do not share the two arrays")
	}
	if q.bytes != 0 || q.len() != 0 {
		t.Errorf("after take: %d messages, %d bytes", q.len(), q.bytes)
	}
	if !recycle(b) || b[0].Data != nil {
		t.Error("recycle did not clear a small batch")
	}
	q.giveBack(b)
	q.giveBack(batch(1, 1)) // a spare is kept already: ignored
	if &q.spare[:1][0] != &b[0] {
		t.Error("the first batch given back is not the spare")
	}
}

func TestSendQueueDropsLargeArrays(t *testing.T) {
	big := batch(maxRetainedQueue+1, 1)
	if recycle(big) {
		t.Errorf("a batch of capacity %d is kept, want dropped", cap(big))
	}
	for i := range big {
		if big[i].Data != nil {
			t.Fatal("recycle did not clear a large batch")
		}
	}
	small := batch(maxRetainedQueue, 1)
	if !recycle(small) {
		t.Errorf("a batch of capacity %d is dropped, want kept", cap(small))
	}
}

func TestSendQueueHalfFull(t *testing.T) {
	lim := queueLimits{messages: 10, bytes: 100}
	tests := []struct {
		msgs, size int
		over       bool
	}{
		{0, 0, false},
		{5, 1, false},
		{6, 1, true},
		{1, 50, false},
		{1, 51, true},
		{2, 26, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.msgs, tt.size), func(t *testing.T) {
			var q sendQueue
			q.push(batch(tt.msgs, tt.size), lim)
			if got := q.overHalf(lim); got != tt.over {
				t.Errorf("overHalf = %v, want %v", got, tt.over)
			}
		})
	}
}

func TestSendQueueRoomSignal(t *testing.T) {
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	var q sendQueue
	if q.waiting() {
		t.Fatal("waiting before anyone asked")
	}
	q.freeRoom() // nobody waits: nothing to close
	sig := q.roomSignal()
	if again := q.roomSignal(); again != sig {
		t.Error("a second waiter got another channel")
	}
	if !q.waiting() || closed(sig) {
		t.Fatal("the signal is not pending")
	}
	q.push(batch(1, 1), queueLimits{messages: 10, bytes: 10})
	if closed(sig) {
		t.Fatal("push freed room")
	}
	q.take()
	if !closed(sig) || q.waiting() {
		t.Fatal("take did not free room")
	}
	sig = q.roomSignal()
	q.freeRoom()
	if !closed(sig) {
		t.Fatal("freeRoom did not free room")
	}
}

func TestSendQueueDiscardAndRelease(t *testing.T) {
	lim := queueLimits{messages: 10, bytes: 100}
	var q sendQueue
	q.push(batch(3, 2), lim)
	arr := q.msgs
	q.discard()
	if q.len() != 0 || q.bytes != 0 || cap(q.msgs) != cap(arr) {
		t.Errorf("after discard: %d messages, %d bytes, capacity %d", q.len(), q.bytes, cap(q.msgs))
	}
	for i := range arr {
		if arr[i].Data != nil {
			t.Fatal("discard left data in the array")
		}
	}
	q.push(batch(1, 2), lim)
	q.spare = make([]Message, 0, 4)
	q.release()
	if q.msgs != nil || q.spare != nil || q.bytes != 0 {
		t.Error("release kept something")
	}
}

func TestSendQueueSeedIsUncounted(t *testing.T) {
	lim := queueLimits{messages: 2, bytes: 10}
	var q sendQueue
	q.seed(msg(strings.Repeat("o", 50)))
	if q.len() != 1 || q.bytes != 0 {
		t.Fatalf("seeded: %d messages, %d bytes; want 1, 0", q.len(), q.bytes)
	}
	if !q.push(batch(1, 10), lim) {
		t.Error("the seed's bytes count against the bound")
	}
	if q.push(batch(1, 0), lim) {
		t.Error("the seed does not count as a message")
	}
}
