package cli

import (
	"archive/zip"
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/evidence/s3"
	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
	"github.com/safeguard-oss/safeguard/internal/server"
	"github.com/safeguard-oss/safeguard/internal/store/postgres"
)

func runEvidence(e *env, args []string) int {
	switch {
	case len(args) > 0 && args[0] == "verify":
		return evidenceVerify(e, args[1:])
	case len(args) > 0 && args[0] == "rotate-key":
		return evidenceRotateKey(e, args[1:])
	case len(args) > 0 && args[0] == "keygen":
		return evidenceKeygen(e, args[1:])
	case len(args) > 0 && args[0] == "open":
		return evidenceOpen(e, args[1:])
	case len(args) > 0 && args[0] == "copy":
		return evidenceCopy(e, args[1:])
	}
	usage := "usage: safeguard evidence verify [--key FILE] PACKAGE...\n       safeguard evidence open --key FILE PACKAGE DIR\n       safeguard evidence keygen [--id ID]\n       safeguard evidence rotate-key [--data DIR] [--evidence-dir DIR | --evidence-url URL] [--database-url URL] [--config FILE]\n       safeguard evidence copy --from DIR (--database-url URL | --evidence-url s3://BUCKET/PREFIX)"
	if len(args) == 0 || askedHelp(args) {
		return groupUsage(e, args, usage)
	}
	return fail(e, "evidence", "unknown subcommand %q: want verify, open, keygen, rotate-key or copy", args[0])
}

