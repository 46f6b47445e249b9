package regcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wolfpack/internal/regipc"
	engine "wolfpack/internal/registry"
	"wolfpack/registry"
)

// harness runs reg command lines against an in-memory registry served on a socket.
type harness struct {
	t          testing.TB
	sock       string
	dir        string
	progress   bool // stderr is "a terminal"
	noSnapshot bool // the store reads subtrees key by key, as a remote node's does
}

func newHarness(t testing.TB) *harness {
	reg := engine.OpenMemory(engine.Options{})
	dir := t.TempDir()
	sock := filepath.Join(dir, "reg.sock")
	ln, err := regipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&regipc.Server{Reg: reg, LoadDir: filepath.Join(dir, "loaded")}).Serve(ctx, ln)
	}()
	t.Cleanup(func() { cancel(); <-done; reg.Close() })
	return &harness{t: t, sock: sock, dir: dir}
}

// run runs one command line (split on spaces; '~' stands for a space inside an
// argument) and returns its exit code, stdout and stderr.
func (h *harness) run(line string, stdin string, interactive bool) (int, string, string) {
	var args []string
	for _, a := range strings.Fields(line) {
		args = append(args, strings.ReplaceAll(a, "~", " "))
	}
	var out, errOut bytes.Buffer
	env := &Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Interactive: interactive, Progress: h.progress,
		Open: func(ctx context.Context, node string) (Store, error) {
			c, err := registry.Dial(ctx, h.sock)
			if err != nil {
				return nil, err
			}
			if h.noSnapshot {
				return keyByKey{localStore{c}}, nil
			}
			return localStore{c}, nil
		},
	}
	code := Run(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func (h *harness) ok(line string) string {
	h.t.Helper()
	code, out, errOut := h.run(line, "", false)
	if code != 0 {
		h.t.Fatalf("reg %s: exit %d\n%s%s", line, code, out, errOut)
	}
	return out
}

func (h *harness) expect(line string, wantCode int, wantOut, wantErr string) {
	h.t.Helper()
	code, out, errOut := h.run(line, "", false)
	if code != wantCode || out != wantOut || errOut != wantErr {
		h.t.Errorf("reg %s:\nexit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s", line, code, wantCode, out, wantOut, errOut, wantErr)
	}
}

const done = "The operation completed successfully.\n"
const notFound = "ERROR: The system was unable to find the specified registry key or value.\n"

func TestQueryLayout(t *testing.T) {
	h := newHarness(t)
	h.ok(`add HKLM\SOFTWARE\App /v Name /d hello~world /f`)
	h.ok(`add HKLM\SOFTWARE\App /ve /d def /f`)
	h.ok(`add HKLM\SOFTWARE\App /v Count /t REG_DWORD /d 42 /f`)
	h.ok(`add HKLM\SOFTWARE\App /v List /t REG_MULTI_SZ /d a\0b /f`)
	h.ok(`add HKLM\SOFTWARE\App /v Raw /t REG_BINARY /d 00ff10 /f`)
	h.ok(`add HKLM\SOFTWARE\App\Sub1 /v X /t REG_QWORD /d 0x10 /f`)
	h.ok(`add HKLM\SOFTWARE\App\Sub2`)

	h.expect(`query hklm\software\app`, 0, `
HKEY_LOCAL_MACHINE\software\app
    Name    REG_SZ    hello world
    (Default)    REG_SZ    def
    Count    REG_DWORD    0x2a
    List    REG_MULTI_SZ    a\0b
    Raw    REG_BINARY    00FF10

HKEY_LOCAL_MACHINE\software\app\Sub1
HKEY_LOCAL_MACHINE\software\app\Sub2
`, "")
	h.expect(`query HKLM\SOFTWARE\App /s /t REG_QWORD`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub1
    X    REG_QWORD    0x10

HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub2

`, "")
	h.expect(`query HKLM\SOFTWARE\App /v count`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App
    Count    REG_DWORD    0x2a

`, "")
	h.expect(`query HKLM\SOFTWARE\App /v X /s`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub1
    X    REG_QWORD    0x10

End of search: 1 match(es) found.
`, "")
	h.expect(`query HKLM\SOFTWARE\App\Sub2 /ve`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub2
    (Default)    REG_SZ    (value not set)

`, "")
	h.expect(`query HKLM\SOFTWARE\App /f sub /k /s`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub1
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub2
End of search: 2 match(es) found.
`, "")
	h.expect(`query HKLM\SOFTWARE\App /f WORLD /d`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App
    Name    REG_SZ    hello world

End of search: 1 match(es) found.
`, "")
	h.expect(`query HKLM\SOFTWARE\App /f WORLD /d /c`, 1, "\nEnd of search: 0 match(es) found.\n", "")
	// /e: the whole name or data, not a substring; without /k /v /d every kind is searched.
	h.expect(`query HKLM\SOFTWARE\App /f hello /e /d`, 1, "\nEnd of search: 0 match(es) found.\n", "")
	h.expect(`query HKLM\SOFTWARE\App /f hello~world /e /d`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App
    Name    REG_SZ    hello world

End of search: 1 match(es) found.
`, "")
	h.expect(`query HKLM\SOFTWARE\App /f SUB1 /e`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub1
End of search: 1 match(es) found.
`, "")
	// A bare /v after /f searches value names only; data is matched as displayed.
	h.expect(`query HKLM\SOFTWARE\App /f x /v`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub1
    X    REG_QWORD    0x10

End of search: 1 match(es) found.
`, "")
	h.expect(`query HKLM\SOFTWARE\App /f 2a /d`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App
    Count    REG_DWORD    0x2a

End of search: 1 match(es) found.
`, "")
	h.expect(`query HKLM\SOFTWARE\App /t REG_DWORD,REG_BINARY`, 0, `
HKEY_LOCAL_MACHINE\SOFTWARE\App
    Count    REG_DWORD    0x2a
    Raw    REG_BINARY    00FF10

HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub1
HKEY_LOCAL_MACHINE\SOFTWARE\App\Sub2
`, "")
	h.expect(`query HKLM\SOFTWARE\App /t REG_FOO`, 1, "", "ERROR: Invalid option: /t REG_FOO.\nType \"REG QUERY /?\" for usage.\n")
	h.expect(`query HKLM\SOFTWARE\App /v Missing`, 1, "\n", notFound)
	h.expect(`query HKLM\SOFTWARE\Nope`, 1, "", notFound)
	h.expect(`query HKLM\SOFTWARE\App /se ; /v List`, 0, "\nHKEY_LOCAL_MACHINE\\SOFTWARE\\App\n    List    REG_MULTI_SZ    a;b\n\n", "")

	_, out, _ := h.run(`query HKLM\SOFTWARE\App -o json`, "", false)
	var keys []jsonKey
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(keys) != 1 || len(keys[0].Values) != 5 || keys[0].Values[2].Data != float64(42) || keys[0].Subkeys[1] != "Sub2" {
		t.Errorf("json output: %s", out)
	}
}

func TestAddAndDeletePrompts(t *testing.T) {
	h := newHarness(t)
	h.expect(`add HKLM\SOFTWARE\P /v V /d one`, 0, done, "")
	// Without /f and without a terminal the answer is No.
	h.expect(`add HKLM\SOFTWARE\P /v V /d two`, 1,
		"Value V exists, overwrite(Yes/No)? \nThe operation was canceled by the user.\n", "")
	code, out, _ := h.run(`add HKLM\SOFTWARE\P /v V /d two`, "maybe\nyes\n", true)
	if code != 0 || out != "Value V exists, overwrite(Yes/No)? Value V exists, overwrite(Yes/No)? "+done {
		t.Errorf("interactive overwrite: %d %q", code, out)
	}
	h.expect(`query HKLM\SOFTWARE\P /v V`, 0, "\nHKEY_LOCAL_MACHINE\\SOFTWARE\\P\n    V    REG_SZ    two\n\n", "")
	h.expect(`add HKLM\SOFTWARE\P /v D /t REG_DWORD /d 0xfffffffff`, 1, "",
		"ERROR: Invalid syntax.\nType \"REG ADD /?\" for usage.\n")

	h.expect(`delete HKLM\SOFTWARE\P /v V`, 1, "Delete the registry value V (Yes/No)? \nThe operation was canceled by the user.\n", "")
	h.expect(`delete HKLM\SOFTWARE\P /v Nope /f`, 1, "", notFound)
	h.expect(`delete HKLM\SOFTWARE\P /v V /f`, 0, done, "")
	h.ok(`add HKLM\SOFTWARE\P /v A /f`)
	h.ok(`add HKLM\SOFTWARE\P /v B /f`)
	h.expect(`delete HKLM\SOFTWARE\P /va /f`, 0, done, "")
	h.expect(`query HKLM\SOFTWARE\P`, 0, "\n", "")
	h.ok(`add HKLM\SOFTWARE\P\Q\R`)
	h.expect(`delete HKLM\SOFTWARE\P`, 1, "Delete the registry key HKEY_LOCAL_MACHINE\\SOFTWARE\\P (Yes/No)? \nThe operation was canceled by the user.\n", "")
	code, out, _ = h.run(`delete HKLM\SOFTWARE\P`, "y\n", true)
	if code != 0 || !strings.HasSuffix(out, done) {
		t.Errorf("interactive delete: %d %q", code, out)
	}
	h.expect(`query HKLM\SOFTWARE\P`, 1, "", notFound)
	h.expect(`delete HKLM\SOFTWARE\P /f`, 1, "", notFound)
	h.expect(`delete HKLM /f`, 1, "", "ERROR: Invalid key name.\nType \"REG DELETE /?\" for usage.\n")
}

func TestCopyAndCompare(t *testing.T) {
	h := newHarness(t)
	h.ok(`add HKLM\SOFTWARE\A /v v1 /d x /f`)
	h.ok(`add HKLM\SOFTWARE\A\S /v v2 /t REG_DWORD /d 2 /f`)
	h.expect(`copy HKLM\SOFTWARE\A HKLM\SOFTWARE\a`, 1, "", "ERROR: The source and destination keys cannot be the same.\n")
	h.expect(`copy HKLM\SOFTWARE\A HKLM\SOFTWARE\B /s`, 0, done, "")
	h.expect(`compare HKLM\SOFTWARE\A HKLM\SOFTWARE\B /s`, 0, "\nResult Compared: Identical\n"+done, "")
	h.ok(`add HKLM\SOFTWARE\B\S /v v2 /t REG_DWORD /d 3 /f`)
	h.ok(`add HKLM\SOFTWARE\B\T`)
	h.expect(`compare HKLM\SOFTWARE\A HKLM\SOFTWARE\B /s`, 2, `< Value: HKEY_LOCAL_MACHINE\SOFTWARE\A\S    v2    REG_DWORD    0x2
> Value: HKEY_LOCAL_MACHINE\SOFTWARE\B\S    v2    REG_DWORD    0x3
> Key: HKEY_LOCAL_MACHINE\SOFTWARE\B\T

Result Compared: Different
`+done, "")
	// Without /s only the top key's values and subkey names count.
	h.expect(`compare HKLM\SOFTWARE\A HKLM\SOFTWARE\B /on`, 2, "\nResult Compared: Different\n"+done, "")
	h.expect(`compare HKLM\SOFTWARE\A HKLM\SOFTWARE\B /v v1 /oa`, 0, "= Value: HKEY_LOCAL_MACHINE\\SOFTWARE\\A    v1    REG_SZ    x\n\nResult Compared: Identical\n"+done, "")
	h.expect(`compare HKLM\SOFTWARE\A HKLM\SOFTWARE\B /v nope`, 1, "", notFound)
	h.expect(`compare HKLM\SOFTWARE\A HKLM\SOFTWARE\Nope`, 1, "", notFound)
	// Copying into an existing value without /f asks; the default answer keeps it.
	h.expect(`copy HKLM\SOFTWARE\A HKLM\SOFTWARE\B /s`, 0, "Value v2 exists, overwrite(Yes/No)? \n"+done, "")
	h.expect(`copy HKLM\SOFTWARE\A HKLM\SOFTWARE\A\Inner /s /f`, 0, done, "")
	h.expect(`query HKLM\SOFTWARE\A\Inner\S /v v2`, 0, "\nHKEY_LOCAL_MACHINE\\SOFTWARE\\A\\Inner\\S\n    v2    REG_DWORD    0x2\n\n", "")
}

func TestHandlesWatchSaveExport(t *testing.T) {
	h := newHarness(t)
	h.ok(`add HKLM\SYSTEM\CurrentControlSet\Services\X\Parameters /v P /d 1 /f`)
	h.expect(`handles HKLM\SYSTEM\ControlSet001\Services\X /s`, 0, "No open handles.\n", "")

	// Another client holds a handle through the link.
	c, err := registry.Dial(context.Background(), h.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k, err := registry.OpenKey(c.LocalMachine(), `SYSTEM\CurrentControlSet\Services\X\Parameters`, registry.READ)
	if err != nil {
		t.Fatal(err)
	}
	// The holder is this test process too, so ask through JSON and compare fields.
	out := h.ok(`handles HKLM\SYSTEM\ControlSet001\Services\X /s -o json`)
	if out != "[]\n" {
		t.Errorf("own handles are hidden, got %s", out)
	}

	file := filepath.Join(h.dir, "x.hiv")
	h.expect(`save HKLM\SYSTEM\ControlSet001\Services\X `+file, 0, done, "")
	h.expect(`save HKLM\SYSTEM\ControlSet001\Services\X `+file, 1,
		"File "+file+" already exists, overwrite(Yes/No)? \nThe operation was canceled by the user.\n", "")
	h.expect(`save HKLM\SYSTEM\ControlSet001\Services\X `+file+` /y`, 0, done, "")
	h.ok(`add HKLM\SYSTEM\CurrentControlSet\Services\X\Parameters /v P /d 2 /f`)
	// The other client's handle (opened through the link) blocks the restore, and the
	// message names it.
	comm, _ := os.ReadFile("/proc/self/comm")
	h.expect(`restore HKLM\SYSTEM\CurrentControlSet\Services\X `+file, 1, "", fmt.Sprintf(
		"ERROR: Access is denied.\n1 handle(s) of other processes are open in HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\X:\n"+
			"    pid %d (%s) HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\X\\Parameters\n", os.Getpid(), bytes.TrimSpace(comm)))
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	h.expect(`restore HKLM\SYSTEM\CurrentControlSet\Services\X `+file, 0, done, "")
	h.expect(`query HKLM\SYSTEM\CurrentControlSet\Services\X\Parameters /v P`, 0,
		"\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\X\\Parameters\n    P    REG_SZ    1\n\n", "")

	h.expect(`load HKLM\Mounted `+file, 0, done, "")
	h.expect(`query HKLM\Mounted\Parameters /v P`, 0, "\nHKEY_LOCAL_MACHINE\\Mounted\\Parameters\n    P    REG_SZ    1\n\n", "")
	h.expect(`unload HKLM\Mounted`, 0, done, "")
	h.expect(`query HKLM\Mounted`, 1, "", notFound)
	h.expect(`load HKLM\A\B `+file, 1, "", "ERROR: Invalid key name.\nType \"REG LOAD /?\" for usage.\n")

	regFile := filepath.Join(h.dir, "x.reg")
	h.expect(`export HKLM\SYSTEM\ControlSet001\Services\X `+regFile, 0, done, "")
	data, err := os.ReadFile(regFile)
	if err != nil || !bytes.HasPrefix(data, []byte{0xff, 0xfe, 'W', 0}) {
		t.Fatalf("export wrote %x, %v", data[:min(len(data), 8)], err)
	}
	h.expect(`delete HKLM\SYSTEM\ControlSet001\Services\X /f`, 0, done, "")
	h.expect(`import `+regFile, 0, done, "")
	h.expect(`query HKLM\SYSTEM\ControlSet001\Services\X\Parameters`, 0,
		"\nHKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\X\\Parameters\n    P    REG_SZ    1\n\n", "")
	h.expect(`import `+filepath.Join(h.dir, "none.reg"), 1, "", "ERROR: The system cannot find the file specified: "+filepath.Join(h.dir, "none.reg")+"\n")
}

func TestUsage(t *testing.T) {
	h := newHarness(t)
	out := h.ok(`/?`)
	if !strings.Contains(out, "REG Operation [Parameter List]") || !strings.Contains(out, "HANDLES") {
		t.Errorf("reg /?:\n%s", out)
	}
	out = h.ok(`add /?`)
	if !strings.HasPrefix(out, "\nREG ADD KeyName [/v ValueName | /ve] [/t Type] [/s Separator] [/d Data] [/f]") {
		t.Errorf("reg add /?:\n%s", out)
	}
	for op := range usages {
		if op != "" && !strings.Contains(Usage(op), "REG "+string(op)) {
			t.Errorf("usage of %s does not name it", op)
		}
	}
}

func TestProgressOnTerminal(t *testing.T) {
	h := newHarness(t)
	c, err := registry.Dial(context.Background(), h.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k, _, err := registry.CreateKey(c.LocalMachine(), `SOFTWARE\Big`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetBinaryValue("Blob", bytes.Repeat([]byte{0xa5}, 5<<20)); err != nil {
		t.Fatal(err)
	}
	k.Close()
	file := filepath.Join(h.dir, "big.hiv")
	h.progress = true
	code, out, errOut := h.run(`save HKLM\SOFTWARE\Big `+file, "", false)
	if code != 0 || out != done || !strings.Contains(errOut, "\rWriting "+file+": 100% of 5.") {
		t.Errorf("save: %d %q %q", code, out, errOut)
	}
	code, out, errOut = h.run(`restore HKLM\SOFTWARE\Big `+file, "", false)
	if code != 0 || out != done || !strings.Contains(errOut, ": 100% of 5.") || !strings.Contains(errOut, "Restoring 5.") || !strings.HasSuffix(errOut, " done.\n") {
		t.Errorf("restore: %d %q %q", code, out, errOut)
	}
	// Without a terminal, nothing.
	h.progress = false
	if code, _, errOut := h.run(`save HKLM\SOFTWARE\Big `+file+` /y`, "", false); code != 0 || errOut != "" {
		t.Errorf("save without a terminal: %d %q", code, errOut)
	}
	h.expect(`query HKLM\SOFTWARE\Big /v Blob /t REG_SZ`, 1, "\n", notFound)

	// load of a big file: the node reads it; reg says so while it runs.
	h.progress = true
	code, out, errOut = h.run(`load HKLM\BigHive `+file, "", false)
	if code != 0 || out != done || !strings.HasPrefix(errOut, "Loading 5.") || !strings.HasSuffix(errOut, " done.\n") {
		t.Errorf("load: %d %q %q", code, out, errOut)
	}
	h.progress = false
	h.ok(`unload HKLM\BigHive`)

	// export and import of many keys count them.
	for i := range 2500 {
		k, _, err := registry.CreateKey(c.LocalMachine(), fmt.Sprintf(`SOFTWARE\Many\K%04d`, i), registry.ALL_ACCESS)
		if err != nil {
			t.Fatal(err)
		}
		k.Close()
	}
	regFile := filepath.Join(h.dir, "many.reg")
	h.progress = true
	code, out, errOut = h.run(`export HKLM\SOFTWARE\Many `+regFile, "", false)
	if code != 0 || out != done || !strings.Contains(errOut, "\rExporting HKEY_LOCAL_MACHINE\\SOFTWARE\\Many: 2000 keys") ||
		!strings.HasSuffix(errOut, "\rExporting HKEY_LOCAL_MACHINE\\SOFTWARE\\Many: 2501 keys, done.\n") {
		t.Errorf("export: %d %q %q", code, out, errOut)
	}
	code, out, errOut = h.run(`import `+regFile, "", false)
	if code != 0 || out != done || !strings.HasSuffix(errOut, "\rImporting "+regFile+": 2501 keys, done.\n") {
		t.Errorf("import: %d %q %q", code, out, errOut)
	}
	h.progress = false
	if code, _, errOut := h.run(`export HKLM\SOFTWARE\Many `+regFile+` /y`, "", false); code != 0 || errOut != "" {
		t.Errorf("export without a terminal: %d %q", code, errOut)
	}
}

// TestFileErrors: bad or unreachable files of import, export, save and restore give
// reg.exe-style messages that name the file (and, for a .reg file, line and column).
func TestFileErrors(t *testing.T) {
	h := newHarness(t)
	h.ok(`add HKLM\SOFTWARE\X /f`)
	write := func(name, text string) string {
		p := filepath.Join(h.dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.reg", "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n\"v\"=dword:zz\r\n")
	h.expect(`import `+bad, 1, "", "ERROR: Error accessing the registry: regfile: line 4, column 11: bad hex digit 'z'\n")
	noHeader := write("nohdr.reg", "[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n")
	h.expect(`import `+noHeader, 1, "", "ERROR: Error accessing the registry: regfile: line 1, column 1: missing header \"Windows Registry Editor Version 5.00\" or \"REGEDIT4\"\n")
	remote := write("remote.reg", "REGEDIT4\r\n\r\n[\\\\N1\\HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n")
	h.expect(`import `+remote, 1, "", `ERROR: Invalid key name \\N1\HKEY_LOCAL_MACHINE\SOFTWARE\X in `+remote+".\n")
	hkcu := write("hkcu.reg", "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\SOFTWARE\\X]\r\n")
	h.expect(`import `+hkcu, 1, "", `ERROR: Invalid key name HKEY_CURRENT_USER\SOFTWARE\X in `+hkcu+".\n")

	missingDir := filepath.Join(h.dir, "nodir", "o.reg")
	h.expect(`export HKLM\SOFTWARE\X `+missingDir, 1, "", "ERROR: The system cannot find the path specified: "+missingDir+"\n")
	h.expect(`save HKLM\SOFTWARE\X `+missingDir, 1, "", "ERROR: The system cannot find the path specified: "+missingDir+"\n")
	h.expect(`export HKLM\SOFTWARE\Nope `+filepath.Join(h.dir, "o.reg"), 1, "", notFound)
	h.expect(`save HKLM\SOFTWARE\Nope `+filepath.Join(h.dir, "o.hiv"), 1, "", notFound)
	h.expect(`restore HKLM\SOFTWARE\X `+bad, 1, "", "ERROR: The system has attempted to load or restore a file into the registry, but the specified file is not in a registry file format.\n")
	h.expect(`unload HKLM\Nope`, 1, "", notFound)
	h.expect(`unload HKLM\SOFTWARE`, 1, "", "ERROR: The parameter is incorrect.\n")
}

// reg delete of a key whose name ends at a symbolic link deletes nothing (it would
// delete the link's target, named otherwise) and says what the key is; /link deletes
// the link itself. Keys the system needs are never deleted, and the refusal says why.
func TestDeleteThroughLinkRefused(t *testing.T) {
	h := newHarness(t)
	h.ok(`add HKLM\SOFTWARE\Vendor /v Version /t REG_DWORD /d 3 /f`)
	c, err := registry.Dial(context.Background(), h.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, _, err := registry.CreateKeyEx(c.LocalMachine(), `SOFTWARE\Alias`, "", registry.REG_OPTION_CREATE_LINK, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := engine.EncodeLinkTarget(`\REGISTRY\MACHINE\SOFTWARE\Vendor`)
	if err := l.SetValue("SymbolicLinkValue", registry.LINK, target); err != nil {
		t.Fatal(err)
	}
	l.Close()

	h.expect(`delete HKLM\SOFTWARE\Alias /f`, 1, "",
		"ERROR: Access is denied.\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Alias is a symbolic link to HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor: deleting it would delete the link's target.\n"+
			"Delete the target by its own name, or the link itself with REG DELETE HKEY_LOCAL_MACHINE\\SOFTWARE\\Alias /link.\n")
	if out := h.ok(`query HKLM\SOFTWARE\Vendor /v Version`); !strings.Contains(out, "0x3") {
		t.Fatalf("the target was touched:\n%s", out)
	}
	h.expect(`delete HKLM\SOFTWARE\Vendor /link /f`, 1, "",
		"ERROR: HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor is not a symbolic link: /link deletes a link key only.\n")
	h.ok(`delete HKLM\SOFTWARE\Alias /link /f`)
	if code, _, _ := h.run(`query HKLM\SOFTWARE\Alias`, "", false); code != 1 {
		t.Fatalf("the link is still there (exit %d)", code)
	}
	h.ok(`query HKLM\SOFTWARE\Vendor /v Version`)

	h.expect(`delete HKLM\SYSTEM\CurrentControlSet /f`, 1, "",
		"ERROR: Access is denied.\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet is a symbolic link to HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001: deleting it would delete the link's target.\n"+
			"Delete the target by its own name, or the link itself with REG DELETE HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet /link.\n")
	for key, what := range map[string]string{
		`HKLM\SYSTEM\CurrentControlSet /link`: "the link to the current control set",
		`HKLM\SYSTEM\ControlSet001`:           "a control set (the current one)",
		`HKLM\SYSTEM\Select`:                  "the selection of the control sets",
		`HKLM\SOFTWARE`:                       "a hive root",
	} {
		name := "HKEY_LOCAL_MACHINE" + strings.TrimSuffix(strings.TrimPrefix(key, "HKLM"), " /link")
		h.expect(`delete `+key+` /f`, 1, "", "ERROR: Access is denied.\n"+name+" is "+what+": the system needs it, and it cannot be deleted.\n")
	}
	h.ok(`query HKLM\SYSTEM\CurrentControlSet\Services`)
}
