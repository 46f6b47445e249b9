package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTest(t testing.TB, dir string, opts Options) *Service {
	t.Helper()
	if opts.Computer == "" {
		opts.Computer = "N1"
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func report(t testing.TB, s *Service, e Event) uint64 {
	t.Helper()
	id, err := s.Report(context.Background(), e)
	if err != nil {
		t.Fatalf("Report(%+v): %v", e, err)
	}
	return id
}

func query(t testing.TB, s *Service, log, q string, opts QueryOptions) []Record {
	t.Helper()
	recs, err := s.Query(context.Background(), log, q, opts)
	if err != nil {
		t.Fatalf("Query(%s, %q): %v", log, q, err)
	}
	return recs
}

func ids(recs []Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.RecordID)
	}
	return out
}

var imcEvent = Event{
	Source:  SourceCluster,
	EventID: EventCheckpointRestoreFailed,
	Strings: []string{"Microsoft Exchange Internet Mail Service", `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`},
	Data:    []DataItem{{Name: "Holders", Value: `winlogon.exe (PID 612) holds HKEY_LOCAL_MACHINE\System\ControlSet001\Services\MSExchangeIMC\Parameters`}},
	PID:     4242,
}

func TestReportFillsFromCatalogAndSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	id := report(t, s, imcEvent)
	if id != 1 {
		t.Fatalf("first record number = %d, want 1", id)
	}
	report(t, s, Event{Log: "application", Source: "MyScript", EventID: 7, Type: TypeWarning, Strings: []string{"hello"}})
	recs := query(t, s, "System", "", QueryOptions{})
	if len(recs) != 1 {
		t.Fatalf("System has %d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Type != TypeError || r.Level != LevelError || r.Category != 64 || r.Qualifiers != 0xC000 ||
		r.Computer != "N1" || r.Log != "System" || r.Keywords != KeywordClassic {
		t.Fatalf("record not filled from the catalog: %+v", r)
	}
	if got, _ := r.DataValue("holders"); !strings.Contains(got, "winlogon.exe") {
		t.Fatalf("data item Holders = %q", got)
	}
	s.Close()

	s2 := openTest(t, dir, Options{})
	recs2 := query(t, s2, "System", "", QueryOptions{})
	if len(recs2) != 1 || recs2[0].RecordID != 1 || !recs2[0].TimeCreated.Equal(r.TimeCreated) ||
		!slices.Equal(recs2[0].Strings, r.Strings) || recs2[0].Data[0] != r.Data[0] || recs2[0].PID != 4242 {
		t.Fatalf("after reopen: %+v, want %+v", recs2, r)
	}
	app := query(t, s2, "Application", "", QueryOptions{})
	if len(app) != 1 || app[0].Type != TypeWarning || app[0].Level != LevelWarning || app[0].Log != "Application" {
		t.Fatalf("Application after reopen: %+v", app)
	}
	if id := report(t, s2, imcEvent); id != 2 {
		t.Fatalf("record number after reopen = %d, want 2", id)
	}
}

func TestReportRejectsBadEvents(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	cases := []struct {
		e    Event
		want any
	}{
		{Event{EventID: 1}, new(*EventError)},
		{Event{Source: "x", Log: "Security"}, new(*LogNotFoundError)},
		{Event{Source: "x", Strings: make([]string, MaxStrings+1)}, new(*EventError)},
		{Event{Source: "x", Binary: make([]byte, MaxBinaryLen+1)}, new(*EventError)},
		{Event{Source: "x", Strings: []string{strings.Repeat("é", MaxStringLen+1)}}, new(*EventError)},
		{Event{Source: "x", Strings: []string{strings.Repeat("a", 30000), strings.Repeat("b", 30000), strings.Repeat("c", 30000)}}, new(*EventError)},
	}
	for i, c := range cases {
		_, err := s.Report(ctx, c.e)
		if err == nil || !errors.As(err, c.want) {
			t.Errorf("case %d: err = %v, want %T", i, err, c.want)
		}
	}
	if recs := query(t, s, "System", "", QueryOptions{}); len(recs) != 0 {
		t.Fatalf("rejected events were written: %+v", recs)
	}
}

func TestQueriesUseIndexAndAgreeWithScan(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	sources := []string{"ClusSvc", "MyApp", "Other"}
	types := []EventType{TypeError, TypeWarning, TypeInformation, TypeAuditSuccess, TypeAuditFailure}
	for i := range 300 {
		report(t, s, Event{Source: sources[i%3], EventID: uint32(1000 + i%7), Type: types[i%5], Category: uint16(i % 4),
			Strings: []string{fmt.Sprint("s", i)}, Data: []DataItem{{Name: "N", Value: fmt.Sprint(i % 10)}}, PID: i % 5,
			Computer: []string{"N1", "N2"}[i%2]})
	}
	all := query(t, s, "System", "*", QueryOptions{})
	if len(all) != 300 {
		t.Fatalf("%d records, want 300", len(all))
	}
	queries := []string{
		"*[System[(EventID=1003)]]",
		"*[System[EventID=1003 or EventID=1005]]",
		"*[System[Provider[@Name='clussvc']]]",
		"*[System[Provider[@Name='ClusSvc'] and (Level=2)]]",
		"*[System[(Level=2 or Level=3) and EventID!=1000]]",
		"*[System[EventRecordID>=100 and EventRecordID<110]]",
		"*[System[EventRecordID<=5 or EventID=1001]]",
		"*[System[Task=3]]",
		"*[System[band(Keywords,0x0020000000000000)]]",
		"*[System[Computer='n2' and Execution[@ProcessID=3]]]",
		"*[System[not(EventID=1000) and Provider[@Name='Other']]]",
		"*[EventData[Data[@Name='N']='7']]",
		"*[EventData[Data='s42']]",
		"*[System[TimeCreated[timediff(@SystemTime) <= 3600000]]]",
		"*[System[TimeCreated[timediff(@SystemTime) > 3600000]]]",
		"*[System[Provider[@Name='Nobody']]]",
		"*[System[(EventID=1002)] and EventData[Data[@Name='N']]]",
		"*[System[Channel='System' and Level>=3]]",
		"Event[System[EventID=1006]]",
	}
	now := time.Now()
	for _, qs := range queries {
		q, err := ParseQuery(qs)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", qs, err)
		}
		var want []uint64
		for i := range all {
			if q.Match(&all[i], now) {
				want = append(want, all[i].RecordID)
			}
		}
		got := ids(query(t, s, "System", qs, QueryOptions{}))
		if !slices.Equal(got, want) {
			t.Errorf("%s: index gave %v, scan gave %v", qs, got, want)
		}
		rev := ids(query(t, s, "System", qs, QueryOptions{Reverse: true, Count: 3}))
		slices.Reverse(want)
		if len(want) > 3 {
			want = want[:3]
		}
		if !slices.Equal(rev, want) {
			t.Errorf("%s /rd:true /c:3: got %v, want %v", qs, rev, want)
		}
	}
	// A bookmark: only records after it.
	after := query(t, s, "System", "*[System[(EventID=1003)]]", QueryOptions{After: 200})
	if len(after) == 0 || after[0].RecordID <= 200 || after[0].EventID != 1003 {
		t.Fatalf("After 200: %v", ids(after))
	}
	if n := len(query(t, s, "System", "", QueryOptions{After: 290})); n != 10 {
		t.Fatalf("After 290 gave %d records, want 10", n)
	}
	if n := len(query(t, s, "System", "*[System[(EventID=1003)]]", QueryOptions{})); n != 43 {
		t.Fatalf("EventID=1003 matched %d, want 43", n)
	}
}

