package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// A text case shows the message with the phrases that fired marked, and
// its conversation as a thread, everything escaped.
func TestTextCase(t *testing.T) {
	w := newWorld(t)
	msg := "ok <b>dont tell</b> ur mum, add me on snap"
	at := func(s string) review.Highlight {
		i := strings.Index(msg, s)
		return review.Highlight{Start: i, End: i + len(s), Family: "secrecy", Label: "grooming"}
	}
	w.file(review.Report{Source: review.User, Reporter: "user-1", Category: review.Grooming, AccountID: "adult-7", Text: msg,
		TextSignal: &review.TextSignal{Surface: "dm", Author: "adult-7", Target: "kid-3", TargetAge: 13, ConversationID: "c-9",
			Score: 0.91, Conversation: 0.95, Labels: []string{"grooming"}, Highlights: []review.Highlight{at("dont tell"), at("snap")},
			Thread: []review.ThreadMessage{
				{MessageID: 1, Author: "adult-7", Text: "what school r u at", Score: 0.3},
				{MessageID: 2, Author: "kid-3", Text: "why", Score: 0},
				{MessageID: 3, Author: "adult-7", Text: msg, Score: 0.91, Flagged: true, Highlights: []review.Highlight{at("snap")}},
			}}})
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.caseOf("adult-7"))).body
	for _, want := range []string{
		`ok &lt;b&gt;<mark title="secrecy (grooming)">dont tell</mark>&lt;/b&gt; ur mum, add me on <mark title="secrecy (grooming)">snap</mark>`,
		`<ol class="thread">`, `<li class="flagged"><span class="author">adult-7</span>`, "what school r u at", "declared age 13",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>dont") {
		t.Error("the message's markup was not escaped")
	}
	if strings.Contains(page, "reported or quoted") {
		t.Error("a text the author wrote is shown as reported speech")
	}
}

// A text that reports or quotes someone else says so on its case, with
// the sender's declared age.
func TestTextCaseReported(t *testing.T) {
	w := newWorld(t)
	msg := `someone messaged my daughter "dont tell ur mum"`
	w.file(review.Report{Source: review.User, Reporter: "user-1", Category: review.Grooming, AccountID: "parent-2", Text: msg,
		TextSignal: &review.TextSignal{Surface: "dm", Author: "parent-2", AuthorAge: 41, Reported: true, Score: 0.2, Labels: []string{}}})
	b := w.browser()
	b.signIn(auth.Reviewer)
	page := b.get(fmt.Sprintf("/console/cases/%d", w.caseOf("parent-2"))).body
	for _, want := range []string{"reported or quoted", "declared age 41"} {
		if !strings.Contains(page, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
}
