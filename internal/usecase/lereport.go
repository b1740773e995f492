package usecase

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/cybertip"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/scan"
)

// Drafts opens the law-enforcement report a decision asks for, prefilled
// with everything the service knows: the incident type from the case's
// category, the incident time from the first upload, the account reported
// with the addresses the platform sent, each preserved file with its
// hashes and whether a person viewed it, the reporter from settings. A
// person still checks the draft, makes it ready and submits it; nothing
// here sends anything.
type Drafts struct {
	// Evidence holds the case's preserved content; without it a draft
	// has no files (and the API refuses law-enforcement reports).
	Evidence *evidence.Store
	// Scans are the scan records the case's rule reports name: the
	// evidence each kept, its upload time and its PDQ hash.
	Scans    scan.Store
	Reporter lereport.Reporter
	// Recipient of the drafts; cybertip.Recipient if empty.
	Recipient string
	// Conversations, if set, adds the conversations around the accounts'
	// flagged messages.
	Conversations lereport.Conversations
	Now           func() time.Time
}

// Audit actions of the drafting.
const (
	AuditLEOpen    = "lereport.create"     // a draft was opened
	AuditLEWithout = "lereport.not_opened" // a decision asked for a report that could not be opened
)

// wantsReport says why the decision on case c (whose reports are rs) asks
// for a law-enforcement report, or "" if it does not: a person confirmed
// it and chose the le_report action, or it is a match of known CSAM in a
// bank (a match Safeguard computed), or a rule whose action is report
// filed it. Automatic decisions never do: they are not a person's.
func wantsReport(ctx context.Context, scans scan.Store, c review.Case, rs []review.Report, dec review.Decision) string {
	if dec.Pending || dec.Verdict != review.Confirm || dec.Reviewer == review.System {
		return ""
	}
	if slices.Contains(dec.Actions, review.SendToLE) {
		return "the reviewer chose le_report"
	}
	if c.Category == review.KnownCSAM && slices.ContainsFunc(c.Signals.Matches, func(m match.Match) bool { return !m.Claimed }) {
		return "a confirmed match of known CSAM"
	}
	for _, r := range rs {
		if rec, ok := ruleScan(ctx, scans, r); ok && rec.Decision.Has(rules.Report) {
			return fmt.Sprintf("rule %d's action is report", r.Rule.ID)
		}
	}
	return ""
}

// ruleScan is the scan record a rule's report names ("scan <id>").
func ruleScan(ctx context.Context, scans scan.Store, r review.Report) (scan.Record, bool) {
	id, ok := strings.CutPrefix(r.Text, "scan ")
	if r.Source != review.Rule || !ok || scans == nil {
		return scan.Record{}, false
	}
	rec, err := scans.ScanRecord(ctx, id)
	return rec, err == nil
}

// reportOf returns the report of case caseID that is not retracted, if any.
func reportOf(ctx context.Context, st lereport.Store, caseID string) (lereport.Report, bool, error) {
	for _, s := range []lereport.State{lereport.Draft, lereport.Ready, lereport.Submitted, lereport.Acknowledged} {
		have, err := st.LEReports(ctx, s)
		if err != nil {
			return lereport.Report{}, false, err
		}
		if i := slices.IndexFunc(have, func(r lereport.Report) bool { return r.CaseID == caseID }); i >= 0 {
			return have[i], true, nil
		}
	}
	return lereport.Report{}, false, nil
}

// open opens the draft for case c in tx, unless the case has a report
// already (one not retracted), and records it as actor's. why is the
// reason it is reported.
func (d *Drafts) open(ctx context.Context, tx Stores, log *audit.Log, actor string, c review.Case, rs []review.Report, dec review.Decision, why string) (lereport.Report, error) {
	caseID := strconv.FormatInt(c.ID, 10)
	switch {
	case tx.LEReports == nil:
		return lereport.Report{}, record(ctx, log, audit.System, AuditLEWithout, "case:"+caseID, map[string]any{"why": why, "error": "this store keeps no law-enforcement reports"})
	case d.Evidence == nil:
		return lereport.Report{}, record(ctx, log, audit.System, AuditLEWithout, "case:"+caseID, map[string]any{"why": why, "error": "this server keeps no evidence (no keyring)"})
	}
	if have, ok, err := reportOf(ctx, tx.LEReports, caseID); err != nil || ok {
		return have, err
	}
	inc, err := d.Incident(ctx, log, c, rs, dec)
	if err != nil {
		return lereport.Report{}, err
	}
	b := &lereport.Builder{Reporter: d.Reporter, Views: lereport.AuditViews{Log: tx.Audit}, Now: d.Now}
	draft, err := b.Build(ctx, inc)
	if err != nil {
		return lereport.Report{}, err
	}
	draft.History = []lereport.Change{{To: lereport.Draft, Actor: actor, At: draft.Created,
		Note: fmt.Sprintf("opened on %s's decision on case %s: %s", dec.Reviewer, caseID, why)}}
	created, err := tx.LEReports.CreateLEReport(ctx, draft)
	if err != nil {
		return lereport.Report{}, fmt.Errorf("opening the law-enforcement report of case %s: %w", caseID, err)
	}
	return created, record(ctx, log, actor, AuditLEOpen, lereport.Subject(created.ID), map[string]any{
		"case": c.ID, "recipient": created.Recipient, "files": len(created.Files), "reviewer": dec.Reviewer, "why": why, "prefilled": true,
	})
}

