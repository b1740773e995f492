package remove

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Helplines are the places the page points a young person to, by region
// (ISO 3166 alpha-2, as the browser's language tag ends: en-GB → GB). The
// page shows its region's; a region it has none for gets every region in
// Order. A deployment sets its own (serve's remove-helplines file, JSON of
// this shape); the defaults are the UK's and the US's.
type Helplines struct {
	Order   []string              `json:"order"`
	Regions map[string][]Helpline `json:"regions"`
}

// Helpline is one place to turn to.
type Helpline struct {
	Name  string `json:"name"`
	What  string `json:"what"`            // one plain sentence: what they do for you
	Phone string `json:"phone,omitempty"` // as dialled in the region
	URL   string `json:"url,omitempty"`   // https only
}

// DefaultHelplines are the UK's (Childline; the IWF's Report Remove, run
// with Childline) and the US's (NCMEC's Take It Down and CyberTipline).
// Not 988: that is the US suicide and crisis line, not for this.
var DefaultHelplines = Helplines{
	Order: []string{"GB", "US"},
	Regions: map[string][]Helpline{
		"GB": {
			{Name: "Childline", What: "Talk to a counsellor, free and private, about anything, any time.", Phone: "0800 1111", URL: "https://www.childline.org.uk/"},
			{Name: "Report Remove (IWF and Childline)", What: "If you are under 18, they can help get a nude image of you taken off the internet.", URL: "https://www.childline.org.uk/info-advice/bullying-abuse-safety/online-mobile-safety/remove-nude-image-shared-online/"},
		},
		"US": {
			{Name: "Take It Down (NCMEC)", What: "Helps stop a nude or sexual image of you from when you were under 18 being shared online.", URL: "https://takeitdown.ncmec.org/"},
			{Name: "CyberTipline (NCMEC)", What: "Report someone who shared, or is threatening to share, sexual images of a child.", Phone: "1-800-843-5678", URL: "https://report.cybertip.org/"},
		},
	},
}

// Limits on a deployment's helplines, so a mistaken file cannot make the
// page unreadable.
const (
	maxRegions   = 300
	maxPerRegion = 10
	maxField     = 300
)

// ParseHelplines reads and checks a deployment's helplines.
func ParseHelplines(b []byte) (Helplines, error) {
	var h Helplines
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Helplines{}, fmt.Errorf("helplines: %v", err)
	}
	return h, h.Validate()
}

// Validate checks regions, sizes and that links are https.
func (h Helplines) Validate() error {
	if len(h.Regions) == 0 || len(h.Regions) > maxRegions {
		return fmt.Errorf("helplines: %d regions, want 1 to %d", len(h.Regions), maxRegions)
	}
	for _, r := range h.Order {
		if _, ok := h.Regions[r]; !ok {
			return fmt.Errorf("helplines: order names region %q, which has none", r)
		}
	}
	for r, ls := range h.Regions {
		if len(r) != 2 || strings.ToUpper(r) != r || strings.Trim(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return fmt.Errorf("helplines: region %q: want two capital letters (ISO 3166), e.g. GB", r)
		}
		if len(ls) == 0 || len(ls) > maxPerRegion {
			return fmt.Errorf("helplines: region %s: %d helplines, want 1 to %d", r, len(ls), maxPerRegion)
		}
		for _, l := range ls {
			if l.Name == "" || l.What == "" || (l.Phone == "" && l.URL == "") {
				return fmt.Errorf("helplines: region %s: each helpline needs a name, what it does, and a phone or a url", r)
			}
			for _, f := range []string{l.Name, l.What, l.Phone, l.URL} {
				if len(f) > maxField {
					return fmt.Errorf("helplines: region %s: %q: longer than %d bytes", r, f[:40], maxField)
				}
			}
			if l.URL != "" && !strings.HasPrefix(l.URL, "https://") {
				return fmt.Errorf("helplines: region %s: url %q: want https://", r, l.URL)
			}
		}
	}
	return nil
}
