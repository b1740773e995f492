package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
)

var _ textmsg.Store = (*Store)(nil)

// AddMessage implements textmsg.Store. The trim runs in the insert's
// transaction, so a conversation never holds more than keep for long.
func (s *Store) AddMessage(ctx context.Context, m textmsg.Message, keep int) (textmsg.Message, error) {
	m.ID, m.ReceivedAt = 0, stored(m.ReceivedAt)
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO text_messages (conversation, received_at, doc, external_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (external_id) WHERE external_id <> '' DO NOTHING RETURNING id`,
			m.ConversationID, m.ReceivedAt, m, m.ExternalID).Scan(&m.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%q: %w", m.ExternalID, textmsg.ErrExists)
		}
		if err != nil {
			return err
		}
		if keep > 0 && m.ConversationID != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM text_messages WHERE conversation = $1 AND id <= (
				SELECT id FROM text_messages WHERE conversation = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
				m.ConversationID, keep); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return textmsg.Message{}, fmt.Errorf("storing a message of conversation %q: %w", m.ConversationID, err)
	}
	return m, nil
}

// MessageByExternalID implements textmsg.Store.
func (s *Store) MessageByExternalID(ctx context.Context, externalID string) (textmsg.Message, error) {
	ms, err := s.messages(ctx, `SELECT id, received_at, doc FROM text_messages WHERE external_id = $1 AND external_id <> ''`, externalID)
	return textmsg.ByExternalID(externalID, ms, err)
}

// SetFiled implements textmsg.Store.
func (s *Store) SetFiled(ctx context.Context, id int64, f textmsg.Filed) error {
	tag, err := s.db.Exec(ctx, `UPDATE text_messages SET doc = doc || jsonb_build_object('evidence', $1::text, 'case_id', $2::bigint) WHERE id = $3`,
		f.Evidence, f.CaseID, id)
	if err != nil {
		return fmt.Errorf("message %d: recording its filing: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("message %d: %w", id, textmsg.ErrNotFound)
	}
	return nil
}

// Conversation implements textmsg.Store.
func (s *Store) Conversation(ctx context.Context, id string, limit int) ([]textmsg.Message, error) {
	ms, err := s.messages(ctx, `SELECT id, received_at, doc FROM text_messages WHERE conversation = $1 ORDER BY id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("reading conversation %q: %w", id, err)
	}
	slices.Reverse(ms)
	return ms, nil
}

