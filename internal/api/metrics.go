package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/scan"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/webhook"
)

// Metrics are the server's Prometheus metrics, on a registry of their own
// (so tests and several servers in one process do not collide). They
// implement webhook.Metrics for the dispatcher.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	scans      *prometheus.CounterVec
	matches    *prometheus.CounterVec
	actions    *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	attemptDur *prometheus.HistogramVec
	unkept     prometheus.Counter
	textPruned *prometheus.CounterVec
	spoolSwept prometheus.Counter
	ops        *operations
}

var _ webhook.Metrics = (*Metrics)(nil)

// NewMetrics registers the metrics. backlog, if not nil, is read at each
// scrape for the webhook backlog gauges (pending and dead deliveries).
func NewMetrics(backlog func(ctx context.Context) (pending, dead int64, err error)) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "safeguard_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10},
		}, []string{"route"}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_scans_total", Help: "Scans and lookups decided, by kind and whether anything matched.",
		}, []string{"kind", "matched"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_matches_total", Help: "Matches by bank and signal.",
		}, []string{"bank", "signal"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_actions_total", Help: "Actions decided by rules, by kind.",
		}, []string{"kind"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_webhook_attempts_total", Help: "Webhook delivery attempts by webhook and outcome.",
		}, []string{"webhook", "outcome"}),
		attemptDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "safeguard_webhook_attempt_duration_seconds", Help: "Webhook delivery attempt latency.",
			Buckets: prometheus.DefBuckets,
		}, []string{"webhook"}),
		unkept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safeguard_scans_unkept_total",
			Help: "Scans answered 503 because content a rule keeps could not be written as evidence.",
		}),
		textPruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_text_pruned_total",
			Help: "Scored text deleted past its retention (conversations with their state, and messages), by what.",
		}, []string{"what"}),
		spoolSwept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safeguard_spool_swept_total",
			Help: "Spooled files (uploads, packages, keyframe copies) removed from the spool directory as left by a process stopped mid-request.",
		}),
		ops: &operations{now: time.Now},
	}
	m.reg.MustRegister(m.requests, m.latency, m.scans, m.matches, m.actions, m.attempts, m.attemptDur, m.unkept, m.textPruned, m.spoolSwept, m.ops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if backlog != nil {
		read := func(dead bool) func() float64 {
			return func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				p, d, err := backlog(ctx)
				if err != nil {
					return -1 // a scrape must not fail; -1 says "unknown" on a dashboard
				}
				if dead {
					return float64(d)
				}
				return float64(p)
			}
		}
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "safeguard_webhook_pending", Help: "Webhook deliveries waiting to be sent."}, read(false)),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "safeguard_webhook_dead_letters", Help: "Webhook deliveries given up on, waiting for a replay."}, read(true)),
		)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Attempt implements webhook.Metrics.
func (m *Metrics) Attempt(name string, o webhook.Outcome, elapsed time.Duration) {
	m.attempts.WithLabelValues(name, string(o)).Inc()
	m.attemptDur.WithLabelValues(name).Observe(elapsed.Seconds())
}

func (m *Metrics) request(route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
}

func (m *Metrics) scanned(res scan.Result) {
	m.scans.WithLabelValues(res.Kind, strconv.FormatBool(len(res.Matches) > 0)).Inc()
	for _, x := range res.Matches {
		m.matches.WithLabelValues(x.Bank, string(x.Signal)).Inc()
	}
	for _, a := range res.Decision.Actions {
		m.actions.WithLabelValues(string(a.Kind)).Inc()
	}
}

// CountLimitErrors exports l's failures of its store (requests let
// through uncounted, auth.Limiter) as safeguard_key_limit_errors_total.
func (m *Metrics) CountLimitErrors(l *auth.Limiter) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "safeguard_key_limit_errors_total",
		Help: "Requests let through uncounted because the per-key rate limit's store failed.",
	}, func() float64 { return float64(l.Errors()) }))
}

// TextPruned counts what a prune of scored text deleted
// (textmsg.Pruner).
func (m *Metrics) TextPruned(p textmsg.Pruned) {
	m.textPruned.WithLabelValues("conversations").Add(float64(p.Conversations))
	m.textPruned.WithLabelValues("messages").Add(float64(p.Messages))
}

// SpoolSwept counts spooled files a sweep of the spool directory removed
// (spool.Dir.Sweep).
func (m *Metrics) SpoolSwept(n int) { m.spoolSwept.Add(float64(n)) }

// Unkept counts a scan refused because its content could not be kept
// (scan.Pipeline.Unkept).
func (m *Metrics) Unkept() { m.unkept.Inc() }
