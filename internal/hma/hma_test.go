package hma_test

// These tests replay HMA 2.0's own API and end-to-end tests
// (hasher-matcher-actioner/src/OpenMediaMatch/tests/ in facebook/ThreatExchange)
// as HTTP calls against the handler, over a real SQLite store and the real
// matcher. Each names the HMA test it mirrors; where Safeguard answers
// differently on purpose, the comment says so and docs/hma.md explains.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hma"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard"
	"github.com/safeguard-oss/safeguard/internal/hma/safeguard/safeguardtest"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// newBackend is the env's backend over another matcher.
func newBackend(e *env, m *match.Matcher) (*safeguard.Backend, error) {
	return safeguardtest.New(e.st, m)
}

// photo is the reference's bridge photograph, mirrored if asked.
func photo(t *testing.T, mirrored bool) []byte {
	b, err := os.ReadFile("../../testdata/threatexchange/pdq/data/bridge-mods/aaa-orig.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if !mirrored {
		return b
	}
	src, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := src.Bounds()
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.Set(r.Max.X-1-(x-r.Min.X), y, src.At(x, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeExchanges stands in for the exchanges, which are built on another
// branch: two APIs and one exchange, with a status.
type fakeExchanges struct{}

func (fakeExchanges) ExchangeAPIs(context.Context) ([]hma.ExchangeAPI, error) {
	return []hma.ExchangeAPI{
		{Name: "fb_threatexchange", SupportsAuth: true, HasAuth: true,
			ConfigSchema:      []hma.SchemaField{{Name: "privacy_group", Type: "number", Required: true, Help: "ThreatPrivacyGroup ID"}},
			CredentialsSchema: []hma.SchemaField{{Name: "api_token", Type: "string", Required: true, Help: "token"}}},
		{Name: "sample"},
	}, nil
}

var bar = hma.Exchange{Name: "BAR_EXCHANGE", API: "sample", Enabled: true}

func (fakeExchanges) ListExchanges(context.Context) ([]hma.Exchange, error) {
	return []hma.Exchange{bar}, nil
}

func (fakeExchanges) Exchange(_ context.Context, name string) (hma.Exchange, error) {
	if name != bar.Name {
		return hma.Exchange{}, hma.Errorf(hma.ErrNotFound, "Exchange '%s' not found", name)
	}
	return bar, nil
}

func (f fakeExchanges) ExchangeStatus(ctx context.Context, name string) (hma.FetchStatus, error) {
	if _, err := f.Exchange(ctx, name); err != nil {
		return hma.FetchStatus{}, err
	}
	cp, done, ok := int64(1700000000), int64(1700000100), true
	return hma.FetchStatus{CheckpointTS: &cp, LastFetchCompleteTS: &done, LastFetchSucceeded: &ok, UpToDate: true, FetchedItems: 42}, nil
}

// pdqExamples are python-threatexchange's PdqSignal.get_examples(), which
// HMA's end-to-end test banks.
var pdqExamples = []string{
	"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
	"f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22",
	"f8f8f0cee0f4a84f0637022a038f67f0b36e26d596621e1d33e6b39c4e9c9b22",
	"f8f8f0cee0f4a84f06370a2a068f67f0b36e26d596621e1d33e6339c4e9c9b22",
	"f8f8f0cee0f4a84f06370a22038f67f0b36e2ed596221e1d33e6b39c4e9c9b22",
	"f8f8f0cee0f4a84f0e370a22038f67f0b36e2ed596221e1d33e6b39c4a9c9b22",
	"d8f8f0cec0f4a84f8e370a22038f67f0b36a2ed597231e1d72e6b39c4a9c9b22",
	"f8f8f0cee0f4a84f06370a22038f67f0b36e2ed596621e1d33e6339c4e9c9b22",
	"d0f8f1ccc0f4a84d0a370a3a228f67f0b36e2ed5b6623e1d33e6339c4e9c9b22",
	"d8f8f1eec0f4a84f0e37022a078f63f0b36e2ed596621e1d33e6239c4e9c9b22",
	"d8f8f0cec4f4a84f0637022a078f67f0b36e2ee5b6621e1d33e6239c4e9c9b22",
	"d8f8f0cec0f4a84f0637022a278f67f0b36e2ed596621e1d33e6339c4e9c9b22",
	"e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064",
	"6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d",
	"c186f9619659658c4b6916daf934496985f4259c72c39676ab9edb631c3c349c",
	"62c9789627838f69f23cf98c29e37836d61c87c31c59587c4b49a783f496725c",
}

// md5Examples are VideoMD5Signal.get_examples().
var md5Examples = []string{"cab08b36195edb1a1231d2d09fa450e0", "d41d8cd98f00b204e9800998ecf8427e"}

// Mirrors test_api.py::test_status_response: 503 INDEX-NOT-LOADED until the
// index is loaded, 503 INDEX-STALE once it has not caught up for longer
// than configured, 200 I-AM-ALIVE otherwise.
func TestStatusResponse(t *testing.T) {
	var m *match.Matcher
	e := newEnv(t, func(c *hma.Config, e *env) {
		// A matcher that has never synced: the index is not loaded.
		m = match.New(e.st)
		b, err := newBackend(e, m)
		if err != nil {
			t.Fatal(err)
		}
		c.Backend, c.StaleAfter = b, time.Second
	})
	rep := e.send(req{method: "GET", path: "/status"})
	if rep.status != 503 || string(rep.body) != "INDEX-NOT-LOADED" {
		t.Fatalf("before the first sync: %d %q", rep.status, rep.body)
	}
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep = e.send(req{method: "GET", path: "/status"})
	if rep.status != 200 || string(rep.body) != "I-AM-ALIVE" {
		t.Fatalf("after sync: %d %q", rep.status, rep.body)
	}
	time.Sleep(1100 * time.Millisecond)
	rep = e.send(req{method: "GET", path: "/status"})
	if rep.status != 503 || string(rep.body) != "INDEX-STALE" {
		t.Fatalf("a second after the last sync, with StaleAfter 1s: %d %q", rep.status, rep.body)
	}
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rep = e.send(req{method: "GET", path: "/status"}); rep.status != 200 {
		t.Fatalf("after another sync: %d %q", rep.status, rep.body)
	}
}

// Mirrors test_api.py::test_status_live_always_alive: /status/live is 200
// whatever the index, and needs no key (health checks carry none).
func TestStatusLiveAlwaysAlive(t *testing.T) {
	e := newEnv(t, func(c *hma.Config, e *env) {
		b, err := newBackend(e, match.New(e.st))
		if err != nil {
			t.Fatal(err)
		}
		c.Backend = b
	})
	if rep := e.send(req{method: "GET", path: "/status"}); rep.status != 503 {
		t.Fatalf("/status with no index: %d", rep.status)
	}
	rep := e.send(req{method: "GET", path: "/status/live"})
	if rep.status != 200 || string(rep.body) != "I-AM-ALIVE" {
		t.Fatalf("/status/live: %d %q", rep.status, rep.body)
	}
}

// Mirrors test_api.py::test_lookup_success: GET by URL, POST of a photo
// and of a "video" (any bytes: MD5 does not care).
func TestLookupSuccess(t *testing.T) {
	e := newEnv(t)
	e.call("GET", "/m/lookup?url="+e.images+"/image1.jpg", nil).want(t, 200, `{"pdq": {}}`)
	e.upload(auth.Admin, "/m/lookup", "photo", e.files["image1.jpg"], nil).want(t, 200, `{"pdq": {}}`)
	e.upload(auth.Admin, "/m/lookup", "video", e.files["image1.jpg"], nil).want(t, 200, `{"video_md5": {}}`)

	// And once banked, each finds it.
	e.createBank("LOOKUP_BANK")
	e.addHashToBank("LOOKUP_BANK", e.images+"/image1.jpg", 1)
	e.call("GET", "/m/lookup?url="+e.images+"/image1.jpg", nil).
		want(t, 200, `{"pdq": {"LOOKUP_BANK": [{"bank_content_id": 1, "distance": "0"}]}}`)
	e.call("GET", "/m/lookup?url="+e.images+"/image1.jpg&signal_type=pdq", nil).
		want(t, 200, `{"LOOKUP_BANK": [{"bank_content_id": 1, "distance": "0"}]}`)
	e.upload(auth.Admin, "/m/lookup", "photo", e.files["image1.jpg"], nil).
		want(t, 200, `{"pdq": {"LOOKUP_BANK": [{"bank_content_id": 1, "distance": "0"}]}}`)
}

// Mirrors test_api.py::test_lookup_without_role. HMA refuses with 403 when
// the server has no hasher role; Safeguard refuses with 403 a key whose
// role may not look up.
func TestLookupWithoutRole(t *testing.T) {
	e := newEnv(t)
	e.as(auth.Auditor, "GET", "/m/lookup?url="+e.images+"/image1.jpg", nil).want(t, 403, "")
	e.upload(auth.Auditor, "/m/lookup", "file", e.files["image1.jpg"], nil).want(t, 403, "")
	e.upload(auth.Reviewer, "/h/hash", "photo", e.files["image1.jpg"], nil).want(t, 403, "")
}

// Mirrors test_api.py::test_compare_hashes.
func TestCompareHashes(t *testing.T) {
	e := newEnv(t)
	specimen1 := "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318"
	specimen2 := "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318"
	e.call("POST", "/m/compare", map[string]any{"pdq": []string{specimen1, specimen2}}).
		want(t, 200, `{"pdq": [true, {"distance": 9}]}`)
	e.call("POST", "/m/compare", map[string]any{"video_md5": []string{md5Examples[0], strings.ToUpper(md5Examples[0])}}).
		want(t, 200, `{"video_md5": [true, {}]}`)
	for _, bad := range []any{
		[]string{"banana"},
		map[string]any{"pdq": "banana"},
		map[string]any{"pdq": []string{}},
		map[string]any{"pdq": []string{"banana", "banana"}},
		map[string]any{"pdq": []string{specimen1, specimen2, specimen1}},
		map[string]any{"vpdq": []string{specimen1, specimen2}}, // PDQ hex is not a vPDQ signal
	} {
		e.call("POST", "/m/compare", bad).want(t, 400, "")
	}
}

// Mirrors test_api_banks.py::test_banks_empty_index.
func TestBanksEmptyIndex(t *testing.T) {
	newEnv(t).call("GET", "/c/banks", nil).want(t, 200, `[]`)
}

// Mirrors test_api_banks.py::test_banks_create, and the 403 for an existing
// bank of bank_create_impl.
func TestBanksCreate(t *testing.T) {
	e := newEnv(t)
	e.call("POST", "/c/banks", map[string]any{"name": "01_TEST_BANK"}).want(t, 400, "")
	e.call("POST", "/c/banks", map[string]any{"name": "my_test_bank"}).want(t, 400, "")
	e.call("POST", "/c/banks", map[string]any{"name": "MY_TEST_BANK_01"}).
		want(t, 201, `{"matching_enabled_ratio": 1, "name": "MY_TEST_BANK_01"}`)
	e.call("GET", "/c/banks", nil).want(t, 200, `[{"matching_enabled_ratio": 1, "name": "MY_TEST_BANK_01"}]`)
	rep := e.call("POST", "/c/banks", map[string]any{"name": "MY_TEST_BANK_01"})
	rep.want(t, 403, `{"message": "Bank already exists"}`)
	// pydantic's 422 for a missing field.
	e.call("POST", "/c/banks", map[string]any{}).want(t, 422, "")
	// The bank is Safeguard's own, under its lower-case name.
	b, err := e.st.Bank(context.Background(), "my_test_bank_01")
	if err != nil || b.Threshold != bank.DefaultThreshold {
		t.Fatalf("in the store: %+v, %v", b, err)
	}
}

// Mirrors test_api_banks.py::test_banks_update.
func TestBanksUpdate(t *testing.T) {
	e := newEnv(t)
	e.createBank("MY_TEST_BANK")
	e.call("PUT", "/c/bank/MY_TEST_BANK", map[string]any{"name": "1_invalid_name"}).want(t, 400, "")
	rep := e.call("PUT", "/c/bank/MY_TEST_BANK", map[string]any{"name": "MY_TEST_BANK_RENAMED"})
	rep.want(t, 200, `{"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 1}`)
	e.call("PUT", "/c/bank/MY_TEST_BANK_RENAMED", map[string]any{"enabled": false}).
		want(t, 200, `{"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 0}`)
	e.call("PUT", "/c/bank/MY_TEST_BANK_RENAMED", map[string]any{"enabled_ratio": 0.5}).
		want(t, 200, `{"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 0.5}`)
	e.call("GET", "/c/banks", nil).want(t, 200, `[{"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 0.5}]`)
	e.call("PUT", "/c/bank/NO_SUCH_BANK", map[string]any{"enabled": true}).want(t, 404, "")
	// Renaming onto an existing bank is 403, as HMA answers.
	e.createBank("OTHER_BANK")
	e.call("PUT", "/c/bank/OTHER_BANK", map[string]any{"name": "MY_TEST_BANK_RENAMED"}).want(t, 403, "")
}

// A rename keeps what the bank held: content ids, and matches.
func TestBankRenameKeepsContent(t *testing.T) {
	e := newEnv(t)
	e.createBank("OLD_NAME")
	id := e.call("POST", "/c/bank/OLD_NAME/signal", map[string]any{"pdq": pdqExamples[0], "video_md5": md5Examples[0], "note": "n"}).id(t)
	e.call("PUT", "/c/bank/OLD_NAME", map[string]any{"name": "NEW_NAME"}).want(t, 200, "")
	e.call("GET", "/c/bank/OLD_NAME", nil).want(t, 404, "")
	rep := e.call("GET", fmt.Sprintf("/c/bank/NEW_NAME/content/%d?include_signals=true", id), nil)
	rep.want(t, 200, "")
	if sig := rep.obj(t)["signals"]; fmt.Sprint(sig) != fmt.Sprintf("map[pdq:%s video_md5:%s]", pdqExamples[0], md5Examples[0]) {
		t.Fatalf("signals after rename: %v", sig)
	}
	e.call("GET", "/m/lookup?signal_type=video_md5&signal="+md5Examples[0], nil).
		want(t, 200, fmt.Sprintf(`{"NEW_NAME": [{"bank_content_id": %d, "distance": "0"}]}`, id))
}

// Mirrors test_api_banks.py::test_banks_delete: deleting is 200, also when
// there is nothing to delete.
func TestBanksDelete(t *testing.T) {
	e := newEnv(t)
	e.createBank("MY_TEST_BANK")
	e.call("DELETE", "/c/bank/MY_TEST_BANK", nil).want(t, 200, `{"message": "Done"}`)
	e.call("DELETE", "/c/bank/MY_TEST_BANK", nil).want(t, 200, "")
	e.call("GET", "/c/banks", nil).want(t, 200, `[]`)
}

// Mirrors test_api_banks.py::test_bank_get_content.
func TestBankGetContent(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK_GET")
	id := e.call("POST", "/c/bank/TEST_BANK_GET/content?url="+e.images+"/image1.jpg&content_type=photo", nil).id(t)
	rep := e.call("GET", fmt.Sprintf("/c/bank/TEST_BANK_GET/content/%d", id), nil)
	rep.want(t, 200, "")
	if rep.id(t) != id {
		t.Fatalf("got %s", rep.body)
	}
	if b := rep.obj(t)["bank"]; fmt.Sprint(b) != "map[matching_enabled_ratio:1 name:TEST_BANK_GET]" {
		t.Fatalf("bank: %v", b)
	}
}

// Mirrors test_api_banks.py::test_bank_get_content_404.
func TestBankGetContent404(t *testing.T) {
	e := newEnv(t)
	e.call("GET", "/c/bank/TEST_BANK_GET/content/1", nil).want(t, 404, "")
	e.createBank("TEST_BANK_GET")
	e.call("GET", "/c/bank/TEST_BANK_GET/content/1", nil).want(t, 404, "")
	e.call("GET", "/c/bank/TEST_BANK_GET/content/banana", nil).want(t, 404, "")
}

// Mirrors test_api_banks.py::test_banks_add_content.
func TestBanksAddContent(t *testing.T) {
	e := newEnv(t)
	e.createBank("NEW_BANK")
	e.addHashToBank("NEW_BANK", e.images+"/image1.jpg", 1)
	// And by upload, which Coop uses.
	rep := e.upload(auth.Admin, "/c/bank/NEW_BANK/content", "photo", e.files["image2.jpg"], nil)
	rep.want(t, 200, fmt.Sprintf(`{"id": 2, "signals": {"pdq": %q}}`, e.pdq[e.images+"/image2.jpg"]))
	e.call("POST", "/c/bank/NEW_BANK/content", nil).
		want(t, 400, "{\"message\": \"Neither `url` nor multipart file upload was received\"}")
	e.call("POST", "/c/bank/NO_BANK/content?url="+e.images+"/image1.jpg", nil).want(t, 404, "")
}

// Mirrors test_api_banks.py::test_bank_update_content and
// test_bank_update_content_400. Safeguard never matches disabled content,
// and its store has no "disabled until" yet, so disabling removes the
// content from the bank.
func TestBankUpdateContent(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK_UPDATE")
	id := e.call("POST", "/c/bank/TEST_BANK_UPDATE/content?url="+e.images+"/image1.jpg&content_type=photo", nil).id(t)
	path := fmt.Sprintf("/c/bank/TEST_BANK_UPDATE/content/%d", id)
	e.call("PUT", path, map[string]any{"disable_until_ts": 9999999999}).want(t, 400, "")
	e.call("PUT", path, map[string]any{"disable_until_ts": -1}).want(t, 400, "")
	e.call("PUT", path, map[string]any{"disable_until_ts": "banana"}).want(t, 400, "")

	lookup := "/m/lookup?signal_type=pdq&signal=" + e.pdq[e.images+"/image1.jpg"]
	e.call("GET", lookup, nil).want(t, 200, fmt.Sprintf(`{"TEST_BANK_UPDATE": [{"bank_content_id": %d, "distance": "0"}]}`, id))
	ts := time.Now().Add(365 * 24 * time.Hour).Unix()
	rep := e.call("PUT", path, map[string]any{"disable_until_ts": ts})
	rep.want(t, 200, "")
	if got := rep.obj(t)["disable_until_ts"]; got != float64(ts) {
		t.Fatalf("disable_until_ts %v, want %d", got, ts)
	}
	e.call("GET", lookup, nil).want(t, 200, `{}`)
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+e.pdq[e.images+"/image1.jpg"], nil).want(t, 200, `{"matches": []}`)
}

// Mirrors test_api_banks.py::test_banks_delete_content.
func TestBanksDeleteContent(t *testing.T) {
	e := newEnv(t)
	e.createBank("NEW_BANK")
	e.addHashToBank("NEW_BANK", e.images+"/image1.jpg", 1)
	e.call("DELETE", "/c/bank/NEW_BANK/content/1", nil).want(t, 200, `{"deleted": 1}`)
	e.call("DELETE", "/c/bank/NEW_BANK/content/1", nil).want(t, 200, `{"deleted": 0}`)
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+e.pdq[e.images+"/image1.jpg"], nil).want(t, 200, `{"matches": []}`)
}

// Mirrors test_api_banks.py::test_banks_add_metadata and
// test_bank_get_content_returns_stored_metadata. Of the metadata,
// Safeguard keeps content_id (as the entries' external id); content_uri and
// json are checked and not kept (docs/hma.md).
func TestBanksAddMetadata(t *testing.T) {
	e := newEnv(t)
	e.createBank("NEW_BANK")
	path := "/c/bank/NEW_BANK/content?url=" + e.images + "/image1.jpg&content_type=photo"
	e.call("POST", path, map[string]any{"metadata": map[string]any{"invalid_metadata": 5}}).want(t, 400, "")
	e.call("POST", path, map[string]any{"metadata": "not an object"}).want(t, 400, "")
	rep := e.call("POST", path, map[string]any{"metadata": map[string]any{"content_id": "1197433091", "json": map[string]any{"asdf": map[string]any{}}}})
	rep.want(t, 200, "")
	got := e.call("GET", fmt.Sprintf("/c/bank/NEW_BANK/content/%d", rep.id(t)), nil)
	if md, _ := got.obj(t)["metadata"].(map[string]any); md["content_id"] != "1197433091" {
		t.Fatalf("metadata: %s", got.body)
	}
	// test_bank_get_content_include_metadata_false
	got = e.call("GET", fmt.Sprintf("/c/bank/NEW_BANK/content/%d?include_metadata=false", rep.id(t)), nil)
	if _, ok := got.obj(t)["metadata"]; ok {
		t.Fatalf("include_metadata=false: %s", got.body)
	}
}

// Mirrors test_api_banks.py::test_bank_get_content_without_metadata_omitted.
func TestBankGetContentWithoutMetadataOmitted(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK_NO_META")
	id := e.call("POST", "/c/bank/TEST_BANK_NO_META/content?url="+e.images+"/image1.jpg&content_type=photo", nil).id(t)
	got := e.call("GET", fmt.Sprintf("/c/bank/TEST_BANK_NO_META/content/%d", id), nil)
	for _, k := range []string{"metadata", "note", "signals"} {
		if _, ok := got.obj(t)[k]; ok {
			t.Errorf("%s present: %s", k, got.body)
		}
	}
}

// Mirrors test_api_banks.py::test_banks_add_hash_index.
func TestBanksAddHashIndex(t *testing.T) {
	e := newEnv(t)
	img1, img2 := e.images+"/image1.jpg", e.images+"/image2.jpg"
	e.createBank("NEW_BANK")
	e.addHashToBank("NEW_BANK", img1, 1)
	e.createBank("NEW_BANK_2")
	e.addHashToBank("NEW_BANK", img2, 2)
	// No index build to trigger: Safeguard indexes every write before it
	// answers.
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+e.pdq[img1], nil).want(t, 200, `{"matches": [1]}`)
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+e.pdq[img2], nil).want(t, 200, `{"matches": [2]}`)
}

