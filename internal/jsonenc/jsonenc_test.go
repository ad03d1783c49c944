package jsonenc

import (
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"
)

// TestMatchesEncodingJSON compares with encoding/json (HTML escaping off,
// since these appenders never escape HTML).
func TestMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "quote\" back\\slash", "\n\r\t\x00\x1f", "é€😀", "\u2028\u2029", "bad\xffutf8", "<html>&"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		want = unescapeHTML(want)
		got := AppendString(nil, s)
		var gs, ws string
		if !utf8.Valid(got) || json.Unmarshal(got, &gs) != nil || json.Unmarshal(want, &ws) != nil || gs != ws {
			t.Errorf("AppendString(%q) = %s, want the same string as %s", s, got, want)
		}
	}
	for _, f := range []float64{0, 1, -1.5, 64000.25, 1e-7, 1e21, 123456789012345678, 1e-6, 0.000001234, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if got := AppendFloat(nil, math.NaN()); string(got) != "null" {
		t.Errorf("AppendFloat(NaN) = %s", got)
	}
}

func unescapeHTML(b []byte) []byte {
	var v any
	_ = json.Unmarshal(b, &v)
	var out []byte
	buf := jsonBuffer{&out}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return out[:len(out)-1]
}

type jsonBuffer struct{ b *[]byte }

func (j jsonBuffer) Write(p []byte) (int, error) { *j.b = append(*j.b, p...); return len(p), nil }
