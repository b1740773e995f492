// Package hotline writes evidence packages: how a report reaches a hotline
// or police force outside the US, which has no CyberTipline API. A package
// is a ZIP file holding
//
//	report.xml          the report, in the CyberTipline's XML (schema-checked)
//	report.json         the same report and file details as JSON
//	files/<id>.enc      each preserved file, encrypted for the recipient
//	conversations.csv.enc  the conversation records, encrypted likewise
//	manifest.json       name, size and SHA-256 of every member above, and
//	                    the SHA-256 of each file before encryption
//	key.json            the content key, wrapped for the recipient
//
// Files are encrypted with AES-256-GCM under one random content key, in
// segments of 64 KiB (seal.go has the construction), with the member's
// name as additional data, so a file streams into the package and out of
// it holding a segment, and no segment can be moved, dropped or swapped
// with another member's unnoticed. The content key is wrapped for the
// recipient's X25519 public key: an ephemeral X25519 key pair is made, the
// shared secret with the recipient's key goes through HKDF-SHA256 (salt:
// the ephemeral then the recipient public key; info: wrapInfo) to a
// key-encryption key, and AES-256-GCM under it seals the content key with
// the SHA-256 of manifest.json as additional data. Anyone can check the
// members against the manifest (Verify); only the recipient can unwrap the
// key, and unwrapping fails if a byte of the manifest changed (Open). The
// manifest's SHA-256, which Write returns, goes into the audit log, so the
// package sent can be proved later. Packages of format version 1, whose
// files were each sealed whole, are still read. docs/lereport.md has the
// format for readers in other languages.
package hotline

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/safeguard-oss/safeguard/internal/lereport"
)

// Format names the package format Write writes, in manifest.json and
// key.json: version 2, its files sealed in segments.
const Format = "safeguard-evidence-package/2"

// FormatV1 is the format before: each file sealed whole, as a 12-byte
// nonce and one AES-256-GCM ciphertext (AAD: the member name). Packages
// sent in it exist; Verify and Open read them (a file of one is
// decrypted whole).
const FormatV1 = "safeguard-evidence-package/1"

// wrapInfo is the HKDF info string of the key wrap; it names the package
// format, so a key derived here is never the key of anything else. The
// wrap is unchanged since version 1, whose name it keeps: the version a
// package claims is in its manifest, whose digest the wrap authenticates.
const wrapInfo = "safeguard evidence package v1: content key wrap"

// Member names.
const (
	ReportXML  = "report.xml"
	ReportJSON = "report.json"
	Manifest   = "manifest.json"
	KeyFile    = "key.json"
	// ConversationsCSV is the encrypted CSV of the conversation records:
	// a header row, then time (RFC 3339), conversation, from, to, text.
	ConversationsCSV = "conversations.csv.enc"
	filesDir         = "files/"
)

// ManifestFile is manifest.json.
type ManifestFile struct {
	Format   string    `json:"format"`
	Created  time.Time `json:"created"`
	CaseID   string    `json:"case_id"`
	ReportID int64     `json:"report_id"` // the service's
	Members  []Member  `json:"members"`
}

// Member is one member of the package as the manifest lists it.
type Member struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // of the member's bytes, in hex
	// PlainSHA256 is, for an encrypted file, the SHA-256 of its content:
	// the digest the evidence store recorded at intake.
	PlainSHA256 string `json:"plain_sha256,omitempty"`
	EvidenceID  string `json:"evidence_id,omitempty"`
}

// KeyJSON is key.json.
type KeyJSON struct {
	Format     string `json:"format"`
	Scheme     string `json:"scheme"`    // "X25519-HKDF-SHA256-A256GCM"
	Recipient  []byte `json:"recipient"` // the recipient's X25519 public key
	Ephemeral  []byte `json:"ephemeral"` // the sender's one-time public key
	Nonce      []byte `json:"nonce"`
	WrappedKey []byte `json:"wrapped_key"` // AES-256-GCM(KEK, content key, AAD = SHA-256 of manifest.json)
}

const scheme = "X25519-HKDF-SHA256-A256GCM"

