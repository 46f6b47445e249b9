package eventlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options configure a Service.
type Options struct {
	Computer string   // the node's name, written into records that name none; default: host name
	MaxSize  int64    // maximum size of a log that has no configuration yet; default DefaultMaxSize
	Catalog  *Catalog // default DefaultCatalog()
	Logger   *slog.Logger
	Logs     []string // default System and Application

	syncFile syncFunc // tests: records the segments' syncs (nil: fileSync)
}

// Service is a node's event logs. Its methods are safe for concurrent use.
type Service struct {
	dir      string
	computer string
	catalog  *Catalog
	log      *slog.Logger
	logs     map[string]*logFile // lower-case name
	names    []string
	hub      *hub
}

// Open opens (creating them when missing) the logs under dir.
func Open(dir string, opts Options) (*Service, error) {
	if opts.Computer == "" {
		opts.Computer, _ = os.Hostname()
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxSize < MinMaxSize {
		return nil, &ConfigError{Msg: fmt.Sprintf("maximum log size %d is below %d", opts.MaxSize, MinMaxSize)}
	}
	if opts.Catalog == nil {
		opts.Catalog = DefaultCatalog()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if len(opts.Logs) == 0 {
		opts.Logs = []string{LogApplication, LogSystem}
	}
	s := &Service{dir: dir, computer: opts.Computer, catalog: opts.Catalog, log: opts.Logger,
		logs: map[string]*logFile{}, hub: newHub()}
	for _, name := range opts.Logs {
		if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			s.Close()
			return nil, &ConfigError{Msg: fmt.Sprintf("bad log name %q", name)}
		}
		l, err := openLog(filepath.Join(dir, name), name, opts.MaxSize, opts.Logger, s.hub, opts.syncFile)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.logs[strings.ToLower(name)] = l
		s.names = append(s.names, name)
	}
	slices.SortFunc(s.names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return s, nil
}

// Close stops the service after pending reports are written; subscriptions end.
func (s *Service) Close() error {
	for _, l := range s.logs {
		l.close()
	}
	s.hub.close()
	return nil
}

// Computer is the node name the service writes into records.
func (s *Service) Computer() string { return s.computer }

// Catalog is the service's message catalog.
func (s *Service) Catalog() *Catalog { return s.catalog }

// Logs returns the names of the logs, sorted.
func (s *Service) Logs() []string { return slices.Clone(s.names) }

func (s *Service) logFile(name string) (*logFile, error) {
	if name == "" {
		name = LogSystem
	}
	l, ok := s.logs[strings.ToLower(name)]
	if !ok {
		return nil, &LogNotFoundError{Log: name}
	}
	return l, nil
}

// Report appends e to its log and returns the record number. When it returns without
// error the record is on disk (written and fsynced); concurrent reports share one
// fsync. If ctx ends first, Report returns ctx's error, and the record may or may not
// have been written.
func (s *Service) Report(ctx context.Context, e Event) (uint64, error) {
	if err := e.normalize(s.catalog, s.computer); err != nil {
		return 0, err
	}
	l, err := s.logFile(e.Log)
	if err != nil {
		return 0, err
	}
	e.Log = l.name
	// The record outlives the call (subscribers get it): copy what the caller owns.
	e.Strings = slices.Clone(e.Strings)
	e.Data = slices.Clone(e.Data)
	e.Binary = slices.Clone(e.Binary)
	r := Record{TimeCreated: time.Now().UTC(), Event: e}
	if n := len(appendFrame(nil, &r)); n > MaxRecordSize+frameHeaderSize {
		return 0, &EventError{Msg: fmt.Sprintf("record of %d bytes (at most %d)", n, MaxRecordSize)}
	}
	return l.append(ctx, r)
}

// Query returns the records of log that query (XPath, see ParseQuery, or a QueryList,
// see ParseQueryFor) selects, oldest first unless opts.Reverse.
func (s *Service) Query(ctx context.Context, log, query string, opts QueryOptions) ([]Record, error) {
	q, err := ParseQueryFor(log, query)
	if err != nil {
		return nil, err
	}
	return s.QueryParsed(ctx, log, q, opts)
}

// QueryParsed is Query with a parsed query.
func (s *Service) QueryParsed(ctx context.Context, log string, q *Query, opts QueryOptions) ([]Record, error) {
	l, err := s.logFile(log)
	if err != nil {
		return nil, err
	}
	q = q.After(opts.After)
	var out []Record
	err = l.scan(ctx, q, opts.Reverse, func(r *Record) bool {
		out = append(out, *r)
		return opts.Count <= 0 || len(out) < opts.Count
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Subscribe returns a channel of the records committed to log from now on ("" for
// every log). It is closed when ctx ends or the service closes, at once for an unknown
// log. A subscriber that falls more than 1024 records behind loses records.
func (s *Service) Subscribe(ctx context.Context, log string) <-chan Record {
	if log != "" {
		l, err := s.logFile(log)
		if err != nil {
			ch := make(chan Record)
			close(ch)
			return ch
		}
		log = l.name
	}
	return s.hub.subscribe(ctx, log)
}

// Render returns r's description from the catalog.
func (s *Service) Render(r Record) string { return s.catalog.Render(&r.Event) }

// Info describes a log.
func (s *Service) Info(log string) (LogInfo, error) {
	l, err := s.logFile(log)
	if err != nil {
		return LogInfo{}, err
	}
	return l.info(), nil
}

// SetConfig changes a log's maximum size (rounded up to a multiple of 64 KiB, as
// Windows does) and retention. A smaller size deletes the oldest records at once unless
// the log retains events.
func (s *Service) SetConfig(log string, maxSize int64, retention bool) (LogInfo, error) {
	l, err := s.logFile(log)
	if err != nil {
		return LogInfo{}, err
	}
	if maxSize < MinMaxSize {
		return LogInfo{}, &ConfigError{Msg: fmt.Sprintf("the maximum log size must be at least %d bytes", MinMaxSize)}
	}
	if maxSize > 1<<42 {
		return LogInfo{}, &ConfigError{Msg: "the maximum log size is too large"}
	}
	maxSize = (maxSize + MinMaxSize - 1) / MinMaxSize * MinMaxSize
	if err := l.setConfig(LogConfig{MaxSize: maxSize, Retention: retention}); err != nil {
		return LogInfo{}, err
	}
	return l.info(), nil
}

// Clear deletes every record of log, first writing them to backup as an export file
// when backup is not nil (and clearing only if that worked). As on Windows, the System
// log then records event 104 saying which log was cleared.
func (s *Service) Clear(ctx context.Context, log string, backup io.Writer) error {
	l, err := s.logFile(log)
	if err != nil {
		return err
	}
	if err := l.clear(ctx, backup, s.computer); err != nil {
		return err
	}
	_, err = s.Report(ctx, Event{Log: LogSystem, Source: SourceEventlog, EventID: EventLogCleared,
		Strings: []string{l.name}, PID: os.Getpid()})
	return err
}

// Export writes the records of log that query selects to w as an export file.
func (s *Service) Export(ctx context.Context, log, query string, w io.Writer) error {
	q, err := ParseQueryFor(log, query)
	if err != nil {
		return err
	}
	l, err := s.logFile(log)
	if err != nil {
		return err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.exportLocked(ctx, w, q, s.computer)
}

// Stats are counters of a log since the service opened, for metrics.
type Stats struct {
	Records         uint64 // records committed
	Commits         uint64 // batches committed, one fsync each
	SubscriberDrops uint64 // records a slow subscriber missed (all logs)
}

// Stats returns log's counters.
func (s *Service) Stats(log string) (Stats, error) {
	l, err := s.logFile(log)
	if err != nil {
		return Stats{}, err
	}
	s.hub.mu.Lock()
	drops := s.hub.dropped
	s.hub.mu.Unlock()
	return Stats{Records: l.committed.Load(), Commits: l.commits.Load(), SubscriberDrops: drops}, nil
}
