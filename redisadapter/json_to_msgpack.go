package redisadapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
)

// Go values become MessagePack the way a Node server would see them: a Node
// server's event arguments are what JSON.parse would make of the JSON the
// Go value marshals to. Transcoding that JSON straight into MessagePack
// keeps the struct's field order and allocates no intermediate maps.

// maxDepth bounds the nesting of transcoded values in either direction.
const maxDepth = 512

var errBadJSON = errors.New("redisadapter: invalid JSON")

// encodeJSON writes the JSON document data as MessagePack.
func encodeJSON(enc *msgpack.Encoder, data []byte) error {
	p := jsonReader{data: data, enc: enc}
	p.skipSpace()
	if err := p.value(0); err != nil {
		return err
	}
	p.skipSpace()
	if p.i != len(p.data) {
		return fmt.Errorf("%w: trailing data at offset %d", errBadJSON, p.i)
	}
	return nil
}

// jsonReader walks a JSON document once, writing each value as it goes.
// Maps and arrays need their length up front, so each container is counted
// by a quick scan before its members are written.
type jsonReader struct {
	data []byte
	i    int
	enc  *msgpack.Encoder
}

func (p *jsonReader) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonReader) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errBadJSON, what, p.i)
}

func (p *jsonReader) value(depth int) error {
	if depth > maxDepth {
		return p.fail("nesting too deep")
	}
	if p.i >= len(p.data) {
		return p.fail("unexpected end")
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		return p.enc.EncodeString(s)
	case c == 't':
		return p.literal("true", func() error { return p.enc.EncodeBool(true) })
	case c == 'f':
		return p.literal("false", func() error { return p.enc.EncodeBool(false) })
	case c == 'n':
		return p.literal("null", p.enc.EncodeNil)
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	default:
		return p.fail(fmt.Sprintf("unexpected %q", c))
	}
}

func (p *jsonReader) literal(word string, write func() error) error {
	if len(p.data)-p.i < len(word) || string(p.data[p.i:p.i+len(word)]) != word {
		return p.fail("bad literal")
	}
	p.i += len(word)
	return write()
}

func (p *jsonReader) object(depth int) error {
	n, err := p.count('}')
	if err != nil {
		return err
	}
	if err := p.enc.EncodeMapLen(n); err != nil {
		return err
	}
	p.i++ // '{'
	for k := 0; k < n; k++ {
		if k > 0 {
			if err := p.expect(','); err != nil {
				return err
			}
		}
		p.skipSpace()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return p.fail("want an object key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.enc.EncodeString(key); err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		p.skipSpace()
		if err := p.value(depth + 1); err != nil {
			return err
		}
	}
	return p.expect('}')
}

func (p *jsonReader) array(depth int) error {
	n, err := p.count(']')
	if err != nil {
		return err
	}
	if err := p.enc.EncodeArrayLen(n); err != nil {
		return err
	}
	p.i++ // '['
	for k := 0; k < n; k++ {
		if k > 0 {
			if err := p.expect(','); err != nil {
				return err
			}
		}
		p.skipSpace()
		if err := p.value(depth + 1); err != nil {
			return err
		}
	}
	return p.expect(']')
}

func (p *jsonReader) expect(c byte) error {
	p.skipSpace()
	if p.i >= len(p.data) || p.data[p.i] != c {
		return p.fail(fmt.Sprintf("want %q", c))
	}
	p.i++
	return nil
}

// count returns the number of members of the container opening at p.i,
// without moving p.i.
func (p *jsonReader) count(closing byte) (int, error) {
	depth, n, empty := 0, 0, true
	for j := p.i + 1; j < len(p.data); j++ {
		switch c := p.data[j]; c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			end, _, err := stringEnd(p.data, j)
			if err != nil {
				return 0, err
			}
			j = end
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				if c != closing {
					return 0, p.fail("mismatched brackets")
				}
				if empty {
					return 0, nil
				}
				return n + 1, nil
			}
			depth--
		case ',':
			if depth == 0 {
				n++
			}
		}
		empty = false
	}
	return 0, p.fail("unterminated container")
}

// stringEnd returns the index of the closing quote of the string opening
// at data[start], and whether the string holds escapes.
func stringEnd(data []byte, start int) (end int, escaped bool, err error) {
	for j := start + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped, nil
		}
	}
	return 0, false, fmt.Errorf("%w: unterminated string at offset %d", errBadJSON, start)
}

func (p *jsonReader) str() (string, error) {
	end, escaped, err := stringEnd(p.data, p.i)
	if err != nil {
		return "", err
	}
	raw := p.data[p.i : end+1]
	p.i = end + 1
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %w", errBadJSON, err)
	}
	return s, nil
}

// number writes integers that fit 64 bits as MessagePack integers and
// everything else as float64, as notepack.io does with a JavaScript number.
func (p *jsonReader) number() error {
	start, integer := p.i, true
	for p.i < len(p.data) {
		c := p.data[p.i]
		if c == '.' || c == 'e' || c == 'E' {
			integer = false
		} else if !(c == '-' || c == '+' || '0' <= c && c <= '9') {
			break
		}
		p.i++
	}
	text := string(p.data[start:p.i])
	if integer {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return p.enc.EncodeInt(n)
		}
		if n, err := strconv.ParseUint(text, 10, 64); err == nil {
			return p.enc.EncodeUint(n)
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return p.fail("bad number")
	}
	return encodeFloat(p.enc, f)
}

// encodeFloat writes f as notepack.io writes a JavaScript number: integral
// values as integers (negative zero as 0), others as float64.
func encodeFloat(enc *msgpack.Encoder, f float64) error {
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return enc.EncodeInt(int64(f))
	}
	return enc.EncodeFloat64(f)
}
