package bench

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"testing"
	"time"
)

func TestHistogramBucketsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		us      int64
		maxErr  float64 // relative
		wantIdx int     // -1: don't care
	}{
		{0, 0, 0},
		{1, 0, 1},
		{255, 0, 255},
		{256, 0.01, 256},
		{1000, 0.01, -1},
		{100_000, 0.01, -1},
		{123_456_789, 0.01, -1},
		{-5, 0, 0},
	} {
		idx := histIndex(tc.us)
		if tc.wantIdx >= 0 && idx != tc.wantIdx {
			t.Errorf("histIndex(%d) = %d, want %d", tc.us, idx, tc.wantIdx)
		}
		want := max(tc.us, 0)
		got := histValue(idx)
		if diff := float64(got - want); diff > tc.maxErr*float64(want)+0.5 || -diff > tc.maxErr*float64(want)+0.5 {
			t.Errorf("histValue(histIndex(%d)) = %d: more than %.0f%% off", tc.us, got, 100*tc.maxErr)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var a, b Histogram
	for us := int64(1); us <= 1000; us++ {
		if us%2 == 0 {
			a.Record(us * 100)
		} else {
			b.Record(us * 100)
		}
	}
	s := a.Snapshot()
	s.Merge(b.Snapshot())
	if s.Count() != 1000 {
		t.Fatalf("merged count %d, want 1000", s.Count())
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 50_000}, {0.99, 99_000}} {
		got := s.Quantile(tc.q)
		if got < tc.want*99/100 || got > tc.want*101/100 {
			t.Errorf("q%.2f = %d µs, want %d within 1%%", tc.q, got, tc.want)
		}
	}
	if s.MaxMicros != 100_000 {
		t.Errorf("max %d, want 100000", s.MaxMicros)
	}
	if (HistSnapshot{}).Quantile(0.5) != 0 {
		t.Error("empty histogram: want quantile 0")
	}
}

func TestLeadingInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{`1764000000123456789","seq":1}`, 1764000000123456789, true},
		{`42"`, 42, true},
		{`"x`, 0, false},
		{``, 0, false},
	} {
		got, ok := leadingInt([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("leadingInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFramesRoundTrip writes masked client frames and reads them back as a
// server would, and reads unmasked server frames of each length encoding.
func TestFramesRoundTrip(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'x'}, n)
		frame := appendFrame(nil, opText, mask, payload)
		if frame[0] != 0x81 || frame[1]&0x80 == 0 {
			t.Fatalf("%d bytes: header % x: want FIN, text, masked", n, frame[:2])
		}

		// The same payload as a server frame: drop the mask bit and key.
		hdr := frame[:len(frame)-n-4]
		server := append(append([]byte{}, hdr...), payload...)
		server[1] &^= 0x80
		c := &client{br: bufio.NewReader(bytes.NewReader(server))}
		op, got, err := c.readFrame()
		if err != nil || op != opText || !bytes.Equal(got, payload) {
			t.Errorf("%d bytes: readFrame = %d, %d bytes, %v", n, op, len(got), err)
		}
		// And the mask really masks.
		unmasked := frame[len(hdr)+4:]
		for i := range unmasked {
			unmasked[i] ^= mask[i&3]
		}
		if !bytes.Equal(unmasked, payload) {
			t.Errorf("%d bytes: unmasking does not give the payload back", n)
		}
	}
}

func TestReadFrameRefusesMaskedAndFragmented(t *testing.T) {
	for name, frame := range map[string][]byte{
		"masked":     {0x81, 0x81, 0, 0, 0, 0, 'x'},
		"fragmented": {0x01, 0x01, 'x'},
	} {
		c := &client{br: bufio.NewReader(bytes.NewReader(frame))}
		if _, _, err := c.readFrame(); err == nil {
			t.Errorf("%s frame accepted", name)
		}
	}
}

func TestSourceIPsAreLoopback(t *testing.T) {
	seen := map[string]bool{}
	for i := range 40 {
		ip := sourceIP(i, 16)
		if !ip.IsLoopback() || ip.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Fatalf("client %d: source %v, want loopback other than 127.0.0.1", i, ip)
		}
		seen[ip.String()] = true
	}
	if len(seen) != 16 {
		t.Errorf("%d source addresses used, want 16", len(seen))
	}
}

func TestProcReadsThisProcess(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSS = %d, %v: want at least 1 MiB", rss, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		// Burn CPU until the kernel has accounted at least one tick.
		user, sys, err := CPUTimes(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if user+sys > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no CPU time accounted after 2s of work")
		}
	}
	if _, err := RSS(-1); err == nil {
		t.Error("RSS of pid -1: want an error")
	}
}
