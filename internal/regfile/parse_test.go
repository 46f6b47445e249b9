package regfile

import (
	"errors"
	"testing"

	"wolfpack/internal/regtype"
)

const h5 = "Windows Registry Editor Version 5.00\n\n"

func TestParseSyntax(t *testing.T) {
	const k = `HKEY_LOCAL_MACHINE\SOFTWARE\X`
	one := func(v ...Value) *File { return &File{Keys: []Key{{Path: k, Values: v}}} }
	tests := []struct {
		name string
		in   string
		want *File
	}{
		{"empty file", h5, &File{}},
		{"header only, no newline", "Windows Registry Editor Version 5.00", &File{}},
		{"key", h5 + "[" + k + "]\n", one()},
		{"key with trailing blanks", h5 + "[" + k + "]  \t\n", one()},
		{"indented key", h5 + "  [" + k + "]\n", one()},
		{"delete key", h5 + "[-" + k + "]\n", &File{Keys: []Key{{Path: k, Delete: true}}}},
		{"key name with ]", h5 + "[HKLM\\a]b]\n", &File{Keys: []Key{{Path: `HKLM\a]b`}}}},
		{"two keys", h5 + "[A]\n\"x\"=\"1\"\n\n[B]\n\"y\"=\"2\"\n", &File{Keys: []Key{
			{Path: "A", Values: []Value{{Name: "x", Type: regtype.REG_SZ, Data: sz("1")}}},
			{Path: "B", Values: []Value{{Name: "y", Type: regtype.REG_SZ, Data: sz("2")}}},
		}}},
		{"string", h5 + "[" + k + "]\n\"Name\"=\"Value\"\n", one(Value{Name: "Name", Type: regtype.REG_SZ, Data: sz("Value")})},
		{"empty string", h5 + "[" + k + "]\n\"e\"=\"\"\n", one(Value{Name: "e", Type: regtype.REG_SZ, Data: sz("")})},
		{"escapes", h5 + "[" + k + "]\n\"a\\\\b\\\"c\"=\"C:\\\\Program Files\\\\\\\"x\\\"\"\n",
			one(Value{Name: `a\b"c`, Type: regtype.REG_SZ, Data: sz(`C:\Program Files\"x"`)})},
		{"unknown escape kept", h5 + "[" + k + "]\n\"p\"=\"C:\\Windows\\n\"\n", one(Value{Name: "p", Type: regtype.REG_SZ, Data: sz(`C:\Windows\n`)})},
		{"default value", h5 + "[" + k + "]\n@=\"def\"\n", one(Value{Name: "", Type: regtype.REG_SZ, Data: sz("def")})},
		{"value named @", h5 + "[" + k + "]\n\"@\"=\"at\"\n", one(Value{Name: "@", Type: regtype.REG_SZ, Data: sz("at")})},
		{"blanks around =", h5 + "[" + k + "]\n\"a\" = \"b\"\t\n", one(Value{Name: "a", Type: regtype.REG_SZ, Data: sz("b")})},
		{"comment after value", h5 + "[" + k + "]\n\"a\"=\"b\" ; note\n", one(Value{Name: "a", Type: regtype.REG_SZ, Data: sz("b")})},
		{"dword", h5 + "[" + k + "]\n\"d\"=dword:0000001f\n", one(Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{0x1f, 0, 0, 0}})},
		{"dword short upper", h5 + "[" + k + "]\n\"d\"=dword:ABC\n", one(Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{0xbc, 0x0a, 0, 0}})},
		{"dword max", h5 + "[" + k + "]\n\"d\"=dword:ffffffff\n", one(Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{0xff, 0xff, 0xff, 0xff}})},
		{"binary", h5 + "[" + k + "]\n\"b\"=hex:00,01,fe,FF\n", one(Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{0, 1, 0xfe, 0xff}})},
		{"binary one-digit bytes and blanks", h5 + "[" + k + "]\n\"b\"=hex: 1 , a,0b\n", one(Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{1, 0xa, 0xb}})},
		{"empty binary", h5 + "[" + k + "]\n\"b\"=hex:\n", one(Value{Name: "b", Type: regtype.REG_BINARY})},
		{"trailing comma", h5 + "[" + k + "]\n\"b\"=hex:01,02,\n", one(Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{1, 2}})},
		{"continuation", h5 + "[" + k + "]\n\"b\"=hex:01,02,\\\n  03,04\n", one(Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{1, 2, 3, 4}})},
		{"continuation, CRLF and blanks", h5 + "[" + k + "]\r\n\"b\"=hex:01,\\  \r\n\t03,\\\r\n04\r\n", one(Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{1, 3, 4}})},
		{"comment after hex", h5 + "[" + k + "]\n\"b\"=hex:01,02 ;x\n", one(Value{Name: "b", Type: regtype.REG_BINARY, Data: []byte{1, 2}})},
		{"hex(0)", h5 + "[" + k + "]\n\"n\"=hex(0):\n", one(Value{Name: "n", Type: regtype.REG_NONE})},
		{"hex(1)", h5 + "[" + k + "]\n\"s\"=hex(1):61,00\n", one(Value{Name: "s", Type: regtype.REG_SZ, Data: []byte{'a', 0}})},
		{"hex(2)", h5 + "[" + k + "]\n\"e\"=hex(2):25,00,00,00\n", one(Value{Name: "e", Type: regtype.REG_EXPAND_SZ, Data: sz("%")})},
		{"hex(4)", h5 + "[" + k + "]\n\"d\"=hex(4):01,02\n", one(Value{Name: "d", Type: regtype.REG_DWORD, Data: []byte{1, 2}})},
		{"hex(7)", h5 + "[" + k + "]\n\"m\"=hex(7):61,00,00,00,00,00\n", one(Value{Name: "m", Type: regtype.REG_MULTI_SZ, Data: multi("a")})},
		{"hex(b)", h5 + "[" + k + "]\n\"q\"=hex(b):01,00,00,00,00,00,00,00\n", one(Value{Name: "q", Type: regtype.REG_QWORD, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}})},
		{"hex(B) upper", h5 + "[" + k + "]\n\"q\"=hex(B):\n", one(Value{Name: "q", Type: regtype.REG_QWORD})},
		{"any type number", h5 + "[" + k + "]\n\"u\"=hex(ffff0001):aa\n", one(Value{Name: "u", Type: 0xffff0001, Data: []byte{0xaa}})},
		{"delete value", h5 + "[" + k + "]\n\"gone\"=-\n", one(Value{Name: "gone", Delete: true})},
		{"delete default", h5 + "[" + k + "]\n@=-\n", one(Value{Name: "", Delete: true})},
		{"comments and blank lines", h5 + "; top\n\n[" + k + "]\n  ; inside\n\n\"a\"=\"b\"\n;end", one(Value{Name: "a", Type: regtype.REG_SZ, Data: sz("b")})},
		{"LF-only and CR-only line ends", "Windows Registry Editor Version 5.00\r[" + k + "]\n\"a\"=\"b\"\r", one(Value{Name: "a", Type: regtype.REG_SZ, Data: sz("b")})},
		{"unicode", h5 + "[HKLM\\Ключ 鍵]\n\"Nämé 😀\"=\"ü€😀\"\n", &File{Keys: []Key{{Path: "HKLM\\Ключ 鍵", Values: []Value{{Name: "Nämé 😀", Type: regtype.REG_SZ, Data: sz("ü€😀")}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, enc := range []struct {
				name string
				data []byte
			}{{"utf8", []byte(tt.in)}, {"utf16", wide5(tt.in)}} {
				got, err := Parse(enc.data)
				if err != nil {
					t.Fatalf("%s: Parse: %v", enc.name, err)
				}
				if err := equalFiles(got, tt.want); err != nil {
					t.Errorf("%s: %v", enc.name, err)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"no header", "[HKLM\\X]\n", `regfile: line 1, column 1: missing header "Windows Registry Editor Version 5.00" or "REGEDIT4"`},
		{"empty input", "", `regfile: line 1, column 1: missing header "Windows Registry Editor Version 5.00" or "REGEDIT4"`},
		{"wrong version", "Windows Registry Editor Version 6.00\n", `regfile: line 1, column 1: missing header "Windows Registry Editor Version 5.00" or "REGEDIT4"`},
		{"value before key", h5 + "\"a\"=\"b\"\n", "regfile: line 3, column 1: value before any [KEY] line"},
		{"value under deleted key", h5 + "[-A]\n  @=\"b\"\n", "regfile: line 4, column 3: value under deleted key [-A]"},
		{"junk line", h5 + "[A]\nfoo\n", "regfile: line 4, column 1: unexpected 'f' at start of line"},
		{"missing ]", h5 + "[A\n", "regfile: line 3, column 3: missing ']' at end of key name"},
		{"text after ]", h5 + "[A] x\n", "regfile: line 3, column 5: unexpected 'x' after ']'"},
		{"empty key", h5 + "[]\n", "regfile: line 3, column 2: empty key name"},
		{"empty deleted key", h5 + "[-]\n", "regfile: line 3, column 3: empty key name"},
		{"unterminated name", h5 + "[A]\n\"abc=\"d\n", "regfile: line 4, column 7: missing '=' after value name"},
		{"unterminated string", h5 + "[A]\n\"a\"=\"abc\n", "regfile: line 4, column 5: unterminated string"},
		{"escaped closing quote", h5 + "[A]\n\"a\"=\"abc\\\"\n", "regfile: line 4, column 5: unterminated string"},
		{"unterminated name at eol", h5 + "[A]\n\"abc\n", "regfile: line 4, column 1: unterminated string"},
		{"missing =", h5 + "[A]\n\"a\" \"b\"\n", "regfile: line 4, column 5: missing '=' after value name"},
		{"missing data", h5 + "[A]\n\"a\"=\n", "regfile: line 4, column 5: missing value data after '='"},
		{"unknown type", h5 + "[A]\n\"a\"=qword:1\n", `regfile: line 4, column 5: unknown value data: want "string", dword:, hex:, hex(N): or -`},
		{"text after string", h5 + "[A]\n\"a\"=\"b\"c\n", "regfile: line 4, column 8: unexpected 'c' after value"},
		{"text after delete", h5 + "[A]\n\"a\"=-1\n", "regfile: line 4, column 6: unexpected '1' after value"},
		{"bad dword digit", h5 + "[A]\n\"a\"=dword:0000001g\n", "regfile: line 4, column 18: bad hex digit 'g'"},
		{"long dword", h5 + "[A]\n\"a\"=dword:000000001\n", "regfile: line 4, column 11: dword number longer than 8 hex digits"},
		{"empty dword", h5 + "[A]\n\"a\"=dword:\n", "regfile: line 4, column 11: missing dword number"},
		{"dword junk", h5 + "[A]\n\"a\"=dword:1,\n", "regfile: line 4, column 12: unexpected ',' after value"},
		{"bad hex digit", h5 + "[A]\n\"a\"=hex:01,0g\n", "regfile: line 4, column 13: bad hex digit 'g'"},
		{"bad hex first digit", h5 + "[A]\n\"a\"=hex:01,g0\n", "regfile: line 4, column 12: bad hex digit 'g'"},
		{"hex byte too long", h5 + "[A]\n\"a\"=hex:012\n", "regfile: line 4, column 11: hex byte longer than 2 digits"},
		{"missing comma", h5 + "[A]\n\"a\"=hex:01 02\n", "regfile: line 4, column 12: missing ',' before '0'"},
		{"double comma", h5 + "[A]\n\"a\"=hex:01,,02\n", "regfile: line 4, column 12: bad hex digit ','"},
		{"backslash without comma", h5 + "[A]\n\"a\"=hex:01\\\n  02\n", "regfile: line 4, column 11: missing ',' before '\\'"},
		{"text after backslash", h5 + "[A]\n\"a\"=hex:01,\\ x\n", "regfile: line 4, column 14: unexpected 'x' after '\\'"},
		{"continuation at eof", h5 + "[A]\n\"a\"=hex:01,\\", "regfile: line 4, column 13: end of file after '\\'"},
		{"bad hex on continuation line", h5 + "[A]\n\"a\"=hex:01,\\\n  zz\n", "regfile: line 5, column 3: bad hex digit 'z'"},
		{"bad type number", h5 + "[A]\n\"a\"=hex(x):00\n", "regfile: line 4, column 9: bad hex digit 'x'"},
		{"empty type number", h5 + "[A]\n\"a\"=hex():00\n", "regfile: line 4, column 9: missing type number"},
		{"long type number", h5 + "[A]\n\"a\"=hex(123456789):00\n", "regfile: line 4, column 9: type number longer than 8 hex digits"},
		{"type without ):", h5 + "[A]\n\"a\"=hex(2)00\n", `regfile: line 4, column 10: missing "):" after hex type number`},
		{"control character", h5 + "[A]\n\x01\n", "regfile: line 4, column 1: unexpected U+0001 at start of line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse: %v, want *SyntaxError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse:\n got %s\nwant %s", err, tt.want)
			}
			// The same file in regedit's own encoding fails at the same place.
			if len(tt.in) > 0 {
				if _, err := Parse(wide5(tt.in)); err == nil || err.Error() != tt.want {
					t.Errorf("Parse(UTF-16LE):\n got %v\nwant %s", err, tt.want)
				}
			}
		})
	}
}

func TestParseEncodingErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"invalid UTF-8", []byte(h5 + "[A]\n\"a\"=\"\xff\"\n"), "regfile: line 4, column 6: invalid UTF-8 byte 0xff"},
		{"odd UTF-16", append(wide5(h5+"[A]\n"), 'x'), "regfile: line 4, column 1: UTF-16LE text ends in half a character"},
		{"REGEDIT4 in UTF-16", wide5("REGEDIT4\n"), "regfile: line 1, column 1: a REGEDIT4 file is ANSI text, not UTF-16LE"},
		{"REGEDIT4 in UTF-8 with BOM", []byte("\xEF\xBB\xBFREGEDIT4\n"), "regfile: line 1, column 1: a REGEDIT4 file is ANSI text, not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) || err.Error() != tt.want {
				t.Errorf("Parse:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseEncodings(t *testing.T) {
	want := &File{Keys: []Key{{Path: `HKLM\Café`, Values: []Value{
		{Name: "€", Type: regtype.REG_SZ, Data: sz("ü")},
		{Name: "e", Type: regtype.REG_EXPAND_SZ, Data: sz("%A%")},
	}}}}
	body := "[HKLM\\Café]\n\"€\"=\"ü\"\n\"e\"=hex(2):25,00,41,00,25,00,00,00\n"
	be := func(s string) []byte {
		le := wide5(s)
		for i := 0; i+1 < len(le); i += 2 {
			le[i], le[i+1] = le[i+1], le[i]
		}
		return le
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"UTF-16LE with BOM", wide5(h5 + body)},
		{"UTF-16LE without BOM", wide5(h5 + body)[2:]},
		{"UTF-16BE with BOM", be(h5 + body)},
		{"UTF-8 with BOM", []byte("\xEF\xBB\xBF" + h5 + body)},
		{"UTF-8 without BOM", []byte(h5 + body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := equalFiles(got, want); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseRegedit4(t *testing.T) {
	// Windows-1252: 0xE9 é, 0x80 €, 0x81 undefined (kept as U+0081).
	in := "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\Caf\xe9]\r\n" +
		"\"\x80\"=\"\xe9\x81\"\r\n" +
		"\"Exp\"=hex(2):25,41,25,00\r\n" +
		"\"Multi\"=hex(7):61,00,e9,00,00\r\n" +
		"\"Raw\"=hex(1):e9,00\r\n" +
		"\"Bin\"=hex:e9\r\n"
	want := &File{Format: Regedit4, Keys: []Key{{Path: "HKEY_LOCAL_MACHINE\\Café", Values: []Value{
		{Name: "€", Type: regtype.REG_SZ, Data: sz("é\u0081")},
		{Name: "Exp", Type: regtype.REG_EXPAND_SZ, Data: sz("%A%")},
		{Name: "Multi", Type: regtype.REG_MULTI_SZ, Data: multi("a", "é")},
		{Name: "Raw", Type: regtype.REG_SZ, Data: []byte{0xe9, 0}}, // only hex(2) and hex(7) are narrow
		{Name: "Bin", Type: regtype.REG_BINARY, Data: []byte{0xe9}},
	}}}}
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := equalFiles(got, want); err != nil {
		t.Fatal(err)
	}
	// Write narrows again: the same bytes come back.
	if out := mustWrite(t, got); string(out) != in+"\r\n" {
		t.Errorf("Write:\n%q\nwant\n%q", out, in+"\r\n")
	}
}

// Data handed out from the parser's arena must not share capacity: a caller
// appending to one value must not change its neighbour.
func TestParseDataIsIndependent(t *testing.T) {
	f, err := Parse([]byte(h5 + "[A]\n\"a\"=hex:01\n\"b\"=hex:02\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := append(f.Keys[0].Values[0].Data, 0xff)
	_ = a
	vals := append(f.Keys[0].Values, Value{Name: "c"})
	_ = vals
	if got := f.Keys[0].Values[1].Data; len(got) != 1 || got[0] != 2 {
		t.Errorf("neighbour data changed to %x", got)
	}
}
