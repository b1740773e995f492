package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

func (a *API) listRules(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	rs, err := a.cfg.Rules.ListRules(r.Context())
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []rules.Rule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rs})
	return nil
}

func ruleID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusBadRequest, CodeBadRequest, "rule id %q: want a positive integer", clip(r.PathValue("id")))
	}
	return id, nil
}

func (a *API) getRule(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	rule, err := a.cfg.Rules.Rule(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (a *API) ruleHistory(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	vs, err := a.cfg.Rules.RuleHistory(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
	return nil
}

// readRule decodes a rule body strictly (rules.Decode); what only the
// server knows (its banks, webhooks, evidence key) usecase.Rules checks.
func (a *API) readRule(w http.ResponseWriter, r *http.Request) (rules.Rule, error) {
	if _, err := checkContentType(r, "application/json"); err != nil {
		return rules.Rule{}, err
	}
	if err := limitBody(w, r, rules.MaxRuleSize); err != nil {
		return rules.Rule{}, err
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return rules.Rule{}, err
	}
	if err := checkBody(b, ""); err != nil {
		return rules.Rule{}, err
	}
	rule, err := rules.Decode(bytes.NewReader(b))
	if err != nil {
		var mbe *http.MaxBytesError
		var ve *rules.ValidationError
		if errors.As(err, &mbe) || errors.As(err, &ve) {
			return rules.Rule{}, err
		}
		return rules.Rule{}, errorf(http.StatusBadRequest, CodeInvalidRule, "%v", err)
	}
	return rule, nil
}

func (a *API) createRule(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	rule, err := a.readRule(w, r)
	if err != nil {
		return err
	}
	if rule, err = a.rules.Create(r.Context(), k.ID, k.Name, rule); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rule)
	return nil
}

// updateRule handles PUT /v1/rules/{id}: the whole rule, with the version
// the client last read; someone else's update since is a 409.
func (a *API) updateRule(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	rule, err := a.readRule(w, r)
	if err != nil {
		return err
	}
	if rule, err = a.rules.Update(r.Context(), k.ID, k.Name, id, rule); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

// disableRule handles POST /v1/rules/{id}/disable: an update of the latest
// version with enabled false.
func (a *API) disableRule(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	rule, err := a.rules.Disable(r.Context(), k.ID, k.Name, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}
