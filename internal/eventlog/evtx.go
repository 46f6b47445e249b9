package eventlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"time"
	"unicode/utf16"

	"wolfpack/internal/utf16le"
)

// Windows' EVTX format ("Windows XML Event Log"), as libyal's libevtx documents it: a
// 4096-byte file header, then chunks of 64 KiB, each a 512-byte chunk header and event
// records whose content is binary XML. Each record is a template instance: the event's
// XML with substitutions, defined once per chunk (in the first record that uses it) and
// referred to by offset afterwards, with the record's values as the substitution array.
// The names, structures and constants below are the document's.

// File header.
const (
	EVTXFileSignature    = "ElfFile\x00"
	EVTXFileHeaderSize   = 128  // the part the checksum covers, up to 0x78
	EVTXFileHeaderBlock  = 4096 // the header's block, before the first chunk
	EVTXMajorVersion     = 3
	EVTXMinorVersion     = 1
	EVTXChunkSignature   = "ElfChnk\x00"
	EVTXChunkSize        = 65536
	EVTXChunkHeaderSize  = 512 // header, common string offsets, template pointers
	EVTXRecordSignature  = 0x00002a2a
	evtxChunkHeaderCRC   = 0x78 // the checksum covers 0x00–0x78 and 0x80–0x200
	evtxStringBuckets    = 64   // common string offset array, at 0x80
	evtxTemplateBuckets  = 32   // template pointer array, at 0x180
	evtxRecordHeaderSize = 24   // signature, size, identifier, written time
)

// Binary XML tokens.
const (
	bxEndOfStream          = 0x00
	bxOpenStartElement     = 0x01
	bxCloseStartElement    = 0x02
	bxCloseEmptyElement    = 0x03
	bxEndElement           = 0x04
	bxValue                = 0x05
	bxAttribute            = 0x06
	bxTemplateInstance     = 0x0c
	bxNormalSubstitution   = 0x0d
	bxOptionalSubstitution = 0x0e
	bxFragmentHeader       = 0x0f
	bxHasMoreData          = 0x40 // on 0x01: the element has attributes; on 0x06: more follow
)

// Value types of substitutions and values.
const (
	evtNullType     = 0x00
	evtStringType   = 0x01 // UTF-16LE
	evtUInt8Type    = 0x04
	evtUInt16Type   = 0x06
	evtUInt32Type   = 0x08
	evtUInt64Type   = 0x0a
	evtBinaryType   = 0x0e
	evtFileTimeType = 0x11
	evtHexInt64Type = 0x15
)

// evtxValue is one value of a record's substitution array.
type evtxValue struct {
	typ  byte
	data []byte
}

func evtxString(s string) evtxValue { return evtxValue{evtStringType, utf16le.Encode(s)} }
func evtxU8(v uint8) evtxValue      { return evtxValue{evtUInt8Type, []byte{v}} }
func evtxU16(v uint16) evtxValue {
	return evtxValue{evtUInt16Type, binary.LittleEndian.AppendUint16(nil, v)}
}
func evtxU32(v uint32) evtxValue {
	return evtxValue{evtUInt32Type, binary.LittleEndian.AppendUint32(nil, v)}
}
func evtxU64(v uint64) evtxValue {
	return evtxValue{evtUInt64Type, binary.LittleEndian.AppendUint64(nil, v)}
}
func evtxHex64(v uint64) evtxValue {
	return evtxValue{evtHexInt64Type, binary.LittleEndian.AppendUint64(nil, v)}
}
func evtxFileTime(t time.Time) evtxValue {
	return evtxValue{evtFileTimeType, binary.LittleEndian.AppendUint64(nil, fileTime(t))}
}

// fileTime is t as a FILETIME: 100 ns intervals since 1601-01-01 UTC.
func fileTime(t time.Time) uint64 {
	const epochDiff = 116444736000000000 // 1601 to 1970 in 100 ns
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()/100) + epochDiff
}

// nameHash is the hash a name structure stores: hash = hash*65599 + character, over the
// UTF-16 characters, its low 16 bits.
func nameHash(name string) uint16 {
	var h uint32
	for _, c := range utf16.Encode([]rune(name)) {
		h = h*65599 + uint32(c)
	}
	return uint16(h)
}

