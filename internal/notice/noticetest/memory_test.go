package noticetest

import (
	"testing"

	"github.com/safeguard-oss/safeguard/internal/notice"
)

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) notice.Store { return new(Memory) })
}
