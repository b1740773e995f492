package lereport

import (
	"context"
	"fmt"
	"time"
)

// Message is one message of a conversation a report concerns, as the
// platform sent it to Safeguard.
type Message struct {
	Time         time.Time `json:"time"`
	Conversation string    `json:"conversation"` // the platform's id for the conversation
	From         string    `json:"from"`         // account ids
	To           string    `json:"to"`
	Text         string    `json:"text"`
	// Flagged marks the messages a signal or a person flagged; the others
	// are the context around them.
	Flagged bool `json:"flagged,omitempty"`
}

// ConversationWindow is how far before and after the first and last
// flagged message a conversation is included: police ask for what led up
// to it and what followed.
const ConversationWindow = 24 * time.Hour

// MaxMessages bounds the messages one report carries.
const MaxMessages = 2000

// Conversations answers "the conversations around the flagged messages of
// these accounts": the platform's messages Safeguard holds (the text
// signal's POST /v1/text keeps them). A report made from a case includes
// them when a Conversations is configured and it has any: the document
// names each conversation (chatImIncident), the evidence package carries
// the messages (conversations.csv.enc), and a data-request export the
// same.
type Conversations interface {
	// Around returns the messages of the conversations the accounts took
	// part in that hold a flagged message, from ConversationWindow before
	// the first flagged one to ConversationWindow after the last, oldest
	// first, at most MaxMessages. None is not an error.
	Around(ctx context.Context, accountIDs []string) ([]Message, error)
}

// ChatIncidents summarises msgs as the document's internet details: one
// chatImIncident per conversation, naming it and quoting its flagged
// messages (the whole conversation goes in the package, not the XML).
func ChatIncidents(msgs []Message, client string) []InternetDetails {
	var out []InternetDetails
	at := map[string]int{}
	for _, m := range msgs {
		i, ok := at[m.Conversation]
		if !ok {
			i = len(out)
			at[m.Conversation] = i
			out = append(out, InternetDetails{ChatIM: &ChatIMIncident{ChatClient: client, ChatRoomName: m.Conversation}})
		}
		c := out[i].ChatIM
		if m.Flagged {
			if c.Content != "" {
				c.Content += "\n"
			}
			c.Content += m.Time.UTC().Format(time.RFC3339) + " " + m.From + " → " + m.To + ": " + m.Text
		}
	}
	for _, d := range out {
		n := 0
		for _, m := range msgs {
			if m.Conversation == d.ChatIM.ChatRoomName {
				n++
			}
		}
		d.ChatIM.AdditionalInfo = fmt.Sprintf("%d messages of this conversation, flagged and around them, are", n) + " in the evidence package (conversations.csv)"
	}
	return out
}

// Between keeps the messages of msgs in [from, to).
func Between(msgs []Message, from, to time.Time) []Message {
	var out []Message
	for _, m := range msgs {
		if !m.Time.Before(from) && m.Time.Before(to) {
			out = append(out, m)
		}
	}
	return out
}
