package clusterdb

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"wolfpack/internal/pki"
)

func TestJoinTokenFormat(t *testing.T) {
	ca, err := pki.NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := NewJoinToken(ca.Hash())
	if err != nil {
		t.Fatal(err)
	}
	s := tok.String()
	if !strings.HasPrefix(s, "WPK2"+ca.Hash()+"::") || len(s) != 4+64+2+64 {
		t.Fatalf("token %q", s)
	}
	again, err := ParseJoinToken(" " + s + "\n")
	if err != nil || again != tok {
		t.Fatalf("ParseJoinToken = %+v, %v", again, err)
	}
	other, _ := NewJoinToken(ca.Hash())
	if other.Secret == tok.Secret {
		t.Fatal("two tokens share a secret")
	}
	for _, bad := range []string{"", "WPK2", "K10" + ca.Hash() + "::" + tok.Secret, "WPK2" + ca.Hash() + tok.Secret,
		"WPK2" + ca.Hash()[2:] + "::" + tok.Secret, "WPK2" + ca.Hash() + "::" + tok.Secret + "0",
		"WPK2" + strings.ToUpper(ca.Hash()) + "::" + tok.Secret, "WPK1000000000000000000000000000000000000000000000000"} {
		_, err := ParseJoinToken(bad)
		if !errors.Is(err, ErrJoinToken) {
			t.Errorf("ParseJoinToken(%q) = %v, want ErrJoinToken", bad, err)
		}
		if len(bad) > 10 && err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("the error repeats the token: %v", err)
		}
	}
	dir := t.TempDir()
	if err := WriteJoinToken(dir, tok); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, JoinTokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("join-token: %v, %v", fi, err)
	}
	if read, err := ReadJoinToken(filepath.Join(dir, JoinTokenFile)); err != nil || read != tok {
		t.Fatalf("ReadJoinToken = %+v, %v", read, err)
	}
}

// TestJoinSecret: the first node's secret is stored once; the check compares with it; a
// rotation replaces it everywhere.
func TestJoinSecret(t *testing.T) {
	db, _ := startEmbeddedTestDB(t, filepath.Join(t.TempDir(), "etcd"))
	ctx := context.Background()
	if err := db.CheckJoinSecret(ctx, "s1"); !errors.Is(err, ErrJoinToken) {
		t.Fatalf("check before any secret: %v", err)
	}
	if cur, err := db.InitJoinSecret(ctx, "s1"); err != nil || !cur {
		t.Fatalf("InitJoinSecret(s1) = %v, %v", cur, err)
	}
	if cur, err := db.InitJoinSecret(ctx, "s2"); err != nil || cur {
		t.Fatalf("InitJoinSecret(s2) after s1 = %v, %v (want false: s1 stays)", cur, err)
	}
	if err := db.CheckJoinSecret(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckJoinSecret(ctx, "s2"); !errors.Is(err, ErrJoinToken) {
		t.Fatalf("check of a wrong secret: %v", err)
	}
	if err := db.SetJoinSecret(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckJoinSecret(ctx, "s1"); !errors.Is(err, ErrJoinToken) {
		t.Fatalf("the old secret after rotation: %v", err)
	}
	if err := db.CheckJoinSecret(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	resp, _ := db.cli.Get(ctx, JoinSecretKey)
	if strings.Contains(string(resp.Kvs[0].Value), `"s2"`) {
		t.Fatalf("etcd holds the secret itself: %s", resp.Kvs[0].Value)
	}

	// The CA of an external-etcd cluster: the first stored wins.
	made := 0
	mk := func() (CARecord, error) { made++; return CARecord{Cert: "C", Key: "K"}, nil }
	rec, err := db.LoadOrCreateCA(ctx, mk)
	if err != nil || rec.Cert != "C" || made != 1 {
		t.Fatalf("LoadOrCreateCA = %+v, %v (made %d)", rec, err, made)
	}
	rec, err = db.LoadOrCreateCA(ctx, func() (CARecord, error) { return CARecord{Cert: "other"}, nil })
	if err != nil || rec.Cert != "C" {
		t.Fatalf("second LoadOrCreateCA = %+v, %v", rec, err)
	}
}

// TestEmbeddedNeedsClientCert: the member's client port serves a client with the node's
// certificate and refuses one without a certificate, or with one from another CA.
func TestEmbeddedNeedsClientCert(t *testing.T) {
	dir := t.TempDir()
	_, e := startEmbeddedTestDB(t, filepath.Join(dir, "etcd"))
	if !strings.HasPrefix(e.ClientURL, "https://") || !strings.HasPrefix(e.PeerURL, "https://") {
		t.Fatalf("URLs %s %s", e.ClientURL, e.PeerURL)
	}
	get := func(cfg *tls.Config) error {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL}, TLS: cfg, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			return err
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = cli.Get(ctx, Prefix)
		return err
	}
	if err := get(e.ClientTLS); err != nil {
		t.Fatalf("with the node's certificate: %v", err)
	}
	noCert := e.ClientTLS.Clone()
	noCert.Certificates, noCert.GetClientCertificate = nil, nil
	if err := get(noCert); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	otherDir := t.TempDir()
	if _, err := pki.Bootstrap(otherDir, "X", []string{pki.ServerName}); err != nil {
		t.Fatal(err)
	}
	foreign, err := pki.PathsIn(otherDir).ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	foreign.RootCAs = e.ClientTLS.RootCAs // it trusts the server; the server must not trust it
	if err := get(foreign); err == nil {
		t.Fatal("a client with another CA's certificate was served")
	}
}
