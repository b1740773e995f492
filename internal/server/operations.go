package server

import (
	"context"
	"time"

	"github.com/safeguard-oss/safeguard/internal/api"
)

// DefaultOperationsEvery is how often the operations metrics are gathered.
const DefaultOperationsEvery = 15 * time.Second

// refreshOperations gathers the operations metrics (docs/operations.md)
// and hands them to the scrape. A part that cannot be gathered keeps its
// earlier values and is named in safeguard_operations_failed.
func (s *Server) refreshOperations(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OperationsEvery)
	defer cancel()
	prev := s.ops
	o := api.Operations{At: time.Now(), Index: s.matcher.Stats(), IndexLoad: time.Duration(s.indexLoad.Load()), EvidenceKept: s.cfg.EvidenceKeys != ""}
	failed := func(part string, err error) {
		o.Failed = append(o.Failed, part)
		if ctx.Err() == nil {
			s.log.Warn("operations metrics: gathering "+part, "err", err)
		}
	}
	if qs, err := s.desk.Queues(ctx); err != nil {
		failed("queues", err)
		o.Queues = prev.Queues
	} else {
		o.Queues = qs
	}
	if bs, err := s.st.ListBanks(ctx); err != nil {
		failed("banks", err)
		o.BankEntries = prev.BankEntries
	} else {
		o.BankEntries = make(map[string]int64, len(bs))
		for _, b := range bs {
			o.BankEntries[b.Name] = b.Entries
		}
	}
	if s.exchanges != nil {
		o.Exchanges = s.exchanges.Statuses()
	}
	if o.EvidenceKept {
		// With no probe of its own (evidence in the database) the
		// evidence is up as the store is, which "store" reports.
		var err error
		var took time.Duration
		if s.evidenceProbe != nil {
			took, err = s.evidenceProbe.check(ctx)
		}
		o.EvidenceWritable, o.EvidenceProbe = err == nil, took
		if err != nil {
			failed("evidence", err)
		}
	}
	s.ops = o
	s.metrics.SetOperations(o)
}
