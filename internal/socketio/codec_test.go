package socketio_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tradewithai/realtime/internal/socketio"
)

// decodeAll feeds a text message and its binary attachments to d and returns
// what the last call returned, failing if an earlier call finished early.
func decodeAll(t *testing.T, d *socketio.Decoder, text string, atts ...[]byte) (*socketio.Packet, error) {
	t.Helper()
	p, err := d.Decode([]byte(text), false)
	for i, a := range atts {
		if err != nil || p != nil {
			t.Fatalf("Decode(%q) finished before attachment %d: p=%+v err=%v", text, i, p, err)
		}
		p, err = d.Decode(a, true)
	}
	return p, err
}

func packetString(p *socketio.Packet) string {
	if p == nil {
		return "<nil>"
	}
	s := fmt.Sprintf("{%v nsp=%q", p.Type, p.Namespace)
	if p.HasID {
		s += fmt.Sprintf(" id=%d", p.ID)
	}
	if p.Data != nil {
		s += fmt.Sprintf(" data=%s", p.Data)
	}
	if p.Attachments != nil {
		s += fmt.Sprintf(" atts=%x", p.Attachments)
	}
	return s + "}"
}

func packetsEqual(a, b *socketio.Packet) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Type != b.Type || a.Namespace != b.Namespace || a.HasID != b.HasID || a.ID != b.ID ||
		!bytes.Equal(a.Data, b.Data) || (a.Data == nil) != (b.Data == nil) ||
		len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

func TestPacketTypeString(t *testing.T) {
	tests := []struct {
		t    socketio.PacketType
		want string
	}{
		{socketio.Connect, "CONNECT"},
		{socketio.Disconnect, "DISCONNECT"},
		{socketio.Event, "EVENT"},
		{socketio.Ack, "ACK"},
		{socketio.ConnectError, "CONNECT_ERROR"},
		{socketio.BinaryEvent, "BINARY_EVENT"},
		{socketio.BinaryAck, "BINARY_ACK"},
		{7, "PacketType(7)"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("PacketType(%d).String() = %q, want %q", byte(tt.t), got, tt.want)
		}
	}
}

