// Package regfile reads and writes the text files that Windows' Registry Editor
// imports and exports (.reg files).
//
// Two formats exist and both are handled:
//
//   - "Windows Registry Editor Version 5.00": UTF-16LE with a byte-order mark
//     and CRLF line ends, as regedit and reg.exe export. Parse also accepts
//     the same text in UTF-8 (with or without BOM), as people write it by
//     hand, and UTF-16 without BOM or big-endian.
//   - "REGEDIT4": ANSI text in code page 1252 (Windows-1252). Its hex(2) and
//     hex(7) data (REG_EXPAND_SZ, REG_MULTI_SZ) is narrow ANSI; Parse widens it
//     to UTF-16LE, the way the registry stores strings, and Write narrows it
//     again.
//
// There is no formal specification. The grammar followed is the one regedit
// writes and reads (Microsoft KB 310516 "How to add, modify, or delete
// registry subkeys and values by using a .reg file"), with the layout of its
// export — including the wrapping of hex data at 80 columns with ",\" and a
// two-space indent — reproduced byte for byte; Wine's regedit (programs/regedit)
// documents the same rules in code.
//
// Values carry their data as the registry stores it: raw bytes, strings in
// UTF-16LE with the terminating NUL. Write never loses data: a REG_SZ whose
// bytes are not a clean string is written as hex(1):, a REG_DWORD that is not
// four bytes as hex(4):. The only lossy case is REGEDIT4 itself, which cannot
// hold characters outside code page 1252 (see Writer.Strict).
package regfile
