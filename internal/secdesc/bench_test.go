package secdesc

import "testing"

// BenchmarkMaximumAllowed is one access check: an unprivileged user's token (five SIDs)
// against the descriptor a key under HKLM\SOFTWARE inherits (six ACEs, the matching one
// third).
func BenchmarkMaximumAllowed(b *testing.B) {
	sd, err := ParseSDDL("O:BAG:SYD:AI(A;ID;KA;;;BA)(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if MaximumAllowed(sd, nobodyTok, KeyMapping) != KEY_READ {
			b.Fatal("wrong rights")
		}
	}
}
