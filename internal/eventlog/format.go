package eventlog

import (
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// EventNamespace is the XML namespace of Windows' event schema.
const EventNamespace = "http://schemas.microsoft.com/win/2004/08/events/event"

// TypeName is the Type line of the text format: the classic type, or Critical.
func (r *Record) TypeName() string {
	if r.Level == LevelCritical {
		return "Critical"
	}
	t := r.Type
	if t == 0 {
		t = typeOf(r.Level, r.Keywords)
	}
	return t.String()
}

// CategoryName is how Event Viewer shows a category without a registered name:
// "None" for 0, else the number in parentheses.
func CategoryName(c uint16) string {
	if c == 0 {
		return "None"
	}
	return fmt.Sprintf("(%d)", c)
}

// oneLine folds a description onto one line.
func oneLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.TrimSpace(s)
}

// WriteText writes r as the block wevtutil qe /f:text prints, with Event Viewer's
// field names: one "Name: value" per line, the description on one line, then the named
// data items and the binary data. loc is the time zone for Date and Time.
func WriteText(w io.Writer, n int, r *Record, cat *Catalog, loc *time.Location) error {
	t := r.TimeCreated.In(loc)
	user := r.User
	if user == "" {
		user = "N/A"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Event[%d]:\n", n)
	fmt.Fprintf(&b, "Log Name: %s\n", r.Log)
	fmt.Fprintf(&b, "Record Number: %d\n", r.RecordID)
	fmt.Fprintf(&b, "Date: %s\n", t.Format("2006-01-02"))
	fmt.Fprintf(&b, "Time: %s\n", t.Format("15:04:05.000"))
	fmt.Fprintf(&b, "Source: %s\n", r.Source)
	fmt.Fprintf(&b, "Event ID: %d\n", r.EventID)
	fmt.Fprintf(&b, "Type: %s\n", r.TypeName())
	fmt.Fprintf(&b, "Category: %s\n", CategoryName(r.Category))
	fmt.Fprintf(&b, "Computer: %s\n", r.Computer)
	fmt.Fprintf(&b, "User: %s\n", user)
	fmt.Fprintf(&b, "Description: %s\n", oneLine(cat.Render(&r.Event)))
	if len(r.Data) > 0 {
		b.WriteString("Data:\n")
		for _, d := range r.Data {
			fmt.Fprintf(&b, "  %s: %s\n", d.Name, oneLine(d.Value))
		}
	}
	if len(r.Binary) > 0 {
		fmt.Fprintf(&b, "Binary: %s\n", hexWords(r.Binary))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func hexWords(p []byte) string {
	var b strings.Builder
	for i, c := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	return b.String()
}

// eventXML is Windows' event XML (the event schema, EventNamespace) as wevtutil qe
// /f:xml and /f:RenderedXml print it.
type eventXML struct {
	XMLName       xml.Name          `xml:"Event"`
	Xmlns         string            `xml:"xmlns,attr"`
	System        systemXML         `xml:"System"`
	EventData     *eventDataXML     `xml:"EventData,omitempty"`
	RenderingInfo *renderingInfoXML `xml:"RenderingInfo,omitempty"`
}

type systemXML struct {
	Provider struct {
		Name string `xml:"Name,attr"`
	} `xml:"Provider"`
	EventID struct {
		Qualifiers uint16 `xml:"Qualifiers,attr"`
		ID         uint32 `xml:",chardata"`
	} `xml:"EventID"`
	Version     int    `xml:"Version"`
	Level       uint8  `xml:"Level"`
	Task        uint16 `xml:"Task"`
	Opcode      int    `xml:"Opcode"`
	Keywords    string `xml:"Keywords"`
	TimeCreated struct {
		SystemTime string `xml:"SystemTime,attr"`
	} `xml:"TimeCreated"`
	EventRecordID uint64   `xml:"EventRecordID"`
	Correlation   struct{} `xml:"Correlation"`
	Execution     struct {
		ProcessID int `xml:"ProcessID,attr"`
		ThreadID  int `xml:"ThreadID,attr"`
	} `xml:"Execution"`
	Channel  string `xml:"Channel"`
	Computer string `xml:"Computer"`
	Security struct {
		UserID string `xml:"UserID,attr,omitempty"`
	} `xml:"Security"`
}

type eventDataXML struct {
	Data   []dataXML `xml:"Data"`
	Binary string    `xml:"Binary,omitempty"`
}

// dataXML is an insertion string (no Name) or a named data item.
type dataXML struct {
	Name  *string `xml:"Name,attr"`
	Value string  `xml:",chardata"`
}

type renderingInfoXML struct {
	Culture  string   `xml:"Culture,attr"`
	Message  string   `xml:"Message"`
	Level    string   `xml:"Level"`
	Task     string   `xml:"Task"`
	Opcode   string   `xml:"Opcode"`
	Channel  string   `xml:"Channel"`
	Provider string   `xml:"Provider"`
	Keywords []string `xml:"Keywords>Keyword"`
}

// emptyElements are the schema's elements that carry attributes only; wevtutil writes
// them self-closed, which encoding/xml does not do.
var emptyElements = strings.NewReplacer("></Provider>", "/>", "></TimeCreated>", "/>",
	"></Correlation>", "/>", "></Execution>", "/>", "></Security>", "/>")

// xmlChars drops the characters XML 1.0 cannot carry (encoding/xml would write U+FFFD
// for them).
func xmlChars(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return -1
	}, s)
}

// WriteXML writes r as Windows' event XML (one <Event> element, no newline inside, as
// wevtutil qe /f:xml prints it). With rendered, it adds RenderingInfo with the message,
// as /f:RenderedXml does.
func WriteXML(w io.Writer, r *Record, cat *Catalog, rendered bool) error {
	e := eventXML{Xmlns: EventNamespace}
	s := &e.System
	s.Provider.Name = xmlChars(r.Source)
	s.EventID.Qualifiers, s.EventID.ID = r.Qualifiers, r.EventID
	s.Level, s.Task = uint8(r.Level), r.Category
	s.Keywords = fmt.Sprintf("0x%x", uint64(r.Keywords))
	s.TimeCreated.SystemTime = r.TimeCreated.UTC().Format("2006-01-02T15:04:05.0000000Z")
	s.EventRecordID = r.RecordID
	s.Execution.ProcessID, s.Execution.ThreadID = r.PID, r.TID
	s.Channel, s.Computer = xmlChars(r.Log), xmlChars(r.Computer)
	s.Security.UserID = xmlChars(r.User)
	if len(r.Strings) > 0 || len(r.Data) > 0 || len(r.Binary) > 0 {
		d := &eventDataXML{Binary: strings.ToUpper(hex.EncodeToString(r.Binary))}
		for _, str := range r.Strings {
			d.Data = append(d.Data, dataXML{Value: xmlChars(str)})
		}
		for _, item := range r.Data {
			name := xmlChars(item.Name)
			d.Data = append(d.Data, dataXML{Name: &name, Value: xmlChars(item.Value)})
		}
		e.EventData = d
	}
	if rendered {
		e.RenderingInfo = &renderingInfoXML{Culture: "en-US", Message: xmlChars(cat.Render(&r.Event)),
			Level: r.TypeName(), Task: CategoryName(r.Category), Opcode: "Info",
			Channel: xmlChars(r.Log), Provider: xmlChars(r.Source), Keywords: []string{"Classic"}}
	}
	b, err := xml.Marshal(e)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, emptyElements.Replace(string(b))+"\n")
	return err
}

// JSONRecord is the object wevtutil qe /f:json prints for a record: the record's fields
// plus its type name and rendered message.
type JSONRecord struct {
	Record
	TypeName string `json:"typeName"`
	Message  string `json:"message"`
}

// WriteJSON writes r as one JSON object on one line.
func WriteJSON(w io.Writer, r *Record, cat *Catalog) error {
	b, err := json.Marshal(JSONRecord{Record: *r, TypeName: r.TypeName(), Message: cat.Render(&r.Event)})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
