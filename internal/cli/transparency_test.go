package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

// TestTransparency: the command reads the store serve writes and prints
// the figures in each format; bad flags are refused.
func TestTransparency(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	desk := review.NewDesk(st, st, review.Config{})
	for _, c := range []string{"post-1", "post-2"} {
		if _, _, _, err := desk.File(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Grooming, ContentID: c}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	data := "--data=" + dir
	from := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	code, out, errs := run(t, "", "transparency", data, "--from", from)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Groups []struct {
			Category string
			Figures  []struct {
				Name  string
				Value float64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Groups) != 2 || rep.Groups[1].Category != "grooming" || rep.Groups[1].Figures[0].Value != 2 {
		t.Errorf("json: %v %+v", err, rep)
	}
	if code, out, _ := run(t, "", "transparency", data, "--from", from, "--format", "csv"); code != 0 || !strings.Contains(out, "\ngrooming,received,2,reports,,") {
		t.Errorf("csv (exit %d):\n%s", code, out)
	}
	if code, out, _ := run(t, "", "transparency", data, "--from", from, "--format", "dsa"); code != 0 || !strings.Contains(out, "notices_art16,number_of_notices,protection_of_minors:grooming_sexual_enticement_of_minors,grooming,2\n") {
		t.Errorf("dsa (exit %d):\n%s", code, out)
	}
	for _, bad := range [][]string{{"--from", "soon"}, {"--format", "xml"}, {"--category", "nope"}, {"--from", "2026-01-02", "--to", "2026-01-01"}} {
		if code, _, errs := run(t, "", append([]string{"transparency", data}, bad...)...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errs)
		}
	}
}
