package eventlog

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The EVTX writer's files are read by two independent readers from Debian: libevtx's
// evtxexport (libevtx-utils) and python-evtx's evtx_dump.py (python3-evtx).

func evtxTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (Debian packages libevtx-utils, python3-evtx; scripts/test installs them): %v", name, err)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%.3000s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func evtxRecords(n int) []Record {
	at := time.Date(2026, 12, 3, 10, 41, 40, 123456700, time.UTC)
	var recs []Record
	for i := range n {
		r := Record{RecordID: uint64(100 + i), TimeCreated: at.Add(time.Duration(i) * time.Second), Event: Event{
			Log: LogSystem, Source: SourceCluster, EventID: 1024, Qualifiers: 0xC000, Level: LevelError,
			Category: CategoryCheckpoint, Keywords: KeywordClassic, Computer: "N1", PID: 42, TID: 7,
			Strings: []string{"IMC", `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`},
		}}
		switch i % 3 {
		case 1:
			r.EventID, r.Level, r.Strings = 1069, LevelError, []string{"App", "G", "Generic Application", fmt.Sprintf("exit status %d & <more>", i)}
		case 2:
			r.Source, r.EventID, r.Level, r.Qualifiers = "MyScript", 300, LevelInformation, 0
			r.Strings = nil
			r.Data = []DataItem{{Name: "Step", Value: fmt.Sprint(i)}}
			r.Binary = []byte{0xde, 0xad, 0xbe, 0xef}
			r.User = "S-1-5-18"
		}
		recs = append(recs, r)
	}
	return recs
}

func TestEVTXReadByLibevtxAndPythonEvtx(t *testing.T) {
	recs := evtxRecords(1500) // more than one chunk
	var buf bytes.Buffer
	if err := WriteEVTX(&buf, recs); err != nil {
		t.Fatal(err)
	}
	if n := (buf.Len() - EVTXFileHeaderBlock) / EVTXChunkSize; n < 2 {
		t.Fatalf("%d chunk(s): the test wants records in several", n)
	}
	path := filepath.Join(t.TempDir(), "System.evtx")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	info := evtxTool(t, "evtxinfo", path)
	if !regexp.MustCompile(`Number of records\s*:\s*1500`).MatchString(info) {
		t.Errorf("evtxinfo:\n%s", info)
	}
	exp := evtxTool(t, "evtxexport", "-f", "xml", path)
	if got := strings.Count(exp, "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"); got != len(recs) {
		t.Errorf("evtxexport: %d events, want %d\n%.2000s", got, len(recs), exp)
	}
	for _, want := range []string{
		`<Provider Name="ClusSvc"/>`, `<EventID Qualifiers="49152">1024</EventID>`, `<Level>2</Level>`, `<Task>64</Task>`,
		`<Keywords>0x0080000000000000</Keywords>`, `<TimeCreated SystemTime="2026-12-03T10:41:40.123456700Z"/>`,
		`<EventRecordID>100</EventRecordID>`, `<Execution ProcessID="42" ThreadID="7"/>`, `<Channel>System</Channel>`,
		`<Computer>N1</Computer>`, `<Data>SYSTEM\CurrentControlSet\Services\MSExchangeIMC</Data>`,
		`<Data>exit status 1 &amp; &lt;more&gt;</Data>`, `<Data Name="Step">2</Data>`, `<Binary>DEADBEEF</Binary>`,
		`<EventRecordID>1599</EventRecordID>`, `<Security UserID="S-1-5-18"/>`,
	} {
		if !strings.Contains(exp, want) {
			t.Errorf("evtxexport output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("evtxexport:\n%.4000s", exp)
	}

	dump := evtxTool(t, "evtx_dump.py", path)
	if got := strings.Count(dump, "<EventID Qualifiers=\""); got != len(recs) {
		t.Errorf("evtx_dump.py: %d events, want %d\n%.2000s", got, len(recs), dump)
	}
	for _, want := range []string{
		`<Provider Name="ClusSvc"></Provider>`, `<EventRecordID>100</EventRecordID>`, `<EventRecordID>1599</EventRecordID>`,
		`<Data>SYSTEM\CurrentControlSet\Services\MSExchangeIMC</Data>`, `<Data Name="Step">2</Data>`, `<Computer>N1</Computer>`,
		`<TimeCreated SystemTime="2026-12-03 10:41:40.1234`,
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("evtx_dump.py output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("evtx_dump.py:\n%.4000s", dump)
	}
}

// A record too big for a chunk has its longest strings shortened until it fits.
func TestEVTXRecordTooBigIsShortened(t *testing.T) {
	r := evtxRecords(1)[0]
	r.Strings = []string{strings.Repeat("x", MaxStringLen), strings.Repeat("y", MaxStringLen)}
	var buf bytes.Buffer
	if err := WriteEVTX(&buf, []Record{r}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.evtx")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := evtxTool(t, "evtxexport", "-f", "xml", path)
	if !strings.Contains(exp, "xxxxxxxx") || !strings.Contains(exp, "…</Data>") {
		t.Errorf("evtxexport:\n%.500s", exp)
	}
}
