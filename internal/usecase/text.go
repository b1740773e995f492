package usecase

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// TextEvent is the webhook event a text rule's notify action sends.
const TextEvent = "text.decision"

// Text scores messages and comments (POST /v1/text): each with the rest of
// its conversation, kept (textmsg.Store, bounded) and acted on by the text
// rules. The message, its audit entry and its webhook deliveries are
// written in one transaction; then, as for a scan, the evidence is kept and
// the case filed (Review.File, its own transaction).
type Text struct {
	Tx       Tx // its stores: Text, Rules, Audit, Webhooks
	Log      *audit.Log
	Scorer   *textrisk.Scorer
	Review   *Review         // files the cases of enqueue and report; nil files none
	Evidence *evidence.Store // keeps flagged conversations; nil keeps none (said in the answer)
	Keep     int             // messages kept per conversation; textmsg.Keep when 0
	Now      func() time.Time
	Wake     func() // the dispatcher's, after deliveries are queued
	Logger   *slog.Logger
}

// Scored is the answer for one message.
type Scored struct {
	MessageID    int64                        `json:"message_id,omitempty"` // 0 when nothing was kept
	Score        float64                      `json:"score"`
	Flagged      bool                         `json:"flagged"`
	Labels       []string                     `json:"labels"`
	Reasons      []textrisk.Reason            `json:"reasons"`
	Model        *textrisk.ModelPart          `json:"model,omitempty"`
	Conversation *textrisk.ConversationResult `json:"conversation,omitempty"`
	Blocked      bool                         `json:"blocked"` // a rule asks the platform to restrict it
	Actions      []rules.Decided              `json:"actions"`
	CaseID       int64                        `json:"case_id,omitempty"`
	Evidence     string                       `json:"evidence,omitempty"`
	// EvidenceError says why a conversation that should have been kept
	// was not.
	EvidenceError string `json:"evidence_error,omitempty"`
}