func TestOverwriteKeepsNewestWithinMaxSize(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MaxSize: MinMaxSize})
	for i := range 2000 {
		report(t, s, Event{Source: "Filler", EventID: uint32(i%3 + 1), Strings: []string{strings.Repeat("x", 150)}})
	}
	in, err := s.Info("System")
	if err != nil {
		t.Fatal(err)
	}
	if in.FileSize > in.MaxSize || in.FileSize < in.MaxSize*6/8 {
		t.Fatalf("file size %d for max %d", in.FileSize, in.MaxSize)
	}
	var onDisk int64
	files, _ := filepath.Glob(filepath.Join(dir, "System", "*"+segmentExt))
	for _, f := range files {
		st, _ := os.Stat(f)
		onDisk += st.Size()
	}
	if onDisk != in.FileSize || onDisk > MinMaxSize {
		t.Fatalf("segments hold %d bytes, info says %d, max %d", onDisk, in.FileSize, MinMaxSize)
	}
	recs := query(t, s, "System", "", QueryOptions{})
	if len(recs) != in.NumberOfLogRecords || recs[0].RecordID != in.OldestRecordNumber || recs[len(recs)-1].RecordID != 2000 {
		t.Fatalf("records %d..%d (%d), info %+v", recs[0].RecordID, recs[len(recs)-1].RecordID, len(recs), in)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].RecordID != recs[i-1].RecordID+1 {
			t.Fatalf("gap after record %d", recs[i-1].RecordID)
		}
	}
	byID := query(t, s, "System", "*[System[EventID=2]]", QueryOptions{})
	for _, r := range byID {
		if r.EventID != 2 || r.RecordID < in.OldestRecordNumber {
			t.Fatalf("index returned a stale record %+v", r)
		}
	}
	s.Close()
	s2 := openTest(t, dir, Options{MaxSize: MinMaxSize})
	if in2, _ := s2.Info("System"); in2.NumberOfLogRecords != in.NumberOfLogRecords || in2.OldestRecordNumber != in.OldestRecordNumber {
		t.Fatalf("after reopen %+v, before %+v", in2, in)
	}
}

