package wire

// Op is a request's operation code.
type Op uint8

// The operations; doc.go gives each one's fields and reply.
const (
	OpPing         Op = 1
	OpOpenKey      Op = 2
	OpCreateKey    Op = 3
	OpCloseKey     Op = 4
	OpDeleteKey    Op = 5
	OpDeleteTree   Op = 6
	OpSetValue     Op = 7
	OpQueryValue   Op = 8
	OpDeleteValue  Op = 9
	OpEnumKeys     Op = 10
	OpEnumValues   Op = 11
	OpQueryInfo    Op = 12
	OpNotify       Op = 13
	OpNotifyCancel Op = 14
	OpFlush        Op = 15
	OpHandles      Op = 16
	OpSave         Op = 17
	OpRestore      Op = 18
	OpLoad         Op = 19
	OpUnload       Op = 20
	OpGetSecurity  Op = 21
	OpSetSecurity  Op = 22

	opLast = OpSetSecurity
)

var opNames = [...]string{
	OpPing: "Ping", OpOpenKey: "OpenKey", OpCreateKey: "CreateKey", OpCloseKey: "CloseKey",
	OpDeleteKey: "DeleteKey", OpDeleteTree: "DeleteTree", OpSetValue: "SetValue",
	OpQueryValue: "QueryValue", OpDeleteValue: "DeleteValue", OpEnumKeys: "EnumKeys",
	OpEnumValues: "EnumValues", OpQueryInfo: "QueryInfo", OpNotify: "Notify",
	OpNotifyCancel: "NotifyCancel", OpFlush: "Flush", OpHandles: "Handles", OpSave: "Save",
	OpRestore: "Restore", OpLoad: "Load", OpUnload: "Unload", OpGetSecurity: "GetSecurity",
	OpSetSecurity: "SetSecurity",
}

func (o Op) String() string {
	if o >= 1 && o <= opLast {
		return opNames[o]
	}
	return "Op(" + itoa(uint64(o)) + ")"
}

// LoadFromFile is Load's flag: data is the absolute path of a hive file on the daemon's
// machine, which the daemon mounts in place (read-write, written back to that file on
// flush and unload) after checking that the client's uid may read and write it. Without
// it, data is a hive image the daemon keeps in a private file while mounted.
const LoadFromFile uint32 = 1

// SaveTree is Save's flag: the reply is the key's whole subtree as a stream of keys (see
// TreeKey), as enumeration sees it — volatile keys and loaded hives included, for export.
// Without it, flags is the hive's minor version (0 means 5).
const SaveTree uint32 = 0x100

// Kind is the first byte of a frame the server sends.
type Kind uint8

const (
	KindReply      Kind = 0 // the answer to the request with the same id
	KindChange     Kind = 1 // a change pushed for the Notify request with the same id
	KindNotifyDone Kind = 2 // the Notify subscription with the same id has ended
)

// Limits of the framing.
const (
	// MaxFrame bounds a frame's body. Hive images for save, restore and load travel in
	// one frame, so it is generous; the reader still grows its buffer only as bytes
	// actually arrive.
	MaxFrame = 256 << 20
	// requestHeader is the fixed part of a request: op, id, handle, flags, access and the
	// three length prefixes.
	requestHeader = 1 + 4 + 8 + 4 + 4 + 4 + 4 + 4
	// replyHeader is kind, id and status.
	replyHeader = 1 + 4 + 4
)

// Windows error codes the protocol itself produces.
const (
	StatusSuccess          uint32 = 0
	StatusInvalidFunction  uint32 = 1  // ERROR_INVALID_FUNCTION: unknown op
	StatusFileNotFound     uint32 = 2  // ERROR_FILE_NOT_FOUND
	StatusAccessDenied     uint32 = 5  // ERROR_ACCESS_DENIED
	StatusInvalidHandle    uint32 = 6  // ERROR_INVALID_HANDLE
	StatusGenFailure       uint32 = 31 // ERROR_GEN_FAILURE: an error without a Windows code
	StatusInvalidParameter uint32 = 87 // ERROR_INVALID_PARAMETER: malformed frame
	StatusMoreData         uint32 = 234
	StatusKeyDeleted       uint32 = 1018
	StatusOperationAborted uint32 = 995 // ERROR_OPERATION_ABORTED: the subscription was cancelled
)

// Attribute bits of KeyInfo.Attrs.
const (
	AttrVolatile uint32 = 1
	AttrLink     uint32 = 2
)

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
