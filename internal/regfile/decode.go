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

// decodeText turns the file's bytes into UTF-16 code units, which is what the
// parser works on: regedit's own files are UTF-16LE and their string data goes
// to the registry as UTF-16LE, so most of a file is used as it comes.
//
// The encoding is found the way regedit finds it: a byte-order mark, else the
// header. Without a BOM, "REGEDIT4" means code page 1252, text whose second
// byte is NUL is UTF-16LE, anything else is taken as UTF-8.
func decodeText(data []byte) ([]uint16, encoding, error) {
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		return decodeUTF16(data[2:], false)
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		return decodeUTF16(data[2:], true)
	case len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF:
		return decodeUTF8(data[3:])
	case len(data) >= len(header4) && string(data[:len(header4)]) == header4:
		u := make([]uint16, len(data))
		for i, b := range data {
			u[i] = widen1252(b)
		}
		return u, encANSI, nil
	case len(data) >= 2 && data[0] != 0 && data[1] == 0:
		return decodeUTF16(data, false)
	}
	return decodeUTF8(data)
}

func decodeUTF16(data []byte, bigEndian bool) ([]uint16, encoding, error) {
	u := make([]uint16, len(data)/2)
	enc := encUTF16LE
	if bigEndian {
		enc = encUTF16BE
		for i := range u {
			u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		}
	} else {
		for i := range u {
			u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
		}
	}
	if len(data)%2 != 0 {
		line, col := position(u, len(u))
		return nil, enc, &SyntaxError{line, col, fmt.Sprintf("%s text ends in half a character", enc)}
	}
	return u, enc, nil
}

func decodeUTF8(data []byte) ([]uint16, encoding, error) {
	u := make([]uint16, 0, len(data))
	for i := 0; i < len(data); {
		if c := data[i]; c < utf8.RuneSelf {
			u = append(u, uint16(c))
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			line, col := position(u, len(u))
			return nil, encUTF8, &SyntaxError{line, col, fmt.Sprintf("invalid UTF-8 byte 0x%02x", data[i])}
		}
		u = utf16.AppendRune(u, r)
		i += n
	}
	return u, encUTF8, nil
}

// position returns the line and column of unit i, with the parser's notion
// of a line break (CRLF, LF or CR).
func position(u []uint16, i int) (line, col int) {
	line, start := 1, 0
	for j := 0; j < i && j < len(u); j++ {
		switch u[j] {
		case '\n':
			line, start = line+1, j+1
		case '\r':
			if j+1 < len(u) && u[j+1] == '\n' {
				continue
			}
			line, start = line+1, j+1
		}
	}
	return line, i - start + 1
}
