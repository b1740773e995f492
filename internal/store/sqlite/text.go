package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/safeguard-oss/safeguard/internal/store"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
)

var _ textmsg.Store = (*Store)(nil)

// The statements of each scored message, prepared once (Store.stmt):
// parsing them cost more than running them.
const (
	insertMessage = `INSERT INTO text_messages (conversation, received_at, doc, external_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (external_id) WHERE external_id != '' DO NOTHING RETURNING id`
	trimConversation = `DELETE FROM text_messages WHERE conversation = ? AND id <= (
		SELECT id FROM text_messages WHERE conversation = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`
	newestMessages    = `SELECT id, received_at, doc FROM text_messages WHERE conversation = ? ORDER BY id DESC LIMIT ?`
	conversationState = `SELECT last_id, state FROM text_conversations WHERE conversation = ?`
	setState          = `INSERT INTO text_conversations (conversation, last_id, state) VALUES (?, ?, ?)
		ON CONFLICT (conversation) DO UPDATE SET last_id = excluded.last_id, state = excluded.state`
)

// AddMessage implements textmsg.Store.
func (s *Store) AddMessage(ctx context.Context, m textmsg.Message, keep int) (textmsg.Message, error) {
	m.ID, m.ReceivedAt = 0, store.Time(m.ReceivedAt)
	doc, err := json.Marshal(m)
	if err != nil {
		return textmsg.Message{}, err
	}
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		ins, err := s.stmt(ctx, tx, insertMessage)
		if err != nil {
			return err
		}
		err = ins.QueryRowContext(ctx, m.ConversationID, micros(m.ReceivedAt), string(doc), m.ExternalID).Scan(&m.ID)
		if err == sql.ErrNoRows {
			return fmt.Errorf("%q: %w", m.ExternalID, textmsg.ErrExists)
		}
		if err != nil {
			return err
		}
		if keep <= 0 || m.ConversationID == "" {
			return nil
		}
		trim, err := s.stmt(ctx, tx, trimConversation)
		if err == nil {
			_, err = trim.ExecContext(ctx, m.ConversationID, m.ConversationID, keep)
		}
		return err
	})
	if err != nil {
		return textmsg.Message{}, fmt.Errorf("storing a message of conversation %q: %w", m.ConversationID, err)
	}
	return m, nil
}

// MessageByExternalID implements textmsg.Store.
func (s *Store) MessageByExternalID(ctx context.Context, externalID string) (textmsg.Message, error) {
	ms, err := readMessages(ctx, s.r(), `SELECT id, received_at, doc FROM text_messages WHERE external_id = ? AND external_id != ''`, externalID)
	return textmsg.ByExternalID(externalID, ms, err)
}

