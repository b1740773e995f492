package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/spool"
	"github.com/safeguard-oss/safeguard/internal/usecase"
	"github.com/safeguard-oss/safeguard/internal/vpdq"
)

// DefaultMaxVideo bounds an uploaded video. Videos are spooled to disk, not
// memory, for ffmpeg to read; only one a rule keeps as evidence is read
// back whole (evidence is sealed in one piece).
const DefaultMaxVideo = 256 << 20

// CodeVideo is the code of a video ffmpeg could not or may not decode: not
// a video, truncated or corrupt, too many streams, dimensions or frames, or
// over the decoding limits. The message says which.
const CodeVideo = "unprocessable_video"

// readUpload reads uploaded content: an image's bytes into memory (at most
// MaxBody), or, when the first bytes are a video container's, the whole
// upload into a file in the spool directory (at most MaxVideo), whose path
// it returns. The caller removes the file; on an error, or a panic, there
// is none to remove.
func (a *API) readUpload(r io.Reader) (data []byte, file string, err error) {
	buf := bodyBuffer()
	n, err := io.ReadFull(r, buf[:video.SniffLen])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		recycleBody(buf)
		return nil, "", bodyError("reading the body", err)
	}
	head := buf[:n]
	if !video.Sniff(head) {
		// The body's own limit is the larger video one; an image stops
		// being read one byte past its own.
		data, err := readContentAfter(head, r, a.cfg.MaxBody)
		return data, "", err
	}
	defer recycleBody(buf)
	f, err := a.cfg.SpoolDir.Create(spool.Upload, ".video")
	if err != nil {
		return nil, "", fmt.Errorf("spooling a video upload: %w", err)
	}
	// The file is kept only once it is whole: not on an error, nor on a
	// panic reading the body, which the caller never learns the name of.
	kept := false
	defer func() {
		if !kept {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(head); err != nil {
		return nil, "", fmt.Errorf("spooling a video upload: %w", err)
	}
	copied, err := io.Copy(f, io.LimitReader(r, a.cfg.MaxVideo-int64(n)+1))
	if err != nil {
		var werr *os.PathError
		if errors.As(err, &werr) {
			return nil, "", fmt.Errorf("spooling a video upload: %w", err)
		}
		return nil, "", bodyError("reading the body", err)
	}
	if int64(n)+copied > a.cfg.MaxVideo {
		return nil, "", errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "video is over the %d-byte limit", a.cfg.MaxVideo)
	}
	if err := f.Close(); err != nil {
		return nil, "", fmt.Errorf("spooling a video upload: %w", err)
	}
	kept = true
	return nil, f.Name(), nil
}

// videoError is the answer to a refused video: 422 with ffmpeg's reason,
// the spooled file's path replaced (it is ours, not the client's).
func videoError(ve *video.Error) *Error {
	reason := ve.Reason
	if ve.Path != "" {
		reason = strings.ReplaceAll(reason, ve.Path, "the upload")
	}
	return errorf(http.StatusUnprocessableEntity, CodeVideo, "video: %s: %s", ve.Kind, reason)
}

// vpdqSignal is a request's vPDQ as python-threatexchange's signal string:
// the string itself, or the JSON array of "pdqHex,quality,timestamp" it
// holds.
func vpdqSignal(raw json.RawMessage) (string, error) {
	s := string(raw)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
	}
	return s, nil
}

// parseVPDQ reads a lookup's vPDQ (vpdqSignal).
func parseVPDQ(raw json.RawMessage) ([]vpdq.Frame, error) {
	s, err := vpdqSignal(raw)
	if err != nil {
		return nil, err
	}
	frames, err := vpdq.ParseSignal(s)
	if err != nil {
		return nil, err
	}
	if len(frames) > bank.MaxVPDQFrames {
		return nil, fmt.Errorf("%d frames: at most %d (hash at one frame a second)", len(frames), bank.MaxVPDQFrames)
	}
	return frames, nil
}

// addVideo adds a spooled video's entries (bank.VideoEntries) to a bank,
// each with base's provenance, and answers as addEntries does.
func (a *API) addVideo(w http.ResponseWriter, r *http.Request, k auth.Key, name, file string, base bank.Entry) error {
	v, err := a.cfg.Hasher.HashVideo(r.Context(), file)
	if err != nil {
		return err
	}
	es, err := bank.VideoEntries(v.Frames, v.MD5, v.SHA256)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, CodeVideo, "video: %v", err)
	}
	for i, e := range es {
		p := base
		p.Signal, p.Value = e.Signal, e.Value
		if es[i], err = p.Normalize(); err != nil {
			return errorf(http.StatusBadRequest, CodeInvalidEntries, "%v", err)
		}
	}
	res, err := a.banks.Add(r.Context(), k.ID, name, usecase.Slice(es), map[string]any{"video_frames": len(v.Frames)}, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"added": res.Added, "existing": res.Existing,
		"hashes": hashes{MD5: hex.EncodeToString(v.MD5[:]), SHA256: hex.EncodeToString(v.SHA256[:])}, "vpdq_frames": len(v.Frames)})
	return nil
}
