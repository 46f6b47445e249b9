package api

import (
	"crypto/tls"
	"net/http"
)

// SetPeerTLS sets the TLS configuration with which this node forwards requests to other
// nodes (the node's certificate, trusting the cluster CA alone: pki.Paths.ClientTLS).
// Until it is set, forwarded requests trust the system's roots.
func (s *Server) SetPeerTLS(cfg *tls.Config) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	s.peers = &http.Client{Transport: tr}
}

func (s *Server) peerClient() *http.Client {
	if s.peers == nil {
		return http.DefaultClient
	}
	return s.peers
}
