package registry

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wolfpack/internal/secdesc"
)

// Interoperability of saved hives with custom security descriptors, read by the peers
// installed from Debian: hivex (libhivex-bin), libregf (libregf-utils) and Samba
// (registry-tools). Samba's regshell decodes each key's descriptor (its `info` command,
// with -d 1): that is the independent check that the sk cells hold what the keys have.

func runTool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (Debian packages libhivex-bin, libregf-utils, registry-tools; scripts/test installs them): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%.2000s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sambaSD is a descriptor as regshell prints it, reduced to what the comparison needs:
// "O:sid G:sid (type;flags;mask;sid)...".
func sambaSDs(out string) []string {
	var sds []string
	var cur *strings.Builder
	field := func(line, name string) (string, bool) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != name {
			return "", false
		}
		return strings.TrimSpace(v), true
	}
	var ace []string
	flush := func() {
		if ace != nil {
			fmt.Fprintf(cur, " (%s)", strings.Join(ace, ";"))
			ace = nil
		}
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "sec_desc: struct security_descriptor") {
			if cur != nil {
				flush()
				sds = append(sds, cur.String())
			}
			cur = &strings.Builder{}
			continue
		}
		if cur == nil {
			continue
		}
		if v, ok := field(line, "owner_sid"); ok && strings.HasPrefix(v, "S-") {
			fmt.Fprintf(cur, "O:%s", v)
		}
		if v, ok := field(line, "group_sid"); ok && strings.HasPrefix(v, "S-") {
			fmt.Fprintf(cur, " G:%s", v)
		}
		if v, ok := field(line, "type"); ok && strings.HasPrefix(v, "SEC_ACE_TYPE_") {
			flush()
			n := v[strings.LastIndexByte(v, '(')+1 : len(v)-1]
			ace = []string{n}
		}
		if v, ok := field(line, "flags"); ok && ace != nil {
			f, _ := strconv.ParseUint(strings.Fields(v)[0], 0, 8)
			ace = append(ace, strconv.FormatUint(f, 10))
		}
		if v, ok := field(line, "access_mask"); ok && ace != nil {
			m, _ := strconv.ParseUint(strings.Fields(v)[0], 0, 32)
			ace = append(ace, fmt.Sprintf("%#x", m))
		}
		if v, ok := field(line, "trustee"); ok && ace != nil {
			ace = append(ace, v)
		}
	}
	if cur != nil {
		flush()
		sds = append(sds, cur.String())
	}
	return sds
}

// ourSD is sd in sambaSDs' form.
func ourSD(sd *secdesc.SecurityDescriptor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "O:%s G:%s", sd.Owner, sd.Group)
	for _, e := range sd.DACL.ACEs {
		fmt.Fprintf(&b, " (%d;%d;%#x;%s)", e.Type, e.Flags, e.Mask, e.SID)
	}
	return b.String()
}

// TestSaveInteropSecurity: a hive saved with custom descriptors — deny and allow ACEs,
// Unix users and groups, every inheritance flag, generic rights, CREATOR OWNER, a
// protected DACL and inherited ones — is read by hivexml, regfexport and regtree, and
// Samba's regshell shows each key's descriptor exactly as the registry has it.
func TestSaveInteropSecurity(t *testing.T) {
	_, s := newTestSession(t)
	keys := []string{`App`, `App\Sub`, `App\Sub\Deep`, `App\Other`, `App\Other\Leaf`}
	for _, k := range keys {
		h := mustCreate(t, s, `HKLM\SOFTWARE\`+k)
		s.SetValue(h, "v", REG_DWORD, dword(1))
	}
	setSDDL(t, s, `HKLM\SOFTWARE\App`, "O:S-1-22-1-1000D:P(D;CI;KW;;;S-1-22-2-200)(A;CI;KA;;;S-1-22-1-1000)(A;CIIO;GA;;;CO)(A;CI;KR;;;BU)(A;CI;KA;;;BA)")
	setSDDL(t, s, `HKLM\SOFTWARE\App\Other`, "D:(A;OICINP;0x2001b;;;S-1-22-2-300)(A;OI;KR;;;AU)")
	h, err := s.OpenPath(`HKLM\SOFTWARE\App`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Save(h, 5)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "app.hiv")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Samba's tools rewrite the file they open: each run gets a fresh copy.
	copies := 0
	copyOf := func() string {
		copies++
		p := filepath.Join(dir, fmt.Sprintf("copy%d.hiv", copies))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	var doc struct {
		Root struct {
			Name  string `xml:"name,attr"`
			Nodes []struct {
				Name string `xml:"name,attr"`
			} `xml:"node"`
		} `xml:"node"`
	}
	if err := xml.Unmarshal([]byte(runTool(t, "", "hivexml", file)), &doc); err != nil {
		t.Fatalf("hivexml output: %v", err)
	}
	if doc.Root.Name != "App" || len(doc.Root.Nodes) != 2 {
		t.Errorf("hivexml: root %q with %d subkeys, want App with 2", doc.Root.Name, len(doc.Root.Nodes))
	}
	out := runTool(t, "", "regfexport", file)
	if n := strings.Count(out, "\nKey path: "); n != len(keys) || strings.Contains(out, "unable") || strings.Contains(out, "error") {
		t.Errorf("regfexport lists %d keys of %d, or reports an error:\n%.2000s", n, len(keys), out)
	}
	if out := runTool(t, "", "regtree", "-F", copyOf()); !strings.Contains(out, "Deep") || !strings.Contains(out, "Leaf") {
		t.Errorf("regtree output lacks keys:\n%s", out)
	}

	for _, k := range keys {
		sub := strings.TrimPrefix(strings.TrimPrefix(k, "App"), `\`)
		script := "info\nexit\n"
		if sub != "" {
			script = "ck " + strings.ReplaceAll(sub, `\`, "\nck ") + "\n" + script
		}
		sds := sambaSDs(runTool(t, script, "regshell", "-d", "1", "-F", copyOf()))
		if len(sds) == 0 {
			t.Fatalf("regshell showed no descriptor for %s", k)
		}
		r := s.r
		r.mu.RLock()
		want := ourSD(r.findPath(`HKEY_LOCAL_MACHINE\SOFTWARE\` + k).sec.sd)
		r.mu.RUnlock()
		if got := sds[len(sds)-1]; got != want {
			t.Errorf("%s: Samba reads\n%s\nthe registry has\n%s", k, got, want)
		}
	}
}
