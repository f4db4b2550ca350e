package process

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/gateway/web"
)

func TestRateLimitsFromEnvironment(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{
		"OZGFLOW_RATE_SUBMIT": "120/m", "OZGFLOW_RATE_SIGNIN": "off", "OZGFLOW_RATE_TOKEN_FAILURES": "5/s",
		"OZGFLOW_RATE_RECEIPT_CHECK": "0", "OZGFLOW_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7", "OZGFLOW_REDIS_PREFIX": "land:",
		"OZGFLOW_PUBLIC_URL": "https://antrag.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.gatewayLimits()
	if err != nil {
		t.Fatal(err)
	}
	want := web.Limits{Submit: web.Rate{N: 120, Per: time.Minute}, TokenFailures: web.Rate{N: 5, Per: time.Second},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}, Prefix: "land:"}
	if got.Submit != want.Submit || !got.SignIn.Off() || got.TokenFailures != want.TokenFailures || !got.ReceiptCheck.Off() ||
		len(got.TrustedProxies) != 2 || got.TrustedProxies[0] != want.TrustedProxies[0] || got.TrustedProxies[1] != want.TrustedProxies[1] ||
		got.Prefix != want.Prefix {
		t.Errorf("limits = %+v, want %+v", got, want)
	}
	if !cfg.https() {
		t.Error("an https public URL does not make the gateway send HSTS")
	}
}

func TestRateLimitDefaults(t *testing.T) {
	gw, err := DefaultConfig().gatewayLimits()
	if err != nil {
		t.Fatal(err)
	}
	if gw.Submit.String() != "600/m" || gw.SignIn.String() != "30/m" || gw.TokenFailures.String() != "20/m" ||
		gw.ReceiptCheck.String() != "30/m" || len(gw.TrustedProxies) != 0 {
		t.Errorf("gateway defaults = %+v", gw)
	}
	// dev: the benchmark submits hundreds a second with one token.
	dev, err := DefaultConfig().withDevLimits().gatewayLimits()
	if err != nil {
		t.Fatal(err)
	}
	if !dev.Submit.Off() || dev.SignIn.N < 1000 || dev.TokenFailures.N < 1000 || dev.ReceiptCheck.N < 1000 {
		t.Errorf("dev defaults = %+v", dev)
	}
	// What dev is told wins over its defaults.
	cfg, _ := FromEnv(env(map[string]string{"OZGFLOW_RATE_SUBMIT": "10/m"}))
	if dev, _ := cfg.withDevLimits().gatewayLimits(); dev.Submit.String() != "10/m" {
		t.Errorf("dev with OZGFLOW_RATE_SUBMIT=10/m: %v", dev.Submit)
	}
	if DefaultConfig().https() {
		t.Error("HSTS without a public URL")
	}
}

func TestValidateNamesTheRateVariable(t *testing.T) {
	for name, value := range map[string]string{
		"OZGFLOW_RATE_SUBMIT": "60", "OZGFLOW_RATE_SIGNIN": "10/d", "OZGFLOW_RATE_TOKEN_FAILURES": "viele/m",
		"OZGFLOW_RATE_RECEIPT_CHECK": "-3/m", "OZGFLOW_TRUSTED_PROXIES": "10.0.0.0/40",
	} {
		cfg, err := FromEnv(env(map[string]string{name: value}))
		if err != nil {
			t.Fatal(err)
		}
		for _, process := range []string{"dev", "gateway"} {
			if err := cfg.Validate(process); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q in %s: %v", name, value, process, err)
			}
		}
	}
}
