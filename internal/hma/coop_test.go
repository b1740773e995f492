package hma_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/hma"
)

// TestCoop drives the listener the way ROOST Coop's HMA client does
// (roostorg/coop, server/services/hmaService/index.ts): no Authorization
// header (so anonymous mode, from loopback), bank names COOP_<ORG>_<NAME>,
// enabled_ratio sent as a string on create and as a number on update,
// existence checks by GET and 404, uploads in a field named for the content
// type with the file as a "blob", content_id and content_uri as query
// parameters or form fields, and matches read as matches[bank] non-empty.
func TestCoop(t *testing.T) {
	e := newEnv(t, func(c *hma.Config, _ *env) { c.Anonymous = auth.Admin })
	coop := func(method, path, ctype string, body []byte) reply {
		t.Helper()
		r := req{method: method, path: path, ctype: ctype}
		if body != nil {
			r.body = bytes.NewReader(body)
		}
		return e.send(r)
	}
	const name = "COOP_ORG1_KNOWN_IMAGES"

	// createBank: pickHmaName checks the name is free, then POST /c/banks.
	coop("GET", "/c/bank/"+url.PathEscape(name), "", nil).want(t, 404, "")
	coop("POST", "/c/banks", "application/json", []byte(`{"name":"`+name+`","enabled_ratio":"1"}`)).
		want(t, 201, `{"name": "`+name+`", "matching_enabled_ratio": 1}`)
	// A second create of the same name: Coop reads 403 as "exists".
	coop("POST", "/c/banks", "application/json", []byte(`{"name":"`+name+`","enabled_ratio":"1"}`)).want(t, 403, "")
	// listBanks and getBank verify each bank with a GET (with a JSON
	// content type on a bodiless GET).
	coop("GET", "/c/bank/"+name, "application/json", nil).want(t, 200, "")
	// getExchangeForBank and hasExchange: a plain bank has no exchange.
	coop("GET", "/c/exchange/"+name, "", nil).want(t, 404, "")

	// addContentToBank by URL, with content_id and content_uri as query
	// parameters.
	img := e.images + "/image1.jpg"
	q := url.Values{"url": {img}, "content_id": {"coop-item-1"}, "content_uri": {"https://coop.example/item/1"}}
	rep := coop("POST", "/c/bank/"+name+"/content?"+q.Encode(), "", nil)
	rep.want(t, 200, fmt.Sprintf(`{"id": 1, "signals": {"pdq": %q}}`, e.pdq[img]))

	// addContentToBank by upload: FormData.append(contentType, blob), then
	// the metadata fields.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("photo", "blob")
	fw.Write(e.files["image2.jpg"])
	mw.WriteField("content_id", "coop-item-2")
	mw.WriteField("content_uri", "https://coop.example/item/2")
	mw.Close()
	rep = coop("POST", "/c/bank/"+name+"/content", mw.FormDataContentType(), buf.Bytes())
	rep.want(t, 200, fmt.Sprintf(`{"id": 2, "signals": {"pdq": %q}}`, e.pdq[e.images+"/image2.jpg"]))
	// Coop's content_id is kept as the entries' external id.
	for es, err := range e.st.Entries(context.Background(), "coop_org1_known_images") {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("coop-item-%d", es.ID); es.ExternalID != want || es.Signal != bank.PDQ {
			t.Errorf("entry %d: external id %q, want %q", es.ID, es.ExternalID, want)
		}
	}

	// checkImageMatchWithDetails: GET /m/lookup by signal.
	rep = coop("GET", "/m/lookup?"+url.Values{"signal_type": {"pdq"}, "signal": {e.pdq[img]}}.Encode(), "", nil)
	rep.want(t, 200, `{"`+name+`": [{"bank_content_id": 1, "distance": "0"}]}`)
	// lookupContent by URL with a content type.
	rep = coop("GET", "/m/lookup?"+url.Values{"url": {img}, "content_type": {"photo"}}.Encode(), "", nil)
	rep.want(t, 200, `{"pdq": {"`+name+`": [{"bank_content_id": 1, "distance": "0"}]}}`)
	// hashContentFromUrl.
	coop("GET", "/h/hash?url="+url.QueryEscape(img), "", nil).want(t, 200, fmt.Sprintf(`{"pdq": %q}`, e.pdq[img]))

	// updateBank: rename and ratio in one PUT, the ratio a number.
	const renamed = "COOP_ORG1_RENAMED"
	coop("PUT", "/c/bank/"+name, "application/json", []byte(`{"name":"`+renamed+`","enabled_ratio":0.25}`)).
		want(t, 200, `{"name": "`+renamed+`", "matching_enabled_ratio": 0.25}`)
	// Renaming onto a taken name is 403, which Coop maps to "name exists".
	coop("POST", "/c/banks", "application/json", []byte(`{"name":"COOP_ORG1_OTHER","enabled_ratio":"1"}`)).want(t, 201, "")
	coop("PUT", "/c/bank/COOP_ORG1_OTHER", "application/json", []byte(`{"name":"`+renamed+`"}`)).want(t, 403, "")
	// The content moved with the bank.
	rep = coop("GET", "/m/lookup?"+url.Values{"signal_type": {"pdq"}, "signal": {e.pdq[img]}, "bypass_coinflip": {"true"}}.Encode(), "", nil)
	rep.want(t, 200, `{"`+renamed+`": [{"bank_content_id": 1, "distance": "0"}]}`)

	// getExchangeApis and getExchangeApiSchema: none configured here, so
	// Coop falls back to its built-in schemas.
	coop("GET", "/c/exchanges/apis", "", nil).want(t, 200, `[]`)
	coop("GET", "/c/exchanges/api/ncmec/schema", "", nil).want(t, 404, "")
	// createBank with an exchange: refused as configured elsewhere (a 4xx,
	// so Coop deletes nothing).
	rep = coop("POST", "/c/exchanges", "application/json", []byte(`{"bank":"COOP_ORG1_NCMEC","api":"ncmec","api_json":{}}`))
	if rep.status != 403 || !strings.Contains(string(rep.body), "configuration") {
		t.Fatalf("exchange create: %d %s", rep.status, rep.body)
	}

	// deleteBank: no exchange, so DELETE /c/bank; a second delete is still
	// 200, and a GET then says 404, which forgetMissingBank acts on.
	coop("DELETE", "/c/bank/"+renamed, "", nil).want(t, 200, "")
	coop("DELETE", "/c/bank/"+renamed, "", nil).want(t, 200, "")
	coop("GET", "/c/bank/"+renamed, "", nil).want(t, 404, "")
	coop("GET", "/m/lookup?"+url.Values{"signal_type": {"pdq"}, "signal": {e.pdq[img]}}.Encode(), "", nil).want(t, 200, `{}`)
}
