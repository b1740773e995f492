package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []int
		err   string
	}{
		{"ordered", fstest.MapFS{"s/0002_b.sql": file("B"), "s/0001_a.sql": file("A"), "s/README": file("x")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"s/0001_a.sql": file("A"), "s/0003_c.sql": file("C")}, nil, "0003_c.sql: want version 2 next"},
		{"duplicate", fstest.MapFS{"s/0001_a.sql": file("A"), "s/0001_b.sql": file("B")}, nil, "0001_b.sql: want version 2 next"},
		{"bad name", fstest.MapFS{"s/first.sql": file("A")}, nil, "want a name like 0001_what.sql"},
		{"empty", fstest.MapFS{"s/README": file("x")}, nil, "no migrations"},
	} {
		ms, err := Migrations(tc.files, "s")
		var got []int
		for _, m := range ms {
			got = append(got, m.Version)
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) || ms[0].SQL != "A" {
			t.Errorf("%s: %v, %v; want versions %v", tc.name, got, err, tc.want)
		}
	}
}
