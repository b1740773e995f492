// Package derrors is the one vocabulary of failure kinds that every domain
// package's errors belong to, so that the HTTP layer maps a kind to a status
// in one table and the CLI to a message, whatever package the error came
// from.
//
// A domain package declares its sentinels with New, keeping its own words
// ("no such evidence item") while belonging to a kind:
//
//	var ErrNotFound = derrors.New(derrors.NotFound, "no such evidence item")
//
// and wraps them with what was not found: fmt.Errorf("item %s: %w", id,
// ErrNotFound). errors.Is finds both the sentinel and its kind.
package derrors

import (
	"errors"
	"sync"
)

// The kinds. They are only ever added to.
var (
	// NotFound: the thing named does not exist (or is not the caller's to see).
	NotFound = errors.New("not found")
	// Exists: creating something whose name or key is taken.
	Exists = errors.New("already exists")
	// Conflict: the thing changed since the caller read it, or another
	// change came first.
	Conflict = errors.New("conflict")
	// WrongState: the change is not allowed in the thing's present state
	// (deciding a decided case, editing a submitted report).
	WrongState = errors.New("not allowed in this state")
	// Invalid: the input breaks a rule; the message names it.
	Invalid = errors.New("invalid")
	// Forbidden: the caller may not do this.
	Forbidden = errors.New("forbidden")
	// TooLarge: the input is over a limit.
	TooLarge = errors.New("too large")
	// Unavailable: a dependency is missing or failing; trying again later
	// may work.
	Unavailable = errors.New("unavailable")
)

var kinds = []error{NotFound, Exists, Conflict, WrongState, Invalid, Forbidden, TooLarge, Unavailable}

// Error is a sentinel of a domain package: its own message, one kind, and
// optionally a stable code for clients that need finer distinctions than
// the kind (e.g. "second_reviewer", a conflict of its own).
type Error struct {
	kind error
	msg  string
	code string
}

// New returns a sentinel of kind with message msg.
func New(kind error, msg string) *Error { return &Error{kind: kind, msg: msg} }

// WithCode returns a copy of e that carries a client code.
func (e *Error) WithCode(code string) *Error { c := *e; c.code = code; return &c }

func (e *Error) Error() string { return e.msg }

// Unwrap makes errors.Is(e, e's kind) true.
func (e *Error) Unwrap() error { return e.kind }

// Kind returns the kind err belongs to, or nil when it belongs to none (an
// unexpected failure: the server's fault). An error of no kind is offered
// to the classifiers the store packages registered, so a driver's "disk
// full" or "connection refused" is Unavailable wherever it surfaces.
func Kind(err error) error {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	if err == nil {
		return nil
	}
	classifiers.mu.RLock()
	defer classifiers.mu.RUnlock()
	for _, f := range classifiers.fs {
		if k := f(err); k != nil {
			return k
		}
	}
	return nil
}

var classifiers struct {
	mu sync.RWMutex
	fs []func(error) error
}

// Classify registers f, which gives the kind of errors from outside the
// vocabulary (a database driver's) or nil. The store packages register
// theirs when loaded: that is the store boundary, where a driver's errors
// get the meaning the rest of the program acts on.
func Classify(f func(error) error) {
	classifiers.mu.Lock()
	defer classifiers.mu.Unlock()
	classifiers.fs = append(classifiers.fs, f)
}

// Code returns the client code of the first Error in err's chain that has
// one, or "".
func Code(err error) string {
	for err != nil {
		if e, ok := err.(*Error); ok && e.code != "" {
			return e.code
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if c := Code(x); c != "" {
					return c
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// Wrap gives err kind, keeping err's message and chain: for errors from
// outside the vocabulary (a validation error type, a library's error).
func Wrap(err error, kind error) error {
	if err == nil {
		return nil
	}
	return &wrapped{err: err, kind: kind}
}

type wrapped struct{ err, kind error }

func (w *wrapped) Error() string   { return w.err.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.err, w.kind} }
