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

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"wolfpack/internal/agent"
	"wolfpack/internal/api"
	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/fencing"
	"wolfpack/internal/pki"
	"wolfpack/internal/resmon"
)

// prepareCluster runs before the API server is made: it settles the node's TLS files
// (tls/ under the data directory). The node's API token is its own (newAPI), registered
// in the cluster database once etcd runs (startAccess): no node hands its token to
// another.
//
//   - A node that joins (--join, and no etcd member in its data directory yet) sends its
//     request to the node it joins over a TLS connection pinned to the CA hash of its join
//     token (client.JoinCluster): the secret goes out only once that node has shown the
//     cluster's CA. From the answer it writes its certificate and the CA, and keeps the
//     etcd membership for startEtcd. Nothing is written when the join fails, and
//     the join token never is.
//   - An embedded node without a CA is the first of a new cluster: it makes the CA and the
//     join token (join-token, 0600), whose secret's hash goes to etcd once it runs.
//   - A node on an external etcd gets the CA from etcd, where the first node stored it.
//
// Every node holds the CA key, and (re)issues its own certificate when it is missing, near
// its end, or does not name the node's current addresses.
func (n *Node) prepareCluster(ctx context.Context) error {
	cfg := n.Cfg
	p := pki.PathsIn(cfg.DataDir)
	hosts := pki.Hosts(cfg.Name, cfg.API, cfg.Peer, cfg.Client)
	switch {
	case cfg.Restore != "":
		if err := n.restore(hosts); err != nil {
			return err
		}
	case len(cfg.EtcdEndpoints) > 0:
		if err := n.prepareExternal(ctx, hosts); err != nil {
			return err
		}
	case cfg.Join != "" && !clusterdb.HasData(filepath.Join(cfg.DataDir, "etcd")):
		if err := n.join(ctx, hosts); err != nil {
			return err
		}
	case !p.HasCA():
		if clusterdb.HasData(filepath.Join(cfg.DataDir, "etcd")) {
			return fmt.Errorf("data directory %s holds an etcd member but no cluster CA (%s): it was made by a wolfpackd without TLS; start on a new data directory", cfg.DataDir, p.CACert)
		}
		ca, err := pki.Bootstrap(cfg.DataDir, cfg.Name, hosts)
		if err != nil {
			return err
		}
		tok, err := clusterdb.NewJoinToken(ca.Hash())
		if err != nil {
			return err
		}
		if err := clusterdb.WriteJoinToken(cfg.DataDir, tok); err != nil {
			return err
		}
		n.Log.Info("new cluster: CA and join token made; give the join-token file to new nodes (--token-file)",
			"ca", p.CACert, "join-token", filepath.Join(cfg.DataDir, clusterdb.JoinTokenFile))
		n.printJoinCommand()
	}
	ca, err := p.LoadCA()
	if err != nil {
		return err
	}
	issued, err := p.EnsureNode(ca, cfg.Name, hosts, time.Now())
	if err != nil {
		return err
	}
	if issued {
		n.Log.Info("node certificate issued", "file", p.NodeCert)
	}
	n.ca = ca
	return nil
}

