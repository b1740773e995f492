package postgres

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/textmsg"
	"github.com/safeguard-oss/safeguard/internal/textmsg/textmsgtest"
)

func TestTextMessages(t *testing.T) {
	testURL(t)
	textmsgtest.Run(t, func(t *testing.T) textmsg.Store { return openTest(t) })
}
