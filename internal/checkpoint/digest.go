package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"
	"strings"

	"wolfpack/internal/hive"
)

// ContentDigest returns a digest of what a hive holds: every key's name (the root's
// excepted: it is the saved key's own name), class, link flag and security descriptor,
// every value's name, type and data, in a fixed order. Timestamps and the file's layout
// are left out, so that saving a subtree that was just restored, or saving it twice,
// gives the same digest although the bytes differ (a restore keeps each descriptor byte
// for byte); a change of descriptor alone is a change, so that it is captured and
// carried to the next node. Bytes that are not a hive get the SHA-256 of the bytes.
func ContentDigest(data []byte) string {
	h := sha256.New()
	hv, err := hive.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil || hv.Root == nil {
		h.Write([]byte("raw\x00"))
		h.Write(data)
		return hex.EncodeToString(h.Sum(nil))
	}
	h.Write([]byte("hive\x00"))
	digestKey(h, hv.Root, true)
	return hex.EncodeToString(h.Sum(nil))
}

func digestKey(h hash.Hash, k *hive.Key, root bool) {
	if !root {
		writeField(h, []byte(k.Name))
	}
	writeField(h, []byte(k.Class))
	writeField(h, k.Security)
	var n [8]byte
	binary.LittleEndian.PutUint16(n[:], k.Flags&hive.KEY_SYM_LINK)
	binary.LittleEndian.PutUint32(n[2:], uint32(len(k.Values)))
	binary.LittleEndian.PutUint16(n[6:], 0)
	h.Write(n[:])
	vals := slices.Clone(k.Values)
	slices.SortFunc(vals, func(a, b hive.Value) int { return strings.Compare(strings.ToUpper(a.Name), strings.ToUpper(b.Name)) })
	for _, v := range vals {
		writeField(h, []byte(v.Name))
		binary.LittleEndian.PutUint32(n[:4], v.Type)
		h.Write(n[:4])
		writeField(h, v.Data)
	}
	subs := slices.Clone(k.Subkeys)
	slices.SortFunc(subs, func(a, b *hive.Key) int { return strings.Compare(strings.ToUpper(a.Name), strings.ToUpper(b.Name)) })
	binary.LittleEndian.PutUint64(n[:], uint64(len(subs)))
	h.Write(n[:])
	for _, c := range subs {
		digestKey(h, c, false)
	}
}

// writeField writes a length-prefixed field, so that no two contents hash alike by
// shifting bytes between fields.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
