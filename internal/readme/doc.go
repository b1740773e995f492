// Package readme holds the test that a fresh clone does what the README
// says: it copies the repository's tracked files (so no ../shared and no
// generated file beyond those committed), builds the binary with a plain go
// build, starts `safeguard serve` on an empty store, fetches /remove's
// hasher, and runs the README's first-start curl commands, checking each
// documented answer. A README that drifts from the service fails it.
package readme