// WriteEVTX writes the records as an EVTX file, in the order given. A record too big for
// a chunk has its longest insertion strings shortened (ending in "…") until it fits.
func WriteEVTX(w io.Writer, recs []Record) error {
	var chunks [][]byte
	c := newEVTXChunk()
	var next uint64 = 1
	for i := range recs {
		r := recs[i]
		next = max(next, r.RecordID+1)
		for {
			if c.add(&r) {
				break
			}
			if c.records == 0 {
				// Alone in an empty chunk and still too big: shorten it.
				if !shortenLongest(&r) {
					return fmt.Errorf("eventlog: record %d does not fit an EVTX chunk", r.RecordID)
				}
				continue
			}
			chunks = append(chunks, c.finish())
			c = newEVTXChunk()
		}
	}
	if c.records > 0 || len(chunks) == 0 {
		chunks = append(chunks, c.finish())
	}
	if len(chunks) > 0xffff {
		return errors.New("eventlog: too many records for one EVTX file")
	}
	h := make([]byte, EVTXFileHeaderBlock)
	copy(h, EVTXFileSignature)
	binary.LittleEndian.PutUint64(h[0x08:], 0)                     // first chunk number
	binary.LittleEndian.PutUint64(h[0x10:], uint64(len(chunks)-1)) // last chunk number
	binary.LittleEndian.PutUint64(h[0x18:], next)                  // next record identifier
	binary.LittleEndian.PutUint32(h[0x20:], EVTXFileHeaderSize)
	binary.LittleEndian.PutUint16(h[0x24:], EVTXMinorVersion)
	binary.LittleEndian.PutUint16(h[0x26:], EVTXMajorVersion)
	binary.LittleEndian.PutUint16(h[0x28:], EVTXFileHeaderBlock)
	binary.LittleEndian.PutUint16(h[0x2a:], uint16(len(chunks)))
	binary.LittleEndian.PutUint32(h[0x78:], 0) // file flags: clean, not full
	binary.LittleEndian.PutUint32(h[0x7c:], crc32.ChecksumIEEE(h[:0x78]))
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, ch := range chunks {
		if _, err := w.Write(ch); err != nil {
			return err
		}
	}
	return nil
}

// shortenLongest halves the longest insertion string (or named value) of r; false when
// nothing is left to shorten.
func shortenLongest(r *Record) bool {
	best, bestLen, named := -1, 16, false
	for i, s := range r.Strings {
		if n := len([]rune(s)); n > bestLen {
			best, bestLen, named = i, n, false
		}
	}
	for i, d := range r.Data {
		if n := len([]rune(d.Value)); n > bestLen {
			best, bestLen, named = i, n, true
		}
	}
	if best < 0 {
		if len(r.Binary) > 16 {
			r.Binary = r.Binary[:len(r.Binary)/2]
			return true
		}
		return false
	}
	cut := func(s string) string { return string([]rune(s)[:bestLen/2]) + "…" }
	if named {
		r.Data = append([]DataItem(nil), r.Data...)
		r.Data[best].Value = cut(r.Data[best].Value)
	} else {
		r.Strings = append([]string(nil), r.Strings...)
		r.Strings[best] = cut(r.Strings[best])
	}
	return true
}

// evtxChunk is a chunk being filled.
type evtxChunk struct {
	buf       []byte
	free      int // the free space offset: where the next record goes
	lastRec   int // offset of the last record
	records   int
	first     uint64
	last      uint64
	names     map[string]uint32 // name → offset of its name structure in this chunk
	templates map[string]uint32 // template shape → offset of its definition
	strBkt    [evtxStringBuckets]uint32
	tplBkt    [evtxTemplateBuckets]uint32
}

func newEVTXChunk() *evtxChunk {
	c := &evtxChunk{buf: make([]byte, EVTXChunkSize), free: EVTXChunkHeaderSize,
		names: map[string]uint32{}, templates: map[string]uint32{}}
	copy(c.buf, EVTXChunkSignature)
	return c
}

