//go:build cgo && !nolibjpeg

package media

import (
	"image"

	"github.com/safeguard-oss/safeguard/internal/media/libjpeg"
)

// HaveLibjpeg reports whether this build decodes JPEGs with libjpeg-turbo.
const HaveLibjpeg = true

func decodeTurbo(name string, data []byte, opt Options) (image.Image, error) {
	d, err := libjpeg.NewDecoder(data)
	if err != nil {
		return nil, turboError(name, err)
	}
	defer d.Close()
	if err := checkSize(name, JPEG, d.Width, d.Height, opt.maxPixels()); err != nil {
		return nil, err
	}
	denom := 1
	if opt.JPEG == JPEGAuto || opt.JPEG == JPEGTurboScaled {
		denom = ScaleDenom(d.Width, d.Height, opt.minSide())
	}
	var img image.Image
	if w, h := libjpeg.OutputSize(d.Width, d.Height, denom); opt.ForPDQ && (w > pdqSide || h > pdqSide) {
		img, err = d.DecodeSampled(denom, opt.Grey, pdqSamples(w), pdqSamples(h))
	} else {
		img, err = d.Decode(denom, opt.Grey)
	}
	if err != nil {
		return nil, turboError(name, err)
	}
	return img, nil
}

func turboConfig(name string, data []byte, _ Options) (w, h int, err error) {
	d, err := libjpeg.NewDecoder(data)
	if err != nil {
		return 0, 0, turboError(name, err)
	}
	d.Close()
	return d.Width, d.Height, nil
}

func turboError(name string, err error) error {
	kind := Corrupt
	if e, ok := err.(*libjpeg.Error); ok && e.Truncated {
		kind, err = Truncated, nil
	}
	return &Error{Name: name, Format: JPEG, Kind: kind, Err: err}
}

func releaseTurbo(img image.Image) { libjpeg.Release(img) }
