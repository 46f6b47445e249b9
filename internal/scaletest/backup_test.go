package scaletest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/pki"
)

// dbContent is what a backup must bring back, decoded for a comparison field by field.
type dbContent struct {
	Groups      map[string]clusterdb.Group
	Resources   map[string]clusterdb.Resource
	Properties  clusterdb.Properties
	Nodes       map[string][3]any // ID, NodeWeight 0, pinned
	Tokens      map[string]string // name → hash (the administrators' tokens; nodes make new ones)
	Checkpoints map[string][]cpVersion
}

type cpVersion struct {
	V    clusterdb.CheckpointVersion
	Data []byte
}

// dump reads the content through cli.
func dump(t *testing.T, cli *clientv3.Client) dbContent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := clusterdb.New(cli)
	s, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := dbContent{Groups: s.Groups, Resources: s.Resources, Nodes: map[string][3]any{}, Tokens: map[string]string{}, Checkpoints: map[string][]cpVersion{}}
	for k, n := range s.Nodes {
		d.Nodes[k] = [3]any{n.ID, n.NoVote, n.PinnedVoter}
	}
	if d.Properties, _, err = db.Properties(ctx); err != nil {
		t.Fatal(err)
	}
	toks, err := db.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if !strings.HasPrefix(tk.Name, "node:") {
			d.Tokens[tk.Name] = tk.Hash
		}
	}
	store := clusterdb.NewCheckpointStore(cli)
	metas, err := store.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metas {
		for _, v := range m.Versions {
			_, data, err := store.Version(ctx, m.Resource, m.Key, v.Number)
			if err != nil {
				t.Fatal(err)
			}
			k := m.Resource + " " + m.Key
			d.Checkpoints[k] = append(d.Checkpoints[k], cpVersion{v, data})
		}
	}
	return d
}

