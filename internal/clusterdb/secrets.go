package clusterdb

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The cluster's shared secrets in etcd, which only holders of a cluster certificate (or,
// with an external etcd, of the administrator's etcd credentials) can read.
const (
	// JoinSecretKey holds the SHA-256 of the join token's secret (SecretHash); every node
	// checks joins against it, so that a rotation on one node is in force on all.
	JoinSecretKey = Prefix + "cluster/join-secret"
	// ClusterCAKey holds the cluster CA (certificate and key) of a cluster on an external
	// etcd, whose nodes never join through another node and get the CA from there.
	ClusterCAKey = Prefix + "cluster/ca"
)

type joinSecretRecord struct {
	SHA256 string `json:"sha256"`
}

// CARecord is the value of ClusterCAKey: PEM certificate and key.
type CARecord struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// InitJoinSecret stores the hash of secret unless a hash is stored already (a restart,
// or a rotation made elsewhere), and reports whether the stored one is secret's.
func (db *DB) InitJoinSecret(ctx context.Context, secret string) (current bool, err error) {
	cli := db.cli
	v, err := json.Marshal(joinSecretRecord{SHA256: SecretHash(secret)})
	if err != nil {
		return false, err
	}
	stored, err := putIfAbsent(ctx, cli, JoinSecretKey, string(v))
	if err != nil {
		return false, err
	}
	return matchSecret(stored, secret), nil
}

// SetJoinSecret replaces the stored hash by that of secret (a rotation): from now on
// only the new token admits nodes.
func (db *DB) SetJoinSecret(ctx context.Context, secret string) error {
	cli := db.cli
	v, err := json.Marshal(joinSecretRecord{SHA256: SecretHash(secret)})
	if err != nil {
		return err
	}
	if _, err := cli.Put(ctx, JoinSecretKey, string(v)); err != nil {
		return fmt.Errorf("clusterdb: store the join secret: %w", err)
	}
	return nil
}

// CheckJoinSecret compares secret with the stored hash in constant time; ErrJoinToken
// when it differs or none is stored.
func (db *DB) CheckJoinSecret(ctx context.Context, secret string) error {
	cli := db.cli
	resp, err := cli.Get(ctx, JoinSecretKey)
	if err != nil {
		return fmt.Errorf("clusterdb: read the join secret: %w", err)
	}
	if len(resp.Kvs) == 0 || !matchSecret(string(resp.Kvs[0].Value), secret) {
		return ErrJoinToken
	}
	return nil
}

func matchSecret(stored, secret string) bool {
	var rec joinSecretRecord
	if json.Unmarshal([]byte(stored), &rec) != nil || rec.SHA256 == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(rec.SHA256), []byte(SecretHash(secret))) == 1
}

// LoadOrCreateCA returns the CA stored at ClusterCAKey, storing the one that newCA returns
// when there is none (the first node of a cluster on an external etcd; nodes that start
// at the same time agree on one through the transaction).
func (db *DB) LoadOrCreateCA(ctx context.Context, newCA func() (CARecord, error)) (CARecord, error) {
	cli := db.cli
	var rec CARecord
	resp, err := cli.Get(ctx, ClusterCAKey)
	if err != nil {
		return rec, fmt.Errorf("clusterdb: read the cluster CA: %w", err)
	}
	if len(resp.Kvs) == 0 {
		if rec, err = newCA(); err != nil {
			return rec, err
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return rec, err
		}
		stored, err := putIfAbsent(ctx, cli, ClusterCAKey, string(v))
		if err != nil {
			return rec, err
		}
		if err := json.Unmarshal([]byte(stored), &rec); err != nil {
			return rec, fmt.Errorf("clusterdb: %s: %w", ClusterCAKey, err)
		}
		return rec, nil
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return rec, fmt.Errorf("clusterdb: %s: %w", ClusterCAKey, err)
	}
	return rec, nil
}

// putIfAbsent stores val at key unless the key exists, and returns the value stored.
func putIfAbsent(ctx context.Context, cli *clientv3.Client, key, val string) (string, error) {
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, val)).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return "", fmt.Errorf("clusterdb: %s: %w", key, err)
	}
	if resp.Succeeded {
		return val, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return "", fmt.Errorf("clusterdb: %s: %w", key, ErrConflict)
	}
	return string(kvs[0].Value), nil
}
