package stopncii

import "testing"

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"count": 1, "nextPageToken": "t", "nextSetTimestamp": 5, "hasMoreRecords": true, "hashRecords": [
		{"lastModtimestamp": 1, "signalType": "ImagePDQ", "hashValue": "ab", "hashStatus": "Withdrawn", "caseNumbers": {"c": "Active"},
		 "CSPFeedbacks": [{"feedbackValue": "Blocked", "tags": ["x"], "source": "s"}]}]}`))
	f.Add([]byte(`{"hashRecords": [1, null, {}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, p, err := parsePage(body)
		if err != nil {
			return
		}
		for _, r := range p.Records {
			if r.ID == "" || r.Deleted && len(r.Fingerprints) > 0 || !r.Deleted && len(r.Fingerprints) != 1 {
				t.Fatalf("record %+v", r)
			}
		}
	})
}
