package bench

import "time"

// Commands a coordinator sends to a worker process, one JSON object per
// line on the worker's stdin; the worker answers each with one line.
const (
	cmdConnect   = "connect"
	cmdSubscribe = "subscribe"
	cmdReset     = "reset"
	cmdStats     = "stats"
	cmdFlood     = "flood"
	cmdClose     = "close"
)

type request struct {
	Op string `json:"op"`

	// connect
	Addr        string        `json:"addr,omitempty"`
	Path        string        `json:"path,omitempty"`
	Secret      string        `json:"secret,omitempty"`
	First       int           `json:"first,omitempty"` // index of the first client: its user id and source address
	Count       int           `json:"count,omitempty"`
	Concurrency int           `json:"concurrency,omitempty"`
	Sources     int           `json:"sources,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`

	// subscribe
	Channel string `json:"channel,omitempty"`
	Symbol  string `json:"symbol,omitempty"`

	// stats
	Histogram bool `json:"histogram,omitempty"`

	// flood: the first Count clients send events for Duration
	Duration time.Duration `json:"duration,omitempty"`
	Event    string        `json:"event,omitempty"`

	// close: keep the first Keep clients
	Keep int `json:"keep,omitempty"`
}

type response struct {
	Err string `json:"err,omitempty"`

	Open        int           `json:"open"`
	Failed      int           `json:"failed,omitempty"`
	FirstErr    string        `json:"first_err,omitempty"`
	Elapsed     time.Duration `json:"elapsed,omitempty"`
	Subscribed  int64         `json:"subscribed,omitempty"`
	Delivered   int64         `json:"delivered,omitempty"`
	BadTicks    int64         `json:"bad_ticks,omitempty"`
	Disconnects int64         `json:"disconnects,omitempty"`
	Sent        int64         `json:"sent,omitempty"`
	Hist        *HistSnapshot `json:"hist,omitempty"`
}
