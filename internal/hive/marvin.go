package hive

import (
	"encoding/binary"
	"math/bits"
)

// marvinSeed is the seed Windows uses for the hashes of new-format log entries:
// the spec's bytes 82 EF 4D 88 7A 4E 55 C5 taken as one number, so its low half
// 0x7A4E55C5 starts the hash (checked against logs written by Windows 10).
const marvinSeed = 0x82EF4D887A4E55C5

// marvin32 is Microsoft's Marvin32 hash of data with the given seed.
func marvin32(data []byte, seed uint64) uint64 {
	lo, hi := uint32(seed), uint32(seed>>32)
	block := func() {
		hi ^= lo
		lo = bits.RotateLeft32(lo, 20)
		lo += hi
		hi = bits.RotateLeft32(hi, 9)
		hi ^= lo
		lo = bits.RotateLeft32(lo, 27)
		lo += hi
		hi = bits.RotateLeft32(hi, 19)
	}
	for len(data) >= 4 {
		lo += binary.LittleEndian.Uint32(data)
		block()
		data = data[4:]
	}
	// The last 0–3 bytes, padded with 0x80 then zeros.
	final := uint32(0x80)
	switch len(data) {
	case 1:
		final = 0x8000 | uint32(data[0])
	case 2:
		final = 0x800000 | uint32(binary.LittleEndian.Uint16(data))
	case 3:
		final = 0x80000000 | uint32(binary.LittleEndian.Uint16(data)) | uint32(data[2])<<16
	}
	lo += final
	block()
	block()
	return uint64(hi)<<32 | uint64(lo)
}
