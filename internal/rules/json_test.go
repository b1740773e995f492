package rules

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // error substring; "" for success
	}{
		{"minimal", `{"name":"x","actions":[{"kind":"block"}]}`, ""},
		{"full", `{"name":"Known CSAM","enabled":false,"banks":["iwf"],"signals":["pdq","md5"],"max_distance":12,
			"surfaces":["post","direct_message"],"visibility":["public"],"categories":["A"],
			"actions":[{"kind":"block"},{"kind":"enqueue","priority":90},{"kind":"notify","webhook":"ts"}],
			"id":4,"version":2,"updated_at":"2026-11-25T02:00:00Z","updated_by":"admin"}`, ""},
		{"null max distance", `{"name":"x","max_distance":null,"actions":[{"kind":"block"}]}`, ""},
		{"whitespace after", "{\"name\":\"x\",\"actions\":[{\"kind\":\"block\"}]}\n\t ", ""},

		{"empty", ``, "rule: no JSON: the body is empty"},
		{"not an object", `[1]`, "rule: got a JSON array, want an object"},
		{"truncated", `{"name":"x","actions":[`, "rule: the JSON ends early"},
		{"syntax", `{"name":"x",}`, "rule: invalid JSON at byte"},
		{"unknown field", `{"name":"x","actions":[{"kind":"block"}],"priority":3}`, `rule: json: unknown field "priority"`},
		{"unknown field in an action", `{"name":"x","actions":[{"kind":"block","force":true}]}`, `unknown field "force"`},
		{"upper-case field", `{"Name":"x","actions":[{"kind":"block"}]}`, `rule: field "Name": field names are lower-case a-z and _`},
		{"unicode case folding", `{"name":"x","ſignals":["md5"],"actions":[{"kind":"block"}]}`, `field "ſignals": field names are lower-case a-z and _`},
		{"field twice", `{"name":"x","enabled":false,"enabled":true,"actions":[{"kind":"block"}]}`, `rule: field "enabled" given twice`},
		{"field twice in an action", `{"name":"x","actions":[{"kind":"block","kind":"notify"}]}`, `field "kind" given twice`},
		{"same key in two objects is fine", `{"name":"x","actions":[{"kind":"block"},{"kind":"report"}]}`, ""},
		{"wrong type", `{"name":"x","banks":"iwf","actions":[{"kind":"block"}]}`, `rule: field "banks": got a JSON string, want an array`},
		{"wrong type in an action", `{"name":"x","actions":[{"kind":"enqueue","priority":"high"}]}`, `field "actions.priority": got a JSON string, want a number`},
		{"fractional distance", `{"name":"x","max_distance":1.5,"actions":[{"kind":"block"}]}`, `field "max_distance": got a JSON number 1.5, want a number`},
		{"enabled as a string", `{"name":"x","enabled":"yes","actions":[{"kind":"block"}]}`, `field "enabled": got a JSON string, want true or false`},
		{"bad time", `{"name":"x","updated_at":"yesterday","actions":[{"kind":"block"}]}`, `rule: parsing time`},
		{"two rules", `{"name":"x","actions":[{"kind":"block"}]}{}`, "rule: more JSON after the rule"},
		{"invalid rule", `{"name":"x","actions":[{"kind":"nuke"}]}`, `rule "x": action 1: unknown kind "nuke"`},
		{"too big", `{"name":"` + strings.Repeat("x", MaxRuleSize) + `"}`, "rule: more than 65536 bytes of JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in))
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Decode = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	r, err := Decode(strings.NewReader(`{"name":"Known CSAM","banks":["iwf"],"signals":["pdq"],"max_distance":0,
		"surfaces":["post"],"visibility":["unlisted"],"categories":["A"],
		"actions":[{"kind":"enqueue","priority":90},{"kind":"notify","webhook":"ts"}],
		"id":4,"version":2,"updated_at":"2026-11-25T02:00:00Z","updated_by":"admin"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Rule{
		ID: 4, Name: "Known CSAM", Version: 2, Enabled: true, // omitted enabled means enabled
		Banks: []string{"iwf"}, Signals: []bank.Signal{bank.PDQ}, MaxDistance: intp(0),
		Surfaces: []Surface{Post}, Visibility: []Visibility{Unlisted}, Categories: []string{"A"},
		Actions:   []Action{{Kind: Enqueue, Priority: 90}, {Kind: Notify, Webhook: "ts"}},
		UpdatedAt: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC), UpdatedBy: "admin",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Decode =\n\t%+v\nwant\n\t%+v", r, want)
	}
	// What Marshal writes, Decode reads back the same.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip through %s:\n\t%+v\nwant\n\t%+v", b, back, r)
	}
	// A disabled rule survives the round trip too (enabled is never omitted).
	r.Enabled = false
	b, _ = json.Marshal(r)
	if back, err := Decode(strings.NewReader(string(b))); err != nil || back.Enabled {
		t.Errorf("disabled rule came back enabled=%v (%v) from %s", back.Enabled, err, b)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"name":"x","actions":[{"kind":"block"}]}`)
	f.Add(`{"name":"Known","banks":["iwf"],"signals":["pdq"],"max_distance":3,"surfaces":["post"],"visibility":["public"],` +
		`"categories":["A"],"actions":[{"kind":"enqueue","priority":9},{"kind":"notify","webhook":"w"}]}`)
	f.Add(`{"name":"x","Name":"y","actions":[[{}],{"a":{"b":[]}}]}`)
	f.Add(`[{"kind":"block"}]`)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := Decode(strings.NewReader(in))
		if err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) && len(ve.Problems) == 0 {
				t.Fatalf("a ValidationError without problems for %q", in)
			}
			return
		}
		// Whatever Decode accepts is valid, and survives a round trip.
		if err := r.Validate(); err != nil {
			t.Fatalf("Decode accepted an invalid rule %q: %v", in, err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(normalise(back), normalise(r)) {
			t.Fatalf("round trip of %q:\n\t%+v\n\t%+v", in, r, back)
		}
	})
}

// normalise makes nil and empty lists alike (omitempty drops empty ones)
// and times comparable.
func normalise(r Rule) Rule {
	if len(r.Banks) == 0 {
		r.Banks = nil
	}
	if len(r.Signals) == 0 {
		r.Signals = nil
	}
	if len(r.Surfaces) == 0 {
		r.Surfaces = nil
	}
	if len(r.Visibility) == 0 {
		r.Visibility = nil
	}
	if len(r.Categories) == 0 {
		r.Categories = nil
	}
	r.UpdatedAt = r.UpdatedAt.UTC().Round(0)
	return r
}
