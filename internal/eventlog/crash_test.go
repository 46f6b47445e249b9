package eventlog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const crashChildEnv = "EVENTLOG_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	code := m.Run()
	cleanupBench()
	os.Exit(code)
}

// crashChild reports events from 8 goroutines until it is killed, printing
// "ok ID TAG" after each Report returns.
func crashChild(dir string) int {
	s, err := Open(dir, Options{Computer: "CRASH", MaxSize: 256 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				tag := fmt.Sprintf("g%d-%d", g, i)
				id, err := s.Report(context.Background(), Event{Source: "CrashTest", EventID: uint32(g + 1), Strings: []string{tag}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "ok %d %s\n", id, tag)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// A record whose Report returned survives kill -9 of the process, and the log opens
// cleanly afterwards, whatever the kill interrupted.
func TestReportedRecordSurvivesKill9(t *testing.T) {
	cycles := 3
	if os.Getenv("WOLFPACK_LONG") != "" {
		cycles = 20
	}
	dir := t.TempDir()
	acked := map[uint64]string{}
	for cycle := range cycles {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		n := 0
		want := 300 + cycle*137
		killed := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "ok" {
				t.Fatalf("child said %q", sc.Text())
			}
			id, _ := strconv.ParseUint(f[1], 10, 64)
			acked[id] = f[2]
			if n++; n == want && !killed {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		if !killed {
			t.Fatalf("child ended before it was killed: %s", stderr.String())
		}

		s, err := Open(dir, Options{Computer: "CHECK", MaxSize: 256 << 20})
		if err != nil {
			t.Fatalf("cycle %d: open after kill -9: %v", cycle, err)
		}
		recs, err := s.Query(context.Background(), "System", "*[System[Provider[@Name='CrashTest']]]", QueryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]string{}
		for _, r := range recs {
			got[r.RecordID] = r.Strings[0]
		}
		for id, tag := range acked {
			if got[id] != tag {
				t.Fatalf("cycle %d: record %d (%s) was acknowledged but after kill -9 it is %q", cycle, id, tag, got[id])
			}
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].RecordID != recs[i-1].RecordID+1 {
				t.Fatalf("cycle %d: gap after record %d", cycle, recs[i-1].RecordID)
			}
		}
		s.Close()
		t.Logf("cycle %d: %d acknowledged so far, %d on disk", cycle, len(acked), len(recs))
	}
}
