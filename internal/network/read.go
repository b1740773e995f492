package network

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ReadStats says what Read did with its input.
type ReadStats struct {
	Lines    int // lines read, blank ones included
	Accepted int // new events added
	Repeated int // events whose id had been accepted before, ignored
	Bad      int // lines skipped as malformed
	// The first MaxBadKept bad lines, each naming its line and problem.
	BadLines []LineError
}

// MaxBadKept bounds ReadStats.BadLines, so a file of garbage does not fill
// memory with error messages; Bad still counts them all.
const MaxBadKept = 100

// LineError is one skipped line.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Read adds every good JSON line of r to a and skips bad ones, counting and
// naming them; what was accepted before a bad line stays accepted. The
// error is only for failures to read r.
func Read(r io.Reader, a *Activity) (ReadStats, error) {
	return Decode(r, a.Add)
}

// Decode calls add with every good JSON line of r, skipping bad ones as
// Read does; add reports whether the event was new (counted Accepted) or a
// repeat.
func Decode(r io.Reader, add func(Event) bool) (ReadStats, error) {
	var st ReadStats
	br := bufio.NewReaderSize(r, MaxLine+1)
	for {
		line, long, err := readLine(br)
		if len(line) > 0 || long {
			st.Lines++
			st.add(add, line, long)
		} else if err == nil {
			st.Lines++ // blank
		}
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("reading events after line %d: %w", st.Lines, err)
		}
	}
}

func (st *ReadStats) add(add func(Event) bool, line []byte, long bool) {
	var err error
	if long {
		err = fmt.Errorf("line is over the %d-byte limit", MaxLine)
	} else if len(bytes.TrimSpace(line)) == 0 {
		return
	} else {
		var e Event
		if e, err = ParseEvent(line); err == nil {
			if add(e) {
				st.Accepted++
			} else {
				st.Repeated++
			}
			return
		}
	}
	st.Bad++
	if len(st.BadLines) < MaxBadKept {
		st.BadLines = append(st.BadLines, LineError{st.Lines, err})
	}
}

// readLine returns the next line without its newline; long is true when the
// line was over MaxLine, in which case its bytes are discarded.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	line, err = br.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		long = true
		_, err = br.ReadSlice('\n')
	}
	if long {
		return nil, true, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")), false, err
}