// TestBackupRestore backs up a four-node cluster's database (from a non-voter), destroys
// every node and its data directory, restores the database on a new first node and has
// the others join it: every group, resource, property, node setting, API token and
// checkpoint version is back, compared field by field (and byte for byte for the
// checkpoints' hives); the groups come online again with their checkpoint restored; the
// token granted before the backup opens the restored cluster's API.
func TestBackupRestore(t *testing.T) {
	c := newCluster(t, 2)
	nodes := []*node{c.add("N1"), c.add("N2"), c.add("N3"), c.add("N4")}
	for _, n := range nodes {
		c.start(n)
	}
	n1, n4 := nodes[0], nodes[3]
	c.waitVoters(n1, 30*time.Second, "N1", "N2", "N3")
	key := `SOFTWARE\BackupTest`
	c.must(n1, "reg", "add", `HKLM\`+key, "/v", "V", "/t", "REG_SZ", "/d", "one", "/f")
	c.must(n1, "cluster", "group", "G1", "/create")
	c.must(n1, "cluster", "resource", "App", "/create", "/group:G1", "/type:Generic Application")
	c.must(n1, "cluster", "resource", "App", "/priv", "CommandLine=/bin/sleep 3600")
	c.must(n1, "cluster", "resource", "App", "/addcheckpoints:"+key)
	c.must(n1, "cluster", "group", "G1", "/online", "/wait:60")
	// More checkpoint versions: each change of the key is captured by G1's owner.
	owner := group(c, n1, "G1").Node
	on := c.nodeByName(owner)
	for _, v := range []string{"two", "three"} {
		c.must(on, "reg", "add", `HKLM\`+key, "/v", "V", "/t", "REG_SZ", "/d", v, "/f")
		time.Sleep(400 * time.Millisecond)
	}
	c.waitFor(30*time.Second, "three checkpoint versions", func() bool {
		out, err := c.run(n1, "cluster", "resource", "App", "/checkpointhistory:"+key, "/f:json")
		return err == nil && strings.Count(out, `"number"`) >= 3
	})
	c.must(n1, "cluster", "group", "G2", "/create")
	c.must(n1, "cluster", "group", "G2", "/setowners:N2,N3")
	c.must(n1, "cluster", "group", "G2", "/prop", "AntiAffinityClassNames=web,db", "FailoverThreshold=7")
	c.must(n1, "cluster", "resource", "Disk", "/create", "/group:G2", "/type:Test")
	c.must(n1, "cluster", "resource", "Web", "/create", "/group:G2", "/type:Test")
	c.must(n1, "cluster", "resource", "Web", "/adddep:Disk")
	c.must(n1, "cluster", "resource", "Web", "/prop", "RestartThreshold=9", "PendingTimeout=60000")
	c.must(n1, "cluster", "resource", "Web", "/priv", "OnlineDelay=10")
	c.must(n1, "cluster", "group", "G2", "/online", "/wait:60")
	c.must(n1, "cluster", "/prop", "VoterReplaceAfter=45", "ClusterEnforcedAntiAffinity=1")
	c.must(n1, "cluster", "node", "N4", "/prop", "NodeWeight=0")
	var grant string
	for _, l := range strings.Split(c.must(n1, "cluster", "/grant:monitor", "/level:ReadOnly"), "\n") {
		if strings.HasPrefix(l, "wpt1_") {
			grant = l
		}
	}

	file := filepath.Join(t.TempDir(), "cluster.backup")
	out := c.must(n4, "cluster", "/backup:"+file)
	t.Logf("cluster /backup on the non-voter N4:\n%s", out)
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", st, err)
	}
	cli := c.etcdClient(n1)
	before := dump(t, cli)
	cli.Close()
	t.Logf("checkpointed keys before the backup: %v", keysOf(before.Checkpoints))
	// A ReadOnly token is refused a backup: it holds the CA key.
	if ro := readOnlyClient(t, n1, grant); ro != nil {
		var sink []byte
		err := ro.Do(context.Background(), http.MethodPost, "/v1/cluster/backup", nil, &sink)
		var ae *wire.Error
		if err == nil || !errorsAs(err, &ae) || ae.Status != http.StatusForbidden {
			t.Errorf("a backup with a ReadOnly token: %v, want 403", err)
		}
	}

	// Every node destroyed, data directories and all.
	for _, n := range nodes {
		c.kill9(n, true)
		if err := os.RemoveAll(n.dir); err != nil {
			t.Fatal(err)
		}
	}
	// The restore: N1 from the backup, the others join it as new nodes.
	n1.args = []string{"--restore", file}
	c.start(n1)
	for _, n := range nodes[1:] {
		c.start(n)
	}
	c.waitVoters(n1, 60*time.Second, "N1", "N2", "N3")
	cli = c.etcdClient(n1)
	defer cli.Close()
	after := dump(t, cli)
	compareContent(t, before, after)

	// The groups come back online, the checkpoint restored on G1's new owner; the token
	// granted before the backup opens the restored cluster.
	c.waitFor(60*time.Second, "G1 and G2 Online", func() bool {
		return group(c, n1, "G1").State == "Online" && group(c, n1, "G2").State == "Online"
	})
	g1 := group(c, n1, "G1")
	q := c.must(c.nodeByName(g1.Node), "reg", "query", `HKLM\`+key, "/v", "V")
	if !strings.Contains(q, "three") {
		t.Errorf("G1 online on %s after the restore; its checkpoint: %s", g1.Node, q)
	}
	ro := readOnlyClient(t, n1, grant)
	var ns []wire.ClusterNode
	if err := ro.Do(context.Background(), http.MethodGet, "/v1/nodes", nil, &ns); err != nil || len(ns) != 4 {
		t.Errorf("the token granted before the backup, on the restored cluster: %v (%d nodes)", err, len(ns))
	}
	for _, n := range ns {
		if n.Name == "N4" && (n.NodeWeight != 0 || n.Role != "NonVoter") {
			t.Errorf("N4 after the restore: %+v, want NodeWeight 0, a non-voter", n)
		}
	}
}

func compareContent(t *testing.T, before, after dbContent) {
	t.Helper()
	if !reflect.DeepEqual(before.Groups, after.Groups) {
		t.Errorf("groups differ:\nbefore %+v\nafter  %+v", before.Groups, after.Groups)
	}
	for k, r := range before.Resources {
		if !reflect.DeepEqual(r, after.Resources[k]) {
			t.Errorf("resource %s differs:\nbefore %+v\nafter  %+v", k, r, after.Resources[k])
		}
	}
	if len(before.Resources) != len(after.Resources) {
		t.Errorf("%d resources before, %d after", len(before.Resources), len(after.Resources))
	}
	if before.Properties != after.Properties {
		t.Errorf("cluster properties: %+v, then %+v", before.Properties, after.Properties)
	}
	if !reflect.DeepEqual(before.Nodes, after.Nodes) {
		t.Errorf("nodes (ID, NodeWeight 0, pinned): %v, then %v", before.Nodes, after.Nodes)
	}
	if !reflect.DeepEqual(before.Tokens, after.Tokens) {
		t.Errorf("tokens: %v, then %v", before.Tokens, after.Tokens)
	}
	if len(before.Checkpoints) == 0 {
		t.Error("no checkpoint before the backup: the test tests nothing")
	}
	for k, vs := range before.Checkpoints {
		got := after.Checkpoints[k]
		for _, v := range vs {
			i := slices.IndexFunc(got, func(x cpVersion) bool { return x.V.Number == v.V.Number })
			if i < 0 {
				t.Errorf("checkpoint %s version %d lost", k, v.V.Number)
				continue
			}
			if !reflect.DeepEqual(got[i], v) {
				t.Errorf("checkpoint %s version %d differs: %+v, then %+v", k, v.V.Number, v.V, got[i].V)
			}
		}
		t.Logf("checkpoint %s: %d versions back, byte for byte", k, len(vs))
	}
}

func keysOf[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// readOnlyClient is a client of n's API with token.
func readOnlyClient(t *testing.T, n *node, token string) *client.Client {
	t.Helper()
	full, err := client.FromDataDir(n.dir)
	if err != nil {
		t.Fatal(err)
	}
	tlsc, err := pki.PathsIn(n.dir).RootTLS()
	if err != nil {
		t.Fatal(err)
	}
	return client.New(full.Base, token, tlsc)
}

func errorsAs(err error, target **wire.Error) bool { return errors.As(err, target) }
