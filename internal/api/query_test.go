package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// tableAPI is an API over nothing but keys, one of each role: enough for
// the checks that run before a handler (the query's), which is all these
// tests reach.
func tableAPI(t *testing.T) (*API, map[auth.Role]string) {
	t.Helper()
	store := new(authtest.Memory)
	keys := map[auth.Role]string{}
	for _, r := range auth.Roles() {
		k, _, err := auth.Create(context.Background(), store, r, "test "+string(r), "test")
		if err != nil {
			t.Fatal(err)
		}
		keys[r] = k
	}
	return New(Config{Keys: store}), keys
}

// send makes a request to rt (its path values all "1") with the raw query,
// with a key whose role may call it, and returns the status and the
// error's message.
func sendQuery(t *testing.T, a *API, keys map[auth.Role]string, rt route, rawQuery string) (int, string) {
	t.Helper()
	path := regexp.MustCompile(`\{[a-z_.]+\}`).ReplaceAllString(rt.path, "1")
	req := httptest.NewRequest(rt.method, path+"?"+rawQuery, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if rt.perm != public {
		for _, r := range auth.Roles() {
			if rt.perm == "" || r.Can(rt.perm) {
				req.Header.Set("Authorization", "Bearer "+keys[r])
				break
			}
		}
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(rec.Body.Bytes(), &e)
	return rec.Code, e.Error.Message
}

// Every route refuses a query parameter it does not declare, before its
// handler runs, naming it and every one the route takes: a misspelt
// ?limt=5 or a ?state= on a route without states would otherwise change
// what the client sees without a word.
func TestUnknownQueryParameterEveryRoute(t *testing.T) {
	a, keys := tableAPI(t)
	for _, rt := range a.routes {
		status, msg := sendQuery(t, a, keys, rt, "limt=5")
		key := rt.method + " " + rt.path
		if status != 400 || !strings.Contains(msg, `unknown query parameter "limt"`) {
			t.Errorf("%s?limt=5: %d %q, want a 400 naming limt", key, status, msg)
			continue
		}
		if len(rt.query) == 0 && !strings.Contains(msg, key+" takes none") {
			t.Errorf("%s: %q does not say the route takes none", key, msg)
		}
		for _, p := range rt.query {
			if !strings.Contains(msg, p.Name) {
				t.Errorf("%s: %q does not list %s, which it takes", key, msg, p.Name)
			}
		}
	}
}

// good and bad values of each kind of parameter, for the table's checks.
func paramValues(p request.Param) (good []string, bad []string) {
	switch p.Kind {
	case request.Enum:
		return p.Values, []string{"zzz", strings.ToUpper(p.Values[0]), " " + p.Values[0]}
	case request.Number:
		good = []string{strconv.FormatInt(p.Min, 10), strconv.FormatInt(p.Max, 10)}
		bad = []string{strconv.FormatInt(p.Min-1, 10), "x", "1.5", "9223372036854775808"}
		if p.Max != math.MaxInt64 {
			bad = append(bad, strconv.FormatInt(p.Max+1, 10))
		}
		return good, bad
	case request.Time:
		return []string{"2026-11-01T00:00:00Z", "2026-11-01T00:00:00+02:00"}, []string{"-1", "2026-11-01", "yesterday"}
	}
	return []string{"", "x"}, nil
}

// Every enumerated, numeric and time parameter of the table refuses a
// value it does not take with a 400 naming the parameter and the value
// (an unknown state, a negative or out-of-range number), through the
// route; a value it takes passes the check and is parsed as its kind.
func TestQueryParameterValues(t *testing.T) {
	a, keys := tableAPI(t)
	checked := 0
	for _, rt := range a.routes {
		key := rt.method + " " + rt.path
		for _, p := range rt.query {
			good, bad := paramValues(p)
			for _, v := range bad {
				status, msg := sendQuery(t, a, keys, rt, p.Name+"="+url.QueryEscape(v))
				if want := "query parameter " + p.Name + " " + strconv.Quote(v); status != 400 || !strings.Contains(msg, want) {
					t.Errorf("%s?%s=%q: %d %q, want a 400 saying %s", key, p.Name, v, status, msg, want)
				}
				checked++
			}
			for _, v := range good {
				q, err := parsed(rt, p.Name+"="+url.QueryEscape(v))
				if err != nil {
					t.Errorf("%s?%s=%q: %v", key, p.Name, v, err)
					continue
				}
				switch p.Kind {
				case request.Number:
					if n, _ := strconv.ParseInt(v, 10, 64); q.Number(p.Name) != n {
						t.Errorf("%s?%s=%s read %d", key, p.Name, v, q.Number(p.Name))
					}
				case request.Time:
					if q.Time(p.Name).IsZero() {
						t.Errorf("%s?%s=%s read no time", key, p.Name, v)
					}
				default:
					if q.Text(p.Name) != v {
						t.Errorf("%s?%s=%s read %q", key, p.Name, v, q.Text(p.Name))
					}
				}
			}
			// Absent or empty, every parameter reads as its default.
			for _, raw := range []string{"", p.Name + "="} {
				q, err := parsed(rt, raw)
				if err != nil {
					t.Fatalf("%s?%s: %v", key, raw, err)
				}
				if p.Kind == request.Number && q.Number(p.Name) != p.Default || p.Kind == request.Time && !q.Time(p.Name).IsZero() ||
					(p.Kind == request.Text || p.Kind == request.Enum) && q.Text(p.Name) != "" {
					t.Errorf("%s?%s read %v, want the default", key, raw, q[p.Name])
				}
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d bad values checked: the table declares fewer checked parameters than it did", checked)
	}
}

// parsed is what the route's check makes of the raw query.
func parsed(rt route, rawQuery string) (request.Values, error) {
	r, err := withParams(httptest.NewRequest(rt.method, "/?"+rawQuery, nil), rt)
	if err != nil {
		return nil, err
	}
	return request.Parsed(r), nil
}

// The OpenAPI document's query parameters are the table's, with the same
// enumerations and bounds.
func TestOpenAPIQueryParameters(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name, In string
				Schema   struct {
					Enum                      []string
					Minimum, Maximum, Default *int64
					Type, Format              string
				}
			}
		}
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	a := New(Config{})
	for _, rt := range a.routes {
		key := rt.method + " " + rt.path
		documented := map[string]bool{}
		for _, dp := range doc.Paths[rt.path][strings.ToLower(rt.method)].Parameters {
			if dp.In != "query" {
				continue
			}
			documented[dp.Name] = true
			var p *request.Param
			for i := range rt.query {
				if rt.query[i].Name == dp.Name {
					p = &rt.query[i]
				}
			}
			if p == nil {
				t.Errorf("%s: openapi.json documents ?%s, which the route does not take", key, dp.Name)
				continue
			}
			s := dp.Schema
			switch p.Kind {
			case request.Enum:
				if strings.Join(s.Enum, ",") != strings.Join(p.Values, ",") {
					t.Errorf("%s ?%s: documented %v, the table takes %v", key, p.Name, s.Enum, p.Values)
				}
			case request.Number:
				if s.Type != "integer" || s.Minimum == nil || *s.Minimum != p.Min ||
					(p.Max == math.MaxInt64) != (s.Maximum == nil) || s.Maximum != nil && *s.Maximum != p.Max ||
					s.Default != nil && *s.Default != p.Default {
					t.Errorf("%s ?%s: documented %s %s..%s (default %s), the table takes %d..%d (default %d)", key, p.Name,
						s.Type, show(s.Minimum), show(s.Maximum), show(s.Default), p.Min, p.Max, p.Default)
				}
			case request.Time:
				if s.Format != "date-time" {
					t.Errorf("%s ?%s: documented format %q, the table takes an RFC 3339 time", key, p.Name, s.Format)
				}
			}
		}
		for _, p := range rt.query {
			if !documented[p.Name] {
				t.Errorf("%s: takes ?%s, which openapi.json does not document", key, p.Name)
			}
		}
	}
}

func show(n *int64) string {
	if n == nil {
		return "none"
	}
	return strconv.FormatInt(*n, 10)
}
