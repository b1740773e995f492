package textrisk

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on labelled files, which come from outside: a line longer than
// MaxLine or a file with more than MaxExamples examples is refused rather
// than read into memory.
const (
	MaxLine     = 64 << 10
	MaxExamples = 1 << 20
)

// ReadExamples reads reviewed or labelled messages, one a line, as tab-
// separated columns label, surface, text. The label is grooming,
// sextortion or sexual_comment (or confirmed) for a harmful message, none
// (or dismissed) for a harmless one; the surface may carry context as
// ParseContext reads it ("comment,child", "dm,age=13"). A first line
// (after comments) "label<TAB>surface<TAB>text" is a header; blank lines and lines starting
// with "#" are skipped. Errors name the line.
//
// A file of labelled conversations (its first line that is not blank or
// a comment starts "conv ") is read by ReadConversations, and its
// examples are ConversationExamples.
func ReadExamples(r io.Reader) ([]Example, error) {
	br := bufio.NewReaderSize(r, MaxLine)
	if isConversations(br) {
		cs, err := ReadConversations(br)
		if err != nil {
			return nil, err
		}
		return ConversationExamples(cs), nil
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	var out []Example
	first := true
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if first && strings.HasPrefix(line, "label\t") {
			first = false
			continue
		}
		first = false
		e, err := parseExample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		e.Line = n
		if len(out) == MaxExamples {
			return nil, fmt.Errorf("line %d: more than %d examples", n, MaxExamples)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d KiB", len(out)+1, MaxLine>>10)
		}
		return nil, err
	}
	return out, nil
}

// isConversations peeks at the first line that is not blank or a comment,
// within the first MaxLine bytes.
func isConversations(br *bufio.Reader) bool {
	head, _ := br.Peek(MaxLine)
	for len(head) > 0 {
		line, rest, _ := strings.Cut(string(head), "\n")
		head = []byte(rest)
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(line, "#") {
			return strings.HasPrefix(line, "conv ")
		}
	}
	return false
}

func parseExample(line string) (Example, error) {
	label, rest, ok1 := strings.Cut(line, "\t")
	surface, text, ok2 := strings.Cut(rest, "\t")
	if !ok1 || !ok2 {
		return Example{}, errors.New("want three tab-separated columns: label, surface, text")
	}
	if !utf8.ValidString(text) {
		return Example{}, errors.New("text is not valid UTF-8")
	}
	m, err := ParseContext(surface)
	if err != nil {
		return Example{}, err
	}
	m.Text = text
	e := Example{Message: m}
	switch label = strings.TrimSpace(label); label {
	case Grooming, Sextortion, SexualComment:
		e.Label, e.Positive = label, true
	case "confirmed":
		e.Positive = true
	case "none", "dismissed":
	default:
		return Example{}, fmt.Errorf("label %q: want grooming, sextortion, sexual_comment, confirmed, none or dismissed", truncate(label, 40))
	}
	return e, nil
}

// ReadMessage reads one line of text to score: "surface<TAB>text" or just
// text, in which case the surface is a DM.
func ReadMessage(line string) (Message, error) {
	if surface, text, ok := strings.Cut(line, "\t"); ok {
		m, err := ParseContext(surface)
		if err != nil {
			return Message{}, err
		}
		m.Text = text
		return m, nil
	}
	return Message{Text: line, Surface: DM}, nil
}
