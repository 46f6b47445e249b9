package daemon

import "context"

// startRegistry starts the registry part. Placeholder until the part is wired in.
func (n *Node) startRegistry(ctx context.Context) error { return nil }
