package wire

import "time"

// The structured payloads of replies and pushes, with their encoders and decoders.

// Value is one entry of an EnumValues reply.
type Value struct {
	Name string
	Type uint32
	Data []byte
}

// KeyInfo is the QueryInfo reply.
type KeyInfo struct {
	SubKeys         uint32
	MaxSubKeyLen    uint32
	Values          uint32
	MaxValueNameLen uint32
	MaxValueLen     uint32
	Class           string
	LastWrite       time.Time
	Attrs           uint32 // AttrVolatile, AttrLink
}

// HandleInfo is one open handle, as Handles replies and restore failures list them.
type HandleInfo struct {
	ID       uint64
	PID      uint32
	UID      uint32
	Exe      string
	OpenedAs string // the path as the client named it
	Resolved string // the path of the key object, links followed
	Access   uint32
	Opened   time.Time
}

// Change is a pushed notification.
type Change struct {
	Key      string // resolved path of the changed key
	Filter   uint32 // REG_NOTIFY_CHANGE_* bit of the change
	Value    string // the value set or deleted, with HasValue
	HasValue bool
}

// AppendStrings appends n:u32 n×str.
func AppendStrings(b []byte, ss []string) []byte {
	b = AppendU32(b, uint32(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

// Strings decodes n:u32 n×str.
func (d *Decoder) Strings() []string {
	n := d.Count(4)
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.String())
	}
	return out
}

// AppendValue appends one EnumValues entry.
func AppendValue(b []byte, v Value) []byte {
	b = AppendString(b, v.Name)
	b = AppendU32(b, v.Type)
	return AppendBytes(b, v.Data)
}

// Values decodes n:u32 n×(name type data). Data is copied out of the frame.
func (d *Decoder) Values() []Value {
	n := d.Count(12)
	out := make([]Value, 0, n)
	for range n {
		v := Value{Name: d.String(), Type: d.U32()}
		v.Data = clone(d.Bytes())
		out = append(out, v)
	}
	return out
}

// AppendKeyInfo appends a QueryInfo payload.
func AppendKeyInfo(b []byte, k KeyInfo) []byte {
	b = AppendU32(b, k.SubKeys)
	b = AppendU32(b, k.MaxSubKeyLen)
	b = AppendU32(b, k.Values)
	b = AppendU32(b, k.MaxValueNameLen)
	b = AppendU32(b, k.MaxValueLen)
	b = AppendString(b, k.Class)
	b = AppendTime(b, k.LastWrite)
	return AppendU32(b, k.Attrs)
}

// KeyInfo decodes a QueryInfo payload.
func (d *Decoder) KeyInfo() KeyInfo {
	return KeyInfo{
		SubKeys:         d.U32(),
		MaxSubKeyLen:    d.U32(),
		Values:          d.U32(),
		MaxValueNameLen: d.U32(),
		MaxValueLen:     d.U32(),
		Class:           d.String(),
		LastWrite:       d.Time(),
		Attrs:           d.U32(),
	}
}

// AppendHandleInfo appends one HandleInfo.
func AppendHandleInfo(b []byte, h HandleInfo) []byte {
	b = AppendU64(b, h.ID)
	b = AppendU32(b, h.PID)
	b = AppendU32(b, h.UID)
	b = AppendString(b, h.Exe)
	b = AppendString(b, h.OpenedAs)
	b = AppendString(b, h.Resolved)
	b = AppendU32(b, h.Access)
	return AppendTime(b, h.Opened)
}

// HandleInfos decodes n:u32 n×HandleInfo.
func (d *Decoder) HandleInfos() []HandleInfo {
	n := d.Count(40)
	out := make([]HandleInfo, 0, n)
	for range n {
		out = append(out, HandleInfo{
			ID:       d.U64(),
			PID:      d.U32(),
			UID:      d.U32(),
			Exe:      d.String(),
			OpenedAs: d.String(),
			Resolved: d.String(),
			Access:   d.U32(),
			Opened:   d.Time(),
		})
	}
	return out
}

// AppendChange appends a change push's payload.
func AppendChange(b []byte, c Change) []byte {
	b = AppendString(b, c.Key)
	b = AppendU32(b, c.Filter)
	if !c.HasValue {
		return AppendU32(b, 0)
	}
	b = AppendU32(b, changeHasValue)
	return AppendString(b, c.Value)
}

// changeHasValue flags a change push that names the value that changed.
const changeHasValue = 1

// Change decodes a change push's payload: key:str filter:u32 flags:u32 [value:str].
func (d *Decoder) Change() Change {
	c := Change{Key: d.String(), Filter: d.U32()}
	if d.U32()&changeHasValue != 0 {
		c.Value, c.HasValue = d.String(), true
	}
	return c
}

// ErrorPayload is the payload of a failed reply.
type ErrorPayload struct {
	Message string
	Holders []HandleInfo // for a restore blocked by open handles
}

// AppendError appends a failed reply's payload.
func AppendError(b []byte, msg string, holders []HandleInfo) []byte {
	b = AppendString(b, msg)
	b = AppendU32(b, uint32(len(holders)))
	for _, h := range holders {
		b = AppendHandleInfo(b, h)
	}
	return b
}

// ErrorPayload decodes a failed reply's payload.
func (d *Decoder) ErrorPayload() ErrorPayload {
	return ErrorPayload{Message: d.String(), Holders: d.HandleInfos()}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
