package scan

import (
	"context"

	"github.com/safeguard-oss/safeguard/internal/signal"
)

// hashVideo hashes a spooled video in one of the VideoSlots. Its errors
// about the file are *video.Error.
func (p *Pipeline) hashVideo(ctx context.Context, path string) (signal.Set, error) {
	if p.VideoSlots != nil {
		select {
		case p.VideoSlots <- struct{}{}:
			defer func() { <-p.VideoSlots }()
		case <-ctx.Done():
			return signal.Set{}, ctx.Err()
		}
	}
	v, err := p.Hasher.HashVideo(ctx, path)
	if err != nil {
		return signal.Set{}, err
	}
	return v.Set(), nil
}
