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
