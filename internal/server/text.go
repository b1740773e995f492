package server

import (
	"fmt"
	"os"

	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// textScorer is the text signal's scorer: the rules, refined by the learned
// model in file if one is named.
func textScorer(file string) (*textrisk.Scorer, error) {
	if file == "" {
		return textrisk.New(nil)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	defer f.Close()
	m, err := textrisk.Load(f)
	if err != nil {
		return nil, fmt.Errorf("text model %s: %w", file, err)
	}
	return textrisk.New(m)
}
