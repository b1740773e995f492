package cli

import (
	"archive/zip"
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/lereport/hotline"
	"github.com/safeguard-oss/safeguard/internal/lerequest/export"
)

func runEvidence(e *env, args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(e.stderr, "usage: safeguard evidence verify [--key FILE] PACKAGE...")
		if len(args) == 0 {
			return 2
		}
		return fail(e, "evidence", "unknown subcommand %q: want verify", args[0])
	}
	return evidenceVerify(e, args[1:])
}

// maxPackage bounds a package read for verification; packages are outside
// input, and the largest a hotline sends is a few hundred megabytes.
const maxPackage = 4 << 30

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
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fail(e, "evidence verify", "%v", err)
		}
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err == nil {
			priv, err = ecdh.X25519().NewPrivateKey(raw)
		}
		if err != nil {
			return fail(e, "evidence verify", "--key %s: want an X25519 private key as 64 hex digits: %v", *keyFile, err)
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

func verifyPackage(e *env, path string, priv *ecdh.PrivateKey) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	pkg, err := io.ReadAll(io.LimitReader(f, maxPackage+1))
	if err != nil {
		return err
	}
	if len(pkg) > maxPackage {
		return fmt.Errorf("larger than %d GiB", maxPackage>>30)
	}
	if manifestFormat(pkg) == export.Format {
		m, sum, err := export.Verify(pkg)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: ok: data request %d export, %d members, created %s; members and digests check; manifest sha256 %x\n",
			path, m.RequestID, len(m.Members), m.Created.UTC().Format("2006-01-02T15:04:05Z"), sum)
		return nil
	}
	m, err := hotline.Verify(pkg)
	if err != nil {
		return err
	}
	how := "members and digests check (no key: files not decrypted)"
	if priv != nil {
		c, err := hotline.Open(pkg, priv)
		if err != nil {
			return err
		}
		how = fmt.Sprintf("members and digests check; key unwraps; %d files decrypt to their intake SHA-256", len(c.Files))
	}
	sum := manifestSum(pkg)
	fmt.Fprintf(e.stdout, "%s: ok: case %s, report %d, %d members, created %s; %s; manifest sha256 %s\n",
		path, m.CaseID, m.ReportID, len(m.Members), m.Created.UTC().Format("2006-01-02T15:04:05Z"), how, sum)
	return nil
}

// manifestFormat reads the format a package's manifest.json declares (both
// kinds of package name it there), or "" when it cannot.
func manifestFormat(pkg []byte) string {
	r, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return ""
	}
	for _, f := range r.File {
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
func manifestSum(pkg []byte) string {
	r, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return "?"
	}
	for _, f := range r.File {
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
