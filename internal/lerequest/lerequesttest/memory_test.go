package lerequesttest

import "testing"

func TestMemory(t *testing.T) {
	Run(t, func(*testing.T) Backend { return new(Memory) })
}
