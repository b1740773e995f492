package textmsg

import (
	"context"
	"slices"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

// ChatSource is the conversations a law-enforcement report or a data
// request's export carries (lereport.Conversations), read from the kept
// messages: each conversation holding a flagged message the accounts sent
// or were sent, from lereport.ConversationWindow before its first flagged
// message to as long after its last.
type ChatSource struct{ Store Store }

var _ lereport.Conversations = ChatSource{}

// maxChats bounds the conversations one report carries.
const maxChats = 50

// Around implements lereport.Conversations.
func (c ChatSource) Around(ctx context.Context, accounts []string) ([]lereport.Message, error) {
	convs, err := c.Store.FlaggedConversations(ctx, accounts, maxChats)
	if err != nil {
		return nil, err
	}
	var out []lereport.Message
	for _, id := range convs {
		ms, err := c.Store.Conversation(ctx, id, lereport.MaxMessages)
		if err != nil {
			return nil, err
		}
		out = append(out, window(ms)...)
	}
	slices.SortStableFunc(out, func(a, b lereport.Message) int { return a.Time.Compare(b.Time) })
	if len(out) > lereport.MaxMessages {
		out = out[:lereport.MaxMessages]
	}
	return out, nil
}

// window is ms (one conversation, oldest first) from ConversationWindow
// before its first flagged message to ConversationWindow after its last.
func window(ms []Message) []lereport.Message {
	first, last := -1, -1
	for i, m := range ms {
		if m.Flagged {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	from := ms[first].ReceivedAt.Add(-lereport.ConversationWindow)
	to := ms[last].ReceivedAt.Add(lereport.ConversationWindow)
	var out []lereport.Message
	for _, m := range ms {
		if m.ReceivedAt.Before(from) || m.ReceivedAt.After(to) {
			continue
		}
		out = append(out, lereport.Message{Time: m.ReceivedAt, Conversation: m.ConversationID,
			From: m.Author, To: m.Target, Text: m.Text, Flagged: m.Flagged})
	}
	return out
}
