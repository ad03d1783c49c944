package redisadapter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tradewithai/realtime/internal/jsonenc"
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
		return jsonenc.AppendFloat(dst, v), err
	case msgpcode.IsString(c):
		s, err := m.dec.DecodeString()
		return jsonenc.AppendString(dst, s), err
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
			dst = jsonenc.AppendString(dst, key)
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
