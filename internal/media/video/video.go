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
	"time"
)

// ErrNoFFmpeg says that ffmpeg or ffprobe is not on the PATH.
var ErrNoFFmpeg = errors.New("video: ffmpeg/ffprobe not found on PATH; install them (Debian: apt-get install ffmpeg)")

// Available reports whether ffmpeg and ffprobe can be run: ErrNoFFmpeg when
// either is missing. A server checks it at start-up to say so once, rather
// than on every upload.
func Available() error {
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			return ErrNoFFmpeg
		}
	}
	return nil
}

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
	// CPUFlags is ffmpeg's -cpuflags for the colour conversion alone: "0"
	// forces swscale's C conversion, which the reference's sample hashes
	// were made with (docs/video.md); "" leaves its SIMD paths on and runs
	// one child instead of two.
	CPUFlags string
	// Rate, when above 0, resamples the stream in time to Rate frames a
	// second and scales every frame to Size x Size, with ffmpeg's default
	// scaler and rotation, as TMK's reference runs ffmpeg (`-s 64:64 -r 15`):
	// its features are of those frames, not of the decoded ones. Every and
	// CPUFlags are then unused, and Frame.Number counts resampled frames.
	Rate, Size int
}

// Usage is what the ffmpeg children cost: for metrics, and to size how
// many videos a server may decode at once.
type Usage struct {
	CPU     time.Duration // user plus system time, all children
	PeakRSS int64         // sum of the children's peak resident memory, bytes
}

// Decode runs ffmpeg on the file at path, converting every kept frame of the
// first video stream to RGB24 at info's size with area scaling and no
// rotation (the reference vPDQ's conversion), and calls fn with each in
// order. An error from fn stops decoding and is returned as is.
//
// With opt.CPUFlags set, two children run in a pipe: one decodes (with all
// of the CPU's SIMD, which decoders keep bit-exact) and passes raw frames
// in NUT to one that only converts colour under those flags. -cpuflags is
// global in ffmpeg, and forcing the C colour conversion in one process
// would force the C decoder too, at more than twice the CPU.
func Decode(ctx context.Context, path string, info Info, lim Limits, opt DecodeOptions, fn func(Frame) error) (Usage, error) {
	lim = lim.withDefaults()
	every := max(opt.Every, 1)
	quiet := []string{"-nostdin", "-hide_banner", "-loglevel", "error"}
	input := []string{"-threads", strconv.Itoa(lim.Threads), "-noautorotate", "-i", "file:" + path,
		"-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough"}
	frames := []string{"-frames:v", strconv.Itoa(lim.MaxFrames + 1)}
	sel := fmt.Sprintf("select=not(mod(n\\,%d))", every)
	convert := fmt.Sprintf("scale=w=%d:h=%d:flags=area,format=rgb24", info.Width, info.Height)
	output := []string{"-sws_flags", "area", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"}

	var stages [][]string
	width, height := info.Width, info.Height
	switch {
	case opt.Rate > 0:
		if opt.Size < 1 || opt.Size > 1024 || opt.Rate > 240 {
			return Usage{}, fmt.Errorf("video %s: resampling to %dx%[2]d at %d fps is out of range", path, opt.Size, opt.Rate)
		}
		every, width, height = 1, opt.Size, opt.Size
		stages = [][]string{join(quiet, []string{"-threads", strconv.Itoa(lim.Threads), "-i", "file:" + path,
			"-map", "0:v:0", "-an", "-sn", "-dn", "-s", fmt.Sprintf("%d:%d", opt.Size, opt.Size),
			"-r", strconv.Itoa(opt.Rate)}, frames, []string{"-f", "rawvideo", "-c:v", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"})}
	case opt.CPUFlags == "":
		vf := convert
		if every > 1 {
			vf = sel + "," + convert
		}
		stages = [][]string{join(quiet, input, []string{"-vf", vf}, frames, output)}
	default:
		dec := join(quiet, input)
		if every > 1 {
			dec = append(dec, "-vf", sel)
		}
		dec = join(dec, frames, []string{"-c:v", "rawvideo", "-f", "nut", "pipe:1"})
		conv := join(quiet, []string{"-cpuflags", opt.CPUFlags, "-f", "nut", "-i", "pipe:0",
			"-fps_mode", "passthrough", "-vf", convert}, frames, output)
		stages = [][]string{dec, conv}
	}

	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	p, err := startPipeline(ctx, lim, stages)
	if err != nil {
		return Usage{}, fmt.Errorf("video %s: %w", path, err)
	}
	buf := make([]byte, 3*width*height)
	r := bufio.NewReaderSize(p.out, 1<<20)
	var fnErr error
	count := 0
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			// EOF, or a partial frame when ffmpeg died mid-frame: its exit
			// status says which.
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
		u, _ := p.wait(ctx)
		return u, fnErr
	}
	u, err := p.wait(ctx)
	if err != nil {
		return u, classify(path, "ffmpeg", err, p.failed.Bytes(), Corrupt)
	}
	if count == 0 {
		return u, &Error{path, Corrupt, "ffmpeg decoded no frames"}
	}
	return u, nil
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// pipeline is ffmpeg children each reading the previous one's output.
type pipeline struct {
	cmds   []*exec.Cmd
	logs   []*tailBuffer
	out    io.ReadCloser // the last child's stdout
	failed *tailBuffer   // after wait: the log of the child that failed
}

func startPipeline(ctx context.Context, lim Limits, stages [][]string) (*pipeline, error) {
	p := &pipeline{}
	var prev io.ReadCloser
	for i, args := range stages {
		cmd, err := command(ctx, "ffmpeg", lim, args...)
		if err != nil {
			p.kill()
			return nil, err
		}
		log := new(tailBuffer)
		cmd.Stderr = log
		if prev != nil {
			cmd.Stdin = prev
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			p.kill()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			p.kill()
			return nil, fmt.Errorf("starting ffmpeg: %w", err)
		}
		if prev != nil {
			prev.Close() // the child holds its own copy
		}
		p.cmds, p.logs = append(p.cmds, cmd), append(p.logs, log)
		if i == len(stages)-1 {
			p.out = out
		} else {
			prev = out
		}
	}
	return p, nil
}

func (p *pipeline) kill() {
	for _, c := range p.cmds {
		c.Process.Kill()
		c.Wait()
	}
}

// wait waits for every child and returns their cost and the failure that
// explains the others: the first along the pipe (a decoder's error explains
// the converter's short input), unless that child only lost its reader.
func (p *pipeline) wait(ctx context.Context) (Usage, error) {
	var u Usage
	var first error
	for i, c := range p.cmds {
		err := c.Wait()
		if ps := c.ProcessState; ps != nil {
			u.CPU += ps.UserTime() + ps.SystemTime()
			u.PeakRSS += peakRSS(ps)
		}
		lostReader := bytes.Contains(p.logs[i].Bytes(), []byte("Broken pipe"))
		if err != nil && (first == nil || p.failed.lostReader && !lostReader) {
			first, p.failed = errorWithContext(ctx, err), p.logs[i]
			p.failed.lostReader = lostReader
		}
	}
	return u, first
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
type tailBuffer struct {
	b          []byte
	lostReader bool // the child failed writing to a closed pipe
}

const tailSize = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte { return t.b }
