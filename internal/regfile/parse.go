package regfile

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf8"

	"wolfpack/internal/regtype"
)

// Parse reads a .reg file. The format is found from the byte-order mark and
// the header line (see decodeText); in a REGEDIT4 file the narrow hex(2) and
// hex(7) data is widened to UTF-16LE. A file that breaks the grammar gives a
// *SyntaxError naming the line and column.
//
// Memory stays proportional to len(data): every value's data is at most the
// size of the text it was written in.
func Parse(data []byte) (*File, error) {
	src, enc, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, n: len(src) / 2, lf: -1}
	p.startLine(0)
	p.line = 1

	f := &File{}
	head := p.lineEnd
	for head > p.lineStart && isSpace(p.at(head-1)) {
		head--
	}
	switch {
	case p.equal(p.lineStart, head, header5):
		f.Format = Regedit5
	case p.equal(p.lineStart, head, header4):
		if enc != encANSI {
			return nil, p.errAt(p.lineStart, fmt.Sprintf("a REGEDIT4 file is ANSI text, not %s", enc))
		}
		f.Format = Regedit4
		p.ansi = true
	default:
		return nil, p.errAt(p.lineStart, fmt.Sprintf("missing header %q or %q", header5, header4))
	}

	cur := -1 // index in f.Keys of the open section
	closeKey := func() {
		if cur >= 0 && len(p.vals) > p.first {
			f.Keys[cur].Values = p.vals[p.first:len(p.vals):len(p.vals)]
		}
		p.first = len(p.vals)
	}
	for p.nextLine() {
		p.i = p.lineStart
		p.skipSpace()
		if p.eol() {
			continue
		}
		switch p.at(p.i) {
		case ';':
			continue
		case '[':
			k, err := p.key()
			if err != nil {
				return nil, err
			}
			closeKey()
			if len(f.Keys) == cap(f.Keys) { // double: append's 1.25× growth copies too often
				f.Keys = slices.Grow(f.Keys, max(64, len(f.Keys)))
			}
			f.Keys = append(f.Keys, k)
			cur = len(f.Keys) - 1
		case '"', '@':
			switch {
			case cur < 0:
				return nil, p.errAt(p.i, "value before any [KEY] line")
			case f.Keys[cur].Delete:
				return nil, p.errAt(p.i, fmt.Sprintf("value under deleted key [-%s]", f.Keys[cur].Path))
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			p.addValue(v)
		default:
			return nil, p.errAt(p.i, fmt.Sprintf("unexpected %s at start of line", quoteUnit(p.at(p.i))))
		}
	}
	closeKey()
	return f, nil
}

// parser walks the text one physical line at a time. Invariant: the current
// line is src[lineStart:lineEnd] and lineStart <= i <= lineEnd.
type parser struct {
	src                []byte // UTF-16LE
	n                  int    // units in src
	lf                 int    // the first LF at or after lineStart, once found; -1 before
	i                  int
	line               int
	lineStart, lineEnd int
	ansi               bool // REGEDIT4: hex(2)/hex(7) data is narrow

	text  []byte  // scratch for quoted strings, UTF-16LE
	bytes []byte  // scratch for data
	ascii []byte  // scratch for names
	arena []byte  // backing store handed out to values' Data
	vals  []Value // current chunk of values; each key holds a clipped window of one
	first int     // index in vals of the open key's first value
}

const valueChunk = 4096

// addValue appends v to the open key. Values live in fixed chunks rather
// than one growing slice, so that a file of millions of values is never
// copied; a key whose values outgrow a chunk moves to a new one.
func (p *parser) addValue(v Value) {
	if len(p.vals) == cap(p.vals) {
		open := p.vals[p.first:]
		vals := make([]Value, len(open), max(valueChunk, 2*len(open)))
		copy(vals, open)
		p.vals, p.first = vals, 0
	}
	p.vals = append(p.vals, v)
}

