package list

import "testing"

func FuzzParse(f *testing.F) {
	f.Add([]byte("pdq 0000000000000000000000000000000000000000000000000000000000001000\nvpdq x\nbad\n"), "")
	f.Add([]byte("signal_type,signal_str,collab,category,tags\npdq,00,IWF,A,\n"), "")
	f.Add([]byte("00ff\n"), "md5")
	f.Fuzz(func(t *testing.T, data []byte, signalType string) {
		p, err := Parse(data, "", signalType)
		if err != nil {
			return
		}
		if !p.Complete || len(p.Records) == 0 {
			t.Fatalf("page %+v", p)
		}
		for _, r := range p.Records {
			if len(r.Fingerprints) != 1 || r.Fingerprints[0].Value == "" {
				t.Fatalf("record %+v", r)
			}
		}
	})
}