// evidenceRotateKey rewraps the data key of every evidence item under the
// keyring's current master key, the step between adding a new master key
// and dropping an old one. The keyring comes, as for serve, from
// SAFEGUARD_EVIDENCE_KEYS or the config file, never a flag.
func evidenceRotateKey(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard evidence rotate-key", flag.ContinueOnError)
	data := fs.String("data", envOr("SAFEGUARD_DATA", server.DefaultData), "`directory` whose evidence/ to rotate (env SAFEGUARD_DATA)")
	dir := fs.String("evidence-dir", os.Getenv("SAFEGUARD_EVIDENCE_DIR"), "`directory` of preserved evidence (default DATA/evidence, or the database with --database-url; env SAFEGUARD_EVIDENCE_DIR)")
	url := fs.String("database-url", os.Getenv("SAFEGUARD_DATABASE_URL"), "PostgreSQL `URL` whose evidence to rotate, when no --evidence-dir is given (env SAFEGUARD_DATABASE_URL)")
	bucket := fs.String("evidence-url", os.Getenv("SAFEGUARD_EVIDENCE_URL"), "S3-compatible bucket of preserved evidence to rotate, s3://BUCKET/PREFIX?endpoint=HOST:PORT (`URL`; env SAFEGUARD_EVIDENCE_URL)")
	config := addConfigFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: safeguard evidence rotate-key [flags]

Rewraps every evidence item's data key under the current master key, the
first of SAFEGUARD_EVIDENCE_KEYS (or evidence-keys in the config file).
To rotate: put the new key first, keep the old ones after it, run this
(the server may keep running), then drop the old keys. Each item is read
and checked in full before it moves; the content is not re-encrypted.

flags:`)
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "evidence rotate-key", "unexpected argument %q", rest[0])
	}
	file, err := settle(fs, *config, map[string]*string{"data": data, "evidence-dir": dir, "database-url": url, "evidence-url": bucket})
	if err != nil {
		return fail(e, "evidence rotate-key", "%v", err)
	}
	if *dir != "" && *bucket != "" {
		return fail(e, "evidence rotate-key", "both --evidence-dir and --evidence-url are set: choose one")
	}
	spec, ok := os.LookupEnv(envName("evidence-keys"))
	if !ok {
		spec = file["evidence-keys"]
	}
	if spec == "" {
		return fail(e, "evidence rotate-key", "no keyring: set SAFEGUARD_EVIDENCE_KEYS (new key first) or evidence-keys in --config")
	}
	kr, err := evidence.ParseKeyring(spec)
	if err != nil {
		return fail(e, "evidence rotate-key", "%v", err)
	}
	var st *evidence.Store
	where := *dir
	switch {
	case *bucket != "":
		b, err := s3.Open(*bucket)
		if err != nil {
			return fail(e, "evidence rotate-key", "%v", err)
		}
		where = b.String()
		if st, err = evidence.OpenFiles(b, kr); err != nil {
			return fail(e, "evidence rotate-key", "%v", err)
		}
	case *dir == "" && *url != "":
		db, err := postgres.Open(context.Background(), *url)
		if err != nil {
			return fail(e, "evidence rotate-key", "%v", err)
		}
		defer db.Close()
		where = "the database's evidence"
		st, err = evidence.OpenFiles(db.EvidenceFiles(), kr)
		if err != nil {
			return fail(e, "evidence rotate-key", "%v", err)
		}
	default:
		if *dir == "" {
			*dir = filepath.Join(*data, "evidence")
			where = *dir
		}
		if _, err := os.Stat(*dir); err != nil {
			return fail(e, "evidence rotate-key", "evidence directory: %v", err)
		}
		if st, err = evidence.Open(*dir, kr); err != nil {
			return fail(e, "evidence rotate-key", "%v", err)
		}
	}
	moved, err := st.RewrapAll(context.Background(), kr.Current())
	fmt.Fprintf(e.stdout, "%s: rewrapped %d items under master key %q\n", where, moved, kr.Current())
	if err != nil {
		fmt.Fprintf(e.stderr, "safeguard evidence rotate-key: some items were not moved; keep every key until they are:\n%v\n", err)
		return 1
	}
	if old := slices.DeleteFunc(kr.IDs(), func(id string) bool { return id == kr.Current() }); len(old) > 0 {
		fmt.Fprintf(e.stdout, "every item is under %q: %s may leave the keyring\n", kr.Current(), strings.Join(old, ", "))
	}
	return 0
}

// evidenceCopy copies an evidence directory into a store every server
// shares, sealed as it is: the PostgreSQL store's evidence, for servers on
// PostgreSQL that kept evidence in a directory before it moved to the
// database, or a bucket (--evidence-url).
func evidenceCopy(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard evidence copy", flag.ContinueOnError)
	from := fs.String("from", "", "evidence `directory` to copy (e.g. DATA/evidence)")
	to := fs.String("evidence-url", os.Getenv("SAFEGUARD_EVIDENCE_URL"), "S3-compatible bucket to copy into, s3://BUCKET/PREFIX?endpoint=HOST:PORT (`URL`; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; env SAFEGUARD_EVIDENCE_URL), instead of the database")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: safeguard evidence copy --from DIR --database-url URL
       safeguard evidence copy --from DIR --evidence-url s3://BUCKET/PREFIX?endpoint=HOST:PORT

Copies every evidence item and hold of DIR into the database, or into the
bucket --evidence-url names, as they are (sealed: no key is needed). Run it
again after an interruption; then remove DIR, which serve with evidence in
the database or a bucket refuses to leave behind.

flags:`)
		fs.PrintDefaults()
	}
	if rest, code, ok := parse(fs, e, args); !ok {
		return code
	} else if len(rest) > 0 {
		return fail(e, "evidence copy", "unexpected argument %q", rest[0])
	}
	if *from == "" {
		return fail(e, "evidence copy", "--from DIR is required")
	}
	if _, err := os.Stat(*from); err != nil {
		return fail(e, "evidence copy", "%v", err)
	}
	if *to != "" {
		b, err := s3.Open(*to)
		if err != nil {
			return fail(e, "evidence copy", "%v", err)
		}
		n, err := evidence.Copy(b, evidence.Dir(*from))
		fmt.Fprintf(e.stdout, "copied %d files (items and holds) from %s into %s\n", n, *from, b)
		if err != nil {
			return fail(e, "evidence copy", "%v", err)
		}
		return 0
	}
	st, err := sf.open(context.Background())
	if err != nil {
		return fail(e, "evidence copy", "%v", err)
	}
	defer st.Close()
	db, ok := st.(*postgres.Store)
	if !ok {
		return fail(e, "evidence copy", "--database-url is required: SQLite servers keep evidence in a directory")
	}
	n, err := evidence.Copy(db.EvidenceFiles(), evidence.Dir(*from))
	fmt.Fprintf(e.stdout, "copied %d files (items and holds) from %s into the database\n", n, *from)
	if err != nil {
		return fail(e, "evidence copy", "%v", err)
	}
	return 0
}

// maxExport bounds a data-request export read for verification, which
// is read whole (export.Verify): exports are outside input, and hold
// records, not content. Hotline packages, which hold videos, are read as
// streams, a member at a time.
const maxExport = 4 << 30

