package hotline

import (
	"archive/zip"
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// maxMeta bounds manifest.json and key.json: a package is outside input.
const maxMeta = 16 << 20

// Contents is an opened package.
type Contents struct {
	Manifest  ManifestFile
	ReportXML []byte
	// Conversations is the decrypted conversations CSV, if the package
	// has one.
	Conversations []byte
	// Files maps each evidence id to its decrypted content, checked
	// against the SHA-256 recorded at intake.
	Files map[string][]byte
}

// Verify checks a package without its key: every member the manifest
// lists is present with the listed size and SHA-256, and nothing else is
// there but key.json. The error lists every problem, naming the member.
func Verify(pkg []byte) (ManifestFile, error) {
	m, _, _, err := verify(pkg)
	return m, err
}

// Open verifies a package, unwraps its content key with the recipient's
// private key (which fails if the manifest was changed), decrypts every
// file and checks it against the SHA-256 recorded at intake.
func Open(pkg []byte, priv *ecdh.PrivateKey) (*Contents, error) {
	m, members, manifestSum, err := verify(pkg)
	if err != nil {
		return nil, err
	}
	kb, err := ReadMember(members[KeyFile], maxMeta)
	if err != nil {
		return nil, fmt.Errorf("hotline: %s: %w", KeyFile, err)
	}
	var k KeyJSON
	if err := json.Unmarshal(kb, &k); err != nil {
		return nil, fmt.Errorf("hotline: %s: %w", KeyFile, err)
	}
	key, err := unwrap(k, priv, manifestSum[:])
	if err != nil {
		return nil, fmt.Errorf("hotline: %w", err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	c := &Contents{Manifest: m, Files: map[string][]byte{}}
	var problems []error
	for _, mem := range m.Members {
		b, err := ReadMember(members[mem.Name], mem.Size)
		if err != nil {
			return nil, fmt.Errorf("hotline: %s: %w", mem.Name, err)
		}
		switch {
		case mem.Name == ReportXML:
			c.ReportXML = b
		case mem.EvidenceID != "" || mem.Name == ConversationsCSV:
			if len(b) < aead.NonceSize() {
				problems = append(problems, fmt.Errorf("%s: too short to decrypt", mem.Name))
				continue
			}
			plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(mem.Name))
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: does not decrypt (altered, or moved from another member)", mem.Name))
				continue
			}
			if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) != mem.PlainSHA256 {
				problems = append(problems, fmt.Errorf("%s: content SHA-256 %x is not the %s recorded at intake", mem.Name, sum, mem.PlainSHA256))
				continue
			}
			if mem.Name == ConversationsCSV {
				c.Conversations = plain
			} else {
				c.Files[mem.EvidenceID] = plain
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("hotline: package does not verify: %w", errors.Join(problems...))
	}
	return c, nil
}

// verify checks members against the manifest and returns the manifest, the
// members by name and the manifest's SHA-256.
func verify(pkg []byte) (ManifestFile, map[string]*zip.File, [32]byte, error) {
	var m ManifestFile
	var sum [32]byte
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return m, nil, sum, fmt.Errorf("hotline: not a ZIP file: %w", err)
	}
	members := map[string]*zip.File{}
	for _, f := range z.File {
		if members[f.Name] != nil {
			return m, nil, sum, fmt.Errorf("hotline: package does not verify: %s appears twice", f.Name)
		}
		members[f.Name] = f
	}
	mb, err := ReadMember(members[Manifest], maxMeta)
	if err != nil {
		return m, nil, sum, fmt.Errorf("hotline: %s: %w", Manifest, err)
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return m, nil, sum, fmt.Errorf("hotline: %s: %w", Manifest, err)
	}
	if m.Format != Format {
		return m, nil, sum, fmt.Errorf("hotline: %s: format %q is not %s", Manifest, m.Format, Format)
	}
	sum = sha256.Sum256(mb)
	var problems []error
	listed := map[string]bool{Manifest: true, KeyFile: true}
	for _, mem := range m.Members {
		if listed[mem.Name] {
			problems = append(problems, fmt.Errorf("%s: listed twice, or names the manifest or key", mem.Name))
			continue
		}
		listed[mem.Name] = true
		f := members[mem.Name]
		if f == nil {
			problems = append(problems, fmt.Errorf("%s: missing", mem.Name))
			continue
		}
		b, err := ReadMember(f, mem.Size)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", mem.Name, err))
			continue
		}
		if int64(len(b)) != mem.Size {
			problems = append(problems, fmt.Errorf("%s: %d bytes, the manifest says %d", mem.Name, len(b), mem.Size))
			continue
		}
		if s := sha256.Sum256(b); !strings.EqualFold(hex.EncodeToString(s[:]), mem.SHA256) {
			problems = append(problems, fmt.Errorf("%s: SHA-256 %x does not match the manifest's %s (altered)", mem.Name, s, mem.SHA256))
		}
	}
	for _, name := range []string{ReportXML, ReportJSON} {
		if !slices.ContainsFunc(m.Members, func(mem Member) bool { return mem.Name == name }) {
			problems = append(problems, fmt.Errorf("%s: not in the manifest", name))
		}
	}
	if members[KeyFile] == nil {
		problems = append(problems, fmt.Errorf("%s: missing", KeyFile))
	}
	for _, f := range z.File {
		if !listed[f.Name] {
			problems = append(problems, fmt.Errorf("%s: not in the manifest (added)", f.Name))
		}
	}
	if len(problems) > 0 {
		return m, nil, sum, fmt.Errorf("hotline: package does not verify: %w", errors.Join(problems...))
	}
	return m, members, sum, nil
}

// ReadMember reads a member of a package (nil: missing), refusing more than
// limit bytes, so a hostile package cannot make us inflate without end.
// Data-request exports (internal/lerequest/export) read theirs with it too.
func ReadMember(f *zip.File, limit int64) ([]byte, error) {
	if f == nil {
		return nil, errors.New("missing")
	}
	if limit < 0 {
		return nil, errors.New("negative size in the manifest")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
