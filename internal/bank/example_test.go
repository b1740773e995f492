package bank_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/bank"
)

func ExampleRead() {
	list := `# hotline list, 2026-11-24
f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,class A
F09791B743C21F26A189C33B798B8E46
not-a-hash
`
	for e, err := range bank.Read(strings.NewReader(list), "list.txt", bank.Text) {
		if le, ok := errors.AsType[*bank.LineError](err); ok {
			fmt.Println("error:", le)
			break
		}
		fmt.Printf("%s %s note=%q\n", e.Signal, e.Value, e.Note)
	}
	// Output:
	// pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22 note="class A"
	// md5 f09791b743c21f26a189c33b798b8e46 note=""
	// error: list.txt:4: value "not-a-hash": want 32 (md5) or 64 (pdq, sha256) hex digits, got 10 characters
}

func ExampleWrite() {
	entries := func(yield func(bank.Entry, error) bool) {
		yield(bank.Entry{Signal: bank.PDQ, Value: strings.Repeat("0f", 32), Source: "IWF", Category: "A"}, nil)
	}
	if err := bank.Write(os.Stdout, bank.HMA, entries); err != nil {
		fmt.Println(err)
	}
	// Output:
	// signal_type,signal_str,collab,category,tags
	// pdq,0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f,IWF,A,
}
