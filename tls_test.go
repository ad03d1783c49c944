package realtime_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime"
)

// A host serving TLS in-process (http.Server.ListenAndServeTLS) hands the
// gateway *tls.Conn connections, on which a large frame takes more than one
// Write. A client that pings while large messages stream must still read
// every frame intact: its pongs never land inside a data frame.
func TestTLSLargeMessagesWithClientPings(t *testing.T) {
	gw, err := realtime.New(realtime.WithDevelopmentMode(true), realtime.WithHeartbeatInterval(0),
		realtime.WithConnectionCountInterval(0), realtime.WithQueueLimits(1024, 32<<20)) // room for every message at once
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
	})

	dialer := websocket.Dialer{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone(), HandshakeTimeout: 10 * time.Second}
	conn, _, err := dialer.Dial("wss"+strings.TrimPrefix(srv.URL, "https")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.NetConn().(*tls.Conn); !ok {
		t.Fatalf("client connection is %T, want *tls.Conn", conn.NetConn())
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	expectFrame := func(prefix string) []byte {
		t.Helper()
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if bytes.HasPrefix(data, []byte(prefix)) {
				return data
			}
		}
	}
	expectFrame("0{")
	if err := conn.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	expectFrame(`42["connected"`)

	// Pongs echo the ping's payload; each one must come back whole.
	var mu sync.Mutex
	sent, ponged := 0, 0
	var pongErr error
	conn.SetPongHandler(func(data string) error {
		mu.Lock()
		defer mu.Unlock()
		if want := fmt.Sprintf("ping-%d", ponged); data != want && pongErr == nil {
			pongErr = fmt.Errorf("pong %d carries %q, want %q", ponged, data, want)
		}
		ponged++
		return nil
	})
	stop := make(chan struct{})
	var pingers sync.WaitGroup
	pingers.Add(1)
	go func() {
		defer pingers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			payload := fmt.Sprintf("ping-%d", sent)
			sent++
			mu.Unlock()
			if conn.WriteControl(websocket.PingMessage, []byte(payload), time.Now().Add(5*time.Second)) != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		pingers.Wait()
	}()

	const messages = 200
	filler := strings.Repeat("x", 40<<10)
	publish := make(chan error, 1)
	go func() {
		for i := range messages {
			if err := gw.Emit(t.Context(), realtime.Selector{}, "big", map[string]any{"seq": i, "filler": filler}); err != nil {
				publish <- err
				return
			}
		}
		publish <- nil
	}()

	for i := range messages {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v (a frame was corrupted)", i, err)
		}
		if typ != websocket.TextMessage || !bytes.HasPrefix(data, []byte(`42["big",`)) {
			t.Fatalf("message %d: type %d, starts %q; want a text frame 42[\"big\",...", i, typ, data[:min(len(data), 40)])
		}
		var args []json.RawMessage
		if err := json.Unmarshal(data[2:], &args); err != nil {
			t.Fatalf("message %d is not a JSON array (%d bytes): %v", i, len(data), err)
		}
		var body struct {
			Seq    int    `json:"seq"`
			Filler string `json:"filler"`
		}
		if len(args) != 2 || json.Unmarshal(args[1], &body) != nil || body.Seq != i || body.Filler != filler {
			t.Fatalf("message %d: payload seq %d, filler of %d bytes; want seq %d, %d bytes", i, body.Seq, len(body.Filler), i, len(filler))
		}
	}
	if err := <-publish; err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if pongErr != nil {
		t.Fatal(pongErr)
	}
	if ponged == 0 {
		t.Fatalf("no pong received for %d pings", sent)
	}
	t.Logf("%d messages of 40 KiB read intact; %d pings sent, %d pongs read", messages, sent, ponged)
}
