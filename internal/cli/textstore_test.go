package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/review"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
)

// train --from-store learns from the store's decided text cases.
func TestTextTrainFromStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	desk := review.NewDesk(st, st, review.Config{})
	decide := func(text, account string, confirm bool) {
		_, c, _, err := desk.File(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Grooming, AccountID: account, Text: text,
			TextSignal: &review.TextSignal{Surface: "dm", TargetAge: 13, Labels: []string{"grooming"}}})
		if err != nil {
			t.Fatal(err)
		}
		dec := review.Decision{Reviewer: "r1", Verdict: review.Dismiss, Reason: "harmless"}
		if confirm {
			dec = review.Decision{Reviewer: "r1", Verdict: review.Confirm, Actions: []review.Action{review.Remove}}
		}
		if _, _, err := desk.Decide(ctx, c.ID, dec); err != nil {
			t.Fatal(err)
		}
	}
	decide("join my vip room, only special girls", "a1", true)
	decide("vip tickets for the game!!", "a2", false)
	decide("clean ur room before dinner", "a3", false)
	// Undecided and non-text reports are no examples.
	if _, _, _, err := desk.File(ctx, review.Report{Source: review.User, Reporter: "u", Category: review.Other, AccountID: "a4", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	model := filepath.Join(dir, "model.json")
	code, out, errs := run(t, "", "text", "train", "--from-store", "--data", dir, "--out", model)
	if code != 0 || !strings.Contains(out, "3 reviewed text decisions in the store") || !strings.Contains(out, "3 decisions (1 confirmed)") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if code, _, errs := run(t, "", "text", "train", "--out", model); code != 2 {
		t.Errorf("no decisions and no --from-store: exit %d %s", code, errs)
	}
}