func TestRetentionRefusesWhenFull(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	if _, err := s.SetConfig("Application", 1000, false); err == nil {
		t.Fatal("SetConfig accepted a size below 64 KiB")
	}
	in, err := s.SetConfig("Application", MinMaxSize+1, true)
	if err != nil {
		t.Fatal(err)
	}
	if in.MaxSize != 2*MinMaxSize || !in.Retention {
		t.Fatalf("SetConfig: %+v (size not rounded up to 64 KiB?)", in)
	}
	var full error
	n := 0
	for range 5000 {
		_, err := s.Report(context.Background(), Event{Log: "Application", Source: "Filler", EventID: 1, Strings: []string{strings.Repeat("y", 200)}})
		if err != nil {
			full = err
			break
		}
		n++
	}
	var lf *LogFullError
	if !errors.As(full, &lf) {
		t.Fatalf("after %d records: err = %v, want LogFullError", n, full)
	}
	recs := query(t, s, "Application", "", QueryOptions{})
	if len(recs) != n || recs[0].RecordID != 1 {
		t.Fatalf("retained %d records from %d, want %d from 1", len(recs), recs[0].RecordID, n)
	}
}

func TestClearWithBackupAndEvent104(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	for i := range 5 {
		report(t, s, Event{Log: "Application", Source: "MyApp", EventID: uint32(i + 1), Strings: []string{"m"}})
	}
	var backup bytes.Buffer
	if err := s.Clear(context.Background(), "Application", &backup); err != nil {
		t.Fatal(err)
	}
	h, recs, err := ReadExport(&backup, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Log != "Application" || len(recs) != 5 || recs[4].EventID != 5 || recs[0].Log != "Application" {
		t.Fatalf("backup: %+v %+v", h, recs)
	}
	if n := len(query(t, s, "Application", "", QueryOptions{})); n != 0 {
		t.Fatalf("%d records after clear", n)
	}
	sys := query(t, s, "System", "*[System[Provider[@Name='Microsoft-Windows-Eventlog'] and EventID=104]]", QueryOptions{})
	if len(sys) != 1 || s.Render(sys[0]) != "The Application log file was cleared." {
		t.Fatalf("event 104: %+v", sys)
	}
	if id := report(t, s, Event{Log: "Application", Source: "MyApp", EventID: 9}); id != 1 {
		t.Fatalf("first record after clear = %d, want 1", id)
	}
	s.Close()
	s2 := openTest(t, dir, Options{})
	if recs := query(t, s2, "Application", "", QueryOptions{}); len(recs) != 1 || recs[0].EventID != 9 {
		t.Fatalf("after reopen: %+v", recs)
	}
}

func TestTornTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	for i := range 10 {
		report(t, s, Event{Source: "MyApp", EventID: uint32(i + 1), Strings: []string{"before the crash"}})
	}
	l := s.logs["system"]
	last, dataEnd := l.segs[len(l.segs)-1].path, l.segs[len(l.segs)-1].size
	s.Close()
	// A torn write: the last record's frame cut short, then garbage.
	if err := os.Truncate(last, dataEnd-10); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("\x50\x00\x00\x00garbage"))
	f.Close()

	s2 := openTest(t, dir, Options{})
	recs := query(t, s2, "System", "", QueryOptions{})
	if len(recs) != 9 || recs[8].EventID != 9 {
		t.Fatalf("after a torn write: %d records", len(recs))
	}
	if id := report(t, s2, Event{Source: "MyApp", EventID: 11}); id != 10 {
		t.Fatalf("next record number %d, want 10", id)
	}
	s2.Close()
	s3 := openTest(t, dir, Options{})
	if recs := query(t, s3, "System", "", QueryOptions{}); len(recs) != 10 || recs[9].EventID != 11 {
		t.Fatalf("after repair and reopen: %+v", ids(recs))
	}
}

