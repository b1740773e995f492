// Package limits holds the bounds on what clients may send as text, and the
// checks every string from outside passes before it reaches a store: both
// backends then refuse the same inputs the same way (PostgreSQL would
// refuse NUL and invalid UTF-8 itself, with a 500), and no accepted input
// can make an audit entry too big to record.
package limits

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

// Bounds, in bytes.
const (
	ID          = 256      // ids and names a platform or admin chooses: content, account, bank, webhook, agency
	Description = 4 << 10  // a bank's or rule's description, a reason, a note
	URL         = 2 << 10  // a webhook's URL
	Text        = 64 << 10 // a report's text, a message
)

// Line checks a one-line value (an id, a name): valid UTF-8, no control
// characters, at most max bytes. The error names the field.
func Line(field, s string, max int) error {
	if err := size(field, s, max); err != nil {
		return err
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return invalid("%s holds a control character (%U) at byte %d", field, []rune(s[i:])[0], i+1)
	}
	return nil
}

// Prose checks free text (a description, a report's text): valid UTF-8, at
// most max bytes, and no control characters but newline, carriage return
// and tab.
func Prose(field, s string, max int) error {
	if err := size(field, s, max); err != nil {
		return err
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }); i >= 0 {
		return invalid("%s holds a control character (%U) at byte %d", field, []rune(s[i:])[0], i+1)
	}
	return nil
}

func size(field, s string, max int) error {
	if len(s) > max {
		return invalid("%s is %d bytes, more than the %d allowed", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	return nil
}

func invalid(format string, a ...any) error {
	return derrors.Wrap(fmt.Errorf(format, a...), derrors.Invalid)
}
