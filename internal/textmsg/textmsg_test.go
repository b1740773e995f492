package textmsg

import (
	"errors"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

func TestValidate(t *testing.T) {
	ok := Message{Text: "hi there", Surface: textrisk.DM, ConversationID: "c-1", Author: "a", Target: "b", TargetAge: 13}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Message)
		want string
	}{
		{"surface", func(m *Message) { m.Surface = "sms" }, `unknown surface "sms"`},
		{"no surface", func(m *Message) { m.Surface = "" }, "unknown surface"},
		{"empty", func(m *Message) { m.Text = "" }, "text is empty"},
		{"too long", func(m *Message) { m.Text = strings.Repeat("a", MaxText+1) }, "text is 8193 bytes"},
		{"NUL", func(m *Message) { m.Text = "a\x00b" }, "text holds a control character"},
		{"bad UTF-8", func(m *Message) { m.Text = "a\xffb" }, "text is not valid UTF-8"},
		{"age", func(m *Message) { m.TargetAge = -1 }, "target_age -1"},
		{"old", func(m *Message) { m.TargetAge = 200 }, "target_age 200"},
		{"conversation id", func(m *Message) { m.ConversationID = "c\n1" }, "conversation_id holds a control character"},
		{"author", func(m *Message) { m.Author = strings.Repeat("x", 300) }, "author is 300 bytes"},
	} {
		m := ok
		tc.edit(&m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, derrors.Invalid) {
			t.Errorf("%s: %v, want an Invalid error saying %q", tc.name, err, tc.want)
		}
	}
	// A newline or tab in a message is text, not an attack.
	m := ok
	m.Text = "line one\nline\ttwo"
	if err := m.Validate(); err != nil {
		t.Errorf("multi-line message: %v", err)
	}
}
