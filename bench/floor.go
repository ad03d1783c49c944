package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// floorFlag starts a program as MeasureFloor's writer (see RunChild).
const floorFlag = "-bench-floor"

// Floor is what the cheapest possible fan-out costs on this machine: one
// process writing a tick's WebSocket frame to each of Subscribers TCP
// connections in turn, one write per delivery, with no protocol, no
// queue and no timer. Both servers pay at least this much kernel time per
// delivery, so Floor.PerCPUSecond bounds the deliveries per CPU-second any
// server writing each message on its own can reach.
type Floor struct {
	Subscribers int
	Rate        float64
	Broadcasts  int
	Delivered   int64
	Wall        time.Duration // first write to last byte read
	CPU         time.Duration // the writer's CPU over Wall
	SysCPU      time.Duration // the part of CPU spent in the kernel
}

// PerCPUSecond is deliveries per second of the writer's CPU.
func (f Floor) PerCPUSecond() float64 {
	if f.CPU <= 0 {
		return 0
	}
	return float64(f.Delivered) / f.CPU.Seconds()
}

// floorJob is what MeasureFloor sends the writer; floorReport what it
// answers.
type floorJob struct {
	Conns      int     `json:"conns"`
	Rate       float64 `json:"rate"`
	Broadcasts int     `json:"broadcasts"`
}

type floorReport struct {
	Addr string        `json:"addr,omitempty"`
	CPU  time.Duration `json:"cpu,omitempty"`
	Sys  time.Duration `json:"sys,omitempty"`
	Err  string        `json:"err,omitempty"`
}

// floorFrame appends the WebSocket text frame of broadcast seq sent at t:
// the event every server under test sends, in the frame it sends it in.
func floorFrame(dst []byte, seq int, t time.Time) []byte {
	payload := make([]byte, 0, 120)
	payload = append(payload, `42["ticker:update",{"t":"`...)
	payload = strconv.AppendInt(payload, t.UnixNano(), 10)
	payload = append(payload, `","seq":`...)
	payload = strconv.AppendInt(payload, int64(seq), 10)
	payload = append(payload, `,"symbol":"BTC/USD","price":64000.25}]`...)
	// Ticks are shorter than 126 bytes: a one-byte length.
	dst = append(dst, 0x81, byte(len(payload)))
	return append(dst, payload...)
}

// runFloorWriter is the writer side of MeasureFloor: it reads a job from r,
// listens on loopback and reports its address on w, accepts the job's
// connections, and on the next line of r writes the frames, paced at the
// job's rate. On the line after that (sent once every byte has arrived) it
// reports the CPU it used since the first write.
func runFloorWriter(r io.Reader, w io.Writer) error {
	if _, err := RaiseFileLimit(); err != nil {
		return err
	}
	in := bufio.NewScanner(r)
	enc := json.NewEncoder(w)
	var job floorJob
	if !in.Scan() {
		return errors.New("bench floor: no job")
	}
	if err := json.Unmarshal(in.Bytes(), &job); err != nil {
		return fmt.Errorf("bench floor: job: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bench floor: %w", err)
	}
	defer ln.Close()
	if err := enc.Encode(floorReport{Addr: ln.Addr().String()}); err != nil {
		return err
	}
	conns := make([]net.Conn, 0, job.Conns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < job.Conns {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("bench floor: accept: %w", err)
		}
		conns = append(conns, c)
	}
	if !in.Scan() {
		return errors.New("bench floor: no start")
	}
	pid := os.Getpid()
	user0, sys0, err := CPUTimes(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / job.Rate)
	frame := make([]byte, 0, 128)
	for i := range job.Broadcasts {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		frame = floorFrame(frame[:0], i, time.Now())
		for _, c := range conns {
			if _, err := c.Write(frame); err != nil {
				return fmt.Errorf("bench floor: write: %w", err)
			}
		}
	}
	if !in.Scan() {
		return errors.New("bench floor: no end")
	}
	user1, sys1, err := CPUTimes(pid)
	if err != nil {
		return err
	}
	return enc.Encode(floorReport{CPU: user1 + sys1 - user0 - sys0, Sys: sys1 - sys0})
}

// MeasureFloor runs the bare write loop (see Floor) in a new process of exe,
// which must call RunChild: subs connections from cfg.Sources loopback
// addresses, the same number of broadcasts as a ladder step at rate, and
// every byte read back before the writer's CPU is taken.
func MeasureFloor(ctx context.Context, exe string, cfg Config, subs int, rate float64) (Floor, error) {
	f := Floor{Subscribers: subs, Rate: rate, Broadcasts: max(cfg.MinBroadcasts, int(rate*cfg.StepDuration.Seconds()))}
	// Expected bytes per connection: the frames' lengths depend only on
	// the digits of seq (the timestamp keeps 19 digits until 2286).
	var perConn int64
	for i := range f.Broadcasts {
		perConn += int64(len(floorFrame(nil, i, time.Now())))
	}

	cmd := exec.CommandContext(ctx, exe, floorFlag)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return f, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return f, err
	}
	if err := cmd.Start(); err != nil {
		return f, fmt.Errorf("bench floor: starting the writer: %w", err)
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	dec := json.NewDecoder(stdout)
	send := func(v any) error { return json.NewEncoder(stdin).Encode(v) }
	recv := func() (floorReport, error) {
		var rep floorReport
		if err := dec.Decode(&rep); err != nil {
			return rep, fmt.Errorf("bench floor: reading the writer: %w", err)
		}
		if rep.Err != "" {
			return rep, errors.New(rep.Err)
		}
		return rep, nil
	}

	if err := send(floorJob{Conns: subs, Rate: rate, Broadcasts: f.Broadcasts}); err != nil {
		return f, err
	}
	hello, err := recv()
	if err != nil {
		return f, err
	}
	var (
		received atomic.Int64
		done     = make(chan struct{})
		readers  sync.WaitGroup
		conns    []net.Conn
	)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	}()
	expected := perConn * int64(subs)
	for i := range subs {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: sourceIP(i, cfg.Sources)}, Timeout: cfg.Timeout}
		c, err := d.DialContext(ctx, "tcp", hello.Addr)
		if err != nil {
			return f, fmt.Errorf("bench floor: dial: %w", err)
		}
		conns = append(conns, c)
		readers.Go(func() {
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if n > 0 && received.Add(int64(n)) == expected {
					close(done)
				}
				if err != nil {
					return
				}
			}
		})
	}
	if err := send("start"); err != nil {
		return f, err
	}
	start := time.Now()
	drain := time.Duration(float64(f.Broadcasts)/rate*float64(time.Second)) + cfg.DrainTimeout
	select {
	case <-done:
	case <-time.After(drain):
		return f, fmt.Errorf("bench floor: %d of %d bytes arrived within %v", received.Load(), expected, drain)
	case <-ctx.Done():
		return f, ctx.Err()
	}
	f.Wall = time.Since(start)
	if err := send("end"); err != nil {
		return f, err
	}
	rep, err := recv()
	if err != nil {
		return f, err
	}
	f.CPU, f.SysCPU, f.Delivered = rep.CPU, rep.Sys, int64(f.Broadcasts)*int64(subs)
	return f, nil
}
