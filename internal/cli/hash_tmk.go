package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/hasher"
	"github.com/safeguard-oss/safeguard/internal/media/video"
	"github.com/safeguard-oss/safeguard/internal/tmk"
)

// hashTMK is `safeguard hash --format tmk`: each video's TMK+PDQF features
// as the reference's .tmk file, in outDir under the video's base name with
// .tmk (as tmk-hash-video -d names them), or, for a single video and no
// outDir, on standard output.
func hashTMK(e *env, paths []string, outDir string) int {
	if len(paths) == 0 {
		return fail(e, "hash", "--format tmk: no VIDEO given")
	}
	files, failed := expandPaths(e, paths)
	if outDir == "" && len(files) > 1 {
		return fail(e, "hash", "--format tmk: %d videos need --out-dir DIR (one .tmk each); standard output takes one", len(files))
	}
	for _, path := range files {
		// ffmpeg reads a still image as a one-frame video; that is
		// not what a TMK list holds, so videos are told by content.
		isVideo, err := hasher.IsVideo(path)
		if err == nil && !isVideo {
			err = fmt.Errorf("%s is not a video: TMK hashes videos", path)
		}
		var f *tmk.Features
		if err == nil {
			f, _, err = tmk.HashFile(context.Background(), path, video.Limits{})
		}
		if err == nil {
			var data []byte
			data, _ = f.MarshalBinary()
			if outDir == "" {
				_, err = e.stdout.Write(data)
			} else {
				name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".tmk"
				err = os.WriteFile(filepath.Join(outDir, name), data, 0o644)
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "safeguard hash: %v\n", err)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}
