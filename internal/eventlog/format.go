package eventlog

import (
	"encoding/hex"
	"encoding/json"
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

// xmlText escapes s for XML character data and attributes, dropping characters XML 1.0
// cannot carry.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			continue
		}
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WriteXML writes r as Windows' event XML (one <Event> element, no newline inside, as
// wevtutil qe /f:xml prints it). With rendered, it adds RenderingInfo with the message,
// as /f:RenderedXml does.
func WriteXML(w io.Writer, r *Record, cat *Catalog, rendered bool) error {
	var b strings.Builder
	b.WriteString(`<Event xmlns="` + EventNamespace + `"><System>`)
	fmt.Fprintf(&b, `<Provider Name="%s"/>`, xmlText(r.Source))
	fmt.Fprintf(&b, `<EventID Qualifiers="%d">%d</EventID>`, r.Qualifiers, r.EventID)
	fmt.Fprintf(&b, `<Version>0</Version><Level>%d</Level><Task>%d</Task><Opcode>0</Opcode>`, r.Level, r.Category)
	fmt.Fprintf(&b, `<Keywords>0x%x</Keywords>`, uint64(r.Keywords))
	fmt.Fprintf(&b, `<TimeCreated SystemTime="%s"/>`, r.TimeCreated.UTC().Format("2006-01-02T15:04:05.0000000Z"))
	fmt.Fprintf(&b, `<EventRecordID>%d</EventRecordID><Correlation/>`, r.RecordID)
	fmt.Fprintf(&b, `<Execution ProcessID="%d" ThreadID="%d"/>`, r.PID, r.TID)
	fmt.Fprintf(&b, `<Channel>%s</Channel><Computer>%s</Computer>`, xmlText(r.Log), xmlText(r.Computer))
	if r.User != "" {
		fmt.Fprintf(&b, `<Security UserID="%s"/>`, xmlText(r.User))
	} else {
		b.WriteString(`<Security/>`)
	}
	b.WriteString(`</System>`)
	if len(r.Strings) > 0 || len(r.Data) > 0 || len(r.Binary) > 0 {
		b.WriteString(`<EventData>`)
		for _, s := range r.Strings {
			fmt.Fprintf(&b, `<Data>%s</Data>`, xmlText(s))
		}
		for _, d := range r.Data {
			fmt.Fprintf(&b, `<Data Name="%s">%s</Data>`, xmlText(d.Name), xmlText(d.Value))
		}
		if len(r.Binary) > 0 {
			fmt.Fprintf(&b, `<Binary>%s</Binary>`, strings.ToUpper(hex.EncodeToString(r.Binary)))
		}
		b.WriteString(`</EventData>`)
	}
	if rendered {
		fmt.Fprintf(&b, `<RenderingInfo Culture="en-US"><Message>%s</Message><Level>%s</Level><Task>%s</Task><Opcode>Info</Opcode><Channel>%s</Channel><Provider>%s</Provider><Keywords><Keyword>Classic</Keyword></Keywords></RenderingInfo>`,
			xmlText(cat.Render(&r.Event)), xmlText(r.TypeName()), xmlText(CategoryName(r.Category)), xmlText(r.Log), xmlText(r.Source))
	}
	b.WriteString("</Event>\n")
	_, err := io.WriteString(w, b.String())
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
