package peer

import "testing"

func FuzzParseFeed(f *testing.F) {
	f.Add([]byte(`{"format":"safeguard-feed/1","bank":"b","after":0,"next":2,"more":true,"changes":[
		{"seq":1,"signal":"pdq","value":"ab"},{"seq":2,"removed":true,"signal":"md5","value":"cd"}]}`))
	f.Add([]byte(`{"format":"safeguard-feed/1","bank":"b","after":0,"next":0,"more":true,"changes":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		feed, p, err := parseFeed(body, "b", 0, 100)
		if err != nil {
			return
		}
		if feed.Next < 0 || len(p.Records) > 100 || feed.More && len(p.Records) == 0 {
			t.Fatalf("feed %+v", feed)
		}
	})
}