func TestConcurrentReportsShareCommits(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	const workers, each = 32, 50
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, err := s.Report(context.Background(), Event{Source: "W", EventID: uint32(w), Strings: []string{fmt.Sprint(i)}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("record number %d given twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s.Close()
	s2 := openTest(t, dir, Options{})
	recs := query(t, s2, "System", "", QueryOptions{})
	if len(recs) != workers*each {
		t.Fatalf("%d records on disk, want %d", len(recs), workers*each)
	}
	for _, r := range recs {
		if !seen[r.RecordID] {
			t.Fatalf("record %d on disk was never returned by Report", r.RecordID)
		}
	}
}

func TestSubscribe(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	sys := s.Subscribe(ctx, "system")
	every := s.Subscribe(ctx, "")
	if _, ok := <-s.Subscribe(ctx, "Nope"); ok {
		t.Fatal("subscription to an unknown log is open")
	}
	report(t, s, Event{Log: "Application", Source: "A", EventID: 1})
	report(t, s, imcEvent)
	r := <-sys
	if r.EventID != 1024 || r.Log != "System" || r.RecordID != 1 {
		t.Fatalf("System subscriber got %+v", r)
	}
	a, b := <-every, <-every
	if a.Log != "Application" || b.Log != "System" {
		t.Fatalf("all-logs subscriber got %s then %s", a.Log, b.Log)
	}
	cancel()
	for range sys {
	}
}

func TestExportAndReadWithQuery(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	report(t, s, imcEvent)
	report(t, s, Event{Source: "MyApp", EventID: 5, Binary: []byte{0, 1, 0xfe}})
	var buf bytes.Buffer
	if err := s.Export(context.Background(), "System", "", &buf); err != nil {
		t.Fatal(err)
	}
	q, _ := ParseQuery("*[System[Provider[@Name='ClusSvc']]]")
	h, recs, err := ReadExport(bytes.NewReader(buf.Bytes()), q)
	if err != nil {
		t.Fatal(err)
	}
	if h.Computer != "N1" || len(recs) != 1 || recs[0].EventID != 1024 || recs[0].Type != TypeError {
		t.Fatalf("export: %+v %+v", h, recs)
	}
	_, all, _ := ReadExport(bytes.NewReader(buf.Bytes()), nil)
	if len(all) != 2 || !bytes.Equal(all[1].Binary, []byte{0, 1, 0xfe}) {
		t.Fatalf("binary data lost: %+v", all)
	}
	for _, bad := range []string{"", "{}\n", "not json\n", `{"format":"wolfpack-eventlog","version":1}` + "\n{bad\n"} {
		if _, _, err := ReadExport(strings.NewReader(bad), nil); err == nil {
			t.Errorf("ReadExport(%q) accepted it", bad)
		}
	}
}

// A crash between starting a new segment and cutting the old one's zero-filled space
// leaves zeros after a sealed segment's data: nothing is lost.
func TestSealedSegmentWithZeroTail(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MaxSize: 1 << 20})
	for i := range 3000 {
		report(t, s, Event{Source: "Filler", EventID: uint32(i), Strings: []string{strings.Repeat("z", 100)}})
	}
	l := s.logs["system"]
	if len(l.segs) < 2 {
		t.Fatalf("%d segments, want several", len(l.segs))
	}
	first := l.segs[0].path
	before := query(t, s, "System", "", QueryOptions{})
	s.Close()
	f, err := os.OpenFile(first, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 5000))
	f.Close()
	s2 := openTest(t, dir, Options{MaxSize: 1 << 20})
	after := query(t, s2, "System", "", QueryOptions{})
	if !slices.Equal(ids(after), ids(before)) {
		t.Fatalf("records changed: %d before, %d after", len(before), len(after))
	}
	if st, _ := os.Stat(first); st.Size() != s2.logs["system"].segs[0].size {
		t.Fatalf("zero tail not cut: file %d bytes, data %d", st.Size(), s2.logs["system"].segs[0].size)
	}
}

