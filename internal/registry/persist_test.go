package registry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wolfpack/internal/hive"
	"wolfpack/internal/secdesc"
	"wolfpack/internal/utf16le"
)

// crash stops a registry as kill -9 would as far as the store is concerned: no last
// write, no compaction, files left as they are.
func crash(r *Registry) {
	close(r.j.abandon)
	<-r.j.done
	r.j.f.Close()
	r.st.close()
	r.closed.Store(true)
}

func openDir(t testing.TB, dir string, opts Options) *Registry {
	t.Helper()
	r, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return r
}

func TestPersistReopen(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{})
	s := r.NewSession(Owner{PID: 1, Exe: "test"})
	h := mustCreate(t, s, `HKLM\SOFTWARE\App\Sub`)
	s.SetValue(h, "Name", REG_SZ, sz("value"))
	s.SetValue(h, "", REG_DWORD, dword(5))
	s.SetValue(h, "gone", REG_DWORD, dword(5))
	s.DeleteValue(h, "gone")
	mustCreate(t, s, `HKLM\SOFTWARE\App\Deleted\Deeper`)
	s.DeleteTree(HKEY_LOCAL_MACHINE, `SOFTWARE\App\Deleted`)
	if _, _, err := s.CreatePath(`HKLM\SOFTWARE\App\Volatile`, CreateOptions{Options: REG_OPTION_VOLATILE}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, `HKLM\SYSTEM\CurrentControlSet\Services\ViaLink`)
	hu := mustCreate(t, s, `HKU\S-1-5-18\Env`)
	s.SetValue(hu, "Path", REG_EXPAND_SZ, sz("%SystemRoot%"))
	if err := s.Flush(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// Twice: once from bbolt after Close's compaction, once more after a reopen.
	for range 2 {
		r = openDir(t, dir, Options{})
		s = r.NewSession(Owner{PID: 1, Exe: "test"})
		h, err := s.OpenPath(`HKLM\software\app\sub`)
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := s.EnumValues(h)
		if len(vs) != 2 || vs[0].Name != "Name" || !bytes.Equal(vs[0].Data, sz("value")) || vs[1].Name != "" {
			t.Errorf("values after reopen: %+v", vs)
		}
		for p, want := range map[string]error{
			`HKLM\SOFTWARE\App\Deleted`:                      ERROR_FILE_NOT_FOUND,
			`HKLM\SOFTWARE\App\Volatile`:                     ERROR_FILE_NOT_FOUND,
			`HKLM\SYSTEM\ControlSet001\Services\ViaLink`:     nil,
			`HKLM\SYSTEM\CurrentControlSet\Services\ViaLink`: nil,
			`HKU\S-1-5-18\Env`:                               nil,
		} {
			if _, err := s.OpenPath(p); !errors.Is(err, want) && !(want == nil && err == nil) {
				t.Errorf("%s: %v, want %v", p, err, want)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenPath(`HKLM\SOFTWARE`); !errors.Is(err, ERROR_INVALID_HANDLE) {
			t.Errorf("call after Close: %v", err)
		}
	}
}

// TestPersistLazyFlush: an unflushed write reaches the journal within LazyFlush.
func TestPersistLazyFlush(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{LazyFlush: 20 * time.Millisecond})
	defer r.Close()
	s := r.NewSession(Owner{PID: 1, Exe: "test"})
	h := mustCreate(t, s, `HKLM\SOFTWARE\Lazy`)
	s.SetValue(h, "v", REG_DWORD, dword(1))
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.j.mu.Lock()
		done := r.j.durable == r.j.appended
		r.j.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lazy flush did not happen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	gens, _ := journalFiles(dir)
	recs, _, _, err := readJournal(filepath.Join(dir, journalName(gens[len(gens)-1])), gens[len(gens)-1])
	if err != nil || len(recs) == 0 {
		t.Fatalf("journal has %d records, %v", len(recs), err)
	}
}

// TestPersistTornTail: garbage after the last good record (a torn write) is cut off.
func TestPersistTornTail(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{})
	s := r.NewSession(Owner{PID: 1, Exe: "test"})
	h := mustCreate(t, s, `HKLM\SOFTWARE\Torn`)
	s.SetValue(h, "kept", REG_DWORD, dword(1))
	s.Flush(context.Background(), h)
	gens, _ := journalFiles(dir)
	path := filepath.Join(dir, journalName(gens[len(gens)-1]))
	// Simulate a crash: stop without a last write or compaction, and add half a frame.
	crash(r)
	size := r.j.size
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	frame := make([]byte, 8+100)
	binary.LittleEndian.PutUint32(frame, 100)
	for i := 8; i < 50; i++ {
		frame[i] = 0xAA
	}
	f.WriteAt(frame[:50], size) // right after the last record, as a torn write lands
	f.Close()

	r = openDir(t, dir, Options{})
	defer r.Close()
	s = r.NewSession(Owner{PID: 1, Exe: "test"})
	h, err := s.OpenPath(`HKLM\SOFTWARE\Torn`)
	if err != nil {
		t.Fatal(err)
	}
	if _, data, err := s.QueryValue(h, "kept"); err != nil || !bytes.Equal(data, dword(1)) {
		t.Fatalf("kept = %v %v", data, err)
	}
}