func (p *parser) at(i int) uint16 { return unitAt(p.src, i) }

// string converts UTF-16LE text to a Go string, with one allocation when
// the text is ASCII, as names mostly are.
func (p *parser) string(le []byte) string {
	a := p.ascii[:0]
	for i := 0; i+1 < len(le); i += 2 {
		if le[i+1] != 0 || le[i] >= utf8.RuneSelf {
			return unitsString(le)
		}
		a = append(a, le[i])
	}
	p.ascii = a
	return string(a)
}

func (p *parser) startLine(at int) {
	p.lineStart, p.i = at, at
	// The next LF is remembered across lines, so that a file of CR-only
	// line ends is not searched to its end once per line.
	if p.lf < at {
		p.lf = p.find(at, p.n, '\n')
	}
	p.lineEnd = p.find(at, p.lf, '\r')
}

// find returns the first unit c (ASCII) in units [from, to), or to.
func (p *parser) find(from, to int, c byte) int {
	b := p.src[2*from : 2*to]
	for off := 0; ; {
		j := bytes.IndexByte(b[off:], c)
		if j < 0 {
			return to
		}
		j += off
		if j%2 == 0 && b[j+1] == 0 {
			return from + j/2
		}
		off = j + 1
	}
}

// nextLine moves to the line after the current one; false at the end of the text.
func (p *parser) nextLine() bool {
	e := p.lineEnd
	if e >= p.n {
		return false
	}
	if p.at(e) == '\r' && e+1 < p.n && p.at(e+1) == '\n' {
		e++
	}
	p.line++
	p.startLine(e + 1)
	return true
}

func (p *parser) eol() bool { return p.i >= p.lineEnd }

func (p *parser) skipSpace() {
	for p.i < p.lineEnd && isSpace(p.at(p.i)) {
		p.i++
	}
}

func (p *parser) errAt(i int, msg string) *SyntaxError {
	return &SyntaxError{Line: p.line, Col: i - p.lineStart + 1, Msg: msg}
}

// key parses "[PATH]" or "[-PATH]" at p.i. The path runs to the last ']' of
// the line, as in regedit: key names may themselves hold ']'.
func (p *parser) key() (Key, error) {
	open := p.i
	end := -1
	for j := p.lineEnd - 1; j > open; j-- {
		if p.at(j) == ']' {
			end = j
			break
		}
	}
	if end < 0 {
		return Key{}, p.errAt(p.lineEnd, "missing ']' at end of key name")
	}
	p.i = end + 1
	p.skipSpace()
	if !p.eol() {
		return Key{}, p.errAt(p.i, fmt.Sprintf("unexpected %s after ']'", quoteUnit(p.at(p.i))))
	}
	var k Key
	start := open + 1
	if p.at(start) == '-' {
		k.Delete = true
		start++
	}
	if start == end {
		return Key{}, p.errAt(start, "empty key name")
	}
	k.Path = p.string(p.src[2*start : 2*end])
	return k, nil
}

