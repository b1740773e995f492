package api

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/safeguard-oss/safeguard/internal/evidence"
	"github.com/safeguard-oss/safeguard/internal/limits"
)

// uploadFields are the optional upload context of POST /v1/scan: what the
// CyberTipline's form asks of an upload (the uploader's address and port,
// when, with what), which a report made from the scan is prefilled with.
type uploadFields struct{ ip, port, at, userAgent, fileName string }

func (u *uploadFields) into(fields map[string]*string) {
	fields["ip"], fields["port"], fields["uploaded_at"] = &u.ip, &u.port, &u.at
	fields["user_agent"], fields["file_name"] = &u.userAgent, &u.fileName
}

// parse checks the fields, refusing each bad one by name; nil when none
// was sent.
func (u uploadFields) parse() (*evidence.Upload, error) {
	if u == (uploadFields{}) {
		return nil, nil
	}
	var out evidence.Upload
	if u.ip != "" {
		addr, err := netip.ParseAddr(u.ip)
		if err != nil || addr.Zone() != "" {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "ip %q: want an IPv4 or IPv6 address", clip(u.ip))
		}
		out.IP = addr.Unmap().String()
	}
	if u.port != "" {
		p, err := strconv.Atoi(u.port)
		if err != nil || p < 1 || p > 65535 {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "port %q: want a number from 1 to 65535", clip(u.port))
		}
		out.Port = p
	}
	if u.at != "" {
		t, err := time.Parse(time.RFC3339Nano, u.at)
		if err != nil || t.Year() < 1970 || t.Year() > 9999 {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "uploaded_at %q: want an RFC 3339 time, e.g. 2026-11-20T10:00:00Z", clip(u.at))
		}
		out.Time = t.UTC()
	}
	for name, v := range map[string]*string{"user_agent": &u.userAgent, "file_name": &u.fileName} {
		if err := limits.Line(name, *v, maxField); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%v", err)
		}
	}
	out.UserAgent, out.FileName = u.userAgent, u.fileName
	return &out, nil
}
