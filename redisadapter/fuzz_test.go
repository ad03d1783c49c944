package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func FuzzDecodeBroadcast(f *testing.F) {
	for _, h := range []string{nodeBroadcast, nodeBinaryBroadcast, nodeAckBroadcast} {
		b, _ := hex.DecodeString(h)
		f.Add(string(b))
	}
	f.Add("\x93\xa1u\x80\x80")
	f.Fuzz(func(t *testing.T, msg string) {
		r := newMsgReader()
		_, packet, err := r.header(msg)
		if err != nil {
			return
		}
		if _, err := r.selector(); err != nil {
			return
		}
		ev, ok, err := r.packet(packet)
		if err != nil || !ok {
			return
		}
		for _, a := range ev.args {
			if raw, isJSON := a.(json.RawMessage); isJSON && !json.Valid(raw) {
				t.Fatalf("argument %q is not valid JSON", raw)
			}
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	b, _ := hex.DecodeString(nodeAckBroadcast)
	f.Add(string(b))
	f.Add(`{"uid":"n1","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["c"]}`)
	f.Fuzz(func(t *testing.T, msg string) {
		req, err := newMsgReader().decodeRequest(msg)
		if err == nil && req.Type == nil {
			t.Fatal("request without a type accepted")
		}
	})
}

// FuzzJSONRoundTrip checks that any JSON document survives the trip to
// MessagePack and back with the same meaning.
func FuzzJSONRoundTrip(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\"y",true,null]}`, `"\u00e9\ud83d\ude00"`, `-0`, `1e-7`, `[{},[]]`, `18446744073709551615`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var want any
		if json.Unmarshal(doc, &want) != nil {
			return
		}
		var buf bytes.Buffer
		if err := encodeJSON(msgpack.NewEncoder(&buf), doc); err != nil {
			t.Fatalf("encodeJSON(%s): %v", doc, err)
		}
		r := newMsgReader()
		r.reset(buf.String())
		back, err := r.appendJSON(nil, 0)
		if err != nil {
			t.Fatalf("appendJSON of %s: %v", doc, err)
		}
		var got any
		if err := json.Unmarshal(back, &got); err != nil {
			t.Fatalf("%s came back as invalid JSON %s: %v", doc, back, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s came back as %s", doc, back)
		}
	})
}
