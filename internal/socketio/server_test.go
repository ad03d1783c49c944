package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tradewithai/realtime/internal/engineio"
	"github.com/tradewithai/realtime/internal/socketio"
)

// recordingHandler reports what the server tells a namespace's handler.
type recordingHandler struct {
	events      chan *socketio.ClientEvent
	disconnects chan error
	connected   chan *socketio.Socket
	refuse      atomic.Pointer[error]
}

func newRecordingHandler() *recordingHandler {
	return &recordingHandler{
		events:      make(chan *socketio.ClientEvent, 16),
		disconnects: make(chan error, 16),
		connected:   make(chan *socketio.Socket, 16),
	}
}

func (h *recordingHandler) Connect(*socketio.Socket, json.RawMessage) error {
	if err := h.refuse.Load(); err != nil {
		return *err
	}
	return nil
}

func (h *recordingHandler) refuseWith(err error)                              { h.refuse.Store(&err) }
func (h *recordingHandler) Connected(s *socketio.Socket)                      { h.connected <- s }
func (h *recordingHandler) Event(_ *socketio.Socket, e *socketio.ClientEvent) { h.events <- e }
func (h *recordingHandler) Disconnect(_ *socketio.Socket, reason error)       { h.disconnects <- reason }

// rawClient speaks Engine.IO/Socket.IO over a WebSocket by hand, so tests
// can send what socket.io-client never would.
type rawClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialRaw(t *testing.T, url string) *rawClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn}
	if open := c.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("first frame %q, want the open packet", open)
	}
	return c
}

func (c *rawClient) send(frame string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next frame that is not a ping (pings are answered).
func (c *rawClient) read() string {
	c.t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if string(data) == "2" {
			c.send("3")
			continue
		}
		return string(data)
	}
}

// expectClosed waits for the server to end the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatal("the server kept the connection open")
			}
			return
		}
		if string(data) == "2" {
			c.send("3")
		}
	}
}

func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func startServer(t *testing.T, cfg socketio.Config, namespaces map[string]socketio.Handler) string {
	t.Helper()
	srv, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range namespaces {
		if _, err := srv.Handle(name, h); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
	})
	return ts.URL
}

func TestConnectTimeoutClosesSilentConnections(t *testing.T) {
	url := startServer(t, socketio.Config{ConnectTimeout: 100 * time.Millisecond}, map[string]socketio.Handler{"/": newRecordingHandler()})
	c := dialRaw(t, url)
	start := time.Now()
	c.expectClosed()
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("closed after %v, before the connect timeout", d)
	}
}

func TestConnectReplyAndUnknownNamespace(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40/nowhere,`)
	if got := c.read(); got != `44/nowhere,{"message":"Invalid namespace"}` {
		t.Errorf("unknown namespace answered %q", got)
	}
	c.send(`40{"token":"x"}`)
	reply := c.read()
	if !strings.HasPrefix(reply, `40{"sid":"`) {
		t.Fatalf("CONNECT answered %q", reply)
	}
	s := await(t, h.connected, "Connected")
	if want := `40{"sid":"` + s.ID() + `"}`; reply != want {
		t.Errorf("CONNECT reply %q, want %q", reply, want)
	}
}

func TestConnectRefusedCarriesMessageAndData(t *testing.T) {
	h := newRecordingHandler()
	h.refuseWith(&socketio.ConnectRefused{Message: "no entry", Data: map[string]string{"code": "NOPE"}})
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	if got := c.read(); got != `44{"message":"no entry","data":{"code":"NOPE"}}` {
		t.Errorf("refusal %q", got)
	}
	// Any other error must not leak its text.
	h.refuseWith(errors.New("database password is hunter2"))
	c.send(`40`)
	if got := c.read(); got != `44{"message":"server error"}` {
		t.Errorf("generic refusal %q", got)
	}
}

func TestInvalidPacketsCloseTheConnection(t *testing.T) {
	for name, frame := range map[string]string{
		"unknown type":          `49`,
		"bad payload":           `42{"not":"an array"}`,
		"non-array event":       `42"just a string"`,
		"bad ack id":            `4299999999999999999999["x"]`,
		"connect_error inbound": `44{"message":"x"}`,
		"invalid json":          `42["unterminated`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newRecordingHandler()
			url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
			c := dialRaw(t, url)
			c.send(`40`)
			c.read()
			c.send(frame)
			c.expectClosed()
			if reason := await(t, h.disconnects, "Disconnect"); !errors.Is(reason, engineio.ErrParseError) {
				t.Errorf("reason %v, want parse error", reason)
			}
		})
	}
}

func TestAttachmentsThatNeverArriveCloseTheConnection(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{AttachmentTimeout: 100 * time.Millisecond}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	c.read()
	c.send(`451-["upload",{"_placeholder":true,"num":0}]`)
	c.expectClosed()
	if reason := await(t, h.disconnects, "Disconnect"); !errors.Is(reason, engineio.ErrParseError) {
		t.Errorf("reason %v, want parse error", reason)
	}
	select {
	case e := <-h.events:
		t.Errorf("incomplete event %q delivered", e.Name)
	default:
	}
}

