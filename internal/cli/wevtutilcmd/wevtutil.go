package wevtutilcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/cli/buildinfo"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/winerr"
)

// Env is what a command run needs from outside; tests replace it.
type Env struct {
	Stdout, Stderr io.Writer
	Connect        func(ctx context.Context, remote string) (*client.Client, error)
	Location       *time.Location // for dates in /f:text
	Catalog        *eventlog.Catalog
}

// Main runs wevtutil with args (without the program name) and returns its exit status.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, &Env{Stdout: os.Stdout, Stderr: os.Stderr, Connect: Connect, Location: time.Local,
		Catalog: eventlog.DefaultCatalog()}, args)
}

// Run runs one wevtutil command line.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 1 && buildinfo.IsVersionFlag(args[0]) {
		fmt.Fprintln(env.Stdout, buildinfo.Version("wevtutil"))
		return 0
	}
	inv, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return exitStatus(codeOf(err))
	}
	if inv.help {
		usage(env.Stdout, inv.cmd)
		return 0
	}
	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()
	r := &runner{env: env, inv: inv, out: out}
	switch inv.cmd.short {
	case "el":
		return r.enumLogs(ctx)
	case "gl":
		return r.getLog(ctx)
	case "gli":
		return r.getLogInfo(ctx)
	case "sl":
		return r.setLog(ctx)
	case "cl":
		return r.clearLog(ctx)
	case "epl":
		return r.exportLog(ctx)
	case "qe":
		return r.queryEvents(ctx)
	}
	return 1
}

type runner struct {
	env *Env
	inv *invocation
	out *bufio.Writer
}

func (r *runner) fail(what string, err error) int {
	if strings.EqualFold(r.inv.opts["f"], "json") {
		// JSON output: the failure is the command's one JSON document.
		r.out.Reset(r.env.Stdout) // nothing half-written goes out before it
		code := codeOf(err)
		msg := windowsMessage(code)
		detail := err.Error()
		var ae *wire.Error
		if errors.As(err, &ae) {
			detail = ae.Message
		}
		if detail != "" && detail != msg {
			msg += " " + detail
		}
		enc := json.NewEncoder(r.env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Error string `json:"error"`
			Code  uint32 `json:"code"`
		}{what + " " + msg, code})
		return exitStatus(code)
	}
	r.out.Flush()
	return report(r.env.Stderr, what, err)
}

func (r *runner) client(ctx context.Context) (*client.Client, error) {
	return r.env.Connect(ctx, r.inv.opts["r"])
}

func logPath(log string) string { return "/v1/eventlog/logs/" + url.PathEscape(log) }

func (r *runner) enumLogs(ctx context.Context) int {
	c, err := r.client(ctx)
	if err != nil {
		return r.fail("Failed to open log enumeration.", err)
	}
	var logs []string
	if err := c.Do(ctx, http.MethodGet, "/v1/eventlog/logs", nil, &logs); err != nil {
		return r.fail("Failed to open log enumeration.", err)
	}
	for _, l := range logs {
		fmt.Fprintln(r.out, l)
	}
	return 0
}

func (r *runner) info(ctx context.Context, what string) (eventlog.LogInfo, int) {
	var in eventlog.LogInfo
	c, err := r.client(ctx)
	if err == nil {
		err = c.Do(ctx, http.MethodGet, logPath(r.inv.args[0]), nil, &in)
	}
	if err != nil {
		return in, r.fail(what, err)
	}
	return in, 0
}

