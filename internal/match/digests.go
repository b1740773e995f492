package match

import (
	"slices"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

// digests is the index of MD5 and SHA-256 entries: signal ":" raw digest
// bytes -> packed ids. It counts its ids as they change, so that Stats,
// read on every metrics scrape under the matcher's lock, need not walk ten
// million keys.
type digests struct {
	ids map[string][]uint64
	n   int // the sum of len(ids[k]) over every key
}

func newDigests() *digests { return &digests{ids: map[string][]uint64{}} }

// apply applies a change of an MD5 or SHA-256 entry.
func (d *digests) apply(c bank.Change, id uint64) error {
	key, err := exactKey(c.Entry.Signal, c.Entry.Value)
	if err != nil {
		return err
	}
	old := d.ids[key]
	before := len(old)
	ids := slices.DeleteFunc(old, func(x uint64) bool { return x == id })
	if !c.Removed {
		ids = append(ids, id)
	}
	d.n += len(ids) - before
	if len(ids) == 0 {
		delete(d.ids, key)
	} else {
		d.ids[key] = ids
	}
	return nil
}
