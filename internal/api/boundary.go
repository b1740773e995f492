package api

import (
	"bytes"
	"net/http"

	"github.com/safeguard-oss/safeguard/internal/limits"
	"github.com/safeguard-oss/safeguard/internal/request"
)

// The boundary: every string a request carries passes internal/request's
// checks before any handler sees it, whatever the route, so a route added
// tomorrow cannot reach a store with a NUL, invalid UTF-8 or a megabyte id
// (PostgreSQL refuses the first two with an error, and an index entry over
// ~2.7 KB with another). Path values and query parameters are checked by
// request.Check against the route table (withParams); JSON bodies by
// checkBody. Field-specific checks (limits.Line on an id, a shorter bound
// on a name) still run in the domain; these are the floor.

// maxJSONString bounds one string of a JSON body (a report's text is the
// longest there is).
const maxJSONString = limits.Text

// checkBody is the floor of every JSON body of the API: not null (no route
// takes one, and decoding null into a struct leaves it as it was), then
// request.CheckJSON's refusals (a key given twice, a bad string, nesting
// deeper than request.MaxJSONDepth), each naming the field. where prefixes
// messages ("multipart form: part report: ").
func checkBody(b []byte, where string) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%sthe body is null: want a JSON object", where)
	}
	if err := request.CheckJSON(b, maxJSONString); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s%v", where, err)
	}
	return nil
}
