package eventlog

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The logs every node has.
const (
	LogSystem      = "System"
	LogApplication = "Application"
)

// Level is an event's level as the Windows event schema numbers it.
type Level uint8

// Windows' standard levels (winmeta.xml). Classic audit events have level 0 and say
// success or failure in their keywords.
const (
	LevelLogAlways   Level = 0
	LevelCritical    Level = 1
	LevelError       Level = 2
	LevelWarning     Level = 3
	LevelInformation Level = 4
	LevelVerbose     Level = 5
)

// String returns the level's display name.
func (l Level) String() string {
	switch l {
	case LevelLogAlways:
		return "Information"
	case LevelCritical:
		return "Critical"
	case LevelError:
		return "Error"
	case LevelWarning:
		return "Warning"
	case LevelInformation:
		return "Information"
	case LevelVerbose:
		return "Verbose"
	}
	return fmt.Sprintf("Level %d", uint8(l))
}

// Keywords is the event's 64-bit keyword mask.
type Keywords uint64

// Windows' standard keywords (winmeta.xml).
const (
	KeywordAuditFailure Keywords = 0x0010000000000000
	KeywordAuditSuccess Keywords = 0x0020000000000000
	KeywordClassic      Keywords = 0x0080000000000000
)

// EventType is a classic event type (ReportEvent's wType).
type EventType uint16

// Windows' EVENTLOG_*_TYPE values.
const (
	TypeError        EventType = 0x0001
	TypeWarning      EventType = 0x0002
	TypeInformation  EventType = 0x0004
	TypeAuditSuccess EventType = 0x0008
	TypeAuditFailure EventType = 0x0010
)

// String returns the name Event Viewer shows in its Type column.
func (t EventType) String() string {
	switch t {
	case TypeError:
		return "Error"
	case TypeWarning:
		return "Warning"
	case TypeInformation:
		return "Information"
	case TypeAuditSuccess:
		return "Audit Success"
	case TypeAuditFailure:
		return "Audit Failure"
	}
	return fmt.Sprintf("Type %d", uint16(t))
}

// MarshalText writes the type's name, so that JSON shows "Error" rather than 1.
func (t EventType) MarshalText() ([]byte, error) {
	if t == 0 {
		return nil, nil
	}
	return []byte(t.String()), nil
}

// UnmarshalText accepts a type's name (any case, with or without the space) or number.
func (t *EventType) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = 0
		return nil
	}
	v, ok := ParseType(string(b))
	if !ok {
		return fmt.Errorf("eventlog: unknown event type %q", b)
	}
	*t = v
	return nil
}

// ParseType parses a type name: Error, Warning, Information, Audit Success, Audit
// Failure (case-insensitive, spaces optional), or eventcreate's SUCCESS for Information.
func ParseType(s string) (EventType, bool) {
	switch strings.ToLower(strings.ReplaceAll(s, " ", "")) {
	case "error", "1":
		return TypeError, true
	case "warning", "2":
		return TypeWarning, true
	case "information", "info", "success", "4":
		return TypeInformation, true
	case "auditsuccess", "8":
		return TypeAuditSuccess, true
	case "auditfailure", "16":
		return TypeAuditFailure, true
	}
	return 0, false
}

// levelKeywords returns the level and keywords a classic type is recorded with.
func (t EventType) levelKeywords() (Level, Keywords) {
	switch t {
	case TypeError:
		return LevelError, KeywordClassic
	case TypeWarning:
		return LevelWarning, KeywordClassic
	case TypeAuditSuccess:
		return LevelLogAlways, KeywordClassic | KeywordAuditSuccess
	case TypeAuditFailure:
		return LevelLogAlways, KeywordClassic | KeywordAuditFailure
	}
	return LevelInformation, KeywordClassic
}

// typeOf returns the classic type of a level and keywords.
func typeOf(l Level, k Keywords) EventType {
	switch {
	case k&KeywordAuditFailure != 0:
		return TypeAuditFailure
	case k&KeywordAuditSuccess != 0:
		return TypeAuditSuccess
	case l == LevelCritical || l == LevelError:
		return TypeError
	case l == LevelWarning:
		return TypeWarning
	}
	return TypeInformation
}