// twin is report.json.
type twin struct {
	Report lereport.Document      `json:"report"`
	Files  []lereport.FileDetails `json:"files"`
}

// Message is one message of a conversation a report concerns.
type Message = lereport.Message

// Package is what Write puts in a package.
type Package struct {
	Report    lereport.Report // must conform to the schema
	Files     lereport.Files  // the content of Report's files
	Messages  []Message       // written as conversations.csv, encrypted; none: no member
	Recipient *ecdh.PublicKey // X25519
	Created   time.Time
}

// Write writes p as a package for the holder of the recipient's private
// key and returns the SHA-256 of the manifest, for the audit log
// (lereport.AuditPackage).
func Write(ctx context.Context, w io.Writer, p Package) (manifestSum [32]byte, err error) {
	r, files, recipient, now := p.Report, p.Files, p.Recipient, p.Created
	if recipient == nil || recipient.Curve() != ecdh.X25519() {
		return manifestSum, fmt.Errorf("hotline: package report %d: the recipient key must be X25519", r.ID)
	}
	if err := r.Validate(); err != nil {
		return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
	}
	doc, err := r.Document.Encode()
	if err != nil {
		return manifestSum, err
	}
	t := twin{Report: r.Document}
	for _, f := range r.Files {
		t.Files = append(t.Files, f.Details)
	}
	js, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
	}

	contentKey := make([]byte, 32)
	rand.Read(contentKey)
	aead, err := newGCM(contentKey)
	if err != nil {
		return manifestSum, err
	}

	now = now.UTC().Truncate(time.Second)
	pk := &packer{z: zip.NewWriter(w), now: now, aead: aead}
	m := ManifestFile{Format: Format, Created: now, CaseID: r.CaseID, ReportID: r.ID}
	for _, part := range []struct {
		name string
		b    []byte
	}{{ReportXML, doc}, {ReportJSON, js}} {
		mem, err := pk.add(part.name, part.b)
		if err != nil {
			return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
		}
		m.Members = append(m.Members, mem)
	}
	for _, f := range r.Files {
		mem, err := pk.addFile(ctx, files, f.EvidenceID)
		if err != nil {
			return manifestSum, fmt.Errorf("hotline: package report %d: file %s: %w", r.ID, f.EvidenceID, err)
		}
		m.Members = append(m.Members, mem)
	}
	if len(p.Messages) > 0 {
		csv, err := conversationsCSV(p.Messages)
		if err != nil {
			return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
		}
		mem, _, err := pk.addSealed(ConversationsCSV, bytes.NewReader(csv))
		if err != nil {
			return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
		}
		m.Members = append(m.Members, mem)
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return manifestSum, err
	}
	if _, err := pk.add(Manifest, mb); err != nil {
		return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
	}
	manifestSum = sha256.Sum256(mb)

	key, err := wrap(contentKey, recipient, manifestSum[:])
	if err != nil {
		return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
	}
	kb, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		return manifestSum, err
	}
	if _, err := pk.add(KeyFile, kb); err != nil {
		return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
	}
	if err := pk.z.Close(); err != nil {
		return manifestSum, fmt.Errorf("hotline: package report %d: %w", r.ID, err)
	}
	return manifestSum, nil
}

// packer writes a package's members, each listed in the manifest as it
// was written.
type packer struct {
	z    *zip.Writer
	now  time.Time
	aead cipher.AEAD // under the content key
}

// create starts a member; what goes through the writer it returns is
// counted and hashed for the manifest.
func (pk *packer) create(name string, method uint16) (*memberWriter, error) {
	fw, err := pk.z.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: pk.now})
	if err != nil {
		return nil, err
	}
	return &memberWriter{w: fw, h: sha256.New(), name: name}, nil
}

// add writes a member that is not encrypted.
func (pk *packer) add(name string, b []byte) (Member, error) {
	mw, err := pk.create(name, zip.Deflate)
	if err != nil {
		return Member{}, err
	}
	if _, err := mw.Write(b); err != nil {
		return Member{}, err
	}
	return mw.member(), nil
}