// specPackets are the examples of the protocol document (packet encoding
// section and sample session), in their canonical wire form.
var specPackets = []struct {
	name string
	wire string
	atts [][]byte
	p    socketio.Packet
}{
	{"connect main", `0`, nil,
		socketio.Packet{Type: socketio.Connect, Namespace: "/"}},
	{"connect custom with sid", `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, nil,
		socketio.Packet{Type: socketio.Connect, Namespace: "/admin", Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
	{"connect custom with auth", `0/admin,{"token":"123"}`, nil,
		socketio.Packet{Type: socketio.Connect, Namespace: "/admin", Data: []byte(`{"token":"123"}`)}},
	{"connect custom request", `0/admin,`, nil,
		socketio.Packet{Type: socketio.Connect, Namespace: "/admin"}},
	{"connect reply", `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`, nil,
		socketio.Packet{Type: socketio.Connect, Namespace: "/", Data: []byte(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
	{"connect error", `4{"message":"Not authorized"}`, nil,
		socketio.Packet{Type: socketio.ConnectError, Namespace: "/", Data: []byte(`{"message":"Not authorized"}`)}},
	{"event main", `2["foo"]`, nil,
		socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`["foo"]`)}},
	{"event custom", `2/admin,["bar"]`, nil,
		socketio.Packet{Type: socketio.Event, Namespace: "/admin", Data: []byte(`["bar"]`)}},
	{"event two args", `2["hey","Jude"]`, nil,
		socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`["hey","Jude"]`)}},
	{"binary event", `51-["baz",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}},
		socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/", Data: []byte(`["baz",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{"binary event two attachments", `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, [][]byte{{1, 2}, {3, 4}},
		socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/admin", Data: []byte(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1, 2}, {3, 4}}}},
	{"binary event with ack", `51-14["foo",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}},
		socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/", ID: 14, HasID: true, Data: []byte(`["foo",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{"event with ack", `212["foo"]`, nil,
		socketio.Packet{Type: socketio.Event, Namespace: "/", ID: 12, HasID: true, Data: []byte(`["foo"]`)}},
	{"event custom with ack", `2/admin,1["tellme"]`, nil,
		socketio.Packet{Type: socketio.Event, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`["tellme"]`)}},
	{"empty ack", `312[]`, nil,
		socketio.Packet{Type: socketio.Ack, Namespace: "/", ID: 12, HasID: true, Data: []byte(`[]`)}},
	{"ack custom", `3/admin,13["bar"]`, nil,
		socketio.Packet{Type: socketio.Ack, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["bar"]`)}},
	{"binary ack", `61-15["bar",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}},
		socketio.Packet{Type: socketio.BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: []byte(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{"binary ack custom", `61-/admin,1[{"_placeholder":true,"num":0}]`, [][]byte{{0xff}},
		socketio.Packet{Type: socketio.BinaryAck, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{0xff}}}},
	{"disconnect main", `1`, nil,
		socketio.Packet{Type: socketio.Disconnect, Namespace: "/"}},
	{"disconnect custom", `1/admin,`, nil,
		socketio.Packet{Type: socketio.Disconnect, Namespace: "/admin"}},
}

func TestDecodeSpecExamples(t *testing.T) {
	for _, tt := range specPackets {
		t.Run(tt.name, func(t *testing.T) {
			var d socketio.Decoder
			p, err := decodeAll(t, &d, tt.wire, tt.atts...)
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.wire, err)
			}
			if !packetsEqual(p, &tt.p) {
				t.Fatalf("Decode(%q) = %s, want %s", tt.wire, packetString(p), packetString(&tt.p))
			}
			if d.Pending() {
				t.Fatal("decoder still pending after a complete packet")
			}
		})
	}
}

func TestAppendPacketSpecExamples(t *testing.T) {
	for _, tt := range specPackets {
		t.Run(tt.name, func(t *testing.T) {
			got := socketio.AppendPacket([]byte("4"), &tt.p)
			if want := "4" + tt.wire; string(got) != want {
				t.Fatalf("AppendPacket = %q, want %q", got, want)
			}
		})
	}
}

// TestAppendSpecExamples builds the spec's EVENT and ACK examples from Go
// values, the way the server emits them.
func TestAppendSpecExamples(t *testing.T) {
	tests := []struct {
		name     string
		build    func() ([]byte, [][]byte, error)
		wantWire string
		wantAtts [][]byte
	}{
		{"event main", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "/", 0, false, "foo", nil)
		}, `2["foo"]`, nil},
		{"event custom", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "/admin", 0, false, "bar", nil)
		}, `2/admin,["bar"]`, nil},
		{"event empty namespace", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "", 0, false, "hey", []any{"Jude"})
		}, `2["hey","Jude"]`, nil},
		{"binary event", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "/", 0, false, "baz", []any{[]byte{1, 2, 3, 4}})
		}, `51-["baz",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}}},
		{"binary event two attachments", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "/admin", 0, false, "baz", []any{[]byte{1, 2}, []byte{3, 4}})
		}, `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, [][]byte{{1, 2}, {3, 4}}},
		{"event with ack", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "/", 12, true, "foo", nil)
		}, `212["foo"]`, nil},
		{"event with ack 0", func() ([]byte, [][]byte, error) {
			return socketio.AppendEvent(nil, "/", 0, true, "foo", nil)
		}, `20["foo"]`, nil},
		{"empty ack", func() ([]byte, [][]byte, error) {
			return socketio.AppendAck(nil, "/", 12, nil)
		}, `312[]`, nil},
		{"ack custom", func() ([]byte, [][]byte, error) {
			return socketio.AppendAck(nil, "/admin", 13, []any{"bar"})
		}, `3/admin,13["bar"]`, nil},
		{"binary ack", func() ([]byte, [][]byte, error) {
			return socketio.AppendAck(nil, "/", 15, []any{"bar", []byte{1, 2, 3, 4}})
		}, `61-15["bar",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}}},
		{"binary ack custom", func() ([]byte, [][]byte, error) {
			return socketio.AppendAck(nil, "/admin", 1, []any{[]byte{0xff}})
		}, `61-/admin,1[{"_placeholder":true,"num":0}]`, [][]byte{{0xff}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire, atts, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if string(wire) != tt.wantWire {
				t.Errorf("wire = %q, want %q", wire, tt.wantWire)
			}
			if fmt.Sprint(atts) != fmt.Sprint(tt.wantAtts) || (atts == nil) != (tt.wantAtts == nil) {
				t.Errorf("attachments = %v, want %v", atts, tt.wantAtts)
			}
		})
	}
}

type quote struct {
	Symbol string  `json:"symbol"`
	Bid    float64 `json:"bid"`
	Ask    float64 `json:"ask,omitempty"`
}

type side string

type badJSON struct{}

func (badJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

func TestAppendEventArgs(t *testing.T) {
	tests := []struct {
		name     string
		event    string
		args     []any
		wantData string
		wantAtts [][]byte
	}{
		{"no args", "ping", nil, `["ping"]`, nil},
		{"struct", "quote", []any{quote{Symbol: "BTC/USD", Bid: 64000.5}}, `["quote",{"symbol":"BTC/USD","bid":64000.5}]`, nil},
		{"pointer to struct", "quote", []any{&quote{Symbol: "ETH", Bid: 1, Ask: 2}}, `["quote",{"symbol":"ETH","bid":1,"ask":2}]`, nil},
		{"map", "m", []any{map[string]int{"b": 2, "a": 1}}, `["m",{"a":1,"b":2}]`, nil},
		{"raw message", "r", []any{json.RawMessage(` {"a": [1, 2]} `)}, `["r", {"a": [1, 2]} ]`, nil},
		{"nil raw message", "r", []any{json.RawMessage(nil)}, `["r",null]`, nil},
		{"nil", "n", []any{nil}, `["n",null]`, nil},
		{"scalars", "s", []any{true, false, 0, -7, int64(-1 << 62), int32(5), uint64(1 << 63), uint32(7), uint8(8), uint(9), 1.5, float32(0.25)},
			`["s",true,false,0,-7,-4611686018427387904,5,9223372036854775808,7,8,9,1.5,0.25]`, nil},
		{"floats like encoding/json", "f", []any{1e21, 1e20, 1e-7, 0.000001, math.Copysign(0, -1), 123456789.125},
			`["f",1e+21,100000000000000000000,1e-7,0.000001,-0,123456789.125]`, nil},
		{"string escapes", "s", []any{"a\"b\\c\n\r\t\x01\x1f</script>&é€😀"},
			`["s","a\"b\\c\n\r\t\u0001\u001f</script>&é€😀"]`, nil},
		{"invalid utf-8 in name and arg", "\xffx", []any{"a\xc3"}, `["\ufffdx","a\ufffd"]`, nil},
		{"named string type", "side", []any{side("buy")}, `["side","buy"]`, nil},
		{"nested bytes stay base64", "b", []any{[]any{[]byte{1, 2}}}, `["b",["AQI="]]`, nil},
		{"bytes among args", "up", []any{"x", []byte("ab"), 1, []byte{}, []byte(nil)},
			`["up","x",{"_placeholder":true,"num":0},1,{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`,
			[][]byte{[]byte("ab"), {}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire, atts, err := socketio.AppendEvent([]byte("4"), "/", 0, false, tt.event, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			header := "42"
			if tt.wantAtts != nil {
				header = fmt.Sprintf("45%d-", len(tt.wantAtts))
			}
			if want := header + tt.wantData; string(wire) != want {
				t.Fatalf("AppendEvent = %s, want %s", wire, want)
			}
			if len(atts) != len(tt.wantAtts) || (atts == nil) != (tt.wantAtts == nil) {
				t.Fatalf("attachments = %v, want %v", atts, tt.wantAtts)
			}
			for i := range atts {
				if !bytes.Equal(atts[i], tt.wantAtts[i]) {
					t.Fatalf("attachment %d = %v, want %v", i, atts[i], tt.wantAtts[i])
				}
			}
			// What was written must come back through the decoder intact.
			var d socketio.Decoder
			p, err := decodeAll(t, &d, string(wire[1:]), atts...)
			if err != nil {
				t.Fatalf("decode own output: %v", err)
			}
			name, args, err := socketio.ParseEvent(p.Data)
			if err != nil || name != strings.ToValidUTF8(tt.event, "\uFFFD") || len(args) != len(tt.args) {
				t.Fatalf("ParseEvent(own output) = %q, %d args, %v", name, len(args), err)
			}
		})
	}
}

func TestAppendEventErrors(t *testing.T) {
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"invalid raw message", []any{json.RawMessage(`{"a":`)}, "arg 0: json.RawMessage is not valid UTF-8 JSON"},
		{"empty raw message", []any{json.RawMessage{}}, "arg 0: json.RawMessage"},
		{"raw message with invalid utf-8", []any{1, json.RawMessage("\"\xff\"")}, "arg 1: json.RawMessage"},
		{"NaN", []any{"ok", nanValue()}, "arg 1: unsupported value NaN"},
		{"channel", []any{make(chan int)}, "arg 0: json: unsupported type"},
		{"marshaler error", []any{badJSON{}}, "boom"},
		{"error after bytes", []any{[]byte{1}, make(chan int)}, "arg 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("prefix")
			got, atts, err := socketio.AppendEvent(dst, "/admin", 3, true, "e", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("AppendEvent error = %v, want containing %q", err, tt.want)
			}
			if string(got) != "prefix" || atts != nil {
				t.Fatalf("AppendEvent on error returned %q, %v; want dst unchanged and no attachments", got, atts)
			}
			got, _, err = socketio.AppendAck(dst, "/", 3, tt.args)
			if err == nil || string(got) != "prefix" {
				t.Fatalf("AppendAck on error returned %q, %v", got, err)
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

// decodeErrorCases are rejected by Decode. refDiverges explains the cases
// socket.io-parser 4.2 lets through, where this codec is deliberately stricter.
var decodeErrorCases = []struct {
	name        string
	wire        string
	atts        [][]byte
	want        string
	refDiverges string
}{
	{"empty", ``, nil, "empty packet", "socket.io-parser reads Number(\"\") as 0: CONNECT"},
	{"type 7", `7["a"]`, nil, "unknown packet type", ""},
	{"type letter", `a`, nil, "unknown packet type", ""},
	{"type space", ` {}`, nil, "unknown packet type", "socket.io-parser reads Number(\" \") as 0: CONNECT"},
	{"binary without count", `5["a"]`, nil, "illegal attachments", ""},
	{"binary type only", `5`, nil, "illegal attachments", ""},
	{"binary empty count", `5-["a"]`, nil, "illegal attachments", ""},
	{"binary count without dash", `51["a"]`, nil, "illegal attachments", ""},
	{"binary count at end", `61`, nil, "illegal attachments", ""},
	{"binary count not decimal", `50x1-["a"]`, nil, "illegal attachments", "socket.io-parser accepts any Number() syntax"},
	{"binary count signed", `5+1-["a"]`, nil, "illegal attachments", "socket.io-parser accepts any Number() syntax"},
	{"binary count with space", `5 1-["a"]`, nil, "illegal attachments", "socket.io-parser accepts any Number() syntax"},
	{"too many attachments", `511-["a"]`, nil, "too many attachments", ""},
	{"huge attachment count", `599999999999999999999999-["a"]`, nil, "too many attachments", ""},
	{"ack id above 2^53-1", `29007199254740992["a"]`, nil, "invalid ack id", "socket.io-parser accepts and rounds unsafe integers"},
	{"ack id overflowing uint64", `3123456789012345678901234567890[]`, nil, "invalid ack id", "socket.io-parser accepts and rounds unsafe integers"},
	{"connect array", `0[]`, nil, "invalid payload", ""},
	{"connect string", `0"x"`, nil, "invalid payload", ""},
	{"connect null", `0null`, nil, "invalid payload", ""},
	{"connect invalid json", `0{"a"}`, nil, "invalid payload", ""},
	{"disconnect with payload", `1{}`, nil, "invalid payload", ""},
	{"disconnect custom with payload", `1/admin,{}`, nil, "invalid payload", ""},
	{"event missing payload", `2`, nil, "invalid payload", "socket.io-parser leaves the check to isPacketValid"},
	{"event id without payload", `212`, nil, "invalid payload", "socket.io-parser leaves the check to isPacketValid"},
	{"event object", `2{"a":1}`, nil, "invalid payload", ""},
	{"event empty array", `2[]`, nil, "invalid payload", ""},
	{"event null name", `2[null]`, nil, "invalid payload", ""},
	{"event object name", `2[{}]`, nil, "invalid payload", ""},
	{"event bool name", `2[true]`, nil, "invalid payload", ""},
	{"event reserved connect", `2["connect"]`, nil, "invalid payload", ""},
	{"event reserved connect_error", `2["connect_error"]`, nil, "invalid payload", ""},
	{"event reserved disconnect", `2/admin,["disconnect"]`, nil, "invalid payload", ""},
	{"event reserved disconnecting", `2["disconnecting",1]`, nil, "invalid payload", ""},
	{"event reserved newListener", `2["newListener"]`, nil, "invalid payload", ""},
	{"event reserved removeListener", `21["removeListener"]`, nil, "invalid payload", ""},
	{"event reserved escaped", `2["conn\u0065ct"]`, nil, "invalid payload", ""},
	{"event truncated json", `2["a"`, nil, "invalid payload", ""},
	{"event trailing garbage", `2["a"]x`, nil, "invalid payload", ""},
	{"event namespace swallows payload", `2/a b{}["x"]`, nil, "invalid payload", "socket.io-parser leaves the check to isPacketValid"},
	{"event two values", `2["a"]["b"]`, nil, "invalid payload", ""},
	{"event namespace without comma", `2/admin["a"]`, nil, "invalid payload", "socket.io-parser takes the rest as namespace and leaves the payload check to isPacketValid"},
	{"event namespace not starting with slash", `2admin,["a"]`, nil, "invalid payload", ""},
	{"event whitespace only", `2 `, nil, "invalid payload", "socket.io-parser reads the space as ack id 0 and leaves the payload check to isPacketValid"},
	{"ack missing payload", `3`, nil, "invalid payload", "socket.io-parser leaves the check to isPacketValid"},
	{"ack object", `31{}`, nil, "invalid payload", ""},
	{"ack string", `31"x"`, nil, "invalid payload", ""},
	{"connect error missing payload", `4`, nil, "invalid payload", "socket.io-parser leaves the check to isPacketValid"},
	{"connect error array", `4[]`, nil, "invalid payload", ""},
	{"connect error number", `4/x,-1`, nil, "invalid payload", ""},
	{"binary event empty array", `51-[]`, nil, "invalid payload", ""},
	{"binary event reserved", `51-["disconnect",{"_placeholder":true,"num":0}]`, nil, "invalid payload", ""},
	{"binary ack object", `61-1{}`, nil, "invalid payload", ""},
	{"binary event missing payload", `51-`, nil, "invalid payload", "socket.io-parser leaves the check to isPacketValid"},
	{"placeholder beyond attachments", `51-["a",{"_placeholder":true,"num":1}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder negative", `51-["a",{"_placeholder":true,"num":-1}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder fraction", `52-["a",{"_placeholder":true,"num":0.5}]`, [][]byte{{1}, {2}}, "illegal attachments", "socket.io-parser substitutes buffers[0.5], i.e. undefined"},
	{"placeholder num string", `51-["a",{"_placeholder":true,"num":"0"}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder num missing", `51-["a",{"_placeholder":true}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder num huge", `51-["a",{"_placeholder":true,"num":1e400}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder nested", `52-["a",{"x":[1,{"y":{"_placeholder":true,"num":2}}]}]`, [][]byte{{1}, {2}}, "illegal attachments", ""},
	{"placeholder last num wins", `51-["a",{"num":0,"_placeholder":true,"num":1}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder escaped key", `51-["a",{"\u005fplaceholder":true,"n\u0075m":3}]`, [][]byte{{1}}, "illegal attachments", ""},
	{"placeholder with zero attachments", `50-["a",{"_placeholder":true,"num":0}]`, nil, "illegal attachments", ""},
	{"placeholder in binary ack", `61-7[{"_placeholder":true,"num":1}]`, [][]byte{{1}}, "illegal attachments", ""},
}

func TestDecodeErrors(t *testing.T) {
	tests := decodeErrorCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d socketio.Decoder
			p, err := decodeAll(t, &d, tt.wire, tt.atts...)
			if err == nil {
				t.Fatalf("Decode(%q) = %s, want error %q", tt.wire, packetString(p), tt.want)
			}
			if p != nil {
				t.Errorf("Decode(%q) returned a packet with its error", tt.wire)
			}
			if !errors.Is(err, socketio.ErrInvalidPacket) {
				t.Errorf("error %v does not wrap ErrInvalidPacket", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if d.Pending() {
				t.Error("decoder pending after an error")
			}
			// The decoder must be usable again right away.
			if p, err := d.Decode([]byte(`2["ok"]`), false); err != nil || p == nil {
				t.Errorf("Decode after error = %v, %v", p, err)
			}
		})
	}
}

func TestDecodeSequenceErrors(t *testing.T) {
	t.Run("binary while idle", func(t *testing.T) {
		var d socketio.Decoder
		_, err := d.Decode([]byte{1, 2}, true)
		if !errors.Is(err, socketio.ErrInvalidPacket) || !strings.Contains(err.Error(), "got binary data when not reconstructing a packet") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("text while pending", func(t *testing.T) {
		var d socketio.Decoder
		if p, err := d.Decode([]byte(`52-["a",{"_placeholder":true,"num":0}]`), false); p != nil || err != nil {
			t.Fatalf("header: %v, %v", p, err)
		}
		if p, err := d.Decode([]byte{1}, true); p != nil || err != nil || !d.Pending() {
			t.Fatalf("first attachment: %v, %v, pending=%v", p, err, d.Pending())
		}
		_, err := d.Decode([]byte(`2["b"]`), false)
		if !errors.Is(err, socketio.ErrInvalidPacket) || !strings.Contains(err.Error(), "got plaintext data when reconstructing a packet") {
			t.Fatalf("err = %v", err)
		}
		if d.Pending() {
			t.Fatal("still pending after error")
		}
		// The stale attachment must not leak into the next binary packet.
		p, err := decodeAll(t, &d, `51-["c",{"_placeholder":true,"num":0}]`, []byte{9})
		if err != nil || len(p.Attachments) != 1 || p.Attachments[0][0] != 9 {
			t.Fatalf("next binary packet = %s, %v", packetString(p), err)
		}
	})
	t.Run("reset drops pending packet", func(t *testing.T) {
		var d socketio.Decoder
		if _, err := d.Decode([]byte(`51-["a",{"_placeholder":true,"num":0}]`), false); err != nil {
			t.Fatal(err)
		}
		d.Reset()
		if d.Pending() {
			t.Fatal("pending after Reset")
		}
		if _, err := d.Decode([]byte{1}, true); err == nil {
			t.Fatal("attachment after Reset accepted")
		}
	})
}

// reconstructionCases are binary packets that complete with their attachments.
var reconstructionCases = []struct {
	name        string
	max         int
	wire        string
	atts        [][]byte
	refDiverges string
}{
	{"three attachments nested and out of order", 0,
		`53-/files,42["upload",{"meta":{"parts":[{"_placeholder":true,"num":2},{"_placeholder":true,"num":0}]}},{"_placeholder":true,"num":1}]`,
		[][]byte{[]byte("first"), []byte("second"), []byte("third")}, ""},
	{"numeric event name", 0, `51-[7,{"_placeholder":true,"num":0}]`, [][]byte{{7}}, ""},
	{"attachment not referenced", 0, `52-["a",{"_placeholder":true,"num":1}]`, [][]byte{{1}, {2}}, ""},
	{"empty attachments", 0, `52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, [][]byte{{}, {}}, ""},
	{"ten attachments by default", 0, `510-["a"]`, [][]byte{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}}, ""},
	{"raised limit", 12, `512-["a"]`, [][]byte{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}}, ""},
	{"leading zeros in count", 0, `502-["a"]`, [][]byte{{0}, {1}}, ""},
	{"zero attachments completes at once", 0, `50-["a",{"_placeholder":false,"num":9}]`, nil,
		"socket.io-parser rejects a count of 0; here the packet needs no attachment to complete"},
	{"placeholder false is plain data", 0, `51-["a",{"_placeholder":false,"num":9}]`, [][]byte{{1}}, ""},
	{"placeholder string true is plain data", 0, `51-["a",{"_placeholder":"true","num":9}]`, [][]byte{{1}}, ""},
	{"last placeholder key wins", 0, `51-["a",{"_placeholder":true,"num":9,"_placeholder":false}]`, [][]byte{{1}}, ""},
	{"placeholder replaces its subtree", 0, `51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":5}}]`, [][]byte{{1}}, ""},
	{"placeholder num forms", 0, `52-["a",{"num":1.0,"_placeholder":true},{ "_placeholder" : true , "num" : 1e0 },{"_placeholder":true,"num":-0}]`, [][]byte{{1}, {2}}, ""},
	{"escaped placeholder key", 0, `51-["a",{"\u005fplaceholder":true,"num":0}]`, [][]byte{{1}}, ""},
	{"placeholder in plain event is not checked", 0, `2["a",{"_placeholder":true,"num":99}]`, nil, ""},
}

func TestDecodeBinaryReconstruction(t *testing.T) {
	tests := reconstructionCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := socketio.Decoder{MaxAttachments: tt.max}
			p, err := d.Decode([]byte(tt.wire), false)
			for i, a := range tt.atts {
				if err != nil || p != nil {
					t.Fatalf("finished before attachment %d: %s, %v", i, packetString(p), err)
				}
				if !d.Pending() {
					t.Fatalf("not pending before attachment %d", i)
				}
				p, err = d.Decode(a, true)
			}
			if err != nil {
				t.Fatal(err)
			}
			if p == nil || d.Pending() {
				t.Fatalf("no packet after the last attachment (pending=%v)", d.Pending())
			}
			if len(p.Attachments) != len(tt.atts) {
				t.Fatalf("got %d attachments, want %d", len(p.Attachments), len(tt.atts))
			}
			for i := range tt.atts {
				// Attachments are the caller's buffers, not copies.
				if len(tt.atts[i]) > 0 && &p.Attachments[i][0] != &tt.atts[i][0] {
					t.Errorf("attachment %d was copied", i)
				}
				if !bytes.Equal(p.Attachments[i], tt.atts[i]) {
					t.Errorf("attachment %d = %v, want %v", i, p.Attachments[i], tt.atts[i])
				}
			}
			again := socketio.AppendPacket(nil, p)
			var d2 socketio.Decoder
			d2.MaxAttachments = tt.max
			q, err := decodeAll(t, &d2, string(again), p.Attachments...)
			if err != nil || !packetsEqual(p, q) {
				t.Fatalf("round trip via %q = %s, %v; want %s", again, packetString(q), err, packetString(p))
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	d := socketio.Decoder{MaxAttachments: 2}
	if _, err := d.Decode([]byte(`53-["a"]`), false); err == nil || !strings.Contains(err.Error(), "too many attachments") {
		t.Fatalf("3 attachments over a limit of 2: err = %v", err)
	}
	if _, err := d.Decode([]byte(`62-1["a"]`), false); err != nil || !d.Pending() {
		t.Fatalf("2 attachments within a limit of 2: err = %v", err)
	}

	p, err := (&socketio.Decoder{}).Decode([]byte(`29007199254740991["a"]`), false)
	if err != nil || p.ID != 1<<53-1 || !p.HasID {
		t.Fatalf("largest safe ack id: %s, %v", packetString(p), err)
	}
}

func TestNamespaceAndAckCombinations(t *testing.T) {
	namespaces := []string{"/", "/admin", "/a/b-c_d.e", "/é"}
	ids := []struct {
		id  uint64
		has bool
	}{{0, false}, {0, true}, {1, true}, {12, true}, {1<<53 - 1, true}}
	types := []struct {
		t    socketio.PacketType
		data string
		atts [][]byte
	}{
		{socketio.Connect, ``, nil},
		{socketio.Connect, `{"token":"123"}`, nil},
		{socketio.Disconnect, ``, nil},
		{socketio.Event, `["foo",1]`, nil},
		{socketio.Ack, `[]`, nil},
		{socketio.ConnectError, `"refused"`, nil},
		{socketio.ConnectError, `{"message":"x","data":{"code":401}}`, nil},
		{socketio.BinaryEvent, `["foo",{"_placeholder":true,"num":0}]`, [][]byte{{1}}},
		{socketio.BinaryAck, `[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`, [][]byte{{1}, {2}}},
	}
	for _, typ := range types {
		for _, nsp := range namespaces {
			for _, id := range ids {
				want := socketio.Packet{Type: typ.t, Namespace: nsp, ID: id.id, HasID: id.has, Attachments: typ.atts}
				if typ.data != "" {
					want.Data = []byte(typ.data)
				}
				wire := socketio.AppendPacket(nil, &want)
				var d socketio.Decoder
				got, err := decodeAll(t, &d, string(wire), typ.atts...)
				if err != nil || !packetsEqual(got, &want) {
					t.Errorf("%q: got %s, %v; want %s", wire, packetString(got), err, packetString(&want))
				}
			}
		}
	}
}

// wireVariantCases are accepted wire forms that an encoder would not write
// but that the reference decoder also reads.
var wireVariantCases = []struct {
	wire        string
	want        socketio.Packet
	refDiverges string
}{
	{`2/,["a"]`, socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`["a"]`)}, ""},
	{`1/admin`, socketio.Packet{Type: socketio.Disconnect, Namespace: "/admin"}, ""},
	{`0/`, socketio.Packet{Type: socketio.Connect, Namespace: "/"}, ""},
	{`0/admin{}x`, socketio.Packet{Type: socketio.Connect, Namespace: "/admin{}x"}, ""},
	{`2012["a"]`, socketio.Packet{Type: socketio.Event, Namespace: "/", ID: 12, HasID: true, Data: []byte(`["a"]`)}, ""},
	{`2 ["a"] `, socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(` ["a"] `)},
		"socket.io-parser reads the leading space as ack id 0"},
	{`2[-1.5e3,"x"]`, socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`[-1.5e3,"x"]`)}, ""},
	{`2["connected"]`, socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`["connected"]`)}, ""},
	{`2["conn\"ect"]`, socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(`["conn\"ect"]`)}, ""},
	{`0/admin,5{}`, socketio.Packet{Type: socketio.Connect, Namespace: "/admin", ID: 5, HasID: true, Data: []byte(`{}`)}, ""},
	{`1/admin,7`, socketio.Packet{Type: socketio.Disconnect, Namespace: "/admin", ID: 7, HasID: true}, ""},
	{`4"Not authorized"`, socketio.Packet{Type: socketio.ConnectError, Namespace: "/", Data: []byte(`"Not authorized"`)}, ""},
	{"2[\"a\"\n]\t", socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte("[\"a\"\n]\t")}, ""},
}

