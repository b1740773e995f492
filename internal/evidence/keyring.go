package evidence

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MasterKeySize is the size of a master key: AES-256.
const MasterKeySize = 32

// Keyring holds the master keys: the current one, which wraps the data key
// of every new item, and older ones kept so items they wrapped stay
// readable until Rewrap moves them to the current key. A Keyring does not
// change once made, so it is safe for concurrent use.
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD // AES-256-GCM under each master key
}

// NewKeyring returns a keyring of keys (by id) whose current key is
// current. Ids are 1 to 64 letters, digits, '.', '_' or '-' and are written
// into every item, so choose names that will still mean something, such as
// "2026-11".
func NewKeyring(current string, keys map[string][]byte) (*Keyring, error) {
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("evidence: current master key %q is not among the keys given (%s)", current, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
	}
	k := &Keyring{current: current, keys: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if err := checkKeyID(id); err != nil {
			return nil, fmt.Errorf("evidence: master key id of %d characters: %w", len(id), err)
		}
		if len(key) != MasterKeySize {
			return nil, fmt.Errorf("evidence: master key %q is %d bytes, want %d", id, len(key), MasterKeySize)
		}
		if !slices.ContainsFunc(key, func(b byte) bool { return b != 0 }) {
			return nil, fmt.Errorf("evidence: master key %q is all zeros (a placeholder, not a key)", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("evidence: master key %q: %w", id, err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("evidence: master key %q: %w", id, err)
		}
		k.keys[id] = gcm
	}
	return k, nil
}

// ParseKeyring reads a keyring from configuration text: comma-separated
// "id:key" pairs, the first the current key, each key 32 bytes in hex or
// base64 (standard or URL alphabet, padded or not). For example
//
//	SAFEGUARD_EVIDENCE_KEYS=2026-11:3q2+7w…,2025-06:0f1e2d…
//
// The error never contains key material: a pair is named by its place in
// the list, and by its id only when the id could not itself be a key (a
// pair written "key:id", or a key with no id at all, must not be echoed
// into a log).
func ParseKeyring(spec string) (*Keyring, error) {
	keys := make(map[string][]byte)
	current := ""
	for i, pair := range strings.Split(spec, ",") {
		id, text, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok {
			return nil, fmt.Errorf(`evidence: master key %d (%d characters) has no ':': want "id:key"`, i+1, len(strings.TrimSpace(pair)))
		}
		name := keyName(i, id)
		if err := checkKeyID(id); err != nil {
			return nil, fmt.Errorf("evidence: %s: id of %d characters: %w", name, len(id), err)
		}
		if _, err := ParseKey(id); err == nil {
			return nil, fmt.Errorf(`evidence: %s: the id is itself a key (id and key swapped?); want "id:key"`, name)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("evidence: %s: id given twice", name)
		}
		key, err := ParseKey(text)
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", name, err)
		}
		keys[id] = key
		if i == 0 {
			current = id
		}
	}
	return NewKeyring(current, keys)
}

// keyName names the i'th pair of a keyring's text in an error.
func keyName(i int, id string) string {
	if checkKeyID(id) != nil {
		return fmt.Sprintf("master key %d", i+1)
	}
	if _, err := ParseKey(id); err == nil || len(id) >= 16 {
		// A key, or long enough to be most of one mistyped.
		return fmt.Sprintf("master key %d", i+1)
	}
	return fmt.Sprintf("master key %d (%q)", i+1, id)
}

// ParseKey reads a 32-byte master key written in hex or base64.
func ParseKey(text string) ([]byte, error) {
	if len(text) == 2*MasterKeySize {
		if b, err := hex.DecodeString(text); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(text); err == nil && len(b) == MasterKeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("a %d-character key is neither 64 hex digits nor the base64 of %d bytes", len(text), MasterKeySize)
}

// Current returns the id of the key that wraps new items.
func (k *Keyring) Current() string { return k.current }

// IDs lists the ids of the keyring's keys, sorted.
func (k *Keyring) IDs() []string { return slices.Sorted(maps.Keys(k.keys)) }

// checkKeyID says what is wrong with a master key id, without repeating it
// (what was given as an id may be a key).
func checkKeyID(id string) error {
	if id == "" || len(id) > maxKeyID {
		return fmt.Errorf("want 1 to %d characters", maxKeyID)
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errors.New("only letters, digits, '.', '_' and '-' are allowed")
		}
	}
	return nil
}