// addSealed encrypts content into the member as it is read (seal),
// returning also the content's length.
func (pk *packer) addSealed(name string, content io.Reader) (Member, int64, error) {
	mw, err := pk.create(name, zip.Store) // ciphertext does not compress
	if err != nil {
		return Member{}, 0, err
	}
	plain, n, err := seal(mw, pk.aead, name, content)
	if err != nil {
		return Member{}, n, err
	}
	mem := mw.member()
	mem.PlainSHA256 = hex.EncodeToString(plain[:])
	return mem, n, nil
}

// addFile streams evidence item id into its member, checking it yields
// the size the evidence store gave.
func (pk *packer) addFile(ctx context.Context, files lereport.Files, id string) (Member, error) {
	rc, size, err := files.File(ctx, id)
	if err != nil {
		return Member{}, err
	}
	defer rc.Close()
	mem, n, err := pk.addSealed(FileMember(id), rc)
	if err != nil {
		return Member{}, err
	}
	if n != size {
		return Member{}, fmt.Errorf("read %d bytes of a file of %d", n, size)
	}
	mem.EvidenceID = id
	return mem, nil
}

// FileMember is the name of evidence item id's member.
func FileMember(id string) string { return filesDir + id + ".enc" }

// memberWriter is a member being written, counted and hashed.
type memberWriter struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	name string
}

func (m *memberWriter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	m.h.Write(p[:n])
	m.n += int64(n)
	return n, err
}

func (m *memberWriter) member() Member {
	return Member{Name: m.name, Size: m.n, SHA256: hex.EncodeToString(m.h.Sum(nil))}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// kek derives the key-encryption key from the X25519 shared secret.
func kek(shared, ephemeral, recipient []byte) ([]byte, error) {
	salt := append(append([]byte{}, ephemeral...), recipient...)
	return hkdf.Key(sha256.New, shared, salt, wrapInfo, 32)
}

func wrap(contentKey []byte, recipient *ecdh.PublicKey, aad []byte) (KeyJSON, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return KeyJSON{}, err
	}
	shared, err := eph.ECDH(recipient)
	if err != nil {
		return KeyJSON{}, err
	}
	k, err := kek(shared, eph.PublicKey().Bytes(), recipient.Bytes())
	if err != nil {
		return KeyJSON{}, err
	}
	aead, err := newGCM(k)
	if err != nil {
		return KeyJSON{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return KeyJSON{
		Format:     Format,
		Scheme:     scheme,
		Recipient:  recipient.Bytes(),
		Ephemeral:  eph.PublicKey().Bytes(),
		Nonce:      nonce,
		WrappedKey: aead.Seal(nil, nonce, contentKey, aad),
	}, nil
}

// unwrap recovers the content key; it fails if key.json, the manifest (aad)
// or the private key is not the one the package was made with.
func unwrap(k KeyJSON, priv *ecdh.PrivateKey, aad []byte) ([]byte, error) {
	if k.Scheme != scheme {
		return nil, fmt.Errorf("key scheme %q is not %s", k.Scheme, scheme)
	}
	if !bytes.Equal(k.Recipient, priv.PublicKey().Bytes()) {
		return nil, fmt.Errorf("the package is for another recipient key")
	}
	eph, err := ecdh.X25519().NewPublicKey(k.Ephemeral)
	if err != nil {
		return nil, fmt.Errorf("ephemeral key: %w", err)
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, err
	}
	kk, err := kek(shared, k.Ephemeral, k.Recipient)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(kk)
	if err != nil {
		return nil, err
	}
	if len(k.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("nonce of %d bytes, want %d", len(k.Nonce), aead.NonceSize())
	}
	key, err := aead.Open(nil, k.Nonce, k.WrappedKey, aad)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("the content key does not unwrap: %s or %s was altered", Manifest, KeyFile)
	}
	return key, nil
}

// conversationsCSV writes the messages as CSV (RFC 4180). Text is kept
// exactly as sent, formula-like cells included: it is evidence, and the
// package says so rather than altering it.
func conversationsCSV(ms []Message) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"time", "conversation", "from", "to", "text"})
	for _, m := range ms {
		w.Write([]string{m.Time.UTC().Format(time.RFC3339Nano), m.Conversation, m.From, m.To, m.Text})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}
