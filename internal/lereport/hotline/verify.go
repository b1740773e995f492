package hotline

import (
	"archive/zip"
	"bytes"
	"crypto/cipher"
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

// maxMeta bounds manifest.json, key.json and report.xml: a package is
// outside input.
const maxMeta = 16 << 20

// Contents is an opened package: its members checked against the
// manifest, its content key unwrapped and every encrypted member decrypted
// once to the SHA-256 recorded at intake. Decrypt reads an encrypted
// member's content again, to keep it.
type Contents struct {
	Manifest  ManifestFile
	ReportXML []byte

	members map[string]*zip.File
	aead    cipher.AEAD // under the content key
	v1      bool        // Manifest.Format is FormatV1
}

// Files lists the package's files as the manifest does: each with its
// member name and evidence id.
func (c *Contents) Files() []Member {
	var fs []Member
	for _, mem := range c.Manifest.Members {
		if mem.EvidenceID != "" {
			fs = append(fs, mem)
		}
	}
	return fs
}

// Decrypt writes to w the content of an encrypted member, a file
// (FileMember) or ConversationsCSV, decrypted as it is read and checked as
// Open checked it: a segment is written only once it authenticates, and
// the last only once the content's SHA-256 is the one recorded at intake,
// so on an error w has what came before the segment at fault. (The
// member's own SHA-256 in the manifest is not computed again: the
// segments' authentication and the ZIP's CRC cover what it did.) A
// version 1 member is decrypted whole.
func (c *Contents) Decrypt(w io.Writer, name string) error {
	i := slices.IndexFunc(c.Manifest.Members, func(mem Member) bool { return mem.Name == name && sealed(mem) })
	if i < 0 {
		return fmt.Errorf("hotline: %s: not an encrypted member of the package", name)
	}
	mem := c.Manifest.Members[i]
	rc, err := c.members[name].Open()
	if err != nil {
		return fmt.Errorf("hotline: %s: %w", name, err)
	}
	defer rc.Close()
	r, err := c.decrypter(mem, io.LimitReader(rc, mem.Size))
	if err == nil {
		_, err = io.Copy(w, r)
	}
	if err != nil {
		return fmt.Errorf("hotline: %w", err)
	}
	return nil
}

// sealed reports whether mem is encrypted under the content key.
func sealed(mem Member) bool { return mem.EvidenceID != "" || mem.Name == ConversationsCSV }

// decrypter reads sealed member mem's content from its bytes, body.
func (c *Contents) decrypter(mem Member, body io.Reader) (io.Reader, error) {
	want, err := hex.DecodeString(mem.PlainSHA256)
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("%s: the manifest's plain_sha256 %q is not a SHA-256", mem.Name, clip(mem.PlainSHA256))
	}
	if c.v1 {
		return openV1(body, c.aead, mem.Name, want)
	}
	return newUnsealer(body, c.aead, mem.Name, want)
}

// openV1 decrypts a version 1 member, sealed whole: a 12-byte nonce, then
// AES-256-GCM of the content with the member name as additional data.
func openV1(body io.Reader, aead cipher.AEAD, name string, want []byte) (io.Reader, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) < aead.NonceSize() {
		return nil, fmt.Errorf("%s: too short to decrypt", name)
	}
	plain, err := aead.Open(b[aead.NonceSize():aead.NonceSize()], b[:aead.NonceSize()], b[aead.NonceSize():], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("%s: does not decrypt (altered, or moved from another member)", name)
	}
	if sum := sha256.Sum256(plain); !bytes.Equal(sum[:], want) {
		return nil, fmt.Errorf("%s: content SHA-256 %x is not the %x recorded at intake", name, sum, want)
	}
	return bytes.NewReader(plain), nil
}

// Verify checks a package of size bytes without its key: every member the
// manifest lists is present with the listed size and SHA-256, and nothing
// else is there but key.json. It reads each member once, as a stream. The
// error lists every problem, naming the member.
func Verify(pkg io.ReaderAt, size int64) (ManifestFile, error) {
	p, err := readManifest(pkg, size)
	if err != nil {
		return ManifestFile{}, err
	}
	return p.m, p.check(nil)
}

