// Package threatexchange pulls a privacy group of Meta's ThreatExchange
// through the Graph API's /{privacy_group}/threat_updates, which sends every
// indicator changed in a time range, cursor-paged; an update with
// should_delete set is a tombstone.
package threatexchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// BaseURL is the Graph API version this package speaks.
const BaseURL = "https://graph.facebook.com/v21.0"

// Fields are the fields a page asks for.
const Fields = "id,indicator,type,creation_time,last_updated,should_delete,tags,status"

// Fetcher is the exchange.Fetcher of one privacy group.
type Fetcher struct {
	Base         *url.URL
	PrivacyGroup string // its numeric id
	AccessToken  string // "app-id|secret"
	PageSize     int
	HTTP         *exchange.HTTP
	Now          func() time.Time // nil: time.Now
}

// Config builds a Fetcher from an exchange's configuration: settings
// "privacy_group" (required), "url" (default BaseURL) and "page_size"
// (default 500); credential "access_token".
func Config(cfg exchange.Config, h *exchange.HTTP) (*Fetcher, error) {
	if err := cfg.Only([]string{"privacy_group", "url", "page_size"}, []string{"access_token"}); err != nil {
		return nil, err
	}
	base, err := exchange.CheckURL(strings.TrimRight(cfg.Setting("url", BaseURL), "/"))
	if err != nil {
		return nil, fmt.Errorf("exchange %q: %w", cfg.Name, err)
	}
	pg := cfg.Setting("privacy_group", "")
	if _, err := strconv.ParseUint(pg, 10, 64); err != nil {
		return nil, fmt.Errorf("exchange %q: privacy_group %q: want its numeric id", cfg.Name, exchange.Clip(pg))
	}
	size, err := strconv.Atoi(cfg.Setting("page_size", "500"))
	if err != nil || size < 1 || size > 1000 {
		return nil, fmt.Errorf("exchange %q: page_size %q: want 1 to 1000", cfg.Name, cfg.Setting("page_size", ""))
	}
	tok, err := cfg.Credential("access_token")
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = &exchange.HTTP{}
	}
	return &Fetcher{Base: base, PrivacyGroup: pg, AccessToken: tok, PageSize: size, HTTP: h}, nil
}

// position is a Checkpoint's Position: the time range being read and the
// link to its next page (without the access token, which the checkpoint
// must not store).
type position struct {
	Start int64  `json:"start"`
	Stop  int64  `json:"stop,omitempty"`
	Next  string `json:"next,omitempty"`
	At    int64  `json:"at,omitempty"`
}

// CursorLife is how long a paging link is trusted; an older one restarts
// its range, re-reading what was applied, which changes nothing.
const CursorLife = time.Hour

type pageJSON struct {
	Data   []json.RawMessage `json:"data"`
	Paging struct {
		Next string `json:"next"`
	} `json:"paging"`
}

type update struct {
	ID           string   `json:"id"`
	Indicator    string   `json:"indicator"`
	Type         string   `json:"type"`
	ShouldDelete bool     `json:"should_delete"`
	Tags         []string `json:"tags"`
}

// Fetch implements exchange.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, from exchange.Checkpoint, emit func(exchange.Page) error) error {
	var pos position
	if err := exchange.ReadPosition(from, &pos); err != nil {
		return err
	}
	now := f.now()
	if pos.Next != "" && now.Sub(time.Unix(pos.At, 0)) > CursorLife {
		pos.Next, pos.At = "", 0
	}
	if pos.Stop == 0 {
		pos.Stop = now.Unix()
		if pos.Stop <= pos.Start {
			return nil
		}
	}
	for {
		u, err := f.pageURL(pos)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return err
		}
		body, err := f.HTTP.Do(ctx, req)
		if err != nil {
			return authError(err)
		}
		p, next, err := parsePage(body)
		if err != nil {
			return fmt.Errorf("GET %s/%s/threat_updates: %w", f.Base, f.PrivacyGroup, err)
		}
		if next == "" {
			pos = position{Start: pos.Stop}
		} else {
			if pos.Next, err = f.checkNext(next); err != nil {
				return err
			}
			pos.At = f.now().Unix()
		}
		p.Checkpoint = exchange.PositionOf(pos)
		if err := emit(p); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
	}
}