// Mirrors test_api_banks.py::test_bank_get_content_with_signals, and holds
// Safeguard's rule that hashes are shown only to a key that may export
// banks: the integrator (and auditor) get the content without its signals.
func TestBankGetContentWithSignals(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK_GET_SIGS")
	img := e.images + "/image1.jpg"
	id := e.call("POST", "/c/bank/TEST_BANK_GET_SIGS/content?url="+img+"&content_type=photo", nil).id(t)
	path := fmt.Sprintf("/c/bank/TEST_BANK_GET_SIGS/content/%d", id)
	if _, ok := e.call("GET", path, nil).obj(t)["signals"]; ok {
		t.Fatal("signals without include_signals")
	}
	got := e.call("GET", path+"?include_signals=true", nil)
	if sig, _ := got.obj(t)["signals"].(map[string]any); sig["pdq"] != e.pdq[img] {
		t.Fatalf("admin, include_signals=true: %s", got.body)
	}
	for _, r := range []auth.Role{auth.Integrator, auth.Auditor} {
		got := e.as(r, "GET", path+"?include_signals=true", nil)
		got.want(t, 200, "")
		if _, ok := got.obj(t)["signals"]; ok || got.id(t) != id {
			t.Fatalf("%s, include_signals=true: %s", r, got.body)
		}
	}
	e.as(auth.Flagger, "GET", path, nil).want(t, 403, "")
}

