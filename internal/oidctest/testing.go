package oidctest

import "testing"

// StartT starts a provider for a test and closes it when the test ends; it
// fails the test if the provider cannot start.
func StartT(tb testing.TB, cfg Config) *Provider {
	tb.Helper()
	p, err := Start(cfg)
	if err != nil {
		tb.Fatalf("OpenID provider: %v", err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}
