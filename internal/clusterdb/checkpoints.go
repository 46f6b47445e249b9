package clusterdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Registry checkpoints in etcd (owner: internal/checkpoint).
//
// Layout, below CheckpointsPrefix, with <res> the resource's key name and <kid> the
// registry key's lower-case path, both path-escaped so that neither can contain "/":
//
//	<res>/<kid>/meta              JSON CheckpointMeta: the key as given, the kept versions
//	<res>/<kid>/data/<gen>/<i>    chunk i (0-based) of generation gen, raw hive bytes
//
// Invariants, which every reader may rely on:
//   - each version in meta names a generation whose chunks 0…Chunks-1 exist and
//     concatenate to Size bytes hashing to Hash;
//   - meta is the only switch: a capture writes the chunks of a new generation first
//     (each a fenced put of at most ChunkSize bytes, below etcd's request limit) and then
//     swaps meta in one fenced transaction that also deletes the generations no kept
//     version names. A reader reads meta and then the chunks at meta's revision, so it
//     sees one whole committed version or none, never half of one;
//   - a generation number is the version number that first wrote it and is never
//     reused once committed; chunks left by a writer that died before its switch belong
//     to no version and are removed by the next capture.

// DefaultCheckpointChunkSize keeps each etcd request below the server's default request
// limit of 1.5 MiB.
const DefaultCheckpointChunkSize = 1 << 20

// DefaultCheckpointHistory is how many versions of a key are kept by default.
const DefaultCheckpointHistory = 10

// maxPrunePerTxn bounds the versions one commit drops.
const maxPrunePerTxn = 64

// ErrNoCheckpoint: the key has no committed checkpoint (or not that version).
var ErrNoCheckpoint = errors.New("clusterdb: no such checkpoint")

// CheckpointVersion describes one committed version of a checkpointed key.
type CheckpointVersion struct {
	Number int       `json:"number"` // 1, 2, … per key, never reused
	Time   time.Time `json:"time"`   // when it was captured (UTC)
	Node   string    `json:"node"`   // the node that captured it
	Size   int64     `json:"size"`   // bytes of the hive
	Hash   string    `json:"hash"`   // SHA-256 of the hive bytes, hex
	// Digest is the capturer's digest of the content (independent of timestamps), used
	// to skip captures that changed nothing; "" when unknown.
	Digest string `json:"digest,omitempty"`
	// RolledBackFrom is the version this one copies when it was made by a rollback.
	RolledBackFrom int   `json:"rolledBackFrom,omitempty"`
	Gen            int64 `json:"gen"`    // generation holding the chunks
	Chunks         int   `json:"chunks"` // number of chunks
}

// CheckpointMeta is the value of <res>/<kid>/meta.
type CheckpointMeta struct {
	Resource string              `json:"resource"`
	Key      string              `json:"key"`      // as the administrator gave it
	Next     int                 `json:"next"`     // number of the next version
	Versions []CheckpointVersion `json:"versions"` // oldest first
}

// Latest returns the newest version and true, or false when there is none.
func (m *CheckpointMeta) Latest() (CheckpointVersion, bool) {
	if len(m.Versions) == 0 {
		return CheckpointVersion{}, false
	}
	return m.Versions[len(m.Versions)-1], true
}

// CheckpointStore keeps checkpoint versions in etcd.
type CheckpointStore struct {
	cli *clientv3.Client
	// ChunkSize is the largest value written in one request (DefaultCheckpointChunkSize).
	ChunkSize int
}

// NewCheckpointStore returns a store on cli (DB.CheckpointStore gives the DB's). The
// caller keeps cli.
func NewCheckpointStore(cli *clientv3.Client) *CheckpointStore {
	return &CheckpointStore{cli: cli, ChunkSize: DefaultCheckpointChunkSize}
}

// CheckpointResourcePrefix is the prefix of every checkpoint key of a resource.
func CheckpointResourcePrefix(resource string) string {
	return CheckpointsPrefix + url.PathEscape(keyName(resource)) + "/"
}

func checkpointKeyPrefix(resource, key string) string {
	return CheckpointResourcePrefix(resource) + url.PathEscape(strings.ToLower(key)) + "/"
}

func checkpointMetaKey(resource, key string) string {
	return checkpointKeyPrefix(resource, key) + "meta"
}

func checkpointGenPrefix(resource, key string, gen int64) string {
	return checkpointKeyPrefix(resource, key) + "data/" + fmt.Sprintf("%012d", gen) + "/"
}

func checkpointChunkKey(resource, key string, gen int64, i int) string {
	return checkpointGenPrefix(resource, key, gen) + fmt.Sprintf("%06d", i)
}

