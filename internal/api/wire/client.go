package wire

import (
	"errors"
)

// NodeInfo is one entry of GET /v1/nodes.
type NodeInfo struct {
	Name    string `json:"name"`
	API     string `json:"api"`
	State   string `json:"state"`
	Witness bool   `json:"witness,omitempty"`
	Paused  bool   `json:"paused,omitempty"`
}

// IsCode reports whether err is an API error with the given Windows error number.
func IsCode(err error, code uint32) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == code
}
