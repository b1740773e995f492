package stopncii_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/stopncii"
)

// fake is StopNCII's API on loopback: FetchHashes pages records modified
// at or after startTimestamp, in modification order, by an opaque token.
type fake struct {
	mu       sync.Mutex
	records  []map[string]any // in lastModtimestamp order
	calls    int
	fail     map[int]int
	garbage  map[int]string // page number (1-based, of a fetch) -> body
	feedback []string
	srv      *httptest.Server
}

func newFake(t *testing.T) *fake {
	f := &fake{fail: map[int]int{}, garbage: map[int]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) put(ts int64, signalType, value, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.records { // a later record of the pair replaces it
		if r["signalType"] == signalType && r["hashValue"] == value {
			f.records = append(f.records[:i], f.records[i+1:]...)
			break
		}
	}
	f.records = append(f.records, map[string]any{
		"lastModtimestamp": ts, "signalType": signalType, "hashValue": value, "hashStatus": status,
		"caseNumbers":  map[string]string{"case-" + value[:4]: status},
		"CSPFeedbacks": []map[string]any{{"feedbackValue": "Blocked", "tags": []string{}, "source": "Other CSP"}},
	})
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if code := f.fail[f.calls]; code != 0 {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "busy", code)
		return
	}
	if r.Header.Get("Ocp-Apim-Subscription-Key") != "sub" {
		http.Error(w, `{"statusCode": 401, "message": "Access denied due to invalid subscription key."}`, http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/v1/FetchHashes":
		if r.Header.Get("x-functions-key") != "fetch" {
			http.Error(w, "bad function key", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		start, _ := strconv.ParseInt(q.Get("startTimestamp"), 10, 64)
		size, _ := strconv.Atoi(q.Get("pageSize"))
		offset := 0
		if tok := q.Get("nextPageToken"); tok != "" {
			offset, _ = strconv.Atoi(strings.TrimPrefix(tok, "tok-"))
		}
		if body, ok := f.garbage[offset/size+1]; ok {
			io.WriteString(w, body)
			return
		}
		var match []map[string]any
		for _, rec := range f.records {
			if rec["lastModtimestamp"].(int64) >= start {
				match = append(match, rec)
			}
		}
		page := match[min(offset, len(match)):min(offset+size, len(match))]
		more := offset+size < len(match)
		resp := map[string]any{"count": len(page), "hashRecords": page, "hasMoreRecords": more, "nextSetTimestamp": start}
		if len(match) > 0 {
			resp["nextSetTimestamp"] = match[len(match)-1]["lastModtimestamp"].(int64) + 1
		}
		if more {
			resp["nextPageToken"] = fmt.Sprintf("tok-%d", offset+size)
		} else {
			resp["nextPageToken"] = nil
		}
		json.NewEncoder(w).Encode(resp)
	case "/v1/SubmitFeedback":
		if r.Method != "POST" || r.Header.Get("x-functions-key") != "feedback" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad feedback request", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.feedback = append(f.feedback, string(body))
		io.WriteString(w, `{}`)
	default:
		http.NotFound(w, r)
	}
}

func pdqOf(i int) string { return fmt.Sprintf("%064x", i+1<<20) }

type setup struct {
	fake   *fake
	mem    *exchangetest.Memory
	runner *exchange.Runner
	client *stopncii.Client
	now    time.Time
}

func newSetup(t *testing.T, sub string) *setup {
	s := &setup{fake: newFake(t), mem: &exchangetest.Memory{}, now: time.Unix(1_800_000_000, 0)}
	cfg := exchange.Config{Name: "stopncii", Kind: "stopncii",
		Settings:    map[string]string{"url": s.fake.srv.URL + "/v1", "page_size": "100"},
		Credentials: map[string]string{"subscription_key": sub, "fetch_key": "fetch", "feedback_key": "feedback"}}
	f, err := stopncii.Config(cfg, &exchange.HTTP{Sleep: func(ctx context.Context, d time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	f.Now = func() time.Time { return s.now }
	s.client = f.Client
	s.runner = &exchange.Runner{Sink: s.mem, Checkpoints: s.mem, Now: f.Now}
	s.runner.Add(cfg, f)
	return s
}

func (s *setup) fetch() error { return s.runner.Fetch(context.Background(), "stopncii") }

func TestFetchPagesAndRemovesWithdrawn(t *testing.T) {
	s := newSetup(t, "sub")
	for i := range 250 {
		s.fake.put(int64(1000+i), "ImagePDQ", pdqOf(i), "Active")
	}
	s.fake.put(1300, "VideoMD5", strings.Repeat("ab", 16), "Received")
	s.fake.put(1301, "VideoTMK", "tmkbytes", "Active")
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	if n := s.mem.Len("stopncii"); n != 251 {
		t.Fatalf("%d entries, want 251", n)
	}
	st, _ := s.runner.Status("stopncii")
	if st.Pages != 3 || st.Skipped[exchange.TMK] != 1 || !st.UpToDate {
		t.Errorf("status %+v", st)
	}
	e := s.mem.Entries("stopncii")[0]
	if e.Signal != bank.MD5 || e.ExternalID != "VideoMD5:"+strings.Repeat("ab", 16) || !strings.Contains(e.Note, "case-abab") {
		t.Errorf("entry %+v", e)
	}
	// Withdrawn and Deleted both remove; a new submission is added.
	s.fake.put(2000, "ImagePDQ", pdqOf(0), "Withdrawn")
	s.fake.put(2001, "ImagePDQ", pdqOf(1), "Deleted")
	s.fake.put(2002, "ImagePDQ", pdqOf(900), "Received")
	calls := s.fake.calls
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	if s.fake.calls-calls != 1 {
		t.Errorf("%d pages for 3 new records: the checkpoint did not move to nextSetTimestamp", s.fake.calls-calls)
	}
	for v, want := range map[string]bool{pdqOf(0): false, pdqOf(1): false, pdqOf(2): true, pdqOf(900): true} {
		if got := s.mem.Has("stopncii", bank.PDQ, v); got != want {
			t.Errorf("has %s… = %v, want %v", v[:8], got, want)
		}
	}
}

func TestMalformedRecordsSkippedNotStalled(t *testing.T) {
	s := newSetup(t, "sub")
	s.fake.garbage[1] = `{"count": 4, "hasMoreRecords": false, "nextPageToken": null, "nextSetTimestamp": 5000, "hashRecords": [
		{"lastModtimestamp": 1, "signalType": "ImagePDQ", "hashValue": "` + pdqOf(1) + `", "hashStatus": "Active", "caseNumbers": {}},
		{"lastModtimestamp": "yesterday", "signalType": "ImagePDQ", "hashValue": "x", "hashStatus": "Active"},
		{"lastModtimestamp": 2, "signalType": "ImagePDQ", "hashValue": "` + pdqOf(2) + `", "hashStatus": "Frozen"},
		{"lastModtimestamp": 3, "signalType": "ImagePDQ", "hashValue": "nothex", "hashStatus": "Active"},
		{"lastModtimestamp": 4, "signalType": "Text", "hashValue": "words", "hashStatus": "Active"}]}`
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	st, _ := s.runner.Status("stopncii")
	if st.Malformed != 3 || st.Skipped["stopncii:Text"] != 1 || s.mem.Len("stopncii") != 1 {
		t.Errorf("status %+v, %d entries: want 3 malformed (bad time, unknown status, bad hex), the Text carried, 1 entry", st, s.mem.Len("stopncii"))
	}
	if !strings.Contains(st.Checkpoint.Position, `"start":5000`) {
		t.Errorf("checkpoint %q: the fetch must move past a page with bad records", st.Checkpoint.Position)
	}
}

func TestMalformedPageFailsClearly(t *testing.T) {
	s := newSetup(t, "sub")
	for i := range 150 {
		s.fake.put(int64(1000+i), "ImagePDQ", pdqOf(i), "Active")
	}
	s.fake.garbage[2] = `<html>gateway timeout</html>`
	err := s.fetch()
	if err == nil || !strings.Contains(err.Error(), "not a FetchHashes answer") {
		t.Fatalf("err = %v", err)
	}
	if s.mem.Len("stopncii") != 100 {
		t.Errorf("%d entries: want the first page's", s.mem.Len("stopncii"))
	}
	delete(s.fake.garbage, 2)
	if err := s.fetch(); err != nil || s.mem.Len("stopncii") != 150 {
		t.Errorf("resume: %v, %d entries", err, s.mem.Len("stopncii"))
	}
}

func TestRepeatedTokenIsAnError(t *testing.T) {
	s := newSetup(t, "sub")
	// The fake reads a token it did not make as offset 0: page 1 again.
	s.fake.garbage[1] = `{"count": 0, "hasMoreRecords": true, "nextPageToken": "same", "nextSetTimestamp": 10, "hashRecords": []}`
	if err := s.fetch(); err == nil || !strings.Contains(err.Error(), "not advancing") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetryAndAuth(t *testing.T) {
	s := newSetup(t, "sub")
	s.fake.put(100, "ImagePDQ", pdqOf(1), "Active")
	s.fake.fail[1], s.fake.fail[2] = 429, 500
	if err := s.fetch(); err != nil || s.mem.Len("stopncii") != 1 {
		t.Fatalf("after 429 and 500: %v, %d entries", err, s.mem.Len("stopncii"))
	}
	bad := newSetup(t, "wrong")
	if err := bad.fetch(); !errors.Is(err, exchange.ErrAuth) {
		t.Fatalf("bad key: %v", err)
	}
}

func TestStaleTokenRestarts(t *testing.T) {
	s := newSetup(t, "sub")
	for i := range 150 {
		s.fake.put(int64(1000+i), "ImagePDQ", pdqOf(i), "Active")
	}
	s.fake.garbage[2] = `not json`
	s.fetch()
	delete(s.fake.garbage, 2)
	s.now = s.now.Add(stopncii.TokenLife + time.Second)
	calls := s.fake.calls
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	if s.fake.calls-calls != 2 || s.mem.Len("stopncii") != 150 {
		t.Errorf("%d pages, %d entries: want the fetch restarted from its start", s.fake.calls-calls, s.mem.Len("stopncii"))
	}
}

func TestSubmitFeedbackSendsSignalTypeNames(t *testing.T) {
	s := newSetup(t, "sub")
	err := s.client.SubmitFeedback(context.Background(), []stopncii.Feedback{
		{Kind: exchange.PDQ, Value: pdqOf(1), Verdict: stopncii.Blocked},
		{Kind: exchange.MD5, Value: strings.Repeat("ab", 16), Verdict: stopncii.NotBlocked, Tags: []string{"reviewed"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"count":2,"hashFeedbacks":[{"hashValue":"` + pdqOf(1) + `","signalType":"ImagePDQ","feedbackValue":"Blocked","tags":[]},` +
		`{"hashValue":"` + strings.Repeat("ab", 16) + `","signalType":"VideoMD5","feedbackValue":"NotBlocked","tags":["reviewed"]}]}`
	if len(s.fake.feedback) != 1 || s.fake.feedback[0] != want {
		t.Errorf("sent %q\nwant %q", s.fake.feedback, want)
	}
	if err := s.client.SubmitFeedback(context.Background(), []stopncii.Feedback{{Kind: exchange.PDQ, Value: "x", Verdict: "Maybe"}}); err == nil {
		t.Error("an unknown verdict was sent")
	}
	if err := s.client.SubmitFeedback(context.Background(), []stopncii.Feedback{{Kind: exchange.SHA1, Value: "x", Verdict: stopncii.Blocked}}); err == nil {
		t.Error("feedback on a kind StopNCII does not have was sent")
	}
}

// The server's feedback worker sends through the Runner: a confirmed match
// is Blocked, a rejected one NotBlocked, the type by its name.
func TestRunnerSendsFeedback(t *testing.T) {
	s := newSetup(t, "sub")
	ctx := context.Background()
	for _, confirmed := range []bool{true, false} {
		if err := s.runner.SendFeedback(ctx, exchange.Feedback{Exchange: "stopncii", RecordID: "ImagePDQ:" + pdqOf(2),
			Kind: exchange.PDQ, Value: pdqOf(2), Confirmed: confirmed}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"count":1,"hashFeedbacks":[{"hashValue":"` + pdqOf(2) + `","signalType":"ImagePDQ","feedbackValue":"Blocked","tags":[]}]}`,
		`{"count":1,"hashFeedbacks":[{"hashValue":"` + pdqOf(2) + `","signalType":"ImagePDQ","feedbackValue":"NotBlocked","tags":[]}]}`,
	}
	if strings.Join(s.fake.feedback, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(s.fake.feedback, "\n"), strings.Join(want, "\n"))
	}
	if err := s.runner.SendFeedback(ctx, exchange.Feedback{Exchange: "other", Kind: exchange.PDQ}); !exchange.Permanent(err) {
		t.Errorf("feedback to an exchange not configured: %v, want a permanent error", err)
	}
}
