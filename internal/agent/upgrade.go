package agent

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"wolfpack/internal/api/wire"
	"wolfpack/internal/clusterdb"
	"wolfpack/internal/eventlog"
	"wolfpack/internal/winerr"
)

// Rolling upgrade (clusterdb/version.go): a node runs only when its build runs the
// cluster's schema version, checked when it joins (Join) and when it starts (Start);
// the coordinator raises the version once every registered node runs a build that
// supports a higher one, and then has the records migrated.

// ErrorIncompatibleVersions is winerror.h's ERROR_CLUSTER_INCOMPATIBLE_VERSIONS: a join
// refused because the builds cannot run together.
const ErrorIncompatibleVersions = uint32(winerr.ERROR_CLUSTER_INCOMPATIBLE_VERSIONS)

// EventSchemaRaised is Wolfpack's own ClusSvc event (WSFC documents none for an update
// of the cluster functional level): %1 the old schema version, %2 the new one.
const EventSchemaRaised = eventlog.EventSchemaRaised

// SchemaRefusal is the detail of a join refused with ErrorIncompatibleVersions.
type SchemaRefusal struct {
	Node      string `json:"node"`
	SchemaMin int    `json:"schemaMin"`
	SchemaMax int    `json:"schemaMax"`
	Cluster   int    `json:"cluster"` // the cluster's schema version
}

// schemaRange is the range of schema versions this node's build runs.
func (a *Agent) schemaRange() clusterdb.SchemaRange {
	if a.opt.Schema.Max == 0 {
		return clusterdb.BuildSchema()
	}
	return a.opt.Schema
}

// checkSchema refuses to start a node whose build cannot run the cluster's schema
// version (a *clusterdb.SchemaError), and records the version a new cluster starts at.
func (a *Agent) checkSchema(ctx context.Context) error {
	s, err := a.db.CheckSchema(ctx, a.opt.Name, a.schemaRange())
	if err != nil {
		return err
	}
	a.schemaVersion.Store(int64(s.Version))
	a.log.Info("cluster schema version", "version", s.Version, "build", a.schemaRange().String())
	return nil
}

// recheckSchema runs after the node registered its range: a raise that committed between
// checkSchema and the registration did not see this node's record, and then this node
// must not run. (A raise that commits later compares the record and fails.)
func (a *Agent) recheckSchema(ctx context.Context) error {
	s, _, err := a.db.Schema(ctx)
	if err != nil {
		return err
	}
	if r := a.schemaRange(); !r.Contains(s.Version) {
		return &clusterdb.SchemaError{Node: a.opt.Name, Range: r, Cluster: s.Version}
	}
	a.schemaVersion.Store(int64(s.Version))
	return nil
}

// checkJoinSchema refuses a join of a node whose build cannot run the cluster's schema
// version, before the node is given anything.
func (a *Agent) checkJoinSchema(ctx context.Context, req wire.ClusterJoinRequest) error {
	r := clusterdb.SchemaRange{Min: req.SchemaMin, Max: req.SchemaMax}
	if r.Max == 0 {
		r = clusterdb.NodeSchema(clusterdb.Node{}) // a build from before schema versions
	}
	s, _, err := a.db.Schema(ctx)
	if err != nil {
		return err
	}
	if r.Contains(s.Version) {
		return nil
	}
	se := &clusterdb.SchemaError{Node: wire.Clip(req.Name), Range: r, Cluster: s.Version}
	a.log.Warn("join refused: schema version", "node", se.Node, "build", r.String(), "cluster", s.Version)
	detail, _ := json.Marshal(SchemaRefusal{Node: se.Node, SchemaMin: r.Min, SchemaMax: r.Max, Cluster: s.Version})
	return &wire.Error{Status: wire.StatusConflict, Code: ErrorIncompatibleVersions, Message: se.Error(), Detail: detail}
}

// upgradeSchema is the coordinator's part of a rolling upgrade, on each pass: raise the
// schema version when every registered node's build runs a higher one, and migrate the
// records to the version.
func (a *Agent) upgradeSchema(ctx context.Context, s *clusterdb.Snapshot) {
	known := int(a.schemaVersion.Load())
	lowest := 0
	for _, n := range s.Nodes {
		if m := clusterdb.NodeSchema(n).Max; !n.Evicted && (lowest == 0 || m < lowest) {
			lowest = m
		}
	}
	if lowest > known {
		r, ok, cs, err := a.db.RaiseSchema(ctx, a.opt.Name)
		switch {
		case errors.Is(err, clusterdb.ErrConflict):
			// A node record changed meanwhile: look again with the next snapshot.
			a.log.Info("schema version raise deferred: a node record changed meanwhile")
			go func() { sleep(ctx, 200*time.Millisecond); a.poke() }()
			return
		case err != nil:
			a.log.Warn("schema version raise", "err", err)
			return
		case ok:
			a.log.Info("cluster schema version raised: every node runs a build that supports it",
				"from", r.From, "to", r.To, "lowest", r.Lowest)
			a.opt.Report(ctx, EventSchemaRaised, strconv.Itoa(r.From), strconv.Itoa(r.To))
		}
		a.schemaVersion.Store(int64(cs.Version))
	}
	if v := int(a.schemaVersion.Load()); v > clusterdb.SchemaInitial {
		if n, err := a.db.Migrate(ctx, v, s); err != nil {
			a.log.Warn("schema migration", "version", v, "err", err)
		} else if n > 0 {
			a.log.Info("records migrated to the cluster's schema version", "version", v, "records", n)
		}
	}
}

// SchemaVersion reads the cluster's schema version (cluster /prop ClusterSchemaVersion).
func (a *Agent) SchemaVersion(ctx context.Context) (int, error) {
	s, _, err := a.db.Schema(ctx)
	return s.Version, err
}

// schemaProperty is the cluster's schema version as cluster /prop lists it (WSFC's
// ClusterFunctionalLevel plays its part there); "?" when it cannot be read.
func (a *Agent) schemaProperty(ctx context.Context) wire.ClusterProperty {
	p := wire.ClusterProperty{Name: "ClusterSchemaVersion", Type: "D", Value: "?"}
	if v, err := a.SchemaVersion(ctx); err == nil {
		p.Value = strconv.Itoa(v)
	}
	return p
}
