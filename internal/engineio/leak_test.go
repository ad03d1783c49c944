package engineio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/engineio"
)

type transportKind int

const (
	kindWebSocket transportKind = iota
	kindPolling
	kindUpgraded
	kindCount
)

func (k transportKind) String() string {
	return [...]string{"websocket", "polling", "upgraded"}[k]
}

type ending int

const (
	endClientClose ending = iota
	endClientDrop
	endClientClose2
	endSessionClose
	endSessionAbort
	endShutdown
	endingCount
)

// TestManySessionsLeaveNothingBehind opens and closes sessions over every
// transport, ended from both sides, and relies on TestMain's leak check for
// the goroutines.
func TestManySessionsLeaveNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 sessions")
	}
	h := newHarness(t, engineio.Config{})
	const total, parallel = 1000, 50

	type outcome struct {
		sid    string
		want   error
		kind   transportKind
		ending ending
	}
	outcomes := make(chan outcome, total)
	// Sessions left for Shutdown are watched from when they open until
	// Shutdown, however long the run takes.
	shutdownStarted := make(chan struct{})
	waiter := &http.Client{Transport: h.client.Transport}
	sem := make(chan struct{}, parallel)
	var wg, survivors sync.WaitGroup
	for i := range total {
		kind := transportKind(i) % kindCount
		end := ending(i/int(kindCount)) % endingCount
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sid, want, err := runSession(h, kind, end, survivorWatch{&survivors, shutdownStarted, waiter})
			if err != nil {
				t.Errorf("session %d (%v, ending %d): %v", i, kind, end, err)
				return
			}
			outcomes <- outcome{sid, want, kind, end}
		}()
	}
	wg.Wait()

	close(shutdownStarted)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	survivors.Wait()
	if n := h.srv.Len(); n != 0 {
		t.Errorf("Len() = %d after Shutdown, want 0", n)
	}
	close(outcomes)
	count := 0
	for o := range outcomes {
		count++
		rec, _ := h.lookup(o.sid)
		select {
		case got := <-rec.closed:
			if !errors.Is(got, o.want) {
				t.Errorf("%v session ending %d closed with %v, want %v", o.kind, o.ending, got, o.want)
			}
		case <-time.After(waitTimeout):
			t.Errorf("%v session ending %d never reported Closed", o.kind, o.ending)
		}
		if n := rec.closes.Load(); n != 1 {
			t.Errorf("%v session ending %d: Closed called %d times", o.kind, o.ending, n)
		}
	}
	if count != total && !t.Failed() {
		t.Errorf("%d sessions completed, want %d", count, total)
	}
}

func (h *harness) lookup(sid string) (*recorder, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.bySID[sid]
	return r, ok
}

// survivorWatch is what a session left for Shutdown needs: a count of the
// goroutines watching, the start of Shutdown and a client whose long poll
// may wait that long.
type survivorWatch struct {
	wg      *sync.WaitGroup
	started <-chan struct{}
	client  *http.Client
}

// runSession opens one session of the given kind and ends it the given way.
// Sessions left for Shutdown are watched by a goroutine counted in
// survivors. It returns the reason the session must report.
func runSession(h *harness, kind transportKind, end ending, survivors survivorWatch) (sid string, want, err error) {
	var ws *websocket.Conn
	switch kind {
	case kindWebSocket:
		ws, sid, err = openWebSocketErr(h)
	case kindPolling:
		sid, err = openPollingErr(h)
	case kindUpgraded:
		if sid, err = openPollingErr(h); err == nil {
			ws, err = upgradeErr(h, sid)
		}
	}
	if err != nil {
		if ws != nil {
			_ = ws.Close()
		}
		return "", nil, err
	}
	rec, ok := h.lookup(sid)
	if !ok {
		return "", nil, fmt.Errorf("no session %s", sid)
	}

	switch end {
	case endClientClose, endClientClose2, endClientDrop:
		if ws != nil {
			defer ws.Close()
			if end == endClientDrop {
				err = ws.NetConn().Close()
			} else {
				err = ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(waitTimeout))
			}
		} else {
			err = expectBody(h, http.MethodPost, sid, "1", "ok")
		}
		if err != nil {
			return "", nil, err
		}
		return sid, engineio.ErrTransportClose, awaitClosedErr(rec)

	case endSessionClose:
		rec.sess.Close(engineio.ErrForcedClose)
		if ws != nil {
			defer ws.Close()
			err = readUntilClose(ws, true)
		} else {
			err = expectBody(h, http.MethodGet, sid, "", "1")
		}
		if err != nil {
			return "", nil, err
		}
		return sid, engineio.ErrForcedClose, awaitClosedErr(rec)

	case endSessionAbort:
		rec.sess.Abort(engineio.ErrForcedClose)
		if ws != nil {
			defer ws.Close()
			err = readUntilClose(ws, false)
		} else {
			r, rerr := h.request(http.MethodGet, pollQuery(sid), nil, nil)
			if rerr == nil && r.status != http.StatusBadRequest {
				rerr = fmt.Errorf("GET after Abort: status %d body %q, want 400", r.status, r.body)
			}
			err = rerr
		}
		if err != nil {
			return "", nil, err
		}
		return sid, engineio.ErrForcedClose, awaitClosedErr(rec)

	default: // endShutdown: wait, as a client would, for the server to end it
		survivors.wg.Add(1)
		go func() {
			defer survivors.wg.Done()
			var err error
			if ws != nil {
				defer ws.Close()
				<-survivors.started
				err = readUntilClose(ws, true)
			} else {
				err = longPollUntilClose(h, survivors.client, sid)
			}
			if err != nil {
				h.t.Errorf("%v session %s during Shutdown: %v", kind, sid, err)
			}
		}()
		return sid, engineio.ErrServerShutdown, nil
	}
}

