package regcmd

import (
	"reflect"
	"strings"
	"testing"

	"wolfpack/internal/regtype"
)

func TestParse(t *testing.T) {
	hklm := func(p string) KeyName { return KeyName{Root: HKLM, Path: p} }
	tests := []struct {
		args string
		want Command
	}{
		{`query HKLM\Software\X`, Command{Op: OpQuery, Key: hklm(`Software\X`)}},
		{`QUERY hkey_local_machine\Software\X\ /s`, Command{Op: OpQuery, Key: hklm(`Software\X`), Recurse: true}},
		{`query HKU`, Command{Op: OpQuery, Key: KeyName{Root: HKU}}},
		{`query \\N2\HKLM\SYSTEM -v Start`, Command{Op: OpQuery, Key: KeyName{Node: "N2", Root: HKLM, Path: "SYSTEM"}, Value: "Start", HasValue: true}},
		{`query HKLM\X /ve /s`, Command{Op: OpQuery, Key: hklm("X"), HasValue: true, Recurse: true}},
		{`query HKLM\X /f abc /k /c /e /s`, Command{Op: OpQuery, Key: hklm("X"), Find: "abc", HasFind: true, FindKeys: true, CaseSens: true, Exact: true, Recurse: true}},
		{`query HKLM\X /f abc /v /d`, Command{Op: OpQuery, Key: hklm("X"), Find: "abc", HasFind: true, FindValues: true, FindData: true}},
		{`query HKLM\X /t REG_SZ,REG_DWORD /se ;`, Command{Op: OpQuery, Key: hklm("X"), Type: "REG_SZ,REG_DWORD", Separator: ";"}},
		{`query HKLM\X /reg:64 -o json`, Command{Op: OpQuery, Key: hklm("X"), View: 64, Output: "json"}},
		{`add HKLM\X`, Command{Op: OpAdd, Key: hklm("X")}},
		{`add HKLM\X /v N /t reg_dword /d 0x10 /f`, Command{Op: OpAdd, Key: hklm("X"), Value: "N", HasValue: true, Type: "reg_dword", Data: "0x10", HasData: true, Force: true}},
		{`add HKLM\X /ve /d hello`, Command{Op: OpAdd, Key: hklm("X"), HasValue: true, Data: "hello", HasData: true}},
		{`add HKLM\X /v M /t REG_MULTI_SZ /s , /d a,b`, Command{Op: OpAdd, Key: hklm("X"), Value: "M", HasValue: true, Type: "REG_MULTI_SZ", Separator: ",", Data: "a,b", HasData: true}},
		{`delete HKLM\X /f`, Command{Op: OpDelete, Key: hklm("X"), Force: true}},
		{`delete HKLM\X /v N`, Command{Op: OpDelete, Key: hklm("X"), Value: "N", HasValue: true}},
		{`delete HKLM\X /va /f`, Command{Op: OpDelete, Key: hklm("X"), AllValues: true, Force: true}},
		{`copy HKLM\A HKLM\B /s /f`, Command{Op: OpCopy, Key: hklm("A"), Key2: hklm("B"), Recurse: true, Force: true}},
		{`compare HKLM\A HKLM\B`, Command{Op: OpCompare, Key: hklm("A"), Key2: hklm("B"), AllValues: true, CompareOut: "od"}},
		{`compare HKLM\A HKLM\B /v N /s /oa`, Command{Op: OpCompare, Key: hklm("A"), Key2: hklm("B"), Value: "N", HasValue: true, Recurse: true, CompareOut: "oa"}},
		{`compare HKLM\A HKLM\B /v /os`, Command{Op: OpCompare, Key: hklm("A"), Key2: hklm("B"), AllValues: true, CompareOut: "os"}},
		{`compare \\N2\HKLM\A \\. /s`, Command{Op: OpCompare, Key: KeyName{Node: "N2", Root: HKLM, Path: "A"}, Key2: hklm("A"), AllValues: true, Recurse: true, CompareOut: "od"}},
		{`compare HKLM\A \\N3`, Command{Op: OpCompare, Key: hklm("A"), Key2: KeyName{Node: "N3", Root: HKLM, Path: "A"}, AllValues: true, CompareOut: "od"}},
		{`save HKLM\X x.hiv /y`, Command{Op: OpSave, Key: hklm("X"), File: "x.hiv", Force: true}},
		{`restore HKLM\X x.hiv /force`, Command{Op: OpRestore, Key: hklm("X"), File: "x.hiv", Force: true}},
		{`load HKLM\T t.hiv`, Command{Op: OpLoad, Key: hklm("T"), File: "t.hiv"}},
		{`unload HKLM\T`, Command{Op: OpUnload, Key: hklm("T")}},
		{`export HKLM\X x.reg`, Command{Op: OpExport, Key: hklm("X"), File: "x.reg"}},
		{`import x.reg`, Command{Op: OpImport, File: "x.reg"}},
		{`handles`, Command{Op: OpHandles}},
		{`handles HKLM\SYSTEM /s -o json`, Command{Op: OpHandles, Key: hklm("SYSTEM"), Recurse: true, Output: "json"}},
		{`watch HKLM\X /s`, Command{Op: OpWatch, Key: hklm("X"), Recurse: true}},
		{`/?`, Command{Help: true}},
		{`add /?`, Command{Op: OpAdd, Help: true}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			got, err := Parse(strings.Fields(tt.args))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const (
		invalid = "ERROR: Invalid syntax.\n"
		badKey  = "ERROR: Invalid key name.\n"
		tooMany = "ERROR: Too many command-line parameters.\n"
	)
	tests := []struct {
		args string
		want string
	}{
		{``, invalid + `Type "REG /?" for usage.`},
		{`frobnicate HKLM`, invalid + `Type "REG /?" for usage.`},
		{`query`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKCU\Software`, badKey + "HKEY_CURRENT_USER does not exist on a Wolfpack node: its roots are HKLM (HKEY_LOCAL_MACHINE) and HKU (HKEY_USERS).\n" + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\\X`, badKey + `Type "REG QUERY /?" for usage.`},
		{`query \\\HKLM`, badKey + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /v`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /v a /ve`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /s /s`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /k`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /z`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X extra`, tooMany + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /t REG_FOO`, "ERROR: Invalid option: /t REG_FOO.\n" + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X /se ab`, invalid + `Type "REG QUERY /?" for usage.`},
		{`query HKLM\X -o yaml`, "ERROR: Invalid option: -o yaml.\n" + `Type "REG QUERY /?" for usage.`},
		{`add HKLM\X /t REG_SZ`, invalid + `Type "REG ADD /?" for usage.`},
		{`add HKLM\X /v a /t REG_WHAT`, invalid + `Type "REG ADD /?" for usage.`},
		{`add HKLM\X /v a /d`, invalid + `Type "REG ADD /?" for usage.`},
		{`add HKLM\X /v a /ve`, invalid + `Type "REG ADD /?" for usage.`},
		{`add HKLM\X /v a /s ,`, invalid + `Type "REG ADD /?" for usage.`},
		{`add HKLM\X /v a /f /f`, invalid + `Type "REG ADD /?" for usage.`},
		{`delete HKLM\X /v a /va`, invalid + `Type "REG DELETE /?" for usage.`},
		{`delete HKLM\X /ve /va`, invalid + `Type "REG DELETE /?" for usage.`},
		{`copy HKLM\X`, invalid + `Type "REG COPY /?" for usage.`},
		{`copy HKLM\X HKCU\Y`, badKey + "HKEY_CURRENT_USER does not exist on a Wolfpack node: its roots are HKLM (HKEY_LOCAL_MACHINE) and HKU (HKEY_USERS).\n" + `Type "REG COPY /?" for usage.`},
		{`compare HKLM\A HKLM\B /oa /od`, invalid + `Type "REG COMPARE /?" for usage.`},
		{`save HKLM\X`, invalid + `Type "REG SAVE /?" for usage.`},
		{`save HKLM\X f /force`, invalid + `Type "REG SAVE /?" for usage.`},
		{`restore HKLM\X f /y`, invalid + `Type "REG RESTORE /?" for usage.`},
		{`import`, invalid + `Type "REG IMPORT /?" for usage.`},
		{`handles HKLM\A HKLM\B`, tooMany + `Type "REG HANDLES /?" for usage.`},
		{`watch HKLM\A /x`, invalid + `Type "REG WATCH /?" for usage.`},
		{`/? extra`, invalid + `Type "REG /?" for usage.`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			_, err := Parse(strings.Fields(tt.args))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestEncodeAndFormatData(t *testing.T) {
	tests := []struct {
		typ       uint32
		in, sep   string
		raw       []byte
		formatted string
	}{
		{regtype.REG_SZ, "hi", "", []byte{'h', 0, 'i', 0, 0, 0}, "hi"},
		{regtype.REG_EXPAND_SZ, "%P%", "", []byte{'%', 0, 'P', 0, '%', 0, 0, 0}, "%P%"},
		{regtype.REG_DWORD, "0x1F", "", []byte{0x1f, 0, 0, 0}, "0x1f"},
		{regtype.REG_DWORD, "4294967295", "", []byte{0xff, 0xff, 0xff, 0xff}, "0xffffffff"},
		{regtype.REG_DWORD, "", "", []byte{0, 0, 0, 0}, "0x0"},
		{regtype.REG_DWORD_BIG_ENDIAN, "1", "", []byte{0, 0, 0, 1}, "0x1"},
		{regtype.REG_QWORD, "0x100000000", "", []byte{0, 0, 0, 0, 1, 0, 0, 0}, "0x100000000"},
		{regtype.REG_BINARY, "fe340ead", "", []byte{0xfe, 0x34, 0x0e, 0xad}, "FE340EAD"},
		{regtype.REG_BINARY, "abc", "", []byte{0x0a, 0xbc}, "0ABC"},
		{regtype.REG_NONE, "", "", []byte{}, ""},
		{regtype.REG_MULTI_SZ, `fax\0mail`, "", []byte{'f', 0, 'a', 0, 'x', 0, 0, 0, 'm', 0, 'a', 0, 'i', 0, 'l', 0, 0, 0, 0, 0}, `fax\0mail`},
		{regtype.REG_MULTI_SZ, "a,b", ",", []byte{'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0}, "a,b"},
		{regtype.REG_MULTI_SZ, "", "", []byte{0, 0}, ""},
	}
	for _, tt := range tests {
		raw, err := EncodeData(tt.typ, tt.in, tt.sep)
		if err != nil {
			t.Errorf("EncodeData(%s, %q): %v", TypeName(tt.typ), tt.in, err)
			continue
		}
		if string(raw) != string(tt.raw) {
			t.Errorf("EncodeData(%s, %q) = %x, want %x", TypeName(tt.typ), tt.in, raw, tt.raw)
		}
		if got := FormatData(tt.typ, raw, tt.sep); got != tt.formatted {
			t.Errorf("FormatData(%s, %x) = %q, want %q", TypeName(tt.typ), raw, got, tt.formatted)
		}
	}
	for _, bad := range []struct {
		typ uint32
		in  string
	}{{regtype.REG_DWORD, "4294967296"}, {regtype.REG_DWORD, "12x"}, {regtype.REG_DWORD, "-1"}, {regtype.REG_QWORD, "0x1g"}, {regtype.REG_BINARY, "zz"}, {regtype.REG_MULTI_SZ, `a\0\0b`}} {
		if _, err := EncodeData(bad.typ, bad.in, ""); err == nil || !strings.HasPrefix(err.Error(), "ERROR: Invalid syntax.") {
			t.Errorf("EncodeData(%s, %q) = %v, want invalid syntax", TypeName(bad.typ), bad.in, err)
		}
	}
	if got := TypeName(0x20); got != "0x20" {
		t.Errorf("TypeName(0x20) = %q", got)
	}
}

func TestWildcard(t *testing.T) {
	for _, tt := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"a*c", "abbc", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*exch*", "msexchangeimc", true}, {"abc", "abcd", false}, {"*é*", "café", true},
	} {
		if got := wildcard(tt.pat, tt.s); got != tt.want {
			t.Errorf("wildcard(%q, %q) = %v", tt.pat, tt.s, got)
		}
	}
}
