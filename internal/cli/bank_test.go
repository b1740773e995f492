package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// The bank and match commands end to end, on a SQLite store in a temporary
// directory: what an operator loading a hotline list does.
func TestBankImportExportMatch(t *testing.T) {
	needTestdata(t)
	data := "--data=" + t.TempDir()
	dir := t.TempDir()
	orig := filepath.Join(testdata, "pdq/data/reg-test-input/dih/bridge-1-original.jpg")
	rotated := filepath.Join(testdata, "pdq/data/reg-test-input/dih/bridge-2-rotate-90.jpg")

	code, out, errs := run(t, "", "hash", orig)
	if code != 0 {
		t.Fatalf("hash: %d %s", code, errs)
	}
	origHash := strings.Split(out, ",")[0]
	list := filepath.Join(dir, "list.txt")
	other := "f" + strings.Repeat("0", 63)
	os.WriteFile(list, []byte("# hotline list\n"+origHash+",first seen 2024\n"+other+"\n"), 0o644)

	mustRun := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := run(t, "", append(args, data)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d; stderr: %s", args, code, want, errs)
		}
		return out + errs
	}
	mustRun(0, "bank", "create", "hotline", "--threshold", "31")
	if s := mustRun(2, "bank", "create", "hotline"); !strings.Contains(s, "hotline") || !strings.Contains(s, "exists") {
		t.Errorf("duplicate bank: %q", s)
	}
	if s := mustRun(0, "bank", "import", "hotline", list, "--source", "IWF"); !strings.Contains(s, "2 added, 0 already") {
		t.Errorf("first import: %q", s)
	}
	if s := mustRun(0, "bank", "import", "hotline", list); !strings.Contains(s, "0 added, 2 already") {
		t.Errorf("re-import is not a no-op: %q", s)
	}
	// A bad line fails the whole file, naming it, and keeps nothing of it.
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte(strings.Repeat("a", 64)+"\nnot-a-hash\n"), 0o644)
	if s := mustRun(2, "bank", "import", "hotline", bad); !strings.Contains(s, "bad.txt") || !strings.Contains(s, ":2") && !strings.Contains(s, "line 2") {
		t.Errorf("bad line not named: %q", s)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	mustRun(2, "bank", "import", "hotline", empty)
	mustRun(2, "bank", "import", "nosuchbank", list)

	exported := mustRun(0, "bank", "export", "hotline", "--format", "csv")
	if n := strings.Count(exported, "\n"); n != 3 || !strings.Contains(exported, origHash) || !strings.Contains(exported, "IWF") {
		t.Errorf("export has %d lines:\n%s", n, exported)
	}

	// A rotated copy matches through its dihedral hashes; the query column
	// is the hash that was searched.
	// With several files, the last column names the one that matched.
	unrelated := filepath.Join(testdata, "pdq/data/reg-test-input/pen-and-coaster.png")
	out = mustRun(0, "match", unrelated, rotated)
	fields := strings.Split(strings.TrimSpace(out), ",")
	if len(fields) != 6 || fields[1] != origHash || fields[3] != "hotline" || fields[5] != rotated {
		t.Fatalf("an unrelated image and a rotated copy: %q, want one line naming %s", out, rotated)
	}
	if s := mustRun(0, "match", "--radius", "0", other); !strings.HasPrefix(s, other+","+other+",0,hotline,") {
		t.Errorf("hex query: %q", s)
	}
	if s := mustRun(2, "match", "--bank", "nope", other); !strings.Contains(s, `"nope"`) {
		t.Errorf("unknown bank: %q", s)
	}
	code, out, errs = run(t, "zz\n"+other+"\n", "match", "-", data)
	if code != 1 || !strings.Contains(errs, "line 1") || !strings.HasPrefix(out, other+",") {
		t.Errorf("stdin with a bad line: exit %d, out %q, err %q", code, out, errs)
	}

	mustRun(0, "bank", "rm", "hotline", origHash)
	if s := mustRun(0, "match", rotated); s != "" {
		t.Errorf("removed entry still matches: %q", s)
	}
	mustRun(0, "bank", "rm", "hotline")
	if s := mustRun(0, "bank", "list"); strings.Contains(s, "hotline") {
		t.Errorf("deleted bank still listed: %q", s)
	}
}