// SetFiled implements textmsg.Store.
func (s *Store) SetFiled(ctx context.Context, id int64, f textmsg.Filed) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE text_messages SET doc = json_set(doc, '$.evidence', ?, '$.case_id', ?) WHERE id = ?`,
			f.Evidence, f.CaseID, id)
		if err != nil {
			return fmt.Errorf("message %d: recording its filing: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("message %d: %w", id, textmsg.ErrNotFound)
		}
		return nil
	})
}

// Conversation implements textmsg.Store.
func (s *Store) Conversation(ctx context.Context, id string, limit int) ([]textmsg.Message, error) {
	ms, err := readMessages(ctx, s.cached(), newestMessages, id, limit)
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
	in, err := json.Marshal(accounts)
	if err != nil {
		return nil, err
	}
	rows, err := s.r().QueryContext(ctx, `SELECT conversation FROM text_messages
		WHERE conversation != '' AND json_extract(doc, '$.flagged') = 1
		AND (json_extract(doc, '$.author') IN (SELECT value FROM json_each(?))
		  OR json_extract(doc, '$.target') IN (SELECT value FROM json_each(?)))
		GROUP BY conversation ORDER BY MIN(id) LIMIT ?`, string(in), string(in), limit)
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

// MessagesAround implements textmsg.Store.
func (s *Store) MessagesAround(ctx context.Context, id int64, before, after int) ([]textmsg.Message, error) {
	q := s.r()
	var conv string
	err := q.QueryRowContext(ctx, `SELECT conversation FROM text_messages WHERE id = ?`, id).Scan(&conv)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("message %d: %w", id, textmsg.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading message %d: %w", id, err)
	}
	if conv == "" { // a message of no conversation stands alone
		before, after = 0, 0
	}
	earlier, err := readMessages(ctx, q, `SELECT id, received_at, doc FROM text_messages
		WHERE conversation = ? AND id < ? ORDER BY id DESC LIMIT ?`, conv, id, before)
	if err != nil {
		return nil, fmt.Errorf("reading around message %d: %w", id, err)
	}
	later, err := readMessages(ctx, q, `SELECT id, received_at, doc FROM text_messages
		WHERE id = ? OR (conversation = ? AND id > ?) ORDER BY id LIMIT ?`, id, conv, id, after+1)
	if err != nil {
		return nil, fmt.Errorf("reading around message %d: %w", id, err)
	}
	slices.Reverse(earlier)
	return append(earlier, later...), nil
}

// cached is where the reads of each scored message go: in a view of
// Atomically (where the text use case reads), the transaction through
// statements prepared once; else the database.
func (s *Store) cached() rowsQuerier {
	if s.tx == nil {
		return s.db
	}
	return cachedTx{s}
}

// rowsQuerier is what readMessages needs.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type cachedTx struct{ s *Store }

func (c cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.s.stmt(ctx, c.s.tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func readMessages(ctx context.Context, q rowsQuerier, query string, args ...any) ([]textmsg.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []textmsg.Message
	for rows.Next() {
		var (
			m   textmsg.Message
			id  int64
			at  int64
			doc string
		)
		if err := rows.Scan(&id, &at, &doc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("message %d: reading its stored document: %w", id, err)
		}
		m.ID, m.ReceivedAt = id, fromMicros(at)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// ConversationState implements textmsg.Store. A view of Atomically is the
// store's one write transaction, which already holds every conversation.
func (s *Store) ConversationState(ctx context.Context, id string) (textmsg.State, bool, error) {
	var st textmsg.State
	rows, err := s.cached().QueryContext(ctx, conversationState, id)
	if err != nil {
		return st, false, fmt.Errorf("reading the state of conversation %q: %w", id, err)
	}
	defer rows.Close()
	ok := rows.Next()
	if ok {
		err = rows.Scan(&st.LastID, &st.Data)
	}
	if err = errors.Join(err, rows.Err()); err != nil {
		return textmsg.State{}, false, fmt.Errorf("reading the state of conversation %q: %w", id, err)
	}
	return st, ok, nil
}

// SetConversationState implements textmsg.Store.
func (s *Store) SetConversationState(ctx context.Context, id string, st textmsg.State) error {
	return s.inWrite(ctx, func(tx *sql.Tx) error {
		set, err := s.stmt(ctx, tx, setState)
		if err == nil {
			_, err = set.ExecContext(ctx, id, st.LastID, st.Data)
		}
		if err != nil {
			return fmt.Errorf("keeping the state of conversation %q: %w", id, err)
		}
		return nil
	})
}

// Whether a message keeps its conversation however old (textmsg.Store's
// Prune): filed (a case or a chat log names it) or flagged. json_extract
// of a field left out (Filed's omitempty) is NULL.
const (
	filedMessage = `(IFNULL(json_extract(doc, '$.case_id'), 0) != 0 OR IFNULL(json_extract(doc, '$.evidence'), '') != '')`
	keptMessage  = `(json_extract(doc, '$.flagged') = 1 OR ` + filedMessage + `)`
)

// Prune implements textmsg.Store. The store's one write transaction
// holds every conversation, so a conversation is judged and deleted with
// no message coming between.
func (s *Store) Prune(ctx context.Context, since, before time.Time) (textmsg.Pruned, error) {
	return textmsg.PruneWith(ctx, since, before, textmsg.Pruning{
		Alone: func(ctx context.Context, since, before time.Time) (int64, error) {
			return s.deleteBatches(ctx, `DELETE FROM text_messages WHERE id IN (
				SELECT id FROM text_messages WHERE received_at >= ? AND received_at < ? AND conversation = '' AND NOT `+filedMessage+` LIMIT ?)`,
				micros(since), micros(before))
		},
		Page: func(ctx context.Context, at time.Time, id int64, before time.Time, n int) ([]textmsg.Message, error) {
			// The conversation as a document, for readMessages.
			return readMessages(ctx, s.r(), `SELECT id, received_at, json_object('conversation_id', conversation) FROM text_messages
				WHERE (received_at, id) > (?, ?) AND received_at < ? AND conversation != '' ORDER BY received_at, id LIMIT ?`,
				micros(at), id, micros(before), n)
		},
		Drop: s.dropConversations,
	})
}

// dropConversations is Prune's judgement of convs: the newest message
// (one step of the index) rules out a conversation still in use before
// its other messages are read.
func (s *Store) dropConversations(ctx context.Context, convs []string, before time.Time) (textmsg.Pruned, error) {
	in, err := json.Marshal(convs)
	if err != nil {
		return textmsg.Pruned{}, err
	}
	var p textmsg.Pruned
	err = s.inWrite(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.value FROM json_each(?) c
			WHERE (SELECT received_at FROM text_messages WHERE conversation = c.value ORDER BY id DESC LIMIT 1) < ?2
			AND NOT EXISTS (SELECT 1 FROM text_messages WHERE conversation = c.value AND (received_at >= ?2 OR `+keptMessage+`))`,
			string(in), micros(before))
		if err != nil {
			return err
		}
		var gone []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			gone = append(gone, c)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(gone) == 0 {
			return err
		}
		del, err := json.Marshal(gone)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM text_messages WHERE conversation IN (SELECT value FROM json_each(?))`, string(del))
		if err != nil {
			return err
		}
		if p.Messages, err = r.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM text_conversations WHERE conversation IN (SELECT value FROM json_each(?))`, string(del)); err != nil {
			return err
		}
		p.Conversations = int64(len(gone))
		return nil
	})
	return p, err
}
