package cybertip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/audit/audittest"
	"github.com/safeguard-oss/safeguard/internal/lereport"
	"github.com/safeguard-oss/safeguard/internal/lereport/lereporttest"
	"github.com/safeguard-oss/safeguard/internal/lereport/schema"
)

// fakeTipline is a CyberTipline on loopback. It checks what a real one
// would refuse — credentials, the order of calls, documents that do not
// conform, files for unknown reports, details naming ids it never issued —
// and records every call.
type fakeTipline struct {
	t *testing.T

	mu       sync.Mutex
	calls    []string          // "submit", "upload f-1", …
	reports  map[string]string // report id → state: open, finished, retracted
	files    map[string]string // file id → SHA-256 of the content received, in hex
	fileOf   map[string]string // file id → report id
	infoFor  map[string]bool   // file ids whose details came
	failNext map[string]int    // op → answer the next call with HTTP 503
	nextID   int
}

func newFake(t *testing.T) (*fakeTipline, *Client) {
	f := &fakeTipline{t: t, reports: map[string]string{}, files: map[string]string{},
		fileOf: map[string]string{}, infoFor: map[string]bool{}, failNext: map[string]int{}, nextID: 9000}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &Client{BaseURL: srv.URL + "/ispws", User: "esp", Password: "s3cret", HTTP: srv.Client()}
}

func answer(w http.ResponseWriter, code int, desc, field, value string) {
	w.Header().Set("Content-Type", "text/xml")
	extra := ""
	if field != "" {
		extra = fmt.Sprintf("<%s>%s</%s>", field, value, field)
	}
	fmt.Fprintf(w, `<?xml version="1.0"?><reportResponse><responseCode>%d</responseCode><responseDescription>%s</responseDescription>%s</reportResponse>`, code, desc, extra)
}

func (f *fakeTipline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "esp" || p != "s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	op, ok := strings.CutPrefix(r.URL.Path, "/ispws/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if f.failNext[op] > 0 {
		f.failNext[op]--
		f.calls = append(f.calls, op+" (503)")
		http.Error(w, "<html>maintenance</html>", http.StatusServiceUnavailable)
		return
	}
	f.nextID++
	id := fmt.Sprint(f.nextID)
	switch op {
	case "submit":
		body, _ := io.ReadAll(r.Body)
		if err := schema.CyberTip.Validate(body); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml") {
			answer(w, 1000, fmt.Sprintf("invalid report: %v", err), "", "")
			return
		}
		f.reports[id] = "open"
		f.calls = append(f.calls, "submit")
		answer(w, 0, "Success", "reportId", id)
	case "upload":
		rid, name, sum, err := readUpload(r)
		if err != nil || f.reports[rid] != "open" {
			answer(w, 2000, fmt.Sprintf("bad upload for report %q: %v", rid, err), "", "")
			return
		}
		fid := "f-" + id
		f.files[fid], f.fileOf[fid] = sum, rid
		f.calls = append(f.calls, "upload "+name)
		answer(w, 0, "Success", "fileId", fid)
	case "fileinfo":
		body, _ := io.ReadAll(r.Body)
		var d struct {
			ReportID string `xml:"reportId"`
			FileID   string `xml:"fileId"`
			Viewed   bool   `xml:"fileViewedByEsp"`
		}
		if err := schema.CyberTip.Validate(body); err != nil || xml.Unmarshal(body, &d) != nil ||
			f.fileOf[d.FileID] != d.ReportID || f.reports[d.ReportID] != "open" {
			answer(w, 3000, fmt.Sprintf("bad file details: %v", err), "", "")
			return
		}
		f.infoFor[d.FileID] = true
		f.calls = append(f.calls, fmt.Sprintf("fileinfo %s viewed=%v", d.FileID, d.Viewed))
		answer(w, 0, "Success", "", "")
	case "finish", "retract":
		rid := r.PostFormValue("id")
		if f.reports[rid] != "open" {
			answer(w, 4000, "report "+rid+" is not open", "", "")
			return
		}
		if op == "finish" {
			for fid, r := range f.fileOf {
				if r == rid && !f.infoFor[fid] {
					answer(w, 4001, "file "+fid+" has no details", "", "")
					return
				}
			}
			f.reports[rid] = "finished"
		} else {
			f.reports[rid] = "retracted"
		}
		f.calls = append(f.calls, op+" "+rid)
		fmt.Fprintf(w, `<reportDoneResponse><responseCode>0</responseCode><reportId>%s</reportId></reportDoneResponse>`, rid)
	default:
		http.NotFound(w, r)
	}
}

