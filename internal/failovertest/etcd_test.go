package failovertest

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// etcdClient connects to n's embedded member with n's own certificate.
func (c *cluster) etcdClient(n *node) (*clientv3.Client, error) {
	tlsc, err := clusterdb.ClientTLSInfo(pki.PathsIn(n.dir)).ClientConfig()
	if err != nil {
		return nil, err
	}
	return clientv3.New(clientv3.Config{
		Endpoints:   []string{"https://" + c.hostPort(n, n.client)},
		TLS:         tlsc,
		DialTimeout: 3 * time.Second,
		Logger:      zap.NewNop(),
	})
}

// etcdLeader returns the node whose member leads etcd, as the live nodes see it.
func (c *cluster) etcdLeader() (*node, error) {
	ids := map[uint64]*node{}
	var leader uint64
	for _, n := range c.alive() {
		cli, err := c.etcdClient(n)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		st, err := cli.Status(ctx, cli.Endpoints()[0])
		cancel()
		cli.Close()
		if err != nil {
			continue
		}
		ids[st.Header.MemberId] = n
		if st.Leader != 0 {
			leader = st.Leader
		}
	}
	if n := ids[leader]; n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("no etcd leader among the live nodes (leader id %x)", leader)
}

// moveEtcdLeader makes to's member the etcd leader.
func (c *cluster) moveEtcdLeader(to *node) {
	c.t.Helper()
	c.waitFor(30*time.Second, "etcd leader "+to.name, func() bool {
		cur, err := c.etcdLeader()
		if err != nil {
			return false
		}
		if cur == to {
			return true
		}
		target, err := c.etcdClient(to)
		if err != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		st, err := target.Status(ctx, target.Endpoints()[0])
		target.Close()
		cancel()
		if err != nil {
			return false
		}
		cli, err := c.etcdClient(cur)
		if err != nil {
			return false
		}
		defer cli.Close()
		ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cli.MoveLeader(ctx, st.Header.MemberId)
		return false
	})
}

// coordinator returns the node the cluster calls its coordinator.
func (c *cluster) coordinator() *node {
	c.t.Helper()
	var coord *node
	c.waitFor(30*time.Second, "a coordinator", func() bool {
		for _, n := range c.alive() {
			for _, s := range c.nodeList(n) {
				if s.Coordinator && s.State == "Up" {
					coord = c.node(s.Name)
					return true
				}
			}
		}
		return false
	})
	return coord
}

// moveGroup moves G to n and waits until it is online there.
func (c *cluster) moveGroup(n *node) {
	c.t.Helper()
	if o, st := c.group(nil); o == n.name && st == "Online" {
		return
	}
	c.must(n, "cluster", "group", "G", "/moveto:"+n.name, "/wait:60")
}