func TestDecodeWireVariants(t *testing.T) {
	for _, tt := range wireVariantCases {
		var d socketio.Decoder
		p, err := d.Decode([]byte(tt.wire), false)
		if err != nil || !packetsEqual(p, &tt.want) {
			t.Errorf("Decode(%q) = %s, %v; want %s", tt.wire, packetString(p), err, packetString(&tt.want))
		}
	}
}

func TestDecodeDataAliasesMessage(t *testing.T) {
	msg := []byte(`2/admin,["a",1]`)
	var d socketio.Decoder
	p, err := d.Decode(msg, false)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &msg[8] {
		t.Fatal("Data was copied")
	}
	if cap(p.Data) != len(p.Data) {
		t.Fatal("Data has spare capacity into which an append could write")
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`[1]`, []string{`1`}},
		{`["a",1,true,false,null,{"x":[1,2]},[3,[4]],-0.5e+3]`, []string{`"a"`, `1`, `true`, `false`, `null`, `{"x":[1,2]}`, `[3,[4]]`, `-0.5e+3`}},
		{"\t[ \"a\" ,\n {\"b\" : \"]}\"} ,\r[ ] ]\n", []string{`"a"`, `{"b" : "]}"}`, `[ ]`}},
		{`["q\"uo\\\"te\\",",",{"k\\":"v\\\\"}]`, []string{`"q\"uo\\\"te\\"`, `","`, `{"k\\":"v\\\\"}`}},
		{`["é€😀\u00e9"]`, []string{`"é€😀\u00e9"`}},
	}
	for _, tt := range tests {
		got, err := socketio.SplitArray([]byte(tt.in))
		if err != nil {
			t.Errorf("SplitArray(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("SplitArray(%q) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tt.want[i] {
				t.Errorf("SplitArray(%q)[%d] = %q, want %q", tt.in, i, got[i], tt.want[i])
			}
		}
	}

	for _, in := range []string{``, ` `, `{}`, `"[]"`, `1`, `null`, `[`, `[1,]`, `[,1]`, `[1 2]`, `[1]]`, `[1][2]`, `[01]`, `['a']`, "[\"\x01\"]", `[1]x`} {
		if got, err := socketio.SplitArray([]byte(in)); err == nil || !errors.Is(err, socketio.ErrInvalidPacket) {
			t.Errorf("SplitArray(%q) = %q, %v; want ErrInvalidPacket", in, got, err)
		}
	}

	data := []byte(`["a","b"]`)
	elems, err := socketio.SplitArray(data)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(elems[0], 'X')
	if string(data) != `["a","b"]` {
		t.Fatalf("appending to an element overwrote the input: %s", data)
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		in       string
		wantName string
		wantArgs []string
		wantErr  bool
	}{
		{`["subscribe",{"channel":"market-data"}]`, "subscribe", []string{`{"channel":"market-data"}`}, false},
		{`["ping"]`, "ping", nil, false},
		{` [ "a\nb\u00e9" , 1 , "x" ] `, "a\nbé", []string{`1`, `"x"`}, false},
		{`[""]`, "", nil, false},
		{"[\"a\x87\xff\"]", "a\uFFFD\uFFFD", nil, false},
		{`[1,"a"]`, "", nil, true},
		{`[]`, "", nil, true},
		{`[null]`, "", nil, true},
		{`{"a":1}`, "", nil, true},
		{`["a"`, "", nil, true},
	}
	for _, tt := range tests {
		name, args, err := socketio.ParseEvent([]byte(tt.in))
		if tt.wantErr {
			if err == nil || !errors.Is(err, socketio.ErrInvalidPacket) {
				t.Errorf("ParseEvent(%q) = %q, %q, %v; want ErrInvalidPacket", tt.in, name, args, err)
			}
			continue
		}
		if err != nil || name != tt.wantName || len(args) != len(tt.wantArgs) {
			t.Errorf("ParseEvent(%q) = %q, %q, %v; want %q, %q", tt.in, name, args, err, tt.wantName, tt.wantArgs)
			continue
		}
		for i := range args {
			if string(args[i]) != tt.wantArgs[i] {
				t.Errorf("ParseEvent(%q) arg %d = %s, want %s", tt.in, i, args[i], tt.wantArgs[i])
			}
		}
	}
}

