package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textrisk"
)

// TestTextRetention: a server prunes scored text past its retention from
// the start, keeps what a case names, and counts what it deleted on
// /metrics; scoring goes on beside it.
func TestTextRetention(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			cfg, st := be.open(t)
			cfg.TextRetention = 30 * 24 * time.Hour
			long := time.Now().Add(-40 * 24 * time.Hour)
			for _, conv := range []string{"silent", "filed"} {
				for i := range 3 {
					m, err := st.AddMessage(ctx, textmsg.Message{ConversationID: conv, Author: "a", Surface: textrisk.DM,
						Text: "hi", Labels: []string{}, ReceivedAt: long.Add(time.Duration(i) * time.Minute)}, textmsg.Keep)
					if err != nil {
						t.Fatal(err)
					}
					if conv == "filed" && i == 0 {
						if err := st.SetFiled(ctx, m.ID, textmsg.Filed{CaseID: 1}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			base, key := start(t, cfg, st)
			platform := client{t, base, key}
			platform.json("POST", "/v1/text", map[string]any{"text": "see you tomorrow", "surface": "dm", "conversation_id": "today"}, 200, nil)

			want := []string{`safeguard_text_pruned_total{what="conversations"} 1`, `safeguard_text_pruned_total{what="messages"} 3`}
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				_, _, body := get(t, base+"/metrics")
				if strings.Contains(body, want[0]) && strings.Contains(body, want[1]) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/metrics lacks %v", want)
				}
			}
			for conv, n := range map[string]int{"silent": 0, "filed": 3, "today": 1} {
				if ms, err := st.Conversation(ctx, conv, 10); err != nil || len(ms) != n {
					t.Errorf("conversation %q: %d messages, %v; want %d", conv, len(ms), err, n)
				}
			}
		})
	}
}
