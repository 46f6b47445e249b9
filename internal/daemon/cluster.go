package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/agent"
	"wolfpack/internal/api"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/resmon"
)

// prepareCluster runs before the API server is made: it settles the cluster's join
// token (from --token, or the one in the data directory, created on first start). The
// join token opens the join route only (joinAuth); each node has its own API token.
func (n *Node) prepareCluster() error {
	dir := n.Cfg.DataDir
	var tok string
	if n.Cfg.Token != "" {
		tok = strings.TrimSpace(n.Cfg.Token)
		if !clusterdb.ValidJoinToken(tok) {
			// --token may also name a file that holds the token (the first node's
			// join-token), as k3s's --token-file.
			if b, err := os.ReadFile(tok); err == nil && clusterdb.ValidJoinToken(strings.TrimSpace(string(b))) {
				tok = strings.TrimSpace(string(b))
			}
		}
		if !clusterdb.ValidJoinToken(tok) {
			return fmt.Errorf("--token: not a Wolfpack join token (it is the content of the first node's %s file)", clusterdb.JoinTokenFile)
		}
		if err := clusterdb.WriteJoinToken(dir, tok); err != nil {
			return err
		}
	} else if n.Cfg.Join != "" && !clusterdb.HasData(filepath.Join(dir, "etcd")) {
		return fmt.Errorf("--join %s needs --token: the content (or the path) of the first node's %s file", n.Cfg.Join, clusterdb.JoinTokenFile)
	} else {
		t, created, err := clusterdb.LoadOrCreateJoinToken(dir)
		if err != nil {
			return err
		}
		tok = t
		if created {
			n.Log.Info("cluster join token written; give its content to new nodes with --token", "file", filepath.Join(dir, clusterdb.JoinTokenFile))
		}
	}
	n.joinToken = tok
	return nil
}

// startCluster starts (or joins) the cluster database, the resource monitor and the
// agent, and registers the cluster routes.
func (n *Node) startCluster(ctx context.Context) error {
	cfg := n.Cfg
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var (
		cli      *clientv3.Client
		embedded *clusterdb.Embedded
		memberID uint64
		err      error
	)
	if len(cfg.EtcdEndpoints) > 0 {
		cli, err = newEtcdClient(cfg.EtcdEndpoints)
		if err != nil {
			return err
		}
		if _, err := cli.Get(sctx, clusterdb.Prefix+"probe"); err != nil {
			cli.Close()
			return fmt.Errorf("external etcd %s: %w", strings.Join(cfg.EtcdEndpoints, ","), err)
		}
	} else {
		embedded, memberID, err = n.startEtcd(sctx)
		if err != nil {
			return err
		}
		cli, err = newEtcdClient([]string{embedded.ClientURL})
		if err != nil {
			embedded.Close()
			return err
		}
	}
	mrunner := agent.NewMonitorRunner()
	mon, err := resmon.NewMonitor(resmon.Options{
		LogDir:  filepath.Join(cfg.DataDir, "resources"),
		Logger:  n.Log.With("part", "resmon"),
		OnEvent: mrunner.OnEvent,
	})
	if err != nil {
		cli.Close()
		if embedded != nil {
			embedded.Close()
		}
		return err
	}
	// The checkpoint manager is in place before the agent starts, so that no resource
	// comes online without its checkpoints restored.
	var cp agent.Checkpointer
	if n.Registry != nil {
		cp = n.newCheckpointer(cli)
	}
	a, err := agent.New(agent.Options{
		Name:          cfg.Name,
		Checkpointer:  cp,
		API:           n.clusterAPIURL(),
		Witness:       cfg.Witness,
		SessionTTL:    cfg.SessionTTL,
		EtcdMemberID:  memberID,
		DB:            clusterdb.New(cli),
		Runner:        mrunner,
		Report:        n.reportClusterEvent,
		Log:           n.Log.With("part", "cluster"),
		ValidType:     agent.KnownType,
		Embedded:      embedded != nil,
		ResourceTypes: agent.ResourceTypes(),
	})
	if err != nil {
		return err
	}
	mrunner.Attach(mon, a)
	api.RegisterCluster(n.API, a, n.joinAuth)
	n.API.Metrics.MustRegister(a.Collector())
	actx, stopAgent := context.WithCancel(context.WithoutCancel(ctx))
	n.onStop(func() {
		stopAgent()
		a.Wait()
		cctx, c := context.WithTimeout(context.Background(), 15*time.Second)
		mon.Close(cctx)
		c()
		cli.Close()
		if embedded != nil {
			embedded.Close()
		}
	})
	if err := a.Start(actx); err != nil {
		return err
	}
	n.Cluster = a
	n.Etcd = cli
	return nil
}

