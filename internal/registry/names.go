package registry

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"wolfpack/internal/utf16le"
)

// fold upper-cases a name the way Windows compares registry names: each UTF-16 unit is
// mapped through the simple upper-case mapping (RtlUpcaseUnicodeChar); characters outside
// the BMP (surrogate pairs) are left as they are, and no mapping changes a string's length
// in UTF-16 units. Pure ASCII names without lower-case letters are returned as they are,
// without allocating.
func fold(s string) string {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		b.WriteRune(upcase(r))
	}
	return b.String()
}

// equalFolded reports whether fold(s) == upper, without allocating for ASCII names.
func equalFolded(s, upper string) bool {
	if len(s) != len(upper) {
		if isASCII(s) {
			return false
		}
		return fold(s) == upper
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return fold(s) == upper
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldASCII upper-cases an ASCII name into buf; ok is false when s is not ASCII or does
// not fit, and the caller folds the slow way.
func foldASCII(buf []byte, s string) (out []byte, ok bool) {
	if len(s) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return nil, false
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)], true
}

func upcase(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	if r > 0xFFFF {
		return r
	}
	u := unicode.ToUpper(r)
	if u > 0xFFFF || (u >= 0xD800 && u < 0xE000) {
		return r
	}
	return u
}

// compareFolded orders two folded names as Windows orders subkeys: by UTF-16 unit.
// Byte order of UTF-8 equals code point order, which differs from UTF-16 order only
// between U+E000..U+FFFF and the supplementary planes.
func compareFolded(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return len(a) - len(b)
	}
	if a[i] < 0xE0 && b[i] < 0xE0 {
		return int(a[i]) - int(b[i])
	}
	// Back up to the start of the runes that differ and compare their UTF-16 forms.
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	return utf16Key(ra) - utf16Key(rb)
}

// utf16Key gives a rune's sort position by its first UTF-16 unit (surrogates sort below
// U+E000).
func utf16Key(r rune) int {
	if r > 0xFFFF {
		return 0xD800 + int((r-0x10000)>>10)
	}
	return int(r)
}

// checkKeyName checks one key name against Windows' rules: 1 to 255 characters, no
// backslash (the separator). Other characters, NUL and control characters included, are
// allowed as the kernel allows them (hives Windows wrote carry such names); the name must
// be valid UTF-8 so that it converts to UTF-16 and back unchanged.
func checkKeyName(name string) error {
	if name == "" {
		return &LimitError{Limit: "empty key name", Err: ERROR_BADKEY}
	}
	if n := utf16le.Len(name); n > MaxKeyNameLen {
		return &LimitError{Limit: "key name length", Max: MaxKeyNameLen, Got: n, Err: ERROR_INVALID_PARAMETER}
	}
	if strings.IndexByte(name, '\\') >= 0 {
		return &LimitError{Limit: "key name with a backslash", Err: ERROR_BADKEY}
	}
	if !utf8.ValidString(name) {
		return &LimitError{Limit: "key name that is not valid UTF-8", Err: ERROR_BADKEY}
	}
	return nil
}

// checkValueName checks a value name: at most 16,383 characters (any character, the
// backslash included, as Windows allows).
func checkValueName(name string) error {
	if len(name) > MaxValueNameLen { // bytes ≥ units: only long names need counting
		if n := utf16le.Len(name); n > MaxValueNameLen {
			return &LimitError{Limit: "value name length", Max: MaxValueNameLen, Got: n, Err: ERROR_INVALID_PARAMETER}
		}
	}
	return nil
}

// checkPath checks a relative key path without allocating. "" names the key itself. A
// leading backslash is an error as in RegOpenKeyEx ("lpSubKey cannot begin with a
// backslash"); one trailing backslash is tolerated, as Windows does; an empty component
// in the middle (a\\b) is ERROR_BADKEY.
func checkPath(p string) error {
	if p == "" {
		return nil
	}
	if p[0] == '\\' {
		return &LimitError{Limit: "path beginning with a backslash", Err: ERROR_BAD_PATHNAME}
	}
	p = strings.TrimSuffix(p, `\`)
	for {
		c, rest, more := strings.Cut(p, `\`)
		if err := checkKeyName(c); err != nil {
			return err
		}
		if !more {
			return nil
		}
		p = rest
	}
}

// splitPath checks a relative key path and splits it into its components.
func splitPath(p string) ([]string, error) {
	if err := checkPath(p); err != nil || p == "" {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(p, `\`), `\`), nil
}
