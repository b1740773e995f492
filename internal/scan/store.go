package scan

import (
	"context"
	"time"

	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// Record is one scan or lookup and what was decided about it: the hashes,
// never the content. It is written before the platform is answered, so
// every answered scan can be explained later.
type Record struct {
	ID         string    `json:"id"` // "scn_" and 32 hex digits
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`  // KindScan or KindLookup
	Actor      string    `json:"actor"` // the API key id
	ContentID  string    `json:"content_id,omitempty"`
	AccountID  string    `json:"account_id,omitempty"`
	Surface    string    `json:"surface,omitempty"`
	Visibility string    `json:"visibility,omitempty"`

	PDQ        string `json:"pdq,omitempty"` // hex; empty when none was sent or computed
	Quality    int    `json:"quality"`       // of PDQ; -1 when unknown
	LowQuality bool   `json:"low_quality,omitempty"`
	MD5        string `json:"md5,omitempty"`
	SHA256     string `json:"sha256,omitempty"`

	Matches  []match.Match  `json:"matches"`
	Decision rules.Decision `json:"decision"`

	Evidence      string `json:"evidence,omitempty"`       // the evidence item kept, if any
	EvidenceError string `json:"evidence_error,omitempty"` // why content that should have been kept was not
}

// Store keeps scan records. The SQLite and PostgreSQL stores implement it;
// scantest has an in-memory one and the suite they all pass.
type Store interface {
	// RecordScan stores rec durably (committed) before returning. A record
	// whose ID exists is refused with an error wrapping derrors.Exists.
	RecordScan(ctx context.Context, rec Record) error
	// ScanRecord returns the record with the id, or an error wrapping
	// derrors.NotFound.
	ScanRecord(ctx context.Context, id string) (Record, error)
}
