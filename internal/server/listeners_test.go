package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// Issue 12, finding 5: the operator's routes are on their own listener,
// and a public listener serves Report Remove and nothing private.
func TestListeners(t *testing.T) {
	cfg, st := openSQLite(t)
	cfg.OperatorListen = "127.0.0.1:0"
	cfg.PublicListen = "127.0.0.1:0"
	srv, base, adminKey := startServer(t, cfg, st)
	op, pub := "http://"+srv.OperatorAddr(), "http://"+srv.PublicAddr()
	if op == base || srv.PublicAddr() == "" {
		t.Fatalf("listeners: main %s, operator %s, public %s", base, op, pub)
	}
	for _, c := range []struct {
		url  string
		want int
	}{
		{base + "/metrics", 404}, {base + "/readyz", 404}, {base + "/healthz", 200},
		{op + "/metrics", 200}, {op + "/readyz", 200}, {op + "/healthz", 200}, {op + "/v1/banks", 404},
		{pub + "/metrics", 404}, {pub + "/v1/banks", 404}, {pub + "/v1/openapi.json", 404}, {pub + "/healthz", 200},
	} {
		req, _ := http.NewRequest("GET", c.url, nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.want)
		}
	}
	// The public part takes a self-report (its API) and serves the page.
	resp, err := http.Post(pub+"/v1/self-reports", "application/json",
		strings.NewReader(`{"images":[{"pdq":"`+strings.Repeat("c", 64)+`","quality":90,"md5":"`+strings.Repeat("c", 32)+`","sha256":"`+strings.Repeat("c0", 32)+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("POST /v1/self-reports on the public listener: %d, want 201", resp.StatusCode)
	}
	if resp, err := http.Get(pub + "/remove"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 200 {
		t.Errorf("GET /remove on the public listener: %d", resp.StatusCode)
	}
}
