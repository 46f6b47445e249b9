package hive

import (
	"encoding/binary"
	"time"
	"unicode"
)

// Sizes and limits of the format.
const (
	BaseBlockSize    = 4096  // the base block (file header) of a primary file
	HbinHeaderSize   = 32    // header of a hive bin
	HbinAlignment    = 4096  // a hive bin's size is a multiple of this
	CellAlignment    = 8     // a cell's size is a multiple of this
	BigDataSegment   = 16344 // largest data segment of a db record; larger data needs db (1.4+)
	CellOffsetNil    = 0xFFFFFFFF
	DataSizeInline   = 0x80000000 // vk data size bit: data is stored in the Data offset field
	LogSectorSize    = 512        // sector of a transaction log
	LogBaseBlockSize = 512        // the partial base block at the start of a log
)

// Base block field offsets (from the start of the file).
const (
	bbSignature         = 0
	bbPrimarySequence   = 4
	bbSecondarySequence = 8
	bbLastWritten       = 12
	bbMajorVersion      = 20
	bbMinorVersion      = 24
	bbFileType          = 28
	bbFileFormat        = 32
	bbRootCellOffset    = 36
	bbHiveBinsDataSize  = 40
	bbClusteringFactor  = 44
	bbFileName          = 48
	bbFileNameSize      = 64
	bbFlags             = 144
	bbChecksum          = 508
	bbChecksummedBytes  = 508
)

// File types of a base block.
const (
	FileTypePrimary   = 0
	FileTypeLog       = 1 // old-format transaction log (Windows XP to 7)
	FileTypeLogNT2000 = 2 // old-format transaction log of Windows 2000
	FileTypeLogNew    = 6 // new-format transaction log (Windows 8.1+)
	FileFormatDirect  = 1 // "direct memory load"
)

// Hive bin header field offsets (from the start of the hbin).
const (
	hbinSignature = 0
	hbinOffset    = 4
	hbinSize      = 8
	hbinTimestamp = 20
)

// Key node (nk) field offsets, from the start of the cell data.
const (
	nkSignature             = 0
	nkFlags                 = 2
	nkLastWritten           = 4
	nkAccessBits            = 12
	nkParent                = 16
	nkNumSubkeys            = 20
	nkNumVolatileSubkeys    = 24
	nkSubkeysList           = 28
	nkVolatileSubkeysList   = 32
	nkNumValues             = 36
	nkValuesList            = 40
	nkSecurity              = 44
	nkClassName             = 48
	nkLargestSubkeyNameLen  = 52
	nkLargestSubkeyClassLen = 56
	nkLargestValueNameLen   = 60
	nkLargestValueDataSize  = 64
	nkWorkVar               = 68
	nkKeyNameLen            = 72
	nkClassNameLen          = 74
	nkKeyName               = 76 // key name string; the fixed part ends here
)

// Key node flags.
const (
	KEY_VOLATILE       = 0x0001
	KEY_HIVE_EXIT      = 0x0002
	KEY_HIVE_ENTRY     = 0x0004 // the root key of the hive
	KEY_NO_DELETE      = 0x0008
	KEY_SYM_LINK       = 0x0010 // target in the REG_LINK value "SymbolicLinkValue"
	KEY_COMP_NAME      = 0x0020 // name is Latin-1 ("extended ASCII"), else UTF-16LE
	KEY_PREDEF_HANDLE  = 0x0040
	KEY_VIRTUAL_SOURCE = 0x0080
	KEY_VIRTUAL_TARGET = 0x0100
	KEY_VIRTUAL_STORE  = 0x0200
)

// Key value (vk) field offsets, from the start of the cell data.
const (
	vkSignature  = 0
	vkNameLen    = 2
	vkDataSize   = 4
	vkDataOffset = 8
	vkDataType   = 12
	vkFlags      = 16
	vkSpare      = 18
	vkName       = 20 // value name string; the fixed part ends here
)

// Key value flags.
const (
	VALUE_COMP_NAME = 0x0001 // name is Latin-1 ("extended ASCII"), else UTF-16LE
	VALUE_TOMBSTONE = 0x0002
)

// Key security (sk) field offsets, from the start of the cell data.
const (
	skSignature      = 0
	skFlink          = 4
	skBlink          = 8
	skReferenceCount = 12
	skDescriptorSize = 16
	skDescriptor     = 20
)

// Big data (db) field offsets, from the start of the cell data.
const (
	dbSignature    = 0
	dbNumSegments  = 2
	dbSegmentsList = 4
	dbHeaderSize   = 8
)

// Subkeys lists (li, lf, lh, ri): a signature, a count, then elements.
const (
	listSignature   = 0
	listNumElements = 2
	listElements    = 4
)

