package socketio_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tradewithai/realtime/internal/socketio"
)

// A FuzzDecode input is a sequence of messages separated by 0x1e (the
// Engine.IO polling separator). The first byte of each message says what it
// is: 'b' a binary message, anything else a text message; the rest is the
// payload.
const (
	fuzzSep    = "\x1e"
	fuzzBinary = 'b'
)

func fuzzSequence(wire string, atts [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("t" + wire)
	for _, a := range atts {
		b.WriteString(fuzzSep + "b")
		b.Write(a)
	}
	return b.Bytes()
}

func FuzzDecode(f *testing.F) {
	for _, c := range specPackets {
		f.Add(fuzzSequence(c.wire, c.atts))
	}
	for _, c := range decodeErrorCases {
		f.Add(fuzzSequence(c.wire, c.atts))
	}
	for _, c := range reconstructionCases {
		f.Add(fuzzSequence(c.wire, c.atts))
	}
	for _, c := range wireVariantCases {
		f.Add(fuzzSequence(c.wire, nil))
	}
	f.Add([]byte("t2[\"a\"]\x1ebx\x1et51-[\"a\",{\"_placeholder\":true,\"num\":0}]\x1et0"))

	f.Fuzz(func(t *testing.T, in []byte) {
		var d socketio.Decoder
		for _, m := range bytes.Split(in, []byte(fuzzSep)) {
			binary := len(m) > 0 && m[0] == fuzzBinary
			if len(m) > 0 {
				m = m[1:]
			}
			p, err := d.Decode(m, binary)
			if err != nil {
				if p != nil {
					t.Fatalf("Decode returned a packet with error %v", err)
				}
				if d.Pending() {
					t.Fatalf("decoder pending after error %v", err)
				}
				continue
			}
			if p == nil {
				if !d.Pending() {
					t.Fatal("Decode returned neither a packet nor an error while not pending")
				}
				continue
			}
			checkDecoded(t, p)
		}
	})
}

// checkDecoded asserts what every decoded packet guarantees and that it
// survives AppendPacket and a second decode unchanged.
func checkDecoded(t *testing.T, p *socketio.Packet) {
	t.Helper()
	if p.Type > socketio.BinaryAck {
		t.Fatalf("type %d", p.Type)
	}
	if !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ",") {
		t.Fatalf("namespace %q", p.Namespace)
	}
	if p.HasID && p.ID > 1<<53-1 {
		t.Fatalf("ack id %d above 2^53-1", p.ID)
	}
	if !p.HasID && p.ID != 0 {
		t.Fatalf("ack id %d without HasID", p.ID)
	}
	if p.Data == nil {
		if p.Type != socketio.Connect && p.Type != socketio.Disconnect {
			t.Fatalf("%v without payload", p.Type)
		}
	} else if !json.Valid(p.Data) {
		t.Fatalf("invalid JSON payload %q", p.Data)
	}
	binary := p.Type == socketio.BinaryEvent || p.Type == socketio.BinaryAck
	if !binary && p.Attachments != nil {
		t.Fatalf("%v with attachments", p.Type)
	}
	switch p.Type {
	case socketio.Event, socketio.BinaryEvent, socketio.Ack, socketio.BinaryAck:
		elems, err := socketio.SplitArray(p.Data)
		if err != nil {
			t.Fatalf("SplitArray(%q): %v", p.Data, err)
		}
		if binary {
			for _, e := range elems {
				if k, ok := socketio.PlaceholderNum(e); ok && k >= len(p.Attachments) {
					t.Fatalf("placeholder %d with %d attachments accepted", k, len(p.Attachments))
				}
			}
		}
		if p.Type == socketio.Event || p.Type == socketio.BinaryEvent {
			name, _, err := socketio.ParseEvent(p.Data)
			if err != nil && elems[0][0] == '"' {
				t.Fatalf("ParseEvent(%q): %v", p.Data, err)
			}
			switch name {
			case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
				t.Fatalf("reserved event %q accepted", name)
			}
		}
	}

	wire := socketio.AppendPacket(nil, p)
	var d socketio.Decoder
	q, err := d.Decode(wire, false)
	for _, a := range p.Attachments {
		if err != nil || q != nil {
			break
		}
		q, err = d.Decode(a, true)
	}
	if err != nil || !packetsEqual(p, q) {
		t.Fatalf("re-decoding %q = %s, %v; want %s", wire, packetString(q), err, packetString(p))
	}
}

