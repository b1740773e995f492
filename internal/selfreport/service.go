package selfreport

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/safeguard-oss/safeguard/internal/audit"
	"github.com/safeguard-oss/safeguard/internal/bank"
	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/ratelimit"
	"github.com/safeguard-oss/safeguard/internal/rules"
)

// BankName is the bank self-reported hashes go into, created on first use.
const BankName = "self-reported"

// Actor is who the audit log says did what a person did through the public
// page: they have no key and no name.
const Actor = "self-report"

// Audit actions.
const (
	AuditSubmit   = "selfreport.submit"
	AuditWithdraw = "selfreport.withdraw"
)

// DefaultRule is the rule made with the bank: restrict near-matches (hidden
// pending review, not blocked) and queue them at the top of the queue for a
// person to confirm. A self-reported hash has had no analyst look at it and
// anyone can send one, so it must not remove content on its own: the
// person who reports an image of themselves gets it hidden at once, and
// someone who sends the hash of an image they want gone gets a reviewer's
// look, not a removal. A reviewer's confirmation puts the content in the
// review bank, whose rules block.
func DefaultRule() rules.Rule {
	return rules.Rule{
		Name:    BankName + ": restrict near-matches and queue them first for review",
		Enabled: true,
		Banks:   []string{BankName},
		Actions: []rules.Action{{Kind: rules.Restrict}, {Kind: rules.Enqueue, Priority: rules.MaxPriority}},
	}
}

// The rate limits.
var (
	// Submissions per address: a person sends a few, a script many.
	SubmissionLimit = ratelimit.Limit{What: "submissions from this address", Burst: 10, Per: time.Hour}
	// Checks per address of a code and PIN (status or withdrawal), right
	// or wrong: enough for anyone, too few to search for codes.
	CheckLimit = ratelimit.Limit{What: "case checks from this address", Burst: 60, Per: time.Hour}
	// Wrong PINs per case code, whichever address they come from.
	WrongPINLimit = ratelimit.Limit{What: "wrong PINs for this case", Burst: 10, Per: time.Hour}
)

// Limits are the rate limiters; a nil field takes its limit above, counted
// in this process.
type Limits struct {
	Submissions, Checks, WrongPINs ratelimit.Limiter
}

// SharedLimits are the limits above, counted in b where every server
// sharing it counts, addresses stored as their HMAC under key (the same on
// every server; ratelimit.Shared.Key), or with nil b in this process.
func SharedLimits(b ratelimit.Buckets, key []byte) Limits {
	return Limits{
		Submissions: ratelimit.New(SubmissionLimit, "selfreport.submissions", b, key),
		Checks:      ratelimit.New(CheckLimit, "selfreport.checks", b, key),
		WrongPINs:   ratelimit.New(WrongPINLimit, "selfreport.wrong_pins", b, key),
	}
}

func (l *Limits) defaults() {
	set := func(lim *ratelimit.Limiter, def ratelimit.Limit) {
		if *lim == nil {
			*lim = &ratelimit.Memory{Limit: def}
		}
	}
	set(&l.Submissions, SubmissionLimit)
	set(&l.Checks, CheckLimit)
	set(&l.WrongPINs, WrongPINLimit)
}

// Service handles self-reports. Set the fields, then use it from any number
// of goroutines; do not copy it.
type Service struct {
	Store Store
	// Banks makes the bank changes, audited and followed by the index, as
	// every bank change is (usecase.Banks).
	Banks  BankChanges
	Rules  rules.Store
	Log    *audit.Log
	Limits Limits
	Now    func() time.Time // time.Now if nil

	limitsOnce sync.Once

	bankMu  sync.Mutex // held while making sure the bank exists
	hasBank bool
}

// BankChanges is how the service changes its bank.
type BankChanges interface {
	Create(ctx context.Context, actor string, b bank.Bank) (bank.Bank, error)
	Add(ctx context.Context, actor, name string, entries iter.Seq2[bank.Entry, error], detail map[string]any, progress func(int64)) (bank.ImportResult, error)
	Remove(ctx context.Context, actor, name string, sig bank.Signal, value string) error
}

// Receipt is what a person is given once: the code and the PIN.
type Receipt struct {
	Case Case
	PIN  string
}