// Queries longer than a page (scanPage index entries) resume where they stopped, also
// while reports go on, and see the records that existed when they started.
func TestQueryAcrossPages(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{MaxSize: 64 << 20})
	l := s.logs["system"]
	const n = 3*scanPage + 100
	b := &batch{done: make(chan struct{})}
	for i := range n {
		e := Event{Source: "Bulk", EventID: uint32(i % 3), Strings: []string{fmt.Sprint(i)}}
		e.normalize(s.catalog, "N1")
		e.Log = "System"
		b.recs = append(b.recs, Record{TimeCreated: time.Now(), Event: e})
	}
	l.commit(b)
	if b.err != nil {
		t.Fatal(b.err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			s.Report(ctx, Event{Source: "Late", EventID: 1})
		}
	})
	for range 3 {
		all := query(t, s, "System", "*[System[Provider[@Name='Bulk']]]", QueryOptions{})
		if len(all) != n || all[0].RecordID != 1 || all[n-1].RecordID != n {
			t.Fatalf("forward: %d records", len(all))
		}
		rev := query(t, s, "System", "*[System[Provider[@Name='Bulk']]]", QueryOptions{Reverse: true})
		if len(rev) != n || rev[0].RecordID != n || rev[n-1].RecordID != 1 {
			t.Fatalf("reverse: %d records", len(rev))
		}
		ones := query(t, s, "System", "*[System[EventID=1 and Provider[@Name='Bulk']]]", QueryOptions{Reverse: true})
		if len(ones) != n/3 {
			t.Fatalf("EventID=1: %d records, want %d", len(ones), n/3)
		}
		for i := 1; i < len(ones); i++ {
			if ones[i].RecordID >= ones[i-1].RecordID {
				t.Fatalf("reverse order broken at %d", i)
			}
		}
		some := query(t, s, "System", "*[System[EventRecordID>100]]", QueryOptions{Count: scanPage + 10})
		if len(some) != scanPage+10 || some[0].RecordID != 101 {
			t.Fatalf("count across a page: %d from %d", len(some), some[0].RecordID)
		}
	}
	cancel()
	wg.Wait()
}
