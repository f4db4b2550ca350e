package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	"github.com/ozgflow/ozgflow/conformance"
)

// errRequirementsFailed is conformance's error when the endpoint fails a
// requirement: the report says which, the exit code is 1.
var errRequirementsFailed = errors.New("requirements not met")

// runConformance runs the conformance kit against a Fachverfahren's
// endpoint and prints its report, as text or JSON; it fails when a
// requirement is not met.
func runConformance(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: ozgflow conformance --target URL --secret SECRET [flags]

Runs ozgflow's delivery and callback protocol against a Fachverfahren's
endpoint and reports each requirement, met or not, with the evidence. The
exit code is 1 when a requirement is not met. See README.md, "A conformance
kit for Fachverfahren vendors".

`)
		fs.PrintDefaults()
	}
	var cfg conformance.Config
	fs.StringVar(&cfg.Target, "target", "", "the endpoint's base URL: deliveries go to {target}/cases (required)")
	secret := fs.String("secret", "", "the HMAC secret the endpoint shares with ozgflow (default: $OZGFLOW_FACHVERFAHREN_SECRET)")
	fs.DurationVar(&cfg.Timeout, "timeout", fachverfahren.AnswerTimeout, "how long the endpoint may take to answer a request")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "where the kit's callback receiver listens")
	fs.StringVar(&cfg.CallbackURL, "callback-url", "", "the receiver's URL as the endpoint reaches it (default: http://<listen>/callbacks)")
	fs.DurationVar(&cfg.CallbackWait, "wait", time.Minute, "how long to wait for the endpoint's callbacks")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("conformance: unexpected arguments %s", strings.Join(fs.Args(), " "))
	}
	if *secret == "" {
		*secret = getenv("OZGFLOW_FACHVERFAHREN_SECRET")
	}
	if cfg.Target == "" || *secret == "" {
		fs.Usage()
		return errors.New("conformance: --target and --secret are required")
	}
	cfg.Secret = []byte(*secret)
	report, err := conformance.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if *asJSON {
		err = report.WriteJSON(stdout)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if failed := report.Failed(); len(failed) > 0 {
		return fmt.Errorf("conformance: %d of %d %w: %s", len(failed), len(report.Requirements), errRequirementsFailed,
			strings.Join(failed, ", "))
	}
	return nil
}