// Cell signatures, as little-endian uint16 of their two ASCII letters.
const (
	sigNK = uint16('n') | uint16('k')<<8
	sigVK = uint16('v') | uint16('k')<<8
	sigSK = uint16('s') | uint16('k')<<8
	sigDB = uint16('d') | uint16('b')<<8
	sigLI = uint16('l') | uint16('i')<<8
	sigLF = uint16('l') | uint16('f')<<8
	sigLH = uint16('l') | uint16('h')<<8
	sigRI = uint16('r') | uint16('i')<<8
)

// File signatures.
const (
	sigRegf = "regf"
	sigHbin = "hbin"
	sigDirt = "DIRT" // dirty vector of an old-format log
	sigHvLE = "HvLE" // log entry of a new-format log
)

// New-format log entry header (HvLE) field offsets.
const (
	leSignature        = 0
	leSize             = 4
	leFlags            = 8
	leSequenceNumber   = 12
	leHiveBinsDataSize = 16
	leDirtyPagesCount  = 20
	leHash1            = 24
	leHash2            = 32
	leHeaderSize       = 40
)

// BaseBlock is the decoded fixed part of a base block.
type BaseBlock struct {
	Signature               [4]byte
	PrimarySequenceNumber   uint32
	SecondarySequenceNumber uint32
	LastWrittenTimestamp    uint64 // FILETIME
	MajorVersion            uint32
	MinorVersion            uint32
	FileType                uint32
	FileFormat              uint32
	RootCellOffset          uint32 // relative to the hive bins data
	HiveBinsDataSize        uint32
	ClusteringFactor        uint32
	FileName                [bbFileNameSize]byte // UTF-16LE
	Flags                   uint32
	Checksum                uint32
}

// parseBaseBlock decodes the first 512 bytes of b (len(b) >= 512).
func parseBaseBlock(b []byte) BaseBlock {
	var bb BaseBlock
	copy(bb.Signature[:], b[bbSignature:])
	bb.PrimarySequenceNumber = le32(b, bbPrimarySequence)
	bb.SecondarySequenceNumber = le32(b, bbSecondarySequence)
	bb.LastWrittenTimestamp = binary.LittleEndian.Uint64(b[bbLastWritten:])
	bb.MajorVersion = le32(b, bbMajorVersion)
	bb.MinorVersion = le32(b, bbMinorVersion)
	bb.FileType = le32(b, bbFileType)
	bb.FileFormat = le32(b, bbFileFormat)
	bb.RootCellOffset = le32(b, bbRootCellOffset)
	bb.HiveBinsDataSize = le32(b, bbHiveBinsDataSize)
	bb.ClusteringFactor = le32(b, bbClusteringFactor)
	copy(bb.FileName[:], b[bbFileName:])
	bb.Flags = le32(b, bbFlags)
	bb.Checksum = le32(b, bbChecksum)
	return bb
}

// put encodes bb into the first 512 bytes of b and sets its checksum.
func (bb *BaseBlock) put(b []byte) {
	copy(b[bbSignature:], bb.Signature[:])
	put32(b, bbPrimarySequence, bb.PrimarySequenceNumber)
	put32(b, bbSecondarySequence, bb.SecondarySequenceNumber)
	binary.LittleEndian.PutUint64(b[bbLastWritten:], bb.LastWrittenTimestamp)
	put32(b, bbMajorVersion, bb.MajorVersion)
	put32(b, bbMinorVersion, bb.MinorVersion)
	put32(b, bbFileType, bb.FileType)
	put32(b, bbFileFormat, bb.FileFormat)
	put32(b, bbRootCellOffset, bb.RootCellOffset)
	put32(b, bbHiveBinsDataSize, bb.HiveBinsDataSize)
	put32(b, bbClusteringFactor, bb.ClusteringFactor)
	copy(b[bbFileName:bbFileName+bbFileNameSize], bb.FileName[:])
	put32(b, bbFlags, bb.Flags)
	bb.Checksum = baseBlockChecksum(b)
	put32(b, bbChecksum, bb.Checksum)
}

// baseBlockChecksum is the XOR-32 of the first 508 bytes of b, with Windows'
// rule that 0xFFFFFFFF becomes 0xFFFFFFFE and 0 becomes 1.
func baseBlockChecksum(b []byte) uint32 {
	var c uint32
	for i := 0; i < bbChecksummedBytes; i += 4 {
		c ^= le32(b, i)
	}
	switch c {
	case 0xFFFFFFFF:
		c = 0xFFFFFFFE
	case 0:
		c = 1
	}
	return c
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func put16(b []byte, off int, v uint16) {
	binary.LittleEndian.PutUint16(b[off:], v)
}
func put32(b []byte, off int, v uint32) {
	binary.LittleEndian.PutUint32(b[off:], v)
}

// Seconds from the FILETIME epoch (1601-01-01) to the Unix epoch.
const filetimeUnixSeconds = 11644473600

// filetimeToTime converts a FILETIME (100-ns ticks since 1601); 0 is the zero time.
func filetimeToTime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	return time.Unix(int64(ft/1e7)-filetimeUnixSeconds, int64(ft%1e7)*100).UTC()
}