// TestBankChangesAudited: the bank commands write the audit log as the API
// does, naming the operating-system user, on every backend the CLI opens.
func TestBankChangesAudited(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	backends := map[string]struct {
		flag string
		open func() (store.Store, error)
	}{"sqlite": {"--data=" + dir, func() (store.Store, error) { return sqlite.Open(ctx, dir) }}}
	if u := os.Getenv("SAFEGUARD_TEST_POSTGRES"); u != "" {
		u = testkit.PostgresSchema(t, u)
		backends["postgres"] = struct {
			flag string
			open func() (store.Store, error)
		}{"--database-url=" + u, func() (store.Store, error) { return postgres.Open(ctx, u) }}
	} else {
		t.Log("SAFEGUARD_TEST_POSTGRES not set: checking SQLite only")
	}
	for name, be := range backends {
		t.Run(name, func(t *testing.T) {
			list := filepath.Join(t.TempDir(), "list.txt")
			os.WriteFile(list, []byte(strings.Repeat("a", 64)+"\n"+strings.Repeat("b", 64)+"\n"), 0o644)
			for _, args := range [][]string{
				{"bank", "create", "hotline"},
				{"bank", "import", "hotline", list},
				{"bank", "rm", "hotline", strings.Repeat("a", 64)},
				{"bank", "export", "hotline"},
				{"bank", "rm", "hotline"},
			} {
				if code, _, errs := run(t, "", append(args, be.flag)...); code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, errs)
				}
			}
			st, err := be.open()
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var got []string
			for e, err := range st.AuditEntries(ctx, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Actor != cliActor() {
					t.Errorf("entry %d by %q, want %q", e.Seq, e.Actor, cliActor())
				}
				got = append(got, e.Action+" "+e.Subject)
			}
			want := []string{"bank.create hotline", "bank.entries hotline", "bank.entries hotline", "bank.export hotline", "bank.delete hotline"}
			if !slices.Equal(got, want) {
				t.Errorf("audit log %q, want %q", got, want)
			}
		})
	}
}

// TestImportUnsupported checks an HMA file with a url row: refused whole by
// default, naming the row and the flag; with --skip-unsupported, the rest
// is imported and the skipped rows counted by signal type.
func TestImportUnsupported(t *testing.T) {
	data := "--data=" + t.TempDir()
	file := filepath.Join(t.TempDir(), "hma.csv")
	os.WriteFile(file, []byte("signal_type,signal_str,collab,category,tags\n"+
		"pdq,"+strings.Repeat("a", 64)+",c,,\n"+
		"url,https://example.com/x,c,,\n"+
		"md5,"+strings.Repeat("b", 32)+",c,,\n"+
		"url,https://example.com/y,c,,\n"), 0o644)
	if code, _, errs := run(t, "", "bank", "create", "hma", data); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs := run(t, "", "bank", "import", "hma", file, data)
	if code != 2 || !strings.Contains(errs, ":3") || !strings.Contains(errs, `"url"`) || !strings.Contains(errs, "--skip-unsupported") {
		t.Errorf("default: exit %d, stderr %q; want the url row (line 3) named and the flag", code, errs)
	}
	code, out, errs := run(t, "", "bank", "import", "--skip-unsupported", "hma", file, data)
	if code != 0 || !strings.Contains(out, "2 added") || !strings.Contains(out, "url 2") {
		t.Errorf("--skip-unsupported: exit %d, stdout %q, stderr %q; want 2 added and url 2 skipped", code, out, errs)
	}
}
