// Package wire holds the types of Wolfpack's HTTP/JSON API: what the routes take and
// answer (ClusterGroup, CheckpointVersion, RegistryKey, …), the error they send (Error:
// an HTTP status, a Windows error number and a message), and the note by which a part
// marks an answer stale (MarkStale).
//
// It is a leaf: the parts of the daemon (internal/agent, internal/checkpoint, …) speak
// these types without knowing the server (internal/api) or HTTP, and the CLIs speak them
// through the client (internal/api/client) without dragging the server in. It imports
// nothing of Wolfpack's and not net/http (internal/layers checks this).
package wire

// The HTTP statuses that errors made by the parts carry (net/http's values).
const (
	StatusBadRequest          = 400
	StatusForbidden           = 403
	StatusNotFound            = 404
	StatusConflict            = 409
	StatusServiceUnavailable  = 503
	StatusInternalServerError = 500
)
