package server_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/testkit"
)

// A served notice: registered through the API with its content, the
// server's worker checks the URL on loopback (allowed by the settings
// file) and sends the first notice to the SMTP sink, and the per-host
// figures count it as sent and still up.
func TestServedNotice(t *testing.T) {
	cfg, st := openSQLite(t)
	pic, _ := photo(t, 3)
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(pic) }))
	defer host.Close()
	sink := testkit.NewSMTPSink(t)
	path := filepath.Join(t.TempDir(), "notices.json")
	os.WriteFile(path, []byte(`{"org": "Test Hotline", "smtp": "`+sink.Addr+`", "from": "notices@hotline.example",
		"fetch_allow": ["127.0.0.1/32"]}`), 0o600)
	cfg.NoticesFile, cfg.ChaseEvery = path, 20*time.Millisecond
	base, adminKey := start(t, cfg, st)
	admin := client{t, base, adminKey}
	analyst, _ := admin.newKey("reviewer", "analyst")

	var n struct {
		ID       int64  `json:"id"`
		Evidence string `json:"evidence"`
		MD5      string `json:"md5"`
		PDQ      string `json:"pdq"`
	}
	// The picture is larger than a JSON string may be: a multipart form.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("notice", `{"url": "`+host.URL+`/img.jpg", "host": "loopback-images", "contact": "abuse@images.example",
		"category": "suspected_csam", "legal_basis": "Art. 16 DSA", "content_type": "image/jpeg"}`)
	fw, _ := mw.CreateFormFile("content", "found.jpg")
	fw.Write(pic)
	mw.Close()
	b := analyst.do("POST", "/v1/notices", mw.FormDataContentType(), body.Bytes(), 201, nil)
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	if n.Evidence == "" || n.MD5 == "" || n.PDQ == "" {
		t.Fatalf("notice without evidence or hashes: %+v", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.Mail()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no notice was e-mailed within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := sink.Mail()[0]
	if m.To[0] != "abuse@images.example" || !strings.Contains(m.Data, host.URL+"/img.jpg") {
		t.Errorf("the e-mail: to %v\n%s", m.To, m.Data)
	}
	var got struct {
		Notice struct {
			Sends int `json:"sends"`
		} `json:"notice"`
		Events []struct {
			Kind  string `json:"kind"`
			Check *struct {
				Status int  `json:"status"`
				Found  bool `json:"found"`
			} `json:"check"`
		} `json:"events"`
	}
	for got.Notice.Sends == 0 && time.Now().Before(deadline) {
		analyst.json("GET", "/v1/notices/1", nil, 200, &got)
	}
	if got.Notice.Sends != 1 || len(got.Events) < 2 || got.Events[0].Check == nil || !got.Events[0].Check.Found || got.Events[0].Check.Status != 200 {
		t.Errorf("the notice after its first step: %+v", got)
	}
	var fig struct {
		Hosts []struct {
			Host    string `json:"host"`
			Sent    int    `json:"sent"`
			StillUp int    `json:"still_up"`
		} `json:"hosts"`
	}
	admin.json("GET", "/v1/notices/figures", nil, 200, &fig)
	if len(fig.Hosts) != 1 || fig.Hosts[0].Host != "loopback-images" || fig.Hosts[0].Sent != 1 || fig.Hosts[0].StillUp != 1 {
		t.Errorf("figures: %+v", fig)
	}
}