func TestBinaryEventReassembly(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	c.read()
	c.send(`452-7["upload",{"_placeholder":true,"num":1},"x",{"_placeholder":true,"num":0}]`)
	for _, b := range [][]byte{{1, 2}, {3}} {
		if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	e := await(t, h.events, "Event")
	first, _ := e.Args.Binary(0)
	last, _ := e.Args.Binary(2)
	if e.Name != "upload" || string(first) != "\x03" || string(last) != "\x01\x02" || !e.WantsAck() {
		t.Errorf("event %q args %q/%q ack %v", e.Name, first, last, e.WantsAck())
	}
}

func TestDisconnectReasonsReachTheHandler(t *testing.T) {
	cases := []struct {
		name string
		act  func(c *rawClient, s *socketio.Socket)
		want error
	}{
		{"client namespace disconnect", func(c *rawClient, _ *socketio.Socket) { c.send(`41`) }, socketio.ErrClientDisconnect},
		{"transport close", func(c *rawClient, _ *socketio.Socket) { c.conn.Close() }, engineio.ErrTransportClose},
		{"server disconnect", func(_ *rawClient, s *socketio.Socket) { s.Disconnect() }, socketio.ErrServerDisconnect},
		{"server closes the connection", func(_ *rawClient, s *socketio.Socket) { s.Conn().Close() }, socketio.ErrServerDisconnect},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newRecordingHandler()
			url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
			c := dialRaw(t, url)
			c.send(`40`)
			c.read()
			s := await(t, h.connected, "Connected")
			tc.act(c, s)
			if reason := await(t, h.disconnects, "Disconnect"); !errors.Is(reason, tc.want) {
				t.Errorf("reason %v, want %v", reason, tc.want)
			}
			if tc.want == socketio.ErrServerDisconnect {
				if got := c.read(); got != "41" {
					t.Errorf("client told %q, want the DISCONNECT packet 41", got)
				}
			}
		})
	}
}

func TestPingTimeoutReachesTheHandler(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{Engine: engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	// Read without answering pings.
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.conn.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if reason := await(t, h.disconnects, "Disconnect"); !errors.Is(reason, engineio.ErrPingTimeout) {
		t.Errorf("reason %v, want ping timeout", reason)
	}
}

func TestEmitWithAckTimesOutAndResolves(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	c.read()
	s := await(t, h.connected, "Connected")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "question"); !errors.Is(err, socketio.ErrAckTimeout) {
		t.Errorf("unanswered ack: %v", err)
	}
	if got := c.read(); got != `420["question"]` {
		t.Errorf("emit with ack sent %q", got)
	}

	done := make(chan socketio.Args, 1)
	go func() {
		args, err := s.EmitWithAck(context.Background(), "question", 2)
		if err != nil {
			t.Error(err)
		}
		done <- args
	}()
	if got := c.read(); got != `421["question",2]` {
		t.Fatalf("second emit sent %q", got)
	}
	c.send(`431["answer",{"n":42}]`)
	args := await(t, done, "ack")
	var n struct{ N int }
	if args.Len() != 2 || args.Decode(1, &n) != nil || n.N != 42 {
		t.Errorf("ack args %q", args.Raw)
	}
}

func TestMultiplexedNamespaces(t *testing.T) {
	main, admin := newRecordingHandler(), newRecordingHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": main, "/admin": admin})
	c := dialRaw(t, url)
	c.send(`40`)
	c.read()
	c.send(`40/admin,`)
	if got := c.read(); !strings.HasPrefix(got, `40/admin,{"sid":"`) {
		t.Fatalf("admin CONNECT answered %q", got)
	}
	c.send(`42/admin,["hello"]`)
	if e := await(t, admin.events, "admin event"); e.Name != "hello" {
		t.Errorf("admin got %q", e.Name)
	}
	c.send(`41/admin,`)
	if reason := await(t, admin.disconnects, "admin Disconnect"); !errors.Is(reason, socketio.ErrClientDisconnect) {
		t.Errorf("admin reason %v", reason)
	}
	c.send(`42["still here"]`)
	if e := await(t, main.events, "main event"); e.Name != "still here" {
		t.Errorf("main got %q", e.Name)
	}
}

func TestReservedEventNamesAreRefused(t *testing.T) {
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if _, err := socketio.Prepare("/", name, 1); !errors.Is(err, socketio.ErrReservedEvent) {
			t.Errorf("Prepare(%q): %v, want ErrReservedEvent", name, err)
		}
	}
	if _, err := socketio.Prepare("/", "connected", 1); err != nil {
		t.Errorf("Prepare(connected): %v", err)
	}
}

func TestAttachmentsForANamespaceNotJoinedCloseTheConnection(t *testing.T) {
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": newRecordingHandler()})
	c := dialRaw(t, url)
	// No CONNECT: nothing may be buffered for this client.
	c.send(`451-["upload",{"_placeholder":true,"num":0}]`)
	c.expectClosed()
}

