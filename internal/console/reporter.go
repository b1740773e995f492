package console

// Issue 18: the page a trusted flagger sees of its own reports, and the
// notice register's page (per-host figures and every notice).

import (
	"net/http"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// mineAnswer is GET /v1/reports/mine as the console reads it.
type mineAnswer struct {
	Tally struct {
		Sent, Actioned, Dismissed, Pending, Overdue, Escalated int
		OldestSeconds                                          int64  `json:"oldest_pending_seconds"`
		Summary                                                string `json:"summary"`
	} `json:"tally"`
	Reports []struct {
		ID             int64           `json:"id"`
		Category       review.Category `json:"category"`
		ContentID      string          `json:"content_id"`
		AccountID      string          `json:"account_id"`
		Status         review.Status   `json:"status"`
		ReceivedAt     time.Time       `json:"received_at"`
		AgeSeconds     int64           `json:"age_seconds"`
		Verdict        review.Verdict  `json:"verdict"`
		Actions        []review.Action `json:"actions"`
		DecidedAt      time.Time       `json:"decided_at"`
		OtherReports   int             `json:"other_reports"`
		OtherReporters int             `json:"other_reporters"`
		DueAt          time.Time       `json:"due_at"`
		Overdue        bool            `json:"overdue"`
		Escalated      bool            `json:"escalated"`
	} `json:"reports"`
}

// mine is the flagger's page: each report's state, age and decision,
// whether others reported the same, escalations, and its figures.
func (c *Console) mine(w http.ResponseWriter, r *http.Request, s *session) {
	if s.key.Role != auth.Flagger {
		c.fail(w, r, s, http.StatusForbidden, "This page is a trusted flagger's view of its own reports; your key ("+string(s.key.Role)+") is not a flagger's.")
		return
	}
	var out mineAnswer
	if err := c.call(r.Context(), s, "GET", "/v1/reports/mine?limit=200", nil, &out); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "mine", c.newPage(r, s, "My reports", out))
}

// noticesAnswer is GET /v1/notices and /v1/notices/figures.
type noticesAnswer struct {
	Hosts []struct {
		Host                   string  `json:"host"`
		Notices                int     `json:"notices"`
		Sent                   int     `json:"sent"`
		Removed                int     `json:"removed"`
		GoneBeforeNotice       int     `json:"gone_before_notice"`
		StillUp                int     `json:"still_up"`
		Escalated              int     `json:"escalated"`
		MedianToRemovalSeconds int64   `json:"median_to_removal_seconds"`
		OldestUpSeconds        int64   `json:"oldest_up_seconds"`
		NoticeIDs              []int64 `json:"notice_ids"`
	} `json:"hosts"`
	Notices []struct {
		ID          int64           `json:"id"`
		State       string          `json:"state"`
		URL         string          `json:"url"`
		Host        string          `json:"host"`
		Category    review.Category `json:"category"`
		Sends       int             `json:"sends"`
		FirstSentAt time.Time       `json:"first_sent_at"`
		EscalatedAt time.Time       `json:"escalated_at"`
		RemovedAt   time.Time       `json:"removed_at"`
		LastCheck   *struct {
			At     time.Time `json:"at"`
			Status int       `json:"status"`
			SHA256 string    `json:"sha256"`
			Found  bool      `json:"found"`
			Error  string    `json:"error"`
		} `json:"last_check"`
	} `json:"notices"`
}

// notices is the notice register's page: the per-host table, then every
// notice with its last check (the evidence is at /v1/notices/{id}).
func (c *Console) notices(w http.ResponseWriter, r *http.Request, s *session) {
	var out noticesAnswer
	if err := c.call(r.Context(), s, "GET", "/v1/notices/figures", nil, &out); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	if err := c.call(r.Context(), s, "GET", "/v1/notices", nil, &out); err != nil {
		c.failAPI(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "notices", c.newPage(r, s, "Notices", out))
}
