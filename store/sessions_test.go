package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

func TestSessionsEndWhenIdleOrTooOld(t *testing.T) {
	st := redistest.Store(t, "sessions:")
	ctx := context.Background()
	limits := store.SessionTimeouts{Idle: time.Hour, Absolute: 8 * time.Hour}
	start := time.Now()
	sess, err := st.CreateSession(ctx, store.Session{Identity: ozgflow.Identity{Subject: "sb"}, Via: "oidc", CreatedAt: start}, limits)
	if err != nil || len(sess.ID) < 40 {
		t.Fatalf("session %q: %v", sess.ID, err)
	}
	if got, ok, err := st.Session(ctx, sess.ID, limits, start.Add(time.Minute)); !ok || err != nil || got.Identity.Subject != "sb" {
		t.Fatalf("live session: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := st.Session(ctx, sess.ID, limits, start.Add(9*time.Hour)); ok {
		t.Error("a session past its absolute end is live")
	}
	if _, ok, _ := st.Session(ctx, sess.ID, limits, start.Add(time.Minute)); ok {
		t.Error("a session ended for its age came back")
	}
	short := store.SessionTimeouts{Idle: 50 * time.Millisecond, Absolute: time.Hour}
	idle, _ := st.CreateSession(ctx, store.Session{CreatedAt: time.Now()}, short)
	time.Sleep(120 * time.Millisecond)
	if _, ok, _ := st.Session(ctx, idle.ID, short, time.Now()); ok {
		t.Error("an idle session is live")
	}
	gone, _ := st.CreateSession(ctx, store.Session{CreatedAt: time.Now()}, limits)
	if err := st.DeleteSession(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Session(ctx, gone.ID, limits, time.Now()); ok {
		t.Error("a deleted session is live")
	}
}

func TestSignInAttemptsAreTakenOnce(t *testing.T) {
	st := redistest.Store(t, "signin:")
	ctx := context.Background()
	if err := st.SaveSignInAttempt(ctx, "state-1", store.SignInAttempt{Verifier: "v", Nonce: "n", Next: "/arbeitskorb"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if a, ok, err := st.TakeSignInAttempt(ctx, "state-1"); !ok || err != nil || a.Verifier != "v" || a.Nonce != "n" || a.Next != "/arbeitskorb" {
		t.Fatalf("attempt: %+v %v %v", a, ok, err)
	}
	if _, ok, _ := st.TakeSignInAttempt(ctx, "state-1"); ok {
		t.Error("an attempt was taken twice")
	}
}

func TestTheDirectoryForgetsWhoNoLongerSignsIn(t *testing.T) {
	st := redistest.Store(t, "dirtest:")
	ctx := context.Background()
	lea := ozgflow.Identity{Subject: "lea", Name: "Lea", Role: ozgflow.RoleCaseWorker, Authority: "147130000000", Queues: []string{"gewerbe"}}
	if err := st.RememberCaseWorker(ctx, lea); err != nil {
		t.Fatal(err)
	}
	if err := st.RememberCaseWorker(ctx, ozgflow.Identity{Subject: "ada", Role: ozgflow.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	// An entry of someone last seen half a year ago.
	old, _ := json.Marshal(map[string]any{"identity": ozgflow.Identity{Subject: "max", Role: ozgflow.RoleCaseWorker,
		Authority: "147130000000"}, "seenAt": time.Now().Add(-180 * 24 * time.Hour)})
	keys, err := st.Client().Keys(ctx, "dirtest:*:staff:147130000000").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the authority's directory key: %v %v", keys, err)
	}
	if err := st.Client().HSet(ctx, keys[0], "max", old).Err(); err != nil {
		t.Fatal(err)
	}
	got := st.CaseWorkers(ctx, "147130000000")
	if len(got) != 1 || got[0].Subject != "lea" || got[0].Queues[0] != "gewerbe" {
		t.Errorf("directory = %+v, want Lea alone", got)
	}
}