// limits are the Limits, their nil fields filled in once.
func (s *Service) limits() *Limits {
	s.limitsOnce.Do(s.Limits.defaults)
	return &s.Limits
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Submit stores images and videos as a new case and their hashes in the
// bank, and returns the receipt. addr is the submitter's AddressKey.
// Nothing is stored when it fails: bad hashes wrap ErrInvalid, flat images
// or videos are a *QualityError, a limit is a *ratelimit.LimitError. The same hashes
// sent twice in one submission are kept once.
func (s *Service) Submit(ctx context.Context, addr string, images []Image, videos []Video) (Receipt, error) {
	if len(images)+len(videos) == 0 {
		return Receipt{}, fmt.Errorf("%w: no images or videos", ErrInvalid)
	}
	if len(images) > MaxImages {
		return Receipt{}, fmt.Errorf("%w: %d images; send at most %d at a time", ErrInvalid, len(images), MaxImages)
	}
	if len(videos) > MaxVideos {
		return Receipt{}, fmt.Errorf("%w: %d videos; send at most %d at a time", ErrInvalid, len(videos), MaxVideos)
	}
	var c Case
	var flat QualityError
	for i, im := range images {
		im, err := im.Normalize()
		if err != nil {
			return Receipt{}, fmt.Errorf("image %d: %w", i+1, err)
		}
		if im.Quality < QualityFloor {
			flat.Images = append(flat.Images, i+1)
		}
		if !slices.Contains(c.Images, im) {
			c.Images = append(c.Images, im)
		}
	}
	for i, v := range videos {
		v, best, err := v.Normalize()
		if err != nil {
			return Receipt{}, fmt.Errorf("video %d: %w", i+1, err)
		}
		if best < QualityFloor {
			flat.Videos = append(flat.Videos, i+1)
		}
		if !slices.Contains(c.Videos, v) {
			c.Videos = append(c.Videos, v)
		}
	}
	if flat.Images != nil || flat.Videos != nil {
		flat.Floor = QualityFloor
		return Receipt{}, &flat
	}
	s.Limits.defaults()
	if err := s.limits().Submissions.Allow(ctx, addr, s.now()); err != nil {
		return Receipt{}, err
	}
	if err := s.ensureBank(ctx); err != nil {
		return Receipt{}, err
	}
	pin := NewPIN()
	c.PINHash, c.State, c.CreatedAt = hashPIN(pin), Active, s.now().UTC()
	for try := 0; ; try++ {
		c.Code = NewCode()
		err := s.Store.CreateSelfReport(ctx, c)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrExists) || try == 3 {
			return Receipt{}, err
		}
	}
	res, err := s.Banks.Add(ctx, Actor, BankName, entries(c), map[string]any{"case": c.Code}, nil)
	if err != nil {
		return Receipt{}, fmt.Errorf("case %s: adding its hashes to bank %s: %w", c.Code, BankName, err)
	}
	if _, err := s.Log.Record(ctx, Actor, AuditSubmit, c.Code, map[string]any{
		"images": len(c.Images), "videos": len(c.Videos), "added": res.Added, "existing": res.Existing}); err != nil {
		return Receipt{}, fmt.Errorf("case %s: recording it in the audit log: %w", c.Code, err)
	}
	return Receipt{Case: c, PIN: pin}, nil
}

