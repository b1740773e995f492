package scantest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// Run checks a scan.Store: records round-trip exactly, ids are unique, and
// missing ids are derrors.NotFound.
func Run(t *testing.T, open func(t *testing.T) scan.Store) {
	ctx := context.Background()
	s := open(t)
	full := scan.Record{
		ID: scan.NewID(), Time: time.Date(2026, 11, 25, 2, 3, 4, 567891000, time.UTC), Kind: scan.KindScan,
		Actor: "mfrggzdfmztwq2lk", ContentID: "post-1", AccountID: "acct-9", Surface: "post", Visibility: "public",
		PDQ: "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", Quality: 100,
		MD5: "d41d8cd98f00b204e9800998ecf8427e", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		Matches: []match.Match{{Bank: "iwf", EntryID: 4411, Signal: bank.PDQ, Distance: 6, Category: "A"}},
		Decision: rules.Decision{
			Actions: []rules.Decided{{Action: rules.Action{Kind: rules.Block}, Rule: rules.RuleRef{ID: 7, Version: 3, Name: "block"},
				Match: match.Match{Bank: "iwf", EntryID: 4411, Signal: bank.PDQ, Distance: 6, Category: "A"}}},
			Fired: []rules.RuleRef{{ID: 7, Version: 3, Name: "block"}},
		},
		Evidence: "00112233445566778899aabbccddeeff",
	}
	bare := scan.Record{ID: scan.NewID(), Time: time.Date(2026, 11, 25, 2, 3, 5, 0, time.UTC), Kind: scan.KindLookup,
		Quality: -1, MD5: "d41d8cd98f00b204e9800998ecf8427e", Matches: []match.Match{},
		Decision: rules.Decision{Actions: []rules.Decided{}, Fired: []rules.RuleRef{}}, EvidenceError: "no content to keep"}

	for _, rec := range []scan.Record{full, bare} {
		if err := s.RecordScan(ctx, rec); err != nil {
			t.Fatalf("RecordScan(%s): %v", rec.ID, err)
		}
		got, err := s.ScanRecord(ctx, rec.ID)
		if err != nil {
			t.Fatalf("ScanRecord(%s): %v", rec.ID, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("ScanRecord(%s) =\n%+v\nwant\n%+v", rec.ID, got, rec)
		}
	}
	if err := s.RecordScan(ctx, bare); !errors.Is(err, derrors.Exists) {
		t.Errorf("RecordScan of an existing id: %v, want ErrExists", err)
	}
	if _, err := s.ScanRecord(ctx, scan.NewID()); !errors.Is(err, derrors.NotFound) {
		t.Errorf("ScanRecord of a missing id: %v, want ErrNotFound", err)
	}
}
