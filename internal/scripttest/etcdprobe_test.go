package scripttest

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdProbe is the scenarios' etcdprobe command: etcdprobe ENDPOINT [CA CERT KEY] reads
// the keys under /wolfpack/ over etcd's gRPC API and prints how many there are ("served")
// or why it could not ("refused", exit status 1). Without CA, CERT and KEY it presents no
// client certificate and does not check the server's, so that a refusal is the server's.
func etcdProbe(args []string) int {
	if len(args) != 1 && len(args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: etcdprobe ENDPOINT [CA CERT KEY]")
		return 2
	}
	cfg := &tls.Config{InsecureSkipVerify: true}
	if len(args) == 4 {
		var err error
		cfg, err = transport.TLSInfo{TrustedCAFile: args[1], CertFile: args[2], KeyFile: args[3], ServerName: "wolfpack-node"}.ClientConfig()
		if err != nil {
			fmt.Fprintln(os.Stderr, "etcdprobe:", err)
			return 2
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{args[0]}, TLS: cfg, DialTimeout: 3 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println("refused:", err)
		return 1
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "/wolfpack/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		fmt.Println("refused:", err)
		return 1
	}
	fmt.Printf("served: %d keys\n", resp.Count)
	return 0
}