// genOf parses the generation out of a chunk key of the given key prefix.
func genOf(kp, chunkKey string) (int64, bool) {
	rest, ok := strings.CutPrefix(chunkKey, kp+"data/")
	if !ok {
		return 0, false
	}
	g, _, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(g, 10, 64)
	return n, err == nil
}

// Meta reads a key's checkpoint record and its ModRevision; ErrNoCheckpoint when the
// key has never been captured.
func (s *CheckpointStore) Meta(ctx context.Context, resource, key string) (CheckpointMeta, int64, error) {
	resp, err := s.cli.Get(ctx, checkpointMetaKey(resource, key))
	if err != nil {
		return CheckpointMeta{}, 0, fmt.Errorf("clusterdb: read checkpoint %s of %s: %w", key, resource, err)
	}
	return decodeMeta(resource, key, resp)
}

func decodeMeta(resource, key string, resp *clientv3.GetResponse) (CheckpointMeta, int64, error) {
	var m CheckpointMeta
	if len(resp.Kvs) == 0 {
		return m, 0, checkpointErr(resource, key, ErrNoCheckpoint)
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &m); err != nil {
		return m, 0, fmt.Errorf("clusterdb: decode checkpoint %s of %s: %w", key, resource, err)
	}
	return m, resp.Kvs[0].ModRevision, nil
}

// CheckpointError says which resource and key an error is about.
type CheckpointError struct {
	Resource, Key string
	Err           error
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("checkpoint %s of resource %q: %v", e.Key, e.Resource, e.Err)
}
func (e *CheckpointError) Unwrap() error { return e.Err }

func checkpointErr(resource, key string, err error) error {
	return &CheckpointError{Resource: resource, Key: key, Err: err}
}

// Put commits data as the newest version of key, fenced by f: it fails with ErrFenced
// when f's node no longer owns the group. v supplies Time, Node and Digest; the store
// fills in the rest. keep bounds the versions kept (DefaultCheckpointHistory when < 1).
//
// When v has a Digest equal to the newest version's, nothing is written and Put returns
// that version: the content is already committed. This happens when a writer's earlier
// Put was committed although its caller saw an error (a context cancelled after the
// request had left, as when a resource goes offline during a capture), and it keeps
// such a retry from adding a copy.
func (s *CheckpointStore) Put(ctx context.Context, f Fence, resource, key string, data []byte, v CheckpointVersion, keep int) (CheckpointVersion, error) {
	if keep < 1 {
		keep = DefaultCheckpointHistory
	}
	chunk := s.ChunkSize
	if chunk <= 0 {
		chunk = DefaultCheckpointChunkSize
	}
	sum := sha256.Sum256(data)
	v.Size, v.Hash = int64(len(data)), hex.EncodeToString(sum[:])
	v.Chunks = max(1, (len(data)+chunk-1)/chunk)
	if v.Time.IsZero() {
		v.Time = time.Now()
	}
	v.Time = v.Time.UTC()
	kp := checkpointKeyPrefix(resource, key)
	mk := kp + "meta"
	for {
		// One read gives meta and which generations exist, so that leftovers of a
		// writer that died mid-capture can be cleared.
		rd, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(mk),
			clientv3.OpGet(kp+"data/", clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		).Commit()
		if err != nil {
			return v, fmt.Errorf("clusterdb: read checkpoint %s of %s: %w", key, resource, err)
		}
		metaResp := (*clientv3.GetResponse)(rd.Responses[0].GetResponseRange())
		m, rev, err := decodeMeta(resource, key, metaResp)
		if err != nil && !errors.Is(err, ErrNoCheckpoint) {
			return v, err
		}
		if m.Next < 1 {
			m.Next = 1
		}
		if last, ok := m.Latest(); ok && v.Digest != "" && last.Digest == v.Digest {
			return last, nil
		}
		m.Resource, m.Key = resource, key
		v.Number, v.Gen = m.Next, int64(m.Next)
		live := map[int64]bool{}
		for _, old := range m.Versions {
			live[old.Gen] = true
		}
		stale := map[int64]bool{}
		for _, kv := range rd.Responses[1].GetResponseRange().Kvs {
			if g, ok := genOf(kp, string(kv.Key)); ok && !live[g] {
				stale[g] = true
			}
		}
		var clear []clientv3.Op
		for _, g := range slices.Sorted(maps.Keys(stale)) {
			clear = append(clear, clientv3.OpDelete(checkpointGenPrefix(resource, key, g), clientv3.WithPrefix()))
		}
		if len(clear) > 0 {
			if err := s.fenced(ctx, f, clear...); err != nil {
				return v, checkpointErr(resource, key, err)
			}
		}
		// Chunks of a checkpoint larger than one chunk are written before the switch;
		// the last (or only) chunk goes into the switching transaction.
		for i := 0; i < v.Chunks-1; i++ {
			op := clientv3.OpPut(checkpointChunkKey(resource, key, v.Gen, i), string(data[i*chunk:(i+1)*chunk]))
			if err := s.fenced(ctx, f, op); err != nil {
				return v, checkpointErr(resource, key, err)
			}
		}
		last := data[(v.Chunks-1)*chunk:]
		m.Next++
		m.Versions = append(m.Versions, v)
		ops := []clientv3.Op{clientv3.OpPut(checkpointChunkKey(resource, key, v.Gen, v.Chunks-1), string(last))}
		ops = append(ops, pruneOps(resource, key, &m, keep)...)
		ops = append(ops, opPutJSON(mk, m))
		cmps := append(f.Cmps(), metaCmp(mk, rev))
		resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Else(
			clientv3.OpGet(OwnerKey(f.Group)),
		).Commit()
		if err != nil {
			return v, fmt.Errorf("clusterdb: commit checkpoint %s of %s: %w", key, resource, err)
		}
		if resp.Succeeded {
			return v, nil
		}
		if !fenceHolds(f, resp.Responses[0].GetResponseRange().Kvs) {
			return v, checkpointErr(resource, key, objErr("group", f.Group, ErrFenced))
		}
		// meta changed under us (a rollback): read again and retry.
		if err := ctx.Err(); err != nil {
			return v, err
		}
	}
}

