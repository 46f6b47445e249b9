package eventlog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Query is a parsed event query: the XPath 1.0 subset that Event Viewer's filter dialog
// writes and wevtutil's /q: accepts.
//
//	query    = ( "*" | "Event" ) [ "[" expr "]" ] | ""
//	expr     = and { "or" and }
//	and      = unary { "and" unary }
//	unary    = "not" "(" expr ")" | "(" expr ")" | step
//
// Steps, by the element they are written in:
//
//	Event:      System[expr]  EventData[expr]
//	System:     Provider[@Name='ClusSvc']  EventID=1024  Level=2  Task=64  Keywords=N
//	            band(Keywords, N)  EventRecordID>=10  Computer='N1'  Channel='System'
//	            TimeCreated[timediff(@SystemTime) <= 86400000]
//	            TimeCreated[@SystemTime >= '2026-01-01T00:00:00Z']
//	            Execution[@ProcessID=4]  Execution[@ThreadID=8]  Security[@UserID='root']
//	EventData:  Data='text' (any item or insertion string)  Data[@Name='Holders']='…'
//	            Data[@Name='Holders'] (the item exists)
//
// Comparisons are = != < <= > >= on numbers; = and != on strings (source, computer and
// channel names compare case-insensitively, as Windows' do).
type Query struct {
	Text string
	root *qnode
}

