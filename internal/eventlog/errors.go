package eventlog

import (
	"errors"
	"fmt"

	"wolfpack/internal/winerr"
)

// The errors below carry a Windows error number (ErrorCode) and the class of failure as
// an HTTP status number (HTTPStatus), which internal/api sends as they are: the log names
// the class without speaking HTTP (the numbers are written out, not net/http's names).

// ErrClosed is returned by calls on a closed Service.
var ErrClosed = errors.New("eventlog: service closed")

// LogNotFoundError says that a log of that name does not exist.
type LogNotFoundError struct{ Log string }

func (e *LogNotFoundError) Error() string {
	return fmt.Sprintf("The specified channel could not be found: %s.", e.Log)
}

// ErrorCode is Windows' ERROR_EVT_CHANNEL_NOT_FOUND.
func (e *LogNotFoundError) ErrorCode() uint32 { return uint32(winerr.ERROR_EVT_CHANNEL_NOT_FOUND) }

// HTTPStatus is 404.
func (e *LogNotFoundError) HTTPStatus() int { return 404 }

// QueryError is a query the parser does not accept; Pos is the byte offset (0-based)
// where it stopped understanding.
type QueryError struct {
	Query string
	Pos   int
	Msg   string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("The specified query is invalid: %s at position %d.", e.Msg, e.Pos+1)
}

// ErrorCode is Windows' ERROR_EVT_INVALID_QUERY.
func (e *QueryError) ErrorCode() uint32 { return uint32(winerr.ERROR_EVT_INVALID_QUERY) }

// HTTPStatus is 400.
func (e *QueryError) HTTPStatus() int { return 400 }

// EventError says that a reported event breaks a limit or lacks a field.
type EventError struct{ Msg string }

func (e *EventError) Error() string { return "eventlog: invalid event: " + e.Msg }

// ErrorCode is Windows' ERROR_EVT_INVALID_EVENT_DATA.
func (e *EventError) ErrorCode() uint32 { return uint32(winerr.ERROR_EVT_INVALID_EVENT_DATA) }

// HTTPStatus is 400.
func (e *EventError) HTTPStatus() int { return 400 }

// LogFullError is a report refused because the log is full and set to retain events.
type LogFullError struct{ Log string }

func (e *LogFullError) Error() string { return fmt.Sprintf("The event log file is full: %s.", e.Log) }

// ErrorCode is Windows' ERROR_LOG_FILE_FULL.
func (e *LogFullError) ErrorCode() uint32 { return uint32(winerr.ERROR_LOG_FILE_FULL) }

// HTTPStatus is 507 Insufficient Storage.
func (e *LogFullError) HTTPStatus() int { return 507 }

// ConfigError is a log setting out of range.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return "eventlog: " + e.Msg }

// ErrorCode is Windows' ERROR_INVALID_PARAMETER.
func (e *ConfigError) ErrorCode() uint32 { return uint32(winerr.ERROR_INVALID_PARAMETER) }

// HTTPStatus is 400.
func (e *ConfigError) HTTPStatus() int { return 400 }

// FormatError is damage in a log segment or an export file: what and where.
type FormatError struct {
	File string
	Off  int64
	Msg  string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("eventlog: %s: %s at offset 0x%x", e.File, e.Msg, e.Off)
}
