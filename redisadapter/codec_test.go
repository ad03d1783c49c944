package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tradewithai/realtime"
	"github.com/vmihailenco/msgpack/v5"
)

// The hex fixtures below were produced by notepack.io 3.0.1, the
// MessagePack codec of @socket.io/redis-adapter and redis-emitter, e.g.
// require("notepack.io").encode(value).toString("hex").

// nodeBroadcast is
//
//	["abc123", {type: 2, data: ["ticker:update", {symbol: "BTC/USD",
//	 price: 43250.5, volume: 1200, ok: true, tags: ["a", null]}], nsp: "/"},
//	 {rooms: ["market-data", "market-data:BTC/USD"], except: ["user:x"], flags: {}}]
const nodeBroadcast = "93a661626331323383a47479706502a46461746192ad7469636b65723a75706461746585a673796d626f6ca74254432f555344a57072696365cb40e51e5000000000a6766f6c756d65cd04b0a26f6bc3a47461677392a161c0a36e7370a12f83a5726f6f6d7392ab6d61726b65742d64617461b36d61726b65742d646174613a4254432f555344a665786365707491a6757365723a78a5666c61677380"

// nodeBinaryBroadcast is, as the emitter writes it,
//
//	["emitter", {type: 2, data: ["bin", Buffer.from([1, 2, 3]),
//	 {nested: Buffer.from([255])}], nsp: "/"}, {rooms: [], flags: {}, except: []}]
const nodeBinaryBroadcast = "93a7656d697474657283a47479706502a46461746193a362696ec40301020381a66e6573746564c401ffa36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490"

// nodeAckBroadcast is the request a Node server publishes for
// io.timeout(100).emit("x", callback).
const nodeAckBroadcast = "85a3756964a56e6f646531a9726571756573744964a27231a47479706507a67061636b657483a47479706502a46461746191a178a36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f757464"

func unhex(t testing.TB, s string) string {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsTick is a ticker update with the field names JavaScript code uses.
type jsTick struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Volume int     `json:"volume"`
	OK     bool    `json:"ok"`
	Tags   []any   `json:"tags"`
	Note   string  `json:"note,omitempty"`
}

func TestEncodeBroadcastMatchesNode(t *testing.T) {
	data := jsTick{Symbol: "BTC/USD", Price: 43250.5, Volume: 1200, OK: true, Tags: []any{"a", nil}}
	sel := realtime.Selector{Rooms: []string{"market-data", "market-data:BTC/USD"}, Except: []string{"user:x"}}
	got, err := encodeBroadcast("abc123", sel, "ticker:update", []any{data})
	if err != nil {
		t.Fatal(err)
	}
	if want := nodeBroadcast; hex.EncodeToString(got) != want {
		t.Errorf("encodeBroadcast =\n%x\nnotepack.io writes\n%s", got, want)
	}
}

func TestEncodeArg(t *testing.T) {
	tests := []struct {
		name string
		arg  any
		want string // notepack.io's encoding of the JavaScript value
	}{
		{"nil", nil, "c0"},
		{"string", "é", "a2c3a9"},
		{"bool", true, "c3"},
		{"small int", 5, "05"},
		{"negative int", -300, "d1fed4"},
		{"uint32 range", 70000, "ce00011170"},
		{"int64 range", int64(1) << 40, "cf0000010000000000"},
		{"integral float", 3.0, "03"},
		{"float", 1e-7, "cb3e7ad7f29abcaf48"},
		{"negative zero", math.Copysign(0, -1), "00"},
		{"bytes", []byte{1, 2, 3}, "c403010203"},
		{"raw JSON", json.RawMessage(` {"a" : [1, 2.5, "x\"y"], "b": null} `), "82a1619301cb4004000000000000a3782279a162c0"},
		{"nil raw JSON", json.RawMessage(nil), "c0"},
		{"struct field order", struct {
			Z int    `json:"z"`
			A string `json:"a"`
		}{1, "b"}, "82a17a01a161a162"},
		{"escaped string", "<a&b>", "a53c6126623e"},
		{"map", map[string]int{"k": 1}, "81a16b01"},
		{"nested bytes become base64", struct {
			B []byte `json:"b"`
		}{[]byte{255}}, "81a162a42f773d3d"},
		{"empty containers", json.RawMessage(`[{},[]]`), "928090"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := msgpack.NewEncoder(&buf)
			if err := encodeArg(enc, tc.arg); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(buf.Bytes()); got != tc.want {
				t.Errorf("encodeArg(%#v) = %s, want %s", tc.arg, got, tc.want)
			}
		})
	}
}

