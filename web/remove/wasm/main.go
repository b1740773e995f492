//go:build js && wasm

// Command wasm is Report Remove's hasher in the browser: the server's own
// internal/hasher (internal/media's decoders and internal/pdq) compiled to
// WebAssembly, so a photo hashed on a phone gets the hashes the server
// would give it, and the photo itself never leaves the phone.
//
// It defines safeguardHash(bytes: Uint8Array), returning {pdq, quality,
// md5, sha256, format} or {error, kind}, safeguardHashFrame(pixels,
// width, height[, format]) for a video frame (the decoder's I420 or NV12
// planes, or RGBA drawn to a canvas), returning {pdq, quality}, and safeguardDigest(), returning {write(bytes), sum()} for a
// video file's MD5 and SHA-256 read in slices (sum gives {md5, sha256}),
// and safeguardVideoSamples(moov) for the frames of an MP4 to sample,
// then waits for calls. Build it with go generate ./web/remove.
package main

import (
	"encoding/hex"
	"errors"
	"syscall/js"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media"
	"github.com/safeguard-oss/safeguard/internal/mp4"
	"github.com/safeguard-oss/safeguard/internal/pdq"
	"github.com/safeguard-oss/safeguard/internal/yuv"
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
	// safeguardHashFrame(pixels, width, height[, format]) hashes a video
	// frame (the browser decodes; no video code is in here) as vPDQ hashes
	// a frame: PDQ at its own size. format "I420" or "NV12" is the
	// decoder's own planes (WebCodecs VideoFrame.copyTo, tightly packed),
	// converted to RGB as the server converts them (internal/yuv); "RGBA"
	// (the default) is a frame the page drew to a canvas, converted by the
	// browser.
	var ph pdq.Hasher
	var rgb []byte
	js.Global().Set("safeguardHashFrame", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 3 || args[0].Type() != js.TypeObject {
			return map[string]any{"error": "safeguardHashFrame wants (pixels, width, height[, format])", "kind": "other"}
		}
		w, h := args[1].Int(), args[2].Int()
		format := "RGBA"
		if len(args) > 3 && args[3].Type() == js.TypeString {
			format = args[3].String()
		}
		cw, ch := (w+1)/2, (h+1)/2
		var want int
		switch format {
		case "RGBA":
			want = 4 * w * h
		case "I420", "NV12":
			want = w*h + 2*cw*ch
		default:
			return map[string]any{"error": "safeguardHashFrame: unknown pixel format " + format, "kind": "other"}
		}
		if w <= 0 || h <= 0 || w*h > 8192*8192 || args[0].Get("length").Int() != want {
			return map[string]any{"error": "frame size does not match its pixels", "kind": "other"}
		}
		px := make([]byte, want)
		js.CopyBytesToGo(px, js.Global().Get("Uint8Array").New(args[0].Get("buffer"), args[0].Get("byteOffset"), args[0].Get("length")))
		switch format {
		case "RGBA":
			rgb = rgb[:0]
			for i := 0; i < len(px); i += 4 {
				rgb = append(rgb, px[i], px[i+1], px[i+2])
			}
		case "I420":
			f := yuv.Frame{Width: w, Height: h, Y: px[:w*h], YStride: w, U: px[w*h : w*h+cw*ch], V: px[w*h+cw*ch:], UVStride: cw, UVStep: 1}
			rgb = f.RGB24(rgb)
		case "NV12":
			f := yuv.Frame{Width: w, Height: h, Y: px[:w*h], YStride: w, U: px[w*h:], V: px[w*h+1:], UVStride: 2 * cw, UVStep: 2}
			rgb = f.RGB24(rgb)
		}
		r := ph.HashRGB24(rgb, 3*w, h, w)
		return map[string]any{"pdq": r.Hash.String(), "quality": r.Quality}
	}))
	// safeguardVideoSamples(moov: Uint8Array) reads an MP4's movie box
	// (internal/mp4) and returns the frames the server's vPDQ keeps at one
	// a second, {fps, samples: [{n, t, at}, ...]}: frame n when
	// n % int(fps) == 0, its timestamp t as the server computes it
	// (float32 n/fps), and at, a time inside the frame to seek to.
	js.Global().Set("safeguardVideoSamples", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 1 || args[0].Type() != js.TypeObject {
			return map[string]any{"error": "safeguardVideoSamples wants one Uint8Array", "kind": "other"}
		}
		n := args[0].Get("length").Int()
		if n > mp4.MaxMoov {
			return map[string]any{"error": "movie box too large", "kind": "too_large"}
		}
		b := make([]byte, n)
		js.CopyBytesToGo(b, args[0])
		tr, err := mp4.Parse(b)
		if err != nil {
			return map[string]any{"error": err.Error(), "kind": "other"}
		}
		every := max(int(tr.FrameRate), 1) // the server's int(secondsPerHash*fps) at 1 s, 1 when 0
		var samples []any
		for i := 0; i < len(tr.Times); i += every {
			end := tr.Times[i] + 1/tr.FrameRate
			if i+1 < len(tr.Times) {
				end = tr.Times[i+1]
			}
			samples = append(samples, map[string]any{
				"n": i, "t": float64(float32(i) / float32(tr.FrameRate)), "at": (tr.Times[i] + end) / 2,
			})
		}
		return map[string]any{"fps": tr.FrameRate, "samples": samples}
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