// startEtcd starts the embedded etcd member: a new one-node cluster, a restart from the
// data directory, or a join (--join) through another node's API, as a learner that is
// promoted once it has caught up.
func (n *Node) startEtcd(ctx context.Context) (*clusterdb.Embedded, uint64, error) {
	cfg := n.Cfg
	ec := clusterdb.EmbedConfig{Name: cfg.Name, Dir: filepath.Join(cfg.DataDir, "etcd"), Peer: cfg.Peer, Client: cfg.Client,
		Log: n.Log.With("part", "etcd")}
	var ans api.ClusterJoinAnswer
	joining := cfg.Join != "" && !clusterdb.HasData(ec.Dir)
	if joining {
		base := cfg.Join
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
		c := api.NewClient(base, clusterdb.APIToken(n.joinToken), true)
		req := api.ClusterJoinRequest{Name: cfg.Name, PeerURL: "http://" + cfg.Peer, Witness: cfg.Witness}
		for {
			err := c.Do(ctx, http.MethodPost, "/v1/cluster/join", req, &ans)
			if err == nil {
				break
			}
			var ae *api.Error
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				return nil, 0, fmt.Errorf("join %s refused: wrong join token (--token must be the content of the first node's %s file)", cfg.Join, clusterdb.JoinTokenFile)
			}
			// etcd adds a member only to a cluster whose members have all been
			// connected for a few seconds, and one learner at a time: wait for that.
			msg := err.Error()
			if !strings.Contains(msg, "unhealthy cluster") && !strings.Contains(msg, "learner") && !strings.Contains(msg, "not started") {
				return nil, 0, fmt.Errorf("join %s: %w", cfg.Join, err)
			}
			n.Log.Info("waiting for the cluster to accept a new member", "reason", msg)
			select {
			case <-ctx.Done():
				return nil, 0, fmt.Errorf("join %s: %w", cfg.Join, err)
			case <-time.After(time.Second):
			}
		}
		ec.InitialCluster = ans.InitialCluster
		n.Log.Info("joining cluster", "via", cfg.Join, "member", fmt.Sprintf("%x", ans.MemberID))
	}
	e, err := clusterdb.StartEmbedded(ctx, ec)
	if err != nil {
		return nil, 0, err
	}
	id := uint64(e.Etcd.Server.MemberID())
	if joining {
		pc, err := newEtcdClient(ans.Endpoints)
		if err == nil {
			err = clusterdb.Promote(ctx, pc, ans.MemberID)
			pc.Close()
		}
		// The local member serves clients once it has applied its own promotion.
		for err == nil && e.Etcd.Server.IsLearner() {
			select {
			case <-ctx.Done():
				err = fmt.Errorf("local member still a learner: %w", ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
		if err != nil {
			e.Close()
			return nil, 0, fmt.Errorf("join: %w", err)
		}
		n.Log.Info("joined cluster as a voting member", "member", fmt.Sprintf("%x", id))
	}
	return e, id, nil
}

func newEtcdClient(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          5 * time.Second,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client %s: %w", strings.Join(endpoints, ","), err)
	}
	return cli, nil
}

// clusterAPIURL is the URL the other nodes reach this node's API at, published in the
// node record before the API listens (it listens right after the cluster part starts).
func (n *Node) clusterAPIURL() string {
	scheme := "http"
	if n.Cfg.TLSCert != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(n.Cfg.API)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// reportClusterEvent writes the agent's events (source ClusSvc) to the System log, and
// to the daemon's log. An event the catalog knows gets its type, level and category
// from the catalog (1135 and 1177 are Critical there); level is used only for an ID
// outside the catalog.
func (n *Node) reportClusterEvent(ctx context.Context, id uint32, level int, strs ...string) {
	n.Log.Info("cluster event", "source", eventlog.SourceCluster, "id", id, "level", level, "strings", strs)
	if n.Events == nil {
		return
	}
	e := eventlog.Event{Log: eventlog.LogSystem, Source: eventlog.SourceCluster, EventID: id, Strings: strs}
	if _, known := n.Events.Catalog().Lookup(eventlog.SourceCluster, id); !known {
		e.Type = eventlog.TypeInformation
		switch level {
		case agent.LevelError:
			e.Type = eventlog.TypeError
		case agent.LevelWarning:
			e.Type = eventlog.TypeWarning
		}
		e.Level = eventlog.Level(level)
	}
	if _, err := n.Events.Report(context.WithoutCancel(ctx), e); err != nil {
		n.Log.Warn("cannot write a cluster event to the System log", "id", id, "err", err)
	}
}