// DataItem is a named data item of an event (EventData/Data[@Name]).
type DataItem struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Event is what a component reports. Zero fields are filled in by Report: Log defaults
// to System; Type, Level, Category and Qualifiers come from the catalog entry for
// (Source, EventID) when there is one, else Information; Computer is the node's name.
// Setting Type sets Level and Keywords; setting Level alone derives Type.
type Event struct {
	Log        string     `json:"log"`
	Source     string     `json:"source"`
	EventID    uint32     `json:"eventId"`
	Qualifiers uint16     `json:"qualifiers,omitempty"`
	Type       EventType  `json:"type,omitempty"`
	Level      Level      `json:"level"`
	Keywords   Keywords   `json:"keywords,omitempty"`
	Category   uint16     `json:"category,omitempty"`
	Computer   string     `json:"computer,omitempty"`
	PID        int        `json:"processId,omitempty"`
	TID        int        `json:"threadId,omitempty"`
	User       string     `json:"user,omitempty"`
	Strings    []string   `json:"strings,omitempty"` // insertion strings %1, %2, …
	Data       []DataItem `json:"data,omitempty"`
	Binary     []byte     `json:"binary,omitempty"`
}

// DataValue returns the value of the named data item (case-insensitive) and whether
// the event has it.
func (e *Event) DataValue(name string) (string, bool) {
	for _, d := range e.Data {
		if strings.EqualFold(d.Name, name) {
			return d.Value, true
		}
	}
	return "", false
}

// Record is an event as the log keeps it.
type Record struct {
	RecordID    uint64    `json:"recordId"`
	TimeCreated time.Time `json:"timeCreated"`
	Event
}

// Windows' limits on a reported event (ReportEvent and the classic log format).
const (
	MaxSourceLen  = 255
	MaxStrings    = 256
	MaxStringLen  = 31839 // characters in one insertion string
	MaxBinaryLen  = 61440
	MaxRecordSize = 64 << 10 // encoded bytes
)

// normalize fills the defaults of e from the catalog and checks Windows' limits.
func (e *Event) normalize(cat *Catalog, computer string) error {
	if e.Log == "" {
		e.Log = LogSystem
	}
	if e.Source == "" {
		return &EventError{Msg: "event has no source"}
	}
	if len(e.Source) > MaxSourceLen || !utf8.ValidString(e.Source) {
		return &EventError{Msg: fmt.Sprintf("source name longer than %d bytes or not UTF-8", MaxSourceLen)}
	}
	if len(e.Strings) > MaxStrings {
		return &EventError{Msg: fmt.Sprintf("%d insertion strings (at most %d)", len(e.Strings), MaxStrings)}
	}
	for i, s := range e.Strings {
		if utf8.RuneCountInString(s) > MaxStringLen {
			return &EventError{Msg: fmt.Sprintf("insertion string %d longer than %d characters", i+1, MaxStringLen)}
		}
	}
	if len(e.Binary) > MaxBinaryLen {
		return &EventError{Msg: fmt.Sprintf("binary data of %d bytes (at most %d)", len(e.Binary), MaxBinaryLen)}
	}
	if m, ok := cat.Lookup(e.Source, e.EventID); ok {
		if e.Type == 0 && e.Level == 0 {
			e.Type = m.Type
			if m.Level != 0 {
				e.Level = m.Level
			}
		}
		if e.Category == 0 {
			e.Category = m.Category
		}
		if e.Qualifiers == 0 {
			e.Qualifiers = m.Qualifiers()
		}
	}
	switch {
	case e.Type != 0 && e.Level == 0:
		if _, ok := ParseType(fmt.Sprint(uint16(e.Type))); !ok {
			return &EventError{Msg: fmt.Sprintf("unknown event type %d", e.Type)}
		}
		l, k := e.Type.levelKeywords()
		e.Level, e.Keywords = l, e.Keywords|k
	case e.Type == 0 && e.Level == 0:
		e.Type = TypeInformation
		e.Level, e.Keywords = LevelInformation, e.Keywords|KeywordClassic
	case e.Type == 0:
		e.Type = typeOf(e.Level, e.Keywords)
	}
	if e.Keywords == 0 {
		e.Keywords = KeywordClassic // every event of this log is a classic one
	}
	if e.Computer == "" {
		e.Computer = computer
	}
	return nil
}
