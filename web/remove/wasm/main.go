//go:build js && wasm

// Command wasm is Report Remove's hasher in the browser: the server's own
// internal/hasher (internal/media's decoders and internal/pdq) compiled to
// WebAssembly, so a photo hashed on a phone gets the hashes the server
// would give it, and the photo itself never leaves the phone.
//
// It defines safeguardHash(bytes: Uint8Array), returning {pdq, quality,
// md5, sha256, format} or {error, kind}, safeguardHashFrame(rgba,
// width, height) for a video frame drawn to a canvas, returning {pdq,
// quality}, and safeguardDigest(), returning {write(bytes), sum()} for a
// video file's MD5 and SHA-256 read in slices (sum gives {md5, sha256}),
// then waits for calls. Build it with go generate ./web/remove.
package main

import (
	"encoding/hex"
	"errors"
	"syscall/js"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/pdq"
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
	// safeguardHashFrame(rgba: Uint8ClampedArray, width, height) hashes a
	// video frame the page drew to a canvas (the browser decodes; no video
	// code is in here) as vPDQ hashes a frame: PDQ at its own size.
	var ph pdq.Hasher
	js.Global().Set("safeguardHashFrame", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 3 || args[0].Type() != js.TypeObject {
			return map[string]any{"error": "safeguardHashFrame wants (rgba, width, height)", "kind": "other"}
		}
		w, h := args[1].Int(), args[2].Int()
		if w <= 0 || h <= 0 || w*h > 8192*8192 || args[0].Get("length").Int() != 4*w*h {
			return map[string]any{"error": "frame size does not match its pixels", "kind": "other"}
		}
		rgba := make([]byte, 4*w*h)
		js.CopyBytesToGo(rgba, js.Global().Get("Uint8Array").New(args[0].Get("buffer"), args[0].Get("byteOffset"), args[0].Get("length")))
		rgb := make([]byte, 3*w*h)
		for i, j := 0, 0; i < len(rgba); i, j = i+4, j+3 {
			rgb[j], rgb[j+1], rgb[j+2] = rgba[i], rgba[i+1], rgba[i+2]
		}
		r := ph.HashRGB24(rgb, 3*w, h, w)
		return map[string]any{"pdq": r.Hash.String(), "quality": r.Quality}
	}))
	// safeguardDigest() hashes a video file the page reads in slices, so
	// that a long video is never held in memory whole.
	js.Global().Set("safeguardDigest", js.FuncOf(func(_ js.Value, _ []js.Value) any {
		d := hasher.NewFileDigest()
		var write, sum js.Func
		write = js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) != 1 || args[0].Type() != js.TypeObject {
				return map[string]any{"error": "write wants one Uint8Array", "kind": "other"}
			}
			b := make([]byte, args[0].Get("length").Int())
			js.CopyBytesToGo(b, args[0])
			d.Write(b)
			return nil
		})
		sum = js.FuncOf(func(_ js.Value, _ []js.Value) any {
			write.Release()
			sum.Release()
			m, s := d.Sum()
			return map[string]any{"md5": hex.EncodeToString(m[:]), "sha256": hex.EncodeToString(s[:])}
		})
		return map[string]any{"write": write, "sum": sum}
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
