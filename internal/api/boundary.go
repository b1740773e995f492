package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/limits"
)

// The boundary: every string a request carries passes here before any
// handler sees it, whatever the route, so a route added tomorrow cannot
// reach a store with a NUL, invalid UTF-8 or a megabyte id (PostgreSQL
// refuses the first two with an error, and an index entry over ~2.7 KB
// with another). Field-specific checks (limits.Line on an id, a shorter
// bound on a name) still run in the domain; these are the floor.
const (
	// maxParam bounds a path or query parameter: ids, names, hashes,
	// cursors. Under PostgreSQL's btree entry limit, so a lookup by an
	// over-long id is a 400, not a 500.
	maxParam = limits.URL
	// maxJSONString bounds one string of a JSON body (a report's text is
	// the longest there is).
	maxJSONString = limits.Text
	// maxJSONDepth bounds how deep a JSON body nests its objects and
	// arrays: the deepest body openapi.json describes (a law-enforcement
	// report) nests 6 levels, and each level costs checkJSON a frame and
	// a path longer than the last, so 100,000 levels in a 200 KB body once
	// cost gigabytes.
	maxJSONDepth = 32
)

// checkParams refuses a request whose path values (of the route's pattern)
// or query parameters hold invalid UTF-8, a control character or more than
// maxParam bytes, or that gives a query parameter twice (no route takes a
// list, and Query().Get would silently keep the first), naming the
// parameter.
func checkParams(r *http.Request, pattern string) error {
	for _, name := range pathNames(pattern) {
		if err := limits.Line(name, r.PathValue(name), maxParam); err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "path parameter %v", err)
		}
	}
	for name, vs := range r.URL.Query() {
		if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 || len(name) > limits.ID {
			return errorf(http.StatusBadRequest, CodeBadRequest, "query parameter name %s is not a valid name", strconv.QuoteToASCII(clip(name)))
		}
		if len(vs) > 1 {
			return errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s is given twice", clip(name))
		}
		for _, v := range vs {
			if err := limits.Line(name, v, maxParam); err != nil {
				return errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %v", err)
			}
		}
	}
	return nil
}

// pathNames lists the {names} of a ServeMux pattern.
func pathNames(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, strings.TrimSuffix(pattern[i+1:i+j], "..."))
		pattern = pattern[i+j+1:]
	}
}

// knownQuery refuses a query parameter not among names, naming it and
// them: on a route whose query carries what is recorded (a scan's
// content_id, an entry's source), a misspelt one (contentid=) would
// otherwise be dropped without a word.
func knownQuery(r *http.Request, names ...string) error {
	for name := range r.URL.Query() {
		if !slices.Contains(names, name) {
			return errorf(http.StatusBadRequest, CodeBadRequest, "unknown query parameter %q: want %s", clip(name), strings.Join(names, ", "))
		}
	}
	return nil
}

var errNullBody = errorf(http.StatusBadRequest, CodeBadRequest, "the body is null: want a JSON object")

// checkJSON refuses, in a JSON document, what no client means and some
// decoders take: a key given twice (encoding/json keeps the last, another
// reader may keep the first), a null document, and strings holding invalid
// UTF-8 (which encoding/json silently turns into U+FFFD), a control
// character other than tab, newline and carriage return, or more than
// maxJSONString bytes, and nesting deeper than maxJSONDepth. The error
// names the field as a path (images[0].pdq).
func checkJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return errNullBody
	}
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the member being read, in an object
		inKey  bool   // key is set: the next token is its value
		index  int    // the element being read, in an array
		path   string
	}
	var stack []*frame
	here := func() string {
		if len(stack) == 0 {
			return "body"
		}
		f := stack[len(stack)-1]
		if f.object {
			return joinPath(f.path, f.key)
		}
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	// after moves the innermost container past the value just read.
	after := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.key, f.inKey = "", false
		} else {
			f.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // malformed: the decoder that follows says how
		}
		end := dec.InputOffset()
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				path := here()
				if len(stack) == 0 {
					path = ""
				}
				if len(stack) == maxJSONDepth {
					return errorf(http.StatusBadRequest, CodeBadRequest, "%s nests deeper than %d levels", path, maxJSONDepth)
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, path: path})
			default:
				stack = stack[:len(stack)-1]
				after()
			}
		case string:
			isKey := top != nil && top.object && !top.inKey
			field := here()
			if isKey {
				field = "a key of " + orBody(top.path)
			}
			if err := checkJSONString(field, t, b[start:end]); err != nil {
				return err
			}
			if isKey {
				if top.keys[t] {
					return errorf(http.StatusBadRequest, CodeBadRequest, "%s is given twice", joinPath(top.path, t))
				}
				top.keys[t] = true
				top.key, top.inKey = t, true
				continue
			}
			after()
		default:
			after()
		}
	}
}

func checkJSONString(field, s string, raw []byte) error {
	if !utf8.Valid(raw) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s is not valid UTF-8", field)
	}
	if err := limits.Prose(field, s, maxJSONString); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}
