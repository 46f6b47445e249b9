package regfile

import (
	"fmt"
	"slices"
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
	p := &parser{src: src}
	p.startLine(0)
	p.line = 1

	f := &File{}
	head := p.src[p.lineStart:p.lineEnd]
	for len(head) > 0 && isSpace(head[len(head)-1]) {
		head = head[:len(head)-1]
	}
	switch {
	case unitsEqual(head, header5):
		f.Format = Regedit5
	case unitsEqual(head, header4):
		if enc != encANSI {
			return nil, p.errAt(p.lineStart, fmt.Sprintf("a REGEDIT4 file is ANSI text, not %s", enc))
		}
		f.Format = Regedit4
		p.ansi = true
	default:
		return nil, p.errAt(p.lineStart, fmt.Sprintf("missing header %q or %q", header5, header4))
	}

	cur := -1 // index in f.Keys of the open section
	first := 0
	closeKey := func() {
		if cur >= 0 && len(p.vals) > first {
			f.Keys[cur].Values = slices.Clip(p.vals[first:])
		}
		first = len(p.vals)
	}
	for p.nextLine() {
		p.i = p.lineStart
		p.skipSpace()
		if p.eol() {
			continue
		}
		switch p.src[p.i] {
		case ';':
			continue
		case '[':
			k, err := p.key()
			if err != nil {
				return nil, err
			}
			closeKey()
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
			p.vals = append(p.vals, v)
		default:
			return nil, p.errAt(p.i, fmt.Sprintf("unexpected %s at start of line", quoteUnit(p.src[p.i])))
		}
	}
	closeKey()
	return f, nil
}

// parser walks the text one physical line at a time. Invariant: the current
// line is src[lineStart:lineEnd] and lineStart <= i <= lineEnd.
type parser struct {
	src                []uint16
	i                  int
	line               int
	lineStart, lineEnd int
	ansi               bool // REGEDIT4: hex(2)/hex(7) data is narrow

	units []uint16 // scratch for quoted strings
	bytes []byte   // scratch for data
	arena []byte   // backing store handed out to values' Data
	vals  []Value  // values of every key; each key holds a clipped window
}

func (p *parser) startLine(at int) {
	p.lineStart, p.i = at, at
	e := at
	for e < len(p.src) && p.src[e] != '\n' && p.src[e] != '\r' {
		e++
	}
	p.lineEnd = e
}

// nextLine moves to the line after the current one; false at the end of the text.
func (p *parser) nextLine() bool {
	e := p.lineEnd
	if e >= len(p.src) {
		return false
	}
	if p.src[e] == '\r' && e+1 < len(p.src) && p.src[e+1] == '\n' {
		e++
	}
	p.line++
	p.startLine(e + 1)
	return true
}

func (p *parser) eol() bool { return p.i >= p.lineEnd }

