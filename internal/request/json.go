package request

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/limits"
)

// MaxJSONDepth bounds how deep a JSON body nests its objects and arrays:
// the deepest body the /v1 API describes (a law-enforcement report) nests
// 6 levels, HMA's 2 besides the free-form json of a content's metadata,
// and each level costs CheckJSON a frame and a path longer than the last,
// so 100,000 levels in a 200 KB body once cost gigabytes.
const MaxJSONDepth = 32

// CheckJSON refuses, in a JSON document, what no client means and some
// decoders take: a key given twice (encoding/json keeps the last, Python's
// json too, another reader may keep the first: {"bank_name":"A",
// "bank_name":"B"} would name one bank to a proxy that checked it and
// another to the handler), strings holding invalid UTF-8 (which
// encoding/json silently turns into U+FFFD), a control character other
// than tab, newline and carriage return, or more than maxString bytes, and
// nesting deeper than MaxJSONDepth. The error names the field as a path
// (images[0].pdq). A malformed document passes: the decoder that follows
// says how it is malformed.
func CheckJSON(b []byte, maxString int) error {
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
				if len(stack) == MaxJSONDepth {
					return invalid("%s nests deeper than %d levels", path, MaxJSONDepth)
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
			if err := checkString(field, t, b[start:end], maxString); err != nil {
				return err
			}
			if isKey {
				if top.keys[t] {
					return invalid("%s is given twice", joinPath(top.path, t))
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

func checkString(field, s string, raw []byte, max int) error {
	if !utf8.Valid(raw) {
		return invalid("%s is not valid UTF-8", field)
	}
	return limits.Prose(field, s, max)
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
