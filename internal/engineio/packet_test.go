package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestDecodePayload(t *testing.T) {
	text := func(typ byte, data string) packet { return packet{typ: typ, data: []byte(data)} }
	bin := func(data ...byte) packet { return packet{typ: typeMessage, data: data, binary: true} }
	tests := []struct {
		name string
		body string
		want []packet
	}{
		{"one message", "4hello", []packet{text('4', "hello")}},
		{"spec example", "4hello\x1e2\x1e4world", []packet{text('4', "hello"), text('2', ""), text('4', "world")}},
		{"spec binary example", "4hello\x1ebAQIDBA==", []packet{text('4', "hello"), bin(1, 2, 3, 4)}},
		{"empty message", "4", []packet{text('4', "")}},
		{"empty binary", "b", []packet{bin()}},
		{"every type", "0\x1e1\x1e2\x1e3\x1e4\x1e5\x1e6", []packet{
			text('0', ""), text('1', ""), text('2', ""), text('3', ""), text('4', ""), text('5', ""), text('6', ""),
		}},
		{"probe", "2probe", []packet{text('2', "probe")}},
		{"utf-8", "4h\u00e9llo \u20ac", []packet{text('4', "h\u00e9llo \u20ac")}},
		{"json", `42["event",{"a":1}]`, []packet{text('4', `2["event",{"a":1}]`)}},
		{"binary with separator byte", "bHg==", []packet{bin(0x1e)}},
		{"binary", "bAQID", []packet{bin(1, 2, 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collectPayload([]byte(tt.body))
			if err != nil {
				t.Fatalf("decodePayload(%q): %v", tt.body, err)
			}
			if !samePackets(got, tt.want) {
				t.Fatalf("decodePayload(%q) = %s, want %s", tt.body, fmtPackets(got...), fmtPackets(tt.want...))
			}
		})
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"only separator", "\x1e"},
		{"leading separator", "\x1e4a"},
		{"trailing separator", "4a\x1e"},
		{"double separator", "4a\x1e\x1e4b"},
		{"unknown type", "7"},
		{"letter type", "x4"},
		{"bad base64", "b!!"},
		{"truncated base64", "bAQIDB"},
		{"bad base64 after good packet", "4a\x1eb*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := collectPayload([]byte(tt.body)); !errors.Is(err, ErrParse) {
				t.Fatalf("decodePayload(%q) error %v, want ErrParse", tt.body, err)
			}
		})
	}
}

func TestDecodePayloadStopsOnVisitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := decodePayload([]byte("4a\x1e4b\x1e4c"), func(packet) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("decodePayload = %v after %d packets, want the visitor's error after 2", err, n)
	}
}

func TestDecodeTextPacket(t *testing.T) {
	tests := []struct {
		in      string
		base64  bool
		want    packet
		wantErr bool
	}{
		{in: "4hi", want: packet{typ: '4', data: []byte("hi")}},
		{in: "4hi", base64: true, want: packet{typ: '4', data: []byte("hi")}},
		{in: "bAQID", base64: true, want: packet{typ: '4', data: []byte{1, 2, 3}, binary: true}},
		// Over WebSocket binary travels in binary frames; a 'b' text frame
		// is not a packet.
		{in: "bAQID", wantErr: true},
		{in: "", wantErr: true},
		{in: "", base64: true, wantErr: true},
		{in: "8", wantErr: true},
		{in: "/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/base64=%v", tt.in, tt.base64), func(t *testing.T) {
			got, err := decodeTextPacket([]byte(tt.in), tt.base64)
			if tt.wantErr {
				if !errors.Is(err, ErrParse) {
					t.Fatalf("error %v, want ErrParse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !samePackets([]packet{got}, []packet{tt.want}) {
				t.Fatalf("got %s, want %s", fmtPackets(got), fmtPackets(tt.want))
			}
		})
	}
}

func TestAppendPayload(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"none", nil, ""},
		{"one text", []Message{TextMessage([]byte("x"))}, "4x"},
		{"text and binary", []Message{TextMessage([]byte("x")), {Data: []byte{1, 2, 3}, Binary: true}}, "4x\x1ebAQID"},
		{"spec binary example", []Message{TextMessage([]byte("hello")), {Data: []byte{1, 2, 3, 4}, Binary: true}}, "4hello\x1ebAQIDBA=="},
		{"empty binary", []Message{{Binary: true}}, "b"},
		{"control packets", []Message{pingMessage, noopMessage, closeMessage}, "2\x1e6\x1e1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := appendPayload(nil, tt.msgs); string(got) != tt.want {
				t.Fatalf("appendPayload = %q, want %q", got, tt.want)
			}
			if got := appendPayload([]byte("pre"), tt.msgs); string(got) != "pre"+tt.want {
				t.Fatalf("appendPayload after a prefix = %q, want %q", got, "pre"+tt.want)
			}
		})
	}
}

func TestTextMessage(t *testing.T) {
	payload := []byte(`2["tick"]`)
	m := TextMessage(payload)
	if string(m.Data) != `42["tick"]` || m.Binary {
		t.Fatalf("TextMessage = %q (binary %v), want %q", m.Data, m.Binary, `42["tick"]`)
	}
	payload[0] = 'X'
	if string(m.Data) != `42["tick"]` {
		t.Fatalf("TextMessage shares its argument: %q after the caller's change", m.Data)
	}
}

func collectPayload(body []byte) ([]packet, error) {
	var out []packet
	err := decodePayload(body, func(p packet) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

func samePackets(a, b []packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].typ != b[i].typ || a[i].binary != b[i].binary || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}

// fmtPackets makes test failures readable.
func fmtPackets(ps ...packet) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.binary {
			fmt.Fprintf(&b, "binary%v", p.data)
		} else {
			fmt.Fprintf(&b, "%c%q", p.typ, p.data)
		}
	}
	return "[" + b.String() + "]"
}
