package daemon

import "context"

// startCluster starts the cluster part. Placeholder until the part is wired in.
func (n *Node) startCluster(ctx context.Context) error { return nil }
