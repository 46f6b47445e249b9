package daemon

import "context"

// startEventlog starts the eventlog part. Placeholder until the part is wired in.
func (n *Node) startEventlog(ctx context.Context) error { return nil }
