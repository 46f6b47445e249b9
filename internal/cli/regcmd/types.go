package regcmd

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
)

// TypeName is the REG_* name of a type, or 0x… for a type Windows does not name.
func TypeName(t uint32) string {
	if s := regtype.Name(t); s != "" {
		return s
	}
	return fmt.Sprintf("0x%x", t)
}

// typeByName parses a /t operand. reg add accepts REG_SZ, REG_MULTI_SZ, REG_EXPAND_SZ,
// REG_DWORD, REG_QWORD, REG_BINARY, REG_NONE, REG_DWORD_LITTLE_ENDIAN and
// REG_DWORD_BIG_ENDIAN; reg query /t accepts every name.
func typeByName(s string) (uint32, bool) { return regtype.ByName(s) }

// addableType reports whether reg add can write the type.
func addableType(t uint32) bool {
	switch t {
	case regtype.REG_NONE, regtype.REG_SZ, regtype.REG_EXPAND_SZ, regtype.REG_BINARY, regtype.REG_DWORD, regtype.REG_DWORD_BIG_ENDIAN, regtype.REG_MULTI_SZ, regtype.REG_QWORD:
		return true
	}
	return false
}

// EncodeData turns reg add's /d operand into a value's bytes. sep is the REG_MULTI_SZ
// separator ("" means reg.exe's default, the two characters \0).
func EncodeData(t uint32, data, sep string) ([]byte, error) {
	switch t {
	case regtype.REG_SZ, regtype.REG_EXPAND_SZ:
		return utf16le.EncodeZ(data), nil
	case regtype.REG_MULTI_SZ:
		if sep == "" {
			sep = `\0`
		}
		var out []byte
		if data != "" {
			for _, s := range strings.Split(data, sep) {
				if s == "" {
					// reg.exe refuses empty strings inside REG_MULTI_SZ data.
					return nil, errInvalidData
				}
				out = append(out, utf16le.EncodeZ(s)...)
			}
		}
		return append(out, 0, 0), nil
	case regtype.REG_DWORD, regtype.REG_DWORD_BIG_ENDIAN:
		if data == "" {
			data = "0"
		}
		v, err := parseNumber(data, 32)
		if err != nil {
			return nil, err
		}
		if t == regtype.REG_DWORD_BIG_ENDIAN {
			return binary.BigEndian.AppendUint32(nil, uint32(v)), nil
		}
		return binary.LittleEndian.AppendUint32(nil, uint32(v)), nil
	case regtype.REG_QWORD:
		if data == "" {
			data = "0"
		}
		v, err := parseNumber(data, 64)
		if err != nil {
			return nil, err
		}
		return binary.LittleEndian.AppendUint64(nil, v), nil
	case regtype.REG_BINARY, regtype.REG_NONE:
		if len(data)%2 == 1 {
			data = "0" + data
		}
		b, err := hex.DecodeString(data)
		if err != nil {
			return nil, errInvalidData
		}
		return b, nil
	}
	return nil, errInvalidData
}

var errInvalidData = &SyntaxError{Op: OpAdd, Msg: "Invalid syntax."}

// parseNumber parses decimal or 0x-hexadecimal data as reg.exe does.
func parseNumber(s string, bits int) (uint64, error) {
	base := 10
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		s, base = h, 16
	}
	v, err := strconv.ParseUint(s, base, bits)
	if err != nil {
		return 0, errInvalidData
	}
	return v, nil
}

// FormatData renders a value's data as reg query shows it. sep joins REG_MULTI_SZ
// strings ("" is reg.exe's default, the two characters \0).
func FormatData(t uint32, data []byte, sep string) string {
	switch t {
	case regtype.REG_SZ, regtype.REG_EXPAND_SZ, regtype.REG_LINK:
		return utf16le.DecodeZ(data)
	case regtype.REG_MULTI_SZ:
		if sep == "" {
			sep = `\0`
		}
		return strings.Join(multiString(data), sep)
	case regtype.REG_DWORD:
		if len(data) == 4 {
			return fmt.Sprintf("0x%x", binary.LittleEndian.Uint32(data))
		}
	case regtype.REG_DWORD_BIG_ENDIAN:
		if len(data) == 4 {
			return fmt.Sprintf("0x%x", binary.BigEndian.Uint32(data))
		}
	case regtype.REG_QWORD:
		if len(data) == 8 {
			return fmt.Sprintf("0x%x", binary.LittleEndian.Uint64(data))
		}
	}
	return strings.ToUpper(hex.EncodeToString(data))
}

func multiString(data []byte) []string {
	u := utf16le.Units(data)
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	if len(u) == 0 {
		return nil
	}
	var out []string
	from := 0
	for i, c := range u {
		if c == 0 {
			out = append(out, string(utf16.Decode(u[from:i])))
			from = i + 1
		}
	}
	return append(out, string(utf16.Decode(u[from:])))
}
