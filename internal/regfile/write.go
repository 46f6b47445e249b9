package regfile

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"wolfpack/internal/regtype"
)

// Write writes f in regedit's layout: the header, then for each key a blank
// line, "[PATH]" and its values one per line, and a blank line at the end.
func Write(w io.Writer, f *File) error {
	ww := NewWriter(w, f.Format)
	for i := range f.Keys {
		k := &f.Keys[i]
		if k.Delete {
			if len(k.Values) > 0 {
				return &EncodeError{Path: k.Path, Msg: "a deleted key has no values"}
			}
			if err := ww.DeleteKey(k.Path); err != nil {
				return err
			}
			continue
		}
		if err := ww.WriteKey(k.Path); err != nil {
			return err
		}
		for j := range k.Values {
			v := &k.Values[j]
			var err error
			if v.Delete {
				err = ww.DeleteValue(v.Name)
			} else {
				err = ww.WriteValue(v.Name, v.Type, v.Data)
			}
			if err != nil {
				return err
			}
		}
	}
	return ww.Close()
}

// Writer streams a .reg file: WriteKey opens a section, WriteValue and
// DeleteValue add lines to it, Close ends the file. It buffers its output;
// nothing is complete until Close returns. The first error sticks.
type Writer struct {
	// Strict makes a REGEDIT4 Writer fail with an *EncodeError on a
	// character that code page 1252 cannot hold, where regedit (and the
	// default) writes '?'. Set it before the first call.
	Strict bool

	w      io.Writer
	format Format
	wide   bool // UTF-16LE output
	buf    []byte
	err    error
	begun  bool   // header written
	path   string // open section, for errors
	inKey  bool   // a [PATH] section is open (not [-PATH])
	anyKey bool
	closed bool
}

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("regfile: writer closed")

const flushAt = 64 << 10

// NewWriter returns a Writer of the given format to w.
func NewWriter(w io.Writer, format Format) *Writer {
	return &Writer{w: w, format: format, wide: format == Regedit5, buf: make([]byte, 0, flushAt+4<<10)}
}

func (w *Writer) begin() error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil || w.begun {
		return w.err
	}
	w.begun = true
	switch w.format {
	case Regedit5:
		w.buf = append(w.buf, 0xFF, 0xFE)
		w.ascii(header5)
	case Regedit4:
		w.ascii(header4)
	default:
		w.err = fmt.Errorf("regfile: unknown format %d", int(w.format))
		return w.err
	}
	w.newline()
	return nil
}

// WriteKey starts the section "[path]".
func (w *Writer) WriteKey(path string) error {
	return w.section(path, false)
}

// DeleteKey writes "[-path]", which deletes the key and its subtree on import.
func (w *Writer) DeleteKey(path string) error {
	return w.section(path, true)
}

func (w *Writer) section(path string, del bool) error {
	if err := w.begin(); err != nil {
		return err
	}
	switch {
	case path == "":
		return w.fail(&EncodeError{Path: path, Msg: "empty key path"})
	case path[0] == '-' && !del:
		return w.fail(&EncodeError{Path: path, Msg: "a key path starting with '-' reads back as a deletion"})
	}
	w.path, w.inKey, w.anyKey = path, !del, true
	w.newline()
	w.ascii("[")
	if del {
		w.ascii("-")
	}
	if _, err := w.text(path, false); err != nil {
		return w.fail(&EncodeError{Path: path, Msg: err.Error()})
	}
	w.ascii("]")
	w.newline()
	return w.flushSome()
}

// DeleteValue writes "name"=-, which deletes the value on import.
func (w *Writer) DeleteValue(name string) error {
	if _, err := w.valueName(name); err != nil {
		return err
	}
	w.ascii("-")
	w.newline()
	return w.flushSome()
}

