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
	"strconv"
	"syscall"
)

// Main runs wolfpackd with args (without the program name) and returns its exit code.
func Main(args []string) int {
	cfg, err := ParseConfig(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "wolfpackd: %v\n", err)
		return 2
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

// Run starts a node and serves until ctx ends.
func Run(ctx context.Context, cfg *Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	n := &Node{Cfg: cfg, Log: log}
	defer n.stop()
	pidFile := filepath.Join(cfg.DataDir, "wolfpackd.pid")
	if err := writeFileAtomic(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	n.onStop(func() { os.Remove(pidFile) })
	if err := n.prepareCluster(ctx); err != nil { // TLS files and API token, from the cluster on a join
		return err
	}
	if err := n.newAPI(); err != nil {
		return err
	}
	for _, p := range n.parts() {
		if err := p.start(ctx); err != nil {
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		log.Debug("started", "part", p.name)
	}
	log.Info("node ready", "name", cfg.Name, "data", cfg.DataDir)
	<-ctx.Done()
	log.Info("shutting down", "name", cfg.Name)
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
