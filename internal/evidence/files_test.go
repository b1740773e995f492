package evidence_test

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/evidencetest"
)

func TestDir(t *testing.T) {
	evidencetest.Run(t, func(t *testing.T) (evidence.Files, evidence.Files) {
		d := evidence.Dir(t.TempDir())
		return d, d
	})
}
