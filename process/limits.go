package process

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ozgflow/ozgflow/gateway/web"
)

// The gateway's rate limits, per client and per address, counted in Redis
// (gateway/web/limits.go). Each is "N/s", "N/m" or "N/h", or "off"; one left
// unset takes its process's default: the gateway's below, or in `dev`,
// which tests and benchmarks drive hard from one address, devRates.

// gatewayRates are the defaults of a gateway. Submits are counted per
// portal client, which submits for all its citizens, so they allow ten a
// second; sign-ins leave room for an office behind one address.
var gatewayRates = map[string]string{
	"OZGFLOW_RATE_SUBMIT":         "600/m",
	"OZGFLOW_RATE_SIGNIN":         "30/m",
	"OZGFLOW_RATE_TOKEN_FAILURES": "20/m",
	"OZGFLOW_RATE_RECEIPT_CHECK":  "30/m",
}

// devRates are the defaults of `dev`: the benchmark submits hundreds a
// second with one token, the test suites sign in, check receipts and try
// wrong tokens from one address.
var devRates = map[string]string{
	"OZGFLOW_RATE_SUBMIT":         "off",
	"OZGFLOW_RATE_SIGNIN":         "1000/m",
	"OZGFLOW_RATE_TOKEN_FAILURES": "1000/m",
	"OZGFLOW_RATE_RECEIPT_CHECK":  "1000/m",
}

// rates are the limits' settings of c by their variables.
func (c *Config) rates() map[string]*string {
	return map[string]*string{
		"OZGFLOW_RATE_SUBMIT": &c.RateSubmit, "OZGFLOW_RATE_SIGNIN": &c.RateSignIn,
		"OZGFLOW_RATE_TOKEN_FAILURES": &c.RateTokenFailures, "OZGFLOW_RATE_RECEIPT_CHECK": &c.RateReceiptCheck,
	}
}

// limitsFromEnv reads the rate limits and the trusted proxies.
func (c *Config) limitsFromEnv(getenv func(string) string) {
	for name, dst := range c.rates() {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	if v := strings.TrimSpace(getenv("OZGFLOW_TRUSTED_PROXIES")); v != "" {
		c.TrustedProxies = v
	}
}

// validateLimits checks the limits, naming the variable at fault.
func (c Config) validateLimits() []error {
	if _, err := c.gatewayLimits(); err != nil {
		return []error{err}
	}
	return nil
}

// withDevLimits fills the limits left unset with dev's defaults.
func (c Config) withDevLimits() Config {
	for name, dst := range c.rates() {
		if *dst == "" {
			*dst = devRates[name]
		}
	}
	return c
}

// gatewayLimits are the limits a gateway enforces: those configured, the
// gateway's defaults for the rest, counted under the Redis prefix.
func (c Config) gatewayLimits() (web.Limits, error) {
	var errs []error
	rate := func(name, value string) web.Rate {
		if value == "" {
			value = gatewayRates[name]
		}
		r, err := web.ParseRate(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %w", name, err))
		}
		return r
	}
	limits := web.Limits{
		Submit:        rate("OZGFLOW_RATE_SUBMIT", c.RateSubmit),
		SignIn:        rate("OZGFLOW_RATE_SIGNIN", c.RateSignIn),
		TokenFailures: rate("OZGFLOW_RATE_TOKEN_FAILURES", c.RateTokenFailures),
		ReceiptCheck:  rate("OZGFLOW_RATE_RECEIPT_CHECK", c.RateReceiptCheck),
		Prefix:        c.RedisPrefix,
	}
	proxies, err := web.ParseTrustedProxies(c.TrustedProxies)
	if err != nil {
		errs = append(errs, fmt.Errorf("OZGFLOW_TRUSTED_PROXIES: %w; want addresses or networks, comma-separated", err))
	}
	limits.TrustedProxies = proxies
	return limits, errors.Join(errs...)
}

// https reports whether people reach the gateway over https.
func (c Config) https() bool {
	u, err := url.Parse(c.PublicURL)
	return err == nil && strings.EqualFold(u.Scheme, "https")
}
