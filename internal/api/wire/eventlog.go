package wire

// EventlogConfig is the body of PUT /v1/eventlog/logs/{log}; absent fields keep their
// value.
type EventlogConfig struct {
	MaxSize   *int64 `json:"maxSize,omitempty"`
	Retention *bool  `json:"retention,omitempty"`
}

// EventlogReported is the answer to POST …/events.
type EventlogReported struct {
	Log      string `json:"log"`
	RecordID uint64 `json:"recordId"`
}
