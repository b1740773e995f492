package schema

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidDocuments(t *testing.T) {
	for _, name := range []string{"valid-report.xml", "valid-filedetails.xml"} {
		if err := CyberTip.Validate(readFile(t, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRefused changes one thing in a valid document and checks the error
// names the element (path) at fault and says what is wrong.
func TestRefused(t *testing.T) {
	report := string(readFile(t, "valid-report.xml"))
	files := string(readFile(t, "valid-filedetails.xml"))
	tests := []struct {
		name     string
		doc      string
		old, new string
		path     string
		msg      string
	}{
		{"missing required element", report,
			"<incidentDateTime>2026-11-24T21:03:00Z</incidentDateTime>", "",
			"report/incidentSummary/incidentDateTime", "missing required element"},
		{"missing required root child", report,
			"<reporter>", "<reporterX>", // a renamed reporter is an unknown element
			"report/reporter", "missing required element"},
		{"wrong order", report,
			"<escalateToHighPriority>child in immediate danger</escalateToHighPriority>\n    <reportAnnotations>\n      <sextortion/>\n      <minorToMinorInteraction/>\n    </reportAnnotations>",
			"<reportAnnotations><sextortion/></reportAnnotations><escalateToHighPriority>x</escalateToHighPriority>",
			"report/incidentSummary/escalateToHighPriority", "out of order: must come before reportAnnotations"},
		{"required element out of order", files,
			"<reportId>4242</reportId>\n  <fileId>f-1</fileId>", "<fileId>f-1</fileId><reportId>4242</reportId>",
			"fileDetails/reportId", "out of order"},
		{"bad enumeration", report,
			"Child Pornography (possession, manufacture, and distribution)", "Child Abuse",
			"report/incidentSummary/incidentType", `"Child Abuse" is not one of the allowed values`},
		{"bad classification", files,
			"<industryClassification>A1</industryClassification>", "<industryClassification>C3</industryClassification>",
			"fileDetails/industryClassification", `"C3" is not one of`},
		{"bad date", report,
			"2026-11-24T21:03:00Z", "yesterday",
			"report/incidentSummary/incidentDateTime", `"yesterday" is not a dateTime`},
		{"impossible date", report,
			"2026-11-24T21:03:00Z", "2026-02-30T21:03:00Z",
			"report/incidentSummary/incidentDateTime", "not a valid dateTime"},
		{"bad zone", report,
			"2026-11-24T21:03:00Z", "2026-11-24T21:03:00+15:00",
			"report/incidentSummary/incidentDateTime", "invalid time zone"},
		{"bad boolean", files,
			"<fileViewedByEsp>true</fileViewedByEsp>", "<fileViewedByEsp>yes</fileViewedByEsp>",
			"fileDetails/fileViewedByEsp", `"yes" is not a boolean`},
		{"bad IPv4", files,
			"203.0.113.7", "203.0.113.256",
			"fileDetails/ipCaptureEvent/ipAddress", "does not match the pattern of type ipAddressType"},
		{"not an IP", report,
			"2001:db8::1", "example.net",
			"report/personOrUserReported/ipCaptureEvent/ipAddress", "does not match the pattern"},
		{"bad integer", files,
			"<reportId>4242</reportId>", "<reportId>-1</reportId>",
			"fileDetails/reportId", "out of range"},
		{"unknown element", report,
			"<additionalInfo>Found", "<notes>x</notes><additionalInfo>Found",
			"report/notes", "unexpected element"},
		{"too many", report,
			"<legalURL>https://example.net/legal</legalURL>", "<legalURL>https://a</legalURL><legalURL>https://b</legalURL>",
			"report/reporter/legalURL", "occurs more than 1 time"},
		{"text in element-only content", report,
			"<sextortion/>", "<sextortion>yes</sextortion>",
			"report/incidentSummary/reportAnnotations/sextortion", "text \"yes\" where only elements are allowed"},
		{"missing attribute", files,
			`<originalFileHash hashType="MD5">`, `<originalFileHash>`,
			"fileDetails/originalFileHash", "missing required attribute hashType"},
		{"bad attribute", files,
			`hashType="MD5"`, `hashType="CRC32"`,
			"fileDetails/originalFileHash/@hashType", `"CRC32" is not one of`},
		{"unknown attribute", files,
			`<fileId>`, `<fileId kind="x">`,
			"fileDetails/fileId", "unexpected attribute kind"},
		{"empty choice", report,
			"<chatImIncident>\n      <chatClient>Example Chat</chatClient>\n    </chatImIncident>", "",
			"report/internetDetails/(webPageIncident|emailIncident|chatImIncident)", "missing required element"},
		{"minLength", report,
			"<espIdentifier>u_123</espIdentifier>", "<espIdentifier></espIdentifier>",
			"report/personOrUserReported/espIdentifier", "shorter than 1"},
		{"wrong root", report,
			"<report ", "<rapport ", // and its end tag no longer matches
			"/", "not well-formed"},
		{"namespace", report,
			"<report ", `<report xmlns="urn:x" `,
			"report", "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.doc, tt.old) {
				t.Fatalf("test broken: %q not in the document", tt.old)
			}
			doc := strings.Replace(tt.doc, tt.old, tt.new, 1)
			if tt.name == "missing required root child" {
				doc = strings.Replace(doc, "</reporter>", "</reporterX>", 1)
			}
			err := CyberTip.Validate([]byte(doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate = %v, want an *Error", err)
			}
			if e.Path != tt.path || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Validate = %q\nwant path %q and a message containing %q", err, tt.path, tt.msg)
			}
		})
	}
}

func TestWrongRootElement(t *testing.T) {
	err := CyberTip.Validate([]byte(`<fileinfo/>`))
	if err == nil || !strings.Contains(err.Error(), "fileinfo: is not a root element of the schema (fileDetails, report)") {
		t.Errorf("Validate = %v", err)
	}
}

// TestParseRefusesOutsideSubset checks that a schema using XSD this
// package does not check is refused, rather than half-checked.
func TestParseRefusesOutsideSubset(t *testing.T) {
	const head = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">`
	tests := []struct{ xsd, msg string }{
		{head + `<xs:element name="a"><xs:complexType><xs:all/></xs:complexType></xs:element></xs:schema>`, "xs:all"},
		{head + `<xs:element name="a" type="xs:duration"/></xs:schema>`, "xs:duration is not supported"},
		{head + `<xs:element name="a" type="b"/></xs:schema>`, `type "b" is not declared`},
		{head + `<xs:element ref="a"/></xs:schema>`, "ref is not supported"},
		{head + `<xs:simpleType name="s"><xs:restriction base="xs:string"><xs:totalDigits value="3"/></xs:restriction></xs:simpleType><xs:element name="a" type="s"/></xs:schema>`, "xs:totalDigits"},
		{head + `<xs:simpleType name="s"><xs:restriction base="s"/></xs:simpleType><xs:element name="a" type="s"/></xs:schema>`, "derives from itself"},
		{head + `<xs:element name="a"><xs:complexType><xs:sequence><xs:element name="b" type="xs:string" minOccurs="2" maxOccurs="1"/></xs:sequence></xs:complexType></xs:element></xs:schema>`, "exceeds maxOccurs"},
		{head + `</xs:schema>`, "no global element"},
		{`<schema/>`, "not xs:schema"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.xsd))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tt.xsd, err, tt.msg)
		}
	}
}