// join asks the node of --join to admit this one (see prepareCluster).
func (n *Node) join(ctx context.Context, hosts []string) error {
	cfg := n.Cfg
	if cfg.Token == "" {
		return fmt.Errorf("--join %s needs the cluster's join token: --token-file FILE (a copy of the first node's %s file) or $%s",
			cfg.Join, clusterdb.JoinTokenFile, TokenEnv)
	}
	tok, err := clusterdb.ParseJoinToken(cfg.Token)
	if err != nil {
		return fmt.Errorf("join token: %w", err)
	}
	base := cfg.Join
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	key, err := pki.NewKey()
	if err != nil {
		return err
	}
	csr, err := pki.NewCSR(key, cfg.Name, hosts)
	if err != nil {
		return err
	}
	req := wire.ClusterJoinRequest{Name: cfg.Name, PeerURL: "https://" + cfg.Peer, Witness: cfg.Witness, Secret: tok.Secret, CSR: string(csr),
		SchemaMin: clusterdb.BuildSchema().Min, SchemaMax: clusterdb.BuildSchema().Max}
	jctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var ans wire.ClusterJoinAnswer
	for {
		ans, err = client.JoinCluster(jctx, base, tok.CAHash, req)
		if err == nil {
			break
		}
		if errors.Is(err, pki.ErrPin) {
			return fmt.Errorf("join %s refused before sending the token's secret: the node's CA is not the one the token pins (the token is of another cluster, or %s is not a node of the token's cluster): %w", cfg.Join, cfg.Join, err)
		}
		var ae *wire.Error
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			return fmt.Errorf("join %s refused: wrong join token (it is the content of the %s file of a node of the cluster, current since the last rotation)", cfg.Join, clusterdb.JoinTokenFile)
		}
		if errors.As(err, &ae) && ae.Code == agent.ErrorIncompatibleVersions {
			return fmt.Errorf("join %s refused (error %d): %s", cfg.Join, ae.Code, ae.Message)
		}
		// etcd adds a member only to a cluster whose members have all been connected
		// for a few seconds, and one learner at a time: the node that admits this one
		// says so with ERROR_RETRY (agent.Join), and this node waits for it.
		if !wire.IsCode(err, agent.ErrorRetry) {
			return fmt.Errorf("join %s: %w", cfg.Join, err)
		}
		n.Log.Info("waiting for the cluster to accept a new member", "reason", err.Error())
		select {
		case <-jctx.Done():
			return fmt.Errorf("join %s: %w", cfg.Join, err)
		case <-time.After(time.Second):
		}
	}
	// The answer must be of the pinned CA, and the certificate for this node's key.
	ca, err := pki.ParseCA([]byte(ans.CACert), []byte(ans.CAKey))
	if err != nil {
		return fmt.Errorf("join %s: the cluster CA in the answer: %w", cfg.Join, err)
	}
	if ca.Hash() != tok.CAHash {
		return fmt.Errorf("join %s: the answer's CA is not the join token's", cfg.Join)
	}
	cert, err := pki.ParseCert([]byte(ans.NodeCert))
	if err != nil {
		return fmt.Errorf("join %s: the node certificate in the answer: %w", cfg.Join, err)
	}
	if cert.CheckSignatureFrom(ca.Cert) != nil || !key.PublicKey.Equal(cert.PublicKey) {
		return fmt.Errorf("join %s: the node certificate in the answer is not for this node's key from the cluster CA", cfg.Join)
	}
	p := pki.PathsIn(cfg.DataDir)
	if err := p.WriteCA(ca); err != nil {
		return err
	}
	if err := p.WriteNode([]byte(ans.NodeCert), key); err != nil {
		return err
	}
	n.pendingJoin = &ans
	n.Log.Info("admitted to the cluster", "via", cfg.Join, "member", fmt.Sprintf("%x", ans.MemberID))
	return nil
}

// prepareExternal connects to the external etcd with the administrator's client
// certificate, and takes the cluster CA from there (the first node stores it).
func (n *Node) prepareExternal(ctx context.Context, hosts []string) error {
	cfg := n.Cfg
	db, err := clusterdb.Dial(cfg.EtcdEndpoints, transport.TLSInfo{CertFile: cfg.EtcdCert, KeyFile: cfg.EtcdKey, TrustedCAFile: cfg.EtcdCA})
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.Probe(sctx); err != nil {
		return fmt.Errorf("external etcd %s: %w", strings.Join(cfg.EtcdEndpoints, ","), err)
	}
	rec, err := db.LoadOrCreateCA(sctx, func() (clusterdb.CARecord, error) {
		ca, err := pki.NewCA(time.Now())
		if err != nil {
			return clusterdb.CARecord{}, err
		}
		key, err := ca.KeyPEM()
		return clusterdb.CARecord{Cert: string(ca.CertPEM), Key: string(key)}, err
	})
	if err != nil {
		return err
	}
	ca, err := pki.ParseCA([]byte(rec.Cert), []byte(rec.Key))
	if err != nil {
		return fmt.Errorf("the cluster CA in etcd (%s): %w", clusterdb.ClusterCAKey, err)
	}
	if err := pki.PathsIn(cfg.DataDir).WriteCA(ca); err != nil {
		return err
	}
	n.external = db
	n.onStop(func() { db.Close() })
	ok = true
	return nil
}

