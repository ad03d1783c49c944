package bench

import (
	"math/bits"
	"sync/atomic"
)

// Latencies are recorded in microseconds in a log-linear histogram: exact
// below 128 µs, then 128 buckets per power of two (under 1% error), up to
// about 2^(histShifts+7) µs.
const (
	histSub    = 128
	histShifts = 24 // 2^31 µs ≈ 36 minutes: nothing a run can reach
	histLen    = (histShifts + 2) * histSub
)

// Histogram counts latencies. Record is safe for concurrent use.
type Histogram struct {
	counts [histLen]atomic.Uint64
	max    atomic.Int64 // µs
}

func histIndex(us int64) int {
	if us < 0 {
		us = 0
	}
	v := uint64(us)
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 8 // v>>shift is in [128, 256)
	idx := shift*histSub + int(v>>uint(shift))
	if idx >= histLen {
		return histLen - 1
	}
	return idx
}

// histValue is the middle of bucket idx, in µs.
func histValue(idx int) int64 {
	if idx < 2*histSub {
		return int64(idx)
	}
	shift := idx/histSub - 1
	low := int64(idx-shift*histSub) << uint(shift)
	return low + (int64(1)<<uint(shift))/2
}

// Record adds one latency in microseconds.
func (h *Histogram) Record(us int64) {
	h.counts[histIndex(us)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Snapshot returns the histogram's counts in sparse form.
func (h *Histogram) Snapshot() HistSnapshot {
	var s HistSnapshot
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			s.Buckets = append(s.Buckets, [2]uint64{uint64(i), c})
		}
	}
	s.MaxMicros = h.max.Load()
	return s
}

// HistSnapshot is a histogram as it travels between processes: pairs of
// bucket index and count, and the exact maximum.
type HistSnapshot struct {
	Buckets   [][2]uint64 `json:"b,omitempty"`
	MaxMicros int64       `json:"max"`
}

// Merge adds o to s.
func (s *HistSnapshot) Merge(o HistSnapshot) {
	counts := make(map[uint64]uint64, len(s.Buckets)+len(o.Buckets))
	for _, b := range s.Buckets {
		counts[b[0]] += b[1]
	}
	for _, b := range o.Buckets {
		counts[b[0]] += b[1]
	}
	s.Buckets = s.Buckets[:0]
	for i := uint64(0); i < histLen; i++ {
		if c := counts[i]; c > 0 {
			s.Buckets = append(s.Buckets, [2]uint64{i, c})
		}
	}
	s.MaxMicros = max(s.MaxMicros, o.MaxMicros)
}

// Count returns the number of recorded values.
func (s HistSnapshot) Count() uint64 {
	var n uint64
	for _, b := range s.Buckets {
		n += b[1]
	}
	return n
}

// Quantile returns the q-quantile (0 < q < 1) in microseconds, or 0 when
// the histogram is empty.
func (s HistSnapshot) Quantile(q float64) int64 {
	total := s.Count()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total-1)) + 1
	var seen uint64
	for _, b := range s.Buckets {
		seen += b[1]
		if seen >= rank {
			return min(histValue(int(b[0])), s.MaxMicros)
		}
	}
	return s.MaxMicros
}
