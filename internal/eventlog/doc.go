// Package eventlog is a node's event log: the System and Application logs that Wolfpack's
// components (and, through eventcreate, scripts) write to, the message catalog that turns
// a record's source, event ID and insertion strings into the text an administrator reads,
// and the queries that wevtutil and the web console run.
//
// It follows the Windows Event Log as documented by Microsoft: records carry what a
// classic (ReportEvent) record carries — record number, time created, source, event ID
// with qualifiers, type, category, computer, user, insertion strings, binary data — plus
// the named data items of the newer API; levels and keywords are those of the Windows
// event schema (http://schemas.microsoft.com/win/2004/08/events/event), which is also
// what WriteXML emits; queries are the XPath 1.0 subset that Event Viewer and wevtutil
// accept (see ParseQuery).
//
// Storage: each log is a directory of segment files. A record is a frame (length,
// CRC-32C, payload) appended to the newest segment; Report returns only after the frame
// is written and fsynced, and concurrent Reports share one fsync (group commit). Opening
// a log scans its segments, drops a torn tail, and rebuilds an in-memory index by event
// ID, source and level, so that common queries do not scan; a query lets writers in
// every 4096 index entries, so a long one never holds reports back. When a log would grow past
// its maximum size the oldest segment is deleted (Windows' "overwrite events as needed",
// at segment granularity: a full log holds between 7/8 of its maximum size and all of it).
//
// Files of a log, one concept each:
//
//	log.go      logFile, its invariants, open and close
//	segment.go  segment files: load and repair at open, new segments, reading a record
//	commit.go   group commit: reporters queue records, one writer commits a batch per sync
//	sync.go     fdatasync and fsync, the directory sync and atomic file replacement
//	scan.go     visiting the records a query selects, a page of the index at a time
//	clear.go    clearing a log (with a backup first)
//	config.go   a log's configuration (wevtutil sl) and description (wevtutil gl, gli)
package eventlog
