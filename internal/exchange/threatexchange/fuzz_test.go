package threatexchange

import "testing"

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"data": [{"id": "1", "indicator": "ab", "type": "HASH_PDQ", "should_delete": false, "tags": ["x"]},
		{"id": "2", "type": "HASH_MD5", "should_delete": true}], "paging": {"next": "https://graph.facebook.com/v21.0/1/threat_updates?after=x"}}`))
	f.Add([]byte(`{"data": [null, 1, "x"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, _, err := parsePage(body)
		if err != nil {
			return
		}
		for _, r := range p.Records {
			if r.ID == "" || r.Deleted == (len(r.Fingerprints) == 1) {
				t.Fatalf("record %+v", r)
			}
		}
	})
}
