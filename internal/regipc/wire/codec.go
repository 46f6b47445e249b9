package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Request is one decoded request. doc.go says what each field means for each Op; fields
// an op does not use are zero. Name, Class and Data of a decoded request alias the frame
// buffer: they are valid until the next frame is read (Name and Class are copied into
// strings by DecodeRequest; Data is not).
type Request struct {
	Op     Op
	ID     uint32
	Handle uint64
	Flags  uint32
	Access uint32
	Name   string
	Class  string
	Data   []byte
}

// FrameError is a frame that could not be decoded.
type FrameError struct {
	Off int    // offset in the frame body
	Msg string // what is wrong
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("regipc: %s at byte %d of the frame", e.Msg, e.Off)
}

// ErrFrameTooLarge is a length prefix above MaxFrame; the stream cannot be followed past it.
var ErrFrameTooLarge = errors.New("regipc: frame larger than MaxFrame")

// AppendRequest appends req as a complete frame (length prefix included) to b.
func AppendRequest(b []byte, req *Request) []byte {
	n := requestHeader + len(req.Name) + len(req.Class) + len(req.Data)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, byte(req.Op))
	b = binary.LittleEndian.AppendUint32(b, req.ID)
	b = binary.LittleEndian.AppendUint64(b, req.Handle)
	b = binary.LittleEndian.AppendUint32(b, req.Flags)
	b = binary.LittleEndian.AppendUint32(b, req.Access)
	b = AppendString(b, req.Name)
	b = AppendString(b, req.Class)
	return AppendBytes(b, req.Data)
}

// DecodeRequest decodes a request frame's body (without the length prefix). On a
// malformed body it returns a *FrameError and, as far as it could be read, the id, so the
// error can be answered.
func DecodeRequest(body []byte) (Request, error) {
	var req Request
	d := Decoder{b: body}
	req.Op = Op(d.U8())
	req.ID = d.U32()
	req.Handle = d.U64()
	req.Flags = d.U32()
	req.Access = d.U32()
	req.Name = d.String()
	req.Class = d.String()
	req.Data = d.Bytes()
	if err := d.End(); err != nil {
		return req, err
	}
	if req.Op < 1 || req.Op > opLast {
		return req, &FrameError{Off: 0, Msg: fmt.Sprintf("unknown op %d", req.Op)}
	}
	return req, nil
}

// ReadFrame reads one frame from r and returns its body, reusing buf when it is large
// enough. A length prefix above MaxFrame is ErrFrameTooLarge; the buffer grows only as
// bytes arrive, so a lying prefix costs no more memory than the bytes sent.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	n, err := readLength(r)
	if err != nil {
		return buf[:0], err
	}
	if n > MaxFrame {
		return buf[:0], ErrFrameTooLarge
	}
	if n <= cap(buf) {
		buf = buf[:n]
		_, err := io.ReadFull(r, buf)
		return buf, noEOF(err)
	}
	const step = 1 << 20
	buf = buf[:0]
	for len(buf) < n {
		chunk := min(n-len(buf), step)
		buf = growTo(buf, len(buf)+chunk)
		if _, err := io.ReadFull(r, buf[len(buf)-chunk:]); err != nil {
			return buf[:0], noEOF(err)
		}
	}
	return buf, nil
}