// Mirrors test_api_banks.py::test_bank_add_content_with_note,
// test_bank_add_content_without_note_omitted, test_bank_update_content_note
// and test_bank_add_note_too_long.
func TestBankContentNote(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK_NOTE")
	path := "/c/bank/TEST_BANK_NOTE/content?url=" + e.images + "/image1.jpg&content_type=photo"
	e.call("POST", path, map[string]any{"note": strings.Repeat("x", 256)}).want(t, 400, "")
	e.call("POST", path, map[string]any{"note": 5}).want(t, 400, "")
	id := e.call("POST", path, map[string]any{"note": "Reported by user X"}).id(t)
	content := fmt.Sprintf("/c/bank/TEST_BANK_NOTE/content/%d", id)
	note := func() any { return e.call("GET", content, nil).obj(t)["note"] }
	if n := note(); n != "Reported by user X" {
		t.Fatalf("note %v", n)
	}
	for _, n := range []string{"Initial note", "Updated note"} {
		e.call("PUT", content, map[string]any{"note": n}).want(t, 200, "")
		if got := note(); got != n {
			t.Fatalf("note %v, want %q", got, n)
		}
	}
	e.call("PUT", content, map[string]any{"note": ""}).want(t, 200, "")
	if got := note(); got != nil {
		t.Fatalf("cleared note: %v", got)
	}
	// The content still matches, under the same id.
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+e.pdq[e.images+"/image1.jpg"], nil).
		want(t, 200, fmt.Sprintf(`{"matches": [%d]}`, id))
}

