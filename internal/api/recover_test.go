package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/safeguard-oss/safeguard/internal/auth"
	"github.com/safeguard-oss/safeguard/internal/auth/authtest"
)

// TestRecover makes a handler panic (its store is missing) and checks the
// answer is a JSON 500 and the API goes on serving.
func TestRecover(t *testing.T) {
	keys := new(authtest.Memory)
	key, _, err := auth.Create(context.Background(), keys, auth.Admin, "a", "test")
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}) // no Banks: listing them panics
	for range 2 {
		req := httptest.NewRequest("GET", "/v1/banks", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		var body struct{ Error struct{ Code string } }
		if rec.Code != 500 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code != CodeInternal {
			t.Errorf("panicking handler: %d %s", rec.Code, rec.Body)
		}
	}
}
