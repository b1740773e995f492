package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/request"
)

// Every JSON body passes checkBody: a null body and request.CheckJSON's
// refusals are bad_request, whatever the route's own code for an invalid
// body (invalid_report, invalid_rule), with the multipart part's name first.
func TestCheckBody(t *testing.T) {
	for _, c := range []struct{ doc, where, want string }{
		{`null`, "", "the body is null"},
		{` null `, "multipart form: part report: ", "multipart form: part report: the body is null"},
		{`{"bank_name":"A","bank_name":"B"}`, "", "bank_name is given twice"},
		{`{"a":` + strings.Repeat("[", request.MaxJSONDepth) + strings.Repeat("]", request.MaxJSONDepth) + `}`, "", "a[0][0]"},
		{`{"n":"` + strings.Repeat("x", maxJSONString+1) + `"}`, "", "n is 65537 bytes"},
	} {
		var e *Error
		if err := checkBody([]byte(c.doc), c.where); !errors.As(err, &e) || e.Code != CodeBadRequest || !strings.HasPrefix(e.Message, c.where) || !strings.Contains(e.Message, c.want) {
			t.Errorf("%.40q: %v, want bad_request saying %q", c.doc, err, c.want)
		}
	}
	if err := checkBody([]byte(`{"a":[{"b":1}]}`), ""); err != nil {
		t.Errorf("a well-formed body: %v", err)
	}
}

// TestUnmarshalStrictTypeErrors: a value of the wrong JSON type is named by
// its field and the type wanted, in the API's words, not Go's (the message
// once read "cannot unmarshal number 1e30 into Go struct field .threshold
// of type int").
func TestUnmarshalStrictTypeErrors(t *testing.T) {
	var v struct {
		Threshold int `json:"threshold"`
		Messages  []struct {
			Text string `json:"text"`
		} `json:"messages"`
		On bool `json:"on"`
	}
	for _, c := range []struct{ doc, want string }{
		{`{"threshold":1e30}`, "threshold: want an integer, got number 1e30"},
		{`{"threshold":1.5}`, "threshold: want an integer, got number 1.5"},
		{`{"threshold":"7"}`, "threshold: want an integer, got a string"},
		{`{"messages":{}}`, "messages: want an array, got an object"},
		{`{"messages":[{"text":5}]}`, "messages.text: want a string, got a number"},
		{`{"on":"yes"}`, "on: want true or false, got a string"},
		{`[1,2]`, "the body: want an object, got an array"},
	} {
		err := unmarshalStrict([]byte(c.doc), &v, "")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "Go ") {
			t.Errorf("%s: %v, want an error saying %q", c.doc, err, c.want)
		}
	}
}