func TestPlaceholderNum(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{`{"_placeholder":true,"num":0}`, 0, true},
		{`{"num":3,"_placeholder":true}`, 3, true},
		{" {\n\"_placeholder\" : true ,\t\"num\" : 12 } ", 12, true},
		{`{"_placeholder":true,"num":1.0}`, 1, true},
		{`{"_placeholder":true,"num":2e0}`, 2, true},
		{`{"_placeholder":true,"num":-0}`, 0, true},
		{`{"_placeholder":true,"num":9007199254740991}`, 1<<53 - 1, true},
		{`{"_placeholder":true,"num":1,"name":"file.bin"}`, 1, true},
		{`{"\u005fplaceholder":true,"nu\u006d":4}`, 4, true},
		{`{"_placeholder":false,"num":0,"_placeholder":true}`, 0, true},
		{`{"_placeholder":true,"num":0,"_placeholder":false}`, 0, false},
		{`{"_placeholder":true,"num":"0"}`, 0, false},
		{`{"_placeholder":true,"num":-1}`, 0, false},
		{`{"_placeholder":true,"num":0.5}`, 0, false},
		{`{"_placeholder":true,"num":1e400}`, 0, false},
		{`{"_placeholder":true}`, 0, false},
		{`{"_placeholder":"true","num":0}`, 0, false},
		{`{"_placeholder":1,"num":0}`, 0, false},
		{`{"num":0}`, 0, false},
		{`{}`, 0, false},
		{`[{"_placeholder":true,"num":0}]`, 0, false},
		{`"x"`, 0, false},
		{`{"_placeholder":true,"num":0`, 0, false},
		{`{"_placeholder":true,"num":0}x`, 0, false},
		{``, 0, false},
	}
	for _, tt := range tests {
		got, ok := socketio.PlaceholderNum([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("PlaceholderNum(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	type sub struct {
		Channel string   `json:"channel"`
		Symbols []string `json:"symbols"`
	}
	args := []any{sub{"market-data", []string{"BTC/USD", "ETH/USD"}}, []byte{0xde, 0xad}, json.RawMessage(`[1,2]`), "tail"}
	for _, nsp := range []string{"/", "/trading"} {
		for _, hasID := range []bool{false, true} {
			wire, atts, err := socketio.AppendEvent(nil, nsp, 99, hasID, "subscribe", args)
			if err != nil {
				t.Fatal(err)
			}
			var d socketio.Decoder
			p, err := decodeAll(t, &d, string(wire), atts...)
			if err != nil {
				t.Fatalf("%s: %v", wire, err)
			}
			if p.Type != socketio.BinaryEvent || p.Namespace != nsp || p.HasID != hasID || (hasID && p.ID != 99) {
				t.Fatalf("%s decoded as %s", wire, packetString(p))
			}
			name, raw, err := socketio.ParseEvent(p.Data)
			if err != nil || name != "subscribe" || len(raw) != 4 {
				t.Fatalf("ParseEvent = %q, %q, %v", name, raw, err)
			}
			var s sub
			if err := json.Unmarshal(raw[0], &s); err != nil || s.Channel != "market-data" || len(s.Symbols) != 2 {
				t.Fatalf("arg 0 = %s (%v)", raw[0], err)
			}
			if k, ok := socketio.PlaceholderNum(raw[1]); !ok || !bytes.Equal(p.Attachments[k], []byte{0xde, 0xad}) {
				t.Fatalf("arg 1 = %s, not the attachment", raw[1])
			}
			if string(raw[2]) != `[1,2]` || string(raw[3]) != `"tail"` {
				t.Fatalf("args 2, 3 = %s, %s", raw[2], raw[3])
			}
		}
	}

	wire, atts, err := socketio.AppendAck(nil, "/trading", 7, []any{map[string]bool{"ok": true}})
	if err != nil || atts != nil {
		t.Fatal(err, atts)
	}
	p, err := (&socketio.Decoder{}).Decode(wire, false)
	if err != nil || p.Type != socketio.Ack || p.ID != 7 || string(p.Data) != `[{"ok":true}]` {
		t.Fatalf("ack %s decoded as %s, %v", wire, packetString(p), err)
	}
}

// skipUnderRace skips allocation counts in -race builds, where sync.Pool
// drops items at random and encoding/json's pooled scanner then allocates.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				t.Skip("allocation counts are not meaningful under the race detector")
			}
		}
	}
}

