package clusterdb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Voters and non-voters (as k3s's servers and agents): the cluster keeps an odd number of
// etcd voting members, each on its own node; every other node is an etcd client only,
// with its own membership lease like any node. The elected coordinator decides which
// nodes vote (internal/agent's voter keeper) and writes its decision as a role request
// (roles/<node>); the node carries it out on itself — it adds itself as a learner, starts
// its member and promotes it, or moves its client to the other members and removes its
// own member — and deletes the request. A voter whose node is gone for longer than
// Voting.ReplaceAfter is removed by the coordinator once another node has been promoted
// in its place.

// RolesPrefix holds the coordinator's pending role requests, one per node.
const RolesPrefix = Prefix + "roles/"

// RoleKey is the key of a node's pending role request.
func RoleKey(node string) string { return RolesPrefix + keyName(node) }

// Defaults of the voting configuration.
const (
	DefaultVoters       = 3
	DefaultReplaceAfter = 30 // seconds
	// MaxVoters bounds Voting.Voters: etcd advises 3 to 7 voting members.
	MaxVoters = 7
)

// Voting is the cluster's voting configuration (part of its Properties).
type Voting struct {
	// Voters is how many etcd voting members the cluster keeps (odd: 1, 3, 5 or 7),
	// fewer while it has fewer nodes that may vote; a witness counts.
	Voters int
	// ReplaceAfter is how long (seconds) a voter's node may be gone before another node
	// is promoted in its place, and how long the cluster keeps more voters than it wants
	// before it demotes one.
	ReplaceAfter int
}

// ErrProperty: a cluster property value that the cluster cannot take.
var ErrProperty = errors.New("clusterdb: invalid cluster property")

// ReplaceDelay is ReplaceAfter as a duration.
func (v Voting) ReplaceDelay() time.Duration { return time.Duration(v.ReplaceAfter) * time.Second }

// Voting reads the voting configuration.
func (db *DB) Voting(ctx context.Context) (Voting, error) {
	p, _, err := db.Properties(ctx)
	return p.Voting(), err
}

// Roles of a node in the etcd cluster.
const (
	RoleVoter    = "Voter"    // an etcd voting member
	RoleLearner  = "Learner"  // an etcd learner, on its way to voting
	RoleNonVoter = "NonVoter" // an etcd client only
	RoleExternal = "External" // a client of an external etcd, which Wolfpack does not manage
)

// RoleRequest is the coordinator's request to a node (roles/<node>): become Role
// (RoleVoter or RoleNonVoter). The node deletes it once carried out (or given up).
type RoleRequest struct {
	Role  string    `json:"role"`
	Since time.Time `json:"since"`
	// By is the coordinator that asked, for the logs.
	By string `json:"by,omitempty"`
}

// RoleRequests reads the pending role requests, by node key name.
func (db *DB) RoleRequests(ctx context.Context) (map[string]RoleRequest, error) {
	resp, err := db.cli.Get(ctx, RolesPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("clusterdb: role requests: %w", err)
	}
	out := map[string]RoleRequest{}
	for _, kv := range resp.Kvs {
		var r RoleRequest
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return nil, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
		}
		out[strings.TrimPrefix(string(kv.Key), RolesPrefix)] = r
	}
	return out, nil
}

// RequestRole writes a role request for node, if el still holds (the coordinator's
// election: a deposed coordinator asks nothing); ErrConflict otherwise.
func (db *DB) RequestRole(ctx context.Context, node string, r RoleRequest, el Election) error {
	var cmps []clientv3.Cmp
	if el.Key != "" {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(el.Key), "=", el.Rev))
	}
	resp, err := db.cli.Txn(ctx).If(cmps...).Then(opPutJSON(RoleKey(node), r)).Commit()
	if err != nil {
		return fmt.Errorf("clusterdb: role request for %s: %w", node, err)
	}
	if !resp.Succeeded {
		return objErr("node", node, ErrConflict)
	}
	return nil
}

// DeleteRoleRequest removes node's role request.
func (db *DB) DeleteRoleRequest(ctx context.Context, node string) error {
	if _, err := db.cli.Delete(ctx, RoleKey(node)); err != nil {
		return fmt.Errorf("clusterdb: role request for %s: %w", node, err)
	}
	return nil
}