// startCluster starts (or joins) the cluster database, the resource monitor and the
// agent, and registers the cluster routes. Each thing it starts registers its stop at
// once (onStop), so that a later step's failure releases what ran before, in the
// reverse order, when Run stops the node.
func (n *Node) startCluster(ctx context.Context) error {
	cfg := n.Cfg
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var (
		db     *clusterdb.DB
		member *etcdMember
	)
	if n.external != nil {
		db = n.external // closed by the stop prepareExternal registered
	} else {
		var err error
		if member, err = n.openEtcd(sctx); err != nil {
			return err
		}
		n.onStop(member.close)
		db = member.db
		if n.restored {
			if err := n.adoptRestored(sctx, db); err != nil {
				return err
			}
		}
		if err := n.initJoinSecret(sctx, db); err != nil {
			return err
		}
	}
	var memberID uint64
	peerURL := ""
	if member != nil {
		memberID, peerURL = member.memberID(), member.peer
	}
	timing := fencing.ForTTL(time.Duration(cfg.SessionTTL) * time.Second)
	host, err := n.startHost(ctx, db, timing)
	if err != nil {
		return err
	}
	n.onStop(func() {
		cctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		host.Close(cctx)
		c()
	})
	mrunner := agent.NewMonitorRunner()
	mon, err := resmon.NewMonitor(resmon.Options{
		LogDir:   filepath.Join(cfg.DataDir, "resources"),
		Logger:   n.Log.With("part", "resmon"),
		OnEvent:  mrunner.OnEvent,
		Launcher: host,
		Env:      []string{"WOLFPACK_NODE=" + cfg.Name},
	})
	if err != nil {
		return err
	}
	n.onStop(func() {
		cctx, c := context.WithTimeout(context.Background(), 15*time.Second)
		mon.Close(cctx)
		c()
	})
	// The checkpoint manager is in place before the agent starts, so that no resource
	// comes online without its checkpoints restored.
	var cp agent.Checkpointer
	if n.Registry != nil {
		cp = n.newCheckpointer(db)
	}
	a, err := agent.New(agent.Options{
		Name:          cfg.Name,
		Checkpointer:  cp,
		API:           n.clusterAPIURL(),
		Witness:       cfg.Witness,
		SessionTTL:    cfg.SessionTTL,
		Permit:        host.Grant,
		EtcdMemberID:  memberID,
		PeerURL:       peerURL,
		DB:            db,
		Runner:        mrunner,
		Report:        n.reportClusterEvent,
		Log:           n.Log.With("part", "cluster"),
		ValidType:     agent.KnownType,
		OnEvicted:     func() { n.evict("its node record was removed from the cluster (cluster node " + cfg.Name + " /evict)") },
		Embedded:      member != nil,
		ResourceTypes: agent.ResourceTypes(),
	})
	if err != nil {
		return err
	}
	mrunner.Attach(mon, a)
	api.RegisterCluster(n.API, a)
	n.API.Metrics.MustRegister(a.Collector())
	actx, stopAgent := context.WithCancel(context.WithoutCancel(ctx))
	api.RegisterJoin(n.API, &joinService{n: n, agent: a, db: db, external: member == nil})
	api.RegisterBackup(n.API, &backupService{n: n, db: db})
	if member != nil {
		go n.watchJoinSecret(actx, db)
	}
	n.onStop(func() {
		stopAgent()
		a.Wait()
	})
	if err := a.Start(actx); err != nil {
		return err
	}
	if member != nil {
		go member.run(actx, a)
	}
	n.Cluster = a
	n.DB = db
	n.rejoined()
	return nil
}

// startEtcd starts the embedded etcd member: a new one-node cluster, a restart from the
// data directory, or, after prepareCluster's join, a learner that is promoted once it has
// caught up.
func (n *Node) startEtcd(ctx context.Context) (*clusterdb.Embedded, uint64, error) {
	cfg := n.Cfg
	ec := clusterdb.EmbedConfig{Name: cfg.Name, Dir: filepath.Join(cfg.DataDir, "etcd"), Peer: cfg.Peer, Client: cfg.Client,
		SessionTTL: time.Duration(cfg.SessionTTL) * time.Second,
		Log:        n.Log.With("part", "etcd"), TLS: pki.PathsIn(cfg.DataDir)}
	ans := n.pendingJoin
	if ans != nil {
		ec.InitialCluster = ans.InitialCluster
	}
	e, err := clusterdb.StartEmbedded(ctx, ec)
	if err != nil {
		return nil, 0, err
	}
	id := uint64(e.Etcd.Server.MemberID())
	if ans != nil {
		pc, err := clusterdb.Dial(ans.Endpoints, clusterdb.ClientTLSInfo(ec.TLS))
		if err == nil {
			err = pc.Promote(ctx, ans.MemberID)
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
		n.pendingJoin = nil
		n.Log.Info("joined cluster as a voting member", "member", fmt.Sprintf("%x", id))
	}
	return e, id, nil
}

// clusterAPIURL is the URL the other nodes reach this node's API at, published in the
// node record before the API listens (it listens right after the cluster part starts).
func (n *Node) clusterAPIURL() string {
	scheme := "https"
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
// to the daemon's log. The catalog gives each event its type, level and category (1135
// and 1177 are Critical there); an ID outside it is Information.
func (n *Node) reportClusterEvent(ctx context.Context, id uint32, strs ...string) {
	n.Log.Info("cluster event", "source", eventlog.SourceCluster, "id", id, "strings", strs)
	if n.Events == nil {
		return
	}
	e := eventlog.Event{Log: eventlog.LogSystem, Source: eventlog.SourceCluster, EventID: id, Strings: strs}
	if _, err := n.Events.Report(context.WithoutCancel(ctx), e); err != nil {
		n.Log.Warn("cannot write a cluster event to the System log", "id", id, "err", err)
	}
}

// printJoinCommand prints, once when the first node makes the cluster, the command that
// adds a node, ready to paste on the new machine (its own name and addresses filled in).
func (n *Node) printJoinCommand() {
	if n.JoinHelp == nil {
		return
	}
	fmt.Fprintf(n.JoinHelp, "To add a node to this cluster, copy %s to the new machine (keep it mode 0600) and run there:\n"+
		"    wolfpackd --name NAME --data-dir DIR --api ADDR:PORT --peer ADDR:PORT --client ADDR:PORT --join %s --token-file join-token\n",
		filepath.Join(n.Cfg.DataDir, clusterdb.JoinTokenFile), strings.TrimPrefix(n.clusterAPIURL(), "https://"))
}
