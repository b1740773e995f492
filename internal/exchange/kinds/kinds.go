// Package kinds builds the Fetcher of each configured exchange from its
// kind, so the server only reads a configuration and hands it here.
package kinds

import (
	"fmt"
	"strings"

	"github.com/safeguard-oss/safeguard/internal/exchange"
	"github.com/safeguard-oss/safeguard/internal/exchange/list"
	"github.com/safeguard-oss/safeguard/internal/exchange/ncmec"
	"github.com/safeguard-oss/safeguard/internal/exchange/peer"
	"github.com/safeguard-oss/safeguard/internal/exchange/stopncii"
	"github.com/safeguard-oss/safeguard/internal/exchange/threatexchange"
)

// Names lists the kinds, in a stable order.
var Names = []string{"ncmec", "stopncii", "threatexchange", "list", "peer"}

// New builds the Fetcher of an exchange's configuration; h is shared by
// all (nil: defaults).
func New(cfg exchange.Config, h *exchange.HTTP) (exchange.Fetcher, error) {
	switch cfg.Kind {
	case "ncmec":
		return ncmec.Config(cfg, h)
	case "stopncii":
		return stopncii.Config(cfg, h)
	case "threatexchange":
		return threatexchange.Config(cfg, h)
	case "list":
		return list.Config(cfg, h)
	case "peer":
		return peer.Config(cfg, h)
	}
	return nil, fmt.Errorf("exchange %q: unknown kind %q: want %s", cfg.Name, exchange.Clip(cfg.Kind), strings.Join(Names, ", "))
}

// AddAll builds every configuration's Fetcher and adds it to the runner,
// failing on the first that cannot be built, so a server does not start
// with a misconfigured exchange silently missing.
func AddAll(r *exchange.Runner, cfgs []exchange.Config, h *exchange.HTTP) error {
	for _, c := range cfgs {
		f, err := New(c, h)
		if err != nil {
			return err
		}
		if err := r.Add(c, f); err != nil {
			return err
		}
	}
	return nil
}