// TestXmllintAgrees cross-checks this package against libxml2's validator
// on the test documents and on every refused variant: both must accept the
// valid ones and both must refuse the broken ones.
func TestXmllintAgrees(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (apt-get install libxml2-utils); skipping the cross-check")
	}
	dir := t.TempDir()
	xsd := filepath.Join(dir, "cybertipline-subset.xsd")
	if err := os.WriteFile(xsd, CyberTipXSD(), 0o600); err != nil {
		t.Fatal(err)
	}
	lint := func(doc []byte) error {
		f := filepath.Join(dir, "doc.xml")
		if err := os.WriteFile(f, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, f).CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	report := readFile(t, "valid-report.xml")
	files := readFile(t, "valid-filedetails.xml")
	for _, doc := range [][]byte{report, files} {
		if err := lint(doc); err != nil {
			t.Errorf("xmllint refuses a valid document: %v", err)
		}
	}
	broken := [][]byte{
		bytes.Replace(report, []byte("<incidentDateTime>2026-11-24T21:03:00Z</incidentDateTime>"), nil, 1),
		bytes.Replace(report, []byte("2026-11-24T21:03:00Z"), []byte("yesterday"), 1),
		bytes.Replace(report, []byte("Child Pornography (possession, manufacture, and distribution)"), []byte("Child Abuse"), 1),
		bytes.Replace(files, []byte("<reportId>4242</reportId>\n  <fileId>f-1</fileId>"), []byte("<fileId>f-1</fileId><reportId>4242</reportId>"), 1),
		bytes.Replace(files, []byte("203.0.113.7"), []byte("203.0.113.256"), 1),
		bytes.Replace(files, []byte(`hashType="MD5"`), []byte(`hashType="CRC32"`), 1),
	}
	for i, doc := range broken {
		ours, theirs := CyberTip.Validate(doc), lint(doc)
		if ours == nil || theirs == nil {
			t.Errorf("broken document %d: ours %v, xmllint %v; both should refuse", i, ours, theirs)
		}
	}
}

// FuzzParse feeds arbitrary schemas to the parser: it must return an error
// or a schema, never panic or loop.
func FuzzParse(f *testing.F) {
	f.Add(CyberTipXSD())
	f.Add([]byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:string"/></xs:schema>`))
	f.Fuzz(func(t *testing.T, xsd []byte) {
		s, err := Parse(xsd)
		if err != nil {
			return
		}
		_ = s.Validate([]byte(`<a>x</a>`))
	})
}

// FuzzValidate feeds arbitrary documents to the validator.
func FuzzValidate(f *testing.F) {
	f.Add(readFile(f, "valid-report.xml"))
	f.Add(readFile(f, "valid-filedetails.xml"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := CyberTip.Validate(doc)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Validate returned %T, not *Error", err)
		}
	})
}
