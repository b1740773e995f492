package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// Content a scan kept but the evidence store does not have (deleted, or
// kept by a server whose evidence store this one does not share) is said
// to be missing in words, not shown as an image that fails to a dark box.
func TestMissingEvidence(t *testing.T) {
	w := newWorld(t)
	id := w.ruleCaseOf("post-gone", "0123456789abcdef0123456789abcdef")
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", id))
	if page.status != http.StatusOK {
		t.Fatalf("case page: %d", page.status)
	}
	if !strings.Contains(page.body, "Content not available") || !strings.Contains(page.body, "has no such item") {
		t.Fatalf("the case page does not say the content is missing:\n%s", page.body)
	}
	if strings.Contains(page.body, `class="preview"`) {
		t.Fatal("the case page shows a preview of an item that is not there")
	}
	// The item that is there is still shown.
	if page := b.get(fmt.Sprintf("/console/cases/%d", w.top)); !strings.Contains(page.body, `class="preview"`) || strings.Contains(page.body, "Content not available") {
		t.Fatalf("the case whose content is kept:\n%s", page.body)
	}
}
