package eventlog

import (
	"errors"
	"testing"
	"time"
)

func TestParseQueryErrorsSayWhere(t *testing.T) {
	cases := []struct {
		q   string
		pos int // 0-based
	}{
		{"*[System[(EventID=1024)]", 24},
		{"*[System[(EventID=)]]", 18},
		{"*[System[Foo=1]]", 9},
		{"*[System[Provider[@Nam='x']]]", 18},
		{"*[System[EventID=1024 and]]", 25},
		{"*[System[EventID='x']]", 17},
		{"*[System[Provider[@Name='x]]]", 24},
		{"x", 0},
		{"*[System]", 8},
		{"*[System[EventID=1] ]]", 21},
		{"*[System[Level<'a']]", 15},
		{"*[System[TimeCreated[timediff(@SystemTime) <= ]]]", 46},
		{"*[System[TimeCreated[@SystemTime >= 'yesterday']]]", 36},
		{"*[System[EventID=99999999999999999999999]]", 17},
		{"<QueryList/>", 0},
		{"*[EventData[Data[@Name=1]]]", 23},
		{"*[System[EventID=1 # ]]", 19},
	}
	for _, c := range cases {
		_, err := ParseQuery(c.q)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("ParseQuery(%q) = %v, want a QueryError", c.q, err)
			continue
		}
		if qe.Pos != c.pos {
			t.Errorf("ParseQuery(%q): position %d (%s), want %d", c.q, qe.Pos, qe.Msg, c.pos)
		}
		if qe.ErrorCode() != 15001 {
			t.Errorf("code %d", qe.ErrorCode())
		}
	}
}

func TestParseQueryAcceptsWhatEventViewerWrites(t *testing.T) {
	r := Record{RecordID: 12, TimeCreated: time.Now().Add(-time.Minute), Event: imcEvent}
	r.normalize(DefaultCatalog(), "N1")
	r.Log = "System"
	cases := []struct {
		q     string
		match bool
	}{
		{"", true},
		{"*", true},
		{"*[System[(EventID=1024)]]", true},
		{"*[System[Provider[@Name='ClusSvc']]]", true},
		{"*[System[Provider[@Name=\"clussvc\"]]]", true},
		{"*[System[(Level=2)]]", true},
		{"*[System[(Level=1  or Level=2 or Level=3)]]", true},
		{"*[System[Provider[@Name='ClusSvc'] and (EventID=1024 or EventID=1069)]]", true},
		{"*[System[(EventID=1069)]]", false},
		{"*[System[EventRecordID > 11 and EventRecordID <= 12]]", true},
		{"*[System[EventRecordID != 12]]", false},
		{"*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]", true},
		{"*[System[TimeCreated[timediff(@SystemTime) <= 1000]]]", false},
		{"*[System[TimeCreated[@SystemTime>='2000-01-01T00:00:00.000Z']]]", true},
		{"*[System[Task = 64 and Qualifiers=49152]]", true},
		{"*[System[band(Keywords,36028797018963968)]]", true},
		{"*[System[Execution[@ProcessID=4242]]]", true},
		{"*[EventData[Data[@Name='Holders']]]", true},
		{"*[EventData[Data[@Name='Other']]]", false},
		{"*[EventData[Data='Microsoft Exchange Internet Mail Service']]", true},
		{"*[System[EventID=1024] and EventData[Data[@Name='holders']!='x']]", true},
		{"*[System[not(EventID=1024)]]", false},
		{"Event[System[Computer='n1']]", true},
		{"*[System[((((EventID=1024))))]]", true},
	}
	for _, c := range cases {
		q, err := ParseQuery(c.q)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", c.q, err)
			continue
		}
		if got := q.Match(&r, time.Now()); got != c.match {
			t.Errorf("%q matched %v, want %v", c.q, got, c.match)
		}
	}
}

func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"*[System[(EventID=1024)]]",
		"*[System[Provider[@Name='ClusSvc']]]",
		"*[System[(Level=2 or Level=3) and EventRecordID>=5]]",
		"*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]",
		"*[EventData[Data[@Name='Holders']='x']]",
		"*[System[not(band(Keywords,0x10))]]",
		"Event[System[Computer='a']]",
		"*[System[(EventID=",
	} {
		f.Add(s)
	}
	r := Record{RecordID: 5, TimeCreated: time.Now(), Event: imcEvent}
	r.normalize(DefaultCatalog(), "N1")
	x := newIndex("System")
	for i := range 20 {
		x.add(recMeta{id: uint64(i + 1), eventID: uint32(1020 + i%5), level: Level(i % 5), provider: x.provider([]byte("ClusSvc"))})
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Pos < 0 || qe.Pos > len(s) {
				t.Fatalf("bad error for %q: %v", s, err)
			}
			return
		}
		q.Match(&r, time.Now())
		if q.root != nil {
			c := q.root.candidates(x)
			c.size(x)
			for i := range x.recs {
				q.root.evalMeta(&x.recs[i], x, time.Now().UnixNano())
			}
		}
	})
}

func TestStructuredQuery(t *testing.T) {
	ql := `<QueryList>
  <Query Id="0" Path="System">
    <Select Path="System">*[System[(Level=1 or Level=2 or Level=3)]]</Select>
    <Suppress Path="System">*[System[(EventID=1069)]]</Suppress>
    <Select Path="Application">*</Select>
  </Query>
  <Query Id="1"><Select Path="System">*[System[TimeCreated[timediff(@SystemTime) &lt;= 1000]]]</Select></Query>
</QueryList>`
	logs, err := StructuredQueryLogs(ql)
	if err != nil || len(logs) != 2 || logs[0] != "System" || logs[1] != "Application" {
		t.Fatalf("logs %v, %v", logs, err)
	}
	now := time.Now()
	rec := func(id uint32, level Level, age time.Duration) *Record {
		return &Record{TimeCreated: now.Add(-age), Event: Event{Log: "System", EventID: id, Level: level}}
	}
	sys, err := ParseQueryFor("system", ql)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r    *Record
		want bool
	}{
		{rec(1024, LevelError, time.Hour), true},
		{rec(1069, LevelError, time.Hour), false},             // suppressed
		{rec(1, LevelInformation, time.Hour), false},          // not selected
		{rec(1, LevelInformation, 10*time.Millisecond), true}, // the second Query
		{rec(1069, LevelError, 10*time.Millisecond), false},   // suppression wins
	} {
		if got := sys.Match(c.r, now); got != c.want {
			t.Errorf("System %d level %d: %v, want %v", c.r.EventID, c.r.Level, got, c.want)
		}
	}
	app, _ := ParseQueryFor("Application", ql)
	if !app.Match(rec(5, LevelInformation, time.Hour), now) {
		t.Error("Application * selects everything")
	}
	other, _ := ParseQueryFor("Setup", ql)
	if other.Match(rec(5, LevelError, time.Hour), now) {
		t.Error("a log the QueryList does not name selects nothing")
	}
	for _, bad := range []string{"<QueryList>", "<QueryList></QueryList>", `<QueryList><Query><Select Path="System">*[Foo]</Select></Query></QueryList>`} {
		if _, err := ParseQueryFor("System", bad); err == nil {
			t.Errorf("ParseQueryFor(%q) accepted it", bad)
		}
	}
}