// Open verifies a package of size bytes, unwraps its content key with the
// recipient's private key (which fails if the manifest was changed), and
// decrypts every encrypted member, checking each against the SHA-256
// recorded at intake. It reads each member once, as a stream, holding a
// segment of it (a whole member of a version 1 package); the content it
// decrypts is not kept (Contents.Decrypt reads it again).
func Open(pkg io.ReaderAt, size int64, priv *ecdh.PrivateKey) (*Contents, error) {
	p, err := readManifest(pkg, size)
	if err != nil {
		return nil, err
	}
	key, kerr := p.contentKey(priv)
	if kerr != nil {
		// The members' problems first, as Verify says them: they may be
		// why the key does not unwrap.
		if err := p.check(nil); err != nil {
			return nil, err
		}
		return nil, kerr
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	c := &Contents{Manifest: p.m, members: p.members, aead: aead, v1: p.m.Format == FormatV1}
	err = p.check(func(mem Member, body io.Reader) error {
		switch {
		case mem.Name == ReportXML:
			b, err := io.ReadAll(io.LimitReader(body, maxMeta+1))
			if err == nil && len(b) > maxMeta {
				err = fmt.Errorf("larger than %d bytes", maxMeta)
			}
			c.ReportXML = b
			return err
		case sealed(mem):
			r, err := c.decrypter(mem, body)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, r)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// opened is a package whose manifest has been read.
type opened struct {
	m       ManifestFile
	files   []*zip.File // in the ZIP's order
	members map[string]*zip.File
	sum     [32]byte // the manifest's SHA-256
}

// readManifest opens a package and reads its manifest.
func readManifest(pkg io.ReaderAt, size int64) (*opened, error) {
	z, err := zip.NewReader(pkg, size)
	if err != nil {
		return nil, fmt.Errorf("hotline: not a ZIP file: %w", err)
	}
	p := &opened{files: z.File, members: map[string]*zip.File{}}
	for _, f := range z.File {
		if p.members[f.Name] != nil {
			return nil, fmt.Errorf("hotline: package does not verify: %s appears twice", f.Name)
		}
		p.members[f.Name] = f
	}
	mb, err := ReadMember(p.members[Manifest], maxMeta)
	if err != nil {
		return nil, fmt.Errorf("hotline: %s: %w", Manifest, err)
	}
	if err := json.Unmarshal(mb, &p.m); err != nil {
		return nil, fmt.Errorf("hotline: %s: %w", Manifest, err)
	}
	if p.m.Format != Format && p.m.Format != FormatV1 {
		return nil, fmt.Errorf("hotline: %s: format %q is neither %s nor %s", Manifest, clip(p.m.Format), Format, FormatV1)
	}
	p.sum = sha256.Sum256(mb)
	return p, nil
}

// contentKey unwraps the content key from key.json.
func (p *opened) contentKey(priv *ecdh.PrivateKey) ([]byte, error) {
	kb, err := ReadMember(p.members[KeyFile], maxMeta)
	if err != nil {
		return nil, fmt.Errorf("hotline: %s: %w", KeyFile, err)
	}
	var k KeyJSON
	if err := json.Unmarshal(kb, &k); err != nil {
		return nil, fmt.Errorf("hotline: %s: %w", KeyFile, err)
	}
	key, err := unwrap(k, priv, p.sum[:])
	if err != nil {
		return nil, fmt.Errorf("hotline: %w", err)
	}
	return key, nil
}

// check reads every member the manifest lists once, as a stream, checking
// its size and SHA-256, and that nothing is there unlisted; if use is not
// nil, it reads each member's bytes too as they go by (what it leaves is
// read for the digest), and its error is a problem of the member. The
// error lists every problem.
func (p *opened) check(use func(mem Member, body io.Reader) error) error {
	var problems []error
	listed := map[string]bool{Manifest: true, KeyFile: true}
	for _, mem := range p.m.Members {
		if listed[mem.Name] {
			problems = append(problems, fmt.Errorf("%s: listed twice, or names the manifest or key", mem.Name))
			continue
		}
		listed[mem.Name] = true
		if err := checkMember(p.members[mem.Name], mem, use); err != nil {
			problems = append(problems, err)
		}
	}
	for _, name := range []string{ReportXML, ReportJSON} {
		if !slices.ContainsFunc(p.m.Members, func(mem Member) bool { return mem.Name == name }) {
			problems = append(problems, fmt.Errorf("%s: not in the manifest", name))
		}
	}
	if p.members[KeyFile] == nil {
		problems = append(problems, fmt.Errorf("%s: missing", KeyFile))
	}
	for _, f := range p.files {
		if !listed[f.Name] {
			problems = append(problems, fmt.Errorf("%s: not in the manifest (added)", f.Name))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("hotline: package does not verify: %w", errors.Join(problems...))
	}
	return nil
}

// checkMember reads member f, which the manifest lists as mem, through.
func checkMember(f *zip.File, mem Member, use func(Member, io.Reader) error) error {
	if f == nil {
		return fmt.Errorf("%s: missing", mem.Name)
	}
	if mem.Size < 0 {
		return fmt.Errorf("%s: negative size in the manifest", mem.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", mem.Name, err)
	}
	defer rc.Close()
	got := &memberWriter{w: io.Discard, h: sha256.New()}
	body := io.TeeReader(io.LimitReader(rc, mem.Size+1), got)
	var useErr error
	if use != nil {
		useErr = use(mem, body)
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return fmt.Errorf("%s: %w", mem.Name, err)
	}
	// What use found (a segment that does not decrypt) is said after
	// what anyone can check.
	switch s := got.h.Sum(nil); {
	case got.n > mem.Size:
		return errors.Join(fmt.Errorf("%s: more than the %d bytes the manifest says", mem.Name, mem.Size), useErr)
	case got.n < mem.Size:
		return errors.Join(fmt.Errorf("%s: %d bytes, the manifest says %d", mem.Name, got.n, mem.Size), useErr)
	case !strings.EqualFold(hex.EncodeToString(s), mem.SHA256):
		return errors.Join(fmt.Errorf("%s: SHA-256 %x does not match the manifest's %s (altered)", mem.Name, s, clip(mem.SHA256)), useErr)
	}
	return useErr
}

// clip shortens a string of the manifest for an error.
func clip(s string) string {
	if len(s) > 80 {
		return strings.ToValidUTF8(s[:80], "") + "…"
	}
	return s
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