// Mirrors test_api_banks.py::test_bank_add_hash_with_note.
func TestBankAddHashWithNote(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK_HASH_NOTE")
	rep := e.call("POST", "/c/bank/TEST_BANK_HASH_NOTE/signal", map[string]any{"pdq": strings.Repeat("0", 64), "note": "Hash from campaign ABC"})
	rep.want(t, 200, fmt.Sprintf(`{"id": 1, "signals": {"pdq": %q}}`, strings.Repeat("0", 64)))
	got := e.call("GET", "/c/bank/TEST_BANK_HASH_NOTE/content/1", nil)
	if got.obj(t)["note"] != "Hash from campaign ABC" {
		t.Fatalf("%s", got.body)
	}
	// _bank_add_signals' refusals.
	e.call("POST", "/c/bank/TEST_BANK_HASH_NOTE/signal", map[string]any{}).want(t, 400, `{"message": "No signals given"}`)
	e.call("POST", "/c/bank/TEST_BANK_HASH_NOTE/signal", map[string]any{"tmk": "x"}).want(t, 400, `{"message": "No such signal type tmk"}`)
	e.call("POST", "/c/bank/TEST_BANK_HASH_NOTE/signal", map[string]any{"vpdq": "x"}).want(t, 400, "")
	e.call("POST", "/c/bank/TEST_BANK_HASH_NOTE/signal", map[string]any{"pdq": "banana"}).want(t, 400, "")
	e.call("POST", "/c/bank/NO_BANK/signal", map[string]any{"pdq": pdqExamples[0]}).want(t, 404, "")
}

