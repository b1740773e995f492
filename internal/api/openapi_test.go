package api

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
)

type openapiDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openapiOperation `json:"paths"`
	Components struct {
		Responses map[string]openapiResponse `json:"responses"`
	} `json:"components"`
}

type openapiResponse struct {
	Ref         string `json:"$ref"`
	Description string `json:"description"`
}

// description is a documented response's, through its $ref.
func (d openapiDoc) description(raw json.RawMessage) string {
	var r openapiResponse
	json.Unmarshal(raw, &r)
	if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
		return d.Components.Responses[name].Description
	}
	return r.Description
}

type openapiOperation struct {
	OperationID string `json:"operationId"`
	Permission  string `json:"x-permission"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestOpenAPI checks the document against the route table both ways: every
// route is documented with its method, permission and path parameters, and
// every documented operation is served. It also checks that every $ref
// resolves.
func TestOpenAPI(t *testing.T) {
	var doc openapiDoc
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
	a := New(Config{Metrics: NewMetrics(nil)})
	routed := map[string]bool{}
	ids := map[string]bool{}
	for _, rt := range a.routes {
		key := rt.method + " " + rt.path
		routed[key] = true
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s: not in openapi.json", key)
			continue
		}
		want := string(rt.perm)
		if want == "" {
			want = "any"
		}
		if op.Permission != want {
			t.Errorf("%s: x-permission %q, the route asks for %q", key, op.Permission, want)
		}
		var declared, inPath []string
		for _, p := range op.Parameters {
			if p.In == "path" {
				declared = append(declared, p.Name)
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			inPath = append(inPath, m[1])
		}
		slices.Sort(declared)
		slices.Sort(inPath)
		if !slices.Equal(declared, inPath) {
			t.Errorf("%s: path parameters documented %v, in the pattern %v", key, declared, inPath)
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses documented", key)
		}
		if op.Permission != "any" && op.Permission != string(public) && (op.Responses["401"] == nil || op.Responses["403"] == nil) {
			t.Errorf("%s: 401 and 403 not documented", key)
		}
		// request.Check runs on every route of the table (withParams),
		// those that take no query parameter too.
		if d := doc.description(op.Responses["400"]); !strings.Contains(strings.ToLower(d), "a query parameter the operation does not take") {
			t.Errorf("%s: its 400 does not say that a query parameter it does not take is refused: %q", key, d)
		}
		if ids[op.OperationID] {
			t.Errorf("%s: operationId %q used twice", key, op.OperationID)
		}
		ids[op.OperationID] = true
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			key := strings.ToUpper(method) + " " + path
			if strings.HasPrefix(path, "/v1/") {
				if !routed[key] {
					t.Errorf("openapi.json documents %s, which no route serves", key)
				}
				continue
			}
			// Operator endpoints are outside the route table, unauthenticated.
			if _, pattern := a.operator.Handler(httptest.NewRequest(strings.ToUpper(method), path, nil)); pattern != key {
				t.Errorf("openapi.json documents %s, served by %q", key, pattern)
			}
		}
	}
	for _, m := range regexp.MustCompile(`"\$ref": "#/([^"]+)"`).FindAllSubmatch(openapiJSON, -1) {
		var node any
		json.Unmarshal(openapiJSON, &node)
		for _, part := range strings.Split(string(m[1]), "/") {
			obj, _ := node.(map[string]any)
			node = obj[part]
		}
		if node == nil {
			t.Errorf("$ref #/%s does not resolve", m[1])
		}
	}
}

// TestOpenAPIServed checks that any valid key gets the document, and no
// key gets a 401.
func TestOpenAPIServed(t *testing.T) {
	keys := new(authtest.Memory)
	key, _, err := auth.Create(context.Background(), keys, auth.Flagger, "f", "test")
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Keys: keys})
	for _, tc := range []struct {
		key    string
		status int
	}{{key, 200}, {"", 200}} { // public: a client generator needs no key
		req := httptest.NewRequest("GET", "/v1/openapi.json", nil)
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("key %v: %d, want %d", tc.key != "", rec.Code, tc.status)
		}
		if tc.status == http.StatusOK && !bytes.Equal(rec.Body.Bytes(), openapiJSON) {
			t.Errorf("served document differs from the embedded one")
		}
	}
}

// The Error schema's code enum is every Code constant of the package: a
// client switching on codes must find each one the API can answer. The
// constants are read from the package's source, so a new one without its
// line in openapi.json fails here.
func TestOpenAPIErrorCodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `json:"enum"`
								} `json:"code"`
							} `json:"properties"`
						} `json:"error"`
					} `json:"properties"`
				} `json:"Error"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Code") && lit.Kind == token.STRING {
						codes = append(codes, strings.Trim(lit.Value, `"`))
					}
				}
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found %d Code constants in the source: the test reads the wrong files", len(codes))
	}
	slices.Sort(codes)
	got := slices.Sorted(slices.Values(enum))
	if !slices.Equal(got, codes) {
		t.Errorf("openapi.json's error codes %v, want the package's Code constants %v", got, codes)
	}
}
