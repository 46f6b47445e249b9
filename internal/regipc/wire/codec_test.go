package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRequestRoundTrip(t *testing.T) {
	reqs := []Request{
		{Op: OpPing, ID: 1, Data: []byte("hello")},
		{Op: OpOpenKey, ID: 2, Handle: 0x80000002, Flags: 8, Access: 0xf003f, Name: `SYSTEM\CurrentControlSet`},
		{Op: OpCreateKey, ID: 0xffffffff, Handle: 7, Name: "Sub", Class: "cls", Flags: 1, Access: 0x20019},
		{Op: OpSetValue, ID: 3, Handle: 9, Name: "Größe", Flags: 4, Data: []byte{1, 0, 0, 0}},
		{Op: OpUnload, ID: 4, Handle: 0x80000003, Name: ""},
	}
	for _, req := range reqs {
		frame := AppendRequest(nil, &req)
		body, err := ReadFrame(bytes.NewReader(frame), nil)
		if err != nil {
			t.Fatalf("%v: ReadFrame: %v", req.Op, err)
		}
		got, err := DecodeRequest(body)
		if err != nil {
			t.Fatalf("%v: DecodeRequest: %v", req.Op, err)
		}
		if len(got.Data) == 0 {
			got.Data = nil
		}
		if !reflect.DeepEqual(got, req) {
			t.Errorf("round trip of %v:\n got %+v\nwant %+v", req.Op, got, req)
		}
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	good := AppendRequest(nil, &Request{Op: OpQueryValue, ID: 42, Handle: 5, Name: "v"})[4:]
	badUTF8 := AppendRequest(nil, &Request{Op: OpQueryValue, ID: 43, Name: "ab"})[4:]
	badUTF8 = bytes.Replace(badUTF8, []byte("ab"), []byte{0xff, 0xfe}, 1)
	unknown := bytes.Clone(good)
	unknown[0] = 99
	zero := bytes.Clone(good)
	zero[0] = 0
	tests := []struct {
		name   string
		body   []byte
		id     uint32
		msg    string
		offset int
	}{
		{"empty", nil, 0, "truncated u8", 0},
		{"short header", good[:10], 42, "truncated u64", 5},
		{"truncated name", good[:len(good)-9], 42, "truncated bytes field", 25},
		{"trailing", append(bytes.Clone(good), 0), 42, "1 trailing bytes", len(good)},
		{"bad utf8", badUTF8, 43, "invalid UTF-8", 25},
		{"unknown op", unknown, 42, "unknown op 99", 0},
		{"op zero", zero, 42, "unknown op 0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeRequest(tt.body)
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FrameError", err)
			}
			if !strings.Contains(fe.Msg, tt.msg) || fe.Off != tt.offset {
				t.Errorf("err = %q at %d, want %q at %d", fe.Msg, fe.Off, tt.msg, tt.offset)
			}
			if req.ID != tt.id {
				t.Errorf("id = %d, want %d (the id is answered even for a bad frame)", req.ID, tt.id)
			}
		})
	}
}

func TestReadFrame(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		_, err := ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0x7f}), nil)
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("err = %v, want ErrFrameTooLarge", err)
		}
	})
	t.Run("lying length", func(t *testing.T) {
		// 100 MiB announced, 10 bytes sent: an error, and no 100 MiB buffer.
		in := append([]byte{0, 0, 0x40, 0x06}, make([]byte, 10)...)
		buf, err := ReadFrame(bytes.NewReader(in), nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want ErrUnexpectedEOF", err)
		}
		if cap(buf) > 2<<20 {
			t.Errorf("buffer grew to %d bytes for 10 bytes of data", cap(buf))
		}
	})
	t.Run("large frame in steps", func(t *testing.T) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 300000) // 4.8 MB
		frame := AppendRequest(nil, &Request{Op: OpRestore, ID: 1, Data: data})
		body, err := ReadFrame(bytes.NewReader(frame), make([]byte, 0, 64))
		if err != nil {
			t.Fatal(err)
		}
		req, err := DecodeRequest(body)
		if err != nil || !bytes.Equal(req.Data, data) {
			t.Fatalf("large frame did not survive: %v", err)
		}
	})
	t.Run("buffer reused", func(t *testing.T) {
		frame := AppendRequest(nil, &Request{Op: OpPing, ID: 1})
		buf := make([]byte, 0, 128)
		body, err := ReadFrame(bytes.NewReader(frame), buf)
		if err != nil || &body[0] != &buf[:1][0] {
			t.Fatalf("buffer not reused (err %v)", err)
		}
	})
	t.Run("eof", func(t *testing.T) {
		if _, err := ReadFrame(bytes.NewReader(nil), nil); err != io.EOF {
			t.Fatalf("err = %v, want io.EOF between frames", err)
		}
		if _, err := ReadFrame(bytes.NewReader([]byte{1, 0}), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want ErrUnexpectedEOF inside a frame", err)
		}
		// The same through a bufio.Reader, which takes the peeking path.
		if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(nil)), nil); err != io.EOF {
			t.Fatalf("bufio: err = %v, want io.EOF between frames", err)
		}
		if _, err := ReadFrame(bufio.NewReader(bytes.NewReader([]byte{1, 0})), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("bufio: err = %v, want ErrUnexpectedEOF inside a header", err)
		}
		if _, err := ReadFrame(bufio.NewReader(bytes.NewReader([]byte{4, 0, 0, 0, 1})), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("bufio: err = %v, want ErrUnexpectedEOF inside a body", err)
		}
		frame := AppendRequest(nil, &Request{Op: OpPing, ID: 3})
		if body, err := ReadFrame(bufio.NewReader(bytes.NewReader(frame)), nil); err != nil || len(body) != len(frame)-4 {
			t.Fatalf("bufio: %d bytes, %v", len(body), err)
		}
	})
}

