package api

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/match"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// Operations is what an operator watches beside the request counters:
// review queues, evidence storage, exchanges, the index. The server
// gathers it now and then (SetOperations) and a scrape reads the last one
// gathered, so a scrape costs no query, however often it comes and
// however large the banks (docs/operations.md).
type Operations struct {
	At     time.Time // when it was gathered
	Queues []review.QueueStatus
	// Evidence: whether the server keeps evidence at all, and whether its
	// store took a probe write (written, synced, removed), how long that took.
	EvidenceKept, EvidenceWritable bool
	EvidenceProbe                  time.Duration
	Exchanges                      []exchange.Status
	BankEntries                    map[string]int64 // live entries per bank, from the store's counters
	Index                          match.Stats
	// IndexLoad is how long the index took to load at start.
	IndexLoad time.Duration
	// Failed names the parts that could not be gathered this time (their
	// metrics keep the earlier values).
	Failed []string
}

// operations is the collector of the last Operations.
type operations struct {
	mu   sync.Mutex
	last Operations
	now  func() time.Time
}

var (
	opsQueueCases     = prometheus.NewDesc("safeguard_review_queue_cases", "Undecided cases per review queue.", []string{"queue"}, nil)
	opsQueueOverdue   = prometheus.NewDesc("safeguard_review_queue_overdue", "Undecided cases past their queue's time-to-action target.", []string{"queue"}, nil)
	opsQueueTarget    = prometheus.NewDesc("safeguard_review_queue_target_seconds", "A queue's time-to-action target.", []string{"queue"}, nil)
	opsQueueNextDue   = prometheus.NewDesc("safeguard_review_queue_next_due_seconds", "Seconds until the next case of a queue is overdue (absent when none is pending).", []string{"queue"}, nil)
	opsEvidenceUp     = prometheus.NewDesc("safeguard_evidence_writable", "1 if the evidence store took the last probe write (written, synced, removed), 0 if not; absent when no evidence is kept.", nil, nil)
	opsEvidenceProbe  = prometheus.NewDesc("safeguard_evidence_probe_seconds", "How long the last evidence probe write took.", nil, nil)
	opsExLastSuccess  = prometheus.NewDesc("safeguard_exchange_last_success_timestamp_seconds", "When the exchange's last successful fetch ended (0: never).", []string{"exchange", "kind"}, nil)
	opsExLag          = prometheus.NewDesc("safeguard_exchange_lag_seconds", "Seconds since the exchange's last successful fetch ended (absent: never succeeded).", []string{"exchange", "kind"}, nil)
	opsExUpToDate     = prometheus.NewDesc("safeguard_exchange_up_to_date", "1 if the last fetch succeeded and caught up with upstream.", []string{"exchange", "kind"}, nil)
	opsExStopped      = prometheus.NewDesc("safeguard_exchange_stopped", "1 if the exchange stopped on a permanent error (credentials, configuration) and is not polled.", []string{"exchange", "kind"}, nil)
	opsExConsecutive  = prometheus.NewDesc("safeguard_exchange_consecutive_errors", "Failed fetches since the last success.", []string{"exchange", "kind"}, nil)
	opsExRecords      = prometheus.NewDesc("safeguard_exchange_records", "Upstream records applied, over every node's fetches.", []string{"exchange", "kind"}, nil)
	opsExMalformed    = prometheus.NewDesc("safeguard_exchange_malformed_records", "Upstream records skipped as unreadable.", []string{"exchange", "kind"}, nil)
	opsBankEntries    = prometheus.NewDesc("safeguard_bank_entries", "Live entries per bank.", []string{"bank"}, nil)
	opsIndexEntries   = prometheus.NewDesc("safeguard_index_entries", "Entries in this node's in-memory index, per kind (pdq, exact = md5 and sha256, vpdq videos, vpdq_frames).", []string{"signal"}, nil)
	opsIndexSeq       = prometheus.NewDesc("safeguard_index_seq", "The change-feed position this node's index has applied.", nil, nil)
	opsIndexSyncAge   = prometheus.NewDesc("safeguard_index_sync_age_seconds", "Seconds since this node's index last caught up with the store's change feed.", nil, nil)
	opsIndexLoad      = prometheus.NewDesc("safeguard_index_load_seconds", "How long this node took to load its index at start.", nil, nil)
	opsAge            = prometheus.NewDesc("safeguard_operations_age_seconds", "Seconds since these operations metrics were gathered.", nil, nil)
	opsFailed         = prometheus.NewDesc("safeguard_operations_failed", "1 for each part that could not be gathered the last time.", []string{"part"}, nil)
	allOperationsDesc = []*prometheus.Desc{opsQueueCases, opsQueueOverdue, opsQueueTarget, opsQueueNextDue, opsEvidenceUp, opsEvidenceProbe,
		opsExLastSuccess, opsExLag, opsExUpToDate, opsExStopped, opsExConsecutive, opsExRecords, opsExMalformed,
		opsBankEntries, opsIndexEntries, opsIndexSeq, opsIndexSyncAge, opsIndexLoad, opsAge, opsFailed}
)

