package ncmec

import (
	"strings"
	"testing"
)

func FuzzParseEntries(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
<images count="2" maxTimestamp="2017-10-24T15:10:00Z"><image><member id="42">M</member><id>i1</id>
<classification>A1</classification><fingerprints><md5>a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1</md5><pdq>ff</pdq></fingerprints>
<feedback/></image><deletedImage><member id="43">M</member><id>i4</id></deletedImage></images>
<videos count="0"/><paging><next>/v2/entries?from=x&amp;start=2001</next></paging></queryResult>`))
	f.Add([]byte(`<queryResult xmlns="other"/>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><queryResult>&a;</queryResult>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseEntries(body)
		if err != nil {
			return
		}
		for _, r := range p.Records {
			if r.ID == "" || !strings.Contains(r.ID, "-") {
				t.Fatalf("record without a member-id: %+v", r)
			}
			if r.Deleted && len(r.Fingerprints) > 0 {
				t.Fatalf("a tombstone with fingerprints: %+v", r)
			}
		}
		if p.Malformed < len(p.Problems) {
			t.Fatalf("%d malformed but %d problems", p.Malformed, len(p.Problems))
		}
	})
}