// Score scores ms in order (messages of one conversation in a batch see
// the earlier ones). Every message is validated before any is scored, so a
// batch with a bad message changes nothing.
func (u *Text) Score(ctx context.Context, ms []textmsg.Message) ([]Scored, error) {
	if len(ms) > textmsg.MaxBatch {
		return nil, fmt.Errorf("%w: %d messages, more than %d in one request", textmsg.ErrInvalid, len(ms), textmsg.MaxBatch)
	}
	for i, m := range ms {
		if err := m.Validate(); err != nil {
			if len(ms) > 1 {
				return nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			return nil, err
		}
	}
	out := make([]Scored, 0, len(ms))
	for _, m := range ms {
		s, err := u.one(ctx, m)
		if err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (u *Text) one(ctx context.Context, m textmsg.Message) (Scored, error) {
	m.ReceivedAt = u.now()
	keep := u.Keep
	if keep <= 0 {
		keep = textmsg.Keep
	}
	var (
		s      Scored
		thread []textmsg.Message
		queued bool
	)
	err := u.Tx(ctx, func(tx Stores) error {
		var prior []textmsg.Message
		if m.ConversationID != "" {
			var err error
			if prior, err = tx.Text.Conversation(ctx, m.ConversationID, min(keep, textmsg.Window)-1); err != nil {
				return err
			}
		}
		r, cr := u.score(prior, m)
		m.Score, m.Flagged, m.Labels, m.Reasons = r.Score, r.Flagged, r.Labels, r.Reasons
		s = Scored{Score: r.Score, Flagged: r.Flagged, Labels: r.Labels, Reasons: r.Reasons, Model: r.Model, Conversation: cr}
		if m.ConversationID != "" || m.Flagged {
			stored, err := tx.Text.AddMessage(ctx, m, keep)
			if err != nil {
				return err
			}
			m = stored
			s.MessageID = m.ID
		}
		thread = append(prior, m)

		rs, err := tx.Rules.ListRules(ctx)
		if err != nil {
			return fmt.Errorf("reading rules: %w", err)
		}
		d := rules.DecideText(rs, rules.Content{Surface: ruleSurface(m.Surface)}, signalOf(r, cr))
		s.Actions, s.Blocked = d.Actions, d.Has(rules.Block)
		if len(d.Fired) == 0 {
			return nil
		}
		if queued, err = u.notify(ctx, tx, m, s, d); err != nil {
			return err
		}
		return record(ctx, u.Log.In(tx.Audit), audit.System, audit.TextDecision, subject(m), map[string]any{
			"message_id": m.ID, "conversation_id": m.ConversationID, "score": s.Score, "labels": s.Labels,
			"fired": d.Fired, "actions": kinds(d),
		})
	})
	if err != nil {
		return Scored{}, fmt.Errorf("scoring a message: %w", err)
	}
	if queued && u.Wake != nil {
		u.Wake()
	}
	if !slices.ContainsFunc(s.Actions, func(a rules.Decided) bool {
		return a.Kind == rules.Enqueue || a.Kind == rules.Report || a.Kind == rules.Quarantine
	}) {
		return s, nil
	}
	u.keep(ctx, &s, thread)
	return s, u.file(ctx, &s, thread)
}

// score scores m after the messages before it in its conversation.
func (u *Text) score(prior []textmsg.Message, m textmsg.Message) (textrisk.Result, *textrisk.ConversationResult) {
	if m.ConversationID == "" {
		return u.Scorer.Score(m.Input()), nil
	}
	c := u.Scorer.NewConversation()
	for _, p := range prior {
		c.Add(textrisk.Turn{Author: p.Author, Message: p.Input()})
	}
	r := c.Add(textrisk.Turn{Author: m.Author, Message: m.Input()})
	cr := c.Result()
	return r, &cr
}

// signalOf is what rules see: the higher of the message's and its
// conversation's scores, and the labels of whichever is flagged.
func signalOf(r textrisk.Result, cr *textrisk.ConversationResult) rules.Text {
	t := rules.Text{Score: r.Score, Labels: slices.Clone(r.Labels)}
	if cr != nil {
		t.Score = max(t.Score, cr.Score)
		for _, l := range cr.Labels {
			if cr.Flagged && !slices.Contains(t.Labels, l) {
				t.Labels = append(t.Labels, l)
			}
		}
	}
	return t
}

// ruleSurface maps the text signal's surfaces to the rules'.
func ruleSurface(s textrisk.Surface) rules.Surface {
	switch s {
	case textrisk.Comment:
		return rules.Comment
	case textrisk.Caption:
		return rules.Post
	case textrisk.Bio:
		return rules.Profile
	}
	return rules.DirectMessage
}

func subject(m textmsg.Message) string {
	if m.ID != 0 {
		return "message:" + strconv.FormatInt(m.ID, 10)
	}
	return "conversation:" + m.ConversationID
}

func kinds(d rules.Decision) []rules.ActionKind {
	ks := make([]rules.ActionKind, 0, len(d.Actions))
	for _, a := range d.Actions {
		ks = append(ks, a.Kind)
	}
	return ks
}

// notify queues the notify actions' deliveries: the answer without the
// reasons' phrases (the receiver gets the score and what fired, not the
// text).
func (u *Text) notify(ctx context.Context, tx Stores, m textmsg.Message, s Scored, d rules.Decision) (bool, error) {
	var ds []webhook.Delivery
	for _, a := range d.Actions {
		if a.Kind != rules.Notify {
			continue
		}
		dl, err := webhook.NewDelivery(a.Webhook, TextEvent, map[string]any{
			"message_id": m.ID, "conversation_id": m.ConversationID, "author": m.Author, "target": m.Target,
			"content_id": m.ContentID, "surface": m.Surface, "score": s.Score, "flagged": s.Flagged,
			"labels": s.Labels, "rule": a.Rule, "blocked": s.Blocked,
		}, m.ReceivedAt)
		if err != nil {
			return false, err
		}
		ds = append(ds, dl)
	}
	if len(ds) == 0 {
		return false, nil
	}
	return true, tx.Webhooks.EnqueueDeliveries(ctx, ds...)
}

// keep preserves the conversation as a chat log in the evidence store. A
// failure does not stop the decision (the case is still filed) but is
// answered and put on the case, so nobody believes the log exists.
func (u *Text) keep(ctx context.Context, s *Scored, thread []textmsg.Message) {
	m := thread[len(thread)-1]
	if u.Evidence == nil {
		s.EvidenceError = "no evidence store configured (set SAFEGUARD_EVIDENCE_KEYS)"
		return
	}
	// The log holds every kept message, not only the scoring window.
	log := thread
	var err error
	if m.ConversationID != "" {
		err = u.Tx(ctx, func(tx Stores) error {
			all, err := tx.Text.MessagesAround(ctx, m.ID, textmsg.Keep, 0)
			if err == nil {
				log = all
			}
			return err
		})
	}
	var data []byte
	if err == nil {
		data, err = json.Marshal(textmsg.ChatLog{Format: textmsg.ChatLogFormat, ConversationID: m.ConversationID, Flagged: m.ID, Messages: log})
	}
	if err == nil {
		var item evidence.Item
		a := s.Actions[0]
		item, err = u.Evidence.Put(data, evidence.Meta{
			ContentType: textmsg.ChatLogType, ContentID: m.ContentID, AccountID: m.Author, Source: subject(m),
			Reason: fmt.Sprintf("%s by rule %d v%d %q", a.Kind, a.Rule.ID, a.Rule.Version, a.Rule.Name),
		})
		if err == nil {
			s.Evidence = item.ID
			err = record(ctx, u.Log, audit.System, audit.EvidencePut, item.ID,
				map[string]any{"sha256": item.SHA256.String(), "message_id": m.ID, "conversation_id": m.ConversationID})
		}
	}
	if err != nil {
		s.EvidenceError = err.Error()
		u.logger().Error("text: conversation not kept", "message", m.ID, "err", err)
	}
}

func (u *Text) logger() *slog.Logger {
	if u.Logger != nil {
		return u.Logger
	}
	return slog.Default()
}

// file opens (or joins) the case of an enqueue or report action: a report
// without an enqueue still needs a reviewer, at the highest priority,
// since only a reviewer sends a law-enforcement report.
func (u *Text) file(ctx context.Context, s *Scored, thread []textmsg.Message) error {
	if u.Review == nil {
		return nil
	}
	var why *rules.Decided
	for i, a := range s.Actions {
		switch {
		case a.Kind == rules.Enqueue:
			why = &s.Actions[i]
		case a.Kind == rules.Report && why == nil:
			r := a
			r.Priority = rules.MaxPriority
			why = &r
		}
	}
	if why == nil {
		return nil
	}
	m := thread[len(thread)-1]
	rep := review.Report{
		Source: review.Rule, Reporter: "rule:" + strconv.FormatInt(why.Rule.ID, 10), Category: category(s.Labels),
		Text: m.Text, ContentID: m.ContentID, AccountID: m.Author, Rule: &why.Rule, Priority: why.Priority,
		MinorSuspected: m.ChildContent || (m.TargetAge > 0 && m.TargetAge < 18),
		TextSignal: &review.TextSignal{
			MessageID: m.ID, ConversationID: m.ConversationID, Surface: string(m.Surface), Author: m.Author, Target: m.Target,
			TargetAge: m.TargetAge, ChildContent: m.ChildContent, Score: s.Score, Labels: s.Labels,
			Highlights: highlights(m.Reasons), Thread: threadOf(thread), Evidence: s.Evidence, EvidenceError: s.EvidenceError,
		},
	}
	if s.Conversation != nil {
		rep.TextSignal.Conversation = s.Conversation.Score
	}
	if s.Model != nil {
		rep.TextSignal.Model = s.Model.ID
	}
	if rep.ContentID == "" && rep.AccountID == "" {
		rep.ContentID = subject(m)
	}
	filed, err := u.Review.File(ctx, audit.System, rep)
	if err != nil {
		return fmt.Errorf("%s: filing rule %d's report: %w", subject(m), why.Rule.ID, err)
	}
	s.CaseID = filed.CaseID
	return nil
}

// category is the review category of a text signal's labels, the first
// listed (the strongest).
func category(labels []string) review.Category {
	for _, l := range labels {
		switch l {
		case "grooming":
			return review.Grooming
		case "sextortion":
			return review.Sextortion
		case "sexual_comment":
			return review.SexualisedChild
		}
	}
	return review.Other
}

func highlights(rs []textrisk.Reason) []review.Highlight {
	var hs []review.Highlight
	for _, r := range rs {
		for _, sp := range r.Spans {
			if len(hs) < review.MaxHighlights {
				hs = append(hs, review.Highlight{Start: sp.Start, End: sp.End, Family: r.Family, Label: r.Label})
			}
		}
	}
	return hs
}

// threadOf is the tail of a conversation that fits a case: at most
// review.MaxThread messages and review.MaxThreadText bytes.
func threadOf(ms []textmsg.Message) []review.ThreadMessage {
	var out []review.ThreadMessage
	n := 0
	for i := len(ms) - 1; i >= 0 && len(out) < review.MaxThread; i-- {
		m := ms[i]
		if n += len(m.Text); n > review.MaxThreadText {
			break
		}
		out = append(out, review.ThreadMessage{MessageID: m.ID, Author: m.Author, Text: m.Text, Score: m.Score,
			Flagged: m.Flagged, Highlights: highlights(m.Reasons)})
	}
	slices.Reverse(out)
	return out
}

func (u *Text) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}