// TestPersistCompaction: a small CompactBytes makes the writer compact while writing;
// everything survives.
func TestPersistCompaction(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{CompactBytes: 4 << 10})
	s := r.NewSession(Owner{PID: 1, Exe: "test"})
	h := mustCreate(t, s, `HKLM\SOFTWARE\Compact`)
	for i := range 2000 {
		s.SetValue(h, fmt.Sprint(i%300), REG_BINARY, bytes.Repeat([]byte{byte(i)}, 32))
		if i%100 == 0 {
			s.Flush(context.Background(), h)
		}
	}
	s.Flush(context.Background(), h)
	gens, _ := journalFiles(dir)
	if gens[len(gens)-1] < 2 {
		t.Errorf("no compaction happened: journal generations %v", gens)
	}
	r.Close()
	r = openDir(t, dir, Options{})
	defer r.Close()
	s = r.NewSession(Owner{PID: 1, Exe: "test"})
	h, _ = s.OpenPath(`HKLM\SOFTWARE\Compact`)
	vs, _ := s.EnumValues(h)
	if len(vs) != 300 {
		t.Fatalf("%d values", len(vs))
	}
	for _, v := range vs {
		i, _ := strconv.Atoi(v.Name)
		last := 1800 + i
		if last >= 2000 {
			last -= 300
		}
		if !bytes.Equal(v.Data, bytes.Repeat([]byte{byte(last)}, 32)) {
			t.Fatalf("value %s = %v, want the write of %d", v.Name, v.Data[:1], last)
		}
	}
}

const crashChildEnv = "WOLFPACK_REGISTRY_CRASH_CHILD"

