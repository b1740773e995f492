package transparency

// Definition is what a figure counts, over what, and from where. The
// table is the one definition of each figure; docs/transparency.md shows
// it and a test checks the two agree.
type Definition struct {
	Name        string
	Definition  string
	Denominator string // in words
	Source      string
}

// "The period's reports" below are the reports received in [from, to)
// (of the category, for a category's figures), as they stand at as_of.
const periodReports = "reports received in the period"

// countOnly is the denominator of a plain count.
const countOnly = "none: a count of everything in the period"

// Definitions lists every figure, in the order a report shows them.
var Definitions = []Definition{
	{"received", "reports received in the period, from every source", countOnly, "review_reports.received_at"},
	{"received.users", "the period's reports a platform sent for one of its users", periodReports, "review_reports.source = user"},
	{"received.trusted_flaggers", "the period's reports from trusted flaggers (NGOs, hotlines)", periodReports, "review_reports.source = flagger"},
	{"received.proactive_bank", "the period's reports a rule filed on a bank match (proactive detection by bank)", periodReports, "review_reports.source = rule, no text signal"},
	{"received.proactive_text", "the period's reports a text rule filed (proactive detection by text signal)", periodReports, "review_reports.source = rule, with a text signal"},
	{"received.proactive_network", "the period's reports the network detector filed (proactive detection by network signal)", periodReports, "review_reports.source = detector"},
	{"decided", "the period's reports with a decision (actioned, dismissed, or decided and since appealed)", periodReports, "review_reports.decided_at set"},
	{"undecided", "the period's reports no reviewer has decided yet (open, or a first dismissal waiting for a second reviewer)", periodReports, "review_reports.decided_at unset"},
	{"undecided.median_age", "median time from arrival to as_of of the undecided reports", "undecided reports", "as_of − received_at"},
	{"undecided.oldest_age", "the longest time from arrival to as_of of an undecided report", "undecided reports", "as_of − received_at"},
	{"decided_automatically", "decided reports whose first decision Safeguard made with no reviewer (a known image matched exactly)", "decided reports", "review_cases decisions: reviewer system"},
	{"actioned", "decided reports whose case stands confirmed (the content acted on)", "decided reports", "review_reports.status = actioned"},
	{"dismissed", "decided reports whose case was dismissed", "decided reports", "review_reports.status = no_action"},
	{"time_to_action.median", "median time from a report's arrival to the first decision on it (nearest rank)", "decided reports", "decided_at − received_at"},
	{"time_to_action.p90", "90th percentile of the same times (nearest rank)", "decided reports", "decided_at − received_at"},
	{"overdue", "the period's reports that waited longer than their category's queue target: to the first decision, or to as_of if undecided", periodReports, "review targets (serve's config)"},
	{"proactive_share", "the period's reports found by Safeguard's own detection (bank, text, network) over everything found, actioned or not", periodReports + " from every source", "review_reports.source"},
	{"proactive_share_of_actioned", "the same share counted only over actioned reports: the figure platforms usually publish, shown for comparison", "actioned reports", "review_reports.source, status"},
	{"proactive_precision", "proactive reports actioned over proactive reports decided: how often automated detection was right, by review outcomes", "decided proactive reports", "review_reports.source, status"},
	{"found_again", "dismissed reports whose case's content (same content id or digest, or PDQ within the case-joining distance) was reported or detected again in a later case", "dismissed reports", "review_cases signals.earlier"},
	{"missed", "dismissed reports whose content was found again and the later case confirmed: what the dismissal missed", "dismissed reports", "review_cases signals.earlier, decisions"},
	{"appeals", "cases appealed in the period", countOnly, "review_cases appeal.at"},
	{"appeals.decided", "the period's appeals with a decision on appeal", "appeals in the period", "review_cases decisions on_appeal"},
	{"appeals.overturned", "decided appeals whose decision on appeal dismissed the case (the confirmation reversed)", "decided appeals", "review_cases decisions on_appeal"},
	{"appeals.time_to_decide.median", "median time from an appeal to the decision on it", "decided appeals", "review_cases appeal.at, decisions on_appeal"},
	{"appeals.overturned_share", "overturned appeals over decided appeals", "decided appeals", "review_cases decisions on_appeal"},
	{"le_reports.sent", "law-enforcement reports first submitted in the period", countOnly, "le_reports history: to submitted"},
	{"le_reports.acknowledged", "of those, the ones the recipient has acknowledged (by as_of)", "law-enforcement reports sent in the period", "le_reports history: to acknowledged"},
	{"le_reports.time_to_acknowledge.median", "median time from submission to acknowledgement", "acknowledged reports sent in the period", "le_reports history"},
	{"data_requests.received", "data requests from authorities created in the period", countOnly, "le_requests.created"},
	{"data_requests.answered", "of those, the ones fulfilled or refused (by as_of)", "data requests received in the period", "le_requests.state"},
	{"data_requests.refused", "answered requests that were refused", "answered data requests", "le_requests.state = refused"},
	{"data_requests.time_to_answer.median", "median time from a request's creation to its answer", "answered data requests", "le_requests.closed − created"},
	{"data_requests.time_to_answer.p90", "90th percentile of the same times", "answered data requests", "le_requests.closed − created"},
	{"data_requests.past_deadline", "requests answered after their deadline, or open past it at as_of", "data requests received in the period", "le_requests.deadline"},
}

// denominators maps a figure's name to its denominator in words.
var denominators = func() map[string]string {
	m := make(map[string]string, len(Definitions))
	for _, d := range Definitions {
		m[d.Name] = d.Denominator
	}
	return m
}()