func TestReplyPayloads(t *testing.T) {
	when := time.Date(2026, 11, 24, 7, 0, 0, 123, time.UTC)
	hi := HandleInfo{ID: 17, PID: 4242, UID: 1000, Exe: "winlogon", OpenedAs: `HKLM\System\ControlSet001\Services\X`,
		Resolved: `HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\X`, Access: 0x20019, Opened: when}
	b, start := BeginReply(nil, KindReply, 9, 0)
	b = AppendStrings(b, []string{"a", "Bé", ""})
	b = AppendU32(b, 2)
	b = AppendValue(b, Value{Name: "", Type: 1, Data: []byte{'x', 0, 0, 0}})
	b = AppendValue(b, Value{Name: "n", Type: 3})
	b = AppendKeyInfo(b, KeyInfo{SubKeys: 3, MaxSubKeyLen: 4, Values: 5, MaxValueNameLen: 6, MaxValueLen: 7, Class: "c", LastWrite: when, Attrs: AttrLink})
	b = AppendU32(b, 1)
	b = AppendHandleInfo(b, hi)
	b = AppendChange(b, Change{Key: `HKEY_LOCAL_MACHINE\SOFTWARE`, Filter: 4})
	b = AppendChange(b, Change{Key: `HKEY_LOCAL_MACHINE\SOFTWARE`, Filter: 4, Value: "Port", HasValue: true})
	b = AppendError(b, "denied", []HandleInfo{hi})
	b = EndFrame(b, start)

	body, err := ReadFrame(bytes.NewReader(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeReply(body)
	if err != nil || r.Kind != KindReply || r.ID != 9 || r.Status != 0 {
		t.Fatalf("header %+v, %v", r, err)
	}
	d := NewDecoder(r.Payload)
	if got := d.Strings(); !reflect.DeepEqual(got, []string{"a", "Bé", ""}) {
		t.Errorf("strings %q", got)
	}
	if got := d.Values(); !reflect.DeepEqual(got, []Value{{Name: "", Type: 1, Data: []byte{'x', 0, 0, 0}}, {Name: "n", Type: 3}}) {
		t.Errorf("values %+v", got)
	}
	if got := d.KeyInfo(); got != (KeyInfo{3, 4, 5, 6, 7, "c", when, AttrLink}) {
		t.Errorf("key info %+v", got)
	}
	if got := d.HandleInfos(); !reflect.DeepEqual(got, []HandleInfo{hi}) {
		t.Errorf("handles %+v", got)
	}
	if got := d.Change(); got != (Change{Key: `HKEY_LOCAL_MACHINE\SOFTWARE`, Filter: 4}) {
		t.Errorf("change %+v", got)
	}
	if got := d.Change(); got != (Change{Key: `HKEY_LOCAL_MACHINE\SOFTWARE`, Filter: 4, Value: "Port", HasValue: true}) {
		t.Errorf("change of a value %+v", got)
	}
	if got := d.ErrorPayload(); got.Message != "denied" || !reflect.DeepEqual(got.Holders, []HandleInfo{hi}) {
		t.Errorf("error payload %+v", got)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

func TestHostileCount(t *testing.T) {
	// A count of 2^32-1 handle records in a 12-byte payload is refused before allocating.
	d := NewDecoder([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
	if got := d.HandleInfos(); len(got) != 0 || d.Err() == nil {
		t.Fatalf("got %d records, err %v", len(got), d.Err())
	}
}

func TestDecodeReplyErrors(t *testing.T) {
	if _, err := DecodeReply([]byte{0, 1}); err == nil {
		t.Error("short reply accepted")
	}
	if _, err := DecodeReply([]byte{7, 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("unknown kind accepted")
	}
}

// FuzzDecode feeds arbitrary frame bodies to the request decoder and the reply payload
// decoders: none may panic, and a request that decodes re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(AppendRequest(nil, &Request{Op: OpOpenKey, ID: 1, Handle: 0x80000002, Name: `SOFTWARE\X`})[4:])
	f.Add(AppendRequest(nil, &Request{Op: OpSetValue, ID: 2, Handle: 3, Name: "v", Flags: 4, Data: []byte{1, 2, 3, 4}})[4:])
	f.Add(AppendRequest(nil, &Request{Op: OpGetSecurity, ID: 3, Handle: 0x104, Flags: 7})[4:])
	f.Add(AppendRequest(nil, &Request{Op: OpSetSecurity, ID: 4, Handle: 0x104, Flags: 4,
		Data: []byte{1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0}})[4:])
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err == nil {
			again := AppendRequest(nil, &req)
			if !bytes.Equal(again[4:], body) {
				t.Fatalf("re-encoding differs:\n in %x\nout %x", body, again[4:])
			}
		}
		if r, err := DecodeReply(body); err == nil {
			d := NewDecoder(r.Payload)
			d.Strings()
			d.Values()
			d.KeyInfo()
			d.HandleInfos()
			d.Change()
			d.ErrorPayload()
			_ = d.End()
		}
		_, _ = ReadFrame(bytes.NewReader(body), nil)
	})
}
