package cli

// Making the keys the evidence chain needs, and opening a package with
// one: evidence keygen (a master key for SAFEGUARD_EVIDENCE_KEYS), hotline
// keygen (the recipient's X25519 key pair) and evidence open (verify a
// package, then write its decrypted members).

import (
	"archive/zip"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
)

// evidenceKeygen prints a new master key as a keyring entry.
func evidenceKeygen(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard evidence keygen", flag.ContinueOnError)
	id := fs.String("id", "", "the key's `id` (default: the current month, e.g. 2026-12)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: safeguard evidence keygen [--id ID]

Prints a new random evidence master key as "id:base64", the form of
SAFEGUARD_EVIDENCE_KEYS. A first keyring is that line; to rotate, put the
new line first, the old after a comma, restart and run
safeguard evidence rotate-key. Keep it in a secret store, never in a file
others can read.

flags:`)
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "evidence keygen", "unexpected argument %q", rest[0])
	}
	spec, err := evidence.NewKeyringSpec(*id)
	if err != nil {
		return fail(e, "evidence keygen", "%v", err)
	}
	fmt.Fprintln(e.stdout, spec)
	return 0
}

// runHotline is the hotline command: the recipient's side of packages.
func runHotline(e *env, args []string) int {
	if len(args) > 0 && args[0] == "keygen" {
		return hotlineKeygen(e, args[1:])
	}
	usage := "usage: safeguard hotline keygen --out PREFIX"
	if len(args) == 0 || askedHelp(args) {
		return groupUsage(e, args, usage)
	}
	fmt.Fprintln(e.stderr, usage)
	return fail(e, "hotline", "unknown subcommand %q: want keygen", args[0])
}

// hotlineKeygen makes a recipient's X25519 key pair: PREFIX.key, the
// private key in hex (0600), for evidence verify/open --key; PREFIX.pub,
// the public key in base64, the recipient_key a package is made for.
func hotlineKeygen(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard hotline keygen", flag.ContinueOnError)
	out := fs.String("out", "", "`prefix` of the files to write: PREFIX.key (private, 0600) and PREFIX.pub (public)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: safeguard hotline keygen --out PREFIX

Makes a hotline's X25519 key pair for evidence packages. PREFIX.key is the
private key (64 hex digits, mode 0600): it stays with the hotline and opens
packages (safeguard evidence open --key PREFIX.key). PREFIX.pub is the
public key in base64: the service sends it as recipient_key when it makes a
package (POST /v1/le-reports/{id}/package). Existing files are not
overwritten.

flags:`)
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "hotline keygen", "unexpected argument %q", rest[0])
	}
	if *out == "" {
		return fail(e, "hotline keygen", "--out PREFIX is required")
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return fail(e, "hotline keygen", "%v", err)
	}
	pub := base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())
	if err := writeNew(*out+".key", 0o600, text(hex.EncodeToString(priv.Bytes())+"\n")); err != nil {
		return fail(e, "hotline keygen", "%v", err)
	}
	if err := writeNew(*out+".pub", 0o644, text(pub+"\n")); err != nil {
		return fail(e, "hotline keygen", "%v", err)
	}
	fmt.Fprintf(e.stdout, "private key: %s.key (keep it secret)\npublic key:  %s.pub\nrecipient_key: %s\n", *out, *out, pub)
	return 0
}

// writeNew writes a file that must not exist yet with what write writes.
func writeNew(path string, mode os.FileMode, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// text is a write for writeNew of s.
func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// readPrivateKey reads an X25519 private key file (64 hex digits).
func readPrivateKey(path string) (*ecdh.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("--key %s: want an X25519 private key as 64 hex digits: %v", path, err)
	}
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("--key %s: want an X25519 private key as 64 hex digits: %v", path, err)
	}
	return priv, nil
}

