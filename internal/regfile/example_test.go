package regfile_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"wolfpack/internal/regfile"
	"wolfpack/internal/regtype"
)

func ExampleParse() {
	text := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Wolfpack]\r\n" +
		"@=\"default\"\r\n" +
		"\"Retries\"=dword:00000003\r\n" +
		"\"Old\"=-\r\n\r\n" +
		"[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Obsolete]\r\n"
	f, err := regfile.Parse([]byte(text)) // UTF-8 as typed by hand; regedit's UTF-16LE works the same
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range f.Keys {
		fmt.Printf("key %s delete=%v\n", k.Path, k.Delete)
		for _, v := range k.Values {
			fmt.Printf("  %q type=%d delete=%v data=% x\n", v.Name, v.Type, v.Delete, v.Data)
		}
	}
	// Output:
	// key HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack delete=false
	//   "" type=1 delete=false data=64 00 65 00 66 00 61 00 75 00 6c 00 74 00 00 00
	//   "Retries" type=4 delete=false data=03 00 00 00
	//   "Old" type=0 delete=true data=
	// key HKEY_LOCAL_MACHINE\SOFTWARE\Obsolete delete=true
}

func ExampleParse_error() {
	_, err := regfile.Parse([]byte("REGEDIT4\r\n\r\n[HKEY_USERS\\X]\r\n\"Flags\"=dword:0000001g\r\n"))
	fmt.Println(err)
	// Output:
	// regfile: line 4, column 22: bad hex digit 'g'
}

func ExampleWriter() {
	var buf bytes.Buffer
	w := regfile.NewWriter(&buf, regfile.Regedit4) // Regedit5 writes the same lines in UTF-16LE with a BOM
	w.WriteKey(`HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack`)
	w.WriteValue("Path", regtype.REG_SZ, []byte("C\x00:\x00\\\x00\x00\x00"))
	w.WriteValue("Retries", regtype.REG_DWORD, []byte{3, 0, 0, 0})
	w.WriteValue("Blob", regtype.REG_BINARY, bytes.Repeat([]byte{0xab}, 30))
	w.DeleteValue("Old")
	w.DeleteKey(`HKEY_LOCAL_MACHINE\SOFTWARE\Obsolete`)
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(buf.String(), "\r\n", "\n"))
	// Output:
	// REGEDIT4
	//
	// [HKEY_LOCAL_MACHINE\SOFTWARE\Wolfpack]
	// "Path"="C:\\"
	// "Retries"=dword:00000003
	// "Blob"=hex:ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,ab,\
	//   ab,ab,ab,ab,ab,ab,ab,ab
	// "Old"=-
	//
	// [-HKEY_LOCAL_MACHINE\SOFTWARE\Obsolete]
}
