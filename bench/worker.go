package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// workerFlag starts a program as a Pool's worker (see RunChild).
const workerFlag = "-bench-worker"

// runWorker serves a coordinator's commands on r and answers on w until r
// ends, holding the clients it is asked to connect. The coordinator is a
// Pool in the parent process.
func runWorker(r io.Reader, w io.Writer) error {
	if _, err := RaiseFileLimit(); err != nil {
		return err
	}
	wk := &worker{}
	wk.sink.step.Store(&stepStats{})
	defer wk.closeAll()
	dec := json.NewDecoder(bufio.NewReader(r))
	enc := json.NewEncoder(w)
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("bench worker: reading a command: %w", err)
		}
		resp := wk.handle(&req)
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("bench worker: answering: %w", err)
		}
	}
}

type worker struct {
	sink    sinks
	clients []*client
	readers sync.WaitGroup
}

func (wk *worker) handle(req *request) response {
	switch req.Op {
	case cmdConnect:
		return wk.connect(req)
	case cmdSubscribe:
		return wk.subscribe(req)
	case cmdReset:
		wk.sink.step.Store(&stepStats{})
		return response{Open: len(wk.clients)}
	case cmdStats:
		st := wk.sink.step.Load()
		resp := response{
			Open:        len(wk.clients),
			Delivered:   st.delivered.Load(),
			BadTicks:    st.bad.Load(),
			Disconnects: wk.sink.disconnects.Load(),
			Subscribed:  wk.sink.subscribed.Load(),
		}
		if req.Histogram {
			h := st.hist.Snapshot()
			resp.Hist = &h
		}
		return resp
	case cmdFlood:
		return wk.flood(req)
	case cmdClose:
		return wk.closeFrom(req.Keep)
	default:
		return response{Err: fmt.Sprintf("unknown command %q", req.Op)}
	}
}

// sourceIP returns the loopback source address of client i: 127.0.0.2,
// 127.0.0.3, ... so that each address has its own ephemeral ports.
func sourceIP(i, sources int) net.IP {
	return net.IPv4(127, 0, 0, byte(2+i%max(sources, 1)))
}

func (wk *worker) connect(req *request) response {
	start := time.Now()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		failed   int
		firstErr error
		wg       sync.WaitGroup
	)
	conns := make([]*client, req.Count)
	secret := []byte(req.Secret)
	for range max(req.Concurrency, 1) {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= req.Count {
					return
				}
				i := req.First + k
				c, err := dial(dialOptions{
					addr:    req.Addr,
					path:    req.Path,
					local:   sourceIP(i, req.Sources),
					token:   MintToken(secret, fmt.Sprintf("user-%d", i), time.Now()),
					timeout: req.Timeout,
				}, &wk.sink)
				if err != nil {
					mu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				conns[k] = c
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, c := range conns {
		if c == nil {
			continue
		}
		wk.clients = append(wk.clients, c)
		wk.readers.Go(c.readLoop)
	}
	resp := response{Open: len(wk.clients), Failed: failed, Elapsed: elapsed}
	if firstErr != nil {
		resp.FirstErr = firstErr.Error()
	}
	return resp
}

// subscribe makes every client not yet subscribed subscribe, and waits
// for the servers' replies.
func (wk *worker) subscribe(req *request) response {
	msg := []byte(`42["subscribe",{"channel":` + jsonString(req.Channel) + `,"symbols":[` + jsonString(req.Symbol) + `]}]`)
	for _, c := range wk.clients {
		if c.subscribed.Load() {
			continue
		}
		if err := c.writeText(msg); err != nil {
			return response{Err: fmt.Sprintf("subscribe: %v", err)}
		}
	}
	want := int64(len(wk.clients))
	deadline := time.Now().Add(req.Timeout)
	for wk.sink.subscribed.Load() < want {
		if time.Now().After(deadline) {
			return response{Err: fmt.Sprintf("subscribe: %d of %d clients subscribed in %v", wk.sink.subscribed.Load(), want, req.Timeout)}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return response{Open: len(wk.clients), Subscribed: wk.sink.subscribed.Load()}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// floodBatch is how many events a flooding client writes per syscall.
const floodBatch = 32

// flood makes the first req.Count clients send events as fast as their
// connections accept them, for req.Duration.
func (wk *worker) flood(req *request) response {
	n := min(req.Count, len(wk.clients))
	deadline := time.Now().Add(req.Duration)
	payload := []byte(`42[` + jsonString(req.Event) + `,{"seq":1}]`)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, c := range wk.clients[:n] {
		var frames []byte
		for range floodBatch {
			frames = appendFrame(frames, opText, c.mask, payload)
		}
		wg.Go(func() {
			for time.Now().Before(deadline) {
				// A server that stops reading must not hold the flood past
				// its end.
				_ = c.nc.SetWriteDeadline(deadline)
				if c.writeRaw(frames) != nil {
					break
				}
				sent.Add(floodBatch)
			}
			_ = c.nc.SetWriteDeadline(time.Time{})
		})
	}
	wg.Wait()
	return response{Open: len(wk.clients), Sent: sent.Load()}
}

// closeFrom closes every client after the first keep.
func (wk *worker) closeFrom(keep int) response {
	keep = max(min(keep, len(wk.clients)), 0)
	var subscribed int64
	for _, c := range wk.clients[keep:] {
		if c.subscribed.Load() {
			subscribed++
		}
		c.close()
	}
	clear(wk.clients[keep:])
	wk.clients = wk.clients[:keep]
	wk.sink.subscribed.Add(-subscribed)
	if keep == 0 {
		wk.readers.Wait()
		wk.sink.disconnects.Store(0)
	}
	return response{Open: len(wk.clients)}
}

func (wk *worker) closeAll() { wk.closeFrom(0) }
