package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// call sends a JSON body (a string, sent as is) with key, if any, and
// returns the status, the decoded answer and the Retry-After header.
func call(t *testing.T, method, url, key, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, v, resp.Header.Get("Retry-After")
}

func errCode(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestSelfReports(t *testing.T) {
	base, keys := testServer(t, 0)
	admin := keys[auth.Admin]
	img := func(c string, q int) string {
		b, _ := json.Marshal(map[string]any{"pdq": strings.Repeat(c, 64), "quality": q, "md5": strings.Repeat(c, 32), "sha256": strings.Repeat(c+"0", 32)})
		return string(b)
	}
	bankEntries := func() float64 {
		code, v, _ := call(t, "GET", base+"/v1/banks/self-reported", admin, "")
		if code == http.StatusNotFound {
			return -1
		}
		n, _ := v["entries"].(float64)
		return n
	}

	// Refusals store nothing, not even the bank.
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"malformed pdq", `{"images": [{"pdq": "zz", "quality": 90, "md5": "` + strings.Repeat("a", 32) + `", "sha256": "` + strings.Repeat("a", 64) + `"}]}`, 400, "bad_request"},
		{"unknown field", `{"images": [], "name": "me"}`, 400, "bad_request"},
		{"no images", `{"images": []}`, 400, "bad_request"},
		{"flat image", `{"images": [` + img("a", 90) + `, ` + img("b", 20) + `]}`, 422, "low_quality"},
	} {
		status, v, _ := call(t, "POST", base+"/v1/self-reports", "", tc.body)
		if status != tc.status || errCode(v) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, v, tc.status, tc.code)
		}
	}
	if n := bankEntries(); n != -1 {
		t.Errorf("refused submissions left a bank with %v entries", n)
	}

	status, v, _ := call(t, "POST", base+"/v1/self-reports", "", `{"images": [`+img("c", 90)+`]}`)
	code, _ := v["code"].(string)
	pin, _ := v["pin"].(string)
	if status != http.StatusCreated || len(code) != 9 || len(pin) != 6 || v["state"] != "active" {
		t.Fatalf("submission: %d %v", status, v)
	}
	lookup := `{"pdq": "` + strings.Repeat("c", 64) + `"}`
	// Restricted pending a person's review, not blocked: anyone can send
	// a hash (issue 12, finding 6).
	if _, v, _ := call(t, "POST", base+"/v1/lookup", admin, lookup); v["blocked"] != false || v["restricted"] != true {
		t.Errorf("lookup of the reported hash: %v, want restricted (not blocked) by the default rule", v)
	}

	for _, tc := range []struct {
		name, code, pin string
		status          int
		errCode         string
	}{
		{"right", strings.ToLower(code), pin, 200, ""},
		{"wrong PIN", code, "x" + pin, 404, "not_found"},
		{"unknown code", "2222-2222", pin, 404, "not_found"},
		{"malformed code", "0000-00", pin, 400, "bad_request"},
	} {
		status, v, _ := call(t, "POST", base+"/v1/self-reports/"+tc.code+"/status", "", `{"pin": "`+tc.pin+`"}`)
		if status != tc.status || errCode(v) != tc.errCode {
			t.Errorf("status, %s: %d %v, want %d %s", tc.name, status, v, tc.status, tc.errCode)
		}
		if _, ok := v["pin"]; ok {
			t.Errorf("status, %s: the PIN is answered again", tc.name)
		}
	}

	// A flood of the same image: refused at the limit, stored once.
	var limited bool
	for range 12 {
		status, v, retry := call(t, "POST", base+"/v1/self-reports", "", `{"images": [`+img("d", 90)+`]}`)
		if status == http.StatusTooManyRequests {
			if errCode(v) != "rate_limited" || retry == "" {
				t.Errorf("429 %v with Retry-After %q", v, retry)
			}
			limited = true
			break
		}
		if status != http.StatusCreated {
			t.Fatalf("flood: %d %v", status, v)
		}
	}
	if !limited {
		t.Errorf("12 submissions from one address: none refused")
	}
	if n := bankEntries(); n != 6 {
		t.Errorf("bank holds %v entries, want 6 (two images' three hashes, each once)", n)
	}

	status, v, _ = call(t, "POST", base+"/v1/self-reports/"+code+"/withdraw", "", `{"pin": "`+pin+`"}`)
	if status != http.StatusOK || v["state"] != "withdrawn" || v["withdrawn_at"] == nil {
		t.Fatalf("withdraw: %d %v", status, v)
	}
	if _, v, _ := call(t, "POST", base+"/v1/lookup", admin, lookup); v["blocked"] != false {
		t.Errorf("lookup after withdrawal: %v, want not blocked", v)
	}
	_, v, _ = call(t, "GET", base+"/v1/audit?limit=100", admin, "")
	if b, _ := json.Marshal(v); !bytes.Contains(b, []byte(`"selfreport.withdraw"`)) {
		t.Errorf("the withdrawal is not in the audit log: %s", b)
	}
}