// readUpload reads an upload's form as a stream, as a recipient taking
// videos would: the report id, then the file, hashed as it arrives. It
// refuses a body of unsaid length (chunked) and a form cut short.
func readUpload(r *http.Request) (rid, name, sum string, err error) {
	if r.ContentLength < 0 {
		return "", "", "", errors.New("no Content-Length")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", "", "", err
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", "", err
		}
		switch p.FormName() {
		case "id":
			b, err := io.ReadAll(io.LimitReader(p, 100))
			if err != nil {
				return "", "", "", err
			}
			rid = string(b)
		case "file":
			if rid == "" {
				return "", "", "", errors.New("the file comes before the report id")
			}
			h := sha256.New()
			if _, err := io.Copy(h, p); err != nil {
				return "", "", "", err
			}
			name, sum = p.FileName(), hex.EncodeToString(h.Sum(nil))
		}
	}
	if sum == "" {
		return "", "", "", errors.New("no file")
	}
	return rid, name, sum, nil
}

// sumOf is the SHA-256 of b in hex, as the fake records what it received.
func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var clock = func() time.Time { return time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC) }

// readyReport stores the sample report with a second, unviewed file, and
// makes it ready.
func readyReport(t *testing.T, s lereport.Store) (lereport.Report, map[string][]byte) {
	t.Helper()
	r := lereporttest.Sample()
	second := r.Files[0]
	second.EvidenceID = "fedcba9876543210fedcba9876543210"
	second.Details.OriginalFileName = "clip.mp4"
	second.Details.FileViewedByESP = false
	second.Details.FileRelevance = lereport.SupplementalReported
	second.Details.IndustryClassification = ""
	r.Files = append(r.Files, second)
	ctx := context.Background()
	r, err := s.CreateLEReport(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = lereport.Transition(ctx, s, r.ID, lereport.Ready, "k_liaison", "", clock(), nil); err != nil {
		t.Fatal(err)
	}
	return r, map[string][]byte{r.Files[0].EvidenceID: []byte("jpeg bytes"), second.EvidenceID: {0, 1, 2, 0xff}}
}

func TestSend(t *testing.T) {
	fake, client := newFake(t)
	store := new(lereporttest.Memory)
	r, content := readyReport(t, store)
	files := lereporttest.NewFiles(content)
	mem := new(audittest.Memory)
	sub := &Submitter{API: client, Store: store, Files: files, Now: clock, Log: audit.NewLog(mem)}
	got, err := sub.Send(context.Background(), r.ID, "k_liaison")
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for e, err := range mem.AuditEntries(context.Background(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fmt.Sprintf("%s %s %s %s", e.Actor, e.Action, e.Subject, e.Detail))
	}
	wantLog := []string{
		`k_liaison lereport.submit lereport:1 {"recipient_report_id":"9001"}`,
		`k_liaison lereport.file lereport:1 {"evidence_id":"0123456789abcdef0123456789abcdef","file_id":"f-9002","file_viewed_by_esp":true}`,
		`k_liaison lereport.file lereport:1 {"evidence_id":"fedcba9876543210fedcba9876543210","file_id":"f-9004","file_viewed_by_esp":false}`,
		`k_liaison lereport.finish lereport:1 {"recipient_report_id":"9001"}`,
	}
	if strings.Join(entries, "\n") != strings.Join(wantLog, "\n") {
		t.Errorf("audit log\n%s\nwant\n%s", strings.Join(entries, "\n"), strings.Join(wantLog, "\n"))
	}
	want := []string{"submit", "upload IMG_0001.jpg", "fileinfo f-9002 viewed=true", "upload clip.mp4", "fileinfo f-9004 viewed=false", "finish 9001"}
	if fmt.Sprint(fake.calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%q\nwant\n%q", fake.calls, want)
	}
	if got.State != lereport.Acknowledged || got.RecipientReportID != "9001" {
		t.Errorf("after Send: %s, recipient id %q", got.State, got.RecipientReportID)
	}
	if fake.files["f-9002"] != sumOf(content[r.Files[0].EvidenceID]) || fake.files["f-9004"] != sumOf(content[r.Files[1].EvidenceID]) {
		t.Error("uploaded bytes differ from the evidence")
	}
	if files.Unclosed() != 0 {
		t.Errorf("%d readers of the evidence left open", files.Unclosed())
	}
	for _, f := range got.Files {
		if !f.InfoSent || f.Details.ReportID != "9001" || f.Details.FileID == "" {
			t.Errorf("file %s: sent %v, ids %q %q", f.EvidenceID, f.InfoSent, f.Details.ReportID, f.Details.FileID)
		}
	}
	if _, err := sub.Send(context.Background(), r.ID, "k_liaison"); !errors.Is(err, lereport.ErrTransition) {
		t.Errorf("sending an acknowledged report again: %v", err)
	}
}

// TestSendResumes cuts a submission short at each step in turn and checks
// that sending again finishes it without a second report or upload.
func TestSendResumes(t *testing.T) {
	for _, op := range []string{"submit", "upload", "fileinfo", "finish"} {
		t.Run(op, func(t *testing.T) {
			fake, client := newFake(t)
			fake.failNext[op] = 1
			store := new(lereporttest.Memory)
			r, content := readyReport(t, store)
			files := lereporttest.NewFiles(content)
			sub := &Submitter{API: client, Store: store, Files: files, Now: clock}
			_, err := sub.Send(context.Background(), r.ID, "k_liaison")
			if err == nil || !strings.Contains(err.Error(), "HTTP 503") {
				t.Fatalf("Send with %s failing = %v", op, err)
			}
			got, err := sub.Send(context.Background(), r.ID, "k_liaison")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != lereport.Acknowledged {
				t.Errorf("state %s", got.State)
			}
			counts := map[string]int{}
			for _, c := range fake.calls {
				if !strings.HasSuffix(c, "(503)") {
					counts[strings.Fields(c)[0]]++
				}
			}
			if counts["submit"] != 1 || counts["upload"] != 2 || counts["fileinfo"] != 2 || counts["finish"] != 1 {
				t.Errorf("calls %q: want one submit, two uploads, two fileinfos and one finish besides the 503", fake.calls)
			}
			// The upload cut short is sent again from the evidence
			// opened again, and arrives whole.
			first := r.Files[0].EvidenceID
			if want := map[bool]int{true: 2, false: 1}[op == "upload"]; files.Opens(first) != want || files.Unclosed() != 0 {
				t.Errorf("the first file was opened %d times (want %d), %d readers left open", files.Opens(first), want, files.Unclosed())
			}
			if got := got.Files[0].Details.FileID; fake.files[got] != sumOf(content[first]) {
				t.Errorf("file %s at the recipient is not the evidence", got)
			}
		})
	}
}

func TestRetract(t *testing.T) {
	fake, client := newFake(t)
	store := new(lereporttest.Memory)
	r, content := readyReport(t, store)
	fake.failNext["finish"] = 1
	sub := &Submitter{API: client, Store: store, Files: lereporttest.NewFiles(content), Now: clock}
	if _, err := sub.Send(context.Background(), r.ID, "k_liaison"); err == nil {
		t.Fatal("Send succeeded though finish failed")
	}
	got, err := sub.Retract(context.Background(), r.ID, "k_liaison", "sent in error")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != lereport.Retracted || fake.reports["9001"] != "retracted" {
		t.Errorf("after Retract: here %s, there %s", got.State, fake.reports["9001"])
	}
	if last := got.History[len(got.History)-1]; last.Note != "sent in error" || last.Actor != "k_liaison" {
		t.Errorf("last change %+v", last)
	}
	// A ready report never reached the recipient: retracting it calls nothing.
	r2, _ := readyReport(t, store)
	n := len(fake.calls)
	if _, err := sub.Retract(context.Background(), r2.ID, "k_liaison", ""); err != nil || len(fake.calls) != n {
		t.Errorf("retracting a ready report: %v, %d calls", err, len(fake.calls)-n)
	}
	if _, err := sub.Retract(context.Background(), r2.ID, "k_liaison", ""); !errors.Is(err, lereport.ErrTransition) {
		t.Errorf("retracting twice: %v", err)
	}
}

// TestSendRefusesOtherRecipient: a report meant for a hotline never goes
// to the CyberTipline.
func TestSendRefusesOtherRecipient(t *testing.T) {
	fake, client := newFake(t)
	store := new(lereporttest.Memory)
	r, content := readyReport(t, store)
	if _, err := store.UpdateLEReport(context.Background(), r.ID, func(r *lereport.Report) error {
		r.Recipient = "inhope:de"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sub := &Submitter{API: client, Store: store, Files: lereporttest.NewFiles(content), Now: clock}
	if _, err := sub.Send(context.Background(), r.ID, "k_liaison"); err == nil || !strings.Contains(err.Error(), `is for "inhope:de"`) {
		t.Errorf("Send = %v", err)
	}
	if len(fake.calls) != 0 {
		t.Errorf("calls %q", fake.calls)
	}
}

func TestClientErrors(t *testing.T) {
	_, client := newFake(t)
	ctx := context.Background()
	bad := *client
	bad.Password = "wrong"
	if _, err := bad.Submit(ctx, []byte("<report/>")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong password: %v", err)
	}
	_, err := client.Submit(ctx, []byte("<report/>"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 1000 || apiErr.Op != "submit" {
		t.Errorf("invalid report: %v", err)
	}
	if err := client.Finish(ctx, "12345"); !errors.As(err, &apiErr) || apiErr.Code != 4000 {
		t.Errorf("finishing an unknown report: %v", err)
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		body string
		want Response
		err  string
	}{
		{`<reportResponse><responseCode>0</responseCode><responseDescription>Success</responseDescription><reportId>42</reportId></reportResponse>`,
			Response{Code: 0, Description: "Success", ReportID: "42"}, ""},
		{`<reportDoneResponse><responseCode> 0 </responseCode><reportId>42</reportId><fileId>f</fileId></reportDoneResponse>`,
			Response{ReportID: "42", FileID: "f"}, ""},
		{`<reportResponse><responseCode>1100</responseCode><responseDescription>Bad XML</responseDescription></reportResponse>`,
			Response{Code: 1100, Description: "Bad XML"}, ""},
		{`<html><body>Service Unavailable</body></html>`, Response{}, "no responseCode"},
		{``, Response{}, "not XML"},
		{`<r><responseCode>zero</responseCode></r>`, Response{}, "not a number"},
	}
	for _, tt := range tests {
		got, err := ParseResponse([]byte(tt.body))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseResponse(%s) = %v, want error %q", tt.body, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseResponse(%s) = %+v, %v; want %+v", tt.body, got, err, tt.want)
		}
	}
}

// FuzzParseResponse: the recipient's answers are outside input.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`<reportResponse><responseCode>0</responseCode><reportId>42</reportId></reportResponse>`))
	f.Add([]byte(`<reportDoneResponse><responseCode>0</responseCode><files><fileId>a</fileId></files></reportDoneResponse>`))
	f.Add([]byte(`<html/>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResponse(body)
		if err != nil && r != (Response{}) {
			t.Fatalf("an error with a response: %+v", r)
		}
	})
}

// Issue 12 (low): the reporting API is https, plain http to loopback only.
func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://report.cybertip.org/ispws": true, "http://127.0.0.1:8080/ispws": true, "http://localhost/x": true,
		"http://[::1]:9/x": true, "http://report.cybertip.org/ispws": false, "ftp://x/y": false, "report.cybertip.org": false,
		"http://10.0.0.1/x": false,
	} {
		if err := CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", u, err, ok)
		}
	}
}

// Issue 12 (low): what the recipient answers reaches the client and the
// log only as its status, or its description made printable.
func TestRecipientWordsSanitised(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		never  []string
	}{
		{500, "<html>internal-host db01.corp password=hunter2</html>", []string{"db01", "hunter2", "<html>"}},
		{200, "<reportResponse><responseCode>4000</responseCode><responseDescription>bad \x1b[31mred\x1b[0m\x07 thing</responseDescription></reportResponse>", []string{"\x1b", "\x07"}},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		cl := &Client{BaseURL: srv.URL, User: "u", Password: "p"}
		_, err := cl.Submit(context.Background(), []byte("<report/>"))
		srv.Close()
		if err == nil {
			t.Fatalf("HTTP %d: no error", c.status)
		}
		for _, s := range c.never {
			if strings.Contains(err.Error(), s) {
				t.Errorf("HTTP %d: error %q passes on %q", c.status, err, s)
			}
		}
	}
}
