package cli

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// TestAPIKeyAndAuditVerify creates, lists and revokes keys, then edits and
// deletes audit entries behind the log's back: verify must name each.
func TestAPIKeyAndAuditVerify(t *testing.T) {
	dir := t.TempDir()
	data := "--data=" + dir
	mustRun := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errs := run(t, "", append(args, data)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d; stdout %s; stderr %s", args, code, want, out, errs)
		}
		return out, errs
	}
	var ids []string
	for _, role := range []string{"admin", "integrator", "auditor"} {
		out, errs := mustRun(0, "apikey", "create", "--role", role, "--name", role+" key")
		key := strings.TrimSpace(out)
		if !strings.HasPrefix(key, "sg_") || strings.Contains(errs, key) {
			t.Fatalf("create %s: stdout %q (want the key alone), stderr %q", role, out, errs)
		}
		ids = append(ids, strings.Split(key, "_")[1])
	}
	mustRun(2, "apikey", "create", "--role", "root", "--name", "x")
	if _, errs := mustRun(2, "apikey", "create", "--role", "integrator", "--name", "x", "--burst", "10"); !strings.Contains(errs, "rate limit") {
		t.Errorf("--burst without --rate: %q", errs)
	}
	out, _ := mustRun(0, "apikey", "create", "--role", "integrator", "--name", "backfill", "--burst", "5000", "--rate", "1250")
	ids = append(ids, strings.Split(strings.TrimSpace(out), "_")[1])
	mustRun(0, "apikey", "revoke", ids[1])
	list, _ := mustRun(0, "apikey", "list")
	if !strings.Contains(list, "5000 at once, 1250/s") {
		t.Errorf("list does not show the key's own rate limit:\n%s", list)
	}
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 5 || !strings.Contains(list, "integrator key") {
		t.Errorf("list:\n%s", list)
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		if strings.HasPrefix(line, ids[1]) == strings.HasSuffix(strings.TrimSpace(line), "-") {
			t.Errorf("revocation not shown right: %q", line)
		}
	}
	if out, _ := mustRun(0, "audit", "verify"); !strings.Contains(out, "audit log ok: 5 entries") {
		t.Errorf("verify: %s", out)
	}

	// Tamper with the database directly, as someone with file access could.
	st, err := sqlite.Open(context.Background(), dir) // migrated; closed at once
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	out, _ = mustRun(1, "audit", "verify")
	if !strings.Contains(out, "entry 2: hash does not match its contents (edited)") || !strings.Contains(out, "BROKEN") {
		t.Errorf("verify after an edit:\n%s", out)
	}
	if _, err := db.Exec(`DELETE FROM audit_log WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	out, _ = mustRun(1, "audit", "verify")
	if !strings.Contains(out, "entry 4 follows 2: entry 3 missing") {
		t.Errorf("verify after a deletion:\n%s", out)
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.conf")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	got, err := readConfig(write("# comment\n\nlisten = 0.0.0.0:9000\n data=/srv/sg \nevidence-keys = k:00\n"))
	if err != nil || got["listen"] != "0.0.0.0:9000" || got["data"] != "/srv/sg" || got["evidence-keys"] != "k:00" || len(got) != 3 {
		t.Errorf("readConfig = %v, %v", got, err)
	}
	for _, bad := range []string{"listen 0.0.0.0:9000\n", "data = a\ndata = b\n"} {
		if _, err := readConfig(write(bad)); err == nil || !strings.Contains(err.Error(), "c.conf:") {
			t.Errorf("readConfig(%q) = %v, want an error naming the line", bad, err)
		}
	}
	if code, _, errs := run(t, "", "serve", "--config", write("colour = red\n")); code != 2 || !strings.Contains(errs, `unknown setting "colour"`) {
		t.Errorf("serve with an unknown setting: %d %s", code, errs)
	}
	for _, bad := range []string{"soon", "0d", "-5h", "forever"} {
		if code, _, errs := run(t, "", "serve", "--data", dir, "--text-retention", bad); code == 0 || !strings.Contains(errs, "text-retention: term") {
			t.Errorf("serve --text-retention %s: %d %s, want it refused", bad, code, errs)
		}
	}
}

// TestAPIKeyLimit changes a key's rate limit after its creation and back
// to the default: each change is in the store and the audit log, and bad
// or missing limits, an unknown id and a revoked key are refused with
// what is wrong.
func TestAPIKeyLimit(t *testing.T) {
	dir := t.TempDir()
	data := "--data=" + dir
	mustRun := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errs := run(t, "", append(args, data)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d; stdout %s; stderr %s", args, code, want, out, errs)
		}
		return out, errs
	}
	out, _ := mustRun(0, "apikey", "create", "--role", "integrator", "--name", "uploader")
	id := strings.Split(strings.TrimSpace(out), "_")[1]
	limitOf := func() string {
		t.Helper()
		list, _ := mustRun(0, "apikey", "list")
		for _, line := range strings.Split(list, "\n") {
			if strings.HasPrefix(line, id) {
				return line
			}
		}
		t.Fatalf("key %s not listed:\n%s", id, list)
		return ""
	}
	if out, _ := mustRun(0, "apikey", "limit", id, "--burst", "50", "--rate", "2.5"); !strings.Contains(out, "50 at once, 2.5/s") {
		t.Errorf("limit's answer: %q", out)
	}
	if line := limitOf(); !strings.Contains(line, "50 at once, 2.5/s") {
		t.Errorf("after limit --burst 50 --rate 2.5 the list says %q", line)
	}
	mustRun(0, "apikey", "limit", "--default", id)
	if line := limitOf(); !strings.Contains(line, "default") {
		t.Errorf("after limit --default the list says %q", line)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{id}, "give --burst B --rate R"},
		{[]string{id, "--burst", "10"}, "rate limit of 0 a second"},
		{[]string{id, "--rate", "10"}, "rate limit burst 0"},
		{[]string{id, "--burst", "-1", "--rate", "1"}, "want 1..1000000 requests"},
		{[]string{id, "--burst", "10", "--rate", "NaN"}, "rate limit of NaN a second"},
		{[]string{id, "--default", "--burst", "10", "--rate", "1"}, "not both"},
		{[]string{"--burst", "10", "--rate", "1"}, "want one key ID"},
		{[]string{"aaaaaaaaaaaaaaaa", "--burst", "10", "--rate", "1"}, "no key aaaaaaaaaaaaaaaa (see safeguard apikey list)"},
	} {
		_, errs := mustRun(2, append([]string{"apikey", "limit"}, c.args...)...)
		if !strings.Contains(errs, c.want) || !strings.HasPrefix(errs, "safeguard apikey limit: ") {
			t.Errorf("apikey limit %v: %q, want it to say %q", c.args, errs, c.want)
		}
	}
	mustRun(0, "apikey", "revoke", id)
	if _, errs := mustRun(2, "apikey", "limit", id, "--burst", "10", "--rate", "1"); !strings.Contains(errs, "was revoked") {
		t.Errorf("limit of a revoked key: %q", errs)
	}

	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.AuditEntriesAbout(context.Background(), audit.KeyLimit, id)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range es {
		if e.Subject != id || !strings.HasPrefix(e.Actor, "cli:") {
			t.Errorf("key.limit entry of %s by %s, want key %s by the CLI's user", e.Subject, e.Actor, id)
		}
		details = append(details, string(e.Detail))
	}
	want := []string{`{"rate_limit":{"burst":50,"per_second":2.5},"was":"default"}`, `{"rate_limit":"default","was":{"burst":50,"per_second":2.5}}`}
	if len(details) != 2 || details[0] != want[0] || details[1] != want[1] {
		t.Errorf("key.limit entries %q, want %q (and none for the refused changes)", details, want)
	}
}

// failingAudit is a store whose audit appends fail, in its transactions
// too.
type failingAudit struct{ store.Store }

var errAuditDown = errors.New("audit log down (test)")

func (failingAudit) AppendAudit(context.Context, func(*audit.Entry) (audit.Entry, error)) (audit.Entry, error) {
	return audit.Entry{}, errAuditDown
}

func (f failingAudit) Atomically(ctx context.Context, fn func(store.Store) error) error {
	return f.Store.Atomically(ctx, func(tx store.Store) error { return fn(failingAudit{tx}) })
}

// TestAPIKeyChangeAudited checks that apikey create and revoke write the
// key and its audit entry in one transaction: with the audit write
// failing, neither command changes a key, and each says why. On SQLite
// and PostgreSQL (where SAFEGUARD_TEST_POSTGRES is set).
func TestAPIKeyChangeAudited(t *testing.T) {
	for name, open := range map[string]func(context.Context, *testing.T) (store.Store, error){
		"sqlite": func(ctx context.Context, t *testing.T) (store.Store, error) { return sqlite.Open(ctx, t.TempDir()) },
		"postgres": func(ctx context.Context, t *testing.T) (store.Store, error) {
			return postgres.Open(ctx, testkit.PostgresURL(t))
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := open(ctx, t)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			testAPIKeyChangeAudited(ctx, t, st)
		})
	}
}

func testAPIKeyChangeAudited(ctx context.Context, t *testing.T, st store.Store) {
	broken := cliChanges(cliBanks(failingAudit{st}))

	if _, _, err := createKey(ctx, broken, auth.Integrator, "unaudited", nil); !errors.Is(err, errAuditDown) {
		t.Errorf("create with the audit log down: %v, want its error", err)
	}
	if ks, err := st.ListKeys(ctx); err != nil || len(ks) != 0 {
		t.Errorf("after a create whose audit entry failed: keys %v, %v; want none", ks, err)
	}

	_, k, err := createKey(ctx, cliChanges(cliBanks(st)), auth.Integrator, "kept", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := revokeKey(ctx, broken, k.ID); !errors.Is(err, errAuditDown) {
		t.Errorf("revoke with the audit log down: %v, want its error", err)
	}
	if got, _, err := st.KeyByID(ctx, k.ID); err != nil || got.RevokedAt != nil {
		t.Errorf("after a revoke whose audit entry failed: %+v, %v; want the key unrevoked", got, err)
	}
	var actions []string
	for e, err := range st.AuditEntries(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, e.Action+" "+e.Subject)
	}
	if want := []string{audit.KeyCreate + " " + k.ID}; !slices.Equal(actions, want) {
		t.Errorf("audit log %q, want %q (the one change that was made)", actions, want)
	}

	// Working, the revocation is in both.
	if err := revokeKey(ctx, cliChanges(cliBanks(st)), k.ID); err != nil {
		t.Fatal(err)
	}
	if got, _, err := st.KeyByID(ctx, k.ID); err != nil || got.RevokedAt == nil {
		t.Errorf("after revoke: %+v, %v; want the key revoked", got, err)
	}
}

// TestServeBodyRate: serve refuses a body rate or grace it cannot use,
// from a flag or the config file, naming the setting.
func TestServeBodyRate(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "c.conf")
	os.WriteFile(conf, []byte("body-grace = soon\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--body-rate", "-1"}, `body-rate "-1": want a number of bytes a second, or 0 for no minimum`},
		{[]string{"--body-rate", "fast"}, `body-rate "fast"`},
		{[]string{"--body-grace", "0s"}, `body-grace "0s": want a positive duration`},
		{[]string{"--config", conf}, `body-grace "soon"`},
	} {
		if code, _, errs := run(t, "", append([]string{"serve", "--data", t.TempDir()}, c.args...)...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("serve %v: %d %s, want %q", c.args, code, errs, c.want)
		}
	}
}

// serve reads spool-dir as its other settings (flag, variable, config
// file) and refuses a directory its group or others may enter, naming it
// and the fix.
func TestServeSpoolDir(t *testing.T) {
	loose := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(loose, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o755)
	conf := filepath.Join(t.TempDir(), "c.conf")
	os.WriteFile(conf, []byte("spool-dir = "+loose+"\n"), 0o600)
	want := "spool directory " + loose + " is open to its group or other users (mode 0755)"
	for _, c := range []struct {
		args []string
		env  string
	}{
		{[]string{"--spool-dir", loose}, ""},
		{nil, loose},
		{[]string{"--config", conf}, ""},
	} {
		t.Run("", func(t *testing.T) {
			if c.env != "" {
				t.Setenv("SAFEGUARD_SPOOL_DIR", c.env)
			}
			code, _, errs := run(t, "", append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--operator-listen", "main"}, c.args...)...)
			if code == 0 || !strings.Contains(errs, want) || !strings.Contains(errs, "chmod 700 "+loose) {
				t.Errorf("serve %v (env %q): %d %s, want %q and the fix", c.args, c.env, code, errs, want)
			}
		})
	}
}
