package regfile

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// cp1252High maps the bytes 0x80..0x9F of code page 1252 to UTF-16. The five
// bytes the code page leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to
// the C1 control of the same number, as Windows' MultiByteToWideChar does, so
// that every byte survives a widen/narrow round trip. 0x00..0x7F and 0xA0..0xFF
// are the same numbers in both.
var cp1252High = func() (t [32]uint16) {
	for i := range t {
		b := byte(0x80 + i)
		r := charmap.Windows1252.DecodeByte(b)
		if r == utf8.RuneError {
			r = rune(b)
		}
		t[i] = uint16(r)
	}
	return t
}()

// widen1252 returns the UTF-16 code unit of a code page 1252 byte.
func widen1252(b byte) uint16 {
	if b >= 0x80 && b < 0xA0 {
		return cp1252High[b-0x80]
	}
	return uint16(b)
}

// narrow1252 returns the code page 1252 byte of a UTF-16 code unit.
func narrow1252(u uint16) (byte, bool) {
	if u < 0x80 || (u >= 0xA0 && u <= 0xFF) {
		return byte(u), true
	}
	for i, w := range cp1252High {
		if w == u {
			return byte(0x80 + i), true
		}
	}
	return '?', false
}

// unitsString converts UTF-16LE text to a Go string; a lone surrogate
// becomes U+FFFD.
func unitsString(le []byte) string {
	n := len(le) / 2
	var sb strings.Builder
	sb.Grow(n)
	for i := 0; i < n; i++ {
		c := unitAt(le, i)
		switch {
		case c < utf8.RuneSelf:
			sb.WriteByte(byte(c))
		case utf16.IsSurrogate(rune(c)):
			r := utf8.RuneError
			if i+1 < n {
				if d := utf16.DecodeRune(rune(c), rune(unitAt(le, i+1))); d != utf8.RuneError {
					r = d
					i++
				}
			}
			sb.WriteRune(r)
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// cleanString reports whether data is a UTF-16LE string that a quoted .reg
// string reproduces exactly: even length, one terminating NUL and no other,
// surrogates paired, no line break, and (for REGEDIT4) every unit in code page
// 1252.
func cleanString(data []byte, ansi bool) bool {
	n := len(data)
	if n < 2 || n%2 != 0 || data[n-2] != 0 || data[n-1] != 0 {
		return false
	}
	for i := 0; i < n-2; i += 2 {
		u := uint16(data[i]) | uint16(data[i+1])<<8
		switch {
		case u == 0, u == '\r', u == '\n':
			return false
		case u >= 0xD800 && u < 0xDC00: // high surrogate: a low one must follow
			if i+3 >= n-2 {
				return false
			}
			v := uint16(data[i+2]) | uint16(data[i+3])<<8
			if v < 0xDC00 || v >= 0xE000 {
				return false
			}
			i += 2
			if ansi {
				return false
			}
		case u >= 0xDC00 && u < 0xE000:
			return false
		case ansi:
			if _, ok := narrow1252(u); !ok {
				return false
			}
		}
	}
	return true
}
