package regfile

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

// u16 is s in UTF-16LE without a terminator.
func u16(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

// sz is s as REG_SZ data: UTF-16LE with the NUL.
func sz(s string) []byte { return u16(s + "\x00") }

// multi is REG_MULTI_SZ data: each string with its NUL, and a final NUL.
func multi(ss ...string) []byte {
	return u16(strings.Join(ss, "\x00") + "\x00\x00")
}

// wide5 is s as regedit writes a 5.00 file: BOM, UTF-16LE, CRLF.
func wide5(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return append([]byte{0xFF, 0xFE}, u16(strings.ReplaceAll(s, "\n", "\r\n"))...)
}

// readable turns a written file back into text for messages and comparisons.
func readable(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE {
		u := make([]uint16, (len(b)-2)/2)
		for i := range u {
			u[i] = uint16(b[2+2*i]) | uint16(b[3+2*i])<<8
		}
		return string(utf16.Decode(u))
	}
	return string(b)
}

// equalFiles compares two files, nil and empty data being the same.
func equalFiles(a, b *File) error {
	if a.Format != b.Format {
		return fmt.Errorf("format %v, want %v", a.Format, b.Format)
	}
	if len(a.Keys) != len(b.Keys) {
		return fmt.Errorf("%d keys, want %d", len(a.Keys), len(b.Keys))
	}
	for i := range a.Keys {
		ka, kb := &a.Keys[i], &b.Keys[i]
		if ka.Path != kb.Path || ka.Delete != kb.Delete || len(ka.Values) != len(kb.Values) {
			return fmt.Errorf("key %d: %q delete=%v with %d values, want %q delete=%v with %d values",
				i, ka.Path, ka.Delete, len(ka.Values), kb.Path, kb.Delete, len(kb.Values))
		}
		for j := range ka.Values {
			va, vb := &ka.Values[j], &kb.Values[j]
			if va.Name != vb.Name || va.Delete != vb.Delete || va.Type != vb.Type || !bytes.Equal(va.Data, vb.Data) {
				return fmt.Errorf("key %q value %d: %+v, want %+v", ka.Path, j, *va, *vb)
			}
		}
	}
	return nil
}

func mustWrite(t testing.TB, f *File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}
