package clusterdb

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"wolfpack/internal/pki"
)

// Timing of the embedded etcd, tuned for nodes on one LAN or loopback: a 50 ms heartbeat
// and a 500 ms election timeout (half etcd's defaults) at the default session TTL of 2 s.
// A dead leader is replaced within about 0.5–1 s, while the members' permits
// (fencing.Timing.Window, 950 ms at the default 2 s TTL) hold, so an etcd leader election
// freezes no resource for long and kills none. etcd's minimum lease TTL (1.5 election
// timeouts) is then 1 s, the shortest --session-ttl. A longer TTL (a loaded host, many
// nodes) lengthens the election timeout in proportion (ElectionFor), so that a member
// starved of CPU for a moment does not start an election that stalls every lease.
const (
	TickMs     = 50
	ElectionMs = 500
)

// ElectionFor returns the heartbeat and election timeout (ms) for a session TTL: the
// election timeout a quarter of the TTL (never less than ElectionMs), the heartbeat a
// tenth of it, as etcd advises.
func ElectionFor(ttl time.Duration) (tickMs, electionMs uint) {
	e := max(uint(ttl/time.Millisecond/4), ElectionMs)
	return e / 10, e
}

// initialClusterToken is the etcd cluster token of every Wolfpack cluster (its
// members' IDs derive from it; a restored cluster gets it too).
const initialClusterToken = "wolfpack"

// EmbedConfig says how to start a node's embedded etcd member.
type EmbedConfig struct {
	Name   string // member name: the node name
	Dir    string // data directory of the member (<data-dir>/etcd)
	Peer   string // host:port for peer traffic
	Client string // host:port for client traffic
	Log    *slog.Logger
	// TLS is the node's certificate, key and cluster CA (pki.PathsIn(data dir)): both
	// ports use https with mutual TLS, and accept only clients and peers that present a
	// certificate from the cluster CA.
	TLS pki.Paths
	// SessionTTL is the nodes' session TTL, from which the election timeout follows
	// (ElectionFor); 0: the defaults.
	SessionTTL time.Duration
	// InitialCluster is "name=peerURL,…" of the cluster to join, with ClusterState
	// "existing"; empty starts a new one-node cluster (or restarts from Dir).
	InitialCluster string
}

// Embedded is a running embedded etcd member.
type Embedded struct {
	Etcd      *embed.Etcd
	ClientURL string
	PeerURL   string
	// ClientTLS is the configuration of an etcd client of this member: the node's
	// certificate, trusting the cluster CA.
	ClientTLS *tls.Config
	quiet     *atomic.Bool // set while closing: etcd's complaints about closed listeners are noise
	once      sync.Once
}

// HasData reports whether dir already holds an etcd member (a restart).
func HasData(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "member", "wal"))
	return err == nil
}

// StartEmbedded starts the member and waits until it serves (or ctx ends).
func StartEmbedded(ctx context.Context, c EmbedConfig) (*Embedded, error) {
	peerURL := "https://" + c.Peer
	clientURL := "https://" + c.Client
	pu, err := url.Parse(peerURL)
	if err != nil {
		return nil, fmt.Errorf("clusterdb: --peer %s: %w", c.Peer, err)
	}
	cu, err := url.Parse(clientURL)
	if err != nil {
		return nil, fmt.Errorf("clusterdb: --client %s: %w", c.Client, err)
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("clusterdb: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = c.Name
	cfg.Dir = c.Dir
	cfg.TickMs, cfg.ElectionMs = ElectionFor(c.SessionTTL)
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.InitialClusterToken = initialClusterToken
	cfg.ClientTLSInfo = ServerTLSInfo(c.TLS)
	cfg.PeerTLSInfo = ServerTLSInfo(c.TLS)
	clientTLS, err := ClientTLSInfo(c.TLS).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("clusterdb: etcd client TLS: %w", err)
	}
	if c.InitialCluster != "" && !HasData(c.Dir) {
		cfg.InitialCluster = c.InitialCluster
		cfg.ClusterState = embed.ClusterStateFlagExisting
	} else {
		cfg.InitialCluster = cfg.InitialClusterFromName(c.Name)
		cfg.ClusterState = embed.ClusterStateFlagNew
	}
	// Snapshots and compaction keep the member small over a long life.
	cfg.SnapshotCount = 10000
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1h"
	quiet := &atomic.Bool{}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(quietZap(c.Log, quiet))
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("clusterdb: start etcd in %s: %w", c.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("clusterdb: etcd: %w", err)
	case <-ctx.Done():
		quiet.Store(true) // the stop was asked for: etcd's complaints about it are noise
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("clusterdb: etcd did not become ready: %w", ctx.Err())
	}
	return &Embedded{Etcd: e, ClientURL: clientURL, PeerURL: peerURL, ClientTLS: clientTLS, quiet: quiet}, nil
}

// ServerTLSInfo is the TLS of an embedded member's client and peer ports: the node's
// certificate, and client-certificate authentication against the cluster CA. A client's
// certificate is not matched against its address (SkipClientSANVerify): the cluster CA
// vouches for every node, whatever address it comes from, and etcd's check falls back to
// reverse DNS look-ups.
func ServerTLSInfo(p pki.Paths) transport.TLSInfo {
	return transport.TLSInfo{
		CertFile:            p.NodeCert,
		KeyFile:             p.NodeKey,
		TrustedCAFile:       p.CACert,
		ClientCertAuth:      true,
		SkipClientSANVerify: true,
		ServerName:          pki.ServerName, // what the member verifies when it dials its peers
	}
}

// ClientTLSInfo is the TLS of an etcd client of the embedded members: the node's
// certificate, trusting the cluster CA for pki.ServerName.
func ClientTLSInfo(p pki.Paths) transport.TLSInfo {
	return transport.TLSInfo{CertFile: p.NodeCert, KeyFile: p.NodeKey, TrustedCAFile: p.CACert, ServerName: pki.ServerName}
}

// Stopped is closed when the member's server has stopped: by Close, or by itself (it was
// removed from the cluster, or failed).
func (e *Embedded) Stopped() <-chan struct{} { return e.Etcd.Server.StopNotify() }

// Removed reports whether this member was removed from the cluster (the node was
// evicted): its server then stops by itself.
func (e *Embedded) Removed() bool {
	return e.Etcd.Server.Cluster().Member(e.Etcd.Server.MemberID()) == nil
}

// Close stops the member; later calls do nothing.
func (e *Embedded) Close() {
	e.once.Do(func() {
		e.quiet.Store(true)
		done := make(chan struct{})
		go func() { e.Etcd.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
}

// quietZap routes etcd's errors to slog and drops the rest: etcd logs a great deal at
// info level.
func quietZap(log *slog.Logger, quiet *atomic.Bool) *zap.Logger {
	if log == nil {
		return zap.NewNop()
	}
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "msg", LineEnding: "\n"})
	core := zapcore.NewCore(enc, zapcore.AddSync(slogWriter{log, quiet}), zapcore.ErrorLevel)
	return zap.New(core)
}

type slogWriter struct {
	log   *slog.Logger
	quiet *atomic.Bool
}

func (w slogWriter) Write(p []byte) (int, error) {
	// A member that joins logs this once while it has no snapshot yet: harmless.
	if !w.quiet.Load() && !bytes.Contains(p, []byte("cannot detect storage schema version")) {
		w.log.Error("etcd: " + string(trimNL(p)))
	}
	return len(p), nil
}

func trimNL(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
