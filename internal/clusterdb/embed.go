package clusterdb

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Timing of the embedded etcd, tuned for nodes on one LAN or loopback: a 100 ms heartbeat
// and a 1 s election timeout (etcd's defaults), which let a 2 s session TTL work (etcd's
// minimum lease TTL is 1.5 election timeouts).
const (
	TickMs     = 100
	ElectionMs = 1000
)

// EmbedConfig says how to start a node's embedded etcd member.
type EmbedConfig struct {
	Name   string // member name: the node name
	Dir    string // data directory of the member (<data-dir>/etcd)
	Peer   string // host:port for peer traffic
	Client string // host:port for client traffic
	Log    *slog.Logger
	// InitialCluster is "name=peerURL,…" of the cluster to join, with ClusterState
	// "existing"; empty starts a new one-node cluster (or restarts from Dir).
	InitialCluster string
}

// Embedded is a running embedded etcd member.
type Embedded struct {
	Etcd      *embed.Etcd
	ClientURL string
	PeerURL   string
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
	peerURL := "http://" + c.Peer
	clientURL := "http://" + c.Client
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
	cfg.TickMs, cfg.ElectionMs = TickMs, ElectionMs
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.InitialClusterToken = "wolfpack"
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
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("clusterdb: etcd did not become ready: %w", ctx.Err())
	}
	return &Embedded{Etcd: e, ClientURL: clientURL, PeerURL: peerURL, quiet: quiet}, nil
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
