package auth_test

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

func TestCan(t *testing.T) {
	tests := []struct {
		role auth.Role
		perm auth.Permission
		want bool
	}{
		{auth.Integrator, auth.Scan, true},
		{auth.Integrator, auth.Lookup, true},
		{auth.Integrator, auth.ReportsCreate, true},
		// Hash lists are confidential: the platform never reads them.
		{auth.Integrator, auth.BanksRead, false},
		{auth.Integrator, auth.BanksExport, false},
		{auth.Integrator, auth.BanksWrite, false},
		{auth.Integrator, auth.Review, false},
		{auth.Admin, auth.BanksExport, true},
		{auth.Admin, auth.KeysAdmin, true},
		// Admin runs the service but does not look at content.
		{auth.Admin, auth.Review, false},
		{auth.Admin, auth.LEReports, false},
		{auth.Reviewer, auth.Review, true},
		{auth.Reviewer, auth.BanksRead, false},
		{auth.Reviewer, auth.RulesWrite, false},
		{auth.Flagger, auth.ReportsCreate, true},
		{auth.Flagger, auth.Scan, false},
		{auth.LELiaison, auth.LEReports, true},
		{auth.LELiaison, auth.Review, false},
		{auth.Auditor, auth.AuditRead, true},
		{auth.Auditor, auth.BanksRead, true},
		{auth.Auditor, auth.BanksExport, false},
		{auth.Auditor, auth.KeysAdmin, false},
		// The auditor sees queues, cases and time to action, and decides nothing.
		{auth.Auditor, auth.ReviewRead, true},
		{auth.Auditor, auth.Review, false},
		{auth.Reviewer, auth.ReviewRead, true},
		// Appeals come from the platform for the uploader, not from flaggers.
		{auth.Integrator, auth.AppealsCreate, true},
		{auth.Flagger, auth.AppealsCreate, false},
		// A partner instance reads published feeds and nothing else.
		{auth.Partner, auth.FeedsRead, true},
		{auth.Partner, auth.BanksRead, false},
		{auth.Partner, auth.Scan, false},
		{auth.Integrator, auth.FeedsRead, false},
		{"root", auth.Scan, false},
		{"", auth.AuditRead, false},
		{auth.Admin, "everything", false},
	}
	for _, tt := range tests {
		if got := tt.role.Can(tt.perm); got != tt.want {
			t.Errorf("%q.Can(%q) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	k := auth.Key{ID: "abcdefghijklmnop", Name: "platform", Role: auth.Integrator}
	if err := k.Check(auth.Scan); err != nil {
		t.Errorf("integrator scan: %v", err)
	}
	err := k.Check(auth.BanksExport)
	if !errors.Is(err, auth.ErrForbidden) || err.Error() != `auth: key abcdefghijklmnop ("platform", role integrator) may not banks.export: not allowed` {
		t.Errorf("integrator export: %v", err)
	}
}

func TestAuditorOnlyReads(t *testing.T) {
	ps := auth.Auditor.Permissions()
	if len(ps) == 0 {
		t.Fatal("auditor can do nothing")
	}
	for _, p := range ps {
		if !p.ReadOnly() {
			t.Errorf("auditor has %q, which writes", p)
		}
	}
}

func TestEveryRoleAndPermissionUsed(t *testing.T) {
	for _, r := range auth.Roles() {
		if len(r.Permissions()) == 0 {
			t.Errorf("role %q has no permission", r)
		}
		if got, err := auth.ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, p := range auth.Permissions() {
		if !slices.ContainsFunc(auth.Roles(), func(r auth.Role) bool { return r.Can(p) }) {
			t.Errorf("no role has %q", p)
		}
	}
	if _, err := auth.ParseRole("Admin"); err == nil {
		t.Error("ParseRole accepted Admin")
	}
}

// TestDocumentedTable keeps the table in docs/audit.md true: one row per
// permission, a ✓ under each role that has it.
func TestDocumentedTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z.]+)` +\\|((?: *✓? *\\|)+)$")
	rows := map[auth.Permission][]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		rows[auth.Permission(m[1])] = strings.Split(strings.TrimSuffix(m[2], "|"), "|")
	}
	for _, p := range auth.Permissions() {
		cells, ok := rows[p]
		if !ok {
			t.Errorf("docs/audit.md has no row for %q", p)
			continue
		}
		delete(rows, p)
		if len(cells) != len(auth.Roles()) {
			t.Errorf("docs/audit.md row %q has %d role columns, want %d", p, len(cells), len(auth.Roles()))
			continue
		}
		for i, r := range auth.Roles() {
			if got := strings.TrimSpace(cells[i]) == "✓"; got != r.Can(p) {
				t.Errorf("docs/audit.md says %s can %s: %v; the code says %v", r, p, got, r.Can(p))
			}
		}
	}
	for p := range rows {
		t.Errorf("docs/audit.md has a row for %q, which is not a permission", p)
	}
}
