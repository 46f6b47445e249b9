package wire

// Whoami is the answer of GET /v1/whoami: the caller's token name and level, and the
// node that answered (the web console shows actions to Full tokens only).
type Whoami struct {
	Name  string `json:"name"`
	Level Level  `json:"level"`
	Node  string `json:"node"`
}
