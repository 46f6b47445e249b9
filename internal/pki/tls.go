package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// ServerCertificate loads the node's certificate and key for a TLS server, with the CA
// certificate appended to the chain: a joining node finds there the CA that its join
// token pins.
func (p Paths) ServerCertificate() (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(p.NodeCert, p.NodeKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: node certificate: %w", err)
	}
	caPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %w", err)
	}
	ca, err := ParseCert(caPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: %s: %w", p.CACert, err)
	}
	cert.Certificate = append(cert.Certificate[:1:1], ca.Raw)
	return cert, nil
}

// CAPool returns a pool that holds the cluster CA alone.
func (p Paths) CAPool() (*x509.CertPool, error) {
	b, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("pki: %s: %w", p.CACert, ErrPEM)
	}
	return pool, nil
}

// ClientTLS is the configuration with which a node talks to other nodes: it presents the
// node's certificate and trusts only the cluster CA, for ServerName.
func (p Paths) ClientTLS() (*tls.Config, error) {
	cfg, err := p.RootTLS()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(p.NodeCert, p.NodeKey)
	if err != nil {
		return nil, fmt.Errorf("pki: node certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// RootTLS is the configuration of a client that trusts only the cluster CA (the CLIs):
// it verifies ServerName, which every node certificate carries.
func (p Paths) RootTLS() (*tls.Config, error) {
	pool, err := p.CAPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, ServerName: ServerName, MinVersion: tls.VersionTLS12}, nil
}

// PinnedTLS is the configuration of a joining node, which knows the cluster's CA only by
// the hash in its join token: the handshake fails, before any request byte is sent,
// unless the server's chain holds a CA certificate with that hash and the server's
// certificate is signed by it for ServerName.
func PinnedTLS(hash string) *tls.Config {
	return &tls.Config{
		ServerName: ServerName,
		MinVersion: tls.VersionTLS12,
		// The chain is checked against the pin in VerifyConnection instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return VerifyPinned(cs.PeerCertificates, hash)
		},
	}
}

// VerifyPinned checks that chain (the server's certificates, leaf first) holds the CA
// whose Hash is hash and that the leaf is a server certificate for ServerName from it.
func VerifyPinned(chain []*x509.Certificate, hash string) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: no certificate", ErrPin)
	}
	var ca *x509.Certificate
	for _, c := range chain[1:] {
		if c.IsCA && Hash(c) == hash {
			ca = c
			break
		}
	}
	if ca == nil {
		return ErrPin
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: ServerName,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("%w: %w", ErrPin, err)
	}
	return nil
}
