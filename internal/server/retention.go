package server

import (
	"context"
	"time"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
)

// pruneText deletes the scored text past its retention (textmsg.Pruner),
// logs and counts what went. Every server runs it: the store's Prune is
// safe on several at once.
func (s *Server) pruneText(ctx context.Context) {
	start := time.Now()
	p, err := s.textPruner.Prune(ctx)
	s.metrics.TextPruned(p) // what a failed prune deleted before it failed went too
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("text: pruning scored text past its retention", "err", err,
			"conversations", p.Conversations, "messages", p.Messages)
	case p != (textmsg.Pruned{}):
		s.log.Info("text: pruned scored text past its retention", "conversations", p.Conversations, "messages", p.Messages,
			"retention", s.textPruner.Retention, "took", time.Since(start).Round(time.Millisecond))
	}
}
