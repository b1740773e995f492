package peer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/exchangetest"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
)

// log is a publisher's change log in memory.
type log struct {
	mu      sync.Mutex
	changes map[string][]bank.Change
	seq     int64
}

func (l *log) add(bankName string, e bank.Entry, removed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changes == nil {
		l.changes = map[string][]bank.Change{}
	}
	l.seq++
	l.changes[bankName] = append(l.changes[bankName], bank.Change{Seq: l.seq, Entry: e, Removed: removed})
}

func (l *log) BankChanges(_ context.Context, bankName string, after int64, limit int) ([]bank.Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []bank.Change
	for _, c := range l.changes[bankName] {
		if c.Seq > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func pdqOf(i int) string { return fmt.Sprintf("%064x", i+1<<16) }

type setup struct {
	log    *log
	srv    *httptest.Server
	pub    ed25519.PublicKey
	mem    *exchangetest.Memory
	runner *exchange.Runner
	// tamper, if set, rewrites the publisher's answers on the way.
	tamper func(body []byte, h http.Header) []byte
}

func newSetup(t *testing.T, pinned ed25519.PublicKey) *setup {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	s := &setup{log: &log{}, pub: pub, mem: &exchangetest.Memory{}}
	p := &peer.Publisher{Key: priv, Source: s.log, Banks: []string{"iwf_shared", "other"}}
	s.srv = httptest.NewServer(http.StripPrefix("/v1/peer", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer peer-token" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if s.tamper == nil {
			p.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		body := s.tamper(rec.Body.Bytes(), rec.Header())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	})))
	t.Cleanup(s.srv.Close)
	if pinned == nil {
		pinned = pub
	}
	cfg := exchange.Config{Name: "iwf_shared", Kind: "peer",
		Settings:    map[string]string{"url": s.srv.URL + "/v1/peer", "public_key": peer.EncodeKey(pinned), "page_size": "100"},
		Credentials: map[string]string{"token": "peer-token"}}
	f, err := peer.Config(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.runner = &exchange.Runner{Sink: s.mem, Checkpoints: s.mem}
	s.runner.Add(cfg, f)
	return s
}

func (s *setup) fetch() error { return s.runner.Fetch(context.Background(), "iwf_shared") }

func TestFeedRoundTrip(t *testing.T) {
	s := newSetup(t, nil)
	for i := range 250 {
		s.log.add("iwf_shared", bank.Entry{Signal: bank.PDQ, Value: pdqOf(i), Source: "IWF", Category: "A", Note: "n"}, false)
	}
	s.log.add("private", bank.Entry{Signal: bank.PDQ, Value: pdqOf(999)}, false)
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	if n := s.mem.Len("iwf_shared"); n != 250 {
		t.Fatalf("%d entries, want 250", n)
	}
	e := s.mem.Entries("iwf_shared")[0]
	if e.Category != "A" || e.Note != "from IWF. n" || e.ExternalID != "pdq:"+pdqOf(0) || e.Source != "iwf_shared" {
		t.Errorf("entry %+v", e)
	}
	if st, _ := s.runner.Status("iwf_shared"); st.Pages != 3 || st.Checkpoint.Position != "250" {
		t.Errorf("status %+v", st)
	}
	s.log.add("iwf_shared", bank.Entry{Signal: bank.PDQ, Value: pdqOf(0)}, true)
	s.log.add("iwf_shared", bank.Entry{Signal: bank.MD5, Value: strings.Repeat("ef", 16)}, false)
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	if s.mem.Has("iwf_shared", bank.PDQ, pdqOf(0)) || !s.mem.Has("iwf_shared", bank.MD5, strings.Repeat("ef", 16)) || s.mem.Len("iwf_shared") != 250 {
		t.Errorf("after a removal and an addition: %d entries", s.mem.Len("iwf_shared"))
	}
}

func TestWrongPinnedKeyRefused(t *testing.T) {
	other, _, _ := ed25519.GenerateKey(nil)
	s := newSetup(t, other)
	s.log.add("iwf_shared", bank.Entry{Signal: bank.PDQ, Value: pdqOf(1)}, false)
	err := s.fetch()
	if !errors.Is(err, peer.ErrSignature) || !exchange.Permanent(err) {
		t.Fatalf("err = %v, want ErrSignature", err)
	}
	if s.mem.Len("iwf_shared") != 0 {
		t.Error("an unverified page was applied")
	}
}

func TestTamperedPageRefused(t *testing.T) {
	s := newSetup(t, nil)
	s.log.add("iwf_shared", bank.Entry{Signal: bank.PDQ, Value: pdqOf(1)}, false)
	s.tamper = func(body []byte, _ http.Header) []byte {
		return bytes.Replace(body, []byte(pdqOf(1)), []byte(pdqOf(2)), 1)
	}
	if err := s.fetch(); !errors.Is(err, peer.ErrSignature) {
		t.Fatalf("err = %v, want ErrSignature", err)
	}
}

func TestReplayedPageRefused(t *testing.T) {
	s := newSetup(t, nil)
	for i := range 150 {
		s.log.add("iwf_shared", bank.Entry{Signal: bank.PDQ, Value: pdqOf(i)}, false)
	}
	// Keep the validly signed first page and its signature, then serve it
	// in place of the second.
	var first []byte
	var firstSig string
	s.tamper = func(body []byte, h http.Header) []byte {
		if first == nil {
			first, firstSig = bytes.Clone(body), h.Get(peer.SignatureHeader)
			return body
		}
		h.Set(peer.SignatureHeader, firstSig)
		return first
	}
	err := s.fetch()
	if err == nil || !strings.Contains(err.Error(), "not of \"iwf_shared\" after 100 as asked") {
		t.Fatalf("err = %v, want the replay refused", err)
	}
	if s.mem.Len("iwf_shared") != 100 {
		t.Errorf("%d entries: want the first page only", s.mem.Len("iwf_shared"))
	}
}

func TestCrashBetweenPages(t *testing.T) {
	s := newSetup(t, nil)
	for i := range 350 {
		s.log.add("iwf_shared", bank.Entry{Signal: bank.PDQ, Value: pdqOf(i)}, false)
	}
	n := 0
	s.mem.Fail = func(exchange.Batch) error {
		if n++; n == 2 {
			return errors.New("crash")
		}
		return nil
	}
	if err := s.fetch(); err == nil {
		t.Fatal("no crash")
	}
	if err := s.fetch(); err != nil {
		t.Fatal(err)
	}
	if _, changed := s.mem.Applied(); changed != 350 || s.mem.Len("iwf_shared") != 350 {
		t.Errorf("%d changed, %d entries; want 350 each", changed, s.mem.Len("iwf_shared"))
	}
}

func TestPublisherRefuses(t *testing.T) {
	s := newSetup(t, nil)
	for path, want := range map[string]int{
		"/v1/peer/feed/private":             404,
		"/v1/peer/feed/iwf_shared?after=-1": 400,
		"/v1/peer/feed/iwf_shared?limit=x":  400,
		"/v1/peer/other":                    404,
		"/v1/peer/feed/iwf_shared?limit=99": 200,
	} {
		req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer peer-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestKeys(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	if k, err := peer.ParsePublicKey(peer.EncodeKey(pub)); err != nil || !k.Equal(pub) {
		t.Errorf("public key round trip: %v", err)
	}
	if _, err := peer.ParsePublicKey("AAAA"); err == nil {
		t.Error("a short public key was accepted")
	}
	seed := priv.Seed()
	k, err := peer.ParsePrivateKey(peer.EncodeKey(ed25519.PublicKey(seed)))
	if err != nil || !k.Equal(priv) {
		t.Errorf("private key from seed: %v", err)
	}
}