func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{
		`[]`, ` [ ] `, `["foo"]`, `["hey","Jude"]`, `["baz",{"_placeholder":true,"num":0}]`,
		`["subscribe",{"channel":"market-data","symbols":["BTC/USD"]}]`,
		`[1,-2.5e-3,true,false,null,{"a":[{}]},[[]],"\"\\\/\b\f\n\r\t\u00e9"]`,
		`[{"num":1e0,"_placeholder":true},{"\u005fplaceholder":true,"num":-0}]`,
		`[1,]`, `{"a":1}`, `"x"`, `[`, `]`, ``, `[1 2]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		elems, err := socketio.SplitArray(data)
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		isArray := json.Valid(data) && len(trimmed) > 0 && trimmed[0] == '['
		if err != nil {
			if isArray {
				t.Fatalf("SplitArray(%q) rejected a JSON array: %v", data, err)
			}
			return
		}
		if !isArray {
			t.Fatalf("SplitArray(%q) accepted something that is not a JSON array", data)
		}
		var want []json.RawMessage
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if len(elems) != len(want) {
			t.Fatalf("SplitArray(%q) = %d elements, encoding/json %d", data, len(elems), len(want))
		}
		for i := range elems {
			if !bytes.Equal(elems[i], want[i]) {
				t.Fatalf("element %d = %q, encoding/json %q", i, elems[i], want[i])
			}
			checkPlaceholderNum(t, elems[i])
		}

		joined := append([]byte{'['}, bytes.Join(rawToBytes(elems), []byte{','})...)
		joined = append(joined, ']')
		if !json.Valid(joined) {
			t.Fatalf("re-joined %q is not valid JSON", joined)
		}
		again, err := socketio.SplitArray(joined)
		if err != nil || len(again) != len(elems) {
			t.Fatalf("SplitArray(%q) = %q, %v; want %q", joined, again, err, elems)
		}
		for i := range again {
			if !bytes.Equal(again[i], elems[i]) {
				t.Fatalf("re-split element %d = %q, want %q", i, again[i], elems[i])
			}
		}
	})
}

func rawToBytes(elems []json.RawMessage) [][]byte {
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out
}

// checkPlaceholderNum compares PlaceholderNum with the same rule applied to
// encoding/json's reading of the value.
func checkPlaceholderNum(t *testing.T, raw []byte) {
	t.Helper()
	got, ok := socketio.PlaceholderNum(raw)
	want, wantOK := 0, false
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if raw[0] == '{' && dec.Decode(&m) == nil && m["_placeholder"] == true {
		if n, isNum := m["num"].(json.Number); isNum {
			f, err := strconv.ParseFloat(string(n), 64)
			if err == nil && f == math.Trunc(f) && f >= 0 && f <= 1<<53-1 {
				want, wantOK = int(f), true
			}
		}
	}
	if got != want || ok != wantOK {
		t.Fatalf("PlaceholderNum(%q) = %d, %v; want %d, %v", raw, got, ok, want, wantOK)
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`["foo"]`, `["hey","Jude"]`, `["subscribe",{"channel":"market-data"}]`,
		`["conn\u0065ct",1]`, `[""]`, `[1,"a"]`, `[]`, `[null]`, `{"a":1}`, `["a"`,
		`["baz",{"_placeholder":true,"num":0}]`, "[\"\\ud83d\\ude00\",\"\\ud800\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		name, args, err := socketio.ParseEvent(data)
		var elems []json.RawMessage
		isArray := json.Valid(data) && json.Unmarshal(data, &elems) == nil && bytes.TrimLeft(data, " \t\r\n")[0] == '['
		if err != nil {
			if isArray && len(elems) > 0 && elems[0][0] == '"' {
				t.Fatalf("ParseEvent(%q) rejected an array starting with a string: %v", data, err)
			}
			return
		}
		if !isArray || len(elems) == 0 {
			t.Fatalf("ParseEvent(%q) accepted a non-event", data)
		}
		var wantName string
		if err := json.Unmarshal(elems[0], &wantName); err != nil || name != wantName {
			t.Fatalf("ParseEvent(%q) name = %q, encoding/json %q (%v)", data, name, wantName, err)
		}
		if len(args) != len(elems)-1 {
			t.Fatalf("ParseEvent(%q) = %d args, want %d", data, len(args), len(elems)-1)
		}
		for i := range args {
			if !bytes.Equal(args[i], elems[i+1]) {
				t.Fatalf("arg %d = %q, want %q", i, args[i], elems[i+1])
			}
		}
	})
}

// FuzzAppendEvent checks that whatever a handler emits decodes back to the
// same values, including bad UTF-8 in strings and arbitrary raw JSON.
func FuzzAppendEvent(f *testing.F) {
	f.Add("quote", "BTC/USD", []byte(`{"bid":1}`), "/", uint64(0), false)
	f.Add("a\"b\\\n\x00", "\xff\xfe<>&", []byte(`not json`), "/admin", uint64(12), true)
	f.Add("", "", []byte(nil), "", uint64(1<<53-1), true)
	f.Fuzz(func(t *testing.T, name, arg string, raw []byte, nsp string, id uint64, hasID bool) {
		if !strings.HasPrefix(nsp, "/") || strings.Contains(nsp, ",") {
			nsp = "/"
		}
		id &= 1<<53 - 1
		args := []any{arg, json.RawMessage(raw), raw}
		wire, atts, err := socketio.AppendEvent([]byte("4"), nsp, id, hasID, name, args)
		rawOK := raw == nil || (json.Valid(raw) && utf8.Valid(raw))
		if err != nil {
			if rawOK {
				t.Fatalf("AppendEvent rejected valid raw JSON %q: %v", raw, err)
			}
			if string(wire) != "4" {
				t.Fatalf("dst grew on error: %q", wire)
			}
			return
		}
		if !rawOK {
			t.Fatalf("AppendEvent accepted invalid raw JSON %q", raw)
		}
		var d socketio.Decoder
		p, err := d.Decode(wire[1:], false)
		for _, a := range atts {
			if err != nil || p != nil {
				break
			}
			p, err = d.Decode(a, true)
		}
		if err != nil || p == nil {
			reserved := false
			switch strings.ToValidUTF8(name, "\uFFFD") {
			case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
				reserved = true
			}
			if reserved {
				return // a client would not accept that event either
			}
			t.Fatalf("Decode(%q): %v", wire, err)
		}
		if p.Namespace != nsp || p.HasID != hasID || (hasID && p.ID != id) || len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0], raw) {
			t.Fatalf("%q decoded as %s", wire, packetString(p))
		}
		gotName, gotArgs, err := socketio.ParseEvent(p.Data)
		if err != nil || len(gotArgs) != 3 {
			t.Fatalf("ParseEvent(%q) = %q, %q, %v", p.Data, gotName, gotArgs, err)
		}
		var wantName, wantArg, gotArg string
		mustRoundTrip(t, name, &wantName)
		mustRoundTrip(t, arg, &wantArg)
		if err := json.Unmarshal(gotArgs[0], &gotArg); err != nil || gotName != wantName || gotArg != wantArg {
			t.Fatalf("name, arg = %q, %q; want %q, %q", gotName, gotArg, wantName, wantArg)
		}
		if raw != nil && !bytes.Equal(gotArgs[1], bytes.Trim(raw, " \t\r\n")) {
			t.Fatalf("raw arg = %q, want %q", gotArgs[1], raw)
		}
		if k, ok := socketio.PlaceholderNum(gotArgs[2]); !ok || k != 0 {
			t.Fatalf("binary arg = %q", gotArgs[2])
		}
	})
}

// mustRoundTrip stores in dst what encoding/json makes of s, which is what
// the receiving side must see.
func mustRoundTrip(t *testing.T, s string, dst *string) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatal(err)
	}
}
