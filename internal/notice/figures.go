package notice

import (
	"cmp"
	"slices"
	"time"
)

// HostRow is the "100 reported, 3 removed" line of one host. Each figure
// counts notices (not sendings) of the host:
//
//   - Notices: every notice registered, whatever its state.
//   - Sent: those that reached the host at least once (Sends > 0).
//   - Removed: those a check found gone after at least one notice reached
//     the host. GoneBeforeNotice counts those found gone before any did.
//   - StillUp: those Open (up at the last check), of which Escalated went
//     to the authority. Oldest is the longest any of them has been up
//     since its first notice.
//   - Withdrawn: those their sender stopped chasing.
//   - MedianToRemoval: over the Removed, the time from the first notice
//     to the check that found the material gone (nearest rank); zero when
//     none is removed. It is bounded below by the check interval.
//
// Evidence lists the notices counted, each with its events (checks with
// status and body hash, sendings) at /v1/notices/{id}.
type HostRow struct {
	Host             string        `json:"host"`
	Notices          int           `json:"notices"`
	Sent             int           `json:"sent"`
	Removed          int           `json:"removed"`
	GoneBeforeNotice int           `json:"gone_before_notice"`
	StillUp          int           `json:"still_up"`
	Escalated        int           `json:"escalated"`
	Withdrawn        int           `json:"withdrawn"`
	MedianToRemoval  time.Duration `json:"median_to_removal"`
	Oldest           time.Duration `json:"oldest_up"`
	Evidence         []int64       `json:"notice_ids"`
}

// Figures sums up notices per host, by host name, at now.
func Figures(ns []Notice, now time.Time) []HostRow {
	rows := map[string]*HostRow{}
	waits := map[string][]time.Duration{}
	for _, n := range ns {
		r := rows[n.Host]
		if r == nil {
			r = &HostRow{Host: n.Host}
			rows[n.Host] = r
		}
		r.Notices++
		r.Evidence = append(r.Evidence, n.ID)
		if n.Sends > 0 {
			r.Sent++
		}
		switch n.State {
		case Removed:
			if n.Sends == 0 {
				r.GoneBeforeNotice++
				break
			}
			r.Removed++
			waits[n.Host] = append(waits[n.Host], n.RemovedAt.Sub(n.FirstSentAt))
		case Open:
			r.StillUp++
			if !n.EscalatedAt.IsZero() {
				r.Escalated++
			}
			if n.Sends > 0 {
				r.Oldest = max(r.Oldest, now.Sub(n.FirstSentAt))
			}
		case Withdrawn:
			r.Withdrawn++
		}
	}
	out := make([]HostRow, 0, len(rows))
	for h, r := range rows {
		if w := waits[h]; len(w) > 0 {
			slices.Sort(w)
			r.MedianToRemoval = w[(len(w)+1)/2-1]
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b HostRow) int { return cmp.Compare(a.Host, b.Host) })
	return out
}