// Mirrors test_e2e_workflow.py::test_add_hashes_and_find_match.
func TestAddHashesAndFindMatch(t *testing.T) {
	e := newEnv(t)
	e.createBank("TEST_BANK")
	for _, h := range pdqExamples {
		e.call("POST", "/c/bank/TEST_BANK/signal", map[string]any{"pdq": h}).want(t, 200, "")
	}
	rep := e.call("GET", "/m/index/status?signal_type=pdq", nil)
	rep.want(t, 200, "")
	info, _ := rep.obj(t)["pdq"].(map[string]any)
	if info["present"] != true || info["size"] != float64(len(pdqExamples)) {
		t.Fatalf("index status: %s", rep.body)
	}
	e.call("GET", "/m/lookup?signal_type=pdq&signal="+pdqExamples[len(pdqExamples)-1], nil).
		want(t, 200, `{"TEST_BANK": [{"bank_content_id": 16, "distance": "0"}]}`)
	e.call("GET", "/m/lookup?signal_type=pdq&signal="+strings.Repeat("5", 64), nil).want(t, 200, `{}`)
	e.call("GET", "/m/index/status?signal_type=tmk", nil).want(t, 400, "")
}

// sampleBank is test_match_api.py's client_with_sample_data: a bank SAMPLE
// holding every example signal. HMA fills it from its sample exchange;
// here it is filled as an exchange would, through the store with its own
// provenance, which the HMA API serves as content of its own.
func sampleBank(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.st.CreateBank(ctx, bank.Bank{Name: "sample", Threshold: bank.DefaultThreshold}); err != nil {
		t.Fatal(err)
	}
	var es []bank.Entry
	for i, h := range pdqExamples {
		es = append(es, bank.Entry{Signal: bank.PDQ, Value: h, Source: "sample", ExternalID: strconv.Itoa(i)})
	}
	for i, h := range md5Examples {
		es = append(es, bank.Entry{Signal: bank.MD5, Value: h, Source: "sample", ExternalID: strconv.Itoa(100 + i)})
	}
	if _, err := e.st.AddEntries(ctx, "sample", func(yield func(bank.Entry, error) bool) {
		for _, x := range es {
			if !yield(x, nil) {
				return
			}
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.matcher.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.send(req{method: "GET", path: "/status"}).want(t, 200, "")
}

// Mirrors test_match_api.py::test_raw_lookups and test_lookups.
func TestRawLookupsAndLookups(t *testing.T) {
	e := newEnv(t)
	sampleBank(t, e)
	// HMA with python-threatexchange's vPDQ extension lists vpdq too.
	e.call("GET", "/c/signal_type", nil).want(t, 200, `[{"name": "pdq", "enabled_ratio": 1}, {"name": "video_md5", "enabled_ratio": 1}, {"name": "vpdq", "enabled_ratio": 1}]`)
	for st, sig := range map[string]string{"pdq": pdqExamples[0], "video_md5": md5Examples[0]} {
		q := "signal_type=" + st + "&signal=" + sig
		raw := e.call("GET", "/m/raw_lookup?"+q, nil)
		raw.want(t, 200, "")
		ids, _ := raw.obj(t)["matches"].([]any)
		if len(ids) < 1 {
			t.Fatalf("%s: no matches: %s", st, raw.body)
		}
		dist := e.call("GET", "/m/raw_lookup?"+q+"&include_distance=true", nil)
		ms, _ := dist.obj(t)["matches"].([]any)
		if len(ms) != len(ids) {
			t.Fatalf("%s: %d matches with distance, %d without", st, len(ms), len(ids))
		}
		for _, m := range ms {
			mm, _ := m.(map[string]any)
			if _, ok := mm["bank_content_id"].(float64); !ok {
				t.Fatalf("%s: %s", st, dist.body)
			}
			if _, ok := mm["distance"].(string); !ok {
				t.Fatalf("%s: distance not a string: %s", st, dist.body)
			}
		}
		lk := e.call("GET", "/m/lookup?"+q, nil)
		lk.want(t, 200, "")
		if banks := lk.obj(t); len(banks) != 1 || banks["SAMPLE"] == nil {
			t.Fatalf("%s: %s", st, lk.body)
		}
	}
	// Missing parameters are pydantic's 422; an unknown type HMA's 400.
	e.call("GET", "/m/raw_lookup?signal_type=pdq", nil).want(t, 422, "")
	e.call("GET", "/m/raw_lookup?signal="+pdqExamples[0], nil).want(t, 422, "")
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+pdqExamples[0]+"&include_distance=banana", nil).want(t, 422, "")
	e.call("GET", "/m/raw_lookup?signal_type=tmk&signal=x", nil).want(t, 400, `{"message": "No such SignalType 'tmk'"}`)
	e.call("GET", "/m/raw_lookup?signal_type=vpdq&signal=x", nil).want(t, 400, "")
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal=banana", nil).want(t, 400, "")
	e.call("GET", "/m/lookup?signal_type=pdq", nil).want(t, 400, `{"message": "Either url or both signal and signal_type are required"}`)
}

// multiBank is test_match_api.py's client_with_multi_bank_data.
func multiBank(t *testing.T, e *env) {
	for _, b := range []string{"BANK_A", "BANK_B", "BANK_C"} {
		e.createBank(b)
		e.call("POST", "/c/bank/"+b+"/signal", map[string]any{"pdq": pdqExamples[0]}).want(t, 200, "")
	}
}

// Mirrors test_match_api.py::test_raw_lookup_with_bank_filter and
// test_raw_lookup_with_distance_and_bank_filter.
func TestRawLookupWithBankFilter(t *testing.T) {
	e := newEnv(t)
	multiBank(t, e)
	q := "/m/raw_lookup?signal_type=pdq&signal=" + pdqExamples[0]
	for banks, n := range map[string]int{"": 3, "BANK_A": 1, "BANK_A,BANK_B": 2, "NON_EXISTENT_BANK": 0} {
		rep := e.call("GET", q+"&banks="+banks, nil)
		if ms, _ := rep.obj(t)["matches"].([]any); rep.status != 200 || len(ms) != n {
			t.Errorf("banks=%q: %s, want %d matches", banks, rep.body, n)
		}
	}
	rep := e.call("GET", q+"&include_distance=true&banks=BANK_A,BANK_B", nil)
	rep.want(t, 200, `{"matches": [{"bank_content_id": 1, "distance": "0"}, {"bank_content_id": 2, "distance": "0"}]}`)
}

// Mirrors test_match_api.py::test_lookup_with_bank_filter.
func TestLookupWithBankFilter(t *testing.T) {
	e := newEnv(t)
	multiBank(t, e)
	q := "/m/lookup?signal_type=pdq&signal=" + pdqExamples[0]
	for banks, want := range map[string]string{
		"":                  "BANK_A BANK_B BANK_C",
		"BANK_A":            "BANK_A",
		"BANK_A,BANK_C":     "BANK_A BANK_C",
		"NON_EXISTENT_BANK": "",
	} {
		rep := e.call("GET", q+"&banks="+banks, nil)
		rep.want(t, 200, "")
		var got []string
		for _, b := range []string{"BANK_A", "BANK_B", "BANK_C"} {
			if ms, _ := rep.obj(t)[b].([]any); len(ms) > 0 {
				got = append(got, b)
			}
		}
		if strings.Join(got, " ") != want || len(rep.obj(t)) != len(got) {
			t.Errorf("banks=%q: %s, want %q", banks, rep.body, want)
		}
	}
}

// The enabled ratio decides which banks a lookup sees (HMA's "coinflip"):
// a disabled bank (ratio 0) is seen only with bypass_coinflip; Coop sends
// the ratio as a string.
func TestEnabledRatio(t *testing.T) {
	e := newEnv(t)
	e.call("POST", "/c/banks", map[string]any{"name": "HALF", "enabled_ratio": "0.5"}).want(t, 201, `{"name": "HALF", "matching_enabled_ratio": 0.5}`)
	e.call("POST", "/c/banks", map[string]any{"name": "OFF", "enabled": false}).want(t, 201, `{"name": "OFF", "matching_enabled_ratio": 0}`)
	e.call("POST", "/c/banks", map[string]any{"name": "BAD", "enabled_ratio": "lots"}).want(t, 422, "")
	e.call("POST", "/c/banks", map[string]any{"name": "BAD", "enabled_ratio": 2}).want(t, 400, "")
	for _, b := range []string{"HALF", "OFF"} {
		e.call("POST", "/c/bank/"+b+"/signal", map[string]any{"pdq": pdqExamples[0]}).want(t, 200, "")
	}
	q := "/m/lookup?signal_type=pdq&signal=" + pdqExamples[0]
	e.call("GET", q+"&bypass_coinflip=true", nil).
		want(t, 200, `{"HALF": [{"bank_content_id": 1, "distance": "0"}], "OFF": [{"bank_content_id": 2, "distance": "0"}]}`)
	seen := map[bool]int{}
	for i := range 64 {
		rep := e.call("GET", q+"&seed=content-"+strconv.Itoa(i), nil)
		if _, off := rep.obj(t)["OFF"]; off {
			t.Fatalf("a disabled bank matched: %s", rep.body)
		}
		_, half := rep.obj(t)["HALF"]
		seen[half]++
		// The same seed sees the same banks.
		if again := e.call("GET", q+"&seed=content-"+strconv.Itoa(i), nil); string(again.body) != string(rep.body) {
			t.Fatalf("seed %d: %s then %s", i, rep.body, again.body)
		}
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Fatalf("a bank at ratio 0.5 matched in %d of 64 lookups", seen[true])
	}
	// And the ratio survives a restart: it is in the store.
	b, err := e.st.Bank(context.Background(), "half")
	if err != nil || !strings.Contains(b.Description, "0.5") {
		t.Fatalf("stored: %+v %v", b, err)
	}
}

// Mirrors test_hashing.py: URL checks (Safeguard fetches only from hosts on
// its allow-list, and nothing at all without one), and the size bound
// (test_content_length_validation).
func TestHashByURL(t *testing.T) {
	e := newEnv(t, func(c *hma.Config, _ *env) { c.MaxContent = 1000 })
	e.files["big.jpg"] = make([]byte, 1001)
	img := e.images + "/image2.jpg"
	for _, bad := range []string{
		"ftp://127.0.0.1/x", "file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "ws://127.0.0.1/",
		"127.0.0.1/image1.jpg", "//127.0.0.1/x", "http://", "", "not a url", "http:///example.com",
		"http://example.com/x", "http://127.0.0.1.evil.com/x", "http://evil.com/127.0.0.1", "http://user:pw@127.0.0.1/x",
	} {
		rep := e.call("GET", "/h/hash?url="+url.QueryEscape(bad), nil)
		if rep.status != 400 {
			t.Errorf("url %q: %d %s", bad, rep.status, rep.body)
		}
	}
	e.call("GET", "/h/hash", nil).want(t, 422, "")
	e.call("GET", "/h/hash?url="+e.images+"/big.jpg", nil).want(t, 413, `{"message": "Content too large"}`)
	e.call("GET", "/h/hash?url="+e.images+"/stream", nil).want(t, 413, `{"message": "Content too large"}`)
	e.call("GET", "/h/hash?url="+e.images+"/nothing.jpg", nil).want(t, 400, "")
	// Every redirect hop must be allowed too.
	e.call("GET", "/h/hash?url="+e.images+"/redirect-in", nil).want(t, 200, fmt.Sprintf(`{"pdq": %q}`, e.pdq[e.images+"/image1.jpg"]))
	rep := e.call("GET", "/h/hash?url="+e.images+"/redirect-out", nil)
	if rep.status != 400 || !strings.Contains(string(rep.body), "localhost") {
		t.Fatalf("redirect to a host not allowed: %d %s", rep.status, rep.body)
	}
	// Uploads are bounded the same way.
	e.upload(auth.Admin, "/h/hash", "photo", make([]byte, 2000), nil).want(t, 413, "")
	e.files["image2.jpg"] = checkerboard(t, 16)[:0]
	e.call("GET", "/h/hash?url="+img, nil).want(t, 400, "")
}

func TestHashByURLOff(t *testing.T) {
	e := newEnv(t, func(c *hma.Config, _ *env) { c.FetchAllow = nil })
	rep := e.call("GET", "/h/hash?url="+e.images+"/image1.jpg", nil)
	rep.want(t, 400, "")
	if !strings.Contains(string(rep.body), "allow-list") {
		t.Fatalf("%s", rep.body)
	}
}

// POST /h/hash: one file, in a field named for its content type.
func TestHashUpload(t *testing.T) {
	e := newEnv(t)
	img := e.images + "/image1.jpg"
	e.upload(auth.Integrator, "/h/hash", "photo", e.files["image1.jpg"], nil).want(t, 200, fmt.Sprintf(`{"pdq": %q}`, e.pdq[img]))
	e.call("GET", "/h/hash?url="+img, nil).want(t, 200, fmt.Sprintf(`{"pdq": %q}`, e.pdq[img]))
	e.upload(auth.Integrator, "/h/hash", "video", []byte("abc"), nil).want(t, 200, `{"video_md5": "900150983cd24fb0d6963f7d28e17f72"}`)
	e.upload(auth.Integrator, "/h/hash", "file", []byte("abc"), nil).want(t, 400, `{"message": "no such content_type: 'file'"}`)
	e.upload(auth.Integrator, "/h/hash", "", nil, map[string]string{"a": "b"}).want(t, 400, `{"message": "Missing multipart/form-data file upload"}`)
	e.upload(auth.Integrator, "/h/hash?types=video_md5", "photo", e.files["image1.jpg"], nil).want(t, 400, "")
	e.upload(auth.Integrator, "/h/hash", "photo", []byte("not an image"), nil).want(t, 400, "")
}

// The lookup of an upload matches rotated and mirrored copies, which HMA
// does not: the distance is that of the nearest variant.
func TestLookupUploadDihedral(t *testing.T) {
	e := newEnv(t)
	e.createBank("ROT")
	e.files["photo.jpg"] = photo(t, false)
	e.upload(auth.Admin, "/c/bank/ROT/content", "photo", e.files["photo.jpg"], nil).want(t, 200, "")
	mirrored := photo(t, true)
	byHash := e.upload(auth.Admin, "/h/hash", "photo", mirrored, nil)
	pdqMirrored, _ := byHash.obj(t)["pdq"].(string)
	// By its hash alone, as HMA matches, the mirror image is not found.
	e.call("GET", "/m/raw_lookup?signal_type=pdq&signal="+pdqMirrored, nil).want(t, 200, `{"matches": []}`)
	rep := e.upload(auth.Admin, "/m/lookup", "photo", mirrored, nil)
	rep.want(t, 200, "")
	pd, _ := rep.obj(t)["pdq"].(map[string]any)
	if ms, _ := pd["ROT"].([]any); len(ms) != 1 {
		t.Fatalf("mirrored upload: %s", rep.body)
	}
}

// Mirrors test_api.py::test_exchange_api_set_auth and
// test_exchange_api_schema, test_exchange_delete and
// test_exchange_get_fetch_status, over a stand-in for the exchanges (built
// on branch exchange). Creating, deleting and setting credentials answer
// 403: Safeguard configures exchanges in its configuration.
func TestExchanges(t *testing.T) {
	e := newEnv(t)
	e.backend.Exchanges = fakeExchanges{}
	rep := e.call("GET", "/c/exchanges/apis", nil)
	rep.want(t, 200, `["fb_threatexchange", "sample"]`)
	e.call("GET", "/c/exchanges/api/sample", nil).want(t, 200, `{"supports_authentification": false, "has_set_authentification": false}`)
	e.call("GET", "/c/exchanges/api/fb_threatexchange", nil).want(t, 200, `{"supports_authentification": true, "has_set_authentification": true}`)
	e.call("GET", "/c/exchanges/api/nope", nil).want(t, 400, "")
	e.call("POST", "/c/exchanges/api/fb_threatexchange", map[string]any{"credential_json": map[string]any{"api_token": "x"}}).want(t, 403, "")

	e.call("GET", "/c/exchanges/api/sample/schema", nil).want(t, 200, `{"config_schema": {"fields": []}, "credentials_schema": null}`)
	rep = e.call("GET", "/c/exchanges/api/fb_threatexchange/schema", nil)
	rep.want(t, 200, `{"config_schema": {"fields": [{"name": "privacy_group", "type": "number", "required": true, "default": null, "help": "ThreatPrivacyGroup ID", "choices": null}]},
		"credentials_schema": {"fields": [{"name": "api_token", "type": "string", "required": true, "default": null, "help": "token", "choices": null}]}}`)
	e.call("GET", "/c/exchanges/api/nope/schema", nil).want(t, 404, "")

	e.call("GET", "/c/exchanges", nil).want(t, 200, `["BAR_EXCHANGE"]`)
	e.call("GET", "/c/exchange/BAR_EXCHANGE", nil).
		want(t, 200, `{"name": "BAR_EXCHANGE", "api": "sample", "enabled": true, "credential_status": {"has_credentials": false, "source": "exchange"}}`)
	e.call("GET", "/c/exchange/NONEXISTENT_EXCHANGE/status", nil).want(t, 404, "")
	rep = e.call("GET", "/c/exchange/BAR_EXCHANGE/status", nil)
	rep.want(t, 200, `{"checkpoint_ts": 1700000000, "running_fetch_start_ts": null, "last_fetch_complete_ts": 1700000100,
		"last_fetch_succeeded": true, "up_to_date": true, "fetched_items": 42}`)
	e.call("POST", "/c/exchanges", map[string]any{"api": "sample", "bank": "FOO_EXCHANGE", "api_json": map[string]any{}}).want(t, 403, "")
	e.call("DELETE", "/c/exchange/BAR_EXCHANGE", nil).want(t, 403, "")
	// Only readers of banks see exchanges.
	e.as(auth.Integrator, "GET", "/c/exchanges", nil).want(t, 403, "")

	// With no exchanges configured, the lists are empty.
	e.backend.Exchanges = nil
	e.call("GET", "/c/exchanges", nil).want(t, 200, `[]`)
	e.call("GET", "/c/exchanges/apis", nil).want(t, 200, `[]`)
	e.call("GET", "/c/exchange/BAR_EXCHANGE", nil).want(t, 404, "")
}

func TestContentTypesAndSignalIndex(t *testing.T) {
	e := newEnv(t)
	e.as(auth.Integrator, "GET", "/c/content_type", nil).want(t, 200, `[{"name": "photo", "enabled": true}, {"name": "video", "enabled": true}]`)
	e.createBank("B")
	e.call("POST", "/c/bank/B/signal", map[string]any{"pdq": pdqExamples[0]}).want(t, 200, "")
	rep := e.call("GET", "/c/signal_type/index?signal_type=pdq", nil)
	rep.want(t, 200, "")
	pd, _ := rep.obj(t)["pdq"].(map[string]any)
	if pd["db_size"] != float64(1) || pd["index_size"] != float64(1) || pd["index_out_of_date"] != false {
		t.Fatalf("%s", rep.body)
	}
	e.call("GET", "/c/signal_type/index?signal_type=nope", nil).want(t, 400, "")
}

// Every route but the health checks needs a key, and refuses a bad one.
func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	e.send(req{method: "GET", path: "/c/banks"}).want(t, 401, "")
	e.send(req{method: "GET", path: "/c/banks", key: "sg_not_a_key"}).want(t, 401, "")
	e.send(req{method: "GET", path: "/c/banks", key: e.keys[auth.Admin] + "x"}).want(t, 401, "")
	e.as(auth.Integrator, "POST", "/c/banks", map[string]any{"name": "X"}).want(t, 403, "")
	e.as(auth.Auditor, "GET", "/c/banks", nil).want(t, 200, `[]`)
	e.call("GET", "/no/such/route", nil).want(t, 404, "")
}

// Anonymous mode lets a key-less client in, from loopback only.
func TestAnonymous(t *testing.T) {
	e := newEnv(t, func(c *hma.Config, _ *env) { c.Anonymous = auth.Admin })
	e.send(req{method: "POST", path: "/c/banks", ctype: "application/json", body: strings.NewReader(`{"name": "ANON"}`)}).want(t, 201, "")
	found := false
	for a, err := range e.st.AuditEntries(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || a.Actor == "hma-anonymous" && a.Action == audit.BankCreate && a.Subject == "anon"
	}
	if !found {
		t.Fatal("no audit entry by hma-anonymous for creating bank anon")
	}

	// From an address that is not loopback or private, no key is no entry.
	h, err := hma.New(hma.Config{Backend: e.backend, Anonymous: auth.Admin,
		Authenticate: func(context.Context, string) (auth.Key, error) { return auth.Key{}, auth.ErrUnknown }})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]int{"203.0.113.7:4000": 401, "[2001:db8::1]:4000": 401, "10.1.2.3:4000": 200, "[::1]:4000": 200} {
		r := httptest.NewRequest("GET", "/c/banks", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("anonymous from %s: %d, want %d: %s", addr, w.Code, want, w.Body)
		}
	}
}

