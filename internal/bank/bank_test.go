package bank

import (
	"strings"
	"testing"
)

const (
	pdqHex    = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	md5Hex    = "f09791b743c21f26a189c33b798b8e46"
	sha256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Signal
		err  string
	}{
		{"pdq", PDQ, ""},
		{"PDQ", PDQ, ""},
		{" md5 ", MD5, ""},
		{"video_md5", MD5, ""},
		{"sha256", SHA256, ""},
		{"SHA-256", SHA256, ""},
		{"", "", `unknown signal ""`},
		{"pdq_hash", "", `unknown signal "pdq_hash"`},
	} {
		got, err := ParseSignal(tc.in)
		if got != tc.want || errText(err) != tc.err && !strings.Contains(errText(err), tc.err) {
			t.Errorf("ParseSignal(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		sig  Signal
		in   string
		want string
		err  string
	}{
		{PDQ, pdqHex, pdqHex, ""},
		{PDQ, strings.ToUpper(pdqHex), pdqHex, ""},
		{SHA256, sha256Hex, sha256Hex, ""},
		{MD5, md5Hex, md5Hex, ""},
		{MD5, pdqHex, "", "md5 value " + `"` + pdqHex + `": want 32 hex digits, got 64 characters`},
		{PDQ, md5Hex, "", "want 64 hex digits, got 32 characters"},
		{PDQ, "g" + pdqHex[1:], "", `'g' at position 1 is not a hex digit`},
		{PDQ, pdqHex[:63] + " ", "", `' ' at position 64 is not a hex digit`},
		{PDQ, "", "", "got 0 characters"},
		{"crc32", md5Hex, "", `unknown signal "crc32"`},
	} {
		got, err := ParseValue(tc.sig, tc.in)
		if got != tc.want || !strings.Contains(errText(err), tc.err) || (tc.err == "") != (err == nil) {
			t.Errorf("ParseValue(%s, %q) = %q, %v; want %q, error containing %q", tc.sig, tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"iwf", true},
		{"ncmec-2026.11_a", true},
		{"0day", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"IWF", false},
		{"-x", false},
		{".hidden", false},
		{"a b", false},
		{"a/b", false},
		{"ünï", false},
	} {
		if err := ValidName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestBankValidate(t *testing.T) {
	for _, tc := range []struct {
		b  Bank
		ok bool
	}{
		{Bank{Name: "a", Threshold: DefaultThreshold}, true},
		{Bank{Name: "a", Threshold: 1}, true},
		{Bank{Name: "a", Threshold: MaxThreshold}, true},
		{Bank{Name: "a", Threshold: 0}, false},
		{Bank{Name: "a", Threshold: MaxThreshold + 1}, false},
		{Bank{Name: "A", Threshold: 31}, false},
	} {
		if err := tc.b.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tc.b, err, tc.ok)
		}
	}
}

func TestEntryNormalize(t *testing.T) {
	e, err := Entry{Signal: PDQ, Value: strings.ToUpper(pdqHex), Source: "Internet Watch Foundation — UK"}.Normalize()
	if err != nil || e.Value != pdqHex {
		t.Fatalf("Normalize = %+v, %v", e, err)
	}
	for _, bad := range []Entry{
		{Signal: "", Value: pdqHex},
		{Signal: PDQ, Value: md5Hex},
		{Signal: MD5, Value: md5Hex, Note: "\xff"},
		{Signal: MD5, Value: md5Hex, Source: "a\x00b"},
	} {
		if _, err := bad.Normalize(); err == nil {
			t.Errorf("%+v.Normalize() succeeded, want an error", bad)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
