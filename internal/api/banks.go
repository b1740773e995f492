package api

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"iter"
	"net/http"
	"os"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/request"
	"github.com/safeguard-oss/safeguard/internal/usecase"
)

// bankJSON is a bank as the API shows it.
type bankJSON struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Threshold   int       `json:"threshold"`
	VPDQ        float64   `json:"vpdq_threshold"`
	Entries     int64     `json:"entries"`
	CreatedAt   time.Time `json:"created_at"`
	// Sources and LastAdded (GET /v1/banks/{bank} only, where the store
	// can summarize): the live entries per source, and when the last was
	// added.
	Sources   []bank.SourceCount `json:"sources,omitempty"`
	LastAdded *time.Time         `json:"last_added,omitempty"`
}

func toBankJSON(b bank.Bank) bankJSON {
	return bankJSON{Name: b.Name, Description: b.Description, Threshold: b.Threshold, VPDQ: b.VPDQPercent(), Entries: b.Entries, CreatedAt: b.CreatedAt}
}

func (a *API) listBanks(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	bs, err := a.cfg.Banks.ListBanks(r.Context())
	if err != nil {
		return err
	}
	out := make([]bankJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, toBankJSON(b))
	}
	writeJSON(w, http.StatusOK, map[string]any{"banks": out})
	return nil
}