func (p *parser) skipSpace() {
	for p.i < p.lineEnd && isSpace(p.src[p.i]) {
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
		if p.src[j] == ']' {
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
		return Key{}, p.errAt(p.i, fmt.Sprintf("unexpected %s after ']'", quoteUnit(p.src[p.i])))
	}
	var k Key
	start := open + 1
	if p.src[start] == '-' {
		k.Delete = true
		start++
	}
	if start == end {
		return Key{}, p.errAt(start, "empty key name")
	}
	k.Path = unitsString(p.src[start:end])
	return k, nil
}

// value parses one value line at p.i: a name ("name" or @), '=' and the data.
func (p *parser) value() (Value, error) {
	var v Value
	if p.src[p.i] == '@' {
		p.i++
	} else {
		u, err := p.quoted()
		if err != nil {
			return v, err
		}
		v.Name = unitsString(u)
	}
	p.skipSpace()
	if p.eol() || p.src[p.i] != '=' {
		return v, p.errAt(p.i, "missing '=' after value name")
	}
	p.i++
	p.skipSpace()
	if p.eol() {
		return v, p.errAt(p.i, "missing value data after '='")
	}
	switch c := p.src[p.i]; {
	case c == '"':
		u, err := p.quoted()
		if err != nil {
			return v, err
		}
		b := p.bytes[:0]
		for _, c := range u {
			b = append(b, byte(c), byte(c>>8))
		}
		p.bytes = append(b, 0, 0)
		v.Type, v.Data = REG_SZ, p.keep(p.bytes)
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
		v.Type, v.Data = REG_DWORD, p.keep(p.bytes)
	case p.hasPrefix("hex:"):
		p.i += len("hex:")
		v.Type = REG_BINARY
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
	if p.eol() || p.src[p.i] == ';' {
		return nil
	}
	return p.errAt(p.i, fmt.Sprintf("unexpected %s after value", quoteUnit(p.src[p.i])))
}

// quoted parses a "..." string at p.i with regedit's escapes \\ and \"; any
// other backslash is kept as written. It returns the units in scratch space.
func (p *parser) quoted() ([]uint16, error) {
	open := p.i
	u := p.units[:0]
	for p.i++; p.i < p.lineEnd; p.i++ {
		c := p.src[p.i]
		switch {
		case c == '"':
			p.i++
			p.units = u
			return u, nil
		case c == '\\' && p.i+1 < p.lineEnd && (p.src[p.i+1] == '\\' || p.src[p.i+1] == '"'):
			p.i++
			c = p.src[p.i]
		}
		u = append(u, c)
	}
	p.units = u
	return nil, p.errAt(open, "unterminated string")
}

// hexNumber parses 1 to max hex digits at p.i.
func (p *parser) hexNumber(what string, max int) (uint32, error) {
	start := p.i
	var n uint32
	for p.i < p.lineEnd {
		h := hexVal(p.src[p.i])
		if h < 0 {
			break
		}
		if p.i-start == max {
			return 0, p.errAt(start, fmt.Sprintf("%s number longer than %d hex digits", what, max))
		}
		n = n<<4 | uint32(h)
		p.i++
	}
	if !p.eol() && isAlnum(p.src[p.i]) {
		return 0, p.errAt(p.i, fmt.Sprintf("bad hex digit %s", quoteUnit(p.src[p.i])))
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
		p.skipSpace()
		if p.eol() || p.src[p.i] == ';' {
			break
		}
		c := p.src[p.i]
		if c == '\\' {
			if !wantByte {
				return p.errAt(p.i, "missing ',' before '\\'")
			}
			p.i++
			p.skipSpace()
			if !p.eol() {
				return p.errAt(p.i, fmt.Sprintf("unexpected %s after '\\'", quoteUnit(p.src[p.i])))
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
			if h2 := hexVal(p.src[p.i]); h2 >= 0 {
				h = h<<4 | h2
				p.i++
				if !p.eol() && hexVal(p.src[p.i]) >= 0 {
					return p.errAt(p.i, "hex byte longer than 2 digits")
				}
			}
		}
		if !p.eol() && isAlnum(p.src[p.i]) {
			return p.errAt(p.i, fmt.Sprintf("bad hex digit %s", quoteUnit(p.src[p.i])))
		}
		b = append(b, byte(h))
		p.skipSpace()
		wantByte = !p.eol() && p.src[p.i] == ','
		if wantByte {
			p.i++
		}
	}
	p.bytes = b
	if p.ansi && (v.Type == REG_EXPAND_SZ || v.Type == REG_MULTI_SZ) {
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
	if p.lineEnd-p.i < len(s) {
		return false
	}
	for j := 0; j < len(s); j++ {
		if p.src[p.i+j] != uint16(s[j]) {
			return false
		}
	}
	return true
}

func unitsEqual(u []uint16, s string) bool {
	if len(u) != len(s) {
		return false
	}
	for i := range u {
		if u[i] != uint16(s[i]) {
			return false
		}
	}
	return true
}

func isSpace(c uint16) bool { return c == ' ' || c == '\t' }

func isAlnum(c uint16) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func hexVal(c uint16) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// quoteUnit shows a code unit in a message: 'g', or U+0000 for the unprintable.
func quoteUnit(c uint16) string {
	if c >= 0x20 && c < 0x7F {
		return fmt.Sprintf("'%c'", rune(c))
	}
	return fmt.Sprintf("U+%04X", c)
}
