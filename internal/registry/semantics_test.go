package registry

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"wolfpack/internal/utf16le"
)

func dword(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func sz(s string) []byte { return append(utf16le.Encode(s), 0, 0) }

func newTestSession(t testing.TB) (*Registry, *Session) {
	t.Helper()
	r := OpenMemory(Options{})
	t.Cleanup(func() { r.Close() })
	return r, r.NewSession(Owner{PID: 100, UID: 0, Exe: "test"})
}

func mustCreate(t testing.TB, s *Session, path string) Handle {
	t.Helper()
	h, _, err := s.CreatePath(path, CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	return h
}

// TestWindowsSemantics is the table of Windows behaviours the registry reproduces. Each
// case names the behaviour and the Win32 error Windows returns for it.
func TestWindowsSemantics(t *testing.T) {
	long := strings.Repeat("k", 256)
	cases := []struct {
		windows string // the Windows behaviour checked
		run     func(t *testing.T, s *Session) error
		want    error // nil, or the Errno Windows returns
	}{
		{"RegOpenKeyEx of a missing key: ERROR_FILE_NOT_FOUND", func(t *testing.T, s *Session) error {
			_, err := s.OpenPath(`HKLM\SOFTWARE\Missing`)
			return err
		}, ERROR_FILE_NOT_FOUND},
		{"names are case-insensitive and case-preserving", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\MixedCase`)
			h, err := s.OpenPath(`hklm\software\MIXEDCASE`)
			if err != nil {
				return err
			}
			p, _ := s.OpenPath(`HKLM\SOFTWARE`)
			names, _ := s.EnumKeys(p)
			if !slicesContain(names, "MixedCase") {
				t.Errorf("EnumKeys = %q, want the stored case MixedCase", names)
			}
			return s.CloseKey(h)
		}, nil},
		{"value names are case-insensitive; the latest RegSetValueEx's case is kept", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\V`)
			s.SetValue(h, "Name", REG_SZ, sz("a"))
			s.SetValue(h, "NAME", REG_SZ, sz("b"))
			vs, _ := s.EnumValues(h)
			if len(vs) != 1 || vs[0].Name != "NAME" || !bytes.Equal(vs[0].Data, sz("b")) {
				t.Errorf("values = %+v", vs)
			}
			return nil
		}, nil},
		{"key name of 255 characters is accepted", func(t *testing.T, s *Session) error {
			_, _, err := s.CreatePath(`HKLM\SOFTWARE\`+long[:255], CreateOptions{})
			return err
		}, nil},
		{"key name of 256 characters: ERROR_INVALID_PARAMETER", func(t *testing.T, s *Session) error {
			_, _, err := s.CreatePath(`HKLM\SOFTWARE\`+long, CreateOptions{})
			var le *LimitError
			if !errors.As(err, &le) || le.Max != 255 {
				t.Errorf("error %v does not name the limit 255", err)
			}
			return err
		}, ERROR_INVALID_PARAMETER},
		{"key name length counts UTF-16 units (255 × U+00E9 fits)", func(t *testing.T, s *Session) error {
			_, _, err := s.CreatePath(`HKLM\SOFTWARE\`+strings.Repeat("é", 255), CreateOptions{})
			return err
		}, nil},
		{"empty path component (a\\\\b): ERROR_BADKEY", func(t *testing.T, s *Session) error {
			_, _, err := s.CreatePath(`HKLM\SOFTWARE\a\\b`, CreateOptions{})
			return err
		}, ERROR_BADKEY},
		{"subkey path beginning with a backslash: ERROR_BAD_PATHNAME", func(t *testing.T, s *Session) error {
			_, err := s.OpenKey(HKEY_LOCAL_MACHINE, `\SOFTWARE`, 0, KEY_READ)
			return err
		}, ERROR_BAD_PATHNAME},
		{"value name of 16,383 characters is accepted", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\V`)
			return s.SetValue(h, strings.Repeat("v", 16383), REG_DWORD, dword(1))
		}, nil},
		{"value name of 16,384 characters: ERROR_INVALID_PARAMETER", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\V`)
			return s.SetValue(h, strings.Repeat("v", 16384), REG_DWORD, dword(1))
		}, ERROR_INVALID_PARAMETER},
		{"value names may contain a backslash", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\V`)
			if err := s.SetValue(h, `a\b`, REG_SZ, sz("x")); err != nil {
				return err
			}
			_, _, err := s.QueryValue(h, `A\B`)
			return err
		}, nil},
		{"depth 512 below the root is the limit: ERROR_BADKEY beyond", func(t *testing.T, s *Session) error {
			// HKLM\SOFTWARE is depth 1; 511 more levels reach 512.
			h, _, err := s.CreateKey(HKEY_LOCAL_MACHINE, "SOFTWARE\\"+strings.TrimSuffix(strings.Repeat("d\\", 511), `\`), CreateOptions{})
			if err != nil {
				t.Fatalf("depth 512: %v", err)
			}
			_, _, err = s.CreateKey(h, "deeper", CreateOptions{})
			var le *LimitError
			if !errors.As(err, &le) || le.Max != MaxDepth {
				t.Errorf("error %v does not name the depth limit", err)
			}
			return err
		}, ERROR_BADKEY},
		{"default value (\"\") unset: RegQueryValueEx gives ERROR_FILE_NOT_FOUND", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\D`)
			_, _, err := s.QueryValue(h, "")
			return err
		}, ERROR_FILE_NOT_FOUND},
		{"default value set and read back, any type number and raw bytes kept", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\D`)
			if err := s.SetValue(h, "", 0x12345678, []byte{1, 2, 3}); err != nil {
				return err
			}
			typ, data, err := s.QueryValue(h, "")
			if typ != 0x12345678 || !bytes.Equal(data, []byte{1, 2, 3}) {
				t.Errorf("got %#x %v", typ, data)
			}
			return err
		}, nil},
		{"RegDeleteValue of a missing value: ERROR_FILE_NOT_FOUND", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\D`)
			return s.DeleteValue(h, "nope")
		}, ERROR_FILE_NOT_FOUND},
		{"RegCreateKeyEx reports created, then opened", func(t *testing.T, s *Session) error {
			_, c1, err := s.CreatePath(`HKLM\SOFTWARE\C`, CreateOptions{})
			_, c2, err2 := s.CreatePath(`HKLM\software\c`, CreateOptions{})
			if !c1 || c2 {
				t.Errorf("created = %v then %v, want true then false", c1, c2)
			}
			return errors.Join(err, err2)
		}, nil},
		{"RegCreateKeyEx creates missing intermediate keys", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\A\B\C`)
			_, err := s.OpenPath(`HKLM\SOFTWARE\A\B`)
			return err
		}, nil},
		{"class name kept on create", func(t *testing.T, s *Session) error {
			h, _, err := s.CreatePath(`HKLM\SOFTWARE\Cls`, CreateOptions{Class: "MyClass"})
			if err != nil {
				return err
			}
			in, err := s.QueryInfo(h)
			if in.Class != "MyClass" {
				t.Errorf("class = %q", in.Class)
			}
			return err
		}, nil},
		{"write through a KEY_READ handle: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\RO`)
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE\RO`, 0, KEY_READ)
			if err != nil {
				return err
			}
			return s.SetValue(h, "x", REG_DWORD, dword(1))
		}, ERROR_ACCESS_DENIED},
		{"RegCreateKeyEx of a new subkey through a KEY_READ parent: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE`, 0, KEY_READ)
			if err != nil {
				return err
			}
			_, _, err = s.CreateKey(h, "New", CreateOptions{})
			return err
		}, ERROR_ACCESS_DENIED},
		{"read through a KEY_WRITE handle: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE`, 0, KEY_WRITE)
			if err != nil {
				return err
			}
			_, _, err = s.QueryValue(h, "x")
			return err
		}, ERROR_ACCESS_DENIED},
		{"enumerate through a handle without KEY_ENUMERATE_SUB_KEYS: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE`, 0, KEY_QUERY_VALUE)
			if err != nil {
				return err
			}
			_, err = s.EnumKeys(h)
			return err
		}, ERROR_ACCESS_DENIED},
		{"GENERIC_READ maps to KEY_READ", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE`, 0, GENERIC_READ)
			if err != nil {
				return err
			}
			if _, err := s.EnumKeys(h); err != nil {
				return err
			}
			return s.SetValue(h, "x", REG_DWORD, dword(1))
		}, ERROR_ACCESS_DENIED},
		{"RegDeleteKey of a key with subkeys: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\P\Child`)
			return s.DeleteKey(HKEY_LOCAL_MACHINE, `SOFTWARE\P`)
		}, ERROR_ACCESS_DENIED},
		{"deleting a handle's own key needs DELETE: a KEY_WRITE handle gets ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\Del`)
			h, _ := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE\Del`, 0, KEY_WRITE)
			return s.DeleteKey(h, "")
		}, ERROR_ACCESS_DENIED},
		{"REG_OPTION_CREATE_LINK needs KEY_CREATE_LINK on the parent: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			p, _ := s.OpenKey(HKEY_LOCAL_MACHINE, "SOFTWARE", 0, KEY_WRITE)
			_, _, err := s.CreateKey(p, "NewLink", CreateOptions{Options: REG_OPTION_CREATE_LINK})
			return err
		}, ERROR_ACCESS_DENIED},
		{"RegDeleteTree deletes a key with subkeys", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\P\Child\Grand`)
			if err := s.DeleteTree(HKEY_LOCAL_MACHINE, `SOFTWARE\P`); err != nil {
				return err
			}
			_, err := s.OpenPath(`HKLM\SOFTWARE\P`)
			return err
		}, ERROR_FILE_NOT_FOUND},
		{"RegDeleteTree with no subkey empties the key and keeps it", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\P\Child`)
			p, _ := s.OpenPath(`HKLM\SOFTWARE\P`)
			s.SetValue(p, "v", REG_DWORD, dword(1))
			if err := s.DeleteTree(p, ""); err != nil {
				return err
			}
			in, err := s.QueryInfo(p)
			if in.SubKeys != 0 || in.Values != 0 {
				t.Errorf("after DeleteTree: %+v", in)
			}
			_, _, err2 := s.QueryValue(h, "x")
			if !errors.Is(err2, ERROR_KEY_DELETED) {
				t.Errorf("handle to deleted child: %v", err2)
			}
			return err
		}, nil},
		{"a handle to a key deleted by another session: ERROR_KEY_DELETED", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\Gone`)
			other := s.r.NewSession(Owner{PID: 200, Exe: "other"})
			defer other.Close()
			if err := other.DeleteKey(HKEY_LOCAL_MACHINE, `SOFTWARE\Gone`); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.QueryValue(h, "x")
			return err
		}, ERROR_KEY_DELETED},
		{"RegCloseKey works on a handle to a deleted key", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\Gone`)
			s.DeleteKey(h, "")
			return s.CloseKey(h)
		}, nil},
		{"every call but close on a deleted key's handle: ERROR_KEY_DELETED", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\Gone`)
			s.DeleteKey(h, "")
			errs := []error{
				s.SetValue(h, "x", REG_DWORD, dword(1)),
				s.DeleteValue(h, "x"),
				func() error { _, err := s.EnumKeys(h); return err }(),
				func() error { _, err := s.EnumValues(h); return err }(),
				func() error { _, err := s.QueryInfo(h); return err }(),
				func() error { _, _, err := s.CreateKey(h, "sub", CreateOptions{}); return err }(),
				func() error { _, err := s.OpenKey(h, "", 0, KEY_READ); return err }(),
			}
			for i, err := range errs {
				if !errors.Is(err, ERROR_KEY_DELETED) {
					t.Errorf("call %d: %v", i, err)
				}
			}
			return errs[0]
		}, ERROR_KEY_DELETED},
		{"a key created again after deletion is a new object: old handles stay deleted", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\Again`)
			s.DeleteKey(HKEY_LOCAL_MACHINE, `SOFTWARE\Again`)
			mustCreate(t, s, `HKLM\SOFTWARE\Again`)
			_, err := s.EnumValues(h)
			return err
		}, ERROR_KEY_DELETED},
		{"a closed or foreign handle: ERROR_INVALID_HANDLE", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\H`)
			other := s.r.NewSession(Owner{PID: 200, Exe: "other"})
			defer other.Close()
			if _, err := other.EnumValues(h); !errors.Is(err, ERROR_INVALID_HANDLE) {
				t.Errorf("foreign handle: %v", err)
			}
			s.CloseKey(h)
			_, err := s.EnumValues(h)
			return err
		}, ERROR_INVALID_HANDLE},
		{"subkeys enumerate by upper-cased name, values in insertion order", func(t *testing.T, s *Session) error {
			for _, n := range []string{"b", "A", "_x", "C", "a1"} {
				mustCreate(t, s, `HKLM\SOFTWARE\E\`+n)
			}
			h, _ := s.OpenPath(`HKLM\SOFTWARE\E`)
			names, _ := s.EnumKeys(h)
			// Upper-cased: A, A1, B, C, _X ('_' 0x5F sorts after letters).
			if got := strings.Join(names, ","); got != "A,a1,b,C,_x" {
				t.Errorf("EnumKeys = %s", got)
			}
			for _, n := range []string{"z", "y", "x"} {
				s.SetValue(h, n, REG_DWORD, dword(1))
			}
			vs, _ := s.EnumValues(h)
			if len(vs) != 3 || vs[0].Name != "z" || vs[2].Name != "x" {
				t.Errorf("EnumValues = %+v", vs)
			}
			return nil
		}, nil},
		{"a non-volatile child under a volatile key: ERROR_CHILD_MUST_BE_VOLATILE", func(t *testing.T, s *Session) error {
			if _, _, err := s.CreatePath(`HKLM\SOFTWARE\Vol`, CreateOptions{Options: REG_OPTION_VOLATILE}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.CreatePath(`HKLM\SOFTWARE\Vol\V2`, CreateOptions{Options: REG_OPTION_VOLATILE}); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.CreatePath(`HKLM\SOFTWARE\Vol\Stable`, CreateOptions{})
			return err
		}, ERROR_CHILD_MUST_BE_VOLATILE},
		{"REG_OPTION_CREATE_LINK on an existing key: ERROR_ALREADY_EXISTS", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SOFTWARE\L`)
			_, _, err := s.CreatePath(`HKLM\SOFTWARE\L`, CreateOptions{Options: REG_OPTION_CREATE_LINK})
			return err
		}, ERROR_ALREADY_EXISTS},
		{"the default CurrentControlSet link reaches ControlSet001", func(t *testing.T, s *Session) error {
			h, err := s.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services`)
			if err != nil {
				return err
			}
			in, _ := s.HandleInfo(h)
			if in.Resolved != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services` || in.OpenedAs != `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services` {
				t.Errorf("handle info = %+v", in)
			}
			return nil
		}, nil},
		{"REG_OPTION_OPEN_LINK opens the link key: volatile, REG_LINK SymbolicLinkValue in UTF-16LE without NUL", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet`, REG_OPTION_OPEN_LINK, KEY_READ)
			if err != nil {
				return err
			}
			typ, data, err := s.QueryValue(h, SymbolicLinkValue)
			if typ != REG_LINK || !bytes.Equal(data, utf16le.Encode(`\REGISTRY\MACHINE\SYSTEM\ControlSet001`)) {
				t.Errorf("SymbolicLinkValue = %d %q", typ, data)
			}
			in, _ := s.QueryInfo(h)
			if !in.Volatile || !in.Link {
				t.Errorf("link key info = %+v", in)
			}
			return err
		}, nil},
		{"a user link created with REG_OPTION_CREATE_LINK is followed", func(t *testing.T, s *Session) error {
			tgt := mustCreate(t, s, `HKLM\SOFTWARE\Target`)
			s.SetValue(tgt, "v", REG_DWORD, dword(7))
			l, created, err := s.CreatePath(`HKLM\SOFTWARE\Link`, CreateOptions{Options: REG_OPTION_CREATE_LINK | REG_OPTION_VOLATILE})
			if err != nil || !created {
				t.Fatalf("create link: %v %v", created, err)
			}
			b, _ := EncodeLinkTarget(`HKLM\SOFTWARE\Target`)
			if err := s.SetValue(l, SymbolicLinkValue, REG_LINK, b); err != nil {
				t.Fatal(err)
			}
			h, err := s.OpenPath(`HKLM\SOFTWARE\Link`)
			if err != nil {
				return err
			}
			_, data, err := s.QueryValue(h, "v")
			if !bytes.Equal(data, dword(7)) {
				t.Errorf("through link: %v", data)
			}
			return err
		}, nil},
		{"a link loop is bounded: ERROR_CANT_RESOLVE_FILENAME", func(t *testing.T, s *Session) error {
			l, _, err := s.CreatePath(`HKLM\SOFTWARE\Loop`, CreateOptions{Options: REG_OPTION_CREATE_LINK})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := EncodeLinkTarget(`HKLM\SOFTWARE\Loop`)
			s.SetValue(l, SymbolicLinkValue, REG_LINK, b)
			_, err = s.OpenPath(`HKLM\SOFTWARE\Loop`)
			return err
		}, ERROR_CANT_RESOLVE_FILENAME},
		{"a link without a target: ERROR_FILE_NOT_FOUND", func(t *testing.T, s *Session) error {
			if _, _, err := s.CreatePath(`HKLM\SOFTWARE\Dangling`, CreateOptions{Options: REG_OPTION_CREATE_LINK}); err != nil {
				t.Fatal(err)
			}
			_, err := s.OpenPath(`HKLM\SOFTWARE\Dangling\Sub`)
			return err
		}, ERROR_FILE_NOT_FOUND},
		{"RegDeleteKey on a link name follows the link (ControlSet001 has subkeys: ERROR_ACCESS_DENIED)", func(t *testing.T, s *Session) error {
			return s.DeleteKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet`)
		}, ERROR_ACCESS_DENIED},
		{"a link opened with REG_OPTION_OPEN_LINK is deleted itself", func(t *testing.T, s *Session) error {
			l, _, err := s.CreatePath(`HKLM\SOFTWARE\ToServices`, CreateOptions{Options: REG_OPTION_CREATE_LINK})
			if err != nil {
				t.Fatal(err)
			}
			target, _ := EncodeLinkTarget(`\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services`)
			if err := s.SetValue(l, SymbolicLinkValue, REG_LINK, target); err != nil {
				t.Fatal(err)
			}
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SOFTWARE\ToServices`, REG_OPTION_OPEN_LINK, KEY_ALL_ACCESS)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteKey(h, ""); err != nil {
				return err
			}
			if _, err := s.OpenPath(`HKLM\SOFTWARE\ToServices`); !errors.Is(err, ERROR_FILE_NOT_FOUND) {
				t.Errorf("the link is still there: %v", err)
			}
			_, err = s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services`)
			return err
		}, nil},
		{"RegDeleteTree of a path that ends at a link (CurrentControlSet): ERROR_ACCESS_DENIED, the target stays", func(t *testing.T, s *Session) error {
			err := s.DeleteTree(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet`)
			if _, oerr := s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services`); oerr != nil {
				t.Errorf("the link's target was deleted: %v", oerr)
			}
			return err
		}, ERROR_ACCESS_DENIED},
		{"the CurrentControlSet link itself is KEY_NO_DELETE: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet`, REG_OPTION_OPEN_LINK, KEY_ALL_ACCESS)
			if err != nil {
				t.Fatal(err)
			}
			return s.DeleteKey(h, "")
		}, ERROR_ACCESS_DENIED},
		{"the current control set is KEY_NO_DELETE: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			return s.DeleteTree(HKEY_LOCAL_MACHINE, `SYSTEM\ControlSet001`)
		}, ERROR_ACCESS_DENIED},
		{"SYSTEM\\Select is KEY_NO_DELETE: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			return s.DeleteTree(HKEY_LOCAL_MACHINE, `SYSTEM\Select`)
		}, ERROR_ACCESS_DENIED},
		{"clearing HKLM\\SYSTEM (RegDeleteTree with no path) would delete keys the system needs: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			h, err := s.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM`, 0, KEY_ALL_ACCESS)
			if err != nil {
				t.Fatal(err)
			}
			return s.DeleteTree(h, "")
		}, ERROR_ACCESS_DENIED},
		{"keys created through a link land in the target", func(t *testing.T, s *Session) error {
			mustCreate(t, s, `HKLM\SYSTEM\CurrentControlSet\Services\Svc`)
			_, err := s.OpenPath(`HKLM\SYSTEM\ControlSet001\Services\Svc`)
			return err
		}, nil},
		{"the root keys cannot be deleted: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			return s.DeleteKey(HKEY_USERS, "")
		}, ERROR_ACCESS_DENIED},
		{"RegDeleteTree of all of HKLM: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			return s.DeleteTree(HKEY_LOCAL_MACHINE, "")
		}, ERROR_ACCESS_DENIED},
		{"hive roots (HKLM\\SYSTEM, HKLM\\SOFTWARE) are KEY_NO_DELETE: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			return s.DeleteTree(HKEY_LOCAL_MACHINE, "SOFTWARE")
		}, ERROR_ACCESS_DENIED},
		{"a session past its handle limit: ERROR_NO_SYSTEM_RESOURCES", func(t *testing.T, s *Session) error {
			s.r.maxHandles = 3
			var err error
			for range 4 {
				if _, err = s.OpenPath(`HKLM\SOFTWARE`); err != nil {
					break
				}
			}
			return err
		}, ERROR_NO_SYSTEM_RESOURCES},
		{"unknown options: ERROR_INVALID_PARAMETER", func(t *testing.T, s *Session) error {
			_, err := s.OpenKey(HKEY_LOCAL_MACHINE, "SOFTWARE", 0x40, KEY_READ)
			return err
		}, ERROR_INVALID_PARAMETER},
		{"RegNotifyChangeKeyValue without KEY_NOTIFY: ERROR_ACCESS_DENIED", func(t *testing.T, s *Session) error {
			h, _ := s.OpenKey(HKEY_LOCAL_MACHINE, "SOFTWARE", 0, KEY_QUERY_VALUE)
			_, err := s.Notify(t.Context(), h, false, REG_NOTIFY_CHANGE_LAST_SET)
			return err
		}, ERROR_ACCESS_DENIED},
		{"last-write time moves on value set and subkey create", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\T`)
			in1, _ := s.QueryInfo(h)
			s.SetValue(h, "v", REG_DWORD, dword(1))
			in2, _ := s.QueryInfo(h)
			mustCreate(t, s, `HKLM\SOFTWARE\T\Sub`)
			in3, _ := s.QueryInfo(h)
			if in1.LastWrite.IsZero() || in2.LastWrite.Before(in1.LastWrite) || in3.LastWrite.Before(in2.LastWrite) {
				t.Errorf("last write %v %v %v", in1.LastWrite, in2.LastWrite, in3.LastWrite)
			}
			return nil
		}, nil},
		{"QueryInfo counts and maximum lengths", func(t *testing.T, s *Session) error {
			h := mustCreate(t, s, `HKLM\SOFTWARE\Q`)
			mustCreate(t, s, `HKLM\SOFTWARE\Q\abcdé`)
			s.SetValue(h, "named", REG_BINARY, make([]byte, 40))
			in, err := s.QueryInfo(h)
			if in.SubKeys != 1 || in.MaxSubKeyLen != 5 || in.Values != 1 || in.MaxValueNameLen != 5 || in.MaxValueLen != 40 {
				t.Errorf("info = %+v", in)
			}
			return err
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.windows, func(t *testing.T) {
			_, s := newTestSession(t)
			err := c.run(t, s)
			if c.want == nil {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v (%d), got %v", c.want, c.want, err)
			}
			var en Errno
			if !errors.As(err, &en) || en != c.want {
				t.Fatalf("errors.As gives %d, want %d", en, c.want)
			}
		})
	}
}

func slicesContain(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestDefaultKeys(t *testing.T) {
	_, s := newTestSession(t)
	h, err := s.OpenPath(`HKLM\SYSTEM\Select`)
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := s.EnumValues(h)
	got := map[string]uint32{}
	for _, v := range vs {
		if v.Type != REG_DWORD {
			t.Errorf("%s has type %d", v.Name, v.Type)
		}
		got[v.Name] = binary.LittleEndian.Uint32(v.Data)
	}
	want := map[string]uint32{"Current": 1, "Default": 1, "LastKnownGood": 1, "Failed": 0}
	for n, v := range want {
		if g, ok := got[n]; !ok || g != v {
			t.Errorf("Select\\%s = %d (%v), want %d", n, g, ok, v)
		}
	}
	for _, p := range []string{`HKLM\SYSTEM\ControlSet001\Services`, `HKLM\SOFTWARE`, `HKU`, `HKEY_USERS`, `\REGISTRY\MACHINE\SYSTEM`} {
		if _, err := s.OpenPath(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestErrnoMessages(t *testing.T) {
	for e, want := range map[Errno]string{
		ERROR_FILE_NOT_FOUND:         "The system cannot find the file specified.",
		ERROR_ACCESS_DENIED:          "Access is denied.",
		ERROR_KEY_DELETED:            "Illegal operation attempted on a registry key that has been marked for deletion.",
		ERROR_CHILD_MUST_BE_VOLATILE: "Cannot create a stable subkey under a volatile parent key.",
		ERROR_INVALID_HANDLE:         "The handle is invalid.",
		ERROR_INVALID_PARAMETER:      "The parameter is incorrect.",
		ERROR_BADKEY:                 "The configuration registry key is invalid.",
	} {
		if e.Error() != want {
			t.Errorf("%d: %q", e, e.Error())
		}
	}
	err := (&OpError{Op: "open", Key: `HKEY_LOCAL_MACHINE\X`, Err: ERROR_FILE_NOT_FOUND}).Error()
	if err != `registry: open HKEY_LOCAL_MACHINE\X: The system cannot find the file specified.` {
		t.Errorf("OpError = %q", err)
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"abc":    "ABC",
		"ABC":    "ABC",
		"é":      "É",
		"straße": "STRAßE", // ß has no simple upper-case mapping: length in UTF-16 units is kept
		"😀a":     "😀A",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
		if utf16le.Len(fold(in)) != utf16le.Len(in) {
			t.Errorf("fold(%q) changes the UTF-16 length", in)
		}
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}
