//go:build js && wasm

// Command wasm is Report Remove's hasher in the browser: the server's own
// internal/hasher (internal/media's decoders and internal/pdq) compiled to
// WebAssembly, so a photo hashed on a phone gets the hashes the server
// would give it, and the photo itself never leaves the phone.
//
// It defines one JavaScript function, safeguardHash(bytes: Uint8Array),
// returning {pdq, quality, md5, sha256, format} or {error, kind}, then
// waits for calls. Build it with go generate ./web/remove.
package main

import (
	"encoding/hex"
	"errors"
	"syscall/js"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
)

func main() {
	h := new(hasher.Hasher) // media's defaults, as `safeguard hash` and /v1/scan use
	js.Global().Set("safeguardHash", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 1 || args[0].Type() != js.TypeObject {
			return map[string]any{"error": "safeguardHash wants one Uint8Array", "kind": "other"}
		}
		data := make([]byte, args[0].Get("length").Int())
		js.CopyBytesToGo(data, args[0])
		s, err := h.Hash("photo", data)
		if err != nil {
			return map[string]any{"error": err.Error(), "kind": kind(err)}
		}
		return map[string]any{
			"pdq": s.PDQ.String(), "quality": s.Quality, "format": string(s.Format),
			"md5": hex.EncodeToString(s.MD5[:]), "sha256": hex.EncodeToString(s.SHA256[:]),
		}
	}))
	select {}
}

// kind names, for the page's plain-words message, what went wrong.
func kind(err error) string {
	var me *media.Error
	if !errors.As(err, &me) {
		return "other"
	}
	switch me.Kind {
	case media.UnknownType, media.Unsupported, media.Unavailable:
		return "unsupported"
	case media.TooLarge:
		return "too_large"
	case media.Empty:
		return "empty"
	}
	return "corrupt"
}
