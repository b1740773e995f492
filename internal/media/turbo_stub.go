//go:build !cgo || nolibjpeg

package media

import (
	"fmt"
	"image"
)

// Without cgo (CGO_ENABLED=0, GOOS=js) or with the nolibjpeg tag, JPEGAuto
// uses Go's decoder and the libjpeg-turbo modes say why they cannot run.
const HaveLibjpeg = false

func decodeTurbo(name string, _ []byte, opt Options) (image.Image, error) {
	return nil, unavailable(name, opt)
}

func turboConfig(name string, _ []byte, opt Options) (w, h int, err error) {
	return 0, 0, unavailable(name, opt)
}

func unavailable(name string, opt Options) error {
	return &Error{Name: name, Format: JPEG, Kind: Unavailable,
		Err: fmt.Errorf("JPEG mode %q needs libjpeg-turbo, which this build leaves out (no cgo, or the nolibjpeg tag)", opt.JPEG)}
}

func releaseTurbo(image.Image) {}
