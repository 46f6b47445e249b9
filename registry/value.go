package registry

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"unicode/utf16"

	"wolfpack/internal/regipc/wire"
	"wolfpack/internal/regtype"
	"wolfpack/internal/utf16le"
)

// Value types, as x/sys/windows/registry names them (winnt.h's REG_* of internal/regtype).
const (
	NONE                       = regtype.REG_NONE
	SZ                         = regtype.REG_SZ
	EXPAND_SZ                  = regtype.REG_EXPAND_SZ
	BINARY                     = regtype.REG_BINARY
	DWORD                      = regtype.REG_DWORD
	DWORD_BIG_ENDIAN           = regtype.REG_DWORD_BIG_ENDIAN
	LINK                       = regtype.REG_LINK
	MULTI_SZ                   = regtype.REG_MULTI_SZ
	RESOURCE_LIST              = regtype.REG_RESOURCE_LIST
	FULL_RESOURCE_DESCRIPTOR   = regtype.REG_FULL_RESOURCE_DESCRIPTOR
	RESOURCE_REQUIREMENTS_LIST = regtype.REG_RESOURCE_REQUIREMENTS_LIST
	QWORD                      = regtype.REG_QWORD
)

// queryValue returns a value's type and a copy of its data.
func (k Key) queryValue(name string, into []byte) ([]byte, uint32, error) {
	var typ uint32
	var data []byte
	err := k.call(&wire.Request{Op: wire.OpQueryValue, Name: name}, func(d *wire.Decoder) {
		typ = d.U32()
		data = append(into[:0], d.Bytes()...)
	})
	return data, typ, err
}

// GetValue retrieves the type and data of the value name. It fills buf and returns the
// byte count n. If buf is too small it returns ErrShortBuffer with the needed size n; with
// no buffer it returns the size and type only. A missing value is ErrNotExist.
func (k Key) GetValue(name string, buf []byte) (n int, valtype uint32, err error) {
	data, typ, err := k.queryValue(name, nil)
	if err != nil {
		return 0, 0, err
	}
	if len(buf) == 0 {
		return len(data), typ, nil
	}
	if len(buf) < len(data) {
		return len(data), typ, ErrShortBuffer
	}
	return copy(buf, data), typ, nil
}

// GetStringValue retrieves the string value name (SZ or EXPAND_SZ; EXPAND_SZ is not
// expanded, see ExpandString). Another type is ErrUnexpectedType.
func (k Key) GetStringValue(name string) (val string, valtype uint32, err error) {
	data, typ, err := k.queryValue(name, nil)
	if err != nil {
		return "", typ, err
	}
	if typ != SZ && typ != EXPAND_SZ {
		return "", typ, ErrUnexpectedType
	}
	return utf16le.DecodeZ(data), typ, nil
}

// GetMUIStringValue is GetStringValue: Wolfpack has no MUI resources to redirect to.
func (k Key) GetMUIStringValue(name string) (string, error) {
	s, _, err := k.GetStringValue(name)
	return s, err
}

// GetStringsValue retrieves the MULTI_SZ value name.
func (k Key) GetStringsValue(name string) (val []string, valtype uint32, err error) {
	data, typ, err := k.queryValue(name, nil)
	if err != nil {
		return nil, typ, err
	}
	if typ != MULTI_SZ {
		return nil, typ, ErrUnexpectedType
	}
	return MultiString(data), typ, nil
}

// GetIntegerValue retrieves the DWORD or QWORD value name.
func (k Key) GetIntegerValue(name string) (val uint64, valtype uint32, err error) {
	data, typ, err := k.queryValue(name, make([]byte, 0, 8))
	if err != nil {
		return 0, typ, err
	}
	switch typ {
	case DWORD:
		if len(data) != 4 {
			return 0, typ, errors.New("DWORD value is not 4 bytes long")
		}
		return uint64(binary.LittleEndian.Uint32(data)), DWORD, nil
	case QWORD:
		if len(data) != 8 {
			return 0, typ, errors.New("QWORD value is not 8 bytes long")
		}
		return binary.LittleEndian.Uint64(data), QWORD, nil
	}
	return 0, typ, ErrUnexpectedType
}

