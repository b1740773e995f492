package server_test

// Issue 12, finding 2: every string field of every route, driven from the
// OpenAPI document the server serves (which TestOpenAPI keeps equal to the
// route table, so a new route is covered the day it is added), gets NUL,
// invalid UTF-8, control characters and over-long values, on every
// backend. Never a 5xx; always a 400 that names the field.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// hostileValue is one bad string: raw, as it goes into a path or query
// (percent-encoded there), and as it goes into JSON (escaped, or raw
// bytes where JSON cannot escape it).
type hostileValue struct {
	name     string
	raw      string
	json     string // the JSON text of the value, quotes included
	refusedQ bool   // a path or query parameter with it must be refused
	refusedJ bool   // a JSON string with it must be refused
}

func hostileValues() []hostileValue {
	long := strings.Repeat("x", 70000)
	medium := strings.Repeat("y", 3000)
	return []hostileValue{
		{"nul", "a\x00b", `"a\u0000b"`, true, true},
		{"invalid-utf8-ff", "\xff", "\"\xff\"", true, true},
		{"invalid-utf8-c328", "\xc3\x28", "\"\xc3\x28\"", true, true},
		{"bell", "bell\x07", `"bell\u0007"`, true, true},
		{"escape", "esc\x1b[31m", `"esc\u001b[31m"`, true, true},
		{"c1", "c1\u0085x", `"c1\u0085x"`, true, true},
		{"over-long", long, `"` + long + `"`, true, true},
		// Longer than any id but legitimate for free text: never a 5xx,
		// whatever the field.
		{"medium", medium, `"` + medium + `"`, true, false},
	}
}

// conformanceCounts is what one backend's run sent and got.
type conformanceCounts struct{ sent, fiveXX, wrong int }

func TestHostileConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, st := b.open(t)
			base, admin := start(t, cfg, st)
			keys := map[auth.Role]string{}
			for _, role := range auth.Roles() {
				keys[role], _, _ = auth.Create(context.Background(), st, role, "conformance-"+string(role), "test")
			}
			// The key of a role that may call op (perm "" or public: any).
			keyFor := func(perm string) string {
				// The narrowest first: bulk reports are a flagger's alone.
				for _, role := range []auth.Role{auth.Flagger, auth.Integrator, auth.Reviewer, auth.LELiaison, auth.Auditor, auth.Admin} {
					if perm == "" || perm == "any" || perm == "public" || role.Can(auth.Permission(perm)) {
						return keys[role]
					}
				}
				t.Fatalf("no role may %s", perm)
				return ""
			}
			var n conformanceCounts
			hostileConformance(t, base, admin, keyFor, &n)
			t.Logf("%s: %d hostile inputs sent, %d answered 5xx, %d answered otherwise than 400 naming the field", b.name, n.sent, n.fiveXX, n.wrong)
		})
	}
}

type spec struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	Permission string `json:"x-permission"`
	Parameters []struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema struct {
			Type string `json:"type"`
		} `json:"schema"`
	} `json:"parameters"`
	RequestBody struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

