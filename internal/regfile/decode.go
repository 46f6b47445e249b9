package regfile

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// encoding is the character encoding a file was found in.
type encoding int

const (
	encUTF16LE encoding = iota
	encUTF16BE
	encUTF8
	encANSI // code page 1252, REGEDIT4 only
)

func (e encoding) String() string {
	return [...]string{"UTF-16LE", "UTF-16BE", "UTF-8", "ANSI"}[e]
}

// decodeText returns the file's text as UTF-16LE, which is what the parser
// works on: regedit's own files are UTF-16LE and their string data goes to
// the registry as UTF-16LE, so such a file is parsed where it lies, without a
// copy. Other encodings are converted first.
//
// The encoding is found the way regedit finds it: a byte-order mark, else the
// header. Without a BOM, "REGEDIT4" means code page 1252, text whose second
// byte is NUL is UTF-16LE, anything else is taken as UTF-8.
func decodeText(data []byte) ([]byte, encoding, error) {
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		return checkEven(data[2:], encUTF16LE)
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		be := data[2:]
		le := make([]byte, len(be))
		for i := 0; i+1 < len(be); i += 2 {
			le[i], le[i+1] = be[i+1], be[i]
		}
		return checkEven(le, encUTF16BE)
	case len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF:
		return decodeUTF8(data[3:])
	case len(data) >= len(header4) && string(data[:len(header4)]) == header4:
		le := make([]byte, 2*len(data))
		for i, b := range data {
			u := widen1252(b)
			le[2*i], le[2*i+1] = byte(u), byte(u>>8)
		}
		return le, encANSI, nil
	case len(data) >= 2 && data[0] != 0 && data[1] == 0:
		return checkEven(data, encUTF16LE)
	}
	return decodeUTF8(data)
}

func checkEven(le []byte, enc encoding) ([]byte, encoding, error) {
	if len(le)%2 != 0 {
		n := len(le) - 1
		line, col := position(le[:n], n/2)
		return nil, enc, &SyntaxError{line, col, fmt.Sprintf("%s text ends in half a character", enc)}
	}
	return le, enc, nil
}

func decodeUTF8(data []byte) ([]byte, encoding, error) {
	le := make([]byte, 0, 2*len(data))
	for i := 0; i < len(data); {
		if c := data[i]; c < utf8.RuneSelf {
			le = append(le, c, 0)
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			line, col := position(le, len(le)/2)
			return nil, encUTF8, &SyntaxError{line, col, fmt.Sprintf("invalid UTF-8 byte 0x%02x", data[i])}
		}
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			le = append(le, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
		} else {
			le = append(le, byte(r), byte(r>>8))
		}
		i += n
	}
	return le, encUTF8, nil
}

// unitAt is the UTF-16 code unit i of UTF-16LE text.
func unitAt(le []byte, i int) uint16 {
	b := le[2*i : 2*i+2]
	return uint16(b[0]) | uint16(b[1])<<8
}

// position returns the line and column of unit i of UTF-16LE text, with the
// parser's notion of a line break (CRLF, LF or CR). Used for errors only.
func position(le []byte, i int) (line, col int) {
	line, start := 1, 0
	n := len(le) / 2
	for j := 0; j < i && j < n; j++ {
		switch unitAt(le, j) {
		case '\n':
			line, start = line+1, j+1
		case '\r':
			if j+1 < n && unitAt(le, j+1) == '\n' {
				continue
			}
			line, start = line+1, j+1
		}
	}
	return line, i - start + 1
}