// timeToFiletime converts t, exactly for every time filetimeToTime returns; the
// zero time (and any time before 1601) is 0.
func timeToFiletime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	sec := t.Unix() + filetimeUnixSeconds
	if sec < 0 {
		return 0
	}
	if uint64(sec) > (1<<64-1)/10_000_000 {
		return 1<<64 - 1
	}
	return uint64(sec)*1e7 + uint64(t.Nanosecond()/100)
}

// decodeLatin1 decodes a compressed ("extended ASCII") name.
func decodeLatin1(b []byte) string {
	for _, c := range b {
		if c >= 0x80 {
			r := make([]rune, len(b))
			for i, c := range b {
				r[i] = rune(c)
			}
			return string(r)
		}
	}
	return string(b)
}

// upcase16 upper-cases one UTF-16 code unit the way Windows compares and
// hashes key names (code unit by code unit; surrogates are left alone).
func upcase16(u uint16) uint16 {
	if u < 0x80 {
		if 'a' <= u && u <= 'z' {
			return u - ('a' - 'A')
		}
		return u
	}
	if u >= 0xD800 && u < 0xE000 {
		return u
	}
	r := unicode.ToUpper(rune(u))
	if r > 0xFFFF {
		return u
	}
	return uint16(r)
}

// HiveBin is the header of a hive bin.
type HiveBin struct {
	Signature [4]byte // "hbin"
	Offset    uint32  // of this bin, relative to the hive bins data
	Size      uint32  // a multiple of 4096
	Timestamp uint64  // FILETIME, in the first bin only
}

func parseHiveBin(b []byte) HiveBin {
	var h HiveBin
	copy(h.Signature[:], b[hbinSignature:])
	h.Offset = le32(b, hbinOffset)
	h.Size = le32(b, hbinSize)
	h.Timestamp = leUint64(b, hbinTimestamp)
	return h
}

func (h *HiveBin) put(b []byte) {
	copy(b[hbinSignature:], h.Signature[:])
	put32(b, hbinOffset, h.Offset)
	put32(b, hbinSize, h.Size)
	putUint64(b, hbinTimestamp, h.Timestamp)
}

// KeyNode is the fixed part of an nk cell; the key name follows it.
type KeyNode struct {
	Flags                        uint16 // KEY_*
	LastWrittenTimestamp         uint64 // FILETIME
	AccessBits                   uint32
	Parent                       uint32
	NumberOfSubkeys              uint32
	NumberOfVolatileSubkeys      uint32
	SubkeysListOffset            uint32 // li, lf, lh or ri
	VolatileSubkeysListOffset    uint32
	NumberOfKeyValues            uint32
	KeyValuesListOffset          uint32
	KeySecurityOffset            uint32
	ClassNameOffset              uint32
	LargestSubkeyNameLength      uint32 // bytes, as UTF-16 (low 16 bits; the rest are flags since Vista)
	LargestSubkeyClassNameLength uint32
	LargestValueNameLength       uint32 // bytes, as UTF-16
	LargestValueDataSize         uint32
	WorkVar                      uint32
	KeyNameLength                uint16 // bytes as stored
	ClassNameLength              uint16 // bytes
}

// parseKeyNode decodes c, which holds at least nkKeyName bytes.
func parseKeyNode(c []byte) KeyNode {
	return KeyNode{
		Flags:                        le16(c, nkFlags),
		LastWrittenTimestamp:         leUint64(c, nkLastWritten),
		AccessBits:                   le32(c, nkAccessBits),
		Parent:                       le32(c, nkParent),
		NumberOfSubkeys:              le32(c, nkNumSubkeys),
		NumberOfVolatileSubkeys:      le32(c, nkNumVolatileSubkeys),
		SubkeysListOffset:            le32(c, nkSubkeysList),
		VolatileSubkeysListOffset:    le32(c, nkVolatileSubkeysList),
		NumberOfKeyValues:            le32(c, nkNumValues),
		KeyValuesListOffset:          le32(c, nkValuesList),
		KeySecurityOffset:            le32(c, nkSecurity),
		ClassNameOffset:              le32(c, nkClassName),
		LargestSubkeyNameLength:      le32(c, nkLargestSubkeyNameLen),
		LargestSubkeyClassNameLength: le32(c, nkLargestSubkeyClassLen),
		LargestValueNameLength:       le32(c, nkLargestValueNameLen),
		LargestValueDataSize:         le32(c, nkLargestValueDataSize),
		WorkVar:                      le32(c, nkWorkVar),
		KeyNameLength:                le16(c, nkKeyNameLen),
		ClassNameLength:              le16(c, nkClassNameLen),
	}
}