// crashChild runs in the re-executed test binary: it writes and flushes as fast as it
// can from several goroutines and prints each acknowledged sequence number.
func crashChild() int {
	dir := os.Getenv(crashChildEnv)
	r, err := Open(context.Background(), dir, Options{CompactBytes: 256 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 3
	}
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	start, _ := strconv.Atoi(os.Getenv("WOLFPACK_REGISTRY_CRASH_START"))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			s := r.NewSession(Owner{PID: os.Getpid(), Exe: "crashchild"})
			for i := start + w; ; i += 8 {
				h, _, err := s.CreatePath(fmt.Sprintf(`HKLM\SOFTWARE\Crash\W%d\K%d`, w, i%50), CreateOptions{})
				if err != nil {
					fmt.Fprintln(os.Stderr, "create:", err)
					os.Exit(4)
				}
				if err := s.SetValue(h, strconv.Itoa(i), REG_QWORD, binary.LittleEndian.AppendUint64(nil, uint64(i))); err != nil {
					os.Exit(5)
				}
				if i%7 == 0 { // some restores too, each one record
					seq := binary.LittleEndian.AppendUint64(nil, uint64(i))
					hb, err := hive.Marshal(&hive.Key{Name: "R", Values: []hive.Value{{Name: "seq", Type: REG_QWORD, Data: seq}},
						Subkeys: []*hive.Key{{Name: "Child", Values: []hive.Value{{Name: "seq", Type: REG_QWORD, Data: seq}}}}}, hive.WriteOptions{})
					if err != nil {
						os.Exit(7)
					}
					rh := mustCreateChild(s, fmt.Sprintf(`HKLM\SOFTWARE\Crash\W%d\R`, w))
					if err := s.Restore(context.Background(), rh, hb, REG_FORCE_RESTORE); err != nil {
						fmt.Fprintln(os.Stderr, "restore:", err)
						os.Exit(8)
					}
					s.CloseKey(rh)
				}
				if i%5 == 0 { // a descriptor, propagated to W's subkeys in one record
					sd, err := secdesc.ParseSDDL(fmt.Sprintf("D:(A;CI;KR;;;S-1-22-1-%d)(A;CI;KA;;;BA)", i))
					if err != nil {
						os.Exit(9)
					}
					wh := mustCreateChild(s, fmt.Sprintf(`HKLM\SOFTWARE\Crash\W%d`, w))
					if err := s.SetSecurity(wh, DACL_SECURITY_INFORMATION, sd.Bytes()); err != nil {
						fmt.Fprintln(os.Stderr, "set security:", err)
						os.Exit(10)
					}
					s.CloseKey(wh)
				}
				if err := s.Flush(context.Background(), h); err != nil {
					fmt.Fprintln(os.Stderr, "flush:", err)
					os.Exit(6)
				}
				s.CloseKey(h)
				outMu.Lock()
				fmt.Fprintf(out, "ack %d\n", i)
				out.Flush()
				outMu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

func mustCreateChild(s *Session, p string) Handle {
	h, _, err := s.CreatePath(p, CreateOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "create:", err)
		os.Exit(4)
	}
	return h
}

// TestCrashKill9 runs a child that writes+flushes and kills it with SIGKILL at random
// moments; after each kill the store must open cleanly and hold every acknowledged
// write. 5 cycles, 50 with WOLFPACK_LONG=1.
func TestCrashKill9(t *testing.T) {
	cycles := 5
	if os.Getenv("WOLFPACK_LONG") == "1" {
		cycles = 50
	}
	dir := t.TempDir()
	next := 0
	for cycle := range cycles {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "WOLFPACK_REGISTRY_CRASH_START="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var acked []int
		readDone := make(chan struct{})
		firstAck := make(chan struct{})
		go func() {
			defer close(readDone)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if n, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					i, _ := strconv.Atoi(n)
					if len(acked) == 0 {
						close(firstAck)
					}
					acked = append(acked, i)
				}
			}
		}()
		// One cycle in four kills the child at any moment from its start, opening and
		// replaying included; the others once it is writing.
		early := cycle%4 == 3
		if !early {
			select {
			case <-firstAck:
			case <-readDone:
			case <-time.After(60 * time.Second):
			}
		}
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		<-readDone
		cmd.Wait()
		if len(acked) == 0 && !early {
			t.Fatalf("cycle %d: child acknowledged nothing; stderr: %s", cycle, stderr.String())
		}

		r, err := Open(context.Background(), dir, Options{})
		if err != nil {
			t.Fatalf("cycle %d: reopen after kill -9: %v", cycle, err)
		}
		s := r.NewSession(Owner{PID: 1, Exe: "check"})
		missing := 0
		maxSeq := 0
		for _, i := range acked {
			maxSeq = max(maxSeq, i)
			h, err := s.OpenPath(fmt.Sprintf(`HKLM\SOFTWARE\Crash\W%d\K%d`, i%8, i%50))
			if err != nil {
				missing++
				continue
			}
			_, data, err := s.QueryValue(h, strconv.Itoa(i))
			if err != nil || binary.LittleEndian.Uint64(data) != uint64(i) {
				missing++
			}
			s.CloseKey(h)
		}
		// Each restored subtree is whole: R and R\Child carry the same sequence number.
		for w := range 8 {
			h, err := s.OpenPath(fmt.Sprintf(`HKLM\SOFTWARE\Crash\W%d\R`, w))
			if err != nil {
				continue
			}
			_, a, errA := s.QueryValue(h, "seq")
			c, errC := s.OpenKey(h, "Child", 0, KEY_READ)
			if errA == nil {
				_, b, errB := s.QueryValue(c, "seq")
				if errC != nil || errB != nil || !bytes.Equal(a, b) {
					t.Errorf("cycle %d: restore of W%d\\R is torn: %v %v %v/%v", cycle, w, a, errC, errB, b)
				}
			}
		}
		// Each acknowledged descriptor is there (or a later one), and reached every subkey:
		// a propagation is never torn.
		lastSec := map[int]int{}
		for _, i := range acked {
			if i%5 == 0 {
				lastSec[i%8] = max(lastSec[i%8], i)
			}
		}
		r.mu.RLock()
		for w := range 8 {
			wk := r.findPath(fmt.Sprintf(`HKEY_LOCAL_MACHINE\SOFTWARE\Crash\W%d`, w))
			if wk == nil {
				continue
			}
			if want, ok := lastSec[w]; ok {
				found := false
				for _, e := range wk.sec.sd.DACL.ACEs {
					if id, user, ok := e.SID.UnixID(); ok && user && int(id) >= want && int(id)%8 == w {
						found = true
					}
				}
				if !found {
					t.Errorf("cycle %d: W%d lost its acknowledged descriptor (S-1-22-1-%d): %s", cycle, w, want, wk.sec.sd)
				}
			}
			for _, c := range wk.subkeys {
				if c.name == "R" {
					continue // restored: it has the hive's descriptor, not an inherited one
				}
				if want := secdesc.Reinherit(c.sec.sd, wk.sec.sd, secdesc.KeyMapping).Bytes(); !bytes.Equal(want, c.sec.raw) {
					t.Errorf("cycle %d: W%d\\%s has inherited ACEs of another descriptor: %s under %s", cycle, w, c.name, c.sec.sd, wk.sec.sd)
				}
			}
		}
		r.mu.RUnlock()
		r.Close()
		if missing > 0 {
			t.Fatalf("cycle %d: %d of %d acknowledged writes missing after kill -9", cycle, missing, len(acked))
		}
		t.Logf("cycle %d: %d acknowledged writes present", cycle, len(acked))
		next = (maxSeq/8 + 1) * 8
	}
}

