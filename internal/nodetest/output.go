package nodetest

import (
	"bytes"
	"encoding/json"
	"sync"
)

// maxStderr bounds what is kept of a long-running process's stderr; the
// tail is what explains a failure.
const maxStderr = 1 << 20

// output collects a process's stdout lines and stderr. It is written by the
// exec copying goroutines and read by waiters, hence the lock.
type output struct {
	mu      sync.Mutex
	partial []byte
	lines   []map[string]any
	other   bytes.Buffer // stdout lines that are not JSON objects
	stderr  bytes.Buffer
	changed chan struct{} // closed and replaced whenever a line arrives
}

func newOutput() *output {
	return &output{changed: make(chan struct{})}
}

// stdoutWriter and stderrWriter give exec distinct io.Writers over one output.
type stdoutWriter struct{ o *output }
type stderrWriter struct{ o *output }

func (w stdoutWriter) Write(p []byte) (int, error) {
	o := w.o
	o.mu.Lock()
	defer o.mu.Unlock()
	o.partial = append(o.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		added = o.addLine(o.partial[:i]) || added
		o.partial = o.partial[i+1:]
	}
	if added {
		o.notify()
	}
	return len(p), nil
}

func (w stderrWriter) Write(p []byte) (int, error) {
	o := w.o
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stderr.Write(p)
	if n := o.stderr.Len(); n > maxStderr {
		tail := append([]byte("...(earlier stderr dropped)\n"), o.stderr.Bytes()[n-maxStderr/2:]...)
		o.stderr.Reset()
		o.stderr.Write(tail)
	}
	return len(p), nil
}

// flush handles a last line without a trailing newline once the process has
// exited.
func (o *output) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.addLine(o.partial)
		o.partial = nil
	}
	o.notify()
}

// addLine must be called with mu held; it reports whether a JSON line was
// added.
func (o *output) addLine(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return false
	}
	var line map[string]any
	if raw[0] == '{' && json.Unmarshal(raw, &line) == nil && line != nil {
		o.lines = append(o.lines, line)
		return true
	}
	o.other.Write(raw)
	o.other.WriteByte('\n')
	return false
}

func (o *output) notify() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// snapshot returns the lines so far and the diagnostics text.
func (o *output) snapshot() ([]map[string]any, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	lines := append([]map[string]any(nil), o.lines...)
	text := o.stderr.String()
	if o.other.Len() > 0 {
		if text != "" && text[len(text)-1] != '\n' {
			text += "\n"
		}
		text += "--- non-JSON stdout ---\n" + o.other.String()
	}
	return lines, text
}
