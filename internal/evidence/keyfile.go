package evidence

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NewKeyringSpec returns a keyring of one new random master key named id
// (the current month if empty), in the form SAFEGUARD_EVIDENCE_KEYS takes.
func NewKeyringSpec(id string) (string, error) {
	if id == "" {
		id = time.Now().UTC().Format("2006-01")
	}
	if err := checkKeyID(id); err != nil {
		return "", fmt.Errorf("evidence: key id %q: %w", id, err)
	}
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	spec := id + ":" + base64.StdEncoding.EncodeToString(key)
	if _, err := ParseKeyring(spec); err != nil {
		return "", err
	}
	return spec, nil
}

// KeyringFile reads the keyring kept in the file at path, or creates the
// file (readable by its owner only) with a new keyring if there is none,
// saying so with created. A file that others may read is refused: the
// keyring decrypts every preserved item.
func KeyringFile(path string) (spec string, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if spec, err = NewKeyringSpec(""); err != nil {
			return "", false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", false, fmt.Errorf("evidence: creating the keyring: %w", err)
		}
		if _, err := f.WriteString(spec + "\n"); err != nil {
			f.Close()
			return "", false, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return "", false, err
		}
		return spec, true, f.Close()
	case err != nil:
		return "", false, fmt.Errorf("evidence: reading the keyring: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", false, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", false, fmt.Errorf("evidence: keyring %s is readable by others (mode %v): chmod 600 it", path, info.Mode().Perm())
	}
	spec = strings.TrimSpace(string(b))
	if _, err := ParseKeyring(spec); err != nil {
		return "", false, fmt.Errorf("%s: %w", path, err)
	}
	return spec, false, nil
}
