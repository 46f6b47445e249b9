package api

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"wolfpack/internal/api/client"
	"wolfpack/internal/api/wire"
	"wolfpack/internal/pki"
)

// ownerAt is a CheckpointService whose resources' group runs on node N2 at api; only
// Locate is called by the forwarding routes on a node that does not own the group.
type ownerAt struct {
	CheckpointService
	api string
}

func (o ownerAt) Locate(context.Context, string) (wire.CheckpointOwner, error) {
	return wire.CheckpointOwner{Node: "N2", API: o.api, Online: true}, nil
}

// tlsNode is an https server with a node certificate of the CA in dataDir, counting the
// requests it gets and remembering the last Authorization header.
func tlsNode(t *testing.T, dataDir string) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	t.Helper()
	cert, err := pki.PathsIn(dataDir).ServerCertificate()
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	var auth atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		WriteJSON(w, http.StatusOK, []wire.CheckpointDrift{})
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &hits, &auth
}

// TestForwardVerifiesOwner: a node forwards a request, with its token, to the owner
// only when the owner shows a certificate of the cluster CA over https; an owner URL in
// etcd that points elsewhere (another CA, plain http) gets nothing.
func TestForwardVerifiesOwner(t *testing.T) {
	cluster, foreign := t.TempDir(), t.TempDir()
	for _, d := range []string{cluster, foreign} {
		if _, err := pki.Bootstrap(d, "N", pki.Hosts("N", "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	peer, err := pki.PathsIn(cluster).ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	roots, err := pki.PathsIn(cluster).RootTLS()
	if err != nil {
		t.Fatal(err)
	}
	good, goodHits, goodAuth := tlsNode(t, cluster)
	bad, badHits, _ := tlsNode(t, foreign)
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { plainHits.Add(1) }))
	t.Cleanup(plain.Close)

	verify := func(ownerAPI string) error {
		s := NewServer("tok", nil)
		s.SetPeerTLS(peer)
		RegisterCheckpoint(s, ownerAt{api: ownerAPI})
		hs := httptest.NewServer(s)
		defer hs.Close()
		var out []wire.CheckpointDrift
		return client.New(hs.URL, "tok", nil).Do(context.Background(), http.MethodGet, "/v1/resources/R/checkpoints/verify", nil, &out)
	}
	if err := verify(bad.URL); err == nil || badHits.Load() != 0 {
		t.Errorf("forward to an owner of another CA: err %v, %d requests received", err, badHits.Load())
	}
	if err := verify(plain.URL); err == nil || !strings.Contains(err.Error(), "not https") || plainHits.Load() != 0 {
		t.Errorf("forward to a plain-http owner: err %v, %d requests received", err, plainHits.Load())
	}
	if err := verify(good.URL); err != nil || goodHits.Load() != 1 || goodAuth.Load() != "Bearer tok" {
		t.Errorf("forward to an owner of the cluster CA: err %v, %d requests, Authorization %v", err, goodHits.Load(), goodAuth.Load())
	}

	// The CLI's client, made from a data directory, trusts that CA alone too, and does not
	// follow a node record to plain http.
	c := client.New(good.URL, "tok", roots)
	if err := c.Do(context.Background(), http.MethodGet, "/", nil, nil); err != nil {
		t.Errorf("a client trusting the cluster CA, to a node of it: %v", err)
	}
	if err := c.WithBase(bad.URL).Do(context.Background(), http.MethodGet, "/", nil, nil); err == nil || badHits.Load() != 0 {
		t.Errorf("a client trusting the cluster CA, to a server of another CA: err %v, %d requests", err, badHits.Load())
	}
	lister := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, []wire.NodeInfo{{Name: "N2", API: plain.URL}})
	}))
	cert, _ := pki.PathsIn(cluster).ServerCertificate()
	lister.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	lister.StartTLS()
	t.Cleanup(lister.Close)
	if _, err := client.New(lister.URL, "tok", roots).Node(context.Background(), "N2"); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("Node to a plain-http API address: %v", err)
	}
}
