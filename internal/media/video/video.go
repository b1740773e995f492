// Package video decodes untrusted video files into RGB frames by running
// Debian's ffprobe and ffmpeg as child processes under hard limits.
//
// A video decoder is a large attack surface, so it runs in another process:
// a crash, a hang or a memory blow-up in the decoder costs one child process,
// never the server (docs/video.md says why this rather than a cgo binding).
// Every child runs under a wall-clock deadline (the context and
// Limits.Timeout), a CPU-time and an address-space limit (set with the
// shell's ulimit before exec, so there is no moment the child runs
// unlimited), and its output is read as a stream of frames of the size
// ffprobe reported, at most Limits.MaxFrames of them: the container's
// metadata is checked, but the output stream is what is enforced.
//
// A file that is not a video, or that breaks a limit, gives an *Error, which
// the API maps to 422; ffmpeg missing from the machine gives ErrNoFFmpeg,
// a fault of the installation rather than of the upload.
package video

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoFFmpeg says that ffmpeg or ffprobe is not on the PATH.
var ErrNoFFmpeg = errors.New("video: ffmpeg/ffprobe not found on PATH; install them (Debian: apt-get install ffmpeg)")

// Kind classifies why a video was refused.
type Kind int

// The kinds of refusal. The API answers 422 for every one of them.
const (
	NotVideo  Kind = iota + 1 // not a container ffmpeg reads, or no video stream
	TooLarge                  // dimensions, stream count or frame count over a limit
	Corrupt                   // ffmpeg failed part way: truncated or damaged data
	Exhausted                 // wall time, CPU time or memory limit reached
)

func (k Kind) String() string {
	switch k {
	case NotVideo:
		return "not a video"
	case TooLarge:
		return "too large"
	case Corrupt:
		return "corrupt"
	case Exhausted:
		return "over the decoding limits"
	}
	return "refused"
}

// Error is a video refused for what it is or what decoding it would cost.
type Error struct {
	Path   string
	Kind   Kind
	Reason string // what was wrong, for a person
}

func (e *Error) Error() string {
	return fmt.Sprintf("video %s: %s: %s", e.Path, e.Kind, e.Reason)
}

// Limits bound what decoding one video may cost. Zero fields take the
// defaults below.
type Limits struct {
	MaxWidth, MaxHeight int           // largest frame accepted (default 7680x4320)
	MaxPixels           int           // largest width*height (default 3840*2160*2)
	MaxStreams          int           // most streams in the container (default 16)
	MaxFrames           int           // most frames delivered (default 216000: 2 h at 30 fps)
	Timeout             time.Duration // wall time per child (default 10 min)
	CPU                 time.Duration // CPU time per child (default 10 min)
	Memory              int64         // address space per child in bytes (default 2 GiB)
	Threads             int           // ffmpeg decoding threads (default 1)
}

// Defaults for Limits' zero fields.
const (
	DefaultMaxWidth   = 7680
	DefaultMaxHeight  = 4320
	DefaultMaxPixels  = 3840 * 2160 * 2
	DefaultMaxStreams = 16
	DefaultMaxFrames  = 216000
	DefaultTimeout    = 10 * time.Minute
	DefaultCPU        = 10 * time.Minute
	DefaultMemory     = 2 << 30
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxWidth, DefaultMaxWidth)
	def(&l.MaxHeight, DefaultMaxHeight)
	def(&l.MaxPixels, DefaultMaxPixels)
	def(&l.MaxStreams, DefaultMaxStreams)
	def(&l.MaxFrames, DefaultMaxFrames)
	def(&l.Threads, 1)
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.CPU <= 0 {
		l.CPU = DefaultCPU
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	return l
}

// Info is what ffprobe says of a file's first video stream.
type Info struct {
	Width, Height int
	FrameRate     float64 // avg_frame_rate, else r_frame_rate, frames a second
	Codec         string
	Streams       int // all streams in the container
}

// probeOutput is the part of ffprobe's JSON we read.
type probeOutput struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
	} `json:"streams"`
	Format struct {
		NbStreams int `json:"nb_streams"`
	} `json:"format"`
}

// maxProbeOutput bounds what is read of ffprobe's answer; ours is a few
// hundred bytes, whatever the file holds.
const maxProbeOutput = 64 << 10