func (r *runner) getLog(ctx context.Context) int {
	format := strings.ToLower(r.inv.opts["f"])
	if format != "" && format != "text" && format != "xml" {
		return r.fail("Failed to read configuration for log "+r.inv.args[0]+".",
			&cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Invalid format %q: use text or xml.", r.inv.opts["f"])})
	}
	in, rc := r.info(ctx, "Failed to read configuration for log "+r.inv.args[0]+".")
	if rc != 0 {
		return rc
	}
	if err := writeLogConfig(r.out, in, format == "xml"); err != nil {
		return r.fail("Failed to read configuration for log "+r.inv.args[0]+".", err)
	}
	return 0
}

func (r *runner) getLogInfo(ctx context.Context) int {
	lf, err := r.inv.boolOpt("lf")
	if err != nil {
		return r.fail("Failed to read log information.", err)
	}
	if lf {
		path := r.inv.args[0]
		st, err := os.Stat(path)
		if err != nil {
			return r.fail("Failed to read log information.", fileError(err))
		}
		_, recs, err := readExportFile(path, "", 0)
		if err != nil {
			return r.fail("Failed to read log information.", err)
		}
		in := eventlog.LogInfo{FileSize: st.Size(), NumberOfLogRecords: len(recs), LastWriteTime: st.ModTime()}
		if len(recs) > 0 {
			in.OldestRecordNumber = recs[0].RecordID
		}
		writeLogInfo(r.out, in)
		return 0
	}
	in, rc := r.info(ctx, "Failed to read log information.")
	if rc != 0 {
		return rc
	}
	writeLogInfo(r.out, in)
	return 0
}

func (r *runner) setLog(ctx context.Context) int {
	what := "Failed to save configuration or activate log " + r.inv.args[0] + "."
	var body wire.EventlogConfig
	if ms, ok, err := r.inv.intOpt("ms"); err != nil {
		return r.fail(what, err)
	} else if ok {
		body.MaxSize = &ms
	}
	if _, ok := r.inv.opts["rt"]; ok {
		rt, err := r.inv.boolOpt("rt")
		if err != nil {
			return r.fail(what, err)
		}
		body.Retention = &rt
	}
	c, err := r.client(ctx)
	if err == nil {
		err = c.Do(ctx, http.MethodPut, logPath(r.inv.args[0]), body, nil)
	}
	if err != nil {
		return r.fail(what, err)
	}
	return 0
}

func (r *runner) clearLog(ctx context.Context) int {
	what := "Failed to clear log " + r.inv.args[0] + "."
	backup, hasBackup := r.inv.opts["bu"]
	if hasBackup && backup == "" {
		return r.fail(what, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: "Option /bu needs a file name."})
	}
	c, err := r.client(ctx)
	if err != nil {
		return r.fail(what, err)
	}
	if !hasBackup {
		if err := c.Do(ctx, http.MethodPost, logPath(r.inv.args[0])+"/clear", nil, nil); err != nil {
			return r.fail(what, err)
		}
		return 0
	}
	// The backup is written here, through a temporary file in its directory; the log
	// is cleared only once the node has sent all of it.
	if _, err := os.Stat(backup); err == nil {
		return r.fail(what, &cmdError{code: winerr.ERROR_FILE_EXISTS, detail: backup})
	}
	format, err := exportFormat(backup)
	if err != nil {
		return r.fail(what, err)
	}
	err = writeFileVia(backup, func(w io.Writer) error {
		if format == formatJSONL {
			return c.Do(ctx, http.MethodPost, logPath(r.inv.args[0])+"/clear?backup=1", nil, w)
		}
		var buf bytes.Buffer
		if err := c.Do(ctx, http.MethodPost, logPath(r.inv.args[0])+"/clear?backup=1", nil, &buf); err != nil {
			return err
		}
		raw := buf.Bytes()
		_, recs, err := eventlog.ReadExport(bytes.NewReader(raw), nil)
		if err == nil {
			err = eventlog.WriteEVTX(w, recs)
		}
		if err != nil {
			// The log is cleared already: keep its records as they came.
			keep := backup + ".jsonl"
			if werr := writeFileVia(keep, func(w io.Writer) error { _, err := w.Write(raw); return err }); werr == nil {
				return fmt.Errorf("%w (the cleared records are in %s)", err, keep)
			}
		}
		return err
	})
	if err != nil {
		return r.fail(what, err)
	}
	return 0
}

