// Package export makes the package that answers a data request
// (lerequest.Request): Gather collects the records the request asks for,
// Write puts them in a ZIP file whose manifest lists the size and SHA-256
// of every member, and Verify (or anyone with unzip and sha256sum) checks
// it. It is apart from package lerequest because it reads scan records,
// and package scan sits above the stores that keep requests.
package export

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lerequest"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// Format names the export package format in its manifest.
const Format = "safeguard-le-request-export/1"

// Members of an export package. Each is JSON; manifest.json lists the
// others with their size and SHA-256, as a hotline package's manifest does
// (the same Member shape), so one habit checks both.
const (
	RequestJSON = "request.json" // the request as registered
	ScansJSON   = "scans.json"   // []scan.Record: content metadata and what was decided at intake
	CasesJSON   = "cases.json"   // []review.Case: the review decisions
	ReportsJSON = "reports.json" // []review.Report: reports the platform, users and flaggers sent
	// ConversationsJSON is []lereport.Message: the conversations around
	// the accounts' flagged messages in the period, when the platform sent
	// messages to Safeguard. Only present when there are any.
	ConversationsJSON = "conversations.json"
	ManifestJSON      = "manifest.json" // Manifest
)

// dataMembers are the members every package has besides the manifest.
var dataMembers = []string{RequestJSON, ScansJSON, CasesJSON, ReportsJSON}

// maxManifest bounds manifest.json when verifying a package from outside.
const maxManifest = 1 << 20

// Manifest is manifest.json.
type Manifest struct {
	Format    string           `json:"format"`
	Created   time.Time        `json:"created"`
	RequestID int64            `json:"request_id"`
	Agency    string           `json:"agency"`
	Members   []hotline.Member `json:"members"`
}

// Records are what an export holds for a request.
type Records struct {
	Scans    []scan.Record
	Cases    []review.Case
	Reports  []review.Report
	Messages []lereport.Message // written as conversations.json if any
}

// Store keeps data requests and reads what their exports hold: the scan
// records and the review cases of the accounts. The SQLite and PostgreSQL
// stores are one.
type Store interface {
	lerequest.Store
	Scans
	Cases
}

// Scans finds the scan records of accounts; the SQLite and PostgreSQL
// stores and lerequesttest.Memory implement it.
type Scans interface {
	// AccountScans returns the scan records naming any of the accounts
	// whose time is in [from, to), by time then ID.
	AccountScans(ctx context.Context, accounts []string, from, to time.Time) ([]scan.Record, error)
}

// Cases reads review cases; review.Store is one.
type Cases interface {
	Case(ctx context.Context, id int64) (review.Case, error)
	CaseReports(ctx context.Context, caseID int64) ([]review.Report, error)
	Related(ctx context.Context, contentIDs, accountIDs, digests []string) ([]review.Case, error)
}

// Gather collects the records r asks for: the scan records of its accounts
// in its period; the reports naming its accounts received in the period;
// every report of its linked cases; and the cases of all those reports,
// the linked ones and those about its accounts opened in the period. A
// case's other accounts appear in it as the case lists them; reports about
// other accounts are left out unless the case is linked, so an export
// carries no more about other people than the request asked.
func Gather(ctx context.Context, s Scans, cs Cases, r lerequest.Request) (Records, error) {
	var recs Records
	var err error
	if recs.Scans, err = s.AccountScans(ctx, r.Accounts, r.From, r.To); err != nil {
		return Records{}, fmt.Errorf("request %d: scan records: %w", r.ID, err)
	}
	inPeriod := func(t time.Time) bool { return !t.Before(r.From) && t.Before(r.To) }
	related, err := cs.Related(ctx, nil, r.Accounts, nil)
	if err != nil {
		return Records{}, fmt.Errorf("request %d: cases of its accounts: %w", r.ID, err)
	}
	cases := map[int64]review.Case{}
	for _, id := range r.Cases {
		c, err := cs.Case(ctx, id)
		if err != nil {
			return Records{}, fmt.Errorf("request %d: linked case %d: %w", r.ID, id, err)
		}
		cases[id] = c
	}
	candidates := map[int64]review.Case{}
	for _, c := range related {
		candidates[c.ID] = c
	}
	for id, c := range cases {
		candidates[id] = c
	}
	for _, id := range sortedKeys(candidates) {
		c := candidates[id]
		_, linked := cases[id]
		rs, err := cs.CaseReports(ctx, id)
		if err != nil {
			return Records{}, fmt.Errorf("request %d: reports of case %d: %w", r.ID, id, err)
		}
		kept := false
		for _, rep := range rs {
			if linked || slices.Contains(r.Accounts, rep.AccountID) && inPeriod(rep.ReceivedAt) {
				recs.Reports = append(recs.Reports, rep)
				kept = true
			}
		}
		if linked || kept || inPeriod(c.OpenedAt) {
			recs.Cases = append(recs.Cases, c)
		}
	}
	slices.SortFunc(recs.Reports, func(a, b review.Report) int { return cmp.Compare(a.ID, b.ID) })
	return recs, nil
}

