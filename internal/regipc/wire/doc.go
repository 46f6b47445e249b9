// Package wire is the local protocol of Wolfpack's registry: the unix socket reg.sock in
// a node's data directory (mode 0666: any local user connects; each key's security
// descriptor says what the user may do), through which local programs — the reg CLI and any
// program using the public package wolfpack/registry — open keys, read and write values
// and hold handles, as Windows programs do through advapi32's Reg* calls.
//
// # Connections and handles
//
// Each connection is one client: the server reads the peer's credentials (SO_PEERCRED:
// pid and uid; the executable name from /proc/<pid>/comm) and opens one registry Session
// with them. Every handle the client opens belongs to that session and is closed when the
// connection ends, whether the client closed it cleanly or was killed. `reg handles`
// shows these owners. The credentials are also who the client is for the keys' security
// descriptors: uid u is S-1-22-1-u, its groups (SO_PEERGROUPS) S-1-22-2-g, root an
// Administrator (see internal/registry's security.go).
//
// # Framing
//
// All integers are little-endian. Every message in both directions is a frame:
//
//	frame = length:u32 body          (1 ≤ length ≤ MaxFrame)
//	str   = n:u32 n bytes of UTF-8   (names and paths; Windows stores them as UTF-16LE,
//	                                  the server converts)
//	bytes = n:u32 n bytes            (value data, hive images)
//
// A request body has one fixed layout for every operation, so the decoder does not depend
// on the operation and a malformed frame is refused before anything runs:
//
//	request = op:u8 id:u32 handle:u64 flags:u32 access:u32 name:str class:str data:bytes
//
// id is chosen by the client and echoed in the reply; handle is a handle of this
// connection or a predefined key (HKEY_LOCAL_MACHINE 0x80000002, HKEY_USERS 0x80000003).
// What name, class, flags, access and data mean depends on op:
//
//	op               handle   name        class  flags          access     data       reply payload
//	1  Ping          -        -           -      -              -          echoed     data:bytes
//	2  OpenKey       parent   path        -      options        access     -          handle:u64
//	3  CreateKey     parent   path        class  options        access     -          handle:u64 created:u8
//	4  CloseKey      key      -           -      -              -          -          -
//	5  DeleteKey     parent   path        -      -              -          -          -
//	6  DeleteTree    parent   path        -      -              -          -          -
//	7  SetValue      key      value name  -      type           -          value      -
//	8  QueryValue    key      value name  -      -              -          -          type:u32 data:bytes
//	9  DeleteValue   key      value name  -      -              -          -          -
//	10 EnumKeys      key      -           -      -              -          -          n:u32 n×str
//	11 EnumValues    key      -           -      -              -          -          n:u32 n×(name:str type:u32 data:bytes)
//	12 QueryInfo     key      -           -      -              -          -          KeyInfo (see below)
//	13 Notify        key      -           -      filter         subtree    -          - (then pushes)
//	14 NotifyCancel  -        -           -      notify id      -          -          -
//	15 Flush         key      -           -      -              -          -          -
//	16 Handles       key      -           -      -              subtree    -          n:u32 n×HandleInfo
//	17 Save          key      -           -      minor|SaveTree -          -          hive:bytes | tree
//	18 Restore       key      -           -      flags          -          hive       -
//	19 Load          parent   subkey name -      LoadFromFile?  -          hive|path  -
//	20 Unload        parent   subkey name -      -              -          -          -
//	21 GetSecurity   key      -           -      info           -          -          sd:bytes
//	22 SetSecurity   key      -           -      info           -          sd         -
//
// info is a SECURITY_INFORMATION mask (OWNER 1, GROUP 2, DACL 4, SACL 8, and the
// PROTECTED/UNPROTECTED bits for SetSecurity) and sd a self-relative security descriptor
// (RegGetKeySecurity, RegSetKeySecurity).
//
//	KeyInfo    = subkeys:u32 maxSubKeyLen:u32 values:u32 maxValueNameLen:u32 maxValueLen:u32
//	             class:str lastWrite:i64 (Unix ns) attrs:u32 (1 volatile, 2 link)
//	HandleInfo = id:u64 pid:u32 uid:u32 exe:str openedAs:str resolved:str access:u32
//	             opened:i64 (Unix ns)
//
// A reply body is
//
//	reply = kind:u8 id:u32 status:u32 payload
//
// with kind 0 for a reply. status is 0 on success, else a Windows error code
// (ERROR_FILE_NOT_FOUND 2, ERROR_ACCESS_DENIED 5 — the key's descriptor or the handle's
// granted access refuses the call —, ERROR_PRIVILEGE_NOT_HELD 1314,
// ERROR_INVALID_SECURITY_DESCR 1338, …); then the payload is
// message:str n:u32 n×HandleInfo. For a restore or unload refused because other clients
// hold handles in the subtree (ERROR_ACCESS_DENIED), the handles are those holders and the
// message is the subtree's path; otherwise n is 0 and the message is the server's text.
//
// # Pipelining
//
// A client may send any number of requests without waiting; the server runs a
// connection's requests in order and answers in that order, batching replies into one
// write while more requests are already buffered. Distinct connections run concurrently.
//
// # Change notification
//
// Notify (RegNotifyChangeKeyValue) answers at once; from then on the server pushes, on the
// same connection, frames of kind 1 with the Notify request's id and the payload
// key:str filter:u32 (the resolved path of the changed key and which kind of change).
// When the subscription ends — NotifyCancel, the handle closed, the key deleted — the
// server pushes one frame of kind 2 with that id, status 0 and no payload. Pushes
// interleave with replies; the client tells them apart by kind. Changes are coalesced by
// the registry when the client reads slowly (see internal/registry's notify.go), as
// Windows signals one event for any number of changes.
//
// # Failures
//
// A frame that cannot be decoded (bad length, truncated field, unknown op, invalid UTF-8)
// gets a reply with status ERROR_INVALID_PARAMETER (87) and the id as far as it could be
// read; a length above MaxFrame closes the connection, since the stream can no longer be
// followed. Nothing a client sends can stop the server or another connection.
package wire
