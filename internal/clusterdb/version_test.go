package clusterdb

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSchema(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	// The first node of a new cluster records its build's highest version.
	s, err := db.CheckSchema(ctx, "N1", SchemaRange{1, 2})
	if err != nil || s.Version != 2 || s.By != "N1" {
		t.Fatalf("new cluster: %+v, %v; want version 2 by N1", s, err)
	}
	if _, err := db.CheckSchema(ctx, "N2", SchemaRange{2, 3}); err != nil {
		t.Fatalf("a build of 2 to 3 in a cluster at 2: %v", err)
	}
	_, err = db.CheckSchema(ctx, "N3", SchemaRange{1, 1})
	var se *SchemaError
	if !errors.As(err, &se) || !errors.Is(err, ErrSchema) || se.Cluster != 2 {
		t.Fatalf("an older build: %v, want a *SchemaError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "schema version 1,") || !strings.Contains(msg, "schema version 2") {
		t.Errorf("the error names both versions: %s", msg)
	}
	if _, err := db.CheckSchema(ctx, "N4", SchemaRange{3, 3}); !errors.Is(err, ErrSchema) {
		t.Fatalf("a build too new: %v, want ErrSchema", err)
	}
}

func TestCheckSchemaOfAnOlderCluster(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	// A cluster made before versions were recorded: nodes, no version.
	if _, err := db.RegisterNode(ctx, Node{Name: "N1"}); err != nil {
		t.Fatal(err)
	}
	s, err := db.CheckSchema(ctx, "N2", SchemaRange{1, 2})
	if err != nil || s.Version != SchemaInitial {
		t.Fatalf("%+v, %v; want the initial version", s, err)
	}
}

// TestRaiseSchema: the raise goes to the lowest highest version of the registered nodes,
// down ones included and evicted ones not, and fails when a node record changes or
// appears between its read and its transaction.
func TestRaiseSchema(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if _, err := db.CheckSchema(ctx, "N1", SchemaRange{1, 1}); err != nil {
		t.Fatal(err)
	}
	register := func(name string, r SchemaRange) {
		t.Helper()
		if _, err := db.RegisterNode(ctx, Node{Name: name, SchemaMin: r.Min, SchemaMax: r.Max}); err != nil {
			t.Fatal(err)
		}
	}
	register("N1", SchemaRange{1, 2})
	register("N2", SchemaRange{1, 1}) // not upgraded yet (it need not be up)
	if _, ok, s, err := db.RaiseSchema(ctx, "N1"); ok || err != nil || s.Version != 1 {
		t.Fatalf("with a node of 1: raised %v, %v, version %d", ok, err, s.Version)
	}
	register("N2", SchemaRange{1, 2})
	// A node of the old build registers while the raise is under way: the raise fails.
	_, ok, _, err := db.raiseSchema(ctx, "N1", func() { register("N3", SchemaRange{1, 1}) })
	if ok || !errors.Is(err, ErrConflict) {
		t.Fatalf("a node appeared during the raise: raised %v, %v; want ErrConflict", ok, err)
	}
	// And one of a known node changing its range (started again on an old build).
	register("N3", SchemaRange{1, 2})
	_, ok, _, err = db.raiseSchema(ctx, "N1", func() { register("N2", SchemaRange{1, 1}) })
	if ok || !errors.Is(err, ErrConflict) {
		t.Fatalf("a node changed during the raise: raised %v, %v; want ErrConflict", ok, err)
	}
	if _, ok, s, err := db.RaiseSchema(ctx, "N1"); ok || err != nil || s.Version != 1 {
		t.Fatalf("retried with N2 at 1: raised %v, %v, version %d", ok, err, s.Version)
	}
	// N2 is evicted: it no longer counts.
	if err := db.DeleteNode(ctx, "N2"); err != nil {
		t.Fatal(err)
	}
	r, ok, s, err := db.RaiseSchema(ctx, "N1")
	if !ok || err != nil || r.From != 1 || r.To != 2 || s.Version != 2 || s.By != "N1" {
		t.Fatalf("all nodes at 2: %+v %v %+v %v", r, ok, s, err)
	}
	if got, _, _ := db.Schema(ctx); got.Version != 2 {
		t.Fatalf("stored version %d, want 2", got.Version)
	}
	// One way: nothing lowers it.
	register("N4", SchemaRange{1, 1})
	if _, ok, s, _ := db.RaiseSchema(ctx, "N1"); ok || s.Version != 2 {
		t.Fatalf("after a raise: raised %v, version %d", ok, s.Version)
	}
}

// TestGroupKeepsUnknownFields: a build rewriting a group record written by a newer build
// keeps the fields it does not know (the rolling upgrade hazard).
func TestGroupKeepsUnknownFields(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CreateGroup(ctx, NewGroup("G1")); err != nil {
		t.Fatal(err)
	}
	// A newer build adds fields to the record.
	resp, err := db.cli.Get(ctx, GroupKey("G1"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.Kvs[0].Value, &raw); err != nil {
		t.Fatal(err)
	}
	raw["futureField"] = json.RawMessage(`{"a":[1,2]}`)
	raw["futureNumber"] = json.RawMessage(`3000`)
	b, _ := json.Marshal(raw)
	if _, err := db.cli.Put(ctx, GroupKey("G1"), string(b)); err != nil {
		t.Fatal(err)
	}
	// This build changes the record, and renames the group.
	if _, err := db.ModifyGroup(ctx, "G1", func(g *Group) error { g.Description = "changed"; return nil }); err != nil {
		t.Fatal(err)
	}
	g, rev, err := db.Group(ctx, "G1")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RenameGroup(ctx, g, rev, "G2"); err != nil {
		t.Fatal(err)
	}
	resp, err = db.cli.Get(ctx, GroupKey("G2"))
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatal("renamed group not found", err)
	}
	got := map[string]json.RawMessage{}
	if err := json.Unmarshal(resp.Kvs[0].Value, &got); err != nil {
		t.Fatal(err)
	}
	if string(got["futureField"]) != `{"a":[1,2]}` || string(got["futureNumber"]) != "3000" {
		t.Errorf("unknown fields lost: %s", resp.Kvs[0].Value)
	}
	if string(got["description"]) != `"changed"` || string(got["name"]) != `"G2"` {
		t.Errorf("known fields not written: %s", resp.Kvs[0].Value)
	}
	// A record without unknown fields decodes with none.
	var plain Group
	if err := json.Unmarshal([]byte(`{"name":"G","Description":"x"}`), &plain); err != nil || plain.Unknown != nil || plain.Description != "x" {
		t.Errorf("plain record: %+v %v", plain, err)
	}
}