func fenceHolds(f Fence, kvs []*mvccpb.KeyValue) bool {
	return len(kvs) == 1 && string(kvs[0].Value) == f.Node && kvs[0].ModRevision == f.Revision
}

func metaCmp(mk string, rev int64) clientv3.Cmp {
	if rev == 0 {
		return clientv3.Compare(clientv3.CreateRevision(mk), "=", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(mk), "=", rev)
}

// pruneOps drops the oldest versions beyond keep from m and returns the deletes of the
// generations no kept version names any more.
func pruneOps(resource, key string, m *CheckpointMeta, keep int) []clientv3.Op {
	if len(m.Versions) <= keep {
		return nil
	}
	// At most maxPrunePerTxn versions go per commit, so that the transaction stays
	// within etcd's limit on operations (128 by default) when the limit was lowered.
	n := min(len(m.Versions)-keep, maxPrunePerTxn)
	dropped := m.Versions[:n]
	m.Versions = slices.Clone(m.Versions[n:])
	live := map[int64]bool{}
	for _, v := range m.Versions {
		live[v.Gen] = true
	}
	var ops []clientv3.Op
	done := map[int64]bool{}
	for _, v := range dropped {
		if !live[v.Gen] && !done[v.Gen] {
			done[v.Gen] = true
			ops = append(ops, clientv3.OpDelete(checkpointGenPrefix(resource, key, v.Gen), clientv3.WithPrefix()))
		}
	}
	return ops
}

// fenced runs ops if f holds.
func (s *CheckpointStore) fenced(ctx context.Context, f Fence, ops ...clientv3.Op) error {
	resp, err := s.cli.Txn(ctx).If(f.Cmps()...).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("clusterdb: fenced write for group %s: %w", f.Group, err)
	}
	if !resp.Succeeded {
		return objErr("group", f.Group, ErrFenced)
	}
	return nil
}

// Latest returns the newest committed version of key and its bytes.
func (s *CheckpointStore) Latest(ctx context.Context, resource, key string) (CheckpointVersion, []byte, error) {
	return s.Version(ctx, resource, key, 0)
}

// Version returns version n of key and its bytes (n == 0: the newest). The bytes are
// read at the revision of the meta record, so they are always one whole version.
func (s *CheckpointStore) Version(ctx context.Context, resource, key string, n int) (CheckpointVersion, []byte, error) {
	for {
		resp, err := s.cli.Get(ctx, checkpointMetaKey(resource, key))
		if err != nil {
			return CheckpointVersion{}, nil, fmt.Errorf("clusterdb: read checkpoint %s of %s: %w", key, resource, err)
		}
		m, _, err := decodeMeta(resource, key, resp)
		if err != nil {
			return CheckpointVersion{}, nil, err
		}
		v, ok := m.find(n)
		if !ok {
			return CheckpointVersion{}, nil, checkpointErr(resource, key, ErrNoCheckpoint)
		}
		data, err := s.readChunks(ctx, resource, key, v, resp.Header.Revision)
		if errors.Is(err, rpctypes.ErrCompacted) {
			continue // the revision was compacted away between the reads: read again
		}
		if err != nil {
			return v, nil, err
		}
		return v, data, nil
	}
}

func (m *CheckpointMeta) find(n int) (CheckpointVersion, bool) {
	if n == 0 {
		return m.Latest()
	}
	for _, v := range m.Versions {
		if v.Number == n {
			return v, true
		}
	}
	return CheckpointVersion{}, false
}

