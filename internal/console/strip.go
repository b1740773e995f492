package console

import (
	"errors"
	"net/http"
	"os"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/media/video"
)

// strip serves a video preview's keyframes side by side (video.Strip), a
// JPEG the page shows blurred under the player, so that a reviewer can
// judge a video without playing it. Like content, the look is recorded
// first. Evidence is sealed in one piece, so the video is written to a
// private temporary file for ffmpeg and removed at once.
func (c *Console) strip(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := caseID(r)
	item := r.PathValue("item")
	if !ok || !c.offered(r.Context(), s, id, item) {
		c.fail(w, r, s, http.StatusNotFound, "No such content on a case you have open.")
		return
	}
	data, it, err := c.cfg.Evidence.Get(item)
	if err != nil {
		c.log.Error("console: reading evidence", "case", id, "item", item, "err", err)
		c.fail(w, r, s, http.StatusInternalServerError, "The content could not be read; the server log has the details.")
		return
	}
	ct := it.Meta.ContentType
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	if !strings.HasPrefix(ct, "video/") && !video.Sniff(data) {
		c.fail(w, r, s, http.StatusUnsupportedMediaType, "This content is not a video: it has no keyframes.")
		return
	}
	jpg, err := keyframes(r, data)
	var ve *video.Error
	if errors.As(err, &ve) {
		c.fail(w, r, s, http.StatusUnprocessableEntity, "No keyframes could be read from this video ("+ve.Kind.String()+").")
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

func keyframes(r *http.Request, data []byte) ([]byte, error) {
	f, err := os.CreateTemp("", "safeguard-keyframes-*.video") // 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return video.Strip(r.Context(), f.Name(), video.Limits{})
}