// pageURL is the first page of the range, or its next page, with the
// access token.
func (f *Fetcher) pageURL(pos position) (*url.URL, error) {
	var u *url.URL
	if pos.Next != "" {
		var err error
		if u, err = url.Parse(pos.Next); err != nil {
			return nil, err
		}
	} else {
		u = f.Base.JoinPath(f.PrivacyGroup, "threat_updates")
		u.RawQuery = url.Values{"start_time": {strconv.FormatInt(pos.Start, 10)}, "stop_time": {strconv.FormatInt(pos.Stop, 10)},
			"limit": {strconv.Itoa(f.PageSize)}, "fields": {Fields}}.Encode()
	}
	q := u.Query()
	q.Set("access_token", f.AccessToken)
	u.RawQuery = q.Encode()
	return u, nil
}

// checkNext checks that a paging link stays on this privacy group's
// threat_updates (it comes from upstream, and we send our token to it) and
// drops the access token from it.
func (f *Fetcher) checkNext(next string) (string, error) {
	u, err := url.Parse(next)
	want := f.Base.JoinPath(f.PrivacyGroup, "threat_updates")
	if err != nil || u.Scheme != f.Base.Scheme || u.Host != f.Base.Host || strings.TrimSuffix(u.Path, "/") != want.Path {
		return "", &exchange.PermanentError{Err: fmt.Errorf("paging link %q: not this privacy group's threat_updates", exchange.Clip(redact(next)))}
	}
	q := u.Query()
	q.Del("access_token")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// authError wraps exchange.ErrAuth around the Graph API's refusal of a
// token, which comes as a 400 with an OAuthException rather than a 401.
func authError(err error) error {
	var se *exchange.StatusError
	if errors.As(err, &se) && se.Code == http.StatusBadRequest && strings.Contains(se.Body, "OAuthException") {
		return fmt.Errorf("%w: %v", exchange.ErrAuth, err)
	}
	return err
}

func redact(s string) string {
	if i := strings.Index(s, "access_token="); i >= 0 {
		return s[:i] + "access_token=..."
	}
	return s
}

// parsePage reads a page of threat_updates: an unreadable page is an
// error, an unreadable update is skipped and noted.
func parsePage(body []byte) (exchange.Page, string, error) {
	var pj pageJSON
	if err := json.Unmarshal(body, &pj); err != nil {
		return exchange.Page{}, "", fmt.Errorf("not a threat_updates page: %v", err)
	}
	var p exchange.Page
	for i, raw := range pj.Data {
		var u update
		if err := json.Unmarshal(raw, &u); err != nil {
			p.Skip("update %d: %v", i+1, err)
			continue
		}
		if u.ID == "" || u.Type == "" || (u.Indicator == "" && !u.ShouldDelete) {
			p.Skip("update %d: no id, type or indicator", i+1)
			continue
		}
		rec := exchange.Record{ID: u.ID, Deleted: u.ShouldDelete}
		if !rec.Deleted {
			tags := slices.Clone(u.Tags)
			slices.Sort(tags)
			rec.Classification = strings.Join(tags, " ")
			rec.Note = "ThreatExchange " + u.Type
			rec.Fingerprints = []exchange.Fingerprint{{Kind: kindOf(u.Type), Value: u.Indicator}}
		}
		p.Records = append(p.Records, rec)
	}
	return p, pj.Paging.Next, nil
}

// kindOf maps a ThreatExchange indicator type to a fingerprint kind.
func kindOf(t string) exchange.Kind {
	switch t {
	case "HASH_PDQ":
		return exchange.PDQ
	case "HASH_MD5", "HASH_VIDEO_MD5":
		return exchange.MD5
	case "HASH_SHA256":
		return exchange.SHA256
	case "HASH_SHA1":
		return exchange.SHA1
	case "HASH_TMK":
		return exchange.TMK
	}
	return exchange.Kind("threatexchange:" + t)
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
