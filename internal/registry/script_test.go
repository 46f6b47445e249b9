package registry

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wolfpack/internal/secdesc"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// TestScripts runs the scenarios in testdata/*.txt. Each is a sequence of commands, each
// followed by "----" and the output it must give (no blank lines), blocks separated by a
// blank line; "#" lines are comments. go test -run TestScripts -rewrite regenerates the
// outputs, for a reviewer to read in the diff.
//
// Commands ("as=NAME" names a handle or blob; a PATH starts with a root name or with a
// handle name followed by \ and a subpath):
//
//	session NAME [pid=N] [exe=S] [uid=N] [gids=G,G]
//	                                        make or switch to a client session (uid 0 if not given)
//	create PATH [volatile] [link] [openlink] [class=C] [access=A] [as=H]
//	open PATH [openlink] [access=A] [as=H]  access: KEY_READ, KEY_WRITE, KEY_ALL_ACCESS, number
//	close H | delete PATH | deletetree PATH
//	set H NAME TYPE DATA                    NAME @ is the default value; DATA by type:
//	                                        REG_SZ text, REG_DWORD n, REG_LINK full path, else hex
//	query H NAME | delvalue H NAME | enum H | info H | flush H
//	handles H [subtree]                     every session's handles
//	save H as=BLOB | restore H BLOB [force]
//	watch H [subtree] [filter=name,last_set] as=W | changes W
//	acl H                                   the key's descriptor (owner, group, DACL) in SDDL
//	setacl H SDDL                           set the parts the SDDL has (O:, G:, D:)
//	reopen                                  close the registry and open it again (persistent)
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file)
		})
	}
}

type scriptBlock struct {
	comments []string
	cmd      string
	want     string
}

func parseScript(t *testing.T, data string) []scriptBlock {
	var blocks []scriptBlock
	var cur scriptBlock
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "":
		case strings.HasPrefix(l, "#"):
			cur.comments = append(cur.comments, l)
		case cur.cmd == "":
			cur.cmd = l
			if i+1 >= len(lines) || lines[i+1] != "----" {
				t.Fatalf("line %d: command %q without ----", i+1, l)
			}
			i++
			var out []string
			for i+1 < len(lines) && lines[i+1] != "" {
				i++
				out = append(out, lines[i])
			}
			cur.want = strings.Join(out, "\n")
			blocks = append(blocks, cur)
			cur = scriptBlock{}
		}
	}
	return blocks
}

type scriptEnv struct {
	t        *testing.T
	dir      string
	r        *Registry
	sessions map[string]*Session
	cur      *Session
	handles  map[string]struct {
		s *Session
		h Handle
	}
	blobs    map[string][]byte
	watches  map[string]<-chan Change
	watchers map[string]*watcher
	cancel   []context.CancelFunc
	nextAuto int
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	env := &scriptEnv{t: t, dir: t.TempDir(), sessions: map[string]*Session{}, blobs: map[string][]byte{},
		watches: map[string]<-chan Change{}, watchers: map[string]*watcher{}}
	env.handles = map[string]struct {
		s *Session
		h Handle
	}{}
	env.r = openDir(t, env.dir, Options{})
	defer func() {
		for _, c := range env.cancel {
			c()
		}
		env.r.Close()
	}()
	blocks := parseScript(t, string(data))
	var out strings.Builder
	for _, b := range blocks {
		got := env.run(b.cmd)
		for _, c := range b.comments {
			out.WriteString(c + "\n")
		}
		out.WriteString(b.cmd + "\n----\n")
		if got != "" {
			out.WriteString(got + "\n")
		}
		out.WriteString("\n")
		if !*rewrite && got != b.want {
			t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", file, b.cmd, got, b.want)
		}
	}
	if *rewrite {
		os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644)
	}
}

