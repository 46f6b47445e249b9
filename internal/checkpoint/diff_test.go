package checkpoint

import (
	"strings"
	"testing"

	"wolfpack/internal/hive"
)

func utf16sz(s string) []byte { return utf16z(s) }

func TestDiff(t *testing.T) {
	a := &hive.Key{Name: "MSExchangeIMC", Values: []hive.Value{{Name: "Start", Type: 4, Data: []byte{2, 0, 0, 0}}},
		Subkeys: []*hive.Key{
			{Name: "Parameters", Values: []hive.Value{
				{Name: "SmartHost", Type: 1, Data: utf16sz("old.example.com")},
				{Name: "Retries", Type: 4, Data: []byte{3, 0, 0, 0}},
				{Name: "Same", Type: 1, Data: utf16sz("x")},
			}},
			{Name: "Gone", Subkeys: []*hive.Key{{Name: "Deeper"}}},
		}}
	b := &hive.Key{Name: "MSExchangeIMC", Values: []hive.Value{{Name: "Start", Type: 4, Data: []byte{2, 0, 0, 0}}},
		Subkeys: []*hive.Key{
			{Name: "parameters", Values: []hive.Value{
				{Name: "SmartHost", Type: 1, Data: utf16sz("mail.contoso.com")},
				{Name: "SAME", Type: 1, Data: utf16sz("x")},
			}},
			{Name: "New", Values: []hive.Value{{Name: "", Type: 1, Data: utf16sz("d")}}},
		}}
	ab, err := hive.Marshal(a, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bb, err := hive.Marshal(b, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Diff(imcKey, ab, bb)
	if err != nil {
		t.Fatal(err)
	}
	text, err := RegText(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\New]
@="d"

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\parameters]
"SmartHost"="mail.contoso.com"
"Retries"=-

[-HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Gone]
`
	if strings.TrimSpace(text) != strings.TrimSpace(want) {
		t.Fatalf("diff:\n%s\nwant:\n%s", text, want)
	}
	same, _ := Diff(imcKey, ab, ab)
	if len(same.Keys) != 0 {
		t.Fatalf("diff of a version with itself: %+v", same.Keys)
	}
	if _, err := Diff(imcKey, []byte("junk"), bb); err == nil {
		t.Fatal("diff of junk")
	}
}
