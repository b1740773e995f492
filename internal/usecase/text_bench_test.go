package usecase_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/store/sqlite"
	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// BenchmarkTextScore is what POST /v1/text costs beyond HTTP on SQLite: a
// message scored after the kept messages of its conversation (keep
// messages at most) and stored, the rules listed (none fire).
func BenchmarkTextScore(b *testing.B) {
	for _, keep := range []int{0, 20, textmsg.Keep} {
		name := fmt.Sprintf("keep=%d", keep)
		if keep == 0 {
			name = "no-conversation"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			sc, err := textrisk.New(nil)
			if err != nil {
				b.Fatal(err)
			}
			_, tx := usecase.Over(st)
			u := &usecase.Text{Tx: tx, Log: audit.NewLog(st), Scorer: sc, Keep: max(keep, 1)}
			conv := "c"
			if keep == 0 {
				conv = "" // scored alone, kept only if flagged
			}
			texts := []string{"hey how was school", "lol same", "what are u doing later", "my mom says hi", "did u finish the maths homework"}
			for i := range keep {
				if _, err := u.Score(ctx, []textmsg.Message{{Text: texts[i%len(texts)], Surface: textrisk.DM, ConversationID: conv, Author: fmt.Sprint("a", i%2)}}); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; b.Loop(); i++ {
				if _, err := u.Score(ctx, []textmsg.Message{{Text: texts[i%len(texts)], Surface: textrisk.DM, ConversationID: conv, Author: fmt.Sprint("a", i%2)}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