func (env *scriptEnv) errText(err error) string {
	var kiu *KeysInUseError
	var en Errno
	switch {
	case errors.As(err, &kiu):
		var b strings.Builder
		fmt.Fprintf(&b, "error: ERROR_ACCESS_DENIED (keys in use in %s)", kiu.Key)
		for _, h := range kiu.Holders {
			fmt.Fprintf(&b, "\n  held by %s pid %d as %s", h.Owner.Exe, h.Owner.PID, h.OpenedAs)
		}
		return b.String()
	case errors.As(err, &en):
		return "error: " + en.Name()
	}
	return "error: " + err.Error()
}

// resolve turns a script PATH into (parent handle, relative path).
func (env *scriptEnv) resolve(p string) (Handle, string, error) {
	if _, _, err := ParsePath(p); err == nil {
		return ParsePath(p)
	}
	name, rest, _ := strings.Cut(p, `\`)
	h, ok := env.handles[name]
	if !ok {
		return 0, "", fmt.Errorf("no handle or root %q", name)
	}
	return h.h, rest, nil
}

func (env *scriptEnv) handle(name string) Handle {
	if h, ok := env.handles[name]; ok {
		return h.h
	}
	if root, rest, err := ParsePath(name); err == nil && rest == "" {
		return root
	}
	env.t.Fatalf("no handle %q", name)
	return 0
}

var accessNames = map[string]uint32{"KEY_READ": KEY_READ, "KEY_WRITE": KEY_WRITE, "KEY_ALL_ACCESS": KEY_ALL_ACCESS,
	"KEY_QUERY_VALUE": KEY_QUERY_VALUE, "KEY_SET_VALUE": KEY_SET_VALUE, "KEY_NOTIFY": KEY_NOTIFY}

var typeNames = map[string]uint32{"REG_NONE": REG_NONE, "REG_SZ": REG_SZ, "REG_EXPAND_SZ": REG_EXPAND_SZ,
	"REG_BINARY": REG_BINARY, "REG_DWORD": REG_DWORD, "REG_LINK": REG_LINK, "REG_MULTI_SZ": REG_MULTI_SZ, "REG_QWORD": REG_QWORD}

func typeName(t uint32) string {
	for n, v := range typeNames {
		if v == t {
			return n
		}
	}
	return fmt.Sprintf("0x%x", t)
}

func formatData(typ uint32, d []byte) string {
	switch typ {
	case REG_SZ, REG_EXPAND_SZ:
		return strconv.Quote(strings.TrimSuffix(fromUTF16le(d), "\x00"))
	case REG_LINK:
		return fromUTF16le(d)
	case REG_DWORD:
		if len(d) == 4 {
			return strconv.Itoa(int(binary.LittleEndian.Uint32(d)))
		}
	}
	return hex.EncodeToString(d)
}

func (env *scriptEnv) run(cmd string) string {
	t := env.t
	f := strings.Fields(cmd)
	opts := map[string]string{}
	var args []string
	for _, a := range f[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			opts[k] = v
		} else {
			args = append(args, a)
		}
	}
	flag := func(n string) bool {
		for _, a := range args {
			if a == n {
				return true
			}
		}
		return false
	}
	access := uint32(0)
	if a, ok := opts["access"]; ok {
		if v, ok := accessNames[a]; ok {
			access = v
		} else {
			n, _ := strconv.ParseUint(a, 0, 32)
			access = uint32(n)
		}
	}
	name := func() string {
		if n, ok := opts["as"]; ok {
			return n
		}
		env.nextAuto++
		return fmt.Sprintf("h%d", env.nextAuto)
	}
	s := env.cur
	if s == nil && f[0] != "session" && f[0] != "reopen" {
		t.Fatalf("%s: no session", cmd)
	}
	switch f[0] {
	case "session":
		if _, ok := env.sessions[args[0]]; !ok {
			pid, _ := strconv.Atoi(opts["pid"])
			uid, _ := strconv.Atoi(opts["uid"])
			var gids []int
			for _, g := range strings.Split(opts["gids"], ",") {
				if n, err := strconv.Atoi(g); err == nil {
					gids = append(gids, n)
				}
			}
			env.sessions[args[0]] = env.r.NewSession(Owner{PID: pid, UID: uid, GIDs: gids, Exe: opts["exe"]})
		}
		env.cur = env.sessions[args[0]]
		return ""
	case "create", "open":
		parent, rest, err := env.resolve(args[0])
		if err != nil {
			return env.errText(err)
		}
		var o uint32
		if flag("volatile") {
			o |= REG_OPTION_VOLATILE
		}
		if flag("link") {
			o |= REG_OPTION_CREATE_LINK
		}
		if flag("openlink") {
			o |= REG_OPTION_OPEN_LINK
		}
		var h Handle
		result := "ok"
		if f[0] == "create" {
			var created bool
			h, created, err = s.CreateKey(parent, rest, CreateOptions{Class: opts["class"], Options: o, Access: access})
			result = map[bool]string{true: "created", false: "opened"}[created]
		} else {
			h, err = s.OpenKey(parent, rest, o, access)
		}
		if err != nil {
			return env.errText(err)
		}
		env.handles[name()] = struct {
			s *Session
			h Handle
		}{s, h}
		return result
	case "close":
		return errOr(env, s.CloseKey(env.handle(args[0])), "")
	case "delete", "deletetree":
		parent, rest, err := env.resolve(args[0])
		if err != nil {
			return env.errText(err)
		}
		if f[0] == "delete" {
			return errOr(env, s.DeleteKey(parent, rest), "ok")
		}
		return errOr(env, s.DeleteTree(parent, rest), "ok")
	case "set":
		h := env.handle(args[0])
		vname := args[1]
		if vname == "@" {
			vname = ""
		}
		typ, ok := typeNames[args[2]]
		if !ok {
			n, _ := strconv.ParseUint(args[2], 0, 32)
			typ = uint32(n)
		}
		raw := strings.Join(args[3:], " ")
		var data []byte
		switch typ {
		case REG_SZ, REG_EXPAND_SZ:
			data = sz(raw)
		case REG_DWORD:
			n, _ := strconv.ParseUint(raw, 0, 32)
			data = dword(uint32(n))
		case REG_LINK:
			var err error
			if data, err = EncodeLinkTarget(raw); err != nil {
				return env.errText(err)
			}
		default:
			data, _ = hex.DecodeString(raw)
		}
		return errOr(env, s.SetValue(h, vname, typ, data), "ok")
	case "query":
		vname := args[1]
		if vname == "@" {
			vname = ""
		}
		typ, data, err := s.QueryValue(env.handle(args[0]), vname)
		if err != nil {
			return env.errText(err)
		}
		return typeName(typ) + " " + formatData(typ, data)
	case "delvalue":
		return errOr(env, s.DeleteValue(env.handle(args[0]), args[1]), "ok")
	case "enum":
		h := env.handle(args[0])
		keys, err := s.EnumKeys(h)
		if err != nil {
			return env.errText(err)
		}
		vals, err := s.EnumValues(h)
		if err != nil {
			return env.errText(err)
		}
		var lines []string
		for _, k := range keys {
			lines = append(lines, "key "+k)
		}
		for _, v := range vals {
			n := v.Name
			if n == "" {
				n = "@"
			}
			lines = append(lines, "value "+n+" "+typeName(v.Type)+" "+formatData(v.Type, v.Data))
		}
		return strings.Join(lines, "\n")
	case "info":
		in, err := s.QueryInfo(env.handle(args[0]))
		if err != nil {
			return env.errText(err)
		}
		hi, _ := s.HandleInfo(env.handle(args[0]))
		return fmt.Sprintf("resolved %s\nsubkeys %d values %d class %q volatile %v link %v", hi.Resolved, in.SubKeys, in.Values, in.Class, in.Volatile, in.Link)
	case "flush":
		return errOr(env, s.Flush(context.Background(), env.handle(args[0])), "ok")
	case "handles":
		hs, err := s.Handles(env.handle(args[0]), flag("subtree"))
		if err != nil {
			return env.errText(err)
		}
		var lines []string
		for _, h := range hs {
			lines = append(lines, fmt.Sprintf("%s pid %d access 0x%x opened as %s -> %s", h.Owner.Exe, h.Owner.PID, h.Access, h.OpenedAs, h.Resolved))
		}
		return strings.Join(lines, "\n")
	case "save":
		b, err := s.Save(env.handle(args[0]), 5)
		if err != nil {
			return env.errText(err)
		}
		env.blobs[opts["as"]] = b
		return "ok"
	case "restore":
		var fl uint32
		if flag("force") {
			fl |= REG_FORCE_RESTORE
		}
		return errOr(env, s.Restore(context.Background(), env.handle(args[0]), env.blobs[args[1]], fl), "ok")
	case "watch":
		var filter uint32
		for _, p := range strings.Split(opts["filter"], ",") {
			filter |= map[string]uint32{"name": REG_NOTIFY_CHANGE_NAME, "last_set": REG_NOTIFY_CHANGE_LAST_SET,
				"attributes": REG_NOTIFY_CHANGE_ATTRIBUTES, "security": REG_NOTIFY_CHANGE_SECURITY}[p]
		}
		ctx, cancel := context.WithCancel(context.Background())
		env.cancel = append(env.cancel, cancel)
		ch, err := s.Notify(ctx, env.handle(args[0]), flag("subtree"), filter)
		if err != nil {
			return env.errText(err)
		}
		env.watches[opts["as"]] = ch
		env.r.mu.RLock()
		hh, _ := s.get(env.handle(args[0]))
		env.watchers[opts["as"]] = hh.watchers[len(hh.watchers)-1]
		env.r.mu.RUnlock()
		return "ok"
	case "changes":
		// Everything delivered is in the channel once the watcher is quiet, or once the
		// channel is closed when the watch has ended.
		ch, w := env.watches[args[0]], env.watchers[args[0]]
		var lines []string
		deadline := time.Now().Add(10 * time.Second)
		stopped := func() bool {
			select {
			case <-w.done:
				return true
			default:
				return false
			}
		}
		for !stopped() && !w.quiet() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for {
			var c Change
			var ok bool
			if stopped() {
				select {
				case c, ok = <-ch:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: watch ended but its channel is not closed", cmd)
				}
			} else {
				select {
				case c, ok = <-ch:
				default:
					return strings.Join(lines, "\n")
				}
			}
			if !ok {
				return strings.Join(append(lines, "closed"), "\n")
			}
			kind := map[uint32]string{REG_NOTIFY_CHANGE_NAME: "name", REG_NOTIFY_CHANGE_LAST_SET: "last_set",
				REG_NOTIFY_CHANGE_SECURITY: "security"}[c.Filter]
			lines = append(lines, kind+" "+c.Key)
		}
	case "acl":
		b, err := s.GetSecurity(env.handle(args[0]), OWNER_SECURITY_INFORMATION|GROUP_SECURITY_INFORMATION|DACL_SECURITY_INFORMATION)
		if err != nil {
			return env.errText(err)
		}
		sd, err := secdesc.Parse(b)
		if err != nil {
			return env.errText(err)
		}
		return sd.String()
	case "setacl":
		sd, err := secdesc.ParseSDDL(args[1])
		if err != nil {
			return env.errText(err)
		}
		var info uint32
		if sd.Owner != "" {
			info |= OWNER_SECURITY_INFORMATION
		}
		if sd.Group != "" {
			info |= GROUP_SECURITY_INFORMATION
		}
		if sd.Control&secdesc.SE_DACL_PRESENT != 0 {
			info |= DACL_SECURITY_INFORMATION
		}
		return errOr(env, s.SetSecurity(env.handle(args[0]), info, sd.Bytes()), "ok")
	case "reopen":
		if err := env.r.Close(); err != nil {
			return env.errText(err)
		}
		env.r = openDir(t, env.dir, Options{})
		env.sessions = map[string]*Session{}
		env.cur = nil
		return ""
	}
	t.Fatalf("unknown command %q", cmd)
	return ""
}

func errOr(env *scriptEnv, err error, ok string) string {
	if err != nil {
		return env.errText(err)
	}
	return ok
}
