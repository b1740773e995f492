package ncmec

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// TestFingerprintOf: feedback names each fingerprint kind as NCMEC's API
// spells it, and refuses kinds NCMEC takes no feedback on.
func TestFingerprintOf(t *testing.T) {
	for k, want := range map[exchange.Kind]FingerprintType{
		exchange.MD5: FingerprintMD5, exchange.SHA1: FingerprintSHA1, exchange.PhotoDNA: FingerprintPDNA,
		exchange.PDQ: FingerprintPDQ, exchange.TMK: FingerprintTMK,
	} {
		if got, err := FingerprintOf(k); err != nil || got != want {
			t.Errorf("FingerprintOf(%s) = %q, %v; want %q", k, got, err, want)
		}
	}
	if _, err := FingerprintOf("sha256"); err == nil {
		t.Error("FingerprintOf(sha256): no error")
	}
}
