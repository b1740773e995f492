package api

import (
	_ "embed"
	"net/http"

	"github.com/safeguard-oss/safeguard/internal/auth"
)

// openapiJSON describes every route; TestOpenAPI keeps it and the route
// table in step.
//
//go:embed openapi.json
var openapiJSON []byte

func (a *API) openapi(w http.ResponseWriter, _ *http.Request, _ auth.Key) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiJSON)
	return nil
}
