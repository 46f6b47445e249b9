// Package hive reads and writes Windows registry hive files (the "regf" format).
//
// It follows Maxim Suhanov's "Windows registry file format specification"
// (shared/specs/regf-format-msuhanov.md) and libyal's REGF notes: a base block,
// hive bins (hbin) holding cells, and the cell records nk, vk, li, lf, lh, ri, sk
// and db. Read accepts versions 1.3 to 1.6; ReadFile and ReadWithLogs also replay
// the .LOG1/.LOG2 transaction logs of a dirty hive, in the old format (Windows XP
// to 7: dirty vector and dirty pages) and in the new one (Windows 8.1 and later:
// HvLE log entries). Write produces version 1.5 hives (1.3, 1.4 or 1.6 on request)
// that hivex, libregf and Samba read: subkeys sorted as Windows compares them, lh
// (lf before 1.5) leaves of at most LeafSize entries under an ri, db records for
// data over 16344 bytes, compressed Latin-1 names, one shared sk per distinct
// security descriptor.
//
// The reader never trusts the file: every offset and length is checked before use,
// lists and index roots are walked with bounded depth and a visited set, and the
// memory a hive may make the reader allocate is bounded by a small multiple of its
// size. Damage is reported as a *FormatError naming the offset; a tree the format
// cannot hold is refused by Write with an error wrapping ErrWrite.
//
// Files: format.go holds the spec's structures and constants, read.go the reader,
// write.go the writer, log.go transaction-log recovery (marvin.go its hash).
//
// Names, security descriptors and value data returned by the reader may share
// memory with the reader's own copy of the file (never with a caller's buffer);
// callers must not modify Security or Data in place.
package hive
