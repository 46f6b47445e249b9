package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"wolfpack/internal/api/client"
)

// Config is wolfpackd's command line.
type Config struct {
	Name          string   // node name; default: the host name
	DataDir       string   // --data-dir; default client.DefaultDataDir()
	API           string   // --api address for the HTTP API
	Peer          string   // --peer address for etcd peer traffic
	Client        string   // --client address for etcd client traffic
	Join          string   // --join: API address of a node of the cluster to join
	Token         string   // the join token, from --token-file or $WOLFPACK_TOKEN (never the command line)
	TokenFile     string   // --token-file
	RotateToken   bool     // --rotate-token: have the running node make a new join token
	Witness       bool     // --witness: an etcd member that never runs resources
	Restore       string   // --restore: a backup (cluster /backup) to make a new cluster from
	EtcdEndpoints []string // --etcd-endpoints: use an external etcd cluster
	EtcdCert      string   // --etcd-cert: client certificate for the external etcd
	EtcdKey       string   // --etcd-key
	EtcdCA        string   // --etcd-ca: CA that signed the external etcd's server certificates
	SessionTTL    int      // --session-ttl: seconds of the node's membership lease
	Watchdog      string   // --watchdog: a watchdog device the resource host pets
	TLSCert       string
	TLSKey        string
	LogLevel      slog.Level
	Version       bool // --version: print the build and exit
}

// TokenEnv is the environment variable that may hold the join token. wolfpackd removes it
// from its environment once read, so the resources it starts do not inherit it.
const TokenEnv = "WOLFPACK_TOKEN"

// minWatchdogTTL is the shortest session TTL at which a watchdog's shortest timeout
// (1 s) fits the rule: a pet at time p resets the machine by p + 1 s, which must come
// Margin (TTL/2) before the lease can expire, so pets stop 1 s before the freeze; the
// permit must leave room for that after each renewal (TTL/10).
const minWatchdogTTL = 4

// ParseConfig parses wolfpackd's arguments. Errors say which flag is wrong.
func ParseConfig(args []string, stderr io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("wolfpackd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host, _ := os.Hostname()
	fs.StringVar(&c.Name, "name", host, "node name")
	fs.StringVar(&c.DataDir, "data-dir", client.DefaultDataDir(), "data directory (default $WOLFPACK_DATA, /var/lib/wolfpack for root, else ~/.local/state/wolfpack)")
	fs.StringVar(&c.API, "api", "127.0.0.1:8733", "address of the HTTP API and web console")
	fs.StringVar(&c.Peer, "peer", "127.0.0.1:2380", "address for etcd peer traffic (embedded etcd)")
	fs.StringVar(&c.Client, "client", "127.0.0.1:2379", "address for etcd client traffic (embedded etcd)")
	fs.StringVar(&c.Join, "join", "", "API address of a node of the cluster to join")
	token := fs.String("token", "", "not accepted: use --token-file or $"+TokenEnv+" (a command line is visible to every local user)")
	fs.StringVar(&c.TokenFile, "token-file", "", "file that holds the cluster's join token (the first node's join-token); else $"+TokenEnv)
	fs.BoolVar(&c.RotateToken, "rotate-token", false, "have the running node of --data-dir make a new join token (written to its join-token file) and exit; nodes already in the cluster are not affected")
	fs.BoolVar(&c.Witness, "witness", false, "join as an etcd member that never runs resources")
	fs.StringVar(&c.Restore, "restore", "", "restore the cluster database from a backup (cluster /backup:FILE) into this new data directory, as the first node of the restored cluster; the other nodes join it")
	endpoints := fs.String("etcd-endpoints", "", "comma-separated URLs of an external etcd cluster")
	fs.StringVar(&c.EtcdCert, "etcd-cert", "", "client certificate (PEM) for the external etcd")
	fs.StringVar(&c.EtcdKey, "etcd-key", "", "client key (PEM) for the external etcd")
	fs.StringVar(&c.EtcdCA, "etcd-ca", "", "CA certificate (PEM) that the external etcd's server certificates are checked against")
	fs.IntVar(&c.SessionTTL, "session-ttl", 2, "seconds of the node's membership lease: a dead machine's groups fail over after about this long; a node that cannot renew it for 3/8 of it has its resources killed (see README, Fencing)")
	fs.StringVar(&c.Watchdog, "watchdog", "", "watchdog device (/dev/watchdog; softdog works) that the resource host pets, so that a frozen host or kernel resets the machine; needs --session-ttl 4 or more")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate for the API (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS key for the API (PEM)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.Version, "version", false, "print the build (module version and VCS revision) and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *token != "" {
		return nil, fmt.Errorf("--token is not accepted: a command line shows in /proc/PID/cmdline and ps to every local user; give the join token with --token-file FILE or the %s environment variable", TokenEnv)
	}
	switch {
	case c.TokenFile != "":
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	default:
		c.Token = strings.TrimSpace(os.Getenv(TokenEnv))
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *endpoints != "" {
		c.EtcdEndpoints = strings.Split(*endpoints, ",")
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	if c.DataDir == "" {
		return nil, errors.New("--data-dir: empty")
	}
	if c.SessionTTL < 1 || c.SessionTTL > 600 {
		return nil, fmt.Errorf("--session-ttl %d: seconds from 1 to 600", c.SessionTTL)
	}
	if c.Watchdog != "" && c.SessionTTL < minWatchdogTTL {
		return nil, fmt.Errorf("--watchdog needs --session-ttl %d or more: a reset by the watchdog (its shortest timeout is 1 s) must come half a TTL before the lease can expire", minWatchdogTTL)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if c.Name == "" || strings.ContainsAny(c.Name, `\/ `) {
		return nil, fmt.Errorf("--name %q: a node name is not empty and has no '\\', '/' or space", c.Name)
	}
	if (c.EtcdCert == "") != (c.EtcdKey == "") {
		return nil, errors.New("--etcd-cert and --etcd-key go together")
	}
	if (c.EtcdCert != "" || c.EtcdCA != "") && len(c.EtcdEndpoints) == 0 {
		return nil, errors.New("--etcd-cert, --etcd-key and --etcd-ca are for an external etcd (--etcd-endpoints)")
	}
	if c.Restore != "" && (c.Join != "" || len(c.EtcdEndpoints) > 0) {
		return nil, errors.New("--restore makes the first node of a restored cluster: not with --join or --etcd-endpoints")
	}
	if c.Join != "" && len(c.EtcdEndpoints) > 0 {
		return nil, errors.New("--join is for embedded etcd: with --etcd-endpoints a node joins by using the same etcd")
	}
	return c, nil
}
