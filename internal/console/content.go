package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/review"
)

// ViewPurpose is the purpose an evidence.read entry of the console names:
// a person looked at the content. internal/lereport counts exactly these
// entries as the service having viewed a reported file.
const ViewPurpose = "view"

// preview is one piece of a case's content the page can show.
type preview struct {
	Item string // evidence item id
	URL  string
	// Missing, if set, says why the item cannot be shown: the page says
	// so in words instead of an image that fails to an empty dark box.
	Missing string
}

// previews finds the evidence kept for a case. Cases do not name evidence
// items; a rule's report does name its scan ("scan <id>", as
// api.Enqueue files it), and the scan record names the item its rule
// kept. Content that was never kept has no preview: the page shows the
// hashes instead.
func (c *Console) previews(ctx context.Context, caseID int64, reports []review.Report) []preview {
	if c.cfg.Scans == nil || c.cfg.Evidence == nil {
		return nil
	}
	var out []preview
	seen := map[string]bool{}
	for _, rep := range reports {
		scanID, ok := strings.CutPrefix(rep.Text, "scan ")
		if rep.Source != review.Rule || !ok {
			continue
		}
		rec, err := c.cfg.Scans.ScanRecord(ctx, scanID)
		if err != nil {
			c.log.Warn("console: the scan a rule's report names", "case", caseID, "report", rep.ID, "scan", clip(scanID), "err", err)
			continue
		}
		if rec.Evidence == "" || seen[rec.Evidence] {
			continue
		}
		seen[rec.Evidence] = true
		// The content type is inside the encrypted item, learnt only when
		// it is served: the page shows an image, and the script swaps in a
		// <video preload="none"> (never autoplaying) if it was not one.
		p := preview{
			Item: rec.Evidence,
			URL:  "/console/cases/" + strconv.FormatInt(caseID, 10) + "/content/" + rec.Evidence,
		}
		switch ok, err := c.cfg.Evidence.Has(rec.Evidence); {
		case err != nil:
			c.log.Error("console: looking for evidence", "case", caseID, "item", rec.Evidence, "err", err)
			p.Missing = "The content could not be read from the evidence store (the server log has the details); try again later."
		case !ok:
			c.log.Warn("console: evidence item missing", "case", caseID, "item", rec.Evidence)
			p.Missing = "The scan kept this content, but the evidence store has no such item: it was deleted after its hold, or this server " +
				"does not share the evidence store of the server that kept it. An operator can check the evidence settings."
		}
		out = append(out, p)
	}
	return out
}

// content serves a preview's bytes, after recording the look in the
// audit log: an answer the log does not show is never sent.
func (c *Console) content(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := caseID(r)
	item := r.PathValue("item")
	if !ok || !c.offered(r.Context(), s, id, item) {
		c.fail(w, r, s, http.StatusNotFound, "No such content on a case you have open.")
		return
	}
	rc, it, err := c.cfg.Evidence.Open(item)
	if err != nil {
		c.log.Error("console: reading evidence", "case", id, "item", item, "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, evidence.ErrNotFound) {
			status = http.StatusNotFound
		}
		c.fail(w, r, s, status, "The content could not be read; the server log has the details.")
		return
	}
	content := &section{ev: c.cfg.Evidence, id: item, size: it.Size, rc: rc}
	defer content.Close()
	ct := it.Meta.ContentType
	if ct == "" {
		head := make([]byte, 512)
		n, err := io.ReadFull(content, head)
		if err != nil && err != io.ErrUnexpectedEOF {
			c.log.Error("console: reading evidence", "case", id, "item", item, "err", err)
			c.fail(w, r, s, http.StatusInternalServerError, "The content could not be read; the server log has the details.")
			return
		}
		ct = http.DetectContentType(head[:n])
		content.Seek(0, io.SeekStart)
	}
	// Only images and video are shown: anything else in the store is for
	// law enforcement, not for a browser to interpret.
	if !strings.HasPrefix(ct, "image/") && !strings.HasPrefix(ct, "video/") || strings.Contains(ct, "svg") {
		c.fail(w, r, s, http.StatusUnsupportedMediaType, "This content ("+ct+") has no preview.")
		return
	}
	// Every request is recorded, ranges of a playing video included: a
	// request that skipped the log could fetch the content unseen by it.
	if err := c.recordView(r, s, id, item, "blurred"); err != nil {
		c.fail(w, r, s, http.StatusInternalServerError, "The view could not be recorded, so the content is not shown.")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("Cache-Control", "no-store, private")
	http.ServeContent(w, r, "", it.Created, content)
	if content.err != nil {
		// ServeContent has sent the status and Content-Length: a part
		// that fails its check cuts the body short, which the browser
		// sees as a broken transfer.
		c.log.Error("console: evidence not sent whole", "case", id, "item", item, "err", content.err)
	}
}

// section is an item's content as http.ServeContent reads it, which
// seeks: to the end for the size, then to a range's start (a playing
// video asks for ranges). It streams from the evidence store, a segment
// at a time, each authenticated before its bytes are sent; a read from a
// position before the stream's reopens the item, and one after it reads
// up to it (checking, not sending). So a range costs the time of reading
// the item up to its end, but the memory of a segment, not of the item.
type section struct {
	ev        *evidence.Store
	id        string
	size, pos int64
	rc        io.ReadCloser // the item read from its start, at; nil after Close
	at        int64
	err       error // the first read failure, for the log
}

func (s *section) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += s.pos
	case io.SeekEnd:
		off += s.size
	}
	if off < 0 {
		return 0, fmt.Errorf("console: evidence %s: seek to %d, before the start", s.id, off)
	}
	s.pos = off
	return off, nil
}

func (s *section) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.rc != nil && s.at > s.pos {
		s.rc.Close()
		s.rc = nil
	}
	if s.rc == nil {
		rc, _, err := s.ev.Open(s.id)
		if err != nil {
			return 0, s.fail(err)
		}
		s.rc, s.at = rc, 0
	}
	if s.at < s.pos {
		n, err := io.CopyN(io.Discard, s.rc, s.pos-s.at)
		s.at += n
		if err != nil {
			return 0, s.fail(err)
		}
	}
	n, err := s.rc.Read(p)
	s.at += int64(n)
	s.pos += int64(n)
	if err != nil && err != io.EOF {
		s.fail(err)
	}
	return n, err
}

func (s *section) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return err
}

func (s *section) Close() {
	if s.rc != nil {
		s.rc.Close()
		s.rc = nil
	}
}

// reveal records that the person chose to see a preview unblurred; the
// page unblurs it only once this has answered.
func (c *Console) reveal(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := caseID(r)
	item := r.PathValue("item")
	if !ok || !c.offered(r.Context(), s, id, item) {
		c.fail(w, r, s, http.StatusNotFound, "No such content on a case you have open.")
		return
	}
	if err := c.recordView(r, s, id, item, "revealed"); err != nil {
		c.fail(w, r, s, http.StatusInternalServerError, "The view could not be recorded, so the content stays blurred.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) recordView(r *http.Request, s *session, caseID int64, item, shown string) error {
	_, err := c.cfg.Log.Record(r.Context(), s.key.ID, audit.EvidenceRead, item,
		map[string]any{"purpose": ViewPurpose, "case": caseID, "shown": shown})
	if err != nil {
		c.log.Error("console: recording a view of content", "case", caseID, "item", item, "err", err)
	}
	return err
}
