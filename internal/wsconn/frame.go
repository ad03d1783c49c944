package wsconn

import "encoding/binary"

// Opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	maxFrameHeader = 10 // a server frame's header: unmasked, up to a 64-bit length
)

// Close codes (RFC 6455, section 7.4.1).
const (
	CloseNormal         = 1000
	CloseProtocolError  = 1002
	CloseNoStatus       = 1005 // never sent: WriteClose with it sends a close frame without a code
	CloseInvalidPayload = 1007 // text that is not UTF-8
	CloseMessageTooBig  = 1009
)

// Frame is one outbound data message, written as a single frame.
//
// Data is never modified, so the same slice may be written to any number
// of connections at once.
type Frame struct {
	Data   []byte
	Binary bool // a binary frame; otherwise text
	// Key is never written. It lets a queue of frames name what a frame
	// updates (one symbol's ticker, say), so that a newer frame can
	// replace an older one still queued.
	Key uint64
}

func opcode(f *Frame) byte {
	if f.Binary {
		return opBinary
	}
	return opText
}

// appendFrameHeader appends the header of a final, unmasked frame of n
// payload bytes.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

func frameHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// FramedLen returns the bytes frames take on the wire, headers included.
func FramedLen(frames []Frame) int {
	n := 0
	for i := range frames {
		n += frameHeaderLen(len(frames[i].Data)) + len(frames[i].Data)
	}
	return n
}

// unmask applies a frame's masking key to its payload (RFC 6455, section
// 5.3), eight bytes at a time where it can.
func unmask(key [4]byte, p []byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k8 := uint64(k) | uint64(k)<<32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k8)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// validCloseCode reports whether a client may send code in a close frame:
// a code RFC 6455 or the IANA registry defines for use in close frames
// (1004, 1005, 1006 and 1015 are not), or one of the ranges for libraries
// and applications. gorilla/websocket also refuses 1014, registered
// later; coder/websocket accepts it.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}
