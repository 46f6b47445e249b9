package eventlog

import (
	"bytes"
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"
)

// articleBlock returns the event as Q316772 prints it: testdata/q316772-event-1024.txt,
// the article's lines as the design document (shared/DESIGN.md) quotes them. Where that
// document is beside the repository, the copy must still equal its block.
func articleBlock(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/q316772-event-1024.txt")
	if err != nil {
		t.Fatalf("the article's event: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if design, err := os.ReadFile("../../../shared/DESIGN.md"); err == nil {
		text := string(design)
		start := strings.Index(text, "```\nEvent ID: 1024")
		if start < 0 {
			t.Fatal("DESIGN.md has no block starting with Event ID: 1024")
		}
		block := text[start+4:]
		end := strings.Index(block, "```")
		if end < 0 {
			t.Fatal("the article's block in DESIGN.md is not closed")
		}
		if want := strings.TrimSpace(block[:end]); want != strings.Join(lines, "\n") {
			t.Fatalf("testdata/q316772-event-1024.txt differs from DESIGN.md's block:\n%s", want)
		}
	}
	return lines
}

// articleFields joins the article's wrapped lines into "Name: value" fields.
func articleFields(t *testing.T) map[string]string {
	fields := map[string]string{}
	last := ""
	for _, line := range articleBlock(t) {
		if name, value, ok := strings.Cut(line, ": "); ok && !strings.Contains(name, " ") || name == "Event ID" {
			last = name
			fields[name] = value
			continue
		}
		fields[last] += " " + strings.TrimSpace(line)
	}
	return fields
}

func TestRender1024AsTheArticle(t *testing.T) {
	fields := articleFields(t)
	e := Event{Source: "ClusSvc", EventID: EventCheckpointRestoreFailed,
		Strings: []string{"Microsoft Exchange Internet Mail Service", `SYSTEM\CurrentControlSet\Services\MSExchangeIMC`}}
	if err := e.normalize(DefaultCatalog(), "N1"); err != nil {
		t.Fatal(err)
	}
	got := DefaultCatalog().Render(&e)
	if got != fields["Description"] {
		t.Fatalf("description differs from the article:\n got: %s\nwant: %s", got, fields["Description"])
	}
	// The same event through the text format: every line of the article appears.
	var buf bytes.Buffer
	r := Record{RecordID: 7, TimeCreated: time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC), Event: e}
	r.Log = "System"
	if err := WriteText(&buf, 0, &r, DefaultCatalog(), time.UTC); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for _, name := range []string{"Event ID", "Source", "Type", "Category", "Description"} {
		want := name + ": " + fields[name]
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf("text format lacks the line %q:\n%s", want, buf.String())
		}
	}
}

