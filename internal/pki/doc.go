// Package pki is the cluster's public key infrastructure: the cluster CA that the first
// node makes at bootstrap, the node certificates it issues, and the TLS configurations
// that etcd, the HTTP API and the CLIs use with them. It imports nothing of Wolfpack's,
// so that the CLIs can trust a node's CA without linking etcd.
//
// The model is k3s's and kubeadm's: one self-signed CA (ECDSA P-256, crypto/x509) per
// cluster; every node holds a certificate from it that serves both as its server
// certificate (etcd client and peer ports, HTTP API) and as its client certificate (etcd
// clients, peer connections). Every node certificate names ServerName as a DNS SAN, and
// Wolfpack's own clients verify that name against the cluster CA whatever address they
// dial, so a node is trusted for being a member of the cluster, not for its address; the
// node's addresses are SANs too, for the administrator's own tools (curl, etcdctl).
//
// A join token pins the CA by Hash, the SHA-256 of the CA certificate's DER bytes (what
// `openssl x509 -in ca.crt -outform DER | sha256sum` prints). PinnedTLS checks that pin
// during the TLS handshake, before any request byte is written.
//
// Files, under a node's data directory (Paths): tls/ca.crt (0644), tls/ca.key (0600),
// tls/node.crt (0644), tls/node.key (0600).
package pki