// EtcdMember is one member of the etcd cluster.
type EtcdMember struct {
	ID         uint64
	Name       string // "" until the member has started
	PeerURLs   []string
	ClientURLs []string
	Learner    bool
}

// members lists the etcd cluster's members (opts: clientv3.WithSerializable for the list of
// the member the client talks to, without a round of the quorum).
func (db *DB) members(ctx context.Context, opts ...clientv3.OpOption) ([]EtcdMember, error) {
	cli := db.cli
	resp, err := cli.MemberList(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("clusterdb: member list: %w", err)
	}
	out := make([]EtcdMember, 0, len(resp.Members))
	for _, m := range resp.Members {
		out = append(out, EtcdMember{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, Learner: m.IsLearner})
	}
	return out, nil
}

// MemberOf returns the member of the node named name whose peer URL is peerURL: by peer
// URL (a learner that has not started has no name yet), else by name.
func MemberOf(members []EtcdMember, name, peerURL string) (EtcdMember, bool) {
	if peerURL != "" {
		for _, m := range members {
			if slices.Contains(m.PeerURLs, peerURL) {
				return m, true
			}
		}
	}
	for _, m := range members {
		if m.Name != "" && strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return EtcdMember{}, false
}

// VoterClientURLs lists the client URLs of the voting members, sorted.
func VoterClientURLs(members []EtcdMember) []string {
	var urls []string
	for _, m := range members {
		if !m.Learner {
			urls = append(urls, m.ClientURLs...)
		}
	}
	slices.Sort(urls)
	return urls
}

// RemoveLearner removes a learner; a member that is not (or no longer) there is success.
// A voting member is never removed by this function.
func (db *DB) RemoveLearner(ctx context.Context, id uint64) error {
	ms, err := db.Members(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID == id {
			if !m.Learner {
				return fmt.Errorf("clusterdb: member %x is a voter, not a learner", id)
			}
			return db.RemoveMember(ctx, id)
		}
	}
	return nil
}

// IsMembershipBusy reports whether err is etcd's refusal of a membership change that may
// pass later: a second learner (etcd admits one learner at a time), a cluster that is
// unhealthy or has too few started members. The change is retried. The errors are
// compared as etcd's typed errors (a gRPC status the client passed on as it is is first
// read as etcd's own client does, rpctypes.Error), never by their text.
func IsMembershipBusy(err error) bool {
	if err == nil {
		return false
	}
	typed := rpctypes.Error(err)
	for _, e := range []error{rpctypes.ErrGRPCTooManyLearners, rpctypes.ErrTooManyLearners, rpctypes.ErrGRPCUnhealthy,
		rpctypes.ErrUnhealthy, rpctypes.ErrGRPCMemberNotEnoughStarted, rpctypes.ErrMemberNotEnoughStarted} {
		if errors.Is(err, e) || errors.Is(typed, e) {
			return true
		}
	}
	return false
}

// EndpointsFile is the file in a node's data directory that lists the client URLs of
// the voting members, one per line: a non-voting node finds etcd through it when it
// starts, and every node keeps it current.
const EndpointsFile = "etcd-endpoints"

// WriteEndpoints writes urls to dataDir's EndpointsFile (atomically).
func WriteEndpoints(dataDir string, urls []string) error {
	if len(urls) == 0 {
		return errors.New("clusterdb: no etcd endpoints to write")
	}
	path := filepath.Join(dataDir, EndpointsFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(urls, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("clusterdb: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("clusterdb: %w", err)
	}
	return nil
}

// ReadEndpoints reads dataDir's EndpointsFile (an error wrapping os.ErrNotExist when the
// node never had one).
func ReadEndpoints(dataDir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dataDir, EndpointsFile))
	if err != nil {
		return nil, fmt.Errorf("clusterdb: %w", err)
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if u := strings.TrimSpace(sc.Text()); u != "" {
			urls = append(urls, u)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("clusterdb: %s: %w", EndpointsFile, err)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("clusterdb: %s is empty", filepath.Join(dataDir, EndpointsFile))
	}
	return urls, nil
}
