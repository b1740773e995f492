package server

import "time"

// spoolAge is how long a spooled file goes unwritten before a sweep takes
// it for what a process stopped mid-request left. A request writes its
// file as the body arrives (within the whole-body bound, bodyrate's 5
// minutes) or as it copies a kept video out, and ffmpeg then reads it
// (each child within video's 10-minute wall-clock limit): an hour is well
// past both, so a sweep leaves alone a request in flight, here or in
// another process sharing the directory. The evidence directory's
// temporary files get the same margin.
const spoolAge = time.Hour

// sweepSpool removes the spooled files older than spoolAge
// (spool.Dir.Sweep), and logs and counts them. The server sweeps at start,
// where they are a crash's or a kill's, and hourly, for those of another
// process sharing the directory, or left just before a restart.
func (s *Server) sweepSpool() {
	n, err := s.spool.Sweep(time.Now().Add(-spoolAge))
	s.metrics.SpoolSwept(n)
	if err != nil {
		s.log.Error("spool: sweeping files left by a process stopped mid-request", "dir", s.spool, "err", err, "removed", n)
	} else if n > 0 {
		s.log.Warn("spool: removed files left by a process stopped mid-request", "dir", s.spool, "files", n, "older_than", spoolAge)
	}
}
