package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/webhook"
	"github.com/safeguard-oss/safeguard/internal/webhook/webhooktest"
)

func TestWebhooks(t *testing.T) {
	testURL(t)
	webhooktest.Run(t, func(t *testing.T) webhook.Store { return openTest(t) })
}
