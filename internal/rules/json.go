package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// MaxRuleSize bounds the JSON of one rule: far more than any real rule
// needs, little enough to read whole.
const MaxRuleSize = 64 << 10

// Decode reads one rule as JSON, as it comes over HTTP, strictly: an
// unknown field, a field in the wrong case or given twice, a value of the
// wrong type or anything after the rule is an error that says what and
// where. A rule that omits "enabled" is enabled. The rule is then
// validated, so the error may also be a *ValidationError.
//
// Fields the store assigns (id, version, updated_at, updated_by) are read
// if present; the caller decides what they mean (on update, version is the
// version the client last read, see Store.UpdateRule).
func Decode(r io.Reader) (Rule, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRuleSize+1))
	if err != nil {
		return Rule{}, fmt.Errorf("rule: reading: %w", err)
	}
	if len(data) > MaxRuleSize {
		return Rule{}, fmt.Errorf("rule: more than %d bytes of JSON", MaxRuleSize)
	}
	if err := checkKeys(data); err != nil {
		return Rule{}, fmt.Errorf("rule: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	rule := Rule{Enabled: true}
	if err := dec.Decode(&rule); err != nil {
		return Rule{}, fmt.Errorf("rule: %w", describeJSON(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Rule{}, errors.New("rule: more JSON after the rule")
	}
	if err := rule.Validate(); err != nil {
		return Rule{}, err
	}
	return rule, nil
}

// checkKeys walks a JSON document and refuses, in every object, a key that
// appears twice or has anything but a-z and _. encoding/json would take the
// last of two keys and match keys without regard to case (Unicode case:
// "ſignals" is "signals" to it), so that {"enabled": false, "Enabled": true}
// would silently mean enabled; all our keys are lower-case snake_case.
// Syntax errors are left to the decoder.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		seen   map[string]bool
		key    bool // the next token in this object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // EOF, or a syntax error the decoder reports better
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].key {
			if k, ok := tok.(string); ok {
				f := &stack[n-1]
				if strings.ContainsFunc(k, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) {
					return fmt.Errorf("field %q: field names are lower-case a-z and _", clip(k))
				}
				if f.seen[k] {
					return fmt.Errorf("field %q given twice", clip(k))
				}
				f.seen[k] = true
				f.key = false
				continue
			}
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].key = true // a value was read; a key or '}' comes next
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, seen: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].key = true
			}
		}
	}
}

// describeJSON rewords encoding/json's errors, which name Go types, into
// the JSON terms a rule's author knows.
func describeJSON(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := map[string]string{
			"int": "a number", "int64": "a number", "bool": "true or false", "string": "a string",
			"time.Time": "an RFC 3339 time",
		}[te.Type.String()]
		if want == "" {
			switch te.Type.Kind() {
			case reflect.Slice:
				want = "an array"
			case reflect.Struct, reflect.Map:
				want = "an object"
			case reflect.String:
				want = "a string"
			default:
				want = te.Type.String()
			}
		}
		if te.Field == "" {
			return fmt.Errorf("got a JSON %s, want an object", te.Value)
		}
		return fmt.Errorf("field %q: got a JSON %s, want %s", te.Field, te.Value, want)
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF):
		return errors.New("no JSON: the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends early")
	}
	return err
}
