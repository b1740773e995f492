package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/safeguard-oss/safeguard/internal/review"
)

// apiError is an answer of the API other than 2xx, with its JSON error.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// call sends one request to the API as s's key, in process, and decodes a
// 2xx answer's JSON into out.
func (c *Console) call(ctx context.Context, s *session, method, path string, body, out any) error {
	rec, err := c.callRaw(ctx, s, method, path, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		return fmt.Errorf("console: reading the API's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// callRaw sends one request to the API as s's key, in process, and returns
// a 2xx answer as it is; any other is an *apiError.
func (c *Console) callRaw(ctx context.Context, s *session, method, path string, body any) (*httptest.ResponseRecorder, error) {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	c.cfg.API.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.Unmarshal(rec.Body.Bytes(), &e)
		return nil, &apiError{Status: rec.Code, Code: e.Error.Code, Message: e.Error.Message}
	}
	return rec, nil
}

// The API's answers, as the console reads them (docs/api.md).

type queueStatus struct {
	Queue         review.Queue `json:"queue"`
	TargetSeconds int64        `json:"target_seconds"`
	Cases         int          `json:"cases"`
	Overdue       int          `json:"overdue"`
}

type rankedCase struct {
	Case         review.Case     `json:"case"`
	Priority     review.Priority `json:"priority"`
	DueInSeconds int64           `json:"due_in_seconds"`
	Reason       string          `json:"reason"`
}

type queuePage struct {
	Queue         review.Queue `json:"queue"`
	TargetSeconds int64        `json:"target_seconds"`
	Total         int          `json:"total"`
	Cases         []rankedCase `json:"cases"`
}

type caseAnswer struct {
	Case         review.Case     `json:"case"`
	Priority     review.Priority `json:"priority"`
	Reports      []review.Report `json:"reports"`
	DueInSeconds int64           `json:"due_in_seconds"`
}

type statsRow struct {
	Category      review.Category `json:"category"`
	Source        review.Source   `json:"source"`
	Received      int             `json:"received"`
	Decided       int             `json:"decided"`
	Actioned      int             `json:"actioned"`
	ShareActioned float64         `json:"share_actioned"`
	MedianSeconds float64         `json:"median_seconds"`
	P90Seconds    float64         `json:"p90_seconds"`
}

// decision is the body of POST /v1/cases/{id}/decision.
type decision struct {
	Verdict        review.Verdict        `json:"verdict"`
	Classification review.Classification `json:"classification,omitempty"`
	Actions        []review.Action       `json:"actions,omitempty"`
	Reason         string                `json:"reason,omitempty"`
	Version        int                   `json:"version,omitempty"`
	Except         []string              `json:"except,omitempty"`
}
