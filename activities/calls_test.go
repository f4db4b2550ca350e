package activities

import "testing"

func TestCallTargetNamesTheSystemEachActivityCalls(t *testing.T) {
	cases := []struct {
		activity string
		args     []any
		target   string
		call     bool
	}{
		{"CreatePayment", nil, "payment", true},
		{"SignatureStatus", nil, "signer", true},
		{"Email", nil, "mail", true},
		{"Deliver", []any{DeliverRequest{Target: "gewerbe-leipzig"}}, "gewerbe-leipzig", true},
		{"Withdraw", []any{WithdrawRequest{Target: "dms"}}, "dms", true},
		{"SubmissionOutcome", []any{OutcomeRequest{Target: "fitconnect-chemnitz"}}, "fitconnect-chemnitz", true},
		{"SaveCase", nil, "", false},
	}
	for _, c := range cases {
		target, ok := CallTarget(c.activity, c.args)
		if target != c.target || ok != c.call || IsCall(c.activity) != c.call {
			t.Errorf("%s: target %q, call %v (IsCall %v); want %q, %v", c.activity, target, ok, IsCall(c.activity), c.target, c.call)
		}
	}
}