// vPDQ as HMA with python-threatexchange's vPDQ extension serves it: a
// video's signal string banked through /c/bank/<name>/signal, shown back
// as that string, looked up by signal with HMA's "Q%[C%]" distance (the
// share of the query's frames that match, then of the banked video's),
// compared, and counted in the index status.
func TestVPDQ(t *testing.T) {
	e := newEnv(t)
	e.createBank("VIDEOS")
	frames := make([]vpdq.Frame, 4)
	for i := range frames {
		var h pdq.Hash
		for j := range h {
			h[j] = byte(i*37 + j*11 + 1)
		}
		frames[i] = vpdq.Frame{Number: i, Quality: 100, Hash: h, Timestamp: float64(i)}
	}
	whole := vpdq.FormatSignal(frames)
	e.call("POST", "/c/bank/VIDEOS/signal", map[string]any{"vpdq": whole}).want(t, 200, "")
	got := e.call("GET", "/c/bank/VIDEOS/content/1?include_signals=true", nil)
	if sigs, _ := got.obj(t)["signals"].(map[string]any); sigs["vpdq"] != whole {
		t.Fatalf("content: %s, want the signal string %s", got.body, whole)
	}
	lookup := func(sig string) string {
		return strings.TrimSpace(string(e.call("GET", "/m/lookup?signal_type=vpdq&signal="+url.QueryEscape(sig), nil).body))
	}
	if got := lookup(whole); !strings.Contains(got, `"distance":"100%[100%]"`) {
		t.Errorf("the whole video: %s", got)
	}
	// Half the video: all of the query matches, half of the banked video.
	if got := lookup(vpdq.FormatSignal(frames[:2])); !strings.Contains(got, `"distance":"100%[50%]"`) {
		t.Errorf("half the video: %s", got)
	}
	// Another video: nothing.
	other := slices.Clone(frames)
	for i := range other {
		for j := range other[i].Hash {
			other[i].Hash[j] ^= 0x5a
		}
	}
	if got := lookup(vpdq.FormatSignal(other)); got != "{}" {
		t.Errorf("another video matched: %s", got)
	}
	e.call("POST", "/m/compare", map[string]any{"vpdq": []string{whole, whole}}).want(t, 200, `{"vpdq": [true, {}]}`)
	e.call("POST", "/m/compare", map[string]any{"vpdq": []string{whole, vpdq.FormatSignal(other)}}).want(t, 200, `{"vpdq": [false, {}]}`)
	st := e.call("GET", "/m/index/status?signal_type=vpdq", nil)
	if info, _ := st.obj(t)["vpdq"].(map[string]any); info["size"] != float64(1) {
		t.Errorf("index status: %s", st.body)
	}
}