// A packet's attachments together may carry at most the maximum payload,
// whether the one that goes over it is the last or not.
func TestAttachmentsBeyondTheMaxPayloadCloseTheConnection(t *testing.T) {
	for _, attachments := range []int{2, 3} {
		t.Run(fmt.Sprint(attachments), func(t *testing.T) {
			h := newRecordingHandler()
			url := startServer(t, socketio.Config{Engine: engineio.Config{MaxPayload: 4096}}, map[string]socketio.Handler{"/": h})
			c := dialRaw(t, url)
			c.send(`40`)
			c.read()
			placeholders := make([]string, attachments)
			for i := range placeholders {
				placeholders[i] = fmt.Sprintf(`{"_placeholder":true,"num":%d}`, i)
			}
			c.send(fmt.Sprintf(`45%d-["upload",%s]`, attachments, strings.Join(placeholders, ",")))
			chunk := make([]byte, 3000) // each under the limit, any two together over it
			for range 2 {
				if err := c.conn.WriteMessage(websocket.BinaryMessage, chunk); err != nil {
					break
				}
			}
			c.expectClosed()
			if reason := await(t, h.disconnects, "Disconnect"); !errors.Is(reason, engineio.ErrParseError) {
				t.Errorf("reason %v, want parse error", reason)
			}
			select {
			case e := <-h.events:
				t.Errorf("event %q delivered with attachments over the limit", e.Name)
			default:
			}
		})
	}
}

func TestRepeatedRefusalsCloseTheConnection(t *testing.T) {
	h := newRecordingHandler()
	h.refuseWith(&socketio.ConnectRefused{Message: "no"})
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	for range 5 {
		c.send(`40`)
		if got := c.read(); !strings.HasPrefix(got, `44`) {
			t.Fatalf("CONNECT answered %q", got)
		}
	}
	c.expectClosed()
}

func TestConnectionWithoutNamespacesMustRejoinInTime(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{ConnectTimeout: 150 * time.Millisecond}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	c.read()
	await(t, h.connected, "Connected")
	c.send(`41`)
	await(t, h.disconnects, "Disconnect")
	c.expectClosed()
}

// panicHandler panics on every event and reports its socket's context.
type panicHandler struct {
	*recordingHandler
	waiting chan struct{}
	ctxDone chan struct{}
}

func newPanicHandler() panicHandler {
	return panicHandler{recordingHandler: newRecordingHandler(), waiting: make(chan struct{}), ctxDone: make(chan struct{})}
}

func (h panicHandler) Event(s *socketio.Socket, e *socketio.ClientEvent) {
	if e.Name == "wait" {
		close(h.waiting)
		<-s.Context().Done() // canceled when the connection starts closing
		close(h.ctxDone)
		return
	}
	panic("handler bug")
}

func TestHandlerPanicClosesOnlyThatConnection(t *testing.T) {
	h := newPanicHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	victim, bystander := dialRaw(t, url), dialRaw(t, url)
	for _, c := range []*rawClient{victim, bystander} {
		c.send(`40`)
		c.read()
	}
	victim.send(`42["boom"]`)
	victim.expectClosed()
	if reason := await(t, h.disconnects, "Disconnect"); !errors.Is(reason, socketio.ErrHandlerPanic) {
		t.Errorf("reason %v, want handler panic", reason)
	}
	bystander.send(`41`)
	if reason := await(t, h.disconnects, "bystander Disconnect"); !errors.Is(reason, socketio.ErrClientDisconnect) {
		t.Errorf("bystander reason %v", reason)
	}
}

func TestSocketContextEndsWhileItsHandlerRuns(t *testing.T) {
	h := newPanicHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	c.send(`40`)
	c.read()
	s := await(t, h.connected, "Connected")
	c.send(`42["wait"]`)
	await(t, h.waiting, "the handler to start")
	s.Conn().Session().Abort(engineio.ErrForcedClose)
	await(t, h.ctxDone, "the handler to see its context canceled")
}

func TestConnectFloodClosesTheConnection(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	for range 11 {
		c.send(`40`)
	}
	c.expectClosed()
}

// CONNECT packets are paced: a burst of ten is accepted, and a client that
// keeps sending them is disconnected.
func TestConnectBurstAccepted(t *testing.T) {
	h := newRecordingHandler()
	url := startServer(t, socketio.Config{}, map[string]socketio.Handler{"/": h})
	c := dialRaw(t, url)
	for range 10 {
		c.send("40")
	}
	for i := range 10 {
		if got := c.read(); !strings.HasPrefix(got, "40{") {
			t.Fatalf("reply %d to CONNECT: %q, want 40{...}", i, got)
		}
		await(t, h.connected, "Connected")
	}
	// Past the burst the server closes the connection, possibly before
	// every one of these is written: a failed write is that close.
	for range 10 {
		if c.conn.WriteMessage(websocket.TextMessage, []byte("40")) != nil {
			break
		}
	}
	c.expectClosed()
}
