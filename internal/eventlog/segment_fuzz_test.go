package eventlog

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSegment opens a log whose segment holds arbitrary bytes: damage is dropped,
// never a panic, and the log stays usable.
func FuzzSegment(f *testing.F) {
	var seed []byte
	seed = append(seed, segmentMagic...)
	for i := range 3 {
		r := Record{RecordID: uint64(i + 1), Event: Event{Source: "S", EventID: uint32(i), Strings: []string{"a", "b"},
			Data: []DataItem{{"n", "v"}}, Binary: []byte{1, 2}}}
		seed = appendFrame(seed, &r)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-5])
	f.Add(append(append([]byte{}, seed...), make([]byte, 64)...))
	f.Add([]byte("WPEV"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "System"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "System", "0000000000000001"+segmentExt), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{Computer: "F", Logs: []string{"System"}})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		recs, err := s.Query(context.Background(), "System", "*[System[EventID>=0]]", QueryOptions{})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		id, err := s.Report(context.Background(), Event{Source: "after", EventID: 1})
		if err != nil {
			t.Fatalf("Report: %v", err)
		}
		if len(recs) > 0 && id <= recs[len(recs)-1].RecordID {
			t.Fatalf("record number %d after %d", id, recs[len(recs)-1].RecordID)
		}
	})
}
