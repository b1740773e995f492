package ncmec_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is an NCMEC hash sharing server on loopback speaking the v2 API as
// NCMEC documents it: Basic auth, XML in its namespace, windows paged 1,000
// entries at a time through <paging><next>, entries of a window not in time
// order, tombstones for deleted entries.
type fake struct {
	user, pass string
	pageSize   int

	mu       sync.Mutex
	entries  map[string]*fakeEntry // by member-id
	order    []string              // the order entries were first put: not time order
	windows  map[[2]int64][]*fakeEntry
	calls    int
	fail     map[int]int    // call number -> status to answer instead
	garbage  map[int]string // start of a page -> body to answer instead
	feedback []string       // "PUT path body"
	srv      *httptest.Server
}

type fakeEntry struct {
	member         int
	id             string
	video, deleted bool
	ts             int64
	class          string
	md5, pdq, tmk  string
}

func (e *fakeEntry) key() string { return fmt.Sprintf("%d-%s", e.member, e.id) }

func newFake(t testing.TB) *fake {
	f := &fake{user: "esp", pass: "pw", pageSize: 1000, entries: map[string]*fakeEntry{},
		fail: map[int]int{}, garbage: map[int]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// put adds or replaces an entry, as a member's upload or update would.
func (f *fake) put(e fakeEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.entries[e.key()]; !ok {
		f.order = append(f.order, e.key())
	}
	f.entries[e.key()] = &e
	f.windows = nil
}

func (f *fake) remove(member int, id string, ts int64) {
	f.mu.Lock()
	e := *f.entries[fmt.Sprintf("%d-%s", member, id)]
	f.mu.Unlock()
	e.deleted, e.ts = true, ts
	f.put(e)
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if code := f.fail[f.calls]; code != 0 {
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "try later", code)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="hashsharing"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/v2/status":
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<status xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><ipAddress>127.0.0.1</ipAddress><username>esp</username><member id="7">Test ESP</member></status>`)
	case r.Method == "GET" && r.URL.Path == "/v2/entries":
		f.serveEntries(w, r.URL.Query())
	case r.Method == "GET" && r.URL.Path == "/v2/feedback/PDQ/reasons":
		io.WriteString(w, `<?xml version="1.0"?><feedbackReasons xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><availableFeedbackReasons>
<reason guid="01234567-abcd-0123-4567-012345678900" name="Not CSAM" type="PDQ"/></availableFeedbackReasons></feedbackReasons>`)
	case r.Method == "PUT" && strings.HasPrefix(r.URL.Path, "/v2/entries/") && strings.HasSuffix(r.URL.Path, "/feedback"):
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
			http.Error(w, "want xml", http.StatusUnsupportedMediaType)
			return
		}
		f.feedback = append(f.feedback, "PUT "+r.URL.Path+" "+string(body))
	default:
		http.NotFound(w, r)
	}
}

func parseTime(s string) (int64, error) {
	t, err := time.Parse("2006-01-02T15:04:05Z", s)
	return t.Unix(), err
}

func (f *fake) serveEntries(w http.ResponseWriter, q url.Values) {
	from, err1 := parseTime(q.Get("from"))
	to, err2 := parseTime(q.Get("to"))
	if err1 != nil || err2 != nil {
		http.Error(w, "bad from or to", http.StatusBadRequest)
		return
	}
	start, size := 1, f.pageSize
	if s := q.Get("start"); s != "" {
		start, _ = strconv.Atoi(s)
		size, _ = strconv.Atoi(q.Get("size"))
	}
	if body, ok := f.garbage[start]; ok {
		io.WriteString(w, body)
		return
	}
	win := f.window(from, to)
	lo, hi := min(start-1, len(win)), min(start-1+size, len(win))
	page := win[lo:hi]
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n")
	b.WriteString(`<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">`)
	for _, video := range []bool{false, true} {
		tag := "image"
		if video {
			tag = "video"
		}
		var items []*fakeEntry
		var maxTS int64
		for _, e := range page {
			if e.video == video {
				items = append(items, e)
				maxTS = max(maxTS, e.ts)
			}
		}
		if len(items) == 0 {
			fmt.Fprintf(&b, `<%ss count="0"/>`, tag)
			continue
		}
		fmt.Fprintf(&b, `<%ss count="%d" maxTimestamp="%s">`, tag, len(items), stamp(maxTS))
		for _, e := range items {
			t := tag
			if e.deleted {
				t = "deleted" + strings.ToUpper(tag[:1]) + tag[1:]
			}
			fmt.Fprintf(&b, `<%s><member id="%d">Member %d</member><timestamp>%s</timestamp><id>%s</id>`, t, e.member, e.member, stamp(e.ts), e.id)
			if !e.deleted {
				if e.class != "" {
					fmt.Fprintf(&b, `<classification>%s</classification>`, e.class)
				}
				b.WriteString(`<fingerprints>`)
				for _, fp := range [][2]string{{"md5", e.md5}, {"sha1", ""}, {"pdq", e.pdq}, {"tmk", e.tmk}} {
					if fp[1] != "" {
						fmt.Fprintf(&b, `<%s>%s</%s>`, fp[0], fp[1], fp[0])
					}
				}
				b.WriteString(`</fingerprints><feedback/>`)
			}
			fmt.Fprintf(&b, `</%s>`, t)
		}
		fmt.Fprintf(&b, `</%ss>`, tag)
	}
	if hi < len(win) {
		next := "/v2/entries?" + url.Values{"from": {q.Get("from")}, "to": {q.Get("to")},
			"start": {strconv.Itoa(hi + 1)}, "size": {strconv.Itoa(f.pageSize)}, "max": {strconv.Itoa(len(win))}}.Encode()
		b.WriteString(`<paging><next>`)
		xml.EscapeText(&b, []byte(next))
		b.WriteString(`</next></paging>`)
	}
	b.WriteString(`</queryResult>`)
	io.WriteString(w, b.String())
}

// window lists a window's entries in upload order, cached so a million
// entries are filtered once per window, not once per page.
func (f *fake) window(from, to int64) []*fakeEntry {
	k := [2]int64{from, to}
	if w, ok := f.windows[k]; ok {
		return w
	}
	var w []*fakeEntry
	for _, key := range f.order {
		if e := f.entries[key]; e.ts >= from && e.ts <= to {
			w = append(w, e)
		}
	}
	if f.windows == nil {
		f.windows = map[[2]int64][]*fakeEntry{}
	}
	f.windows[k] = slices.Clip(w)
	return w
}

func stamp(ts int64) string { return time.Unix(ts, 0).UTC().Format("2006-01-02T15:04:05Z") }