func (a *API) getBank(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	b, err := a.cfg.Banks.Bank(r.Context(), r.PathValue("bank"))
	if err != nil {
		return err
	}
	out := toBankJSON(b)
	if sz, ok := a.cfg.Banks.(bank.Summarizer); ok {
		sum, err := sz.Summarize(r.Context(), b.Name)
		if err != nil {
			return err
		}
		out.Sources = sum.Sources
		if !sum.LastAdded.IsZero() {
			out.LastAdded = &sum.LastAdded
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createBank(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	var in struct {
		Name        string  `json:"name"`
		Description string  `json:"description"`
		Threshold   int     `json:"threshold"`
		VPDQ        float64 `json:"vpdq_threshold"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	b, err := a.banks.Create(r.Context(), k.ID, bank.Bank{Name: in.Name, Description: in.Description, Threshold: in.Threshold, VPDQThreshold: in.VPDQ})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toBankJSON(b))
	return nil
}

func (a *API) deleteBank(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	if err := a.banks.Delete(r.Context(), k.ID, r.PathValue("bank")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// entryJSON is an entry as an admin sends it.
type entryJSON struct {
	Signal     bank.Signal `json:"signal"`
	Value      string      `json:"value"`
	Source     string      `json:"source"`
	ExternalID string      `json:"external_id"`
	Category   string      `json:"category"`
	Note       string      `json:"note"`
}

// addEntries handles POST /v1/banks/{bank}/entries: either JSON
// {"entries": [...]}, or the content itself: an image, whose PDQ, MD5 and
// SHA-256 are added, or a video (spooled to disk as at scan), whose vPDQ,
// MD5 and SHA-256 are; with source, external_id, category and note as
// query parameters.
func (a *API) addEntries(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	name := r.PathValue("bank")
	mt, err := checkContentType(r, append([]string{"application/json", "video/*"}, contentTypes...)...)
	if err != nil {
		return err
	}
	var entries []bank.Entry
	var hashed *hashes
	if mt == "application/json" {
		// The query's provenance is an image's; entries sent as JSON
		// carry their own, and would silently lose it.
		for name, v := range request.Parsed(r) {
			if v != "" {
				return errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s is an image's provenance: entries sent as JSON carry their own", name)
			}
		}
		var in struct {
			Entries []entryJSON `json:"entries"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if len(in.Entries) == 0 {
			return errorf(http.StatusBadRequest, CodeBadRequest, "no entries")
		}
		for i, e := range in.Entries {
			be, err := bank.Entry{Signal: e.Signal, Value: e.Value, Source: e.Source, ExternalID: e.ExternalID,
				Category: e.Category, Note: e.Note, AddedBy: k.ID}.Normalize()
			if err != nil {
				return errorf(http.StatusBadRequest, CodeInvalidEntries, "entry %d: %v", i+1, err)
			}
			entries = append(entries, be)
		}
	} else {
		if err := limitBody(w, r, max(a.cfg.MaxBody, a.cfg.MaxVideo)); err != nil {
			return err
		}
		release, err := a.admitBody(r, k, a.cfg.MaxBody)
		if err != nil {
			return err
		}
		defer release()
		data, file, err := a.readUpload(r.Body)
		if file != "" {
			defer os.Remove(file)
		}
		if err != nil {
			return err
		}
		q := request.Parsed(r)
		base := bank.Entry{Source: q.Text("source"), ExternalID: q.Text("external_id"), Category: q.Text("category"), Note: q.Text("note"), AddedBy: k.ID}
		if file != "" {
			return a.addVideo(w, r, k, name, file, base)
		}
		if len(data) == 0 {
			return errorf(http.StatusBadRequest, CodeEmptyBody, "no content: send the image as the body")
		}
		sig, err := a.cfg.Hasher.Hash("content", data)
		if err != nil {
			return err
		}
		hashed = &hashes{PDQ: sig.PDQ.String(), Quality: &sig.Quality, MD5: hex.EncodeToString(sig.MD5[:]), SHA256: hex.EncodeToString(sig.SHA256[:])}
		for _, v := range []struct {
			s bank.Signal
			v string
		}{{bank.PDQ, hashed.PDQ}, {bank.MD5, hashed.MD5}, {bank.SHA256, hashed.SHA256}} {
			e := base
			e.Signal, e.Value = v.s, v.v
			if e, err = e.Normalize(); err != nil {
				return errorf(http.StatusBadRequest, CodeInvalidEntries, "%v", err)
			}
			entries = append(entries, e)
		}
	}
	res, err := a.banks.Add(r.Context(), k.ID, name, usecase.Slice(entries), nil, nil)
	if err != nil {
		return err
	}
	out := map[string]any{"added": res.Added, "existing": res.Existing}
	if hashed != nil {
		out["hashes"] = hashed
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) removeEntry(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	name := r.PathValue("bank")
	sig, err := bank.ParseSignal(r.PathValue("signal"))
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	v, err := bank.ParseValue(sig, r.PathValue("value"))
	if err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	}
	if err := a.banks.Remove(r.Context(), k.ID, name, sig, v); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importEntries handles POST /v1/banks/{bank}/import: a text, CSV or HMA
// file (format from ?format= or sniffed), streamed into the bank in one
// transaction, all or nothing.
func (a *API) importEntries(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	name := r.PathValue("bank")
	if _, err := checkContentType(r, "text/plain", "text/csv", "application/octet-stream"); err != nil {
		return err
	}
	if err := limitBody(w, r, a.cfg.MaxImport); err != nil {
		return err
	}
	q := request.Parsed(r)
	br := bufio.NewReaderSize(r.Body, 64<<10)
	f := bank.Format(q.Text("format"))
	if f == "" {
		head, _ := br.Peek(4 << 10)
		if len(head) == 0 {
			return errorf(http.StatusBadRequest, CodeEmptyBody, "empty file")
		}
		f = bank.DetectFormat(head)
	}
	defaults := bank.Entry{Source: q.Text("source"), Category: q.Text("category"), AddedBy: k.ID}
	entries := func(yield func(bank.Entry, error) bool) {
		for e, err := range bank.Read(br, "upload", f) {
			if err == nil {
				if e.Source == "" {
					e.Source = defaults.Source
				}
				if e.Category == "" {
					e.Category = defaults.Category
				}
				e.AddedBy = defaults.AddedBy
			}
			if !yield(e, err) {
				return
			}
		}
	}
	res, err := a.banks.Add(r.Context(), k.ID, name, entries, map[string]any{"imported": string(f)}, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"added": res.Added, "existing": res.Existing})
	return nil
}

// exportBank handles GET /v1/banks/{bank}/export: the whole list, with
// provenance, in ?format= (csv by default). The export is recorded first:
// a hash list that left the service must be accounted for.
func (a *API) exportBank(w http.ResponseWriter, r *http.Request, k auth.Key) error {
	name := r.PathValue("bank")
	f := bank.Format(request.Parsed(r).Text("format"))
	if f == "" {
		f = bank.CSV
	}
	wrote := false
	err := a.banks.Export(r.Context(), k.ID, name, f, func(entries iter.Seq2[bank.Entry, error]) error {
		ct := "text/csv; charset=utf-8"
		if f == bank.Text {
			ct = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, f))
		wrote = true
		return bank.Write(w, f, entries)
	})
	if err != nil && !wrote {
		return err
	}
	if err != nil {
		// The status is sent; all we can do is cut the body short, which
		// the client sees as a broken transfer, and log.
		a.log.Error("api: export failed part way", "bank", name, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