// OpenReport opens the prefilled draft of confirmed case id for actor: a
// liaison reporting a case no decision opened a report for. A case with a
// report already is refused (Exists, naming it), as is one without a
// standing confirmation (WrongState).
func (u *Review) OpenReport(ctx context.Context, actor string, id int64) (lereport.Report, error) {
	if u.Desk == nil || u.Drafts == nil {
		return lereport.Report{}, fmt.Errorf("law-enforcement drafts are not available on this server: %w", derrors.Unavailable)
	}
	if u.Drafts.Evidence == nil {
		return lereport.Report{}, fmt.Errorf("law-enforcement reports need the evidence store, and this server has no evidence key: %w", derrors.Unavailable)
	}
	var out lereport.Report
	err := u.Tx(ctx, func(tx Stores) error {
		d := u.Desk
		if tx.Review != nil {
			d = d.In(tx.Review, tx.ReviewIndex)
		}
		c, _, rs, err := d.Case(ctx, id)
		if err != nil {
			return err
		}
		dec, ok := standing(c)
		if !ok || dec.Verdict != review.Confirm {
			return fmt.Errorf("case %d is %s: %w", id, c.State, errNotConfirmed)
		}
		caseID := strconv.FormatInt(id, 10)
		if have, ok, err := reportOf(ctx, tx.LEReports, caseID); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("case %d has law-enforcement report %d already (%s): edit that one: %w", id, have.ID, have.State, derrors.Exists)
		}
		out, err = u.Drafts.open(ctx, tx, u.Log.In(tx.Audit), actor, c, rs, dec, "asked for by "+actor)
		return err
	})
	return out, err
}

// errNotConfirmed refuses a report of a case nobody confirmed.
var errNotConfirmed = derrors.New(derrors.WrongState, "no standing confirmation: only confirmed cases are reported").WithCode("not_confirmed")

// standing is c's standing decision: the last that is not a pending first
// dismissal.
func standing(c review.Case) (review.Decision, bool) {
	for _, d := range slices.Backward(c.Decisions) {
		if !d.Pending {
			return d, true
		}
	}
	return review.Decision{}, false
}

