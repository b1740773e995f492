package derrors_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/derrors"
)

func TestKindsAndCodes(t *testing.T) {
	errGone := derrors.New(derrors.NotFound, "no such item")
	errSecond := derrors.New(derrors.Conflict, "needs a second reviewer").WithCode("second_reviewer")
	for _, c := range []struct {
		err  error
		kind error
		code string
		msg  string
	}{
		{fmt.Errorf("item 7: %w", errGone), derrors.NotFound, "", "item 7: no such item"},
		{fmt.Errorf("case 3: %w", errSecond), derrors.Conflict, "second_reviewer", "case 3: needs a second reviewer"},
		{derrors.Wrap(errors.New("line 4: bad hex"), derrors.Invalid), derrors.Invalid, "", "line 4: bad hex"},
		{errors.New("disk on fire"), nil, "", "disk on fire"},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", errSecond)), derrors.Conflict, "second_reviewer", "a\nb: needs a second reviewer"},
	} {
		if got := derrors.Kind(c.err); got != c.kind {
			t.Errorf("%q: kind %v, want %v", c.err, got, c.kind)
		}
		if got := derrors.Code(c.err); got != c.code {
			t.Errorf("%q: code %q, want %q", c.err, got, c.code)
		}
		if c.err.Error() != c.msg {
			t.Errorf("message %q, want %q", c.err, c.msg)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", errGone), errGone) {
		t.Error("the sentinel itself is not found in its chain")
	}
	if errors.Is(errGone, derrors.Exists) {
		t.Error("a not-found error is also 'exists'")
	}
}
