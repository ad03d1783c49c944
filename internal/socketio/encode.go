package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tradewithai/realtime/internal/jsonenc"
)

// AppendPacket appends the text wire form of p to dst. For binary types the
// attachment count written is len(p.Attachments); the attachments themselves
// are sent separately by the caller, one binary Engine.IO message each.
// Namespace "/" or "" is omitted. p.Data is written verbatim.
//
// p.Namespace must start with '/' and contain no ',' for the result to decode;
// packets returned by Decoder always qualify. socket.io-parser rejects a
// BINARY_EVENT or BINARY_ACK without attachments, so do not send one to a
// JavaScript peer.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = appendHeader(dst, p.Type, len(p.Attachments), p.Namespace, p.ID, p.HasID)
	return append(dst, p.Data...)
}

func appendHeader(dst []byte, t PacketType, attachments int, nsp string, id uint64, hasID bool) []byte {
	dst = strconv.AppendUint(dst, uint64(t), 10)
	if t.isBinary() {
		dst = strconv.AppendInt(dst, int64(attachments), 10)
		dst = append(dst, '-')
	}
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if hasID {
		dst = strconv.AppendUint(dst, id, 10)
	}
	return dst
}

// AppendEvent appends an EVENT packet (BINARY_EVENT when any arg is a []byte)
// whose data is [name, args...]. Each arg is JSON-marshalled, except:
// []byte → placeholder + attachment (top-level args only; nested byte slices
// are base64 strings as encoding/json makes them), json.RawMessage → written
// verbatim (must be valid UTF-8 JSON, else error; nil is null). Returns the
// extended dst and the attachments (nil when none), which alias the args.
// On error dst is returned with its original length.
//
// socket.io-client decodes at most 10 attachments per packet by default and
// drops the connection beyond that; this function does not enforce the limit.
func AppendEvent(dst []byte, nsp string, id uint64, hasID bool, name string, args []any) ([]byte, [][]byte, error) {
	if IsReservedEvent(name) {
		return dst, nil, fmt.Errorf("%w: %q", ErrReservedEvent, name)
	}
	n := countBinary(args)
	t := Event
	if n > 0 {
		t = BinaryEvent
	}
	start := len(dst)
	dst = appendHeader(dst, t, n, nsp, id, hasID)
	dst = append(dst, '[')
	dst = jsonenc.AppendString(dst, name)
	dst, atts, err := appendArgs(dst, args, true, n)
	if err != nil {
		return dst[:start], nil, err
	}
	return append(dst, ']'), atts, nil
}

// AppendAck appends an ACK packet (BINARY_ACK when any arg is a []byte) with
// data [args...], encoding args as AppendEvent does.
func AppendAck(dst []byte, nsp string, id uint64, args []any) ([]byte, [][]byte, error) {
	n := countBinary(args)
	t := Ack
	if n > 0 {
		t = BinaryAck
	}
	start := len(dst)
	dst = appendHeader(dst, t, n, nsp, id, true)
	dst = append(dst, '[')
	dst, atts, err := appendArgs(dst, args, false, n)
	if err != nil {
		return dst[:start], nil, err
	}
	return append(dst, ']'), atts, nil
}

func countBinary(args []any) int {
	n := 0
	for _, a := range args {
		if _, ok := a.([]byte); ok {
			n++
		}
	}
	return n
}

var errRawInvalid = errors.New("json.RawMessage is not valid UTF-8 JSON")

// appendArgs writes args as comma-separated JSON values. Common scalar
// types are written directly because going through json.Marshal would cost
// an allocation for each.
func appendArgs(dst []byte, args []any, leadingComma bool, binaryCount int) ([]byte, [][]byte, error) {
	var atts [][]byte
	if binaryCount > 0 {
		atts = make([][]byte, 0, binaryCount)
	}
	for k, a := range args {
		if leadingComma || k > 0 {
			dst = append(dst, ',')
		}
		switch v := a.(type) {
		case []byte:
			dst = append(dst, `{"_placeholder":true,"num":`...)
			dst = strconv.AppendInt(dst, int64(len(atts)), 10)
			dst = append(dst, '}')
			atts = append(atts, v)
		case json.RawMessage:
			if v == nil {
				dst = append(dst, "null"...)
				break
			}
			// Text frames must be UTF-8: a browser drops the whole
			// connection on a single bad byte, and json.Valid does not check.
			if !json.Valid(v) || !utf8.Valid(v) {
				return dst, nil, fmt.Errorf("socketio: arg %d: %w", k, errRawInvalid)
			}
			dst = append(dst, v...)
		case string:
			dst = jsonenc.AppendString(dst, v)
		case nil:
			dst = append(dst, "null"...)
		case bool:
			dst = strconv.AppendBool(dst, v)
		case int:
			dst = strconv.AppendInt(dst, int64(v), 10)
		case uint:
			dst = strconv.AppendUint(dst, uint64(v), 10)
		case int64:
			dst = strconv.AppendInt(dst, v, 10)
		case int32:
			dst = strconv.AppendInt(dst, int64(v), 10)
		case uint64:
			dst = strconv.AppendUint(dst, v, 10)
		case uint32:
			dst = strconv.AppendUint(dst, uint64(v), 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return dst, nil, fmt.Errorf("socketio: arg %d: unsupported value %v", k, v)
			}
			dst = jsonenc.AppendFloat(dst, v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return dst, nil, fmt.Errorf("socketio: arg %d: %w", k, err)
			}
			dst = append(dst, b...)
		}
	}
	return dst, atts, nil
}
