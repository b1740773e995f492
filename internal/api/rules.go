package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/rules"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/webhook"
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

// readRule decodes a rule body strictly (rules.Decode) and checks what only
// the server knows: that its banks and webhooks exist, and that content it
// asks to keep can be kept.
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
	if err := checkJSON(b); err != nil {
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
	return rule, a.checkRefs(r.Context(), rule)
}

func (a *API) checkRefs(ctx context.Context, rule rules.Rule) error {
	var problems []string
	for _, b := range rule.Banks {
		if _, err := a.cfg.Banks.Bank(ctx, b); errors.Is(err, derrors.NotFound) {
			problems = append(problems, fmt.Sprintf("bank %q does not exist", b))
		} else if err != nil {
			return err
		}
	}
	for i, act := range rule.Actions {
		switch act.Kind {
		case rules.Notify:
			if _, err := a.cfg.Webhooks.Webhook(ctx, act.Webhook); errors.Is(err, webhook.ErrNotFound) {
				problems = append(problems, fmt.Sprintf("action %d: webhook %q does not exist", i+1, act.Webhook))
			} else if err != nil {
				return err
			}
		case rules.Quarantine, rules.Report:
			if a.cfg.Evidence == nil && rule.Enabled {
				problems = append(problems, fmt.Sprintf("action %d: %s keeps content as evidence, and this server has no evidence key (set SAFEGUARD_EVIDENCE_KEYS)", i+1, act.Kind))
			}
		}
	}
	if len(problems) > 0 {
		return errorf(http.StatusBadRequest, CodeInvalidRule, "rule %q: %s", rule.Name, strings.Join(problems, "; "))
	}
	return nil
}

// rulesChanged empties the rules cache the scans read, once a change made
// through a transaction (around the cache) is committed.
func (a *API) rulesChanged() {
	if c, ok := a.cfg.Rules.(interface{ Invalidate() }); ok {
		c.Invalidate()
	}
}

func ruleDetail(rule rules.Rule) map[string]any {
	return map[string]any{"id": rule.ID, "version": rule.Version, "name": rule.Name, "enabled": rule.Enabled, "rule": rule}
}

func (a *API) createRule(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	rule, err := a.readRule(w, r)
	if err != nil {
		return err
	}
	if rule.ID != 0 || rule.Version != 0 {
		return errorf(http.StatusBadRequest, CodeInvalidRule, "a new rule has no id or version: the server assigns them")
	}
	rule.UpdatedAt, rule.UpdatedBy = time.Now().UTC().Truncate(time.Microsecond), k.Name
	err = a.changes.Do(r.Context(), k.ID, audit.RuleCreate, func(tx usecase.Stores) (string, any, error) {
		var err error
		rule, err = tx.Rules.CreateRule(r.Context(), rule)
		return strconv.FormatInt(rule.ID, 10), ruleDetail(rule), err
	})
	a.rulesChanged()
	if err != nil {
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
	if rule.ID != 0 && rule.ID != id {
		return errorf(http.StatusBadRequest, CodeInvalidRule, "body is rule %d, path is rule %d", rule.ID, id)
	}
	if rule.Version == 0 {
		return errorf(http.StatusBadRequest, CodeInvalidRule, "send the version you last read, so a concurrent update is not undone")
	}
	rule.ID = id
	return a.saveRule(w, r, k, rule)
}

func (a *API) saveRule(w http.ResponseWriter, r *http.Request, k auth.Key, rule rules.Rule) error {
	rule.UpdatedAt, rule.UpdatedBy = time.Now().UTC().Truncate(time.Microsecond), k.Name
	err := a.changes.Do(r.Context(), k.ID, audit.RuleUpdate, func(tx usecase.Stores) (string, any, error) {
		var err error
		rule, err = tx.Rules.UpdateRule(r.Context(), rule)
		return strconv.FormatInt(rule.ID, 10), ruleDetail(rule), err
	})
	a.rulesChanged()
	if err != nil {
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
	rule, err := a.cfg.Rules.Rule(r.Context(), id)
	if err != nil {
		return err
	}
	rule.Enabled = false
	return a.saveRule(w, r, k, rule)
}