// readLength reads a frame's length prefix. From a bufio.Reader (the servers' and
// clients' case) it peeks, so that no header buffer escapes to the heap per frame.
func readLength(r io.Reader) (int, error) {
	if br, ok := r.(*bufio.Reader); ok {
		hdr, err := br.Peek(4)
		if err != nil {
			if len(hdr) > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		n := binary.LittleEndian.Uint32(hdr)
		_, _ = br.Discard(4)
		return int(n), nil
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint32(hdr[:])), nil
}

func growTo(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Reply encoding. A reply is built in place: BeginReply appends the length placeholder
// and header, the payload is appended with the Append helpers, EndFrame fills the length.

// BeginReply appends a frame header of the given kind, id and status to b and returns b
// and the offset of the frame, for EndFrame.
func BeginReply(b []byte, kind Kind, id, status uint32) ([]byte, int) {
	start := len(b)
	b = append(b, 0, 0, 0, 0, byte(kind))
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, status)
	return b, start
}

// EndFrame fills in the length prefix of the frame that starts at start.
func EndFrame(b []byte, start int) []byte {
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// AppendString appends a str field.
func AppendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// AppendBytes appends a bytes field.
func AppendBytes(b, data []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// AppendU32 appends a u32.
func AppendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// AppendU64 appends a u64.
func AppendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// AppendTime appends a time as i64 Unix nanoseconds (0 for the zero time).
func AppendTime(b []byte, t time.Time) []byte {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	return binary.LittleEndian.AppendUint64(b, uint64(ns))
}

// Reply is a decoded reply header; Payload is the rest of the body.
type Reply struct {
	Kind    Kind
	ID      uint32
	Status  uint32
	Payload []byte
}

// DecodeReply decodes a frame body sent by the server.
func DecodeReply(body []byte) (Reply, error) {
	if len(body) < replyHeader {
		return Reply{}, &FrameError{Off: len(body), Msg: "short reply header"}
	}
	r := Reply{
		Kind:    Kind(body[0]),
		ID:      binary.LittleEndian.Uint32(body[1:]),
		Status:  binary.LittleEndian.Uint32(body[5:]),
		Payload: body[replyHeader:],
	}
	if r.Kind > KindNotifyDone {
		return r, &FrameError{Off: 0, Msg: fmt.Sprintf("unknown frame kind %d", r.Kind)}
	}
	return r, nil
}

// Decoder reads fields from a frame body. The first failure sticks: later reads return
// zero values, and Err/End report the failure with its offset.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder returns a decoder of b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Reset makes d a decoder of b, so that a reader can keep one Decoder for every frame.
func (d *Decoder) Reset(b []byte) { *d = Decoder{b: b} }

func (d *Decoder) need(n int, what string) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = &FrameError{Off: d.off, Msg: "truncated " + what}
		return false
	}
	return true
}

// U8 reads a byte.
func (d *Decoder) U8() uint8 {
	if !d.need(1, "u8") {
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

// U32 reads a u32.
func (d *Decoder) U32() uint32 {
	if !d.need(4, "u32") {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

// U64 reads a u64.
func (d *Decoder) U64() uint64 {
	if !d.need(8, "u64") {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

// Time reads an i64 of Unix nanoseconds (0 is the zero time).
func (d *Decoder) Time() time.Time {
	ns := int64(d.U64())
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Bytes reads a bytes field; the result aliases the frame.
func (d *Decoder) Bytes() []byte {
	n := d.U32()
	if !d.need(int(n), "bytes field") {
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return v
}

// String reads a str field, which must be valid UTF-8.
func (d *Decoder) String() string {
	start := d.off
	b := d.Bytes()
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.err = &FrameError{Off: start + 4, Msg: "invalid UTF-8 in string"}
		return ""
	}
	return string(b)
}

// Count reads a u32 element count and checks that at least min bytes per element remain,
// so that a hostile count cannot make the caller allocate.
func (d *Decoder) Count(minSize int) int {
	n := d.U32()
	if d.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(d.b)-d.off) {
		d.err = &FrameError{Off: d.off - 4, Msg: fmt.Sprintf("count %d exceeds the frame", n)}
		return 0
	}
	return int(n)
}

// Err returns the first failure.
func (d *Decoder) Err() error { return d.err }

// End returns the first failure, or an error if bytes remain unread.
func (d *Decoder) End() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = &FrameError{Off: d.off, Msg: fmt.Sprintf("%d trailing bytes", len(d.b)-d.off)}
	}
	return d.err
}
