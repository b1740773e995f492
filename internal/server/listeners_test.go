package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/server"
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

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// Issue 12 (low): serve takes a certificate; answers over TLS carry HSTS.
func TestTLS(t *testing.T) {
	cfg, st := openSQLite(t)
	cfg.TLSCert, cfg.TLSKey = selfSigned(t)
	srv, _, _ := startServer(t, cfg, st)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get("https://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /healthz over TLS: %d, TLS %v, HSTS %q", resp.StatusCode, resp.TLS != nil, resp.Header.Get("Strict-Transport-Security"))
	}
	if _, err := server.New(t.Context(), server.Config{Data: t.TempDir(), Listen: "127.0.0.1:0", TLSCert: cfg.TLSCert}, st, nil); err == nil {
		t.Error("a certificate without its key was taken")
	}
}