func hostileConformance(t *testing.T, base, admin string, keyFor func(perm string) string, n *conformanceCounts) {
	req, _ := http.NewRequest("GET", base+"/v1/openapi.json", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sp spec
	err = json.NewDecoder(resp.Body).Decode(&sp)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var key string
	send := func(method, path, ctype string, body []byte, field string, mustRefuse bool) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		n.sent++
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, clipped(path), err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 500:
			n.fiveXX++
			t.Errorf("%s %s (%s): %d %s", method, clipped(path), field, resp.StatusCode, clipped(string(got)))
		case mustRefuse && resp.StatusCode == 413 && len(body) > 65536:
			// Over a route's whole body limit: refused before it is read.
		case mustRefuse && (resp.StatusCode != 400 || !strings.Contains(string(got), field)):
			n.wrong++
			t.Errorf("%s %s: %d %s, want 400 naming %s", method, clipped(path), resp.StatusCode, clipped(string(got)), field)
		}
	}
	if len(sp.Paths) < 40 {
		t.Fatalf("the OpenAPI document lists %d paths: not the server's", len(sp.Paths))
	}
	paths := make([]string, 0, len(sp.Paths))
	for p := range sp.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for method, raw := range sp.Paths[p] {
			method = strings.ToUpper(method)
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, p, err)
			}
			key = keyFor(op.Permission)
			// Parameters: each path and query parameter in turn, the
			// others given ordinary values.
			for _, prm := range op.Parameters {
				for _, v := range hostileValues() {
					path := fillPath(p, prm.Name, v.raw)
					if prm.In == "query" {
						path = fillPath(p, "", "") + "?" + url.Values{prm.Name: {v.raw}}.Encode()
					} else if prm.In != "path" {
						continue
					}
					send(method, path, "application/octet-stream", nil, prm.Name, v.refusedQ)
				}
			}
			// JSON bodies: each string field in turn, then the shapes no
			// client means.
			schema, ok := op.RequestBody.Content["application/json"]
			if !ok {
				continue
			}
			path := fillPath(p, "", "")
			for _, f := range stringFields(t, sp, schema.Schema, nil, 0) {
				for _, v := range hostileValues() {
					send(method, path, "application/json", jsonWith(f, v.json), fieldName(f), v.refusedJ)
				}
			}
			send(method, path, "application/json", []byte("null"), "null", true)
			send(method, path, "application/json", []byte(`{"a":1,"a":2}`), "twice", true)
		}
	}
}

// fillPath gives the path parameter named hostile the value v and every
// other one an ordinary value.
func fillPath(pattern, hostile, v string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		j := strings.IndexByte(pattern[i:], '}')
		name := pattern[i+1 : i+j]
		b.WriteString(pattern[:i])
		if name == hostile {
			b.WriteString(url.PathEscape(v))
		} else {
			b.WriteString("1")
		}
		pattern = pattern[i+j+1:]
	}
}

// A field is the steps from the body to a string: object keys, or "[]"
// for an array's first element.
type field []string

func fieldName(f field) string {
	var b strings.Builder
	for _, s := range f {
		if s == "[]" {
			b.WriteString("[0]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// stringFields lists the string fields of a schema, following $ref,
// properties, items and allOf/oneOf/anyOf.
func stringFields(t *testing.T, sp spec, raw json.RawMessage, at field, depth int) []field {
	if depth > 8 || len(raw) == 0 {
		return nil
	}
	var s struct {
		Ref        string                     `json:"$ref"`
		Type       any                        `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Items      json.RawMessage            `json:"items"`
		AllOf      []json.RawMessage          `json:"allOf"`
		OneOf      []json.RawMessage          `json:"oneOf"`
		AnyOf      []json.RawMessage          `json:"anyOf"`
		Enum       []any                      `json:"enum"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("schema at %v: %v", at, err)
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := sp.Components.Schemas[name]
		if !ok {
			t.Fatalf("schema at %v: no schema %s", at, s.Ref)
		}
		return stringFields(t, sp, ref, at, depth+1)
	}
	var out []field
	if s.Type == "string" || fmt.Sprint(s.Type) == "[string null]" {
		return []field{append(field(nil), at...)}
	}
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, stringFields(t, sp, s.Properties[k], append(append(field(nil), at...), k), depth+1)...)
	}
	if len(s.Items) > 0 {
		out = append(out, stringFields(t, sp, s.Items, append(append(field(nil), at...), "[]"), depth+1)...)
	}
	for _, sub := range append(append(s.AllOf, s.OneOf...), s.AnyOf...) {
		out = append(out, stringFields(t, sp, sub, at, depth+1)...)
	}
	return out
}

// jsonWith is the smallest JSON document that puts value (JSON text) at f.
func jsonWith(f field, value string) []byte {
	doc := value
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == "[]" {
			doc = "[" + doc + "]"
			continue
		}
		k, _ := json.Marshal(f[i])
		doc = "{" + string(k) + ":" + doc + "}"
	}
	return []byte(doc)
}

func clipped(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