// Incident gathers what the service knows of case c for a report: the
// Builder's input. Each preserved file is read (recorded as the system's
// evidence.read, purpose "report", which never counts as a person's view).
func (d *Drafts) Incident(ctx context.Context, log *audit.Log, c review.Case, rs []review.Report, dec review.Decision) (lereport.Incident, error) {
	recipient := d.Recipient
	if recipient == "" {
		recipient = cybertip.Recipient
	}
	caseID := strconv.FormatInt(c.ID, 10)
	inc := lereport.Incident{CaseID: caseID, Recipient: recipient}
	inc.Summary.IncidentType, inc.Summary.ReportAnnotations = incidentType(c.Category)

	first := c.OpenedAt
	var events []lereport.IPCaptureEvent
	seen := map[string]bool{}
	for _, r := range rs {
		if !r.ReceivedAt.IsZero() && r.ReceivedAt.Before(first) {
			first = r.ReceivedAt
		}
		rec, ok := ruleScan(ctx, d.Scans, r)
		if !ok {
			continue
		}
		if rec.Time.Before(first) {
			first = rec.Time
		}
		if rec.Evidence == "" || seen[rec.Evidence] || d.Evidence == nil || len(inc.Files) == 100 {
			continue
		}
		seen[rec.Evidence] = true
		// The report vouches for the hashes of content kept: checked
		// through, in constant memory, not read whole.
		item, err := d.Evidence.Verify(rec.Evidence)
		if err != nil {
			return inc, fmt.Errorf("case %s: scan %s's evidence: %w", caseID, rec.ID, err)
		}
		if err := record(ctx, log, audit.System, audit.EvidenceRead, item.ID, map[string]string{
			"purpose": "report", "for": "case:" + caseID, "sha256": item.SHA256.String(),
		}); err != nil {
			return inc, err
		}
		f := lereport.EvidenceFile{
			EvidenceID: item.ID, Relevance: lereport.Reported,
			Classification: lereport.Classification(dec.Classification),
			Hashes:         []lereport.FileHash{{Type: "MD5", Value: item.MD5.String()}, {Type: "SHA256", Value: item.SHA256.String()}},
		}
		if c.Category == review.SelfGenerated {
			f.Annotations = lereport.FileAnnotations{lereport.PossibleSelfProduction}
		}
		if p := cmp.Or(item.Meta.PDQ, rec.PDQ); p != "" {
			f.Hashes = append(f.Hashes, lereport.FileHash{Type: "PDQ", Value: p})
		}
		if rec.Visibility != "" {
			public := rec.Visibility == string(rules.Public)
			f.PubliclyAvailable = &public
		}
		if up := item.Meta.Upload; up != nil {
			f.OriginalFileName = up.FileName
			if !up.Time.IsZero() && up.Time.Before(first) {
				first = up.Time
			}
			if ev, ok := uploadEvent(up, rec.Time); ok {
				f.IPCaptureEvents = []lereport.IPCaptureEvent{ev}
				if !slices.ContainsFunc(events, func(e lereport.IPCaptureEvent) bool { return e.IPAddress == ev.IPAddress && e.Port == ev.Port }) {
					events = append(events, ev)
				}
			}
		}
		if f.OriginalFileName == "" && item.Meta.ContentID != "" {
			f.OriginalFileName = item.Meta.ContentID
		}
		inc.Files = append(inc.Files, f)
	}
	inc.Summary.IncidentDateTime = first.UTC()
	if len(c.AccountIDs) > 0 {
		inc.Reported = &lereport.PersonOrUserReported{ESPIdentifier: c.AccountIDs[0], IPCaptureEvents: events}
		if len(c.AccountIDs) > 1 {
			inc.Reported.AdditionalInfo = "other accounts in the case: " + strings.Join(c.AccountIDs[1:], ", ")
		}
	}
	if d.Conversations != nil && len(c.AccountIDs) > 0 {
		msgs, err := d.Conversations.Around(ctx, c.AccountIDs)
		if err != nil {
			return inc, fmt.Errorf("case %s: conversations: %w", caseID, err)
		}
		inc.Internet = lereport.ChatIncidents(msgs[:min(len(msgs), lereport.MaxMessages)], "")
	}
	inc.Info = caseInfo(c, dec)
	return inc, nil
}

// uploadEvent is the IP capture event of an upload, if the platform sent
// its address.
func uploadEvent(up *evidence.Upload, scanned time.Time) (lereport.IPCaptureEvent, bool) {
	addr, err := netip.ParseAddr(up.IP)
	if err != nil {
		return lereport.IPCaptureEvent{}, false
	}
	at := up.Time
	if at.IsZero() {
		at = scanned
	}
	at = at.UTC()
	return lereport.IPCaptureEvent{IPAddress: addr, EventName: lereport.Upload, DateTime: &at, Port: up.Port}, true
}

// incidentType is the CyberTipline's incident type for a case's category;
// empty where a person must choose (the draft cannot become ready until
// they do).
func incidentType(cat review.Category) (lereport.IncidentType, lereport.ReportAnnotations) {
	switch cat {
	case review.KnownCSAM, review.SuspectedCSAM, review.SelfGenerated:
		return lereport.ChildPornography, nil
	case review.Sextortion:
		return lereport.OnlineEnticement, lereport.ReportAnnotations{lereport.Sextortion}
	case review.Grooming:
		return lereport.OnlineEnticement, nil
	}
	return "", nil
}

// caseInfo is the report's additional information: how the service came
// to know, which police ask first.
func caseInfo(c review.Case, dec review.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Case %d (%s), confirmed by a person (%s) at %s", c.ID, c.Category, dec.Reviewer, dec.At.UTC().Format(time.RFC3339))
	if dec.Classification != "" {
		fmt.Fprintf(&b, ", classified %s", dec.Classification)
	}
	b.WriteString(".")
	for i, m := range c.Signals.Matches {
		if i == 5 {
			fmt.Fprintf(&b, " And %d more matches.", len(c.Signals.Matches)-5)
			break
		}
		how := "computed by the service"
		if m.Claimed {
			how = "claimed by a reporter"
		}
		fmt.Fprintf(&b, " Matched hash list %q entry %d (%s, distance %d, %s).", m.Bank, m.EntryID, m.Signal, m.Distance, how)
	}
	return b.String()
}