// add appends a record; false when it does not fit (the chunk is left as it was).
func (c *evtxChunk) add(r *Record) bool {
	saveNames, saveTpls, saveStr, saveTpl := cloneMap(c.names), cloneMap(c.templates), c.strBkt, c.tplBkt
	rec := c.encodeRecord(r, c.free)
	if c.free+len(rec) > EVTXChunkSize {
		c.names, c.templates, c.strBkt, c.tplBkt = saveNames, saveTpls, saveStr, saveTpl
		return false
	}
	copy(c.buf[c.free:], rec)
	c.lastRec = c.free
	c.free += len(rec)
	if c.records == 0 {
		c.first = r.RecordID
	}
	c.last = r.RecordID
	c.records++
	return true
}

func cloneMap(m map[string]uint32) map[string]uint32 {
	out := make(map[string]uint32, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// finish writes the chunk header and returns the chunk.
func (c *evtxChunk) finish() []byte {
	b := c.buf
	binary.LittleEndian.PutUint64(b[0x08:], c.first) // first event record number
	binary.LittleEndian.PutUint64(b[0x10:], c.last)  // last event record number
	binary.LittleEndian.PutUint64(b[0x18:], c.first) // first event record identifier
	binary.LittleEndian.PutUint64(b[0x20:], c.last)  // last event record identifier
	binary.LittleEndian.PutUint32(b[0x28:], 128)     // header size
	binary.LittleEndian.PutUint32(b[0x2c:], uint32(c.lastRec))
	binary.LittleEndian.PutUint32(b[0x30:], uint32(c.free))
	binary.LittleEndian.PutUint32(b[0x34:], crc32.ChecksumIEEE(b[EVTXChunkHeaderSize:c.free]))
	for i, off := range c.strBkt {
		binary.LittleEndian.PutUint32(b[0x80+4*i:], off)
	}
	for i, off := range c.tplBkt {
		binary.LittleEndian.PutUint32(b[0x180+4*i:], off)
	}
	sum := crc32.NewIEEE()
	sum.Write(b[:evtxChunkHeaderCRC])
	sum.Write(b[0x80:EVTXChunkHeaderSize])
	binary.LittleEndian.PutUint32(b[0x7c:], sum.Sum32())
	return b
}

// encodeRecord returns the record's bytes as they go at offset off of the chunk.
func (c *evtxChunk) encodeRecord(r *Record, off int) []byte {
	shape, values := evtxShape(r)
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, EVTXRecordSignature)
	b = binary.LittleEndian.AppendUint32(b, 0) // size, below
	b = binary.LittleEndian.AppendUint64(b, r.RecordID)
	b = binary.LittleEndian.AppendUint64(b, fileTime(r.TimeCreated))
	b = append(b, bxFragmentHeader, 1, 1, 0)
	instance := off + len(b)
	tplOff, defined := c.templates[shape.key]
	if !defined {
		tplOff = uint32(instance + 10) // the definition follows the instance
	}
	id := templateID(shape.key)
	b = append(b, bxTemplateInstance, 1)
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, tplOff)
	if !defined {
		b = c.appendTemplate(b, off, id, shape)
		c.templates[shape.key] = tplOff
		bkt := id % evtxTemplateBuckets
		binary.LittleEndian.PutUint32(b[int(tplOff)-off:], c.tplBkt[bkt]) // next template in the bucket
		c.tplBkt[bkt] = tplOff
	}
	// The substitution array: the count, a descriptor (size, type) per value, the values.
	b = binary.LittleEndian.AppendUint32(b, uint32(len(values)))
	for _, v := range values {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v.data)))
		b = append(b, v.typ, 0)
	}
	for _, v := range values {
		b = append(b, v.data...)
	}
	b = append(b, bxEndOfStream) // the record's document ends here
	size := len(b) + 4
	binary.LittleEndian.PutUint32(b[4:], uint32(size))
	return binary.LittleEndian.AppendUint32(b, uint32(size))
}

// templateID is a template's identifier (and the first four bytes of its GUID).
func templateID(key string) uint32 {
	return crc32.ChecksumIEEE([]byte("wolfpack " + key))
}