func sortedKeys(m map[int64]review.Case) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Write writes the package of r and recs to w and returns the
// SHA-256 of its manifest, for the audit log and the request's Exports.
func Write(w io.Writer, r lerequest.Request, recs Records, created time.Time) (manifestSum [32]byte, err error) {
	// Empty lists are written as [], not null: a reader should see that
	// nothing was found, not wonder whether the member was filled in.
	nonNil := func(v any, n int) any {
		if n == 0 {
			return []struct{}{}
		}
		return v
	}
	parts := map[string]any{
		RequestJSON: r,
		ScansJSON:   nonNil(recs.Scans, len(recs.Scans)),
		CasesJSON:   nonNil(recs.Cases, len(recs.Cases)),
		ReportsJSON: nonNil(recs.Reports, len(recs.Reports)),
	}
	names := dataMembers
	if len(recs.Messages) > 0 {
		parts[ConversationsJSON] = recs.Messages
		names = append(slices.Clone(names), ConversationsJSON)
	}
	z := zip.NewWriter(w)
	m := Manifest{Format: Format, Created: created.UTC(), RequestID: r.ID, Agency: r.Agency}
	for _, name := range names {
		b, err := json.MarshalIndent(parts[name], "", "  ")
		if err != nil {
			return manifestSum, fmt.Errorf("request %d: %s: %w", r.ID, name, err)
		}
		if err := writeMember(z, name, b, created); err != nil {
			return manifestSum, fmt.Errorf("request %d: %s: %w", r.ID, name, err)
		}
		s := sha256.Sum256(b)
		m.Members = append(m.Members, hotline.Member{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(s[:])})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return manifestSum, err
	}
	if err := writeMember(z, ManifestJSON, mb, created); err != nil {
		return manifestSum, fmt.Errorf("request %d: %s: %w", r.ID, ManifestJSON, err)
	}
	if err := z.Close(); err != nil {
		return manifestSum, fmt.Errorf("request %d: package: %w", r.ID, err)
	}
	return sha256.Sum256(mb), nil
}

func writeMember(z *zip.Writer, name string, b []byte, t time.Time) error {
	f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: t})
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return err
}

// Verify checks a package: every member the manifest lists is there
// with its size and SHA-256, every data member is listed, and nothing is
// added. The error names every member that fails. It returns the manifest
// and its SHA-256, which the audit log's export entry recorded.
func Verify(pkg []byte) (Manifest, [32]byte, error) {
	var m Manifest
	var sum [32]byte
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return m, sum, fmt.Errorf("export: not a ZIP file: %w", err)
	}
	members := map[string]*zip.File{}
	for _, f := range z.File {
		if members[f.Name] != nil {
			return m, sum, fmt.Errorf("export does not verify: %s appears twice", f.Name)
		}
		members[f.Name] = f
	}
	mb, err := hotline.ReadMember(members[ManifestJSON], maxManifest)
	if err != nil {
		return m, sum, fmt.Errorf("export: %s: %w", ManifestJSON, err)
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return m, sum, fmt.Errorf("export: %s: %w", ManifestJSON, err)
	}
	if m.Format != Format {
		return m, sum, fmt.Errorf("export: %s: format %q is not %s", ManifestJSON, m.Format, Format)
	}
	sum = sha256.Sum256(mb)
	var problems []error
	listed := map[string]bool{ManifestJSON: true}
	for _, mem := range m.Members {
		if listed[mem.Name] {
			problems = append(problems, fmt.Errorf("%s: listed twice, or names the manifest", mem.Name))
			continue
		}
		listed[mem.Name] = true
		b, err := hotline.ReadMember(members[mem.Name], mem.Size)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("%s: %w", mem.Name, err))
		case int64(len(b)) != mem.Size:
			problems = append(problems, fmt.Errorf("%s: %d bytes, the manifest says %d", mem.Name, len(b), mem.Size))
		default:
			if s := sha256.Sum256(b); !strings.EqualFold(hex.EncodeToString(s[:]), mem.SHA256) {
				problems = append(problems, fmt.Errorf("%s: SHA-256 %x does not match the manifest's %s (altered)", mem.Name, s, mem.SHA256))
			}
		}
	}
	for _, name := range dataMembers {
		if !listed[name] {
			problems = append(problems, fmt.Errorf("%s: not in the manifest", name))
		}
	}
	for _, f := range z.File {
		if !listed[f.Name] {
			problems = append(problems, fmt.Errorf("%s: not in the manifest (added)", f.Name))
		}
	}
	if len(problems) > 0 {
		return m, sum, fmt.Errorf("export does not verify: %w", errors.Join(problems...))
	}
	return m, sum, nil
}
