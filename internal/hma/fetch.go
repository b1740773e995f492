package hma

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// fetcher downloads content a request names by URL, from allowed hosts
// only, redirects included, within a size bound.
type fetcher struct {
	allow  []string
	client *http.Client
	max    int64
}

func newFetcher(allow []string, client *http.Client, max int64) (*fetcher, error) {
	f := &fetcher{max: max}
	for _, a := range allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || strings.ContainsAny(a, "/:@ ") && !strings.HasPrefix(a, "[") {
			return nil, fmt.Errorf("hma: fetch allow-list entry %q: want a host name or address, e.g. images.example.com", a)
		}
		f.allow = append(f.allow, strings.Trim(a, "[]"))
	}
	base := client
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	c := *base
	// Every hop must be allowed, or an allowed host's redirect would reach
	// any address the server can.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		return f.check(req.URL)
	}
	f.client = &c
	return f, nil
}

func (f *fetcher) allowed(host string) bool {
	host = strings.ToLower(host)
	for _, a := range f.allow {
		if host == a || strings.HasSuffix(host, "."+a) {
			return true
		}
	}
	return false
}

func (f *fetcher) check(u *url.URL) error {
	if len(f.allow) == 0 {
		return errors.New("fetching by URL is off: the server has no allow-list of hosts")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: want http or https", clip(u.Scheme))
	}
	if u.User != nil {
		return errors.New("URLs with credentials are refused")
	}
	if !f.allowed(u.Hostname()) {
		return fmt.Errorf("host %q is not on the server's allow-list", clip(u.Hostname()))
	}
	return nil
}

// get fetches raw and returns its bytes and Content-Type.
func (f *fetcher) get(ctx context.Context, raw string) ([]byte, string, error) {
	u, err := url.Parse(raw)
	if err == nil {
		err = f.check(u)
	}
	if err != nil {
		return nil, "", fail(http.StatusBadRequest, "Invalid or unsafe URL provided: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fail(http.StatusBadRequest, "Invalid or unsafe URL provided: %v", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, "", fail(http.StatusBadRequest, "Failed to fetch URL: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", fail(http.StatusBadRequest, "Failed to fetch URL: %s answered %s", clip(u.Host), resp.Status)
	}
	if resp.ContentLength > f.max {
		return nil, "", fail(http.StatusRequestEntityTooLarge, "Content too large")
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.max+1))
	if err != nil {
		return nil, "", fail(http.StatusBadRequest, "Failed to fetch URL: reading the body: %v", err)
	}
	if int64(len(data)) > f.max {
		return nil, "", fail(http.StatusRequestEntityTooLarge, "Content too large")
	}
	return data, resp.Header.Get("Content-Type"), nil
}
