package api

import (
	"net/http"
	"strconv"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

var errNoText = errorf(http.StatusServiceUnavailable, CodeUnavailable, "text signals are not enabled on this server")

// textRequest is one message or comment as a platform sends it.
type textRequest struct {
	Text           string `json:"text"`
	Surface        string `json:"surface"` // dm, comment, caption, bio
	Author         string `json:"author,omitempty"`
	Target         string `json:"target,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	ContentID      string `json:"content_id,omitempty"`
	ChildContent   bool   `json:"child_content,omitempty"`
	TargetAge      int    `json:"target_age,omitempty"`
	AuthorAge      int    `json:"author_age,omitempty"`
	ExternalID     string `json:"external_id,omitempty"`
}

func (t textRequest) message() textmsg.Message {
	return textmsg.Message{Text: t.Text, Surface: textrisk.Surface(t.Surface), Author: t.Author, Target: t.Target,
		ConversationID: t.ConversationID, ContentID: t.ContentID, ChildContent: t.ChildContent, TargetAge: t.TargetAge,
		AuthorAge: t.AuthorAge, ExternalID: t.ExternalID}
}

// scoreText handles POST /v1/text: one message, scored with its
// conversation, acted on by the text rules.
func (a *API) scoreText(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	if a.cfg.Text == nil {
		return errNoText
	}
	var in textRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	out, err := a.cfg.Text.Score(r.Context(), []textmsg.Message{in.message()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out[0])
	return nil
}

// scoreTexts handles POST /v1/text/batch: {"messages": [...]}, scored in
// order; none is scored if any is invalid.
func (a *API) scoreTexts(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	if a.cfg.Text == nil {
		return errNoText
	}
	var in struct {
		Messages []textRequest `json:"messages"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if len(in.Messages) == 0 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "no messages: want {\"messages\": [...]}")
	}
	ms := make([]textmsg.Message, len(in.Messages))
	for i, t := range in.Messages {
		ms[i] = t.message()
	}
	out, err := a.cfg.Text.Score(r.Context(), ms)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// messagesAround handles GET /v1/text/messages/{id}/around?before=N&after=N:
// the chat log around a kept message (textmsg.Store.MessagesAround).
func (a *API) messagesAround(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	if a.cfg.Text == nil || a.cfg.TextMessages == nil {
		return errNoText
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "message id %q is not a positive integer", r.PathValue("id"))
	}
	q := request.Parsed(r)
	ms, err := a.cfg.TextMessages.MessagesAround(r.Context(), id, int(q.Number("before")), int(q.Number("after")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms})
	return nil
}