// A video's hashes, as the page sends them, go into the self-reported bank
// as one vPDQ entry (plus the file's MD5 and SHA-256) and match a lookup of
// a video with those frames under the same restrict-and-queue rule.
func TestSelfReportVideos(t *testing.T) {
	base, keys := testServer(t, 0)
	admin := keys[auth.Admin]
	frames := func(c string, n, q int) string {
		fs := make([]string, n)
		for i := range fs {
			fs[i] = fmt.Sprintf("%s%02x,%d,%d.000", strings.Repeat(c, 62), i, q, i)
		}
		b, _ := json.Marshal(fs)
		return string(b)
	}
	vid := func(vpdq, c string) string {
		return `{"vpdq": ` + vpdq + `, "md5": "` + strings.Repeat(c, 32) + `", "sha256": "` + strings.Repeat(c+"0", 32) + `"}`
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"vpdq not a list", `{"videos": [` + vid(`12`, "a") + `]}`, 400, "bad_request"},
		{"malformed frame", `{"videos": [` + vid(`["zz,90,0"]`, "a") + `]}`, 400, "bad_request"},
		{"no vpdq", `{"videos": [{"md5": "` + strings.Repeat("a", 32) + `", "sha256": "` + strings.Repeat("a", 64) + `"}]}`, 400, "bad_request"},
		{"too long", `{"videos": [` + vid(frames("a", 1801, 90), "a") + `]}`, 400, "bad_request"},
		{"too many", `{"videos": [` + strings.Repeat(vid(frames("a", 2, 90), "a")+",", 5) + vid(frames("a", 2, 90), "a") + `]}`, 400, "bad_request"},
		{"flat video", `{"videos": [` + vid(frames("a", 5, 30), "a") + `]}`, 422, "low_quality"},
		{"unknown field", `{"videos": [{"vpdq": [], "md5": "", "sha256": "", "name": "me"}]}`, 400, "bad_request"},
	} {
		status, v, _ := call(t, "POST", base+"/v1/self-reports", "", tc.body)
		if status != tc.status || errCode(v) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, v, tc.status, tc.code)
		}
	}

	sig := frames("e", 21, 90)
	// As a signal string, the form python-threatexchange and HMA use.
	asString, _ := json.Marshal(sig)
	status, v, _ := call(t, "POST", base+"/v1/self-reports", "", `{"videos": [`+vid(string(asString), "e")+`]}`)
	code, _ := v["code"].(string)
	pin, _ := v["pin"].(string)
	if status != http.StatusCreated || v["videos"] != 1.0 || v["images"] != 0.0 {
		t.Fatalf("submission: %d %v", status, v)
	}
	_, b, _ := call(t, "GET", base+"/v1/banks/self-reported", admin, "")
	if b["entries"] != 3.0 {
		t.Errorf("bank %v: want 3 entries (vpdq, md5, sha256)", b)
	}
	// With a content id: a vPDQ alone gives the review queue nothing to
	// file the report against.
	lookup := `{"content_id": "clip-1", "vpdq": ` + sig + `}`
	_, v, _ = call(t, "POST", base+"/v1/lookup", admin, lookup)
	if v["blocked"] != false || v["restricted"] != true {
		t.Errorf("lookup of the reported video's frames: %v, want restricted (not blocked) by the default rule", v)
	}
	if ms, _ := v["matches"].([]any); len(ms) != 1 || ms[0].(map[string]any)["signal"] != "vpdq" {
		t.Errorf("lookup matches %v: want the one vpdq match", v["matches"])
	}
	// Without one, the lookup still answers its match and restricts; the
	// rule's enqueue is skipped, and the answer says so and why.
	status, v, _ = call(t, "POST", base+"/v1/lookup", admin, `{"vpdq": `+sig+`}`)
	if status != http.StatusOK || v["restricted"] != true {
		t.Errorf("lookup of the frames alone: %d %v, want 200 and restricted", status, v)
	}
	if ms, _ := v["matches"].([]any); len(ms) != 1 {
		t.Errorf("lookup of the frames alone matches %v: want the one vpdq match", v["matches"])
	}
	for _, a := range v["actions"].([]any) {
		if a.(map[string]any)["kind"] == "enqueue" {
			t.Errorf("lookup with no target answers an enqueue it could not carry out: %v", v["actions"])
		}
	}
	if sk, _ := v["skipped"].([]any); len(sk) != 1 || sk[0].(map[string]any)["kind"] != "enqueue" ||
		!strings.HasPrefix(sk[0].(map[string]any)["reason"].(string), "no target") {
		t.Errorf("skipped %v: want the rule's enqueue, skipped for want of a target", v["skipped"])
	}
	_, v, _ = call(t, "POST", base+"/v1/lookup", admin, `{"md5": "`+strings.Repeat("e", 32)+`"}`)
	if v["restricted"] != true {
		t.Errorf("lookup of the video file's MD5: %v, want restricted", v)
	}
	status, v, _ = call(t, "POST", base+"/v1/self-reports/"+code+"/withdraw", "", `{"pin": "`+pin+`"}`)
	if status != http.StatusOK || v["state"] != "withdrawn" || v["videos"] != 1.0 {
		t.Fatalf("withdraw: %d %v", status, v)
	}
	if _, v, _ := call(t, "POST", base+"/v1/lookup", admin, lookup); v["restricted"] != false {
		t.Errorf("lookup after withdrawal: %v, want not restricted", v)
	}
}