func (r *runner) exportLog(ctx context.Context) int {
	what := "Failed to export log " + r.inv.args[0] + "."
	lf, err := r.inv.boolOpt("lf")
	if err != nil {
		return r.fail(what, err)
	}
	ow, err := r.inv.boolOpt("ow")
	if err != nil {
		return r.fail(what, err)
	}
	qs := r.inv.opts["q"]
	if !lf {
		if _, err := eventlog.ParseQueryFor(r.inv.args[0], qs); err != nil {
			return r.fail(what, err)
		}
	}
	target := r.inv.args[1]
	format, err := exportFormat(target)
	if err != nil {
		return r.fail(what, err)
	}
	if _, err := os.Stat(target); err == nil && !ow {
		return r.fail(what, &cmdError{code: winerr.ERROR_FILE_EXISTS, detail: target + " (use /ow:true to overwrite it)"})
	}
	if lf {
		h, recs, err := readExportFile(r.inv.args[0], qs, 0)
		if err != nil {
			return r.fail(what, err)
		}
		err = writeFileVia(target, func(w io.Writer) error {
			if format == formatEVTX {
				return eventlog.WriteEVTX(w, recs)
			}
			return writeExport(w, h, recs)
		})
		if err != nil {
			return r.fail(what, err)
		}
		return 0
	}
	c, err := r.client(ctx)
	if err != nil {
		return r.fail(what, err)
	}
	path := logPath(r.inv.args[0]) + "/export?q=" + url.QueryEscape(qs)
	err = writeFileVia(target, func(w io.Writer) error {
		if format == formatJSONL {
			return c.Do(ctx, http.MethodGet, path, nil, w)
		}
		// Windows' format: the node's export (JSON Lines), written as EVTX here.
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(c.Do(ctx, http.MethodGet, path, nil, pw)) }()
		_, recs, err := eventlog.ReadExport(pr, nil)
		pr.CloseWithError(err)
		if err != nil {
			return err
		}
		return eventlog.WriteEVTX(w, recs)
	})
	if err != nil {
		return r.fail(what, err)
	}
	return 0
}

// Export formats, by the file name's extension.
const (
	formatJSONL = "jsonl" // .jsonl (or .evtj): a header line, then one JSON record per line
	formatEVTX  = "evtx"  // .evtx: Windows' EVTX, read by Event Viewer, libevtx, python-evtx
)

// exportFormat is the format a file name asks for; other extensions are refused.
func exportFormat(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".evtx":
		return formatEVTX, nil
	case ".jsonl", ".evtj":
		return formatJSONL, nil
	}
	return "", &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf(
		"%s: the file name says which format to write: .evtx (Windows' event log format) or .jsonl (JSON Lines, which qe /lf:true reads back).", name)}
}

func (r *runner) queryEvents(ctx context.Context) int {
	const what = "Failed to query events."
	lf, err := r.inv.boolOpt("lf")
	if err != nil {
		return r.fail(what, err)
	}
	rd, err := r.inv.boolOpt("rd")
	if err != nil {
		return r.fail(what, err)
	}
	count, _, err := r.inv.intOpt("c")
	if err != nil {
		return r.fail(what, err)
	}
	format := strings.ToLower(r.inv.opts["f"])
	switch format {
	case "":
		format = "xml" // wevtutil's default
	case "text", "xml", "renderedxml", "json":
	default:
		return r.fail(what, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: fmt.Sprintf("Invalid format %q: use text, xml, RenderedXml or json.", r.inv.opts["f"])})
	}
	root, hasRoot := r.inv.opts["e"]
	if hasRoot && (format != "xml" && format != "renderedxml" || !validElementName(root)) {
		return r.fail(what, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: "Option /e takes an XML element name and needs /f:xml."})
	}
	sq, err := r.inv.boolOpt("sq")
	if err != nil {
		return r.fail(what, err)
	}
	var after uint64
	if bm, ok := r.inv.opts["bm"]; ok {
		if after, err = readBookmark(bm, r.inv.args[0], lf); err != nil {
			return r.fail(what, err)
		}
	}
	// The query is parsed here first, so that a mistake is shown with its position
	// without a round trip; the node parses it again.
	qs := r.inv.opts["q"]
	logs := []string{r.inv.args[0]}
	if sq {
		// With /sq:true the argument is a file holding a structured query (QueryList).
		if lf || qs != "" {
			return r.fail(what, &cmdError{code: winerr.ERROR_INVALID_PARAMETER, detail: "With /sq:true the argument is a structured query file: /q and /lf do not apply."})
		}
		b, err := os.ReadFile(r.inv.args[0])
		if err != nil {
			return r.fail(what, fileError(err))
		}
		qs = string(b)
		if logs, err = eventlog.StructuredQueryLogs(qs); err != nil {
			return r.fail(what, err)
		}
	}
	for _, log := range logs {
		if _, err := eventlog.ParseQueryFor(log, qs); err != nil {
			return r.fail(what, err)
		}
	}
	var recs []eventlog.Record
	if lf {
		_, recs, err = readExportFile(r.inv.args[0], qs, after)
		if err != nil {
			return r.fail(what, err)
		}
		if rd {
			for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
				recs[i], recs[j] = recs[j], recs[i]
			}
		}
	} else {
		c, err := r.client(ctx)
		if err != nil {
			return r.fail(what, err)
		}
		v := url.Values{}
		if qs != "" {
			v.Set("q", qs)
		}
		if count > 0 {
			v.Set("c", strconv.FormatInt(count, 10))
		}
		if rd {
			v.Set("rd", "true")
		}
		if after > 0 {
			v.Set("after", strconv.FormatUint(after, 10))
		}
		for _, log := range logs {
			var part []eventlog.Record
			if err := c.Do(ctx, http.MethodGet, logPath(log)+"/events?"+v.Encode(), nil, &part); err != nil {
				return r.fail(what, err)
			}
			recs = append(recs, part...)
		}
	}
	if count > 0 && int64(len(recs)) > count {
		recs = recs[:count]
	}
	if hasRoot {
		fmt.Fprintf(r.out, "<%s>\n", root)
	}
	if format == "json" {
		// One JSON document per command, as every CLI's /f:json: an array of the
		// events, one per line.
		fmt.Fprint(r.out, "[\n")
	}
	for i := range recs {
		var err error
		switch format {
		case "text":
			err = eventlog.WriteText(r.out, i, &recs[i], r.env.Catalog, r.env.Location)
		case "xml", "renderedxml":
			err = eventlog.WriteXML(r.out, &recs[i], r.env.Catalog, format == "renderedxml")
		case "json":
			var b bytes.Buffer
			if err = eventlog.WriteJSON(&b, &recs[i], r.env.Catalog); err == nil {
				sep := ",\n"
				if i == len(recs)-1 {
					sep = "\n"
				}
				_, err = fmt.Fprint(r.out, strings.TrimSuffix(b.String(), "\n")+sep)
			}
		}
		if err != nil {
			return r.fail(what, err)
		}
	}
	if hasRoot {
		fmt.Fprintf(r.out, "</%s>\n", root)
	}
	if format == "json" {
		fmt.Fprintln(r.out, "]")
	}
	if sbm, ok := r.inv.opts["sbm"]; ok && len(recs) > 0 {
		last := recs[len(recs)-1]
		channel := last.Log
		if channel == "" {
			channel = r.inv.args[0]
		}
		if err := writeBookmark(sbm, channel, last.RecordID); err != nil {
			return r.fail(what, err)
		}
	}
	return 0
}

