package threatexchange_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/threatexchange"
)

// fake is the Graph API's threat_updates on loopback: updates with
// last_updated in [start_time, stop_time), paged by an "after" cursor in
// absolute paging.next links that carry the access token.
type fake struct {
	mu      sync.Mutex
	updates []map[string]any
	tokens  []string // access tokens received
	garbage map[string]string
	srv     *httptest.Server
}

func newFake(t *testing.T) *fake {
	f := &fake{garbage: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) put(id, typ, indicator string, ts int64, del bool, tags ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, map[string]any{"id": id, "indicator": indicator, "type": typ,
		"creation_time": ts, "last_updated": ts, "should_delete": del, "tags": tags, "status": "MALICIOUS"})
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	f.tokens = append(f.tokens, q.Get("access_token"))
	if q.Get("access_token") != "app|secret" {
		w.WriteHeader(http.StatusBadRequest) // the Graph API answers a bad token with 400 and an OAuthException
		fmt.Fprint(w, `{"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}`)
		return
	}
	if strings.TrimSuffix(r.URL.Path, "/") != "/v21.0/1234/threat_updates" {
		http.NotFound(w, r)
		return
	}
	after := q.Get("after")
	if g, ok := f.garbage[after]; ok {
		fmt.Fprint(w, g)
		return
	}
	start, _ := strconv.ParseInt(q.Get("start_time"), 10, 64)
	stop, _ := strconv.ParseInt(q.Get("stop_time"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	var match []map[string]any
	for _, u := range f.updates {
		if ts := u["last_updated"].(int64); ts >= start && ts < stop {
			match = append(match, u)
		}
	}
	off, _ := strconv.Atoi(after)
	page := match[min(off, len(match)):min(off+limit, len(match))]
	resp := map[string]any{"data": page}
	if off+limit < len(match) {
		nq := url.Values{"access_token": {q.Get("access_token")}, "start_time": {q.Get("start_time")}, "stop_time": {q.Get("stop_time")},
			"limit": {q.Get("limit")}, "fields": {q.Get("fields")}, "after": {strconv.Itoa(off + limit)}}
		resp["paging"] = map[string]any{"cursors": map[string]string{"after": strconv.Itoa(off + limit)},
			"next": f.srv.URL + "/v21.0/1234/threat_updates/?" + nq.Encode()}
	}
	json.NewEncoder(w).Encode(resp)
}

func pdqOf(i int) string { return fmt.Sprintf("%064x", i+1<<30) }

func newRunner(t *testing.T, f *fake, token string, now *time.Time) (*exchange.Runner, *exchangetest.Memory) {
	cfg := exchange.Config{Name: "te_group", Kind: "threatexchange",
		Settings:    map[string]string{"url": f.srv.URL + "/v21.0", "privacy_group": "1234", "page_size": "10"},
		Credentials: map[string]string{"access_token": token}}
	fe, err := threatexchange.Config(cfg, &exchange.HTTP{Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	fe.Now = func() time.Time { return *now }
	mem := &exchangetest.Memory{}
	r := &exchange.Runner{Sink: mem, Checkpoints: mem, Now: fe.Now}
	r.Add(cfg, fe)
	return r, mem
}

func TestThreatUpdates(t *testing.T) {
	f := newFake(t)
	for i := range 25 {
		f.put(strconv.Itoa(1000+i), "HASH_PDQ", pdqOf(i), int64(100+i), false, "csam", "media_type_photo")
	}
	f.put("2000", "HASH_VIDEO_MD5", strings.Repeat("cd", 16), 200, false)
	f.put("2001", "URI", "https://example.org", 201, false)
	now := time.Unix(1000, 0)
	r, mem := newRunner(t, f, "app|secret", &now)
	if err := r.Fetch(context.Background(), "te_group"); err != nil {
		t.Fatal(err)
	}
	if mem.Len("te_group") != 26 {
		t.Fatalf("%d entries, want 26", mem.Len("te_group"))
	}
	st, _ := r.Status("te_group")
	if st.Pages != 3 || st.Skipped["threatexchange:URI"] != 1 {
		t.Errorf("status %+v", st)
	}
	if strings.Contains(st.Checkpoint.Position, "secret") {
		t.Errorf("checkpoint %q holds the access token", st.Checkpoint.Position)
	}
	var e bank.Entry
	for _, x := range mem.Entries("te_group") {
		if x.ExternalID == "1003" {
			e = x
		}
	}
	if e.Value != pdqOf(3) || e.Category != "csam media_type_photo" {
		t.Errorf("entry %+v", e)
	}
	// should_delete removes; only the new range is read.
	f.put("1003", "HASH_PDQ", pdqOf(3), 1500, true)
	now = time.Unix(2000, 0)
	if err := r.Fetch(context.Background(), "te_group"); err != nil {
		t.Fatal(err)
	}
	if mem.Has("te_group", bank.PDQ, pdqOf(3)) || mem.Len("te_group") != 25 {
		t.Errorf("after should_delete: %d entries, has the deleted one: %v", mem.Len("te_group"), mem.Has("te_group", bank.PDQ, pdqOf(3)))
	}
}

func TestMalformedAndResume(t *testing.T) {
	f := newFake(t)
	for i := range 25 {
		f.put(strconv.Itoa(1000+i), "HASH_PDQ", pdqOf(i), int64(100+i), false)
	}
	f.garbage["10"] = "<html>oops</html>"
	now := time.Unix(1000, 0)
	r, mem := newRunner(t, f, "app|secret", &now)
	err := r.Fetch(context.Background(), "te_group")
	if err == nil || !strings.Contains(err.Error(), "not a threat_updates page") {
		t.Fatalf("err = %v", err)
	}
	f.garbage["10"] = `{"data": [{"id": "1", "type": "HASH_PDQ"}, {"id": 5}, {"id": "9", "type": "HASH_PDQ", "indicator": "` + pdqOf(99) + `"}],
		"paging": {"next": "` + f.srv.URL + `/v21.0/1234/threat_updates/?after=20&start_time=0&stop_time=1000&limit=10"}}`
	if err := r.Fetch(context.Background(), "te_group"); err != nil {
		t.Fatal(err)
	}
	st, _ := r.Status("te_group")
	if st.Malformed != 2 || mem.Len("te_group") != 10+1+5 {
		t.Errorf("status %+v, %d entries", st, mem.Len("te_group"))
	}
}

func TestForeignLinkAndBadToken(t *testing.T) {
	f := newFake(t)
	f.garbage[""] = `{"data": [], "paging": {"next": "https://evil.example/v21.0/1234/threat_updates?after=1"}}`
	now := time.Unix(1000, 0)
	r, _ := newRunner(t, f, "app|secret", &now)
	if err := r.Fetch(context.Background(), "te_group"); err == nil || !exchange.Permanent(err) || !strings.Contains(err.Error(), "not this privacy group's") {
		t.Fatalf("foreign link: %v", err)
	}
	if strings.Count(strings.Join(f.tokens, ","), "secret") != 1 {
		t.Errorf("tokens sent: %q", f.tokens)
	}
	r, _ = newRunner(t, newFake(t), "app|wrong", &now)
	err := r.Fetch(context.Background(), "te_group")
	if !errors.Is(err, exchange.ErrAuth) || !strings.Contains(err.Error(), "Invalid OAuth access token") {
		t.Fatalf("bad token: %v, want ErrAuth with the Graph API's message", err)
	}
}
