package socketio

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// SplitArray returns the top-level elements of a JSON array without decoding
// them, whitespace trimmed. The elements alias data. An empty array yields a
// nil slice. Anything but a valid JSON array is an error wrapping
// ErrInvalidPacket.
func SplitArray(data []byte) ([]json.RawMessage, error) {
	if !json.Valid(data) {
		return nil, errNotArray
	}
	i := skipWS(data, 0)
	if at(data, i) != '[' {
		return nil, errNotArray
	}
	i = skipWS(data, i+1)
	if at(data, i) == ']' {
		return nil, nil
	}
	// Collect into a stack buffer first so the result is a single
	// allocation of the exact size for the usual short argument lists.
	var buf [8]json.RawMessage
	elems := buf[:0]
	for {
		end := skipValue(data, i)
		if end < 0 {
			return nil, errNotArray
		}
		// A capped slice keeps a caller's append from overwriting the
		// next element in data.
		elems = append(elems, json.RawMessage(data[i:end:end]))
		i = skipWS(data, end)
		if at(data, i) != ',' {
			break
		}
		i = skipWS(data, i+1)
	}
	out := make([]json.RawMessage, len(elems))
	copy(out, elems)
	return out, nil
}

// ParseEvent splits EVENT data into the event name (first element must be a
// JSON string; it is unescaped as encoding/json does, with invalid UTF-8
// turned into U+FFFD) and the remaining args, which alias data.
//
// A numeric first element is a valid EVENT on the wire (socket.io-parser
// accepts it) but has no name, so it is reported as an error here.
func ParseEvent(data []byte) (name string, args []json.RawMessage, err error) {
	elems, err := SplitArray(data)
	if err != nil {
		return "", nil, err
	}
	if len(elems) == 0 {
		return "", nil, errNoEventName
	}
	name, ok := unquote(elems[0])
	if !ok {
		return "", nil, errNoEventName
	}
	if len(elems) == 1 {
		return name, nil, nil
	}
	return name, elems[1:], nil
}

// PlaceholderNum reports whether raw is a binary placeholder object
// {"_placeholder":true,"num":N} (any key order, whitespace allowed) and
// returns N.
//
// As in socket.io-parser, an object is a placeholder when its "_placeholder"
// member is true; other members are ignored and the last of duplicate keys
// wins. N must be a non-negative integer (1.0 and 1e0 count as 1). Decoder
// has already rejected binary packets whose placeholders lack a valid N, so
// for their elements the answer is exact.
func PlaceholderNum(raw []byte) (int, bool) {
	i := skipWS(raw, 0)
	if at(raw, i) != '{' || !json.Valid(raw) {
		return 0, false
	}
	i = skipWS(raw, i+1)
	if at(raw, i) == '}' {
		return 0, false
	}
	isPlaceholder := false
	var num []byte
	for {
		keyEnd, escaped := skipString(raw, i)
		if keyEnd < 0 {
			return 0, false
		}
		key := memberKey(raw[i:keyEnd], escaped)
		i = skipWS(raw, skipWS(raw, keyEnd)+1) // past ':'
		end := skipValue(raw, i)
		if end < 0 {
			return 0, false
		}
		switch key {
		case keyPlaceholder:
			isPlaceholder = string(raw[i:end]) == "true"
		case keyNum:
			num = raw[i:end]
		}
		i = skipWS(raw, end)
		if at(raw, i) != ',' {
			break
		}
		i = skipWS(raw, i+1)
	}
	if !isPlaceholder {
		return 0, false
	}
	return placeholderIndex(num)
}

// placeholderIndex converts the JSON value of a placeholder's "num" member
// into an attachment index. JavaScript only asks for a number in range; a
// fraction would index nothing there, so it is refused here.
func placeholderIndex(num []byte) (int, bool) {
	if len(num) == 0 || (num[0] != '-' && !isDigit(num[0])) {
		return 0, false
	}
	if len(num) <= 15 {
		k, digits := 0, true
		for _, c := range num {
			if !isDigit(c) {
				digits = false
				break
			}
			k = k*10 + int(c-'0')
		}
		if digits {
			return k, true
		}
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > maxAckID {
		return 0, false
	}
	return int(f), true
}

type keyKind uint8

const (
	keyOther keyKind = iota
	keyPlaceholder
	keyNum
)

// memberKey classifies an object key token (quotes included), decoding
// escapes only when the token has any.
func memberKey(tok []byte, escaped bool) keyKind {
	if escaped {
		s, ok := unquote(tok)
		if !ok {
			return keyOther
		}
		return classifyKey(s)
	}
	if len(tok) < 2 {
		return keyOther
	}
	return classifyKey(string(tok[1 : len(tok)-1]))
}

func classifyKey(key string) keyKind {
	switch key {
	case "_placeholder":
		return keyPlaceholder
	case "num":
		return keyNum
	}
	return keyOther
}

// unquote decodes a JSON string token the way encoding/json does, including
// turning invalid UTF-8 into U+FFFD (what a JavaScript peer would see too).
// Escape-free ASCII or UTF-8 tokens, by far the most common, skip
// encoding/json.
func unquote(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", false
	}
	body := tok[1 : len(tok)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return "", false
	}
	return s, true
}

// The scanners below walk JSON that json.Valid has accepted. They still check
// every bound so that a broken invariant shows up as a failed parse, not a
// panic.

// at returns data[i], or 0 when i is out of range.
func at(data []byte, i int) byte {
	if i < 0 || i >= len(data) {
		return 0
	}
	return data[i]
}

func skipWS(data []byte, i int) int {
	for i >= 0 && i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string token starting at data[i]
// (a quote) and whether the token contains escapes; -1 if unterminated.
func skipString(data []byte, i int) (end int, escaped bool) {
	if at(data, i) != '"' {
		return -1, false
	}
	start := i + 1
	for j := start; j <= len(data); {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1, false
		}
		q := j + k
		backslashes := 0
		for p := q - 1; p >= start && data[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1, escaped || bytes.IndexByte(data[start:q], '\\') >= 0
		}
		escaped = true
		j = q + 1
	}
	return -1, false
}

// skipValue returns the index after the JSON value starting at data[i], or
// -1 if it is cut short.
func skipValue(data []byte, i int) int {
	switch at(data, i) {
	case '"':
		end, _ := skipString(data, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, _ := skipString(data, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case 0:
		return -1
	default: // number or literal: runs to the next delimiter
		for i < len(data) {
			switch data[i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}