func TestExpand(t *testing.T) {
	cases := []struct{ text, want string }{
		{"%1 and %2", "a and b"},
		{"%13 missing", "%13 missing"},
		{"100%% sure%n", "100% sure\n"},
		{"%1!s! spec", "a spec"},
		{"%12 two digits", "l two digits"},
		{"stop%0here", "stop"},
		{"tab%tcr%rsp%b.", "tab\tcr\rsp ."},
		{"trailing %", "trailing %"},
		{"%x unknown", "%x unknown"},
	}
	args := strings.Split("a b c d e f g h i j k l", " ")
	for _, c := range cases {
		if got := Expand(c.text, args); got != c.want {
			t.Errorf("Expand(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestRenderWithoutMessage(t *testing.T) {
	c := DefaultCatalog()
	if got := c.Render(&Event{Source: "MyScript", EventID: 5, Strings: []string{"disk is full"}}); got != "disk is full" {
		t.Fatalf("eventcreate-style event rendered %q", got)
	}
	got := c.Render(&Event{Source: "Gone", EventID: 9, Strings: []string{"a", "b"}})
	if !strings.HasPrefix(got, "The description for Event ID 9 from source Gone cannot be found.") || !strings.HasSuffix(got, "a\nb") {
		t.Fatalf("fallback text %q", got)
	}
	if !c.HasSource("clussvc") || c.HasSource("MyScript") {
		t.Fatal("HasSource wrong")
	}
}

func TestCatalogHasTheClusterEvents(t *testing.T) {
	c := DefaultCatalog()
	for _, id := range []uint32{EventCheckpointRestoreFailed, EventCheckpointSaveFailed, EventCheckpointRestoreError,
		EventCheckpointRestoreForced, EventCheckpointRestoreAfterWait, EventResourceOnlineFailed, EventResourceFailed,
		EventGroupFailed, EventGroupOnline, EventGroupOffline, EventGroupMoving, EventGroupFailover, EventNodeJoined,
		EventNodeRemoved, EventQuorumLost, EventNodeEvicted} {
		m, ok := c.Lookup("ClusSvc", id)
		if !ok || m.Text == "" || !strings.Contains(m.Text, "%1") && id != EventQuorumLost {
			t.Errorf("ClusSvc %d missing or without insertion strings: %+v", id, m)
		}
	}
	if m, _ := c.Lookup("ClusSvc", EventNodeRemoved); m.Level != LevelCritical {
		t.Error("1135 is critical")
	}
	if m, _ := c.Lookup("ClusSvc", EventCheckpointRestoreForced); m.Type != TypeWarning || m.Category != 64 {
		t.Error("the forced restore is a checkpoint warning")
	}
}

// The XML is well formed, in Windows' namespace, and carries the System fields.
func TestWriteXML(t *testing.T) {
	r := Record{RecordID: 3, TimeCreated: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), Event: imcEvent}
	r.normalize(DefaultCatalog(), "N<1>")
	r.Log = "System"
	r.Strings = append(r.Strings, "bad \x01 char & <tag> 'q'")
	r.Binary = []byte{0xde, 0xad}
	var buf bytes.Buffer
	if err := WriteXML(&buf, &r, DefaultCatalog(), true); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		XMLName xml.Name `xml:"http://schemas.microsoft.com/win/2004/08/events/event Event"`
		System  struct {
			Provider struct {
				Name string `xml:"Name,attr"`
			}
			EventID struct {
				Qualifiers int `xml:"Qualifiers,attr"`
				Value      int `xml:",chardata"`
			}
			Level         int
			Task          int
			Keywords      string
			EventRecordID int
			TimeCreated   struct {
				SystemTime string `xml:"SystemTime,attr"`
			}
			Channel  string
			Computer string
		}
		EventData struct {
			Data []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			}
			Binary string
		}
		RenderingInfo struct {
			Message string
		}
	}
	if err := xml.Unmarshal(buf.Bytes(), &ev); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, buf.String())
	}
	s := ev.System
	if s.Provider.Name != "ClusSvc" || s.EventID.Value != 1024 || s.EventID.Qualifiers != 49152 || s.Level != 2 || s.Task != 64 ||
		s.EventRecordID != 3 || s.Channel != "System" || s.Computer != "N<1>" || s.Keywords != "0x80000000000000" ||
		s.TimeCreated.SystemTime != "2026-01-02T03:04:05.0000060Z" {
		t.Fatalf("System: %+v", s)
	}
	d := ev.EventData.Data
	if len(d) != 4 || d[0].Value != "Microsoft Exchange Internet Mail Service" || d[2].Value != "bad  char & <tag> 'q'" ||
		d[3].Name != "Holders" || ev.EventData.Binary != "DEAD" {
		t.Fatalf("EventData: %+v", ev.EventData)
	}
	if !strings.HasPrefix(ev.RenderingInfo.Message, "The registry checkpoint for cluster resource Microsoft Exchange") {
		t.Fatalf("RenderingInfo: %+v", ev.RenderingInfo)
	}
	if !strings.HasPrefix(buf.String(), `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`) {
		t.Fatalf("root element: %s", buf.String()[:80])
	}
}
