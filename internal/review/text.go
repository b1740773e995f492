package review

import (
	"fmt"
	"unicode/utf8"
)

// TextSignal is what a report raised by a text rule (POST /v1/text) carries:
// the message, the phrases that fired as byte spans into its text (so the
// console highlights them), and the conversation around it as a thread.
// Reviewers' decisions on such cases are the learning examples of
// `safeguard text train --db` (TextExample).
type TextSignal struct {
	MessageID      int64  `json:"message_id,omitempty"` // textmsg's id, for MessagesAround
	ConversationID string `json:"conversation_id,omitempty"`
	Surface        string `json:"surface"` // dm, comment, caption, bio
	Author         string `json:"author,omitempty"`
	Target         string `json:"target,omitempty"`
	TargetAge      int    `json:"target_age,omitempty"`
	AuthorAge      int    `json:"author_age,omitempty"` // the sender's declared age
	ChildContent   bool   `json:"child_content,omitempty"`
	// Reported says the text reports or quotes what someone else wrote
	// (a parent, a victim, the news: textrisk.Result.Reported), so a
	// reviewer reads its phrases as quoted, not as the author's.
	Reported     bool        `json:"reported,omitempty"`
	Score        float64     `json:"score"`              // the message's
	Conversation float64     `json:"conversation_score"` // its conversation's, 0 without one
	Labels       []string    `json:"labels"`
	Highlights   []Highlight `json:"highlights"`
	// Thread is the conversation up to and including the message, oldest
	// first, at most MaxThread messages; each with its own highlights.
	Thread []ThreadMessage `json:"thread,omitempty"`
	// Evidence is the evidence item holding the whole conversation as it
	// was when the rule fired (encrypted); empty when none was kept.
	Evidence      string `json:"evidence,omitempty"`
	EvidenceError string `json:"evidence_error,omitempty"`
	Model         string `json:"model,omitempty"` // the learned model's id, if one scored it
}

// Highlight is one phrase that fired: bytes [Start, End) of the text.
type Highlight struct {
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Family string `json:"family"`
	Label  string `json:"label"`
}

// ThreadMessage is one message of a case's conversation.
type ThreadMessage struct {
	MessageID  int64       `json:"message_id"`
	Author     string      `json:"author,omitempty"`
	Text       string      `json:"text"`
	Score      float64     `json:"score"`
	Flagged    bool        `json:"flagged"`
	Highlights []Highlight `json:"highlights,omitempty"`
}

// Bounds on a text signal, so a case document stays small.
const (
	MaxThread     = 20
	MaxThreadText = 32 << 10 // bytes of all a thread's texts together
	MaxHighlights = 64
)

func (t *TextSignal) problems(text string, bad func(string, ...any)) {
	if t == nil {
		return
	}
	if len(t.Thread) > MaxThread {
		bad("text_signal: %d thread messages, more than %d", len(t.Thread), MaxThread)
	}
	n := 0
	for i, m := range t.Thread {
		n += len(m.Text)
		if !utf8.ValidString(m.Text) {
			bad("text_signal: thread message %d is not UTF-8", i+1)
		}
		spans(fmt.Sprintf("thread message %d", i+1), m.Text, m.Highlights, bad)
	}
	if n > MaxThreadText {
		bad("text_signal: thread texts are %d bytes, more than %d", n, MaxThreadText)
	}
	spans("highlights", text, t.Highlights, bad)
	for _, s := range []struct{ name, v string }{{"conversation_id", t.ConversationID}, {"author", t.Author}, {"target", t.Target}, {"surface", t.Surface}} {
		if err := checkID(s.v); err != nil {
			bad("text_signal: %s %v", s.name, err)
		}
	}
}

func spans(what, text string, hs []Highlight, bad func(string, ...any)) {
	if len(hs) > MaxHighlights {
		bad("text_signal: %s: %d highlights, more than %d", what, len(hs), MaxHighlights)
		return
	}
	for _, h := range hs {
		if h.Start < 0 || h.End < h.Start || h.End > len(text) {
			bad("text_signal: %s: span %d-%d outside the text's %d bytes", what, h.Start, h.End, len(text))
			return
		}
	}
}

// TextExample is a reviewed text report as a learning example: the text,
// its context, and whether the reviewer confirmed it. ok is false for a
// report that is not a text report or not decided.
func (r Report) TextExample() (ex TextExample, ok bool) {
	if r.TextSignal == nil || (r.Status != Actioned && r.Status != NoAction) {
		return TextExample{}, false
	}
	t := r.TextSignal
	return TextExample{Text: r.Text, Surface: t.Surface, ChildContent: t.ChildContent, TargetAge: t.TargetAge,
		AuthorAge: t.AuthorAge, Labels: t.Labels, Confirmed: r.Status == Actioned}, true
}

// TextExample is one reviewer decision on a message.
type TextExample struct {
	Text         string
	Surface      string
	ChildContent bool
	TargetAge    int
	AuthorAge    int
	Labels       []string // the text signal's, as it was scored
	Confirmed    bool
}
