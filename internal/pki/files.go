package pki

import (
	"crypto/ecdsa"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Dir is the directory of the TLS files under a node's data directory.
const Dir = "tls"

// Paths are a node's TLS files.
type Paths struct {
	CACert   string // the cluster CA's certificate (0644)
	CAKey    string // the cluster CA's key (0600); on every node that is an etcd member
	NodeCert string // the node's certificate (0644)
	NodeKey  string // the node's key (0600)
}

// PathsIn returns the TLS files of the data directory dataDir.
func PathsIn(dataDir string) Paths {
	d := filepath.Join(dataDir, Dir)
	return Paths{
		CACert:   filepath.Join(d, "ca.crt"),
		CAKey:    filepath.Join(d, "ca.key"),
		NodeCert: filepath.Join(d, "node.crt"),
		NodeKey:  filepath.Join(d, "node.key"),
	}
}

// HasCA reports whether the CA certificate is there.
func (p Paths) HasCA() bool {
	_, err := os.Stat(p.CACert)
	return err == nil
}

// LoadCA reads the CA (certificate and key).
func (p Paths) LoadCA() (*CA, error) {
	c, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	k, err := os.ReadFile(p.CAKey)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	ca, err := ParseCA(c, k)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", p.CACert, err)
	}
	return ca, nil
}

// WriteCA writes the CA's certificate (0644) and key (0600).
func (p Paths) WriteCA(ca *CA) error {
	key, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	return p.WriteCAFiles(ca.CertPEM, key)
}

// WriteCAFiles writes the CA's certificate and key as given (PEM), after checking that
// they make a CA.
func (p Paths) WriteCAFiles(certPEM, keyPEM []byte) error {
	if _, err := ParseCA(certPEM, keyPEM); err != nil {
		return err
	}
	if err := writeFile(p.CAKey, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(p.CACert, certPEM, 0o644)
}

// WriteNode writes the node's certificate (0644) and key (0600).
func (p Paths) WriteNode(certPEM []byte, key *ecdsa.PrivateKey) error {
	kb, err := MarshalKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(p.NodeKey, kb, 0o600); err != nil {
		return err
	}
	return writeFile(p.NodeCert, certPEM, 0o644)
}

// EnsureNode makes sure the node has a certificate from ca that is valid for more than
// RenewBefore and names every one of hosts, issuing one (with a fresh key if there is
// none) when not. It reports whether it issued one.
func (p Paths) EnsureNode(ca *CA, name string, hosts []string, now time.Time) (bool, error) {
	if cb, err := os.ReadFile(p.NodeCert); err == nil {
		cert, err := ParseCert(cb)
		if err == nil && cert.CheckSignatureFrom(ca.Cert) == nil && cert.Subject.CommonName == name &&
			now.Add(RenewBefore).Before(cert.NotAfter) && Covers(cert, hosts) {
			return false, nil
		}
	}
	var key *ecdsa.PrivateKey
	if kb, err := os.ReadFile(p.NodeKey); err == nil {
		key, _ = ParseKey(kb)
	}
	if key == nil {
		k, err := NewKey()
		if err != nil {
			return false, err
		}
		key = k
	}
	cert, err := ca.Issue(key.Public(), name, hosts, now)
	if err != nil {
		return false, err
	}
	return true, p.WriteNode(cert, key)
}

// Bootstrap makes a new CA and a node certificate in dataDir (the first node of a
// cluster; also tests) and returns the CA.
func Bootstrap(dataDir, name string, hosts []string) (*CA, error) {
	p := PathsIn(dataDir)
	now := time.Now()
	ca, err := NewCA(now)
	if err != nil {
		return nil, err
	}
	if err := p.WriteCA(ca); err != nil {
		return nil, err
	}
	if _, err := p.EnsureNode(ca, name, hosts, now); err != nil {
		return nil, err
	}
	return ca, nil
}

// writeFile writes data to path through a temporary file and a rename, making the
// directory (0700) when missing.
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	return nil
}

func hostname() (string, error) { return os.Hostname() }

// interfaceIPs lists the addresses of the machine's interfaces.
func interfaceIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}
