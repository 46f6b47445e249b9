package eventlog

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"
)

// A segment file is segmentMagic followed by frames. A frame is
//
//	u32 payload length | u32 CRC-32C of the payload | payload
//
// and a payload is one record, little-endian:
//
//	u64 RecordID | i64 TimeCreated (Unix ns) | u32 EventID | u16 Qualifiers | u16 Type |
//	u8 Level | u64 Keywords | u16 Category | u32 PID | u32 TID |
//	str Source | str Computer | str User | uvarint n, n × str Strings |
//	uvarint n, n × (str Name, str Value) Data | str Binary
//
// where str is a uvarint length followed by that many bytes.
const (
	segmentMagic    = "WPEVLOG1"
	frameHeaderSize = 8
	fixedPayload    = 8 + 8 + 4 + 2 + 2 + 1 + 8 + 2 + 4 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errShortPayload = errors.New("record payload ends early")

// appendFrame appends r's frame to buf.
func appendFrame(buf []byte, r *Record) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, frameHeaderSize)...)
	buf = binary.LittleEndian.AppendUint64(buf, r.RecordID)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(r.TimeCreated.UnixNano()))
	buf = binary.LittleEndian.AppendUint32(buf, r.EventID)
	buf = binary.LittleEndian.AppendUint16(buf, r.Qualifiers)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(r.Type))
	buf = append(buf, byte(r.Level))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(r.Keywords))
	buf = binary.LittleEndian.AppendUint16(buf, r.Category)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(r.PID))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(r.TID))
	buf = appendStr(buf, r.Source)
	buf = appendStr(buf, r.Computer)
	buf = appendStr(buf, r.User)
	buf = binary.AppendUvarint(buf, uint64(len(r.Strings)))
	for _, s := range r.Strings {
		buf = appendStr(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Data)))
	for _, d := range r.Data {
		buf = appendStr(buf, d.Name)
		buf = appendStr(buf, d.Value)
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Binary)))
	buf = append(buf, r.Binary...)
	payload := buf[start+frameHeaderSize:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, castagnoli))
	return buf
}

func appendStr(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decodePayload decodes one record's payload. It never trusts a length beyond the
// payload it was given.
func decodePayload(p []byte, r *Record) error {
	if len(p) < fixedPayload {
		return errShortPayload
	}
	le := binary.LittleEndian
	r.RecordID = le.Uint64(p[0:])
	r.TimeCreated = time.Unix(0, int64(le.Uint64(p[8:]))).UTC()
	r.EventID = le.Uint32(p[16:])
	r.Qualifiers = le.Uint16(p[20:])
	r.Type = EventType(le.Uint16(p[22:]))
	r.Level = Level(p[24])
	r.Keywords = Keywords(le.Uint64(p[25:]))
	r.Category = le.Uint16(p[33:])
	r.PID = int(le.Uint32(p[35:]))
	r.TID = int(le.Uint32(p[39:]))
	d := decoder{p: p[fixedPayload:]}
	r.Source = d.str()
	r.Computer = d.str()
	r.User = d.str()
	if n := d.count(); n > 0 {
		r.Strings = make([]string, n)
		for i := range r.Strings {
			r.Strings[i] = d.str()
		}
	} else {
		r.Strings = nil
	}
	if n := d.count(); n > 0 {
		r.Data = make([]DataItem, n)
		for i := range r.Data {
			r.Data[i].Name = d.str()
			r.Data[i].Value = d.str()
		}
	} else {
		r.Data = nil
	}
	if b := d.bytes(); len(b) > 0 {
		r.Binary = append([]byte(nil), b...)
	} else {
		r.Binary = nil
	}
	if d.err != nil {
		return d.err
	}
	return nil
}

type decoder struct {
	p   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errShortPayload
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads an element count; each element takes at least one byte, which bounds it.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.err = errShortPayload
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.p)) {
		d.err = errShortPayload
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

func (d *decoder) str() string { return string(d.bytes()) }

// peekMeta reads the indexed fields of a payload without decoding the rest.
func peekMeta(p []byte) (id uint64, t int64, eventID uint32, level Level, category uint16, source []byte, ok bool) {
	if len(p) < fixedPayload {
		return
	}
	le := binary.LittleEndian
	d := decoder{p: p[fixedPayload:]}
	src := d.bytes()
	if d.err != nil {
		return
	}
	return le.Uint64(p[0:]), int64(le.Uint64(p[8:])), le.Uint32(p[16:]), Level(p[24]), le.Uint16(p[33:]), src, true
}
