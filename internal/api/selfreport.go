package api

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/selfreport"
)

// public marks a route anyone may call without a key: Report Remove's,
// which a young person uses from the public page. Each limits itself.
const public auth.Permission = "public"

// Codes of Report Remove's answers.

// selfReportImage is one image's hashes as the page sends them.
type selfReportImage struct {
	PDQ     string `json:"pdq"`
	Quality int    `json:"quality"`
	MD5     string `json:"md5"`
	SHA256  string `json:"sha256"`
}

// selfReportVideo is one video's hashes as the page sends them: vpdq is
// python-threatexchange's signal string or the array it holds.
type selfReportVideo struct {
	VPDQ   json.RawMessage `json:"vpdq"`
	MD5    string          `json:"md5"`
	SHA256 string          `json:"sha256"`
}

// selfReportView is a case as its owner sees it: never the hashes back, and
// the PIN only in the answer that created it.
type selfReportView struct {
	Code        string     `json:"code"`
	PIN         string     `json:"pin,omitempty"`
	State       string     `json:"state"`
	Images      int        `json:"images"`
	Videos      int        `json:"videos"`
	CreatedAt   time.Time  `json:"created_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

func viewOf(c selfreport.Case) selfReportView {
	v := selfReportView{Code: c.Code, State: string(c.State), Images: len(c.Images), Videos: len(c.Videos), CreatedAt: c.CreatedAt}
	if !c.WithdrawnAt.IsZero() {
		v.WithdrawnAt = &c.WithdrawnAt
	}
	return v
}

// createSelfReport handles POST /v1/self-reports: hashes in, code and PIN
// out.
func (a *API) createSelfReport(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	var in struct {
		Images []selfReportImage `json:"images"`
		Videos []selfReportVideo `json:"videos"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	ims := make([]selfreport.Image, len(in.Images))
	for i, im := range in.Images {
		ims[i] = selfreport.Image(im)
	}
	vids := make([]selfreport.Video, len(in.Videos))
	for i, v := range in.Videos {
		sig, err := vpdqSignal(v.VPDQ)
		if err != nil {
			return errorf(http.StatusBadRequest, CodeBadRequest, "video %d: vpdq: %v", i+1, err)
		}
		vids[i] = selfreport.Video{VPDQ: sig, MD5: v.MD5, SHA256: v.SHA256}
	}
	if a.cfg.SelfReports == nil {
		return errNoSelfReports
	}
	rc, err := a.cfg.SelfReports.Submit(r.Context(), address(r), ims, vids)
	if err != nil {
		return selfReportError(err)
	}
	v := viewOf(rc.Case)
	v.PIN = rc.PIN
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// selfReportStatus handles POST /v1/self-reports/{code}/status. It is a
// POST so that the PIN travels in the body, never in a URL that logs keep.
func (a *API) selfReportStatus(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	if a.cfg.SelfReports == nil {
		return errNoSelfReports
	}
	return a.withCase(w, r, a.cfg.SelfReports.Status)
}

// withdrawSelfReport handles POST /v1/self-reports/{code}/withdraw.
func (a *API) withdrawSelfReport(w http.ResponseWriter, r *http.Request, _ auth.Key) error {
	if a.cfg.SelfReports == nil {
		return errNoSelfReports
	}
	return a.withCase(w, r, a.cfg.SelfReports.Withdraw)
}

func (a *API) withCase(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, addr, code, pin string) (selfreport.Case, error)) error {
	var in struct {
		PIN string `json:"pin"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := do(r.Context(), address(r), r.PathValue("code"), in.PIN)
	if err != nil {
		return selfReportError(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, viewOf(c))
	return nil
}

// errNoSelfReports answers when the server was built without the service.
var errNoSelfReports = errorf(http.StatusServiceUnavailable, CodeUnavailable, "Report Remove is not enabled on this server")

// selfReportError turns the service's refusals into answers a young person
// can act on.
func selfReportError(err error) error {
	var qe *selfreport.QualityError
	switch {
	case errors.As(err, &qe):
		return errorf(http.StatusUnprocessableEntity, CodeLowQuality, "%v", qe)
	case errors.Is(err, selfreport.ErrInvalid):
		return errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
	case errors.Is(err, selfreport.ErrNoCase):
		return errorf(http.StatusNotFound, CodeNotFound, "no case with that code and PIN: check both and try again")
	}
	return err
}

// address is the caller's address for rate limiting: r.RemoteAddr, which
// the server's forwarded.Trusted handler has set to the client a trusted
// reverse proxy names (docs/remove.md).
func address(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	return ratelimit.AddressKey(ip)
}