// evidenceVerify checks hotline evidence packages: every member the
// manifest lists, with its size and SHA-256, and nothing unlisted; with the
// recipient's private key, also that the key unwraps (so the manifest is
// the one the sender wrote) and every file decrypts to the SHA-256 recorded
// at intake.
func evidenceVerify(e *env, args []string) int {
	fs := flag.NewFlagSet("safeguard evidence verify", flag.ContinueOnError)
	keyFile := fs.String("key", "", "`file` holding the recipient's X25519 private key (64 hex digits): also decrypt and check every file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: safeguard evidence verify [--key FILE] PACKAGE...\n\nChecks hotline evidence packages (ZIP: report XML, JSON twin, encrypted files,\nmanifest.json with the SHA-256 of every member) and data-request exports. Prints one line a package;\nthe exit status is 1 when any package fails, naming each member at fault.\n\nflags:")
		fs.PrintDefaults()
	}
	pkgs, code, ok := parse(fs, e, args)
	if !ok {
		return code
	}
	if len(pkgs) == 0 {
		fs.Usage()
		return 2
	}
	var priv *ecdh.PrivateKey
	if *keyFile != "" {
		var err error
		if priv, err = readPrivateKey(*keyFile); err != nil {
			return fail(e, "evidence verify", "%v", err)
		}
	}
	failed := false
	for _, path := range pkgs {
		if err := verifyPackage(e, path, priv); err != nil {
			fmt.Fprintf(e.stderr, "safeguard evidence verify: %s: %v\n", path, err)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

// openPackage opens a package file as a ZIP of n bytes, read where
// needed, never whole. The caller closes the file.
func openPackage(path string) (f *os.File, n int64, z *zip.Reader, err error) {
	if f, err = os.Open(path); err != nil {
		return nil, 0, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err == nil {
		n = info.Size()
		z, err = zip.NewReader(f, n)
	}
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, n, z, nil
}

func verifyPackage(e *env, path string, priv *ecdh.PrivateKey) error {
	f, n, z, err := openPackage(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if manifestFormat(z) == export.Format {
		if n > maxExport {
			return fmt.Errorf("larger than %d GiB", maxExport>>30)
		}
		pkg, err := io.ReadAll(io.NewSectionReader(f, 0, n))
		if err != nil {
			return err
		}
		m, sum, err := export.Verify(pkg)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: ok: data request %d export, %d members, created %s; members and digests check; manifest sha256 %x\n",
			path, m.RequestID, len(m.Members), m.Created.UTC().Format("2006-01-02T15:04:05Z"), sum)
		return nil
	}
	m, err := hotline.Verify(f, n)
	if err != nil {
		return err
	}
	how := "members and digests check (no key: files not decrypted)"
	if priv != nil {
		c, err := hotline.Open(f, n, priv)
		if err != nil {
			return err
		}
		how = fmt.Sprintf("members and digests check; key unwraps; %d files decrypt to their intake SHA-256", len(c.Files()))
	}
	fmt.Fprintf(e.stdout, "%s: ok: case %s, report %d, %d members, created %s; %s; manifest sha256 %s\n",
		path, m.CaseID, m.ReportID, len(m.Members), m.Created.UTC().Format("2006-01-02T15:04:05Z"), how, manifestSum(z))
	return nil
}

// manifestFormat reads the format a package's manifest.json declares (both
// kinds of package name it there), or "" when it cannot.
func manifestFormat(z *zip.Reader) string {
	for _, f := range z.File {
		if f.Name != hotline.Manifest {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return ""
		}
		defer rc.Close()
		var m struct {
			Format string `json:"format"`
		}
		if json.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(&m) != nil {
			return ""
		}
		return m.Format
	}
	return ""
}

// manifestSum is the SHA-256 of manifest.json, the digest the sender's
// audit log recorded when it wrote the package, so the two can be compared.
func manifestSum(z *zip.Reader) string {
	for _, f := range z.File {
		if f.Name == hotline.Manifest {
			rc, err := f.Open()
			if err != nil {
				return "?"
			}
			defer rc.Close()
			h := sha256.New()
			if _, err := io.Copy(h, io.LimitReader(rc, 16<<20)); err != nil {
				return "?"
			}
			return hex.EncodeToString(h.Sum(nil))
		}
	}
	return "?"
}
