package textrisk

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

type labelledConversation struct {
	id, label string
	turns     []Turn
	grooming  []int // indices of the messages marked g
}

// readConversations reads testdata/text/conversations.txt (format in its
// header).
func readConversations(t *testing.T, path string) []labelledConversation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelledConversation
	var minor string
	var age int
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "conv ") {
			f := strings.Fields(line)
			c := labelledConversation{id: f[1], label: f[2]}
			minor, age = "", 0
			for _, kv := range f[3:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "minor":
					minor = v
				case "age":
					age, _ = strconv.Atoi(v)
				}
			}
			out = append(out, c)
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || len(out) == 0 {
			t.Fatalf("%s:%d: want MARK<TAB>AUTHOR<TAB>TEXT after a conv line", path, n)
		}
		c := &out[len(out)-1]
		m := Message{Text: parts[2], Surface: DM}
		if minor != "" && parts[1] != minor {
			m.TargetAge = age
		}
		if parts[0] == "g" {
			c.grooming = append(c.grooming, len(c.turns))
		}
		c.turns = append(c.turns, Turn{Author: parts[1], Message: m})
	}
	return out
}

// Grooming conversations are flagged by their third grooming message at
// the latest, and benign ones never.
func TestConversationEscalation(t *testing.T) {
	s := mustScorer(t)
	convs := readConversations(t, "../../testdata/text/conversations.txt")
	if len(convs) < 20 {
		t.Fatalf("%d conversations: want the file's 20 or more", len(convs))
	}
	for _, c := range convs {
		r := s.ScoreConversation(c.turns)
		switch c.label {
		case Grooming:
			if len(c.grooming) < 3 {
				t.Fatalf("%s: %d grooming messages marked: want 3 or more", c.id, len(c.grooming))
			}
			if !r.Flagged || r.FlaggedAt > c.grooming[2] {
				t.Errorf("%s: flagged %v at message %d: want by message %d (the third grooming one); score %.2f, moves %+v", c.id, r.Flagged, r.FlaggedAt, c.grooming[2], r.Score, r.Moves)
			}
			if len(r.Moves) == 0 || r.Author != c.turns[c.grooming[0]].Author {
				t.Errorf("%s: author %q, %d moves: want the groomer's messages as moves", c.id, r.Author, len(r.Moves))
			}
			// No single one of the first two grooming messages needs to
			// flag: the point is accumulation across stages.
			t.Logf("%s: flagged at %d (grooming messages %v), score %.2f, stages %v", c.id, r.FlaggedAt, c.grooming, r.Score, r.Stages)
		case "none":
			if r.Flagged {
				t.Errorf("%s: benign conversation flagged at message %d, score %.2f by %s: moves %+v", c.id, r.FlaggedAt, r.Score, r.Author, r.Moves)
			}
		default:
			t.Fatalf("%s: label %q", c.id, c.label)
		}
	}
}

// The conversation score accumulates where the single messages do not.
func TestConversationAccumulates(t *testing.T) {
	s := mustScorer(t)
	msgs := []string{"how old r u?", "dont tell anyone ok", "add me on snap"}
	var turns []Turn
	for _, m := range msgs {
		msg := Message{Text: m, Surface: DM}
		if r := s.Score(msg); r.Flagged {
			t.Fatalf("%q alone is flagged (%.2f): pick weaker messages for this test", m, r.Score)
		}
		turns = append(turns, Turn{Author: "a", Message: msg})
	}
	r := s.ScoreConversation(turns)
	if !r.Flagged || r.FlaggedAt != 2 {
		t.Fatalf("flagged %v at %d, score %.2f: want flagged at the third message", r.Flagged, r.FlaggedAt, r.Score)
	}
	if len(r.Moves) != 3 || len(r.Stages) != 3 {
		t.Fatalf("moves %+v, stages %+v: want each message as a move and a stage", r.Moves, r.Stages)
	}
	// Another author's messages do not add to this one's.
	turns = append(turns[:2:2], Turn{Author: "b", Message: Message{Text: "add me on snap", Surface: DM}})
	if r := s.ScoreConversation(turns); r.Flagged {
		t.Fatalf("evidence from two authors combined: %+v", r)
	}
}

// The holdout conversations were never tuned on: only counts are printed.
func TestConversationHoldout(t *testing.T) {
	conversationHoldout(t, "../../testdata/text/conversations-holdout.txt", 8)
}

// The second holdout of conversations was written blind by another hand
// (with holdout4.tsv) and is never tuned on: only counts are printed.
func TestConversationHoldout2(t *testing.T) {
	conversationHoldout(t, "../../testdata/text/conversations-holdout2.txt", 5)
}

func conversationHoldout(t *testing.T, path string, least int) {
	s := mustScorer(t)
	var groom, early, benign, clear int
	for _, c := range readConversations(t, path) {
		r := s.ScoreConversation(c.turns)
		if c.label == Grooming {
			groom++
			if r.Flagged && len(c.grooming) >= 3 && r.FlaggedAt <= c.grooming[2] {
				early++
			}
		} else {
			benign++
			if !r.Flagged {
				clear++
			}
		}
	}
	t.Logf("%s: grooming conversations flagged by their third grooming message: %d of %d; benign ones not flagged: %d of %d", path, early, groom, clear, benign)
	if groom < least || benign < least || early < groom*3/4 || clear < benign*3/4 {
		t.Errorf("%s: %d of %d grooming flagged in time, %d of %d benign clear: want three quarters or more of each", path, early, groom, clear, benign)
	}
}

// The fifth tuning set's conversations were written by another hand on
// 2026-12-03 and are tuned on; the figure is reported per file.
func TestConversationTune5(t *testing.T) {
	conversationHoldout(t, "../../testdata/text/conversations-tune5.txt", 12)
}

// The fifth holdout's conversations were written blind on 2026-12-03 by
// another hand (with holdout5.tsv), scored once at the merge, never tuned
// on: only counts are printed.
func TestConversationHoldout5(t *testing.T) {
	conversationHoldout(t, "../../testdata/text/conversations-holdout5.txt", 6)
}

// The sixth holdout's conversations were written blind on 2026-12-03 by
// another hand (with holdout6.tsv), scored once at the merge, never tuned
// on: only counts are printed.
func TestConversationHoldout6(t *testing.T) {
	conversationHoldout(t, "../../testdata/text/conversations-holdout6.txt", 6)
}