// value parses one value line at p.i: a name ("name" or @), '=' and the data.
func (p *parser) value() (Value, error) {
	var v Value
	if p.at(p.i) == '@' {
		p.i++
	} else {
		u, err := p.quoted()
		if err != nil {
			return v, err
		}
		v.Name = p.string(u)
	}
	p.skipSpace()
	if p.eol() || p.at(p.i) != '=' {
		return v, p.errAt(p.i, "missing '=' after value name")
	}
	p.i++
	p.skipSpace()
	if p.eol() {
		return v, p.errAt(p.i, "missing value data after '='")
	}
	switch c := p.at(p.i); {
	case c == '"':
		u, err := p.quoted()
		if err != nil {
			return v, err
		}
		p.text = append(u, 0, 0)
		v.Type, v.Data = regtype.REG_SZ, p.keep(p.text)
	case c == '-':
		p.i++
		v.Delete = true
	case p.hasPrefix("dword:"):
		p.i += len("dword:")
		d, err := p.hexNumber("dword", 8)
		if err != nil {
			return v, err
		}
		p.bytes = append(p.bytes[:0], byte(d), byte(d>>8), byte(d>>16), byte(d>>24))
		v.Type, v.Data = regtype.REG_DWORD, p.keep(p.bytes)
	case p.hasPrefix("hex:"):
		p.i += len("hex:")
		v.Type = regtype.REG_BINARY
		return v, p.hexData(&v)
	case p.hasPrefix("hex("):
		p.i += len("hex(")
		t, err := p.hexNumber("type", 8)
		if err != nil {
			return v, err
		}
		if !p.hasPrefix("):") {
			return v, p.errAt(p.i, "missing \"):\" after hex type number")
		}
		p.i += len("):")
		v.Type = t
		return v, p.hexData(&v)
	default:
		return v, p.errAt(p.i, "unknown value data: want \"string\", dword:, hex:, hex(N): or -")
	}
	return v, p.endOfValue()
}

// endOfValue accepts what may follow a value: blanks and a ';' comment.
func (p *parser) endOfValue() error {
	p.skipSpace()
	if p.eol() || p.at(p.i) == ';' {
		return nil
	}
	return p.errAt(p.i, fmt.Sprintf("unexpected %s after value", quoteUnit(p.at(p.i))))
}

// quoted parses a "..." string at p.i with regedit's escapes \\ and \"; any
// other backslash is kept as written. It returns the text, UTF-16LE, in
// scratch space.
func (p *parser) quoted() ([]byte, error) {
	open := p.i
	t := p.text[:0]
	run := p.i + 1 // start of the units not yet copied
	for p.i++; p.i < p.lineEnd; p.i++ {
		switch c := p.at(p.i); {
		case c == '"':
			t = append(t, p.src[2*run:2*p.i]...)
			p.i++
			p.text = t
			return t, nil
		case c == '\\' && p.i+1 < p.lineEnd && (p.at(p.i+1) == '\\' || p.at(p.i+1) == '"'):
			t = append(t, p.src[2*run:2*p.i]...)
			p.i++
			run = p.i
		}
	}
	p.text = t
	return nil, p.errAt(open, "unterminated string")
}

// hexNumber parses 1 to max hex digits at p.i.
func (p *parser) hexNumber(what string, max int) (uint32, error) {
	start := p.i
	var n uint32
	for p.i < p.lineEnd {
		h := hexVal(p.at(p.i))
		if h < 0 {
			break
		}
		if p.i-start == max {
			return 0, p.errAt(start, fmt.Sprintf("%s number longer than %d hex digits", what, max))
		}
		n = n<<4 | uint32(h)
		p.i++
	}
	if !p.eol() && isAlnum(p.at(p.i)) {
		return 0, p.errAt(p.i, fmt.Sprintf("bad hex digit %s", quoteUnit(p.at(p.i))))
	}
	if p.i == start {
		return 0, p.errAt(p.i, fmt.Sprintf("missing %s number", what))
	}
	return n, nil
}