// put encodes the fixed part of an nk cell (signature included) into c.
func (nk *KeyNode) put(c []byte) {
	put16(c, nkSignature, sigNK)
	put16(c, nkFlags, nk.Flags)
	putUint64(c, nkLastWritten, nk.LastWrittenTimestamp)
	put32(c, nkAccessBits, nk.AccessBits)
	put32(c, nkParent, nk.Parent)
	put32(c, nkNumSubkeys, nk.NumberOfSubkeys)
	put32(c, nkNumVolatileSubkeys, nk.NumberOfVolatileSubkeys)
	put32(c, nkSubkeysList, nk.SubkeysListOffset)
	put32(c, nkVolatileSubkeysList, nk.VolatileSubkeysListOffset)
	put32(c, nkNumValues, nk.NumberOfKeyValues)
	put32(c, nkValuesList, nk.KeyValuesListOffset)
	put32(c, nkSecurity, nk.KeySecurityOffset)
	put32(c, nkClassName, nk.ClassNameOffset)
	put32(c, nkLargestSubkeyNameLen, nk.LargestSubkeyNameLength)
	put32(c, nkLargestSubkeyClassLen, nk.LargestSubkeyClassNameLength)
	put32(c, nkLargestValueNameLen, nk.LargestValueNameLength)
	put32(c, nkLargestValueDataSize, nk.LargestValueDataSize)
	put32(c, nkWorkVar, nk.WorkVar)
	put16(c, nkKeyNameLen, nk.KeyNameLength)
	put16(c, nkClassNameLen, nk.ClassNameLength)
}

// KeyValue is the fixed part of a vk cell; the value name follows it.
type KeyValue struct {
	NameLength uint16 // bytes as stored; 0 for the default value
	DataSize   uint32 // DataSizeInline set: data is in DataOffset itself
	DataOffset uint32
	DataType   uint32 // REG_*
	Flags      uint16 // VALUE_*
}

// parseKeyValue decodes c, which holds at least vkName bytes.
func parseKeyValue(c []byte) KeyValue {
	return KeyValue{
		NameLength: le16(c, vkNameLen),
		DataSize:   le32(c, vkDataSize),
		DataOffset: le32(c, vkDataOffset),
		DataType:   le32(c, vkDataType),
		Flags:      le16(c, vkFlags),
	}
}

// put encodes the fixed part of a vk cell (signature included) into c.
func (vk *KeyValue) put(c []byte) {
	put16(c, vkSignature, sigVK)
	put16(c, vkNameLen, vk.NameLength)
	put32(c, vkDataSize, vk.DataSize)
	put32(c, vkDataOffset, vk.DataOffset)
	put32(c, vkDataType, vk.DataType)
	put16(c, vkFlags, vk.Flags)
}

// KeySecurity is the fixed part of an sk cell; the descriptor follows it.
type KeySecurity struct {
	Flink, Blink           uint32 // next and previous sk of the circular list
	ReferenceCount         uint32 // key nodes pointing here
	SecurityDescriptorSize uint32
}

func parseKeySecurity(c []byte) KeySecurity {
	return KeySecurity{
		Flink:                  le32(c, skFlink),
		Blink:                  le32(c, skBlink),
		ReferenceCount:         le32(c, skReferenceCount),
		SecurityDescriptorSize: le32(c, skDescriptorSize),
	}
}

func (sk *KeySecurity) put(c []byte) {
	put16(c, skSignature, sigSK)
	put32(c, skFlink, sk.Flink)
	put32(c, skBlink, sk.Blink)
	put32(c, skReferenceCount, sk.ReferenceCount)
	put32(c, skDescriptorSize, sk.SecurityDescriptorSize)
}

// BigData is a db cell: data over 16344 bytes split into segments (1.4+).
type BigData struct {
	NumberOfSegments   uint16
	SegmentsListOffset uint32
}

func parseBigData(c []byte) BigData {
	return BigData{NumberOfSegments: le16(c, dbNumSegments), SegmentsListOffset: le32(c, dbSegmentsList)}
}

func (db *BigData) put(c []byte) {
	put16(c, dbSignature, sigDB)
	put16(c, dbNumSegments, db.NumberOfSegments)
	put32(c, dbSegmentsList, db.SegmentsListOffset)
}

func leUint64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
func putUint64(b []byte, off int, v uint64) {
	binary.LittleEndian.PutUint64(b[off:], v)
}
