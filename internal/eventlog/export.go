package eventlog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// An export file (wevtutil epl, cl /bu) is JSON Lines: a header object, then one
// Record per line.
//
//	{"format":"wolfpack-eventlog","version":1,"log":"System","computer":"N1","exported":"…"}
//	{"recordId":1,"timeCreated":"…","log":"System","source":"ClusSvc",…}
//
// It is text so that it can be read, diffed and kept in test fixtures; wevtutil qe
// /lf:true queries it with the same query engine as a live log.
const (
	ExportFormat  = "wolfpack-eventlog"
	ExportVersion = 1
	maxExportLine = 4 << 20
)

// ExportHeader is the first line of an export file.
type ExportHeader struct {
	Format   string    `json:"format"`
	Version  int       `json:"version"`
	Log      string    `json:"log"`
	Computer string    `json:"computer,omitempty"`
	Exported time.Time `json:"exported"`
}

// exportLocked writes the records q selects as an export file. Callers hold mu.
func (l *logFile) exportLocked(ctx context.Context, w io.Writer, q *Query, computer string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(ExportHeader{Format: ExportFormat, Version: ExportVersion, Log: l.name,
		Computer: computer, Exported: time.Now().UTC()}); err != nil {
		return fmt.Errorf("eventlog: export: %w", err)
	}
	var werr error
	err := l.scanLocked(ctx, q, false, func(r *Record) bool {
		werr = enc.Encode(r)
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("eventlog: export %s: %w", l.name, err)
	}
	return nil
}

// ReadExport reads an export file and returns its header and the records q selects
// (q nil selects all), in file order.
func ReadExport(r io.Reader, q *Query) (ExportHeader, []Record, error) {
	var h ExportHeader
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxExportLine)
	line := 0
	now := time.Now()
	var out []Record
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			if err := json.Unmarshal(b, &h); err != nil || h.Format != ExportFormat {
				return h, nil, &FormatError{File: "export", Off: 0, Msg: "not a Wolfpack event log export (bad header line)"}
			}
			if h.Version != ExportVersion {
				return h, nil, &FormatError{File: "export", Msg: fmt.Sprintf("unsupported export version %d", h.Version)}
			}
			continue
		}
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return h, nil, &FormatError{File: "export", Off: int64(line), Msg: fmt.Sprintf("line %d: %v", line, err)}
		}
		if rec.Log == "" {
			rec.Log = h.Log
		}
		if q.Match(&rec, now) {
			out = append(out, rec)
		}
	}
	if err := sc.Err(); err != nil {
		return h, nil, &FormatError{File: "export", Off: int64(line + 1), Msg: err.Error()}
	}
	if line == 0 {
		return h, nil, &FormatError{File: "export", Msg: "empty file"}
	}
	return h, out, nil
}
