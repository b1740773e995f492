package console

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/spool"
)

// strip serves a video preview's keyframes side by side (video.Strip), a
// JPEG the page shows blurred under the player, so that a reviewer can
// judge a video without playing it. Like content, the look is recorded
// first. ffmpeg reads a file, so the video is streamed from the evidence
// store (a segment at a time, each authenticated) into a file in the
// spool directory and removed at once: the server holds a segment of it,
// not the video.
func (c *Console) strip(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := caseID(r)
	item := r.PathValue("item")
	if !ok || !c.offered(r.Context(), s, id, item) {
		c.fail(w, r, s, http.StatusNotFound, "No such content on a case you have open.")
		return
	}
	rc, it, err := c.cfg.Evidence.Open(item)
	if err != nil {
		c.log.Error("console: reading evidence", "case", id, "item", item, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The content could not be read; the server log has the details.")
		return
	}
	defer rc.Close()
	content := bufio.NewReaderSize(rc, video.SniffLen)
	head, err := content.Peek(video.SniffLen)
	if err != nil && err != io.EOF { // io.EOF: content shorter than SniffLen, all in head
		c.log.Error("console: reading evidence", "case", id, "item", item, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The content could not be read; the server log has the details.")
		return
	}
	ct := it.Meta.ContentType
	if ct == "" {
		ct = http.DetectContentType(head)
	}
	if !strings.HasPrefix(ct, "video/") && !video.Sniff(head) {
		c.fail(w, r, s, http.StatusUnsupportedMediaType, "This content is not a video: it has no keyframes.")
		return
	}
	jpg, err := c.keyframes(r, content)
	var ve *video.Error
	if errors.As(err, &ve) {
		c.fail(w, r, s, http.StatusUnprocessableEntity, "No keyframes could be read from this video ("+ve.Kind.String()+").")
		return
	}
	if errors.Is(err, evidence.ErrCorrupt) {
		c.log.Error("console: reading evidence", "case", id, "item", item, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The content could not be read; the server log has the details.")
		return
	}
	if err != nil {
		c.log.Error("console: keyframes", "case", id, "item", item, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The keyframes could not be made; the server log has the details.")
		return
	}
	if err := c.recordView(r, s, id, item, "keyframes blurred"); err != nil {
		c.fail(w, r, s, http.StatusInternalServerError, "The view could not be recorded, so the keyframes are not shown.")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store, private")
	w.Write(jpg)
}

// keyframes writes the video content yields to a file in the spool
// directory and returns its keyframes' strip; a content that fails its
// check part way is an error wrapping evidence.ErrCorrupt, and ffmpeg
// never sees it. The file is gone on every way out, a panic's included.
func (c *Console) keyframes(r *http.Request, content io.Reader) ([]byte, error) {
	f, err := c.cfg.SpoolDir.Create(spool.Keyframes, ".video")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	_, err = io.Copy(f, content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return video.Strip(r.Context(), f.Name(), video.Limits{})
}