// evidenceID is how a package names an evidence item: only such names
// become file names.
var evidenceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// evidenceOpen verifies a package, then writes its decrypted members to a
// new directory: report.xml, report.json, manifest.json, files/<evidence
// id> and conversations.csv if there is one.
func evidenceOpen(e *env, args []string) int {
	set := flag.NewFlagSet("safeguard evidence open", flag.ContinueOnError)
	keyFile := set.String("key", "", "`file` holding the recipient's X25519 private key (64 hex digits)")
	set.Usage = func() {
		fmt.Fprintln(set.Output(), `usage: safeguard evidence open --key FILE PACKAGE DIR

Verifies a hotline evidence package (every member's size and SHA-256, the
key wrap bound to the manifest, each file's intake SHA-256), and only then
writes its decrypted members to DIR, which must not exist or be empty
(made 0700; files 0600): report.xml, report.json, manifest.json,
files/<evidence id>, conversations.csv. A package that fails is not opened.

flags:`)
		set.PrintDefaults()
	}
	rest, code, ok := parse(set, e, args)
	if !ok {
		return code
	}
	if *keyFile == "" || len(rest) != 2 {
		set.Usage()
		return 2
	}
	priv, err := readPrivateKey(*keyFile)
	if err != nil {
		return fail(e, "evidence open", "%v", err)
	}
	f, n, z, err := openPackage(rest[0])
	if err != nil {
		return fail(e, "evidence open", "%s: %v", rest[0], err)
	}
	defer f.Close()
	c, err := hotline.Open(f, n, priv)
	if err != nil {
		return fail(e, "evidence open", "%s: %v", rest[0], err)
	}
	dir := rest[1]
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fail(e, "evidence open", "%s is not empty: give a new directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(e, "evidence open", "%v", err)
	}
	for _, mem := range c.Files() {
		if !evidenceID.MatchString(mem.EvidenceID) {
			return fail(e, "evidence open", "%s: evidence id %q is not 32 hex digits; not written", rest[0], clipArg(mem.EvidenceID))
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o700); err != nil {
		return fail(e, "evidence open", "%v", err)
	}
	// Open checked every member; writing reads each again, as a stream
	// (a file's content decrypted a segment at a time), so what is
	// written fails only if the package changed since. Then nothing of
	// it is left.
	if err := extract(c, z, dir); err != nil {
		for _, name := range []string{hotline.ReportXML, hotline.ReportJSON, hotline.Manifest, "conversations.csv"} {
			os.Remove(filepath.Join(dir, name))
		}
		os.RemoveAll(filepath.Join(dir, "files"))
		return fail(e, "evidence open", "%s: %v (nothing written)", rest[0], err)
	}
	fmt.Fprintf(e.stdout, "%s: verified; case %s, report %d: %d files decrypted to their intake SHA-256, written to %s\n",
		rest[0], c.Manifest.CaseID, c.Manifest.ReportID, len(c.Files()), dir)
	return 0
}

// extract writes an opened package's members into dir: report.xml,
// report.json and manifest.json as they are, files/<evidence id> and
// conversations.csv decrypted.
func extract(c *hotline.Contents, z *zip.Reader, dir string) error {
	if err := writeNew(filepath.Join(dir, hotline.ReportXML), 0o600, text(string(c.ReportXML))); err != nil {
		return err
	}
	for _, f := range z.File {
		if f.Name != hotline.ReportJSON && f.Name != hotline.Manifest {
			continue
		}
		if err := writeNew(filepath.Join(dir, f.Name), 0o600, func(w io.Writer) error {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(w, rc)
			return err
		}); err != nil {
			return err
		}
	}
	out := map[string]string{}
	for _, mem := range c.Files() {
		out[mem.Name] = filepath.Join("files", mem.EvidenceID)
	}
	for _, mem := range c.Manifest.Members {
		if mem.Name == hotline.ConversationsCSV {
			out[mem.Name] = "conversations.csv"
		}
	}
	for member, name := range out {
		if err := writeNew(filepath.Join(dir, name), 0o600, func(w io.Writer) error { return c.Decrypt(w, member) }); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func clipArg(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
