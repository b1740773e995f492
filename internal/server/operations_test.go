package server_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// The operations metrics on /metrics: review queue depth and overdue
// cases, evidence storage health, exchange lag and state, bank and index
// sizes, the index's load time. They are gathered every OperationsEvery,
// not per scrape, and follow what happens: a report raises its queue's
// depth, an evidence directory that stops taking writes shows as 0.
func TestOperationsMetrics(t *testing.T) {
	cfg, st := openSQLite(t)
	list := filepath.Join(t.TempDir(), "hotline.txt")
	var sb strings.Builder
	for i := range 10 {
		fmt.Fprintf(&sb, "md5 %032x\n", 0xabc000+i)
	}
	if err := os.WriteFile(list, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Exchanges = []exchange.Config{{Name: "hotline", Kind: "list", Interval: time.Hour, Settings: map[string]string{"path": list}}}
	cfg.OperationsEvery = 20 * time.Millisecond
	srv, base, admin := startServer(t, cfg, st)
	c := client{t: t, base: base, key: admin}
	scrape := func() string {
		resp, err := http.Get("http://" + srv.OperatorAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// value returns a sample's value, or NaN-like false if it is absent.
	value := func(text, series string) (float64, bool) {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return v, err == nil
	}
	waitFor := func(what, series string, ok func(float64) bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			text := scrape()
			if v, found := value(text, series); found && ok(v) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (%s); /metrics has:\n%s", what, series, grepLines(text, "safeguard_"))
			}
		}
	}
	waitFor("the exchange's first fetch", `safeguard_exchange_up_to_date{exchange="hotline",kind="list"}`, func(v float64) bool { return v == 1 })
	waitFor("its bank's size", `safeguard_bank_entries{bank="hotline"}`, func(v float64) bool { return v == 10 })
	waitFor("the index's size", `safeguard_index_entries{signal="exact"}`, func(v float64) bool { return v == 10 })
	text := scrape()
	for _, series := range []string{
		`safeguard_exchange_lag_seconds{exchange="hotline",kind="list"}`,
		`safeguard_exchange_last_success_timestamp_seconds{exchange="hotline",kind="list"}`,
		`safeguard_exchange_consecutive_errors{exchange="hotline",kind="list"}`,
		`safeguard_index_load_seconds`, `safeguard_index_seq`, `safeguard_index_sync_age_seconds`,
		`safeguard_evidence_probe_seconds`, `safeguard_operations_age_seconds`,
	} {
		if _, ok := value(text, series); !ok {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if v, _ := value(text, `safeguard_exchange_lag_seconds{exchange="hotline",kind="list"}`); v < 0 || v > 60 {
		t.Errorf("exchange lag %v s just after a fetch", v)
	}
	if v, _ := value(text, `safeguard_evidence_writable`); v != 1 {
		t.Errorf("evidence writable %v, want 1", v)
	}

	flagger, _ := c.newKey("flagger", "f1")
	flagger.json("POST", "/v1/reports", map[string]any{"category": "suspected_csam", "content_id": "post-1"}, 201, nil)
	waitFor("the report's case in its queue", `safeguard_review_queue_cases{queue="suspected_csam"}`, func(v float64) bool { return v == 1 })
	if v, ok := value(scrape(), `safeguard_review_queue_overdue{queue="suspected_csam"}`); !ok || v != 0 {
		t.Errorf("a new case is overdue: %v %v", v, ok)
	}

	// The evidence directory stops taking writes (replaced by a file: the
	// tests run as root, whom permissions do not stop).
	dir := filepath.Join(cfg.Data, "evidence")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("evidence unwritable", `safeguard_evidence_writable`, func(v float64) bool { return v == 0 })
	waitFor("the failed part named", `safeguard_operations_failed{part="evidence"}`, func(v float64) bool { return v == 1 })
}
