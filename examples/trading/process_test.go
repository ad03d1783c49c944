//go:build unix

package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tradewithai/realtime/internal/nodetest"
)

// demoProcess is the demo running as a process, its stderr collected line
// by line.
type demoProcess struct {
	cmd       *exec.Cmd
	listening chan struct{} // closed when the "listening" line is logged
	exited    chan struct{} // closed when the process has exited

	mu     sync.Mutex
	stderr []string
}

// demoEnv is the environment of a demo process in development mode on port.
func demoEnv(port string) []string {
	return append(os.Environ(), "PORT="+port, "JWT_SECRET=", "NODE_ENV=development", "CLIENT_URL=", "DEMO_USER_ID=")
}

// demoCommand runs this test binary as the demo (see TestMain).
func demoCommand(port string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(demoEnv(port), runDemoEnv+"=1")
	return cmd
}

// startProcess starts cmd in a process group of its own, which is killed
// when the test ends if it is still there.
func startProcess(t *testing.T, cmd *exec.Cmd) *demoProcess {
	t.Helper()
	p := &demoProcess{cmd: cmd, listening: make(chan struct{}), exited: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child that outlives the process (a server left running) must not
	// keep Wait waiting for its stderr.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr = append(p.stderr, sc.Text())
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "trading demo listening") {
				once.Do(func() { close(p.listening) })
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything it left behind
	})
	return p
}

func (p *demoProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stderr, "\n")
}

// awaitListening waits for the "listening" line, failing the test if the
// process exits first or the deadline passes.
func (p *demoProcess) awaitListening(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-p.listening:
	case <-p.exited:
		t.Fatalf("the demo exited (%v) before listening:\n%s", p.cmd.ProcessState, p.log())
	case <-time.After(within):
		t.Fatalf("the demo did not log that it listens within %v:\n%s", within, p.log())
	}
}

// awaitExit waits for the process to exit, failing the test after within.
func (p *demoProcess) awaitExit(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("the demo did not exit within %v:\n%s", within, p.log())
	}
}

// requireServesThenStopsOnSIGTERM checks that the demo answers as soon as
// it says it listens, and that a SIGTERM to the process started stops it
// gracefully and frees the port.
func requireServesThenStopsOnSIGTERM(t *testing.T, p *demoProcess, port string) {
	t.Helper()
	res, err := http.Get("http://127.0.0.1:" + port + "/api/stats")
	if err != nil {
		t.Fatalf("the demo logged that it listens, but: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/stats = %d", res.StatusCode)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.awaitExit(t, 20*time.Second)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("after SIGTERM the demo ended with %v, want exit code 0:\n%s", p.cmd.ProcessState, p.log())
	}
	if !strings.Contains(p.log(), "shutting down") {
		t.Errorf("the demo did not log its shutdown:\n%s", p.log())
	}
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		t.Fatalf("port %s still bound after the demo exited: %v", port, err)
	}
	l.Close()
}

// TestSIGTERMStopsTheServer: the demo answers once it logs that it listens,
// and SIGTERM shuts it down with exit code 0 and releases the port.
func TestSIGTERMStopsTheServer(t *testing.T) {
	port := freePort(t)
	p := startProcess(t, demoCommand(port))
	p.awaitListening(t, 30*time.Second)
	requireServesThenStopsOnSIGTERM(t, p, port)
}

// TestBusyPortIsOneClearError: on a port in use the demo says so in one
// error line and exits with code 1, without claiming to listen and without
// a goroutine dump.
func TestBusyPortIsOneClearError(t *testing.T) {
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	p := startProcess(t, demoCommand(port))
	p.awaitExit(t, 30*time.Second)
	out := p.log()
	if code := p.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "port "+port+" is in use") {
		t.Errorf("the error does not say the port is in use:\n%s", out)
	}
	if n := strings.Count(out, "level=ERROR"); n != 1 {
		t.Errorf("%d error lines, want 1:\n%s", n, out)
	}
	for _, bad := range []string{"listening", "goroutine ", "panic"} {
		if strings.Contains(out, bad) {
			t.Errorf("the output mentions %q:\n%s", bad, out)
		}
	}
}

// TestScriptDemoRunsTheServerItself: scripts/demo builds the server and
// execs it, so the PID it was started as is the server's, and a SIGTERM to
// that PID stops the server and frees the port.
func TestScriptDemoRunsTheServerItself(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo with scripts/demo")
	}
	nodetest.EnsureNodeModules(t)
	port := freePort(t)
	cmd := exec.Command(filepath.Join(nodetest.Root(t), "scripts", "demo"))
	cmd.Env = demoEnv(port)
	p := startProcess(t, cmd)
	// A cold build takes a minute or two; the script says so first.
	p.awaitListening(t, 5*time.Minute)
	if out := p.log(); !strings.Contains(out, "building the demo server") {
		t.Errorf("scripts/demo did not announce the build:\n%s", out)
	}
	requireServesThenStopsOnSIGTERM(t, p, port)
}

// TestVersionChecks: scripts/lib.sh refuses a Node the dashboard build
// cannot use, and a Go older than go.mod's, saying what is needed and what
// was found.
func TestVersionChecks(t *testing.T) {
	root := nodetest.Root(t)
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var minGo string
	for line := range strings.Lines(string(goMod)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			minGo = v
		}
	}
	if minGo == "" {
		t.Fatal("go.mod has no go line")
	}

	// check runs a lib.sh function with fake node and go commands that
	// print the given versions first in PATH.
	check := func(t *testing.T, fn, nodeVersion, goVersion string) (string, bool) {
		t.Helper()
		bin := t.TempDir()
		fake := map[string]string{
			"node": "#!/bin/sh\necho " + nodeVersion + "\n",
			"go":   "#!/bin/sh\n[ \"$1 $2\" = \"env GOVERSION\" ] && echo '" + goVersion + "'\n",
		}
		for name, script := range fake {
			if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("bash", "-c", ". scripts/lib.sh && "+fn)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if _, exited := err.(*exec.ExitError); err != nil && !exited {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out)), err == nil
	}

	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"v18.2.0", false},
		{"v20.18.1", false},
		{"v20.19.0", true},
		{"v21.7.3", false},
		{"v22.11.0", false},
		{"v22.12.0", true},
		{"v24.1.0", true},
	} {
		t.Run("node "+tc.version, func(t *testing.T) {
			out, ok := check(t, "require_node", tc.version, "")
			want := ""
			if !tc.ok {
				want = "Node 20.19+ or 22.12+ is required for the dashboard build; found " + tc.version
			}
			if ok != tc.ok || out != want {
				t.Errorf("require_node with node %s: ok = %v, output %q; want ok = %v, output %q", tc.version, ok, out, tc.ok, want)
			}
		})
	}
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"go" + minGo, true},
		{"go1.99.0", true},
		{"devel go1.99-4f1c2a3 Tue Jan 1 00:00:00 2030 +0000", true},
		{"go1.2.0", false},
	} {
		t.Run(tc.version, func(t *testing.T) {
			out, ok := check(t, "require_go", "v22.12.0", tc.version)
			want := ""
			if !tc.ok {
				want = "Go " + minGo + "+ is required; found " + tc.version
			}
			if ok != tc.ok || out != want {
				t.Errorf("require_go with %s: ok = %v, output %q; want ok = %v, output %q", tc.version, ok, out, tc.ok, want)
			}
		})
	}
}

// freePort returns a TCP port nothing listens on at the moment.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
