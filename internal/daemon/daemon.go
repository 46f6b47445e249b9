package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"wolfpack/internal/cli/buildinfo"
	"wolfpack/internal/reshost"
)

// Main runs wolfpackd with args (without the program name) and returns its exit code.
func Main(args []string) int {
	if len(args) > 0 && args[0] == reshost.HostArg {
		// The resource host, started by the daemon itself (host.go).
		return reshost.Main(args[1:], newHostRevoker)
	}
	cfg, err := ParseConfig(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "wolfpackd: %v\n", err)
		return 2
	}
	if cfg.Version {
		fmt.Println(buildinfo.Version("wolfpackd"))
		return 0
	}
	// The resources that the node starts do not inherit the join token.
	os.Unsetenv(TokenEnv)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if cfg.RotateToken {
		if err := rotateToken(ctx, cfg); err != nil {
			fmt.Fprintf(os.Stderr, "wolfpackd: %v\n", err)
			return 1
		}
		return 0
	}
	if err := Run(ctx, cfg, log); err != nil {
		fmt.Fprintf(os.Stderr, "wolfpackd: %v\n", err)
		return 1
	}
	return 0
}

// Run starts a node and serves until ctx ends, or until the node is evicted from its
// cluster (then it stops its parts, puts its etcd member aside and returns nil).
func Run(ctx context.Context, cfg *Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	release, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	rctx, quit := context.WithCancel(ctx)
	defer quit()
	n := &Node{Cfg: cfg, Log: log, quit: quit, JoinHelp: os.Stderr}
	defer n.stop()
	n.onStop(release) // last: the directory is this process's until everything stopped
	n.onStop(func() {
		if why := n.evictedBecause(); why != "" {
			rec, err := retire(cfg.DataDir, cfg.Name, why)
			if err != nil {
				log.Error("evicted: cannot put the etcd member aside", "err", err)
				return
			}
			log.Error("this node was evicted from its cluster; its cluster service stopped. To join again, start it with --join HOST:PORT and the join token (--token-file FILE); its registry and event logs are kept",
				"node", cfg.Name, "because", why, "old-member", rec.Member)
		}
	})
	if err := n.checkEvicted(); err != nil {
		return err
	}
	if err := n.prepareCluster(rctx); err != nil { // TLS files and API token, from the cluster on a join
		return err
	}
	if err := n.newAPI(); err != nil {
		return err
	}
	for _, p := range n.parts() {
		n.partStates.set(p.name, "starting")
	}
	for _, p := range n.parts() {
		if err := p.start(rctx); err != nil {
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		n.partStates.set(p.name, "ok")
		log.Debug("started", "part", p.name)
	}
	if err := n.ready(); err != nil {
		return err
	}
	<-rctx.Done()
	log.Info("shutting down", "name", cfg.Name)
	for _, p := range n.parts() {
		n.partStates.set(p.name, "stopping")
	}
	sdNotify("STOPPING=1")
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a rename, so that a
// reader never sees a half-written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
