package textrisk

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"sync"
)

// The built-in model is trained on every labelled file of testdata/text
// (docs/text.md lists them), the conversation files' marked and harmless
// messages included (ConversationExamples), with per-surface thresholds chosen by
// cross-validation one file a fold. TestBuiltinModelIsCurrent fails when
// a change of rules or data makes it stale; regenerate it then.
//
//go:generate go run ../../cmd/safeguard text train --by-file --seed 1 --out builtin-model.json ../../testdata/text/tune.tsv ../../testdata/text/holdout.tsv ../../testdata/text/holdout2.tsv ../../testdata/text/holdout3.tsv ../../testdata/text/holdout4.tsv ../../testdata/text/tune5.tsv ../../testdata/text/holdout5.tsv ../../testdata/text/holdout6.tsv ../../testdata/text/tune7a.tsv ../../testdata/text/tune7b.tsv ../../testdata/text/tune7c.tsv ../../testdata/text/tune7d.tsv ../../testdata/text/holdout7.tsv ../../testdata/text/tune9a.tsv ../../testdata/text/tune9b.tsv ../../testdata/text/holdout9.tsv ../../testdata/text/tune10.tsv ../../testdata/text/holdout10.tsv ../../testdata/text/tune11.tsv ../../testdata/text/tune12.tsv ../../testdata/text/conversations-holdout.txt ../../testdata/text/conversations-holdout2.txt ../../testdata/text/conversations-holdout5.txt ../../testdata/text/conversations-holdout6.txt ../../testdata/text/conversations-holdout7.txt ../../testdata/text/conversations-holdout8.txt ../../testdata/text/conversations-tune5.txt ../../testdata/text/conversations-tune7a.txt ../../testdata/text/conversations-tune7b.txt ../../testdata/text/conversations-tune7c.txt ../../testdata/text/conversations-tune7d.txt ../../testdata/text/conversations-tune9a.txt ../../testdata/text/conversations-tune9b.txt ../../testdata/text/conversations-holdout9.txt ../../testdata/text/conversations-tune10.txt ../../testdata/text/conversations-holdout10.txt ../../testdata/text/conversations-tune11.txt ../../testdata/text/conversations-tune12.txt ../../testdata/text/conversations.txt
//go:embed builtin-model.json
var builtinModel []byte

// BuiltinFiles are the files the built-in model is trained on, in the
// order go:generate passes them, relative to the repository.
var BuiltinFiles = []string{
	"testdata/text/tune.tsv", "testdata/text/holdout.tsv", "testdata/text/holdout2.tsv",
	"testdata/text/holdout3.tsv", "testdata/text/holdout4.tsv", "testdata/text/tune5.tsv",
	"testdata/text/holdout5.tsv", "testdata/text/holdout6.tsv", "testdata/text/tune7a.tsv",
	"testdata/text/tune7b.tsv", "testdata/text/tune7c.tsv", "testdata/text/tune7d.tsv",
	"testdata/text/holdout7.tsv", "testdata/text/tune9a.tsv", "testdata/text/tune9b.tsv",
	"testdata/text/holdout9.tsv", "testdata/text/tune10.tsv", "testdata/text/holdout10.tsv",
	"testdata/text/tune11.tsv", "testdata/text/tune12.tsv",
	"testdata/text/conversations-holdout.txt",
	"testdata/text/conversations-holdout2.txt",
	"testdata/text/conversations-holdout5.txt",
	"testdata/text/conversations-holdout6.txt",
	"testdata/text/conversations-holdout7.txt",
	"testdata/text/conversations-holdout8.txt",
	"testdata/text/conversations-tune5.txt",
	"testdata/text/conversations-tune7a.txt",
	"testdata/text/conversations-tune7b.txt",
	"testdata/text/conversations-tune7c.txt",
	"testdata/text/conversations-tune7d.txt",
	"testdata/text/conversations-tune9a.txt",
	"testdata/text/conversations-tune9b.txt",
	"testdata/text/conversations-holdout9.txt",
	"testdata/text/conversations-tune10.txt",
	"testdata/text/conversations-holdout10.txt",
	"testdata/text/conversations-tune11.txt",
	"testdata/text/conversations-tune12.txt",
	"testdata/text/conversations.txt",
}

// Builtin is the model embedded in the binary (no download at run time).
var Builtin = sync.OnceValues(func() (*Model, error) {
	md, err := Load(bytes.NewReader(builtinModel))
	if err != nil {
		return nil, fmt.Errorf("textrisk: built-in model: %w", err)
	}
	return md, nil
})

// The names Open reads besides a file.
const (
	RulesOnly    = "none"    // the rules alone
	BuiltinModel = "builtin" // the rules refined by the built-in model
)

// Open returns the scorer a command line or configuration names: "" or
// RulesOnly for the rules alone, BuiltinModel for the built-in model, else
// the file of a model safeguard text train wrote.
func Open(model string) (*Scorer, error) {
	switch model {
	case "", RulesOnly:
		return New(nil)
	case BuiltinModel:
		md, err := Builtin()
		if err != nil {
			return nil, err
		}
		return New(md)
	}
	f, err := os.Open(model)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	defer f.Close()
	md, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("text model %s: %w", model, err)
	}
	return New(md)
}
