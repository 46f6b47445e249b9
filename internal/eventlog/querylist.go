package eventlog

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
)

// A structured query is the XML that Event Viewer's filter dialog shows on its XML tab
// (and wevtutil qe /sq:true reads): Select elements add the records their XPath
// selects in their log (Path), Suppress elements take records away.
//
//	<QueryList>
//	  <Query Id="0" Path="System">
//	    <Select Path="System">*[System[(Level=1 or Level=2)]]</Select>
//	    <Suppress Path="System">*[System[(EventID=1069)]]</Suppress>
//	  </Query>
//	</QueryList>
//
// A Select or Suppress without Path uses its Query's.
type queryListXML struct {
	XMLName xml.Name `xml:"QueryList"`
	Queries []struct {
		Path     string `xml:"Path,attr"`
		Select   []pathQuery
		Suppress []pathQuery
	} `xml:"Query"`
}

type pathQuery struct {
	Path string `xml:"Path,attr"`
	Text string `xml:",chardata"`
}

// IsStructuredQuery reports whether q is a QueryList rather than an XPath query.
func IsStructuredQuery(q string) bool {
	return strings.HasPrefix(strings.TrimSpace(q), "<")
}

// ParseQueryFor parses q for log: an XPath query as ParseQuery does, or a QueryList,
// of which it keeps what concerns log (a log the QueryList does not name selects
// nothing).
func ParseQueryFor(log, q string) (*Query, error) {
	if !IsStructuredQuery(q) {
		return ParseQuery(q)
	}
	ql, err := parseQueryList(q)
	if err != nil {
		return nil, err
	}
	var sel, sup []*qnode
	for _, qu := range ql.Queries {
		for i, set := range [][]pathQuery{qu.Select, qu.Suppress} {
			for _, pq := range set {
				path := pq.Path
				if path == "" {
					path = qu.Path
				}
				if !strings.EqualFold(path, log) {
					continue
				}
				p, err := ParseQuery(strings.TrimSpace(pq.Text))
				if err != nil {
					return nil, err
				}
				root := p.root
				if root == nil {
					root = &qnode{kind: nTrue}
				}
				if i == 0 {
					sel = append(sel, root)
				} else {
					sup = append(sup, root)
				}
			}
		}
	}
	var root *qnode
	switch len(sel) {
	case 0:
		root = &qnode{kind: nNot, kids: []*qnode{{kind: nTrue}}}
	case 1:
		root = sel[0]
	default:
		root = &qnode{kind: nOr, kids: sel}
	}
	if len(sup) > 0 {
		not := &qnode{kind: nNot, kids: []*qnode{{kind: nOr, kids: sup}}}
		root = &qnode{kind: nAnd, kids: []*qnode{root, not}}
	}
	return &Query{Text: q, root: root}, nil
}

// StructuredQueryLogs returns the logs a QueryList reads, in the order it names them.
func StructuredQueryLogs(q string) ([]string, error) {
	ql, err := parseQueryList(q)
	if err != nil {
		return nil, err
	}
	var logs []string
	add := func(p string) {
		if p != "" && !slices.ContainsFunc(logs, func(l string) bool { return strings.EqualFold(l, p) }) {
			logs = append(logs, p)
		}
	}
	for _, qu := range ql.Queries {
		add(qu.Path)
		for _, pq := range qu.Select {
			add(pq.Path)
		}
	}
	return logs, nil
}

func parseQueryList(q string) (*queryListXML, error) {
	var ql queryListXML
	d := xml.NewDecoder(strings.NewReader(q))
	if err := d.Decode(&ql); err != nil {
		return nil, &QueryError{Query: q, Pos: int(d.InputOffset()), Msg: fmt.Sprintf("bad QueryList XML: %v", err)}
	}
	if len(ql.Queries) == 0 {
		return nil, &QueryError{Query: q, Msg: "QueryList has no Query"}
	}
	return &ql, nil
}
