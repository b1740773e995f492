package ncmec

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/exchange"
)

// Namespace is the XML namespace of every document the API sends and takes.
const Namespace = "https://hashsharing.ncmec.org/hashsharing/v2"

// timeFormat is how the API writes and reads times: UTC to the second.
const timeFormat = "2006-01-02T15:04:05Z"

type member struct {
	ID   string `xml:"id,attr"`
	Name string `xml:",chardata"`
}

type statusDoc struct {
	XMLName xml.Name `xml:"status"`
	Member  member   `xml:"member"`
}

type queryResult struct {
	XMLName xml.Name  `xml:"queryResult"`
	Images  entryList `xml:"images"`
	Videos  entryList `xml:"videos"`
	Next    string    `xml:"paging>next"`
}

type entryList struct {
	Items []item `xml:",any"`
}

type item struct {
	XMLName        xml.Name
	Member         member `xml:"member"`
	ID             string `xml:"id"`
	Classification string `xml:"classification"`
	Fingerprints   struct {
		Values []value `xml:",any"`
	} `xml:"fingerprints"`
}

type value struct {
	XMLName xml.Name
	Text    string `xml:",chardata"`
}

// page is a parsed page of entries.
type page struct {
	exchange.Page
	Next string // the link to the next page, relative to the base; "" at the end
}

// parseEntries reads a page of GET /v2/entries. An unreadable document is an
// error; an unreadable entry in it is skipped and noted on the page.
func parseEntries(body []byte) (page, error) {
	var q queryResult
	if err := decode(body, &q); err != nil {
		return page{}, err
	}
	var p page
	for _, list := range []struct {
		kind  string
		items []item
	}{{"image", q.Images.Items}, {"video", q.Videos.Items}} {
		for _, it := range list.items {
			rec, err := it.record(list.kind)
			if err != nil {
				p.Skip("%s", err)
				continue
			}
			p.Records = append(p.Records, rec)
		}
	}
	p.Next = strings.TrimSpace(q.Next)
	return p, nil
}

// decode reads a document of the API's namespace into v, refusing others:
// a login page or a proxy's error page must not read as an empty result.
func decode(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("not a hash sharing document: %v", err)
	}
	var name xml.Name
	switch v := v.(type) {
	case *queryResult:
		name = v.XMLName
	case *statusDoc:
		name = v.XMLName
	case *reasonsDoc:
		name = v.XMLName
	}
	if name.Space != Namespace {
		return fmt.Errorf("not a hash sharing document: <%s> in namespace %q, want %q", name.Local, exchange.Clip(name.Space), Namespace)
	}
	return nil
}

// record turns an <image>, <video>, <deletedImage> or <deletedVideo> into a
// record whose ID is "{member}-{id}": entry ids are the submitting member's,
// so only the pair is unique, and feedback needs both (see SplitID).
func (it item) record(kind string) (exchange.Record, error) {
	tag := it.XMLName.Local
	deleted := false
	switch tag {
	case kind:
	case "deleted" + strings.ToUpper(kind[:1]) + kind[1:]:
		deleted = true
	default:
		return exchange.Record{}, fmt.Errorf("<%s> among %ss: not an entry", exchange.Clip(tag), kind)
	}
	id, esp := strings.TrimSpace(it.ID), strings.TrimSpace(it.Member.ID)
	if id == "" {
		return exchange.Record{}, fmt.Errorf("<%s> without an <id>", tag)
	}
	if !isDigits(esp) {
		return exchange.Record{}, fmt.Errorf("<%s> %q: member id %q is not a number", tag, exchange.Clip(id), exchange.Clip(esp))
	}
	rec := exchange.Record{ID: esp + "-" + id, Deleted: deleted}
	if deleted {
		return rec, nil
	}
	rec.Classification = strings.TrimSpace(it.Classification)
	rec.Note = fmt.Sprintf("%s from NCMEC member %s (%s)", kind, esp, strings.TrimSpace(it.Member.Name))
	for _, f := range it.Fingerprints.Values {
		if v := strings.TrimSpace(f.Text); v != "" {
			rec.Fingerprints = append(rec.Fingerprints, exchange.Fingerprint{Kind: kindOf(f.XMLName.Local), Value: v})
		}
	}
	return rec, nil
}

// kindOf maps a <fingerprints> child to a fingerprint kind. Kinds the
// package does not know are carried under "ncmec:" and their tag.
func kindOf(tag string) exchange.Kind {
	switch strings.ToLower(tag) {
	case "md5":
		return exchange.MD5
	case "sha1":
		return exchange.SHA1
	case "pdna":
		return exchange.PhotoDNA
	case "pdq":
		return exchange.PDQ
	case "tmk", "tmk_pdqf":
		return exchange.TMK
	}
	return exchange.Kind("ncmec:" + strings.ToLower(tag))
}

func isDigits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }
