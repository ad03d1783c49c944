package redisadapter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Event arguments from other servers arrive as MessagePack values, as
// notepack.io encodes JavaScript values. The gateway sends JSON to its
// clients, so each argument is transcoded straight into the JSON that
// socket.io would have sent for the same JavaScript value.

var errBadMsgpack = errors.New("redisadapter: invalid MessagePack")

// timestampExt is the MessagePack extension type of timestamps, which
// notepack.io uses for Date values.
const timestampExt = -1

// msgReader decodes one MessagePack message held in memory. Knowing how
// many bytes remain lets it refuse a length prefix larger than the message
// before allocating anything.
type msgReader struct {
	src *strings.Reader
	dec *msgpack.Decoder
}

func newMsgReader() *msgReader {
	src := strings.NewReader("")
	return &msgReader{src: src, dec: msgpack.NewDecoder(src)}
}

// reset points the reader at msg.
func (m *msgReader) reset(msg string) {
	m.src.Reset(msg)
	m.dec.ResetReader(m.src)
}

// offset returns how many bytes of the message have been read.
func (m *msgReader) offset() int {
	return int(m.src.Size()) - m.src.Len()
}

// checkLen fails when n bytes (or elements, each at least a byte) cannot
// fit in what remains of the message.
func (m *msgReader) checkLen(n int) error {
	if n < 0 || n > m.src.Len() {
		return fmt.Errorf("%w: length %d exceeds the %d bytes left", errBadMsgpack, n, m.src.Len())
	}
	return nil
}

func (m *msgReader) arrayLen() (int, error) {
	n, err := m.dec.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n == -1 {
		return 0, nil
	}
	return n, m.checkLen(n)
}

func (m *msgReader) mapLen() (int, error) {
	n, err := m.dec.DecodeMapLen()
	if err != nil {
		return 0, err
	}
	if n == -1 {
		return 0, nil
	}
	return n, m.checkLen(2 * n)
}

// binary reads a bin value into a new slice.
func (m *msgReader) binary() ([]byte, error) {
	n, err := m.dec.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	if n == -1 {
		return nil, nil
	}
	if err := m.checkLen(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	return b, m.dec.ReadFull(b)
}

// appendJSON transcodes the next value to JSON, as JSON.stringify would
// write the JavaScript value notepack.io decodes it to: Buffers as
// {"type":"Buffer","data":[...]}, Dates as ISO strings, NaN and infinities
// as null.
func (m *msgReader) appendJSON(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, fmt.Errorf("%w: nesting too deep", errBadMsgpack)
	}
	c, err := m.dec.PeekCode()
	if err != nil {
		return dst, err
	}
	switch {
	case c == msgpcode.Nil:
		return append(dst, "null"...), m.dec.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		v, err := m.dec.DecodeBool()
		return strconv.AppendBool(dst, v), err
	case c == msgpcode.Uint64:
		v, err := m.dec.DecodeUint64()
		return strconv.AppendUint(dst, v, 10), err
	case msgpcode.IsFixedNum(c), c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32,
		c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
		v, err := m.dec.DecodeInt64()
		return strconv.AppendInt(dst, v, 10), err
	case c == msgpcode.Float || c == msgpcode.Double:
		v, err := m.dec.DecodeFloat64()
		return appendNumber(dst, v), err
	case msgpcode.IsString(c):
		s, err := m.dec.DecodeString()
		return appendJSONString(dst, s), err
	case msgpcode.IsBin(c):
		b, err := m.binary()
		if err != nil {
			return dst, err
		}
		dst = append(dst, `{"type":"Buffer","data":[`...)
		for i, x := range b {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, uint64(x), 10)
		}
		return append(dst, "]}"...), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := m.arrayLen()
		if err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = m.appendJSON(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := m.mapLen()
		if err != nil {
			return dst, err
		}
		dst = append(dst, '{')
		for i := 0; i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			key, err := m.key()
			if err != nil {
				return dst, err
			}
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			if dst, err = m.appendJSON(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case msgpcode.IsExt(c):
		return m.appendExt(dst)
	default:
		return dst, fmt.Errorf("%w: unknown code 0x%x", errBadMsgpack, c)
	}
}

// key reads a map key. JavaScript object keys are strings; a numeric key
// becomes its decimal form, as it would in a JavaScript object.
func (m *msgReader) key() (string, error) {
	c, err := m.dec.PeekCode()
	if err != nil {
		return "", err
	}
	switch {
	case msgpcode.IsString(c):
		return m.dec.DecodeString()
	case c == msgpcode.Uint64:
		v, err := m.dec.DecodeUint64()
		return strconv.FormatUint(v, 10), err
	case msgpcode.IsFixedNum(c), c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32,
		c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
		v, err := m.dec.DecodeInt64()
		return strconv.FormatInt(v, 10), err
	default:
		return "", fmt.Errorf("%w: map key of code 0x%x", errBadMsgpack, c)
	}
}

// appendExt writes a timestamp as JavaScript's Date.toJSON does and any
// other extension as null.
func (m *msgReader) appendExt(dst []byte) ([]byte, error) {
	id, n, err := m.dec.DecodeExtHeader()
	if err != nil {
		return dst, err
	}
	if err := m.checkLen(n); err != nil {
		return dst, err
	}
	var buf [12]byte
	if id != timestampExt || (n != 4 && n != 8 && n != 12) {
		for ; n > 0; n-- {
			if _, err := m.src.ReadByte(); err != nil {
				return dst, err
			}
		}
		return append(dst, "null"...), nil
	}
	b := buf[:n]
	if err := m.dec.ReadFull(b); err != nil {
		return dst, err
	}
	var t time.Time
	switch n {
	case 4:
		t = time.Unix(int64(binary.BigEndian.Uint32(b)), 0)
	case 8:
		v := binary.BigEndian.Uint64(b)
		t = time.Unix(int64(v&(1<<34-1)), int64(v>>34))
	case 12:
		t = time.Unix(int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b[:4])))
	}
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	return append(dst, '"'), nil
}

// appendNumber writes f as JavaScript's JSON.stringify does.
func appendNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	// ECMAScript number formatting, as encoding/json implements it.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so the result is always valid UTF-8 JSON; U+2028 and U+2029 are
// escaped as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