// entries are a case's hashes as bank entries, with the case as provenance.
func entries(c Case) iter.Seq2[bank.Entry, error] {
	return func(yield func(bank.Entry, error) bool) {
		type hash struct {
			sig bank.Signal
			v   string
		}
		var hs []hash
		for _, im := range c.Images {
			hs = append(hs, hash{bank.PDQ, im.PDQ}, hash{bank.MD5, im.MD5}, hash{bank.SHA256, im.SHA256})
		}
		for _, v := range c.Videos {
			hs = append(hs, hash{bank.VPDQ, v.VPDQ}, hash{bank.MD5, v.MD5}, hash{bank.SHA256, v.SHA256})
		}
		for _, h := range hs {
			e := bank.Entry{Signal: h.sig, Value: h.v, Source: "self-report", ExternalID: c.Code, AddedAt: c.CreatedAt, AddedBy: Actor}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Status returns the case if pin is its PIN.
func (s *Service) Status(ctx context.Context, addr, code, pin string) (Case, error) {
	return s.open(ctx, addr, code, pin)
}

// Withdraw withdraws the case if pin is its PIN: its hashes stop matching,
// except those another active case also holds. Withdrawing twice is
// harmless, and finishes a withdrawal a crash interrupted.
func (s *Service) Withdraw(ctx context.Context, addr, code, pin string) (Case, error) {
	c, err := s.open(ctx, addr, code, pin)
	if err != nil {
		return Case{}, err
	}
	if c, err = s.Store.WithdrawSelfReport(ctx, c.Code, s.now().UTC()); err != nil {
		return Case{}, err
	}
	var removed, kept int
	for e := range entries(c) {
		n, err := s.Store.SelfReportHolders(ctx, e.Value)
		if err != nil {
			return Case{}, err
		}
		if n > 0 {
			kept++
			continue
		}
		switch err := s.Banks.Remove(ctx, Actor, BankName, e.Signal, e.Value); {
		case err == nil:
			removed++
		case !errors.Is(err, derrors.NotFound): // not found: removed before, or by an admin
			return Case{}, fmt.Errorf("case %s: removing its %s hash: %w", c.Code, e.Signal, err)
		}
	}
	if _, err := s.Log.Record(ctx, Actor, AuditWithdraw, c.Code, map[string]any{"removed": removed, "kept_for_other_cases": kept}); err != nil {
		return Case{}, fmt.Errorf("case %s: recording the withdrawal in the audit log: %w", c.Code, err)
	}
	return c, nil
}

// open finds a case by code and checks the PIN, within the limits.
func (s *Service) open(ctx context.Context, addr, code, pin string) (Case, error) {
	now := s.now()
	if err := s.limits().Checks.Allow(ctx, addr, now); err != nil {
		return Case{}, err
	}
	code, err := ParseCode(code)
	if err != nil {
		return Case{}, err
	}
	// Checked before the PIN, so a code locked by guessing stays locked
	// even for a right PIN until its limit refills.
	if err := s.limits().WrongPINs.Allow(ctx, code, now); err != nil {
		return Case{}, err
	}
	c, err := s.Store.SelfReport(ctx, code)
	if errors.Is(err, ErrNoCase) {
		// The same PBKDF2 work as for a case that exists, so that how long
		// the answer takes does not tell which codes are real.
		checkPIN(dummyPINHash(), pin)
		return Case{}, fmt.Errorf("case %s: %w", code, ErrNoCase)
	}
	if err != nil {
		return Case{}, err
	}
	if !checkPIN(c.PINHash, pin) {
		return Case{}, fmt.Errorf("case %s: %w", code, ErrNoCase)
	}
	if err := s.limits().WrongPINs.Refund(ctx, code); err != nil {
		return Case{}, err
	}
	return c, nil
}

// ensureBank creates the bank on first use, with DefaultRule unless some
// rule already names the bank (an operator who disabled or replaced the
// default keeps their choice).
func (s *Service) ensureBank(ctx context.Context) error {
	s.bankMu.Lock()
	defer s.bankMu.Unlock()
	if s.hasBank {
		return nil
	}
	_, err := s.Banks.Create(ctx, Actor, bank.Bank{Name: BankName, Description: "hashes people sent of images of themselves (Report Remove)"})
	if err != nil && !errors.Is(err, derrors.Exists) {
		return fmt.Errorf("creating bank %s: %w", BankName, err)
	}
	rs, err := s.Rules.ListRules(ctx)
	if err != nil {
		return fmt.Errorf("listing rules: %w", err)
	}
	named := slices.ContainsFunc(rs, func(r rules.Rule) bool { return slices.Contains(r.Banks, BankName) })
	if !named {
		r := DefaultRule()
		r.UpdatedAt, r.UpdatedBy = s.now().UTC(), "system"
		if err := r.Validate(); err != nil {
			return err
		}
		if r, err = s.Rules.CreateRule(ctx, r); err != nil {
			return fmt.Errorf("creating the rule for bank %s: %w", BankName, err)
		}
		if _, err := s.Log.Record(ctx, Actor, audit.RuleCreate, fmt.Sprint(r.ID), map[string]any{"name": r.Name, "version": r.Version}); err != nil {
			return err
		}
	}
	s.hasBank = true
	return nil
}
