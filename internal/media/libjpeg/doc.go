// Package libjpeg is a small cgo binding to libjpeg-turbo (Debian's
// libjpeg62-turbo), for the one thing Safeguard needs from it: decoding a
// JPEG held in memory, at full size or scaled by 1/2, 1/4 or 1/8 in the DCT
// domain, straight into Go-owned pixels, with errors returned instead of
// libjpeg's default exit().
//
// The binding builds only with cgo and without the nolibjpeg tag; in other
// builds (CGO_ENABLED=0, GOOS=js) this package is empty and callers use
// their pure-Go decoder instead. It imports nothing of ours.
package libjpeg