// Probe reads the container and first video stream of the file at path
// and checks them against lim.
func Probe(ctx context.Context, path string, lim Limits) (Info, error) {
	lim = lim.withDefaults()
	if err := checkFile(path); err != nil {
		return Info{}, err
	}
	out, stderr, err := run(ctx, "ffprobe", lim, maxProbeOutput,
		"-v", "error", "-select_streams", "v:0",
		"-show_entries", "format=nb_streams:stream=codec_name,width,height,avg_frame_rate,r_frame_rate",
		"-of", "json", "file:"+path)
	if err != nil {
		return Info{}, classify(path, "ffprobe", err, stderr, NotVideo)
	}
	var p probeOutput
	if err := json.Unmarshal(out, &p); err != nil {
		return Info{}, &Error{path, NotVideo, "ffprobe's answer is not JSON: " + err.Error()}
	}
	if len(p.Streams) == 0 {
		return Info{}, &Error{path, NotVideo, "no video stream"}
	}
	s := p.Streams[0]
	info := Info{Width: s.Width, Height: s.Height, Codec: s.CodecName, Streams: p.Format.NbStreams}
	info.FrameRate = parseRate(s.AvgFrameRate)
	if info.FrameRate == 0 {
		info.FrameRate = parseRate(s.RFrameRate)
	}
	switch {
	case info.Streams > lim.MaxStreams:
		return info, &Error{path, TooLarge, fmt.Sprintf("%d streams, over the limit of %d", info.Streams, lim.MaxStreams)}
	case info.Width <= 0 || info.Height <= 0:
		return info, &Error{path, NotVideo, fmt.Sprintf("video stream has no size (%dx%d)", info.Width, info.Height)}
	case info.Width > lim.MaxWidth || info.Height > lim.MaxHeight || info.Width*info.Height > lim.MaxPixels:
		return info, &Error{path, TooLarge, fmt.Sprintf("%dx%d frames, over the limit of %dx%d (%d pixels)",
			info.Width, info.Height, lim.MaxWidth, lim.MaxHeight, lim.MaxPixels)}
	case info.FrameRate <= 0 || info.FrameRate > 1000:
		return info, &Error{path, NotVideo, fmt.Sprintf("no usable frame rate (avg %q, r %q)", s.AvgFrameRate, s.RFrameRate)}
	}
	return info, nil
}

// parseRate reads ffprobe's "num/den"; 0 when absent or degenerate.
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return 0
	}
	n, err1 := strconv.ParseInt(num, 10, 64)
	d, err2 := strconv.ParseInt(den, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// checkFile refuses what is not a regular file before a child is started:
// ffmpeg would happily read a FIFO or a device forever.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &Error{path, NotVideo, "not a regular file"}
	}
	return nil
}

// Frame is one decoded frame: packed RGB24, Width*3 bytes a row, valid only
// during the callback that receives it.
type Frame struct {
	Number int // index among all decoded frames, from 0
	Pix    []byte
}

// DecodeOptions say which frames to decode and how.
type DecodeOptions struct {
	// Every keeps frames whose number is a multiple of it (1 or less:
	// every frame). Frames in between are dropped inside ffmpeg, before
	// colour conversion, so sparse sampling is cheap.
	Every int
	// CPUFlags is ffmpeg's -cpuflags: "0" forces the C colour conversion,
	// which the reference's sample hashes were made with (docs/video.md);
	// "" leaves ffmpeg's SIMD paths on.
	CPUFlags string
}

// Usage is what the ffmpeg child cost: for metrics, and to size how many
// videos a server may decode at once.
type Usage struct {
	CPU     time.Duration // user plus system time
	PeakRSS int64         // peak resident memory in bytes
}