// WriteValue writes a value line the way regedit does: REG_SZ as "text",
// REG_DWORD as dword:, REG_BINARY as hex:, every other type as hex(N):, with
// hex data wrapped at 80 columns. Data that the short forms cannot carry
// exactly (a REG_SZ without its NUL, a REG_DWORD of another length) is
// written as hex(N): instead.
func (w *Writer) WriteValue(name string, typ uint32, data []byte) error {
	n, err := w.valueName(name)
	if err != nil {
		return err
	}
	switch {
	case typ == regtype.REG_SZ && cleanString(data, !w.wide):
		w.ascii(`"`)
		w.stringData(data[:len(data)-2])
		w.ascii(`"`)
	case typ == regtype.REG_DWORD && len(data) == 4:
		w.ascii("dword:")
		for i := 3; i >= 0; i-- {
			w.hexByte(data[i])
		}
	case !w.wide && (typ == regtype.REG_EXPAND_SZ || typ == regtype.REG_MULTI_SZ):
		narrow, ok := narrowData(data)
		if !ok && w.Strict {
			return w.fail(&EncodeError{Path: w.path, Name: name, Msg: "string data has characters that REGEDIT4 (code page 1252) cannot hold"})
		}
		w.hexData(n, typ, narrow)
	default:
		w.hexData(n, typ, data)
	}
	w.newline()
	return w.flushSome()
}

// valueName writes `"name"=` or `@=` and returns its length in characters.
func (w *Writer) valueName(name string) (int, error) {
	if err := w.begin(); err != nil {
		return 0, err
	}
	if !w.inKey {
		msg := "value outside a key"
		if w.anyKey {
			msg = "value under a deleted key"
		}
		return 0, w.fail(&EncodeError{Path: w.path, Name: name, Msg: msg})
	}
	if name == "" {
		w.ascii("@=")
		return 2, nil
	}
	w.ascii(`"`)
	n, err := w.text(name, true)
	if err != nil {
		return 0, w.fail(&EncodeError{Path: w.path, Name: name, Msg: err.Error()})
	}
	w.ascii(`"=`)
	return n + 3, nil
}

// Close ends the file with regedit's final blank line and flushes it. It does
// not close the underlying writer. Closing again returns the first result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	if err := w.begin(); err != nil {
		return err
	}
	w.newline()
	err := w.flush()
	w.closed = true
	return err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) flushSome() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) >= flushAt {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		if _, err := w.w.Write(w.buf); err != nil {
			return w.fail(fmt.Errorf("regfile: %w", err))
		}
		w.buf = w.buf[:0]
	}
	return nil
}

// ascii appends s, which is ASCII, in the output encoding.
func (w *Writer) ascii(s string) {
	if !w.wide {
		w.buf = append(w.buf, s...)
		return
	}
	n := len(w.buf)
	w.buf = slices.Grow(w.buf, 2*len(s))[:n+2*len(s)]
	out := w.buf[n:]
	for i := 0; i < len(s); i++ {
		out[2*i], out[2*i+1] = s[i], 0
	}
}

func (w *Writer) newline() { w.ascii("\r\n") }

// unit appends one UTF-16 code unit in the output encoding. In REGEDIT4 a unit
// outside code page 1252 becomes '?' (an error when Strict).
func (w *Writer) unit(u uint16) bool {
	if w.wide {
		w.buf = append(w.buf, byte(u), byte(u>>8))
		return true
	}
	b, ok := narrow1252(u)
	w.buf = append(w.buf, b)
	return ok
}

// text appends a name or path, escaping \ and " when quoted, and returns its
// length in UTF-16 code units as written.
func (w *Writer) text(s string, quoted bool) (int, error) {
	n, i := 0, 0
	if w.wide {
		// The common case: a run of ASCII, written straight into the buffer,
		// two bytes a character and four for an escaped one.
		start := len(w.buf)
		w.buf = slices.Grow(w.buf, 4*len(s))
		out := w.buf[start : start+4*len(s)]
		j := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c >= utf8.RuneSelf || c == '\r' || c == '\n' {
				break
			}
			if quoted && (c == '\\' || c == '"') {
				out[j], out[j+1] = '\\', 0
				j += 2
			}
			out[j], out[j+1] = c, 0
			j += 2
		}
		w.buf = w.buf[:start+j]
		n = j / 2
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\r' || c == '\n':
				return n, fmt.Errorf("line break in name")
			case quoted && (c == '\\' || c == '"'):
				w.unit('\\')
				n++
			}
			w.unit(uint16(c))
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r < 0x10000:
			if !w.unit(uint16(r)) && w.Strict {
				return n, fmt.Errorf("character %U not in code page 1252", r)
			}
			n++
		case w.wide:
			r -= 0x10000
			w.unit(uint16(0xD800 + r>>10))
			w.unit(uint16(0xDC00 + r&0x3FF))
			n += 2
		case w.Strict:
			return n, fmt.Errorf("character %U not in code page 1252", r)
		default:
			w.buf = append(w.buf, '?')
			n++
		}
	}
	return n, nil
}

