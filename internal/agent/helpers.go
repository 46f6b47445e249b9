package agent

import (
	"encoding/json"

	clientv3 "go.etcd.io/etcd/client/v3"
)

var jsonMarshal = json.Marshal

// withFirstCreate reads the oldest key of a prefix: the election's leader.
func withFirstCreate() []clientv3.OpOption {
	return []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1)}
}