// hexData parses a comma-separated list of hex bytes at p.i, following
// continuation lines (a '\' after a comma), into v.Data.
func (p *parser) hexData(v *Value) error {
	b := p.bytes[:0]
	wantByte := true // at the start or after a comma
	for {
		// Fast path for the "xx," that regedit writes: three units whose
		// high bytes are zero, two hex digits and a comma.
		for wantByte && p.lineEnd-p.i >= 3 {
			t := p.src[2*p.i : 2*p.i+6]
			hi, lo := hexTable[t[0]], hexTable[t[2]]
			if t[1]|t[3]|t[5] != 0 || t[4] != ',' || hi < 0 || lo < 0 {
				break
			}
			b = append(b, byte(hi<<4|lo))
			p.i += 3
		}
		p.skipSpace()
		if p.eol() || p.at(p.i) == ';' {
			break
		}
		c := p.at(p.i)
		if c == '\\' {
			if !wantByte {
				return p.errAt(p.i, "missing ',' before '\\'")
			}
			p.i++
			p.skipSpace()
			if !p.eol() {
				return p.errAt(p.i, fmt.Sprintf("unexpected %s after '\\'", quoteUnit(p.at(p.i))))
			}
			if !p.nextLine() {
				return p.errAt(p.i, "end of file after '\\'")
			}
			continue
		}
		if !wantByte {
			return p.errAt(p.i, fmt.Sprintf("missing ',' before %s", quoteUnit(c)))
		}
		h := hexVal(c)
		if h < 0 {
			return p.errAt(p.i, fmt.Sprintf("bad hex digit %s", quoteUnit(c)))
		}
		p.i++
		if !p.eol() {
			if h2 := hexVal(p.at(p.i)); h2 >= 0 {
				h = h<<4 | h2
				p.i++
				if !p.eol() && hexVal(p.at(p.i)) >= 0 {
					return p.errAt(p.i, "hex byte longer than 2 digits")
				}
			}
		}
		if !p.eol() && isAlnum(p.at(p.i)) {
			return p.errAt(p.i, fmt.Sprintf("bad hex digit %s", quoteUnit(p.at(p.i))))
		}
		b = append(b, byte(h))
		p.skipSpace()
		wantByte = !p.eol() && p.at(p.i) == ','
		if wantByte {
			p.i++
		}
	}
	p.bytes = b
	if p.ansi && (v.Type == regtype.REG_EXPAND_SZ || v.Type == regtype.REG_MULTI_SZ) {
		v.Data = p.widen(b)
		return nil
	}
	v.Data = p.keep(b)
	return nil
}

const (
	arenaChunk = 64 << 10
	arenaMax   = 4 << 10 // larger data gets its own allocation
)

// alloc hands out n bytes whose capacity ends at n, so that a caller's append
// never writes into another value's data.
func (p *parser) alloc(n int) []byte {
	if n > arenaMax {
		return make([]byte, n)
	}
	if cap(p.arena)-len(p.arena) < n {
		p.arena = make([]byte, 0, arenaChunk)
	}
	s := len(p.arena)
	p.arena = p.arena[:s+n]
	return p.arena[s : s+n : s+n]
}

func (p *parser) keep(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	d := p.alloc(len(b))
	copy(d, b)
	return d
}

// widen turns narrow code page 1252 bytes into UTF-16LE.
func (p *parser) widen(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	d := p.alloc(2 * len(b))
	for i, c := range b {
		u := widen1252(c)
		d[2*i], d[2*i+1] = byte(u), byte(u>>8)
	}
	return d
}

func (p *parser) hasPrefix(s string) bool {
	return p.lineEnd-p.i >= len(s) && p.equal(p.i, p.i+len(s), s)
}

// equal reports whether units [from, to) are the ASCII string s.
func (p *parser) equal(from, to int, s string) bool {
	if to-from != len(s) {
		return false
	}
	for j := 0; j < len(s); j++ {
		if p.at(from+j) != uint16(s[j]) {
			return false
		}
	}
	return true
}

func isSpace(c uint16) bool { return c == ' ' || c == '\t' }

func isAlnum(c uint16) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// hexTable holds the value of each hex digit, -1 for other bytes.
var hexTable = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, c := range "0123456789abcdef" {
		t[c] = int8(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = int8(10 + i)
	}
	return t
}()

func hexVal(c uint16) int {
	if c > 0xFF {
		return -1
	}
	return int(hexTable[c])
}

// quoteUnit shows a code unit in a message: 'g', or U+0000 for the unprintable.
func quoteUnit(c uint16) string {
	if c >= 0x20 && c < 0x7F {
		return fmt.Sprintf("'%c'", rune(c))
	}
	return fmt.Sprintf("U+%04X", c)
}
