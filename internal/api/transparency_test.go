package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// TestTransparency: the figures of reports filed through the API, in
// JSON, CSV and the DSA template, for admins and auditors only, with
// clear refusals of bad periods.
func TestTransparency(t *testing.T) {
	base, keys := testServer(t, 1<<20)
	get := func(role auth.Role, path string, want int) ([]byte, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+keys[role])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("GET %s as %s: %d %s, want %d", path, role, resp.StatusCode, b, want)
		}
		return b, resp.Header
	}
	for i, cat := range []string{"grooming", "grooming", "sextortion"} {
		body, _ := json.Marshal(map[string]any{"reporter": "user-1", "category": cat, "content_id": "post-" + string(rune('a'+i))})
		req, _ := http.NewRequest("POST", base+"/v1/reports", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+keys[auth.Integrator])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("report: %d", resp.StatusCode)
		}
	}
	to := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	from := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	q := "?from=" + from + "&to=" + to
	for _, role := range []auth.Role{auth.Admin, auth.Auditor} {
		b, _ := get(role, "/v1/transparency"+q, 200)
		var rep struct {
			Groups []struct {
				Category string
				Figures  []struct {
					Name        string
					Value       float64
					Denominator string
				}
			}
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{"all": 3, "grooming": 2, "sextortion": 1}
		for _, g := range rep.Groups {
			if g.Figures[0].Name != "received" || g.Figures[0].Value != want[g.Category] {
				t.Errorf("%s: %+v, want %v received", g.Category, g.Figures[0], want[g.Category])
			}
			delete(want, g.Category)
		}
		if len(want) > 0 {
			t.Errorf("groups missing: %v", want)
		}
	}
	for _, role := range []auth.Role{auth.Reviewer, auth.Integrator, auth.Flagger, auth.LELiaison} {
		get(role, "/v1/transparency"+q, 403)
	}
	b, h := get(auth.Auditor, "/v1/transparency.csv"+q+"&category=grooming", 200)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || recs[1][0] != "grooming" || recs[1][1] != "received" || recs[1][2] != "2" {
		t.Errorf("CSV (%s): %v %v", h.Get("Content-Type"), recs[:2], err)
	}
	b, _ = get(auth.Admin, "/v1/transparency/dsa.csv"+q, 200)
	if !bytes.HasPrefix(b, []byte("section,field,type_of_illegal_content,safeguard_category,value\n")) || !bytes.Contains(b, []byte("outside Safeguard")) {
		t.Errorf("DSA export starts %.200s", b)
	}
	for _, bad := range []string{"?from=yesterday", "?from=" + to + "&to=" + from, "?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "?category=nope"} {
		get(auth.Admin, "/v1/transparency"+bad, 400)
	}
}