// GetBinaryValue retrieves the BINARY value name.
func (k Key) GetBinaryValue(name string) (val []byte, valtype uint32, err error) {
	data, typ, err := k.queryValue(name, nil)
	if err != nil {
		return nil, typ, err
	}
	if typ != BINARY {
		return nil, typ, ErrUnexpectedType
	}
	return data, typ, nil
}

// SetValue sets the value name to data of type valtype (RegSetValueEx), any type.
func (k Key) SetValue(name string, valtype uint32, data []byte) error {
	return k.call(&wire.Request{Op: wire.OpSetValue, Name: name, Flags: valtype, Data: data}, nil)
}

// SetDWordValue sets the value name to a DWORD.
func (k Key) SetDWordValue(name string, value uint32) error {
	return k.SetValue(name, DWORD, binary.LittleEndian.AppendUint32(make([]byte, 0, 4), value))
}

// SetQWordValue sets the value name to a QWORD.
func (k Key) SetQWordValue(name string, value uint64) error {
	return k.SetValue(name, QWORD, binary.LittleEndian.AppendUint64(make([]byte, 0, 8), value))
}

// SetStringValue sets the value name to an SZ string.
func (k Key) SetStringValue(name, value string) error {
	b, err := StringData(value)
	if err != nil {
		return err
	}
	return k.SetValue(name, SZ, b)
}

// SetExpandStringValue sets the value name to an EXPAND_SZ string.
func (k Key) SetExpandStringValue(name, value string) error {
	b, err := StringData(value)
	if err != nil {
		return err
	}
	return k.SetValue(name, EXPAND_SZ, b)
}

// SetStringsValue sets the value name to a MULTI_SZ; no string may contain a NUL.
func (k Key) SetStringsValue(name string, value []string) error {
	var u []uint16
	for _, s := range value {
		if strings.IndexByte(s, 0) >= 0 {
			return errors.New("string cannot have 0 inside")
		}
		u = append(append(u, utf16.Encode([]rune(s))...), 0)
	}
	u = append(u, 0)
	return k.SetValue(name, MULTI_SZ, utf16le.FromUnits(u))
}

// SetBinaryValue sets the value name to BINARY data.
func (k Key) SetBinaryValue(name string, value []byte) error {
	return k.SetValue(name, BINARY, value)
}

// DeleteValue removes the value name.
func (k Key) DeleteValue(name string) error {
	return k.call(&wire.Request{Op: wire.OpDeleteValue, Name: name}, nil)
}

// ExpandString expands %NAME% references to environment variables, as
// ExpandEnvironmentStrings does; unknown names stay as they are.
func ExpandString(value string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(value, '%')
		if i < 0 {
			b.WriteString(value)
			return b.String(), nil
		}
		j := strings.IndexByte(value[i+1:], '%')
		if j < 0 {
			b.WriteString(value)
			return b.String(), nil
		}
		name := value[i+1 : i+1+j]
		if v, ok := os.LookupEnv(name); ok && name != "" {
			b.WriteString(value[:i])
			b.WriteString(v)
			value = value[i+j+2:]
			continue
		}
		b.WriteString(value[:i+1+j])
		value = value[i+1+j:]
	}
}

// StringData encodes s as Windows stores a string value: UTF-16LE with a terminating NUL.
func StringData(s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errors.New("string cannot have 0 inside")
	}
	return utf16le.EncodeZ(s), nil
}

// MultiString decodes MULTI_SZ data into its strings.
func MultiString(data []byte) []string {
	u := utf16le.Units(data)
	if len(u) > 0 && u[len(u)-1] == 0 {
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
	if from < len(u) {
		out = append(out, string(utf16.Decode(u[from:])))
	}
	return out
}
