module github.com/safeguard-oss/safeguard

go 1.26.8

require (
	golang.org/x/image v0.47.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/term v0.48.0 // indirect
)