func (s *CheckpointStore) readChunks(ctx context.Context, resource, key string, v CheckpointVersion, rev int64) ([]byte, error) {
	if v.Size < 0 || v.Chunks < 1 {
		return nil, checkpointErr(resource, key, fmt.Errorf("version %d: bad size %d or chunk count %d", v.Number, v.Size, v.Chunks))
	}
	data := make([]byte, 0, v.Size)
	for i := range v.Chunks {
		resp, err := s.cli.Get(ctx, checkpointChunkKey(resource, key, v.Gen, i), clientv3.WithRev(rev))
		if err != nil {
			return nil, fmt.Errorf("clusterdb: read checkpoint %s of %s: %w", key, resource, err)
		}
		if len(resp.Kvs) == 0 {
			return nil, checkpointErr(resource, key, fmt.Errorf("version %d: chunk %d of %d missing", v.Number, i, v.Chunks))
		}
		if int64(len(data)+len(resp.Kvs[0].Value)) > v.Size {
			return nil, checkpointErr(resource, key, fmt.Errorf("version %d: chunks exceed %d bytes", v.Number, v.Size))
		}
		data = append(data, resp.Kvs[0].Value...)
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != v.Size || hex.EncodeToString(sum[:]) != v.Hash {
		return nil, checkpointErr(resource, key, fmt.Errorf("version %d: content does not match its hash", v.Number))
	}
	return data, nil
}

// History returns the kept versions of key, oldest first.
func (s *CheckpointStore) History(ctx context.Context, resource, key string) ([]CheckpointVersion, error) {
	m, _, err := s.Meta(ctx, resource, key)
	if err != nil {
		return nil, err
	}
	return m.Versions, nil
}

// Rollback makes a copy of version n the newest version of key, recorded as captured by
// node. It is an administrator's action and not fenced; it is serialized with captures
// by the meta record's revision.
func (s *CheckpointStore) Rollback(ctx context.Context, resource, key string, n int, node string, keep int) (CheckpointVersion, error) {
	if keep < 1 {
		keep = DefaultCheckpointHistory
	}
	mk := checkpointMetaKey(resource, key)
	for {
		m, rev, err := s.Meta(ctx, resource, key)
		if err != nil {
			return CheckpointVersion{}, err
		}
		old, ok := m.find(n)
		if !ok || n == 0 {
			return CheckpointVersion{}, checkpointErr(resource, key, fmt.Errorf("version %d: %w", n, ErrNoCheckpoint))
		}
		v := old
		v.Number, v.Time, v.Node, v.RolledBackFrom = m.Next, time.Now().UTC(), node, old.Number
		m.Next++
		m.Versions = append(m.Versions, v)
		ops := append(pruneOps(resource, key, &m, keep), opPutJSON(mk, m))
		resp, err := s.cli.Txn(ctx).If(metaCmp(mk, rev)).Then(ops...).Commit()
		if err != nil {
			return v, fmt.Errorf("clusterdb: roll back checkpoint %s of %s: %w", key, resource, err)
		}
		if resp.Succeeded {
			return v, nil
		}
		if err := ctx.Err(); err != nil {
			return v, err
		}
	}
}

// DeleteKey removes every version of key.
func (s *CheckpointStore) DeleteKey(ctx context.Context, resource, key string) error {
	if _, err := s.cli.Delete(ctx, checkpointKeyPrefix(resource, key), clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("clusterdb: delete checkpoint %s of %s: %w", key, resource, err)
	}
	return nil
}

// DeleteResource removes every checkpoint of resource.
func (s *CheckpointStore) DeleteResource(ctx context.Context, resource string) error {
	if _, err := s.cli.Delete(ctx, CheckpointResourcePrefix(resource), clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("clusterdb: delete checkpoints of %s: %w", resource, err)
	}
	return nil
}

// Checkpoints lists the meta records of every checkpointed key, by resource key name.
func (s *CheckpointStore) Checkpoints(ctx context.Context) ([]CheckpointMeta, error) {
	resp, err := s.cli.Get(ctx, CheckpointsPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("clusterdb: list checkpoints: %w", err)
	}
	var out []CheckpointMeta
	for _, kv := range resp.Kvs {
		if !strings.HasSuffix(string(kv.Key), "/meta") {
			continue
		}
		r, err := s.cli.Get(ctx, string(kv.Key))
		if err != nil {
			return nil, fmt.Errorf("clusterdb: list checkpoints: %w", err)
		}
		if len(r.Kvs) == 0 {
			continue
		}
		var m CheckpointMeta
		if err := json.Unmarshal(r.Kvs[0].Value, &m); err != nil {
			return nil, fmt.Errorf("clusterdb: decode %s: %w", kv.Key, err)
		}
		out = append(out, m)
	}
	return out, nil
}
