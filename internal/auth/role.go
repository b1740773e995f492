// Package auth is Safeguard's API-key authentication and role model: keys
// are random secrets stored only as hashes, each key has one Role, and a
// Role's permissions are one table (below), so what a role may do is
// answered in one place and tested there.
//
// The package is the domain only: a Store (SQL under internal/store) keeps
// the keys, internal/api turns the errors into 401 and 403 answers.
package auth

import (
	"errors"
	"fmt"
	"slices"
)

// Role is what a key is for. Every key has exactly one.
type Role string

// The roles. Admin runs the service but sees no content: reviewing and law
// enforcement reports are their own roles, so every look at content is made
// with a key whose purpose says so, and the audit log shows which.
const (
	Admin      Role = "admin"      // banks, rules, webhooks, keys
	Integrator Role = "integrator" // the platform's backend: scan, lookup, forward user reports
	Reviewer   Role = "reviewer"   // works the review queues
	Flagger    Role = "flagger"    // a trusted flagger: files reports
	LELiaison  Role = "le_liaison" // law-enforcement reports and their evidence
	Auditor    Role = "auditor"    // reads everything but content and evidence, changes nothing
	Partner    Role = "partner"    // another Safeguard instance pulling the banks this one publishes
)

// Permission is one thing a request may do. Routes ask for one each.
type Permission string

// The permissions.
const (
	Scan          Permission = "scan"           // POST /v1/scan
	Lookup        Permission = "lookup"         // POST /v1/lookup
	BanksRead     Permission = "banks.read"     // bank names, entries and their provenance
	BanksWrite    Permission = "banks.write"    // create and delete banks, add and remove entries
	BanksExport   Permission = "banks.export"   // download whole hash lists
	RulesRead     Permission = "rules.read"     //
	RulesWrite    Permission = "rules.write"    //
	KeysRead      Permission = "keys.read"      // list keys (never their secrets)
	KeysAdmin     Permission = "keys.admin"     // create and revoke keys
	AuditRead     Permission = "audit.read"     // read and verify the audit log
	WebhooksAdmin Permission = "webhooks.admin" // endpoints, dead letters, replays
	ReportsCreate Permission = "reports.create" // file a report about content or an account
	Review        Permission = "review"         // see queued content and decide cases
	ReviewRead    Permission = "review.read"    // queues, cases and time to action, deciding nothing
	AppealsCreate Permission = "appeals.create" // appeal a decision for the uploader
	LEReports     Permission = "le.reports"     // law-enforcement reports and preserved evidence
	// TransparencyRead: the transparency report's figures (counts and
	// times, never content or who reported).
	TransparencyRead Permission = "transparency.read"
	FeedsRead        Permission = "feeds.read"   // the published banks' signed feeds (docs/exchanges.md)
	Notices          Permission = "notices"      // register notices to outside hosts, withdraw them
	NoticesRead      Permission = "notices.read" // notices, their checks and sendings, per-host figures
)

// grants is the permission model: every permission, whether it only reads,
// and the roles that have it. The integrator has neither banks.read nor
// banks.export: hash lists are confidential, since a leaked list teaches
// offenders which images to alter, so a scan says only whether and where
// content matched, never what the list holds.
var grants = []struct {
	perm     Permission
	readOnly bool
	roles    []Role
}{
	{Scan, false, []Role{Admin, Integrator}},
	{Lookup, false, []Role{Admin, Integrator}},
	{BanksRead, true, []Role{Admin, Auditor}},
	{BanksWrite, false, []Role{Admin}},
	{BanksExport, false, []Role{Admin}},
	{RulesRead, true, []Role{Admin, Reviewer, Auditor}},
	{RulesWrite, false, []Role{Admin}},
	{KeysRead, true, []Role{Admin, Auditor}},
	{KeysAdmin, false, []Role{Admin}},
	{AuditRead, true, []Role{Admin, Auditor}},
	{WebhooksAdmin, false, []Role{Admin}},
	{ReportsCreate, false, []Role{Admin, Integrator, Reviewer, Flagger}},
	{Review, false, []Role{Reviewer}},
	{ReviewRead, true, []Role{Reviewer, Auditor}},
	{AppealsCreate, false, []Role{Admin, Integrator}},
	{LEReports, false, []Role{LELiaison}},
	{TransparencyRead, true, []Role{Admin, Auditor}},
	// A partner reads only the banks the operator chose to publish; it
	// reads them whole, so it is a list's recipient, never a platform.
	{FeedsRead, true, []Role{Admin, Partner}},
	{Notices, false, []Role{Reviewer, LELiaison}},
	{NoticesRead, true, []Role{Admin, Reviewer, LELiaison, Auditor}},
}

// Roles lists every role, in a stable order.
func Roles() []Role { return []Role{Admin, Integrator, Reviewer, Flagger, LELiaison, Auditor, Partner} }

// Permissions lists every permission, in a stable order.
func Permissions() []Permission {
	ps := make([]Permission, len(grants))
	for i, g := range grants {
		ps[i] = g.perm
	}
	return ps
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("auth: unknown role %q (want one of %v)", s, Roles())
	}
	return r, nil
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Can reports whether a key with role r may do p. Unknown roles and
// permissions can do nothing.
func (r Role) Can(p Permission) bool {
	for _, g := range grants {
		if g.perm == p {
			return slices.Contains(g.roles, r)
		}
	}
	return false
}

// Permissions lists what r can do, in the order of Permissions().
func (r Role) Permissions() []Permission {
	var ps []Permission
	for _, g := range grants {
		if slices.Contains(g.roles, r) {
			ps = append(ps, g.perm)
		}
	}
	return ps
}

// ErrForbidden is wrapped by Check's error: the key is genuine but its role
// does not allow the request (403, where the errors of Authenticate are 401).
var ErrForbidden = errors.New("not allowed")

// Check returns nil if k's role can do p, or else an error wrapping
// ErrForbidden that names the key, its role and p.
func (k Key) Check(p Permission) error {
	if k.Role.Can(p) {
		return nil
	}
	return fmt.Errorf("auth: key %s (%q, role %s) may not %s: %w", k.ID, k.Name, k.Role, p, ErrForbidden)
}

// ReadOnly reports whether p only reads. Unknown permissions are not
// read-only.
func (p Permission) ReadOnly() bool {
	for _, g := range grants {
		if g.perm == p {
			return g.readOnly
		}
	}
	return false
}