// TestCurrentControlSetFromSelect: the volatile link is made at every start from
// Select\Current (ControlSet%03d).
func TestCurrentControlSetFromSelect(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{})
	s := r.NewSession(Owner{Exe: "test"})
	sel, _ := s.OpenPath(`HKLM\SYSTEM\Select`)
	s.SetValue(sel, "Current", REG_DWORD, dword(2))
	mustCreate(t, s, `HKLM\SYSTEM\ControlSet002\Services\Only2`)
	// Until the restart the link still names ControlSet001, as on Windows until a reboot.
	if _, err := s.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services\Only2`); !errors.Is(err, ERROR_FILE_NOT_FOUND) {
		t.Errorf("before restart: %v", err)
	}
	r.Close()
	r = openDir(t, dir, Options{})
	defer r.Close()
	s = r.NewSession(Owner{Exe: "test"})
	h, err := s.OpenPath(`HKLM\SYSTEM\CurrentControlSet\Services\Only2`)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.HandleInfo(h)
	if in.Resolved != `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\Only2` {
		t.Errorf("resolved %s", in.Resolved)
	}
	l, _ := s.OpenKey(HKEY_LOCAL_MACHINE, `SYSTEM\CurrentControlSet`, REG_OPTION_OPEN_LINK, KEY_READ)
	if _, data, _ := s.QueryValue(l, SymbolicLinkValue); !bytes.Equal(data, utf16le.Encode(`\REGISTRY\MACHINE\SYSTEM\ControlSet002`)) {
		t.Errorf("link target %q", fromUTF16le(data))
	}
}

// TestVolatileNeverWritten: nothing of a volatile key reaches the journal or bbolt.
func TestVolatileNeverWritten(t *testing.T) {
	dir := t.TempDir()
	r := openDir(t, dir, Options{})
	s := r.NewSession(Owner{Exe: "test"})
	h, _, err := s.CreatePath(`HKLM\SOFTWARE\VolatileMarkerKey`, CreateOptions{Options: REG_OPTION_VOLATILE})
	if err != nil {
		t.Fatal(err)
	}
	s.SetValue(h, "VolatileMarkerValue", REG_SZ, sz("x"))
	c, _, _ := s.CreateKey(h, "VolatileMarkerChild", CreateOptions{Options: REG_OPTION_VOLATILE})
	s.SetValue(c, "v", REG_DWORD, dword(1))
	s.DeleteValue(c, "v")
	s.DeleteKey(c, "")
	stable := mustCreate(t, s, `HKLM\SOFTWARE\StableMarkerKey`)
	s.Flush(context.Background(), stable)
	check := func(when string) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if bytes.Contains(b, []byte("VolatileMarker")) {
				t.Errorf("%s: %s holds a volatile key's name", when, e.Name())
			}
		}
	}
	check("after flush")
	r.Close() // compacts into bbolt
	check("after close")
	ents, _ := os.ReadDir(dir)
	found := false
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		found = found || bytes.Contains(b, []byte("StableMarkerKey"))
	}
	if !found {
		t.Error("the stable key is in no file: the check above proves nothing")
	}
}
