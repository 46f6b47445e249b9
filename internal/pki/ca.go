package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// ServerName is the DNS name in every node certificate. Wolfpack's clients (etcd clients,
// peers, request forwarding, the CLIs) send it as the TLS server name and verify it, so
// a node answers with its cluster certificate even where --tls-cert sets another one for
// browsers.
const ServerName = "wolfpack-node"

// Validity of the certificates. A node renews its certificate at start when less than
// RenewBefore is left (it holds the CA key: see doc/CONTRACTS.md).
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	NodeValidity = 365 * 24 * time.Hour
	RenewBefore  = 90 * 24 * time.Hour
)

// maxSANs bounds the names a certificate request may ask for.
const maxSANs = 64

// Errors, compared with errors.Is.
var (
	// ErrPEM: a file or field holds no PEM block of the expected type.
	ErrPEM = errors.New("pki: no PEM block of the expected type")
	// ErrNotCA: the certificate is not a CA certificate.
	ErrNotCA = errors.New("pki: not a CA certificate")
	// ErrKeyMismatch: a private key does not belong to its certificate.
	ErrKeyMismatch = errors.New("pki: the key does not match the certificate")
	// ErrCSR: a certificate request is malformed or asks for too much.
	ErrCSR = errors.New("pki: bad certificate request")
	// ErrPin: the server's certificate chain does not contain the pinned CA.
	ErrPin = errors.New("pki: the server's CA does not match the pinned CA hash")
)

// CA is the cluster's certificate authority.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
}

// NewCA makes a self-signed CA for the cluster.
func NewCA(now time.Time) (*CA, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Wolfpack cluster CA", Organization: []string{"Wolfpack"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: make CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: make CA: %w", err)
	}
	return &CA{Cert: cert, Key: key, CertPEM: pemCert(der)}, nil
}

// ParseCA reads a CA from its certificate and key (PEM).
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, ErrNotCA
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	return &CA{Cert: cert, Key: key, CertPEM: pemCert(cert.Raw)}, nil
}

// KeyPEM returns the CA's private key as PEM (PKCS #8).
func (ca *CA) KeyPEM() ([]byte, error) { return MarshalKey(ca.Key) }

// Hash is the CA's pin: the hex SHA-256 of its certificate's DER bytes.
func (ca *CA) Hash() string { return Hash(ca.Cert) }

// Hash returns the hex SHA-256 of cert's DER bytes, the form a join token pins.
func Hash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// Issue signs a node certificate for pub, named name, valid for hosts (DNS names and IP
// addresses), usable as server and as client certificate.
func (ca *CA) Issue(pub crypto.PublicKey, name string, hosts []string, now time.Time) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: no node name", ErrCSR)
	}
	dns, ips := splitHosts(hosts)
	if len(dns)+len(ips) > maxSANs {
		return nil, fmt.Errorf("%w: %d names (at most %d)", ErrCSR, len(dns)+len(ips), maxSANs)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(NodeValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"Wolfpack"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: issue certificate for %s: %w", name, err)
	}
	return pemCert(der), nil
}

// ParseCSR reads a PEM certificate request and checks its signature.
func ParseCSR(csrPEM []byte) (*x509.CertificateRequest, error) {
	b, _ := pem.Decode(csrPEM)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("%w: %w", ErrCSR, ErrPEM)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCSR, err)
	}
	return csr, nil
}

// SignCSR issues a node certificate for a certificate request (PEM) made by NewCSR: the
// joining node keeps its private key. The request's signature is checked; its common
// name and SANs become the certificate's.
func (ca *CA) SignCSR(csrPEM []byte, now time.Time) ([]byte, error) {
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	if _, ok := csr.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: the key is not ECDSA", ErrCSR)
	}
	hosts := slices.Clone(csr.DNSNames)
	for _, ip := range csr.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return ca.Issue(csr.PublicKey, csr.Subject.CommonName, hosts, now)
}

// NewCSR makes a certificate request for a node certificate signed by key.
func NewCSR(key *ecdsa.PrivateKey, name string, hosts []string) ([]byte, error) {
	dns, ips := splitHosts(hosts)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: name, Organization: []string{"Wolfpack"}},
		DNSNames:    dns,
		IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// NewKey makes an ECDSA P-256 key.
func NewKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: new key: %w", err)
	}
	return k, nil
}

// MarshalKey returns key as PEM (PKCS #8).
func MarshalKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey reads an ECDSA private key (PEM, PKCS #8 or SEC 1).
func ParseKey(keyPEM []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, fmt.Errorf("%w (private key)", ErrPEM)
	}
	switch b.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: private key: %w", err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("pki: private key: %T, not ECDSA", k)
		}
		return ek, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: private key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w (private key, not %q)", ErrPEM, b.Type)
}

// ParseCert reads the first certificate of a PEM file.
func ParseCert(certPEM []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, certPEM = pem.Decode(certPEM)
		if b == nil {
			return nil, fmt.Errorf("%w (certificate)", ErrPEM)
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: certificate: %w", err)
		}
		return c, nil
	}
}

// Covers reports whether cert names every one of hosts.
func Covers(cert *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(cert.DNSNames, h) {
			return false
		}
	}
	return true
}

// Hosts lists the names a node certificate should carry: ServerName, "localhost", the
// loopback addresses, the host name, the node name when it is a valid DNS label, and the
// host part of each listen address (an unspecified one, 0.0.0.0 or ::, stands for every
// address of the machine's interfaces).
func Hosts(nodeName string, addrs ...string) []string {
	hosts := []string{ServerName, "localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if h, err := hostname(); err == nil {
		add(strings.ToLower(h))
	}
	if dnsLabel(nodeName) {
		add(strings.ToLower(nodeName))
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		ip := net.ParseIP(host)
		switch {
		case ip != nil && ip.IsUnspecified():
			for _, s := range interfaceIPs() {
				add(s)
			}
		case ip != nil:
			add(ip.String())
		default:
			add(strings.ToLower(host))
		}
	}
	return hosts
}

func splitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		} else if h != "" && !slices.Contains(dns, h) {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	return s, nil
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