// Decode runs ffmpeg on the file at path, converting every kept frame of the
// first video stream to RGB24 at info's size with area scaling and no
// rotation (the reference vPDQ's conversion), and calls fn with each in
// order. An error from fn stops decoding and is returned as is.
func Decode(ctx context.Context, path string, info Info, lim Limits, opt DecodeOptions, fn func(Frame) error) (Usage, error) {
	lim = lim.withDefaults()
	every := max(opt.Every, 1)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error"}
	if opt.CPUFlags != "" {
		args = append(args, "-cpuflags", opt.CPUFlags)
	}
	vf := fmt.Sprintf("scale=w=%d:h=%d:flags=area,format=rgb24", info.Width, info.Height)
	if every > 1 {
		vf = fmt.Sprintf("select=not(mod(n\\,%d)),", every) + vf
	}
	args = append(args,
		"-threads", strconv.Itoa(lim.Threads),
		"-noautorotate", "-i", "file:"+path,
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-fps_mode", "passthrough", "-sws_flags", "area",
		"-vf", vf,
		"-frames:v", strconv.Itoa(lim.MaxFrames+1),
		"-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")

	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	cmd, err := command(ctx, "ffmpeg", lim, args...)
	if err != nil {
		return Usage{}, err
	}
	var stderr tailBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Usage{}, fmt.Errorf("video %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return Usage{}, fmt.Errorf("video %s: starting ffmpeg: %w", path, err)
	}
	size := 3 * info.Width * info.Height
	buf := make([]byte, size)
	r := bufio.NewReaderSize(stdout, 1<<20)
	var fnErr error
	count := 0
	for {
		_, err := io.ReadFull(r, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A partial frame: ffmpeg died mid-frame; its exit says why.
			break
		}
		if count == lim.MaxFrames {
			fnErr = &Error{path, TooLarge, fmt.Sprintf("more than %d frames", lim.MaxFrames)}
			break
		}
		if fnErr = fn(Frame{Number: count * every, Pix: buf}); fnErr != nil {
			break
		}
		count++
	}
	if fnErr != nil {
		cancel() // stop ffmpeg; its exit status no longer matters
		_ = cmd.Wait()
		return usage(cmd), fnErr
	}
	if err := cmd.Wait(); err != nil {
		return usage(cmd), classify(path, "ffmpeg", errorWithContext(ctx, err), stderr.Bytes(), Corrupt)
	}
	if count == 0 {
		return usage(cmd), &Error{path, Corrupt, "ffmpeg decoded no frames"}
	}
	return usage(cmd), nil
}

func usage(cmd *exec.Cmd) Usage {
	ps := cmd.ProcessState
	if ps == nil {
		return Usage{}
	}
	u := Usage{CPU: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.PeakRSS = ru.Maxrss << 10 // Linux reports KiB
	}
	return u
}

// errorWithContext prefers the context's error, so a killed child reads as
// the deadline that killed it.
func errorWithContext(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// command builds a child process that runs name under lim's CPU and memory
// limits: sh sets them with ulimit and then execs name, so they hold from
// the child's first instruction.
func command(ctx context.Context, name string, lim Limits, args ...string) (*exec.Cmd, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, ErrNoFFmpeg
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, fmt.Errorf("video: no sh to set limits for %s: %w", name, err)
	}
	cpu := int64(math.Ceil(lim.CPU.Seconds()))
	script := fmt.Sprintf(`ulimit -t %d && ulimit -v %d && exec "$0" "$@"`, cpu, lim.Memory>>10)
	cmd := exec.CommandContext(ctx, sh, append([]string{"-c", script, bin}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.WaitDelay = 5 * time.Second
	return cmd, nil
}

// run runs a short child (ffprobe) to completion, keeping at most maxOut
// bytes of its output.
func run(ctx context.Context, name string, lim Limits, maxOut int, args ...string) (out, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, min(lim.Timeout, time.Minute))
	defer cancel()
	cmd, err := command(ctx, name, lim, args...)
	if err != nil {
		return nil, nil, err
	}
	var o limitedBuffer
	o.max = maxOut
	var e tailBuffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err == nil && o.over {
		err = fmt.Errorf("%s printed more than %d bytes", name, maxOut)
	}
	return o.Bytes(), e.Bytes(), errorWithContext(ctx, err)
}

// classify turns a child's failure into an *Error, or passes through the
// errors that are not the file's fault.
func classify(path, name string, err error, stderr []byte, kind Kind) error {
	if errors.Is(err, ErrNoFFmpeg) {
		return err
	}
	msg := strings.TrimSpace(string(stderr))
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:]) // the last line says what stopped it
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{path, Exhausted, name + " ran out of wall time"}
	case errors.Is(err, context.Canceled):
		return err
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if st := exit.ProcessState.String(); strings.Contains(st, "signal: killed") || strings.Contains(st, "CPU time") {
			return &Error{path, Exhausted, name + " was stopped: " + st}
		}
		if strings.Contains(msg, "Cannot allocate memory") || strings.Contains(msg, "failed to map segment") {
			return &Error{path, Exhausted, name + " ran out of memory: " + msg}
		}
		if msg == "" {
			msg = exit.ProcessState.String()
		}
		return &Error{path, kind, name + ": " + msg}
	}
	return fmt.Errorf("video %s: %s: %w", path, name, err)
}

// limitedBuffer keeps the first max bytes written and notes any excess.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		p = p[:max(room, 0)]
	}
	b.Buffer.Write(p)
	return n, nil
}

// tailBuffer keeps the last few KiB written: the end of ffmpeg's log says
// why it stopped, and a hostile file can make it log without end.
type tailBuffer struct{ b []byte }

const tailSize = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte { return t.b }
