package regipc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"wolfpack/internal/hive"
	"wolfpack/internal/registry"
	"wolfpack/internal/secdesc"
)

// writeTestHive writes a one-value hive to path with the given owner and mode; its key
// grants the uid full control (it is that user's hive).
func writeTestHive(t *testing.T, path string, uid int, mode os.FileMode) {
	t.Helper()
	sd, err := secdesc.ParseSDDL(fmt.Sprintf("O:S-1-22-1-%dG:SYD:P(A;CI;KA;;;S-1-22-1-%d)(A;CI;KA;;;BA)", uid, uid))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hive.Marshal(&hive.Key{Name: "ROOT", Security: sd.Bytes(), Values: []hive.Value{{Name: "V", Type: 4, Data: []byte{1, 0, 0, 0}}}}, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	chown(t, path, uid, mode)
}

func chown(t *testing.T, path string, uid int, mode os.FileMode) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatalf("this test runs as root, as the daemon does (chown: %v)", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestLoadHiveFileAccess: the daemon (root) mounts a client's hive file in place only when
// the client's uid could read and write it and replace it in its directory (Windows:
// RegLoadKey opens the file with the caller's rights), and, for a user without the
// privileges, only at HKU\<the user's SID>, where a user's own hive goes.
func TestLoadHiveFileAccess(t *testing.T) {
	const nobody = 65534
	reg := registry.OpenMemory(registry.Options{})
	t.Cleanup(func() { reg.Close() })
	// PID -1: no /proc entry, so no groups; only the uid and "other" bits count.
	user := reg.NewSession(registry.Owner{PID: -1, UID: nobody, Exe: "user"})
	const mount = "S-1-22-1-65534" // nobody's own key under HKU
	root := reg.NewSession(registry.Owner{PID: -1, UID: 0, Exe: "root"})
	t.Cleanup(func() { user.Close(); root.Close() })

	base := t.TempDir()
	mkdir := func(name string, uid int, mode os.FileMode) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		chown(t, d, uid, mode)
		return d
	}
	rootDir := mkdir("root", 0, 0o755)
	userDir := mkdir("user", nobody, 0o700)
	openDir := mkdir("open", 0, 0o777)
	writeTestHive(t, filepath.Join(rootDir, "root.hiv"), 0, 0o644)
	writeTestHive(t, filepath.Join(rootDir, "mine.hiv"), nobody, 0o600)
	writeTestHive(t, filepath.Join(userDir, "mine.hiv"), nobody, 0o600)
	writeTestHive(t, filepath.Join(openDir, "shared.hiv"), 0, 0o666)
	if err := os.Symlink(filepath.Join(rootDir, "root.hiv"), filepath.Join(userDir, "link.hiv")); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name    string
		s       *registry.Session
		path    string
		want    error  // nil: loads
		message string // in the error
	}{
		{"relative path", user, "mine.hiv", registry.ERROR_INVALID_PARAMETER, "is not absolute"},
		{"missing file", user, filepath.Join(userDir, "none.hiv"), registry.ERROR_FILE_NOT_FOUND, "none.hiv"},
		{"a directory", root, userDir, registry.ERROR_ACCESS_DENIED, "is not a regular file"},
		{"another user's file", user, filepath.Join(rootDir, "root.hiv"), registry.ERROR_ACCESS_DENIED, "uid 65534 may not read and write"},
		{"a link to another user's file", user, filepath.Join(userDir, "link.hiv"), registry.ERROR_ACCESS_DENIED, "may not read and write"},
		{"own file in another user's directory", user, filepath.Join(rootDir, "mine.hiv"), registry.ERROR_ACCESS_DENIED, "may not replace files in " + rootDir},
		{"own file in own directory", user, filepath.Join(userDir, "mine.hiv"), nil, ""},
		{"a file open to all in a directory open to all", user, filepath.Join(openDir, "shared.hiv"), nil, ""},
		{"root, any file", root, filepath.Join(rootDir, "root.hiv"), nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := LoadHiveFile(c.s, registry.HKEY_USERS, mount, c.path)
			if c.want == nil {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if err := c.s.Unload(registry.HKEY_USERS, mount); err != nil {
					t.Fatalf("unload: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("got %v, want %v naming %q", err, c.want, c.message)
			}
			if h, err := c.s.OpenKey(registry.HKEY_USERS, mount, 0, registry.KEY_READ); err == nil {
				c.s.CloseKey(h)
				t.Fatal("the key was mounted anyway")
			}
		})
	}

	// Anywhere else, a user's hive needs the privileges RegLoadKey needs.
	for _, where := range []struct {
		root registry.Handle
		name string
	}{{registry.HKEY_USERS, "T"}, {registry.HKEY_USERS, "S-1-22-1-1000"}, {registry.HKEY_LOCAL_MACHINE, mount}} {
		err := LoadHiveFile(user, where.root, where.name, filepath.Join(userDir, "mine.hiv"))
		if !errors.Is(err, registry.ERROR_PRIVILEGE_NOT_HELD) {
			t.Errorf("a user's load at %s\\%s: %v, want ERROR_PRIVILEGE_NOT_HELD", registry.RootName(where.root), where.name, err)
		}
	}

	// The user's own file, changed through the registry, is written back in place on
	// unload and stays the user's, with its mode.
	mine := filepath.Join(userDir, "mine.hiv")
	if err := LoadHiveFile(user, registry.HKEY_USERS, mount, mine); err != nil {
		t.Fatal(err)
	}
	h, _, err := user.CreateKey(registry.HKEY_USERS, mount+`\Added`, registry.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := user.SetValue(h, "X", 1, []byte{'y', 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	user.CloseKey(h)
	if err := user.Unload(registry.HKEY_USERS, mount); err != nil {
		t.Fatal(err)
	}
	hv, err := hive.ReadFile(mine)
	if err != nil {
		t.Fatal(err)
	}
	if len(hv.Root.Subkeys) != 1 || hv.Root.Subkeys[0].Name != "Added" || len(hv.Root.Subkeys[0].Values) != 1 {
		t.Fatalf("written back: subkeys %v, want Added with value X", hv.Root.Subkeys)
	}
	fi, err := os.Stat(mine)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody || fi.Mode().Perm() != 0o600 {
		t.Fatalf("written back as uid %d mode %v, want uid %d mode 0600", st.Uid, fi.Mode().Perm(), nobody)
	}
}

// TestLoadHiveBytesKeepsOthersFiles: a user's load of hive bytes (kept in the daemon's
// directory) never touches the file of a hive mounted there, even one whose key it may
// not open, and fails before writing anything where it may not load.
func TestLoadHiveBytesKeepsOthersFiles(t *testing.T) {
	reg := registry.OpenMemory(registry.Options{})
	t.Cleanup(func() { reg.Close() })
	root := reg.NewSession(registry.Owner{PID: -1, UID: 0, Exe: "root"})
	user := reg.NewSession(registry.Owner{PID: -1, UID: 65534, Exe: "user"})
	t.Cleanup(func() { user.Close(); root.Close() })
	dir := t.TempDir()
	sd, err := secdesc.ParseSDDL("O:BAG:SYD:P(A;CI;KA;;;BA)")
	if err != nil {
		t.Fatal(err)
	}
	private, err := hive.Marshal(&hive.Key{Name: "ROOT", Security: sd.Bytes()}, hive.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const mount = "S-1-22-1-65534"
	if err := LoadHive(root, registry.HKEY_USERS, mount, private, dir); err != nil {
		t.Fatal(err)
	}
	file, _ := mountFile(dir, registry.HKEY_USERS, mount)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := hive.Marshal(&hive.Key{Name: "X"}, hive.WriteOptions{})
	if err := LoadHive(user, registry.HKEY_USERS, mount, other, dir); !errors.Is(err, registry.ERROR_ALREADY_EXISTS) {
		t.Errorf("a user's load over a hive it may not open: %v", err)
	}
	if after, err := os.ReadFile(file); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the mounted hive's file changed or went: %v", err)
	}
	if err := LoadHive(user, registry.HKEY_USERS, "Elsewhere", other, dir); !errors.Is(err, registry.ERROR_PRIVILEGE_NOT_HELD) {
		t.Errorf("a user's load elsewhere: %v", err)
	}
	if f, _ := mountFile(dir, registry.HKEY_USERS, "Elsewhere"); fileExists(f) {
		t.Error("a refused load left its file")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