func TestDecodeAllocations(t *testing.T) {
	skipUnderRace(t)
	tests := []struct {
		name string
		msg  string
	}{
		{"main namespace", `2["subscribe",{"channel":"market-data","symbols":["BTC/USD"]}]`},
		{"custom namespace with ack", `2/trading,17["order",{"side":"buy","qty":1}]`},
	}
	for _, tt := range tests {
		msg := []byte(tt.msg)
		var d socketio.Decoder
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := d.Decode(msg, false); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("%s: Decode made %.1f allocations, want at most 1 (the Packet)", tt.name, allocs)
		}
	}
}

func TestAppendAllocations(t *testing.T) {
	skipUnderRace(t)
	dst := make([]byte, 0, 512)
	args := []any{json.RawMessage(`{"symbol":"BTC/USD","bid":64000.5}`), "x", 1.5, 3, true}
	allocs := testing.AllocsPerRun(200, func() {
		if _, _, err := socketio.AppendEvent(dst[:0], "/", 0, false, "quote", args); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendEvent with raw and scalar args made %.1f allocations, want 0", allocs)
	}
}

// refDecoderScript runs socket.io-parser's Decoder over message sequences
// read as JSON from stdin and prints what it emitted or threw.
const refDecoderScript = `
const { Decoder } = require(process.argv[2]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const results = cases.map((msgs) => {
  const d = new Decoder();
  const packets = [];
  d.on("decoded", (p) => packets.push({
    type: p.type, nsp: p.nsp, id: p.id === undefined ? null : p.id,
    data: p.data === undefined ? null : JSON.stringify(p.data),
  }));
  try {
    for (const m of msgs) d.add(m.bin !== undefined ? Buffer.from(m.bin, "hex") : m.text);
  } catch (e) {
    return { error: e.message, packets };
  }
  return { error: "", packets };
});
process.stdout.write(JSON.stringify(results));
`

type refMessage struct {
	Text *string `json:"text,omitempty"`
	Bin  *string `json:"bin,omitempty"`
}

type refPacket struct {
	Type int      `json:"type"`
	Nsp  string   `json:"nsp"`
	ID   *float64 `json:"id"`
	Data *string  `json:"data"`
}

type refResult struct {
	Error   string      `json:"error"`
	Packets []refPacket `json:"packets"`
}

// runReferenceDecoder decodes each sequence with the npm socket.io-parser the
// project ships with; it skips the test when Node or the module is missing.
func runReferenceDecoder(t *testing.T, seqs [][]refMessage) []refResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	parser, err := filepath.Abs("../../node_modules/socket.io-parser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(parser); err != nil {
		t.Skip("socket.io-parser not installed in node_modules")
	}
	script := filepath.Join(t.TempDir(), "decode.js")
	if err := os.WriteFile(script, []byte(refDecoderScript), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(seqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, parser)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var results []refResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(seqs) {
		t.Fatalf("node output (%v): %.500s", err, out)
	}
	return results
}

func textMsg(s string) refMessage { return refMessage{Text: &s} }

func binMsg(b []byte) refMessage {
	s := hex.EncodeToString(b)
	return refMessage{Bin: &s}
}

// comparable turns one of our packets into what socket.io-parser emits: plain
// types, and the attachments substituted for their placeholders the way
// JSON.stringify renders a Buffer.
func comparable(t *testing.T, p *socketio.Packet) (typ int, nsp string, id *float64, data any) {
	t.Helper()
	typ = int(p.Type)
	switch p.Type {
	case socketio.BinaryEvent:
		typ = int(socketio.Event)
	case socketio.BinaryAck:
		typ = int(socketio.Ack)
	}
	if p.HasID {
		f := float64(p.ID)
		id = &f
	}
	if p.Data == nil {
		return typ, p.Namespace, id, nil
	}
	if err := json.Unmarshal(p.Data, &data); err != nil {
		t.Fatalf("our Data %s: %v", p.Data, err)
	}
	if p.Type == socketio.BinaryEvent || p.Type == socketio.BinaryAck {
		data = substitute(data, p.Attachments)
	}
	return typ, p.Namespace, id, data
}

func substitute(v any, atts [][]byte) any {
	switch v := v.(type) {
	case map[string]any:
		if v["_placeholder"] == true {
			buf := atts[int(v["num"].(float64))]
			nums := make([]any, len(buf))
			for i, b := range buf {
				nums[i] = float64(b)
			}
			return map[string]any{"type": "Buffer", "data": nums}
		}
		for k, e := range v {
			v[k] = substitute(e, atts)
		}
	case []any:
		for i, e := range v {
			v[i] = substitute(e, atts)
		}
	}
	return v
}

// TestReferenceParserAgreement decodes every table case with both this codec
// and socket.io-parser and requires the same packets or a failure on both
// sides, except where a case documents why this codec is stricter.
func TestReferenceParserAgreement(t *testing.T) {
	type refCase struct {
		name     string
		msgs     []refMessage
		max      int
		diverges string
	}
	seq := func(wire string, atts [][]byte) []refMessage {
		msgs := []refMessage{textMsg(wire)}
		for _, a := range atts {
			msgs = append(msgs, binMsg(a))
		}
		return msgs
	}
	var cases []refCase
	for _, c := range specPackets {
		cases = append(cases, refCase{"spec " + c.name, seq(c.wire, c.atts), 0, ""})
	}
	for _, c := range decodeErrorCases {
		cases = append(cases, refCase{"error " + c.name, seq(c.wire, c.atts), 0, c.refDiverges})
	}
	for _, c := range reconstructionCases {
		if c.max == 0 { // the reference script runs with its default limit
			cases = append(cases, refCase{"binary " + c.name, seq(c.wire, c.atts), 0, c.refDiverges})
		}
	}
	for _, c := range wireVariantCases {
		cases = append(cases, refCase{"variant " + c.wire, seq(c.wire, nil), 0, c.refDiverges})
	}
	cases = append(cases,
		refCase{"binary while idle", []refMessage{binMsg([]byte{1})}, 0, ""},
		refCase{"text while pending", []refMessage{textMsg(`51-["a",{"_placeholder":true,"num":0}]`), textMsg(`2["b"]`)}, 0, ""},
		refCase{"several packets", []refMessage{textMsg(`0`), textMsg(`2["a"]`), textMsg(`51-1["b",{"_placeholder":true,"num":0}]`), binMsg([]byte{7}), textMsg(`31[]`)}, 0, ""},
	)

	seqs := make([][]refMessage, len(cases))
	for i, c := range cases {
		seqs[i] = c.msgs
	}
	results := runReferenceDecoder(t, seqs)

	for i, c := range cases {
		if c.diverges != "" {
			continue
		}
		ref := results[i]
		var d socketio.Decoder
		var ours []*socketio.Packet
		var ourErr error
		for _, m := range c.msgs {
			var p *socketio.Packet
			if m.Bin != nil {
				b, _ := hex.DecodeString(*m.Bin)
				p, ourErr = d.Decode(b, true)
			} else {
				p, ourErr = d.Decode([]byte(*m.Text), false)
			}
			if ourErr != nil {
				break
			}
			if p != nil {
				ours = append(ours, p)
			}
		}
		if (ourErr != nil) != (ref.Error != "") {
			t.Errorf("%s: our error %v, socket.io-parser error %q", c.name, ourErr, ref.Error)
			continue
		}
		if len(ours) != len(ref.Packets) {
			t.Errorf("%s: we emitted %d packets, socket.io-parser %d", c.name, len(ours), len(ref.Packets))
			continue
		}
		for k, p := range ours {
			rp := ref.Packets[k]
			typ, nsp, id, data := comparable(t, p)
			var refData any
			if rp.Data != nil {
				if err := json.Unmarshal([]byte(*rp.Data), &refData); err != nil {
					t.Fatalf("%s: reference data %q: %v", c.name, *rp.Data, err)
				}
			}
			if typ != rp.Type || nsp != rp.Nsp || !reflect.DeepEqual(id, rp.ID) || !reflect.DeepEqual(data, refData) {
				t.Errorf("%s: packet %d: ours %s, socket.io-parser %+v data=%v", c.name, k, packetString(p), rp, refData)
			}
		}
	}
}
