package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
)

// ContentDigest returns a digest of a hive's bytes.
func ContentDigest(hive []byte) string {
	sum := sha256.Sum256(hive)
	return hex.EncodeToString(sum[:])
}