// ParseQuery parses q. An empty q and "*" select every record.
func ParseQuery(q string) (*Query, error) {
	p := &parser{src: q}
	p.next()
	if p.tok.kind == tEOF {
		return &Query{Text: q}, nil
	}
	if !(p.tok.kind == tStar || p.tok.kind == tName && p.tok.text == "Event") {
		if p.tok.kind == tLT {
			return nil, p.errf("a structured (QueryList) query is not an XPath query; give it as a structured query (wevtutil /sq:true)")
		}
		return nil, p.errf("expected '*' or 'Event'")
	}
	p.next()
	var root *qnode
	if p.tok.kind == tLBrack {
		p.next()
		root = p.expr(ctxEvent)
		p.expect(tRBrack, "']'")
	}
	if p.err == nil && p.tok.kind != tEOF {
		p.errf("unexpected %s", p.tok.describe())
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Query{Text: q, root: root}, nil
}

// After returns q restricted to records numbered above id (a bookmark); id 0 is q.
func (q *Query) After(id uint64) *Query {
	if id == 0 {
		return q
	}
	after := &qnode{kind: nCond, c: cond{f: fRecordID, op: tGT, num: id}}
	if q == nil || q.root == nil {
		return &Query{Text: q.String(), root: after}
	}
	return &Query{Text: q.Text, root: &qnode{kind: nAnd, kids: []*qnode{q.root, after}}}
}

// String returns the query as written.
func (q *Query) String() string {
	if q == nil {
		return "*"
	}
	return q.Text
}

// Match reports whether r is selected, with timediff measured from now.
func (q *Query) Match(r *Record, now time.Time) bool {
	if q == nil || q.root == nil {
		return true
	}
	return q.root.evalRecord(r, now.UnixNano())
}

type elemCtx int

const (
	ctxEvent elemCtx = iota
	ctxSystem
	ctxEventData
	ctxProvider
	ctxTimeCreated
	ctxExecution
	ctxSecurity
)

var ctxNames = [...]string{"Event", "System", "EventData", "Provider", "TimeCreated", "Execution", "Security"}

type tokKind int

const (
	tEOF tokKind = iota
	tStar
	tLBrack
	tRBrack
	tLParen
	tRParen
	tAt
	tComma
	tEQ
	tNE
	tLT
	tLE
	tGT
	tGE
	tName
	tNumber
	tString
	tBad
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tName:
		return fmt.Sprintf("name %q", t.text)
	case tNumber:
		return "number " + t.text
	case tString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("'%s'", t.text)
}

type parser struct {
	src string
	off int
	tok token
	err *QueryError
}

func (p *parser) errf(format string, args ...any) *QueryError {
	if p.err == nil {
		p.err = &QueryError{Query: p.src, Pos: p.tok.pos, Msg: fmt.Sprintf(format, args...)}
	}
	return p.err
}

func (p *parser) errAt(pos int, format string, args ...any) {
	if p.err == nil {
		p.err = &QueryError{Query: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '-', c == '.', c == ':':
		return !first
	}
	return c >= 0x80
}

func (p *parser) next() {
	if p.err != nil {
		p.tok = token{kind: tEOF, pos: len(p.src)}
		return
	}
	s := p.src
	for p.off < len(s) && (s[p.off] == ' ' || s[p.off] == '\t' || s[p.off] == '\n' || s[p.off] == '\r') {
		p.off++
	}
	start := p.off
	if p.off >= len(s) {
		p.tok = token{kind: tEOF, pos: start}
		return
	}
	one := func(k tokKind) {
		p.off++
		p.tok = token{kind: k, text: s[start:p.off], pos: start}
	}
	switch c := s[p.off]; {
	case c == '*':
		one(tStar)
	case c == '[':
		one(tLBrack)
	case c == ']':
		one(tRBrack)
	case c == '(':
		one(tLParen)
	case c == ')':
		one(tRParen)
	case c == '@':
		one(tAt)
	case c == ',':
		one(tComma)
	case c == '=':
		one(tEQ)
	case c == '!':
		if strings.HasPrefix(s[p.off:], "!=") {
			p.off++
			one(tNE)
		} else {
			one(tBad)
		}
	case c == '<' || c == '>':
		k := tLT
		if c == '>' {
			k = tGT
		}
		if p.off+1 < len(s) && s[p.off+1] == '=' {
			p.off++
			k++ // tLE / tGE follow tLT / tGT
		}
		one(k)
	case c == '\'' || c == '"':
		end := strings.IndexByte(s[p.off+1:], c)
		if end < 0 {
			p.tok = token{kind: tBad, text: s[start:], pos: start}
			p.errf("string not terminated")
			return
		}
		p.off += end + 2
		p.tok = token{kind: tString, text: s[start+1 : p.off-1], pos: start}
	case c >= '0' && c <= '9':
		for p.off < len(s) && isNameByte(s[p.off], false) {
			p.off++
		}
		p.tok = token{kind: tNumber, text: s[start:p.off], pos: start}
	case isNameByte(c, true):
		for p.off < len(s) && isNameByte(s[p.off], false) {
			p.off++
		}
		p.tok = token{kind: tName, text: s[start:p.off], pos: start}
	default:
		one(tBad)
	}
}

func (p *parser) expect(k tokKind, what string) bool {
	if p.err != nil {
		return false
	}
	if p.tok.kind != k {
		p.errf("expected %s, found %s", what, p.tok.describe())
		return false
	}
	p.next()
	return true
}

// Depth bounds nesting so that a hostile query cannot exhaust the stack.
const maxQueryDepth = 64

func (p *parser) expr(c elemCtx) *qnode {
	return p.exprDepth(c, 0)
}

func (p *parser) exprDepth(c elemCtx, depth int) *qnode {
	if depth > maxQueryDepth {
		p.errf("query nested too deeply")
		return nil
	}
	n := p.and(c, depth)
	for p.err == nil && p.tok.kind == tName && p.tok.text == "or" {
		p.next()
		r := p.and(c, depth)
		n = &qnode{kind: nOr, kids: []*qnode{n, r}}
	}
	return n
}

func (p *parser) and(c elemCtx, depth int) *qnode {
	n := p.unary(c, depth)
	for p.err == nil && p.tok.kind == tName && p.tok.text == "and" {
		p.next()
		r := p.unary(c, depth)
		n = &qnode{kind: nAnd, kids: []*qnode{n, r}}
	}
	return n
}

func (p *parser) unary(c elemCtx, depth int) *qnode {
	if p.err != nil {
		return nil
	}
	switch {
	case p.tok.kind == tLParen:
		p.next()
		n := p.exprDepth(c, depth+1)
		p.expect(tRParen, "')'")
		return n
	case p.tok.kind == tName && p.tok.text == "not":
		p.next()
		if !p.expect(tLParen, "'(' after not") {
			return nil
		}
		n := p.exprDepth(c, depth+1)
		p.expect(tRParen, "')'")
		return &qnode{kind: nNot, kids: []*qnode{n}}
	}
	return p.step(c, depth)
}

// step parses one element test, attribute test or function in context c.
func (p *parser) step(c elemCtx, depth int) *qnode {
	t := p.tok
	switch t.kind {
	case tAt:
		p.next()
		if p.tok.kind != tName {
			p.errf("expected an attribute name after '@'")
			return nil
		}
		name := p.tok.text
		p.next()
		return p.attribute(c, name, t)
	case tName:
	default:
		p.errf("expected an element name, found %s", t.describe())
		return nil
	}
	name := t.text
	p.next()
	switch c {
	case ctxEvent:
		switch name {
		case "System":
			return p.predicate(ctxSystem, depth, true)
		case "EventData":
			return p.predicate(ctxEventData, depth, true)
		}
	case ctxSystem:
		switch name {
		case "Provider":
			return p.predicate(ctxProvider, depth, false)
		case "TimeCreated":
			return p.predicate(ctxTimeCreated, depth, false)
		case "Execution":
			return p.predicate(ctxExecution, depth, false)
		case "Security":
			return p.predicate(ctxSecurity, depth, false)
		case "EventID":
			return p.compare(fEventID, t)
		case "Level":
			return p.compare(fLevel, t)
		case "Task":
			return p.compare(fTask, t)
		case "Keywords":
			return p.compare(fKeywords, t)
		case "EventRecordID":
			return p.compare(fRecordID, t)
		case "Qualifiers":
			return p.compare(fQualifiers, t)
		case "Computer":
			return p.compare(fComputer, t)
		case "Channel":
			return p.compare(fChannel, t)
		case "band":
			return p.band(t)
		}
	case ctxTimeCreated:
		if name == "timediff" {
			if !p.expect(tLParen, "'('") || !p.expect(tAt, "'@SystemTime'") {
				return nil
			}
			if p.tok.kind != tName || p.tok.text != "SystemTime" {
				p.errf("timediff takes @SystemTime")
				return nil
			}
			p.next()
			if !p.expect(tRParen, "')'") {
				return nil
			}
			return p.compare(fTimeDiff, t)
		}
	case ctxEventData:
		if name == "Data" {
			return p.data(t)
		}
	}
	p.errAt(t.pos, "unknown element %q in %s", name, ctxNames[c])
	return nil
}

// predicate parses "[expr]" after an element; without one the element test is true
// (it is always present) unless required.
func (p *parser) predicate(c elemCtx, depth int, required bool) *qnode {
	if p.tok.kind != tLBrack {
		if required {
			p.errf("expected '[' after %s", ctxNames[c])
			return nil
		}
		return &qnode{kind: nTrue}
	}
	p.next()
	n := p.exprDepth(c, depth+1)
	p.expect(tRBrack, "']'")
	return n
}

func (p *parser) attribute(c elemCtx, name string, at token) *qnode {
	var f field
	switch {
	case c == ctxProvider && name == "Name":
		f = fProvider
	case c == ctxTimeCreated && name == "SystemTime":
		f = fTime
	case c == ctxExecution && name == "ProcessID":
		f = fPID
	case c == ctxExecution && name == "ThreadID":
		f = fTID
	case c == ctxSecurity && name == "UserID":
		f = fUser
	default:
		p.errAt(at.pos, "unknown attribute @%s in %s", name, ctxNames[c])
		return nil
	}
	return p.compare(f, at)
}

func (p *parser) band(t token) *qnode {
	if !p.expect(tLParen, "'('") {
		return nil
	}
	if p.tok.kind != tName || p.tok.text != "Keywords" {
		p.errf("band takes Keywords and a number")
		return nil
	}
	p.next()
	if !p.expect(tComma, "','") {
		return nil
	}
	v, ok := p.number()
	if !ok {
		return nil
	}
	if !p.expect(tRParen, "')'") {
		return nil
	}
	return &qnode{kind: nCond, c: cond{f: fKeywordsBand, op: tNE, num: v}}
}

// data parses Data, Data='v', Data[@Name='n'] and Data[@Name='n']='v'.
func (p *parser) data(t token) *qnode {
	c := cond{f: fDataAny}
	if p.tok.kind == tLBrack {
		p.next()
		if !p.expect(tAt, "'@Name'") {
			return nil
		}
		if p.tok.kind != tName || p.tok.text != "Name" {
			p.errf("Data takes [@Name='…']")
			return nil
		}
		p.next()
		if !p.expect(tEQ, "'='") {
			return nil
		}
		if p.tok.kind != tString {
			p.errf("expected a quoted data item name, found %s", p.tok.describe())
			return nil
		}
		c.name = p.tok.text
		c.f = fDataNamed
		p.next()
		if !p.expect(tRBrack, "']'") {
			return nil
		}
	}
	if !isCompare(p.tok.kind) {
		if c.f == fDataAny {
			return &qnode{kind: nTrue}
		}
		c.op = 0 // exists
		return &qnode{kind: nCond, c: c}
	}
	c.op = p.tok.kind
	if c.op != tEQ && c.op != tNE {
		p.errf("only = and != compare strings")
		return nil
	}
	p.next()
	if p.tok.kind != tString && p.tok.kind != tNumber {
		p.errf("expected a value, found %s", p.tok.describe())
		return nil
	}
	c.str = p.tok.text
	p.next()
	return &qnode{kind: nCond, c: c}
}

func isCompare(k tokKind) bool { return k >= tEQ && k <= tGE }

// compare parses "op literal" for field f.
func (p *parser) compare(f field, at token) *qnode {
	if p.err != nil {
		return nil
	}
	if !isCompare(p.tok.kind) {
		p.errf("expected a comparison (=, !=, <, <=, >, >=) after %s, found %s", at.text, p.tok.describe())
		return nil
	}
	c := cond{f: f, op: p.tok.kind}
	p.next()
	switch f {
	case fProvider, fComputer, fChannel, fUser:
		if c.op != tEQ && c.op != tNE {
			p.errf("only = and != compare strings")
			return nil
		}
		if p.tok.kind != tString {
			p.errf("expected a quoted string, found %s", p.tok.describe())
			return nil
		}
		c.str = p.tok.text
		p.next()
	case fTime:
		if p.tok.kind != tString {
			p.errf("expected a quoted time such as '2026-01-02T15:04:05.000Z', found %s", p.tok.describe())
			return nil
		}
		tm, err := time.Parse(time.RFC3339Nano, p.tok.text)
		if err != nil {
			p.errf("bad time %q: want the form 2026-01-02T15:04:05.000Z", p.tok.text)
			return nil
		}
		c.num = uint64(tm.UnixNano())
		p.next()
	default:
		v, ok := p.number()
		if !ok {
			return nil
		}
		c.num = v
	}
	return &qnode{kind: nCond, c: c}
}

func (p *parser) number() (uint64, bool) {
	if p.tok.kind != tNumber {
		p.errf("expected a number, found %s", p.tok.describe())
		return 0, false
	}
	v, err := strconv.ParseUint(p.tok.text, 0, 64)
	if err != nil {
		p.errf("bad number %q", p.tok.text)
		return 0, false
	}
	p.next()
	return v, true
}
