package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

// payloadSeeds are the payloads of the protocol's examples and the edges of
// the format.
var payloadSeeds = []string{
	"4hello\x1e2\x1e4world",
	"4hello\x1ebAQIDBA==",
	"4hello",
	"2probe",
	"3probe",
	"5",
	"6",
	"1",
	"4",
	"b",
	"bAQID",
	"bAQIDBA",
	"4h\u00e9llo \u20ac",
	`42["event",{"a":1}]`,
	`451-["bin",{"_placeholder":true,"num":0}]` + "\x1ebAQID",
	"",
	"\x1e",
	"4a\x1e",
	"x",
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pkts, err := collectPayload(body)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		if len(pkts) == 0 {
			t.Fatal("no error and no packet")
		}
		msgs := make([]Message, len(pkts))
		textOnly := true
		for i, p := range pkts {
			if p.binary {
				textOnly = false
				if p.typ != typeMessage {
					t.Fatalf("binary packet of type %q", p.typ)
				}
				msgs[i] = Message{Data: p.data, Binary: true}
				continue
			}
			if bytes.IndexByte(p.data, recordSeparator) >= 0 {
				t.Fatalf("packet %s holds a record separator", fmtPackets(p))
			}
			msgs[i] = Message{Data: append([]byte{p.typ}, p.data...)}
		}
		enc := appendPayload(nil, msgs)
		// Base64 has spellings that decode alike (line breaks, trailing
		// bits); text has one.
		if textOnly && !bytes.Equal(enc, body) {
			t.Fatalf("re-encoded %q as %q", body, enc)
		}
		again, err := collectPayload(enc)
		if err != nil {
			t.Fatalf("re-encoding %q as %q does not decode: %v", body, enc, err)
		}
		if !samePackets(again, pkts) {
			t.Fatalf("%q decodes to %s, its re-encoding %q to %s", body, fmtPackets(pkts...), enc, fmtPackets(again...))
		}
	})
}

func FuzzDecodeTextPacket(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, base64Binary bool) {
		p, err := decodeTextPacket(in, base64Binary)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		if p.binary {
			if !base64Binary || in[0] != 'b' || p.typ != typeMessage {
				t.Fatalf("%q (base64 %v) decoded as binary %s", in, base64Binary, fmtPackets(p))
			}
			enc := append([]byte{'b'}, base64.StdEncoding.EncodeToString(p.data)...)
			back, err := decodeTextPacket(enc, true)
			if err != nil || !back.binary || !bytes.Equal(back.data, p.data) {
				t.Fatalf("%q decodes to %v, its re-encoding %q to %s (%v)", in, p.data, enc, fmtPackets(back), err)
			}
			return
		}
		switch p.typ {
		case typeOpen, typeClose, typePing, typePong, typeMessage, typeUpgrade, typeNoop:
		default:
			t.Fatalf("%q decoded with type %q", in, p.typ)
		}
		if p.typ != in[0] || !bytes.Equal(p.data, in[1:]) {
			t.Fatalf("%q decoded as %s", in, fmtPackets(p))
		}
	})
}
