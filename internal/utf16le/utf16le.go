// Package utf16le converts between Go strings and UTF-16LE bytes, the encoding of
// Windows' strings in hives, registry values, .reg files and EVTX records. Where the
// data carries a terminating NUL (REG_SZ), the Z forms write or stop at it. Bytes are
// never trusted: an odd trailing byte is ignored and unpaired surrogates decode to
// U+FFFD, as unicode/utf16 does. The package imports nothing from the project.
package utf16le

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// Encode returns s as UTF-16LE, without a terminating NUL.
func Encode(s string) []byte {
	return FromUnits(utf16.Encode([]rune(s)))
}

// EncodeZ returns s as UTF-16LE followed by a NUL character, as a REG_SZ value holds it.
func EncodeZ(s string) []byte {
	return append(Encode(s), 0, 0)
}

// Decode returns the string that UTF-16LE b holds, NUL characters included.
func Decode(b []byte) string {
	n := len(b) / 2
	// Fast path: all code units below 0x80, as most names in a hive are.
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		s := make([]byte, n)
		for i := range s {
			s[i] = b[2*i]
		}
		return string(s)
	}
	return string(utf16.Decode(Units(b)))
}

// DecodeZ returns the string that UTF-16LE b holds up to its first NUL character (all of
// b when it has none).
func DecodeZ(b []byte) string {
	u := Units(b)
	for i, c := range u {
		if c == 0 {
			u = u[:i]
			break
		}
	}
	return string(utf16.Decode(u))
}

// Units returns b's 16-bit code units.
func Units(b []byte) []uint16 {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return u
}

// FromUnits returns the code units u as UTF-16LE bytes.
func FromUnits(u []uint16) []byte {
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// Len is the length of s in UTF-16 code units, the unit of Windows' name limits.
func Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n += utf16.RuneLen(r)
	}
	return n
}