func TestEncodeArgRejects(t *testing.T) {
	for _, arg := range []any{
		func() {},
		json.RawMessage(`{"a":`),
		json.RawMessage(`[1] 2`),
		json.RawMessage(`{"a" 1}`),
		json.RawMessage(`tru`),
		json.RawMessage(`"open`),
		json.RawMessage(`[1,}`),
		json.RawMessage(strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)),
	} {
		var buf bytes.Buffer
		if err := encodeArg(msgpack.NewEncoder(&buf), arg); err == nil {
			t.Errorf("encodeArg(%#v) succeeded, want an error", arg)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string // MessagePack, from notepack.io unless noted
		want string // what the gateway sends; JSON.stringify's equivalent
	}{
		{"numbers and specials",
			// [NaN, Infinity, -0, 1e-7, -5, 300, -300, 70000, 2**40, "é\u2028\n", undefined]
			"9bcb7ff8000000000000cb7ff000000000000000cb3e7ad7f29abcaf48fbcd012cd1fed4ce00011170cf0000010000000000a6c3a9e280a80ac0",
			`[null,null,0,1e-7,-5,300,-300,70000,1099511627776,"é\u2028\n",null]`},
		{"date with milliseconds", "d7ff1d5353006b07557b", `"2026-11-25T21:39:07.123Z"`},
		{"date in seconds", "d6ff6b07557b", `"2026-11-25T21:39:07.000Z"`},
		{"date 96-bit", "c70cff" + "00000000" + "000000006b07557b", `"2026-11-25T21:39:07.000Z"`},
		{"other extension", "d40105", `null`},
		{"nested buffer", "81a162c401ff", `{"b":{"type":"Buffer","data":[255]}}`},
		{"float32 (not from notepack)", "ca3fc00000", `1.5`},
		{"large float", "cb44b52d02c7e14af6", `1e+23`},
		{"numeric map key (not from notepack)", "810102", `{"1":2}`},
		{"escapes", "a6223c5c0a011f", `"\"<\\\n\u0001\u001f"`},
		{"invalid UTF-8 (not from notepack)", "a2ff61", `"\ufffda"`},
		{"int64 min", "d38000000000000000", `-9223372036854775808`},
		{"uint64 max", "cfffffffffffffffff", `18446744073709551615`},
		{"map16", "de0001a161c0", `{"a":null}`},
		{"array16 of bools", "dc0002c2c3", `[false,true]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newMsgReader()
			r.reset(unhex(t, tc.in))
			got, err := r.appendJSON(nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("appendJSON = %s, want %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("appendJSON wrote invalid JSON %s", got)
			}
		})
	}
}

func TestAppendJSONRejects(t *testing.T) {
	tests := map[string]string{
		"empty":              "",
		"truncated string":   "a5616263",
		"truncated array":    "930102",
		"unknown code":       "c1",
		"huge bin":           "c6ffffffff00",
		"huge array":         "ddffffffff",
		"huge map":           "dfffffffff",
		"huge ext":           "c9ffffffff01",
		"bool map key":       "81c3c0",
		"truncated float":    "cb3ff0",
		"deep nesting":       strings.Repeat("91", maxDepth+2) + "c0",
		"truncated map pair": "81a161",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			r := newMsgReader()
			r.reset(unhex(t, in))
			if got, err := r.appendJSON(nil, 0); err == nil {
				t.Errorf("appendJSON succeeded with %s, want an error", got)
			}
		})
	}
}

func TestDecodeBroadcast(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		uid     string
		sel     realtime.Selector
		event   string
		args    []any
		ignored bool
	}{
		{
			name:  "node server",
			msg:   unhex(t, nodeBroadcast),
			uid:   "abc123",
			sel:   realtime.Selector{Rooms: []string{"market-data", "market-data:BTC/USD"}, Except: []string{"user:x"}},
			event: "ticker:update",
			args:  []any{json.RawMessage(`{"symbol":"BTC/USD","price":43250.5,"volume":1200,"ok":true,"tags":["a",null]}`)},
		},
		{
			name:  "node emitter with binary",
			msg:   unhex(t, nodeBinaryBroadcast),
			uid:   "emitter",
			event: "bin",
			args:  []any{[]byte{1, 2, 3}, json.RawMessage(`{"nested":{"type":"Buffer","data":[255]}}`)},
		},
		{
			name:    "other namespace",
			msg:     mustEncode(t, []any{"u", map[string]any{"type": 2, "data": []any{"e"}, "nsp": "/admin"}, map[string]any{}}),
			uid:     "u",
			ignored: true,
		},
		{
			name:    "not an event",
			msg:     mustEncode(t, []any{"u", map[string]any{"type": 3, "data": []any{"e"}, "nsp": "/"}, map[string]any{}}),
			uid:     "u",
			ignored: true,
		},
		{
			name:  "no nsp, numeric rooms, extra fields",
			msg:   mustEncode(t, []any{"u", map[string]any{"type": 5, "data": []any{"e", 1}, "id": 7}, map[string]any{"rooms": []any{12, "r"}, "except": nil, "flags": map[string]any{"volatile": true}}}),
			uid:   "u",
			sel:   realtime.Selector{Rooms: []string{"12", "r"}},
			event: "e",
			args:  []any{json.RawMessage(`1`)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newMsgReader()
			uid, packet, err := r.header(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if uid != tc.uid {
				t.Errorf("uid = %q, want %q", uid, tc.uid)
			}
			sel, err := r.selector()
			if err != nil {
				t.Fatal(err)
			}
			ev, ok, err := r.packet(packet)
			if err != nil {
				t.Fatal(err)
			}
			if ok == tc.ignored {
				t.Fatalf("packet ok = %v, want %v", ok, !tc.ignored)
			}
			if tc.ignored {
				return
			}
			if !reflect.DeepEqual(sel, tc.sel) {
				t.Errorf("selector = %#v, want %#v", sel, tc.sel)
			}
			if ev.name != tc.event || !reflect.DeepEqual(ev.args, tc.args) {
				t.Errorf("event = %q %s, want %q %s", ev.name, show(ev.args), tc.event, show(tc.args))
			}
		})
	}
}

func show(args []any) string {
	var b strings.Builder
	for _, a := range args {
		switch a := a.(type) {
		case json.RawMessage:
			b.WriteString(string(a) + " ")
		default:
			b.WriteString(hex.EncodeToString(a.([]byte)) + " ")
		}
	}
	return b.String()
}

func mustEncode(t testing.TB, v any) string {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBroadcastRoundTrip(t *testing.T) {
	sel := realtime.Selector{Rooms: []string{"a"}, Except: []string{"b", "c"}}
	args := []any{map[string]any{"k": []int{1, 2}}, []byte{9}, "s", nil}
	msg, err := encodeBroadcast("me", sel, "ev", args)
	if err != nil {
		t.Fatal(err)
	}
	r := newMsgReader()
	uid, packet, err := r.header(string(msg))
	if err != nil || uid != "me" {
		t.Fatalf("header = %q, %v", uid, err)
	}
	got, err := r.selector()
	if err != nil || !reflect.DeepEqual(got, sel) {
		t.Fatalf("selector = %#v, %v", got, err)
	}
	ev, ok, err := r.packet(packet)
	if err != nil || !ok {
		t.Fatalf("packet: ok=%v err=%v", ok, err)
	}
	want := []any{json.RawMessage(`{"k":[1,2]}`), []byte{9}, json.RawMessage(`"s"`), json.RawMessage(`null`)}
	if ev.name != "ev" || !reflect.DeepEqual(ev.args, want) {
		t.Errorf("event = %q %s, want ev %s", ev.name, show(ev.args), show(want))
	}
}

func TestDecodeBroadcastRejects(t *testing.T) {
	tests := map[string]any{
		"not an array":     map[string]any{},
		"too short":        []any{"u", map[string]any{}},
		"uid not a string": []any{1, map[string]any{}, map[string]any{}},
		"bad opts":         []any{"u", map[string]any{}, []any{}},
		"bad rooms":        []any{"u", map[string]any{}, map[string]any{"rooms": []any{true}}},
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			r := newMsgReader()
			if _, _, err := r.header(mustEncode(t, v)); err != nil {
				return
			}
			if _, err := r.selector(); err == nil {
				t.Error("decoded, want an error")
			}
		})
	}
	packets := map[string]any{
		"no data":       map[string]any{"type": 2, "nsp": "/"},
		"empty data":    map[string]any{"type": 2, "data": []any{}},
		"numeric event": map[string]any{"type": 2, "data": []any{1}},
		"bad type":      map[string]any{"type": "2", "data": []any{"e"}},
		"not a map":     []any{2},
	}
	for name, p := range packets {
		t.Run(name, func(t *testing.T) {
			r := newMsgReader()
			if _, ok, err := r.packet(mustEncode(t, p)); err == nil && ok {
				t.Error("decoded an event, want an error")
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	typ := func(n int) *int { return &n }
	tests := []struct {
		name string
		msg  string
		want inRequest
	}{
		{"node socketsJoin", `{"uid":"n1","type":2,"opts":{"rooms":["a"],"except":["b"]},"rooms":["c",5]}`,
			inRequest{UID: "n1", Type: typ(reqRemoteJoin), Rooms: roomList{"c", "5"}, Opts: &requestOpts{Rooms: roomList{"a"}, Except: roomList{"b"}}}},
		{"emitter disconnectSockets", `{"type":4,"opts":{"rooms":[],"except":[]},"close":true}`,
			inRequest{Type: typ(reqRemoteDisconnect), Opts: &requestOpts{Rooms: roomList{}, Except: roomList{}}}},
		{"fetchSockets", `{"uid":"n1","requestId":"r9","type":5,"opts":{"rooms":["x"],"except":[]}}`,
			inRequest{UID: "n1", RequestID: "r9", Type: typ(reqRemoteFetch), Opts: &requestOpts{Rooms: roomList{"x"}, Except: roomList{}}}},
		{"broadcast with ack", unhex(t, nodeAckBroadcast),
			inRequest{UID: "node1", RequestID: "r1", Type: typ(reqBroadcast)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := newMsgReader().decodeRequest(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("decodeRequest = %+v, want %+v", *got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "{", `{"uid":"x"}`, `{"type":2,"rooms":[{}]}`, "\x81\xa4type\xa1x", "\x80"} {
		if _, err := newMsgReader().decodeRequest(bad); err == nil {
			t.Errorf("decodeRequest(%q) succeeded, want an error", bad)
		}
	}
}

func TestEncodeRequests(t *testing.T) {
	sel := realtime.Selector{Rooms: []string{"a"}}
	tests := []struct {
		typ   int
		rooms []string
		want  string
	}{
		{reqRemoteJoin, []string{"x"}, `{"uid":"me","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["x"]}`},
		{reqRemoteLeave, []string{"x", "y"}, `{"uid":"me","type":3,"opts":{"rooms":["a"],"except":[]},"rooms":["x","y"]}`},
		{reqRemoteDisconnect, nil, `{"uid":"me","type":4,"opts":{"rooms":["a"],"except":[]},"close":false}`},
	}
	for _, tc := range tests {
		got, err := encodeSelectorRequest("me", tc.typ, sel, tc.rooms)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("request type %d = %s, want %s", tc.typ, got, tc.want)
		}
	}
}

func TestResponseID(t *testing.T) {
	tests := []struct {
		msg  string
		id   string
		want bool
	}{
		{`{"requestId":"abc","sockets":["x"]}`, "abc", true},
		{`{"sockets":[],"requestId":"late"}`, "late", true},
		{`{"requestId":"a\"b","sockets":[]}`, `a"b`, true},
		{`{"type":8,"requestId":"r","clientCount":0}`, "r", true},
		{`{"requestId":`, "", false},
		{"\x83", "", false},
		{"", "", false},
		{`{}`, "", false},
	}
	for _, tc := range tests {
		id, ok := responseID(tc.msg)
		if id != tc.id || ok != tc.want {
			t.Errorf("responseID(%q) = %q, %v; want %q, %v", tc.msg, id, ok, tc.id, tc.want)
		}
	}
}

func TestChannels(t *testing.T) {
	c := newChannels("socket.io")
	if c.broadcast != "socket.io#/#" || c.request != "socket.io-request#/#" || c.response != "socket.io-response#/#" {
		t.Errorf("channels = %+v", c)
	}
	for sel, want := range map[*realtime.Selector]string{
		{}:                       "socket.io#/#",
		{Rooms: []string{"r#1"}}: "socket.io#/#r#1#",
		{Rooms: []string{"a"}, Except: []string{"b"}}: "socket.io#/#a#",
		{Rooms: []string{"a", "b"}}:                   "socket.io#/#",
	} {
		if got := c.broadcastChannel(*sel); got != want {
			t.Errorf("broadcastChannel(%+v) = %q, want %q", *sel, got, want)
		}
	}
	if got := c.specificResponse("u1"); got != "socket.io-response#/#u1#" {
		t.Errorf("specificResponse = %q", got)
	}
}

func TestEncodeJSONErrorsAreTyped(t *testing.T) {
	var buf bytes.Buffer
	err := encodeJSON(msgpack.NewEncoder(&buf), []byte(`{`))
	if !errors.Is(err, errBadJSON) {
		t.Errorf("err = %v, want errBadJSON", err)
	}
}
