package usecase

import (
	"context"
	"encoding/json"
	"errors"
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
// rules. The message, its conversation's scoring state, its audit entry and
// its webhook deliveries are written in one transaction; then, as for a
// scan, the evidence is kept and the case filed (Review.File, its own
// transaction).
//
// A conversation is scored from its state (textmsg.State): the evidence
// the scorer accumulated over every earlier message, kept or trimmed, so a
// message costs one scoring however long the conversation, and stages
// hundreds of messages apart still combine. The state is read under the
// conversation's lock (ConversationState), so two messages of one
// conversation, on one server or two, are scored one after the other.
type Text struct {
	Tx       Tx // its stores: Text, Rules, Audit, Webhooks
	Log      *audit.Log
	Scorer   *textrisk.Scorer
	Review   *Review         // files the cases of enqueue and report (over Tx's database); nil files none
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
	Reported     bool                         `json:"reported,omitempty"` // reports or quotes someone else (textrisk.Result.Reported)
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
	if m.ExternalID != "" {
		s, kept, filed, again, err := u.again(ctx, m)
		if err != nil {
			return Scored{}, fmt.Errorf("scoring message %q again: %w", m.ExternalID, err)
		}
		if again {
			return s, u.act(ctx, &s, kept, filed)
		}
	}
	m.ReceivedAt = u.now()
	keep := u.keepN()
	var (
		s      Scored
		queued bool
	)
	err := u.Tx(ctx, func(tx Stores) error {
		var c *textrisk.Conversation
		if m.ConversationID != "" {
			var err error
			if c, err = u.conversation(ctx, tx.Text, m.ConversationID, keep); err != nil {
				return err
			}
		}
		r, cr := u.score(c, m)
		m.Score, m.Flagged, m.Labels, m.Reasons = r.Score, r.Flagged, r.Labels, r.Reasons
		s = Scored{Score: r.Score, Flagged: r.Flagged, Reported: r.Reported, Labels: r.Labels, Reasons: r.Reasons, Model: r.Model, Conversation: cr}
		d, err := u.decide(ctx, tx, m, r, cr)
		if err != nil {
			return err
		}
		s.Actions, s.Blocked = d.Actions, d.Has(rules.Block)
		// A message that may be filed is kept even alone, so that a retry
		// (by its external_id) finds it rather than filing it twice.
		if m.ConversationID != "" || m.Flagged || files(s.Actions) {
			stored, err := tx.Text.AddMessage(ctx, m, keep)
			if err != nil {
				return err
			}
			m = stored
			s.MessageID = m.ID
		}
		if c != nil {
			data, err := c.State()
			if err != nil {
				return fmt.Errorf("conversation %q: encoding its state: %w", m.ConversationID, err)
			}
			if err := tx.Text.SetConversationState(ctx, m.ConversationID, textmsg.State{LastID: m.ID, Data: data}); err != nil {
				return err
			}
		}
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
	return s, u.act(ctx, &s, m, textmsg.Filed{})
}

// conversation is conversation id's scoring before its next message:
// resumed from its state when that includes the newest kept message and
// was written by this scorer, else (a conversation kept before states
// were, another scorer version, a state an older server did not update)
// rebuilt from the kept messages. It takes the conversation's lock.
func (u *Text) conversation(ctx context.Context, ts textmsg.Store, id string, keep int) (*textrisk.Conversation, error) {
	st, ok, err := ts.ConversationState(ctx, id)
	if err != nil {
		return nil, err
	}
	newest, err := ts.Conversation(ctx, id, 1)
	if err != nil {
		return nil, err
	}
	if len(newest) == 0 {
		return u.Scorer.NewConversation(), nil
	}
	if ok && newest[0].ID == st.LastID {
		c, err := u.Scorer.Resume(st.Data)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, textrisk.ErrStateVersion) {
			u.logger().Warn("text: conversation state unreadable, rebuilt from the kept messages", "conversation", id, "err", err)
		}
	}
	prior, err := ts.Conversation(ctx, id, keep-1)
	if err != nil {
		return nil, err
	}
	return u.rebuild(prior), nil
}

// rebuild is the conversation of prior scored from the first.
func (u *Text) rebuild(prior []textmsg.Message) *textrisk.Conversation {
	c := u.Scorer.NewConversation()
	for _, p := range prior {
		c.Add(textrisk.Turn{Author: p.Author, Message: p.Input()})
	}
	return c
}

func (u *Text) keepN() int {
	if u.Keep <= 0 {
		return textmsg.Keep
	}
	return u.Keep
}

// window is how many kept messages before a message go with it into its
// thread (textmsg.Window).
func (u *Text) window() int { return min(u.keepN(), textmsg.Window) - 1 }

func (u *Text) decide(ctx context.Context, tx Stores, m textmsg.Message, r textrisk.Result, cr *textrisk.ConversationResult) (rules.Decision, error) {
	rs, err := tx.Rules.ListRules(ctx)
	if err != nil {
		return rules.Decision{}, fmt.Errorf("reading rules: %w", err)
	}
	return rules.DecideText(rs, rules.Content{Surface: ruleSurface(m.Surface)}, signalOf(r, cr)), nil
}

// again answers a request whose external_id is kept (a retry, perhaps
// after a failed filing): the kept message is scored again, with its
// conversation as it stood after it, and decided by the rules as they are
// now, and nothing is written but what its filing still lacks (act). Its
// audit entry and deliveries were written with it the first time. again
// is false when the id is not kept. The same id with another text is
// refused.
//
// The conversation's state is as it stood after the message while it is
// the newest (a retry soon after a failure); after a later message it is
// rebuilt from the window of kept messages before it.
func (u *Text) again(ctx context.Context, m textmsg.Message) (s Scored, kept textmsg.Message, filed textmsg.Filed, again bool, err error) {
	err = u.Tx(ctx, func(tx Stores) error {
		var err error
		kept, err = tx.Text.MessageByExternalID(ctx, m.ExternalID)
		if errors.Is(err, textmsg.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if kept.Text != m.Text || kept.ConversationID != m.ConversationID || kept.Author != m.Author {
			return fmt.Errorf("%w: it was sent before with another text, author or conversation", textmsg.ErrExists)
		}
		r, cr, err := u.scoreKept(ctx, tx.Text, kept)
		if err != nil {
			return err
		}
		s = Scored{MessageID: kept.ID, Score: r.Score, Flagged: r.Flagged, Reported: r.Reported, Labels: r.Labels, Reasons: r.Reasons, Model: r.Model, Conversation: cr}
		d, err := u.decide(ctx, tx, kept, r, cr)
		if err != nil {
			return err
		}
		s.Actions, s.Blocked = d.Actions, d.Has(rules.Block)
		filed, again = kept.Filed, true
		return nil
	})
	return s, kept, filed, again, err
}

// scoreKept scores the kept message m as it was scored when it came (see
// again).
func (u *Text) scoreKept(ctx context.Context, ts textmsg.Store, m textmsg.Message) (textrisk.Result, *textrisk.ConversationResult, error) {
	if m.ConversationID == "" {
		r, cr := u.score(nil, m)
		return r, cr, nil
	}
	st, ok, err := ts.ConversationState(ctx, m.ConversationID)
	if err != nil {
		return textrisk.Result{}, nil, err
	}
	if ok && st.LastID == m.ID {
		if c, err := u.Scorer.Resume(st.Data); err == nil {
			cr := c.Result()
			return u.Scorer.Score(m.Input()), &cr, nil
		}
	}
	thread, err := ts.MessagesAround(ctx, m.ID, u.window(), 0)
	if err != nil {
		return textrisk.Result{}, nil, err
	}
	r, cr := u.score(u.rebuild(thread[:len(thread)-1]), m)
	return r, cr, nil
}

// files says whether actions file a case (and keep the chat log).
func files(actions []rules.Decided) bool {
	return slices.ContainsFunc(actions, func(a rules.Decided) bool {
		return a.Kind == rules.Enqueue || a.Kind == rules.Report || a.Kind == rules.Quarantine
	})
}

// act keeps the chat log and files the case of a message whose actions
// ask for it, skipping what done says was written already, and records on
// the message what it wrote, so a retry completes a failed filing.
//
// One case per conversation: a reviewer wants the conversation once, not
// a report for every "ok" that follows a flagged message. So a message
// that fires the rules only because its conversation is flagged, while an
// earlier message of the conversation is in a case still undecided, files
// nothing: it is kept with the conversation (the thread, MessagesAround
// and the next chat log show it) and the answer names that case. A
// message flagged by its own words is new evidence and joins the case as
// a report of its own, with the thread up to it.
func (u *Text) act(ctx context.Context, s *Scored, m textmsg.Message, done textmsg.Filed) error {
	if !files(s.Actions) {
		return nil
	}
	if done.CaseID != 0 {
		s.CaseID, s.Evidence = done.CaseID, done.Evidence
		return nil
	}
	thread, err := u.thread(ctx, m)
	if err != nil {
		return err
	}
	if !s.Flagged && u.Review != nil {
		open, err := u.openCase(ctx, thread[:len(thread)-1])
		if err != nil {
			return err
		}
		if open != 0 {
			s.CaseID = open
			return u.setFiled(ctx, m, textmsg.Filed{CaseID: open})
		}
	}
	if done.Evidence != "" {
		s.Evidence = done.Evidence
	} else {
		u.keep(ctx, s, thread)
		if s.Evidence != "" {
			if err := u.setFiled(ctx, m, textmsg.Filed{Evidence: s.Evidence}); err != nil {
				return err
			}
		}
	}
	return u.file(ctx, s, thread)
}

// thread is the kept message m with up to window kept messages of its
// conversation before it, oldest first: the thread a case shows and
// where an open case of the conversation is looked for.
func (u *Text) thread(ctx context.Context, m textmsg.Message) ([]textmsg.Message, error) {
	if m.ID == 0 || m.ConversationID == "" {
		return []textmsg.Message{m}, nil
	}
	var ms []textmsg.Message
	err := u.Tx(ctx, func(tx Stores) error {
		var err error
		ms, err = tx.Text.MessagesAround(ctx, m.ID, u.window(), 0)
		return err
	})
	if errors.Is(err, textmsg.ErrNotFound) {
		// Trimmed already by later messages (a keep of a few): m alone.
		return []textmsg.Message{m}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the thread of message %d: %w", m.ID, err)
	}
	return ms, nil
}

// openCase is the undecided case an earlier message of the conversation
// was filed in, the newest; 0 if none.
func (u *Text) openCase(ctx context.Context, prior []textmsg.Message) (int64, error) {
	var id int64
	err := u.Tx(ctx, func(tx Stores) error {
		seen := map[int64]bool{}
		for i := len(prior) - 1; i >= 0; i-- {
			p := prior[i]
			if p.CaseID == 0 || seen[p.CaseID] {
				continue
			}
			seen[p.CaseID] = true
			c, err := tx.Review.Case(ctx, p.CaseID)
			if errors.Is(err, review.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !c.Decided() && c.State != review.Appealed {
				id = c.ID
				return nil
			}
		}
		return nil
	})
	return id, err
}

func (u *Text) setFiled(ctx context.Context, m textmsg.Message, f textmsg.Filed) error {
	if m.ID == 0 {
		return nil
	}
	return u.Tx(ctx, func(tx Stores) error { return tx.Text.SetFiled(ctx, m.ID, f) })
}

// score scores m as the next message of conversation c; alone if c is nil.
func (u *Text) score(c *textrisk.Conversation, m textmsg.Message) (textrisk.Result, *textrisk.ConversationResult) {
	if c == nil {
		return u.Scorer.Score(m.Input()), nil
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
			TargetAge: m.TargetAge, AuthorAge: m.AuthorAge, ChildContent: m.ChildContent, Reported: s.Reported, Score: s.Score, Labels: s.Labels,
			Highlights: highlights(m.Reasons), Thread: threadOf(thread), Evidence: s.Evidence, EvidenceError: s.EvidenceError,
		},
	}
	if s.Conversation != nil {
		rep.TextSignal.Conversation = s.Conversation.Score
	}
	if s.Model != nil {
		rep.TextSignal.Model = s.Model.ID
	}
	if c := s.Conversation; !s.Flagged && c != nil && c.Flagged && c.Author != "" {
		// Filed for its conversation's score, not its own words: the case
		// is about the author whose messages gave that score (a child's
		// "ok" after a groomer's messages is not the child's case).
		rep.AccountID = c.Author
	}
	if rep.ContentID == "" && rep.AccountID == "" {
		rep.ContentID = subject(m)
	}
	// The filing is recorded on the message in the case's own transaction:
	// a retry of a request whose filing failed finds either both or
	// neither, and never files a second report into the case.
	filed, err := u.Review.fileThen(ctx, audit.System, rep, func(tx Stores, filed review.Report) error {
		if m.ID == 0 {
			return nil
		}
		if tx.Text == nil {
			return errors.New("the review transaction has no text store to record the filing in")
		}
		return tx.Text.SetFiled(ctx, m.ID, textmsg.Filed{Evidence: s.Evidence, CaseID: filed.CaseID})
	})
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