func validElementName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// fileError gives a file system error its Windows number.
func fileError(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &cmdError{code: winerr.ERROR_FILE_NOT_FOUND, detail: err.Error()}
	case errors.Is(err, os.ErrPermission):
		return &cmdError{code: winerr.ERROR_ACCESS_DENIED, detail: err.Error()}
	}
	return err
}

// readExportFile reads an export file and returns the records that qs (for the
// file's log) selects after record number after.
func readExportFile(path, qs string, after uint64) (eventlog.ExportHeader, []eventlog.Record, error) {
	if strings.EqualFold(filepath.Ext(path), ".evtx") {
		return eventlog.ExportHeader{}, nil, &cmdError{code: winerr.ERROR_INVALID_DATA, detail: fmt.Sprintf(
			"%s: wevtutil reads back the .jsonl files it exports; .evtx files are for Windows' tools (Event Viewer, evtxexport).", path)}
	}
	f, err := os.Open(path)
	if err != nil {
		return eventlog.ExportHeader{}, nil, fileError(err)
	}
	defer f.Close()
	h, recs, err := eventlog.ReadExport(f, nil)
	if err != nil {
		return h, nil, &cmdError{code: winerr.ERROR_INVALID_DATA, detail: fmt.Sprintf("%s: %v", path, err)}
	}
	q, err := eventlog.ParseQueryFor(h.Log, qs)
	if err != nil {
		return h, nil, err
	}
	q = q.After(after)
	now := time.Now()
	kept := recs[:0]
	for i := range recs {
		if q.Match(&recs[i], now) {
			kept = append(kept, recs[i])
		}
	}
	return h, kept, nil
}

func writeExport(w io.Writer, h eventlog.ExportHeader, recs []eventlog.Record) error {
	bw := bufio.NewWriter(w)
	h.Exported = time.Now().UTC()
	if err := writeJSONLine(bw, h); err != nil {
		return err
	}
	for i := range recs {
		if err := writeJSONLine(bw, &recs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeFileVia writes path through a temporary file in its directory, renamed into
// place only when fill succeeded.
func writeFileVia(path string, fill func(io.Writer) error) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*")
	if err != nil {
		return fileError(err)
	}
	defer os.Remove(f.Name())
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fileError(os.Rename(f.Name(), abs))
}