// evtxElement is an element of a template: its attributes and either a substitution, a
// text or child elements.
type evtxElement struct {
	name     string
	attrs    []evtxAttr
	sub      int    // substitution index, -1 for none
	optional bool   // the substitution may be null (the element or attribute is left out)
	subType  byte   // the substitution's value type
	text     string // constant text (with sub -1 and no children)
	children []*evtxElement
}

type evtxAttr struct {
	name     string
	text     string
	sub      int // -1: text
	subType  byte
	optional bool
}

// evtxTemplate is a record shape: its template and key.
type evtxTemplate struct {
	key  string
	root *evtxElement
}

// evtxShape returns the template of r's shape (its insertion strings, named values and
// binary data decide it) and r's substitution values.
func evtxShape(r *Record) (evtxTemplate, []evtxValue) {
	values := []evtxValue{
		evtxString(r.Source),          // 0 Provider Name
		evtxU16(r.Qualifiers),         // 1 EventID Qualifiers
		evtxU16(uint16(r.EventID)),    // 2 EventID
		evtxU8(uint8(r.Level)),        // 3 Level
		evtxU16(r.Category),           // 4 Task
		evtxHex64(uint64(r.Keywords)), // 5 Keywords
		evtxFileTime(r.TimeCreated),   // 6 TimeCreated SystemTime
		evtxU64(r.RecordID),           // 7 EventRecordID
		evtxU32(uint32(r.PID)),        // 8 Execution ProcessID
		evtxU32(uint32(r.TID)),        // 9 Execution ThreadID
		evtxString(r.Log),             // 10 Channel
		evtxString(r.Computer),        // 11 Computer
		{typ: evtNullType},            // 12 Security UserID, below
	}
	if r.User != "" {
		values[12] = evtxString(r.User)
	}
	sub := func(name string, i int, typ byte) *evtxElement {
		return &evtxElement{name: name, sub: i, subType: typ}
	}
	text := func(name, t string) *evtxElement { return &evtxElement{name: name, sub: -1, text: t} }
	system := &evtxElement{name: "System", sub: -1, children: []*evtxElement{
		{name: "Provider", sub: -1, attrs: []evtxAttr{{name: "Name", sub: 0, subType: evtStringType}}},
		{name: "EventID", sub: 2, subType: evtUInt16Type, attrs: []evtxAttr{{name: "Qualifiers", sub: 1, subType: evtUInt16Type}}},
		text("Version", "0"),
		sub("Level", 3, evtUInt8Type),
		sub("Task", 4, evtUInt16Type),
		text("Opcode", "0"),
		sub("Keywords", 5, evtHexInt64Type),
		{name: "TimeCreated", sub: -1, attrs: []evtxAttr{{name: "SystemTime", sub: 6, subType: evtFileTimeType}}},
		sub("EventRecordID", 7, evtUInt64Type),
		{name: "Correlation", sub: -1},
		{name: "Execution", sub: -1, attrs: []evtxAttr{{name: "ProcessID", sub: 8, subType: evtUInt32Type}, {name: "ThreadID", sub: 9, subType: evtUInt32Type}}},
		sub("Channel", 10, evtStringType),
		sub("Computer", 11, evtStringType),
		{name: "Security", sub: -1, attrs: []evtxAttr{{name: "UserID", sub: 12, subType: evtStringType, optional: true}}},
	}}
	var key strings.Builder
	fmt.Fprintf(&key, "s%d", len(r.Strings))
	data := &evtxElement{name: "EventData", sub: -1}
	for _, s := range r.Strings {
		data.children = append(data.children, sub("Data", len(values), evtStringType))
		values = append(values, evtxString(s))
	}
	for _, d := range r.Data {
		fmt.Fprintf(&key, " d%q", d.Name)
		e := sub("Data", len(values), evtStringType)
		e.attrs = []evtxAttr{{name: "Name", text: d.Name, sub: -1}}
		data.children = append(data.children, e)
		values = append(values, evtxString(d.Value))
	}
	if len(r.Binary) > 0 {
		key.WriteString(" b")
		data.children = append(data.children, sub("Binary", len(values), evtBinaryType))
		values = append(values, evtxValue{evtBinaryType, r.Binary})
	}
	root := &evtxElement{name: "Event", sub: -1, attrs: []evtxAttr{{name: "xmlns", text: EventNamespace, sub: -1}},
		children: []*evtxElement{system}}
	if len(data.children) > 0 {
		root.children = append(root.children, data)
	}
	return evtxTemplate{key: key.String(), root: root}, values
}