// stringData appends UTF-16LE string data (without its NUL) as the inside of
// a quoted string. cleanString has vetted it.
func (w *Writer) stringData(d []byte) {
	if w.wide {
		start := 0
		for i := 0; i < len(d); i += 2 {
			if d[i+1] == 0 && (d[i] == '\\' || d[i] == '"') {
				w.buf = append(w.buf, d[start:i]...)
				w.buf = append(w.buf, '\\', 0)
				start = i
			}
		}
		w.buf = append(w.buf, d[start:]...)
		return
	}
	for i := 0; i < len(d); i += 2 {
		u := uint16(d[i]) | uint16(d[i+1])<<8
		if u == '\\' || u == '"' {
			w.buf = append(w.buf, '\\')
		}
		b, _ := narrow1252(u)
		w.buf = append(w.buf, b)
	}
}

// narrowData turns UTF-16LE into code page 1252 bytes for REGEDIT4's hex(2)
// and hex(7); ok is false when something was lost.
func narrowData(d []byte) (out []byte, ok bool) {
	out = make([]byte, len(d)/2)
	ok = len(d)%2 == 0
	for i := range out {
		b, good := narrow1252(uint16(d[2*i]) | uint16(d[2*i+1])<<8)
		out[i] = b
		ok = ok && good
	}
	return out, ok
}

const hexDigits = "0123456789abcdef"

// wrapWide is regedit's line continuation, "\\\r\n  ", in UTF-16LE.
const wrapWide = "\\\x00\r\x00\n\x00 \x00 \x00"

// Hex bytes as they appear in the output: "xx," in UTF-16LE or ANSI.
var (
	hexWide = func() (t [256][6]byte) {
		for i := range t {
			t[i] = [6]byte{hexDigits[i>>4], 0, hexDigits[i&15], 0, ',', 0}
		}
		return t
	}()
	hexNarrow = func() (t [256][3]byte) {
		for i := range t {
			t[i] = [3]byte{hexDigits[i>>4], hexDigits[i&15], ','}
		}
		return t
	}()
)

func (w *Writer) hexByte(b byte) {
	if w.wide {
		w.buf = append(w.buf, hexWide[b][:4]...)
	} else {
		w.buf = append(w.buf, hexNarrow[b][:2]...)
	}
}

// maxHexCol is regedit's wrapping rule: after a byte's comma, once the line
// has reached 77 characters, it ends with '\' and the next starts with two
// spaces, so no line is longer than 80.
const maxHexCol = 77

// hexData appends "hex:" or "hex(N):" and the bytes; col is the length of the
// line so far (the value name and '=').
func (w *Writer) hexData(col int, typ uint32, d []byte) {
	if typ == regtype.REG_BINARY {
		w.ascii("hex:")
		col += 4
	} else {
		var tb [16]byte
		t := append(strconv.AppendUint(append(tb[:0], "hex("...), uint64(typ), 16), "):"...)
		for _, c := range t {
			w.unit(uint16(c))
		}
		col += len(t)
	}
	if len(d) == 0 {
		return
	}
	last := len(d) - 1
	if w.wide {
		// Room for every byte and the most line breaks there can be.
		start := len(w.buf)
		w.buf = slices.Grow(w.buf, 6*len(d)+len(wrapWide)*(len(d)/25+2))
		out := w.buf[start:cap(w.buf)]
		j := 0
		for _, b := range d[:last] {
			copy(out[j:j+6], hexWide[b][:])
			j += 6
			if col += 3; col >= maxHexCol {
				j += copy(out[j:], wrapWide)
				col = 2
			}
		}
		j += copy(out[j:j+4], hexWide[d[last]][:4])
		w.buf = w.buf[:start+j]
		return
	}
	for _, b := range d[:last] {
		w.buf = append(w.buf, hexNarrow[b][:]...)
		if col += 3; col >= maxHexCol {
			w.buf = append(w.buf, "\\\r\n  "...)
			col = 2
		}
	}
	w.buf = append(w.buf, hexNarrow[d[last]][:2]...)
}
