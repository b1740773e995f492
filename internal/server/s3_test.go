package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/evidence/s3/s3test"
	"github.com/safeguard-oss/safeguard/internal/server"
)

// Evidence in a bucket (issue 19, item 1): content one server quarantines
// is read through another server sharing the database and the bucket, and
// with the bucket's server down, a scan that must keep content answers 503
// with Retry-After and /readyz says why.
func TestEvidenceInBucket(t *testing.T) {
	s3 := s3test.Start(t)
	cfg, st := openPostgres(t)
	cfg.OperatorListen = "127.0.0.1:0"
	cfg.EvidenceURL = s3.URL(t, s3.Bucket(t), "safeguard/evidence")
	cfg.ProbeEvery = 100 * time.Millisecond
	srv, base, adminKey := startServer(t, cfg, st)
	admin := client{t, base, adminKey}
	picture, _ := photo(t, 3)
	listed(t, admin, picture, "block", "quarantine")
	if code, _, body := scanRaw(t, base, adminKey, picture); code != 200 || !strings.Contains(body, `"quarantine"`) {
		t.Fatalf("scan: %d %s", code, body)
	}
	var ids []string
	for obj := range s3.Admin.ListObjects(context.Background(), strings.SplitN(strings.TrimPrefix(cfg.EvidenceURL, "s3://"), "/", 2)[0], minio.ListObjectsOptions{Prefix: "safeguard/evidence/"}) {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(obj.Key, "safeguard/evidence/"), ".sgev"); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("the bucket holds items %v, want the one quarantined", ids)
	}

	// Another server: its own process state, the same database and bucket.
	st2, err := server.OpenStores(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	cfg2 := cfg
	cfg2.Data = t.TempDir()
	_, base2, _ := startServer(t, cfg2, st2)
	liaison, _, err := auth.Create(context.Background(), st2, auth.LELiaison, "liaison", "test")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Item struct {
			SHA256 string `json:"sha256"`
		} `json:"item"`
	}
	client{t, base2, liaison}.json("GET", "/v1/evidence/"+ids[0], nil, 200, &got)
	if sum := sha256.Sum256(picture); got.Item.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("the other server reads item %s as SHA-256 %q, want %x", ids[0], got.Item.SHA256, sum)
	}

	op := "http://" + srv.OperatorAddr()
	if code, _, body := get(t, op+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	s3.Stop()
	time.Sleep(cfg.ProbeEvery) // the probe's answer stands that long
	if code, retry, body := scanRaw(t, base, adminKey, picture); code != 503 || retry == "" || strings.Contains(body, `"quarantine"`) {
		t.Errorf("scan with the bucket's server down: %d Retry-After %q %s, want 503 with Retry-After", code, retry, body)
	}
	if code, _, body := get(t, op+"/readyz"); code != 503 || !strings.Contains(body, "evidence") {
		t.Errorf("/readyz with the bucket's server down: %d %s, want 503 naming evidence", code, body)
	}
}

// TestReadyzCost counts what /readyz asks of the evidence bucket, through a
// proxy in front of the S3 server: asked again and again within the probe
// period, nothing more; after it, one PUT.
func TestReadyzCost(t *testing.T) {
	s3 := s3test.Start(t)
	target, err := url.Parse("http://" + s3.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}

	cfg, st := openSQLite(t)
	cfg.OperatorListen = "127.0.0.1:0"
	cfg.ProbeEvery = 2 * time.Second
	cfg.OperationsEvery = time.Hour // only /readyz probes here
	cfg.EvidenceURL = strings.Replace(s3.URL(t, s3.Bucket(t), "ev"), s3.Endpoint, strings.TrimPrefix(front.URL, "http://"), 1)
	srv, _, _ := startServer(t, cfg, st)
	op := "http://" + srv.OperatorAddr()
	ready := func() {
		t.Helper()
		if code, _, body := get(t, op+"/readyz"); code != 200 {
			t.Fatalf("/readyz: %d %s", code, body)
		}
	}
	ready()
	before := len(requests())
	start := time.Now()
	for range 10 {
		ready()
	}
	got := requests()[before:]
	if time.Since(start) < cfg.ProbeEvery && len(got) != 0 {
		t.Errorf("10 /readyz within the probe period asked the bucket %v, want nothing", got)
	}
	time.Sleep(cfg.ProbeEvery)
	before = len(requests())
	ready()
	if got := requests()[before:]; len(got) != 1 || !strings.HasPrefix(got[0], "PUT ") {
		t.Errorf("/readyz after the probe period asked the bucket %v, want one PUT", got)
	}
}
