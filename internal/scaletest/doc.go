// Package scaletest proves, with real wolfpackd processes, what a cluster of more than
// three nodes needs: an odd number of etcd voters and every other node a client of them
// (voters replaced when their node is lost, pinned, counted and shown), placement across
// many nodes (preferred owners, anti-affinity, load), bounded etcd traffic per node,
// backup and restore of the cluster database, and rolling upgrades between schema
// versions. The long run (WOLFPACK_SCALE=64) starts 64 nodes with 10,000 resources and
// measures what BENCHMARKS.md reports; a 16-node version runs in CI. The package has only
// tests.
package scaletest