// appendTemplate appends a template definition to b (whose first byte is at chunk offset
// base): next template offset, GUID, data size, and the template's binary XML.
func (c *evtxChunk) appendTemplate(b []byte, base int, id uint32, t evtxTemplate) []byte {
	b = binary.LittleEndian.AppendUint32(b, 0) // next template offset (the bucket's chain)
	guid := make([]byte, 16)
	binary.LittleEndian.PutUint32(guid, id)
	copy(guid[4:], "wolfpack evtx") // the rest of the GUID: fixed, naming the writer
	b = append(b, guid...)
	sizeAt := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0)
	body := len(b)
	b = append(b, bxFragmentHeader, 1, 1, 0)
	b = c.appendElement(b, base, t.root)
	b = append(b, bxEndOfStream)
	binary.LittleEndian.PutUint32(b[sizeAt:], uint32(len(b)-body))
	return b
}

// appendName appends a name reference: the offset of the name's structure, and the
// structure itself when the chunk has none yet (it then follows at once).
func (c *evtxChunk) appendName(b []byte, base int, name string) []byte {
	if off, ok := c.names[name]; ok {
		return binary.LittleEndian.AppendUint32(b, off)
	}
	off := uint32(base + len(b) + 4)
	b = binary.LittleEndian.AppendUint32(b, off)
	h := nameHash(name)
	bkt := h % evtxStringBuckets
	b = binary.LittleEndian.AppendUint32(b, c.strBkt[bkt]) // next name in the bucket
	c.strBkt[bkt] = off
	c.names[name] = off
	u := utf16le.Encode(name)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(u)/2))
	b = append(b, u...)
	return append(b, 0, 0)
}

func (c *evtxChunk) appendElement(b []byte, base int, e *evtxElement) []byte {
	tok := byte(bxOpenStartElement)
	if len(e.attrs) > 0 {
		tok |= bxHasMoreData
	}
	b = append(b, tok)
	b = binary.LittleEndian.AppendUint16(b, 0xffff) // dependency identifier: none
	sizeAt := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = c.appendName(b, base, e.name)
	if len(e.attrs) > 0 {
		listAt := len(b)
		b = binary.LittleEndian.AppendUint32(b, 0)
		list := len(b)
		for i, a := range e.attrs {
			at := byte(bxAttribute)
			if i < len(e.attrs)-1 {
				at |= bxHasMoreData
			}
			b = append(b, at)
			b = c.appendName(b, base, a.name)
			if a.sub >= 0 {
				b = appendSubstitution(b, a.sub, a.subType, a.optional)
			} else {
				b = appendText(b, a.text)
			}
		}
		binary.LittleEndian.PutUint32(b[listAt:], uint32(len(b)-list))
	}
	switch {
	case e.sub >= 0:
		b = append(b, bxCloseStartElement)
		b = appendSubstitution(b, e.sub, e.subType, e.optional)
		b = append(b, bxEndElement)
	case e.text != "":
		b = append(b, bxCloseStartElement)
		b = appendText(b, e.text)
		b = append(b, bxEndElement)
	case len(e.children) > 0:
		b = append(b, bxCloseStartElement)
		for _, ch := range e.children {
			b = c.appendElement(b, base, ch)
		}
		b = append(b, bxEndElement)
	default:
		b = append(b, bxCloseEmptyElement)
	}
	// The element's size counts the bytes after the size field, its end included.
	binary.LittleEndian.PutUint32(b[sizeAt:], uint32(len(b)-sizeAt-4))
	return b
}

func appendSubstitution(b []byte, index int, typ byte, optional bool) []byte {
	tok := byte(bxNormalSubstitution)
	if optional {
		tok = bxOptionalSubstitution
	}
	b = append(b, tok)
	b = binary.LittleEndian.AppendUint16(b, uint16(index))
	return append(b, typ)
}

func appendText(b []byte, s string) []byte {
	u := utf16le.Encode(s)
	b = append(b, bxValue, evtStringType)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(u)/2))
	return append(b, u...)
}