func (o *operations) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allOperationsDesc {
		ch <- d
	}
}

func (o *operations) Collect(ch chan<- prometheus.Metric) {
	o.mu.Lock()
	ops := o.last
	o.mu.Unlock()
	if ops.At.IsZero() {
		return // nothing gathered yet
	}
	now := o.now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, q := range ops.Queues {
		gauge(opsQueueCases, float64(q.Cases), string(q.Queue))
		gauge(opsQueueOverdue, float64(q.Overdue), string(q.Queue))
		gauge(opsQueueTarget, q.Target.Seconds(), string(q.Queue))
		if !q.NextDue.IsZero() {
			gauge(opsQueueNextDue, q.NextDue.Sub(now).Seconds(), string(q.Queue))
		}
	}
	if ops.EvidenceKept {
		gauge(opsEvidenceUp, b(ops.EvidenceWritable))
		gauge(opsEvidenceProbe, ops.EvidenceProbe.Seconds())
	}
	for _, s := range ops.Exchanges {
		last := 0.0
		if !s.LastSuccess.IsZero() {
			last = float64(s.LastSuccess.UnixNano()) / 1e9
			gauge(opsExLag, now.Sub(s.LastSuccess).Seconds(), s.Name, s.Kind)
		}
		gauge(opsExLastSuccess, last, s.Name, s.Kind)
		gauge(opsExUpToDate, b(s.UpToDate && s.Succeeded), s.Name, s.Kind)
		gauge(opsExStopped, b(s.Stopped), s.Name, s.Kind)
		gauge(opsExConsecutive, float64(s.ConsecutiveErrors), s.Name, s.Kind)
		gauge(opsExRecords, float64(s.Records), s.Name, s.Kind)
		gauge(opsExMalformed, float64(s.Malformed), s.Name, s.Kind)
	}
	for name, n := range ops.BankEntries {
		gauge(opsBankEntries, float64(n), name)
	}
	gauge(opsIndexEntries, float64(ops.Index.PDQ), "pdq")
	gauge(opsIndexEntries, float64(ops.Index.Exact), "exact")
	gauge(opsIndexEntries, float64(ops.Index.Videos), "vpdq")
	gauge(opsIndexEntries, float64(ops.Index.Frames), "vpdq_frames")
	gauge(opsIndexSeq, float64(ops.Index.Seq))
	if !ops.Index.Synced.IsZero() {
		gauge(opsIndexSyncAge, now.Sub(ops.Index.Synced).Seconds())
	}
	gauge(opsIndexLoad, ops.IndexLoad.Seconds())
	gauge(opsAge, now.Sub(ops.At).Seconds())
	for _, part := range ops.Failed {
		gauge(opsFailed, 1, part)
	}
}

// SetOperations replaces the operations metrics a scrape reports.
func (m *Metrics) SetOperations(o Operations) {
	m.ops.mu.Lock()
	defer m.ops.mu.Unlock()
	m.ops.last = o
}