// longPollUntilClose holds a GET until the server answers it, and expects
// the close packet.
func longPollUntilClose(h *harness, client *http.Client, sid string) error {
	resp, err := client.Get(h.url(pollQuery(sid)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != "1" {
		return fmt.Errorf("long poll: status %d body %q, want 200 \"1\"", resp.StatusCode, body)
	}
	return nil
}

func openPollingErr(h *harness) (string, error) {
	r, err := h.request(http.MethodGet, "EIO=4&transport=polling", nil, nil)
	if err != nil {
		return "", err
	}
	if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), `0{"sid":"`) {
		return "", fmt.Errorf("handshake: status %d body %q", r.status, r.body)
	}
	return string(r.body[len(`0{"sid":"`) : len(`0{"sid":"`)+20]), nil
}

func openWebSocketErr(h *harness) (*websocket.Conn, string, error) {
	c, _, err := h.dialer.Dial(h.wsURL("EIO=4&transport=websocket"), nil)
	if err != nil {
		return nil, "", err
	}
	_, data, err := readFrame(c)
	if err != nil || !strings.HasPrefix(string(data), `0{"sid":"`) {
		return c, "", fmt.Errorf("open packet %q: %v", data, err)
	}
	return c, string(data[len(`0{"sid":"`) : len(`0{"sid":"`)+20]), nil
}

// upgradeErr upgrades a polling session while a GET is pending, as
// socket.io-client does.
func upgradeErr(h *harness, sid string) (*websocket.Conn, error) {
	pending := h.getAsync(sid)
	c, _, err := h.dialer.Dial(h.wsURL(upgradeQuery(sid)), nil)
	if err != nil {
		return nil, err
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		return c, err
	}
	if _, data, err := readFrame(c); err != nil || string(data) != "3probe" {
		return c, fmt.Errorf("probe answered %q: %v", data, err)
	}
	select {
	case r := <-pending:
		if r.status != http.StatusOK || string(r.body) != "6" {
			return c, fmt.Errorf("pending GET during upgrade: status %d body %q", r.status, r.body)
		}
	case <-time.After(waitTimeout):
		return c, errors.New("pending GET not released by the upgrade")
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		return c, err
	}
	// A message read from the WebSocket proves the server has switched to
	// it: until then a close could only reach the client over polling.
	if err := c.WriteMessage(websocket.TextMessage, []byte("4upgraded")); err != nil {
		return c, err
	}
	rec, ok := h.lookup(sid)
	if !ok {
		return c, fmt.Errorf("no session %s", sid)
	}
	select {
	case m := <-rec.received:
		if string(m.data) != "upgraded" {
			return c, fmt.Errorf("received %q, want upgraded", m.data)
		}
		return c, nil
	case <-time.After(waitTimeout):
		return c, errors.New("message over the upgraded WebSocket not received")
	}
}

func expectBody(h *harness, method, sid, body, want string) error {
	var r response
	var err error
	if method == http.MethodPost {
		r, err = h.request(method, pollQuery(sid), strings.NewReader(body), nil)
	} else {
		r, err = h.request(method, pollQuery(sid), nil, nil)
	}
	if err != nil {
		return err
	}
	if r.status != http.StatusOK || string(r.body) != want {
		return fmt.Errorf("%s: status %d body %q, want 200 %q", method, r.status, r.body, want)
	}
	return nil
}

// readUntilClose reads until the connection ends; with wantFrame the end
// must be a normal-closure close frame.
func readUntilClose(c *websocket.Conn, wantFrame bool) error {
	_, data, err := readFrame(c)
	if err == nil {
		return fmt.Errorf("read %q, want the connection to end", data)
	}
	if wantFrame && !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		return fmt.Errorf("connection ended with %v, want close frame 1000", err)
	}
	return nil
}

func awaitClosedErr(rec *recorder) error {
	select {
	case err := <-rec.closed:
		// Put it back for the final check.
		rec.closed <- err
		return nil
	case <-time.After(waitTimeout):
		return errors.New("Closed not called")
	}
}