// TestUploadsWaitForTheBodyBudget: an upload is admitted by its size to the
// body budget before its bytes are read, as the API's are, so that many
// large uploads at once wait their turn (16 of 30 MB at once once took the
// server from 68 MB to 990 MB).
func TestUploadsWaitForTheBodyBudget(t *testing.T) {
	budget := media.NewBudget(1 << 20)
	e := newEnv(t, func(c *hma.Config, _ *env) { c.BodyBudget = budget })
	release, err := budget.Acquire(context.Background(), "test", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan reply, 1)
	go func() { done <- e.upload(auth.Admin, "/h/hash", "photo", e.files["image1.jpg"], nil) }()
	select {
	case rep := <-done:
		t.Fatalf("upload answered %d while the budget was spent: %s", rep.status, rep.body)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case rep := <-done:
		rep.want(t, 200, "")
	case <-time.After(10 * time.Second):
		t.Fatal("upload not answered once the budget was free")
	}
	// Each upload gives back what it took: the whole budget is free again.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r2, err := budget.Acquire(ctx, "test", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r2()
}

// A key past half the body budget is refused 429 at once, as on the API.
func TestUploadPastTheKeysShare(t *testing.T) {
	budget := media.NewBudget(1 << 20)
	e := newEnv(t, func(c *hma.Config, _ *env) { c.BodyBudget = budget })
	id := strings.Split(e.keys[auth.Admin], "_")[1]                                  // sg_<id>_<secret>
	held, err := budget.AcquireShare(context.Background(), "key "+id, "test", 1<<19) // half the budget
	if err != nil {
		t.Fatal(err)
	}
	defer held()
	rep := e.upload(auth.Admin, "/h/hash", "photo", e.files["image1.jpg"], nil)
	if rep.status != 429 || !strings.Contains(string(rep.body), "key "+id) {
		t.Fatalf("upload past the key's share: %d %s, want 429 naming the key", rep.status, rep.body)
	}
}
