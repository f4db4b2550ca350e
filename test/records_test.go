package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestClosedCaseOutlivesHistoryAndRedis closes a case with a document,
// deletes its workflow history as the namespace's retention would, and
// flushes Redis: the case, its documents, its read marks and the
// dashboard's figures are all still there. It runs with the records
// database on SQLite and on PostgreSQL.
func TestClosedCaseOutlivesHistoryAndRedis(t *testing.T) {
	for _, dialect := range recordstest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			cfg := devConfig(t.TempDir(), "127.0.0.1:0")
			cfg.RedisPrefix = "records:" + dialect + ":" + time.Now().Format("150405.000") + ":"
			if dialect == "postgres" {
				cfg.RecordsURL = recordstest.URL(t, dialect)
			}
			d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			closedCaseOutlivesHistoryAndRedis(t, d)
		})
	}
}

func closedCaseOutlivesHistoryAndRedis(t *testing.T, d *process.Dev) {
	ctx := context.Background()
	st := stackOf(d)
	account := "amt24-records"
	// A sealed Gewerbeanmeldung in Dresden, whose case worker decides alone.
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, account))
	e2e.Pay(t, s.PaymentURL, "pay")
	act := func(taskID, action string, body string) {
		t.Helper()
		var payload any
		if body != "" {
			payload = []byte(body)
		}
		if res := e2e.Call(t, st.URL, http.MethodPost, "/api/v1/tasks/"+taskID+"/"+action, "dev-sb-dresden", payload,
			"Content-Type", "application/json"); res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", action, res.Status, res.Body)
		}
	}
	taskID := st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string)
	act(taskID, "claim", "")
	act(taskID, "complete", `{"outcome":"request_information","comment":"Bitte die Meldebescheinigung."}`)
	st.WaitStatus(t, s, "information_requested")
	pdf := e2e.SamplePDF("Meldebescheinigung Rita Records")
	body, contentType := e2e.Multipart(t, map[string]string{"text": "Anbei."}, e2e.File{Name: "meldung.pdf", Data: pdf})
	if res := e2e.Call(t, st.URL, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token, body,
		"Content-Type", contentType); res.Status != http.StatusOK {
		t.Fatalf("answer: %d %s", res.Status, res.Body)
	}
	st.WaitStatus(t, s, "in_review")
	taskID = st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string)
	act(taskID, "claim", "")
	act(taskID, "complete", `{"outcome":"approve"}`)
	st.WaitStatus(t, s, "approved")
	e2e.WaitFor(t, "the final record", 30*time.Second, func() bool {
		_, err := d.Records.ClosedCase(ctx, s.ID)
		return err == nil
	})

	// What the applicant and the office see before.
	mailbox := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/accounts/"+account+"/notices", "dev-portal", nil).JSON(t)
	firstNotice := mailbox["notices"].([]any)[0].(map[string]any)["id"].(string)
	if res := e2e.Call(t, st.URL, http.MethodPost, "/api/v1/accounts/"+account+"/notices/"+firstNotice+"/read", "dev-portal", nil); res.Status != http.StatusOK {
		t.Fatalf("mark read: %d %s", res.Status, res.Body)
	}
	receipt := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+s.ID+"/receipt.pdf", s.Token, nil)
	if receipt.Status != http.StatusOK {
		t.Fatalf("receipt: %d", receipt.Status)
	}
	before := statistics(t, st.URL)

	// Redis keeps no file bytes.
	keys, err := d.Store.Client().Keys(ctx, d.Config.RedisPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if typ, _ := d.Store.Client().Type(ctx, k).Result(); typ == "string" {
			if v, _ := d.Store.Client().Get(ctx, k).Bytes(); bytes.Contains(v, pdf[:40]) {
				t.Errorf("Redis key %s holds the document's bytes", k)
			}
		}
	}

	// Retention removes the history; then Redis is lost.
	if _, err := d.Client.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace: ozgflow.Namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ozgflow.CaseWorkflowID(s.ID)},
	}); err != nil {
		t.Fatal(err)
	}
	// Temporal deletes a closed execution in the background, here after
	// about half a minute.
	e2e.WaitFor(t, "the history to go", 120*time.Second, func() bool {
		_, err := d.Client.DescribeWorkflowExecution(ctx, ozgflow.CaseWorkflowID(s.ID), "")
		var notFound *serviceerror.NotFound
		return errors.As(err, &notFound)
	})
	if err := d.Store.DropAll(ctx); err != nil {
		t.Fatal(err)
	}

	c := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-sb-dresden", nil)
	if c.Status != http.StatusOK || c.JSON(t)["status"] != "approved" || c.JSON(t)["decision"] == nil {
		t.Fatalf("the case after history and Redis are gone: %d %s", c.Status, c.Body)
	}
	if a := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+s.ID, s.Token, nil); a.Status != http.StatusOK {
		t.Errorf("the applicant lost the case: %d %s", a.Status, a.Body)
	}
	docs := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents", "dev-sb-dresden", nil)
	if docs.Status != http.StatusOK || !strings.Contains(string(docs.Body), "meldung.pdf") || !strings.Contains(string(docs.Body), `"receipt"`) {
		t.Fatalf("documents: %d %s", docs.Status, docs.Body)
	}
	doc := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents/"+sha256Hex(pdf), "dev-sb-dresden", nil)
	if doc.Status != http.StatusOK || !bytes.Equal(doc.Body, pdf) || doc.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("download: %d %q, %d bytes", doc.Status, doc.Header.Get("Content-Type"), len(doc.Body))
	}
	if again := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+s.ID+"/receipt.pdf", s.Token, nil); !bytes.Equal(again.Body, receipt.Body) {
		t.Error("the receipt changed once the history was gone")
	}
	if after := statistics(t, st.URL); after != before {
		t.Errorf("dashboard figures changed:\nbefore %s\nafter  %s", before, after)
	}
	session := e2e.SignIn(t, st.URL, "dev-sb-dresden")
	if res := e2e.Call(t, st.URL, http.MethodGet, "/arbeitskorb/vorgaenge/"+s.ID, "", nil, "Cookie", "ozgflow_session="+session); res.Status != http.StatusOK ||
		!strings.Contains(string(res.Body), "meldung.pdf") {
		t.Errorf("case page: %d", res.Status)
	}

	// The trail holds who read and changed the case: people through the
	// gateway, the worker for what it passed on.
	trail, err := d.Records.Trail(ctx, records.TrailQuery{CaseID: s.ID})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range trail {
		seen[e.Action] = e.Actor
	}
	for action, actor := range map[string]string{"case.submit": "portal", "case.deliver": "system", "case.respond": "",
		"task.complete": "sb-dresden", "document.download": "sb-dresden", "case.read": ""} {
		if got, ok := seen[action]; !ok || actor != "" && !strings.Contains(got, actor) {
			t.Errorf("trail entry %s by %q missing: %v", action, actor, seen)
		}
	}

	// A rebuild brings the mailbox back with what was read.
	if _, err := d.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	mailbox = e2e.Call(t, st.URL, http.MethodGet, "/api/v1/accounts/"+account+"/notices", "dev-portal", nil).JSON(t)
	read := map[string]bool{}
	for _, n := range mailbox["notices"].([]any) {
		n := n.(map[string]any)
		read[n["id"].(string)] = n["read"].(bool)
	}
	if len(read) == 0 || !read[firstNotice] {
		t.Errorf("mailbox after rebuild: %v", mailbox)
	}
}

// statistics is the dashboard's statistics sheet of Dresden, as text.
func statistics(t *testing.T, base string) string {
	t.Helper()
	res := e2e.Call(t, base, http.MethodGet, "/api/v1/reports/statistics.xlsx", "dev-sb-dresden", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("statistics: %d %s", res.Status, res.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, row := range rows {
		b.WriteString(strings.Join(row, "|") + "\n")
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
