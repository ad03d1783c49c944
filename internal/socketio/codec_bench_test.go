package socketio_test

import (
	"encoding/json"
	"testing"

	"github.com/tradewithai/realtime/internal/socketio"
)

var subscribeMsg = []byte(`2["subscribe",{"channel":"market-data","symbols":["BTC/USD"]}]`)

func BenchmarkDecodeEvent(b *testing.B) {
	var d socketio.Decoder
	b.SetBytes(int64(len(subscribeMsg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(subscribeMsg, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventNamespaceAck(b *testing.B) {
	msg := []byte(`2/trading,1234["order",{"symbol":"BTC/USD","side":"buy","qty":0.5,"price":64000.25}]`)
	var d socketio.Decoder
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(msg, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	header := []byte(`52-["upload",{"name":"a.bin"},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	att := make([]byte, 1024)
	var d socketio.Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(header, false); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Decode(att, true); err != nil {
			b.Fatal(err)
		}
		if p, err := d.Decode(att, true); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

type benchQuote struct {
	Symbol string  `json:"symbol"`
	Bid    float64 `json:"bid"`
	Ask    float64 `json:"ask"`
	TS     int64   `json:"ts"`
}

func BenchmarkAppendEvent(b *testing.B) {
	args := []any{benchQuote{Symbol: "BTC/USD", Bid: 64000.5, Ask: 64001, TS: 1732550000000}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := socketio.AppendEvent(buf[:0], "/", 0, false, "market-data", args)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func BenchmarkAppendEventRaw(b *testing.B) {
	args := []any{json.RawMessage(`{"symbol":"BTC/USD","bid":64000.5,"ask":64001,"ts":1732550000000}`)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := socketio.AppendEvent(buf[:0], "/", 0, false, "market-data", args)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func BenchmarkSplitArray(b *testing.B) {
	data := subscribeMsg[1:]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := socketio.SplitArray(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEvent(b *testing.B) {
	data := subscribeMsg[1:]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := socketio.ParseEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}