// FlaggedConversations implements textmsg.Store. It reads the documents of
// the kept messages (at most textmsg's keep per conversation); it runs when
// a law-enforcement report is drafted, not per message.
func (s *Store) FlaggedConversations(ctx context.Context, accounts []string, limit int) ([]string, error) {
	if len(accounts) == 0 || limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT conversation FROM text_messages
		WHERE conversation <> '' AND (doc->>'flagged')::boolean
		AND (doc->>'author' = ANY($1) OR doc->>'target' = ANY($1))
		GROUP BY conversation ORDER BY MIN(id) LIMIT $2`, accounts, limit)
	if err != nil {
		return nil, fmt.Errorf("finding the flagged conversations of %d accounts: %w", len(accounts), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MessagesAround implements textmsg.Store, in one statement: the message,
// the before earlier and the after later ones of its conversation.
func (s *Store) MessagesAround(ctx context.Context, id int64, before, after int) ([]textmsg.Message, error) {
	ms, err := s.messages(ctx, `WITH m AS (SELECT id, conversation FROM text_messages WHERE id = $1)
		SELECT * FROM (SELECT t.id, t.received_at, t.doc FROM text_messages t, m
			WHERE m.conversation <> '' AND t.conversation = m.conversation AND t.id < m.id ORDER BY t.id DESC LIMIT $2) earlier
		UNION ALL
		SELECT * FROM (SELECT t.id, t.received_at, t.doc FROM text_messages t, m
			WHERE t.id = m.id OR (m.conversation <> '' AND t.conversation = m.conversation AND t.id > m.id) ORDER BY t.id LIMIT $3) later
		ORDER BY id`, id, before, after+1)
	if err != nil {
		return nil, fmt.Errorf("reading around message %d: %w", id, err)
	}
	if !slices.ContainsFunc(ms, func(m textmsg.Message) bool { return m.ID == id }) {
		return nil, fmt.Errorf("message %d: %w", id, textmsg.ErrNotFound)
	}
	return ms, nil
}

func (s *Store) messages(ctx context.Context, query string, args ...any) ([]textmsg.Message, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (textmsg.Message, error) {
		var (
			m  textmsg.Message
			id int64
			at time.Time
		)
		if err := row.Scan(&id, &at, &m); err != nil {
			return m, err
		}
		m.ID, m.ReceivedAt = id, at.UTC()
		return m, nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return ms, err
}

// conversationLock is the first key of conversations' advisory locks (the
// second is the hash of the conversation's id), apart from the exchanges'.
const conversationLock = 0x5afe_c0c0

// ConversationState implements textmsg.Store. The transaction advisory
// lock is its own statement, before the read: a statement reads what was
// committed when it began, and one that waited for the lock inside itself
// would read the state the lock's holder was about to replace.
func (s *Store) ConversationState(ctx context.Context, id string) (textmsg.State, bool, error) {
	if _, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(conversationLock), id); err != nil {
		return textmsg.State{}, false, fmt.Errorf("locking conversation %q: %w", id, err)
	}
	var st textmsg.State
	err := s.db.QueryRow(ctx, `SELECT last_id, state FROM text_conversations WHERE conversation = $1`, id).Scan(&st.LastID, &st.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return textmsg.State{}, false, nil
	}
	if err != nil {
		return textmsg.State{}, false, fmt.Errorf("reading the state of conversation %q: %w", id, err)
	}
	return st, true, nil
}

// SetConversationState implements textmsg.Store.
func (s *Store) SetConversationState(ctx context.Context, id string, st textmsg.State) error {
	if _, err := s.db.Exec(ctx, `INSERT INTO text_conversations (conversation, last_id, state) VALUES ($1, $2, $3)
		ON CONFLICT (conversation) DO UPDATE SET last_id = excluded.last_id, state = excluded.state`, id, st.LastID, st.Data); err != nil {
		return fmt.Errorf("keeping the state of conversation %q: %w", id, err)
	}
	return nil
}

// Whether a message keeps its conversation however old (textmsg.Store's
// Prune): filed (a case or a chat log names it) or flagged. Filed's
// fields are left out of the document until set.
const (
	filedMessage = `(COALESCE((doc->>'case_id')::bigint, 0) <> 0 OR COALESCE(doc->>'evidence', '') <> '')`
	keptMessage  = `((doc->>'flagged')::boolean OR ` + filedMessage + `)`
)

// Prune implements textmsg.Store.
func (s *Store) Prune(ctx context.Context, since, before time.Time) (textmsg.Pruned, error) {
	return textmsg.PruneWith(ctx, since, before, textmsg.Pruning{
		Alone: func(ctx context.Context, since, before time.Time) (int64, error) {
			// One DELETE, as for deliveries: its row locks hold up only a
			// filing of these very messages.
			tag, err := s.db.Exec(ctx, `DELETE FROM text_messages
				WHERE received_at >= $1 AND received_at < $2 AND conversation = '' AND NOT `+filedMessage, stored(since), stored(before))
			return tag.RowsAffected(), err
		},
		Page: func(ctx context.Context, at time.Time, id int64, before time.Time, n int) ([]textmsg.Message, error) {
			rows, err := s.db.Query(ctx, `SELECT id, received_at, conversation FROM text_messages
				WHERE (received_at, id) > ($1, $2) AND received_at < $3 AND conversation <> '' ORDER BY received_at, id LIMIT $4`,
				stored(at), id, stored(before), n)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, func(row pgx.CollectableRow) (textmsg.Message, error) {
				var m textmsg.Message
				err := row.Scan(&m.ID, &m.ReceivedAt, &m.ConversationID)
				return m, err
			})
		},
		Drop: s.dropConversations,
	})
}

// dropConversations is Prune's judgement of convs. It holds them first as
// scoring does (ConversationState), in the order of the locks' keys so
// that two servers' prunes never wait for each other in a circle (scoring
// holds one conversation and no more), and then, in statements that begin
// once they are held, reads what is committed: a message whose scoring
// held one of them is judged with it. The newest message (one step of the
// index) rules out a conversation still in use before its other messages
// are read. The DELETE tests each message again, so a filing that came
// meanwhile (SetFiled does not hold the conversation) keeps its message.
func (s *Store) dropConversations(ctx context.Context, convs []string, before time.Time) (textmsg.Pruned, error) {
	var p textmsg.Pruned
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, k)
			FROM (SELECT DISTINCT hashtext(c) AS k FROM unnest($2::text[]) c ORDER BY k) held`, int32(conversationLock), convs); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT c FROM unnest($1::text[]) c
			WHERE (SELECT received_at FROM text_messages WHERE conversation = c ORDER BY id DESC LIMIT 1) < $2
			AND NOT EXISTS (SELECT 1 FROM text_messages WHERE conversation = c AND (received_at >= $2 OR `+keptMessage+`))`,
			convs, stored(before))
		if err != nil {
			return err
		}
		gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(gone) == 0 {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM text_messages WHERE conversation = ANY($1) AND NOT `+keptMessage, gone)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM text_conversations WHERE conversation = ANY($1)`, gone); err != nil {
			return err
		}
		p = textmsg.Pruned{Conversations: int64(len(gone)), Messages: tag.RowsAffected()}
		return nil
	})
	return p, err
}
