package oidctest

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestUserTokens(t *testing.T) {
	t.Parallel()
	p, rp := startProvider(t, testConfig())
	tok, err := p.UserTokens(t.Context(), staffClientID, staffSecret, staffCallback, clerkUsername, clerkPassword, "profile")
	if err != nil {
		t.Fatalf("UserTokens: %v", err)
	}
	if time.Until(tok.Expiry) <= 0 {
		t.Errorf("expiry %v is not ahead", tok.Expiry)
	}
	idToken, err := rp.Verifier(&oidc.Config{ClientID: staffClientID}).Verify(t.Context(), tok.IDToken)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	access, err := rp.Verifier(&oidc.Config{ClientID: apiAudience}).Verify(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	var at tokenClaims
	if err := access.Claims(&at); err != nil {
		t.Fatal(err)
	}
	// Like Keycloak's, the access token names the person.
	checkClerkClaims(t, "access token", at)

	if _, err := p.UserTokens(t.Context(), staffClientID, staffSecret, staffCallback, clerkUsername, "falsch"); !errors.Is(err, ErrWrongCredentials) {
		t.Errorf("wrong password: %v, want ErrWrongCredentials", err)
	}
	if _, err := p.UserTokens(t.Context(), staffClientID, staffSecret, "http://127.0.0.1:1/elsewhere", clerkUsername, clerkPassword); err == nil {
		t.Error("an unregistered redirect URI got tokens")
	}
}

// TestSignInFrom signs in at a relying party that starts the flow itself and
// keeps its state in a cookie, as ozgflow's sign-in does.
func TestSignInFrom(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	var conf *oauth2.Config
	rpMux := http.NewServeMux()
	rpServer := httptest.NewServer(rpMux)
	t.Cleanup(rpServer.Close)
	cfg.Clients[0].RedirectURIs = []string{rpServer.URL + "/back"}
	right, rp := startProvider(t, cfg)
	other, _ := startProvider(t, cfg) // another issuer: its login page is not the one the flow reaches
	conf = staffOAuth(rp, oauth2.AuthStyleInHeader)
	conf.RedirectURL = rpServer.URL + "/back"
	rpMux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "state", Value: "s-1"})
		http.Redirect(w, r, conf.AuthCodeURL("s-1"), http.StatusFound)
	})
	rpMux.HandleFunc("GET /back", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("state")
		if err != nil || ck.Value != r.URL.Query().Get("state") || r.URL.Query().Get("code") == "" {
			http.Error(w, "state", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	jar, _ := cookiejar.New(nil)
	if _, err := other.SignInFrom(t.Context(), &http.Client{Jar: jar}, rpServer.URL+"/start", clerkUsername, clerkPassword); err == nil {
		t.Error("SignInFrom accepted the login page of another provider")
	}
	resp, err := right.SignInFrom(t.Context(), &http.Client{Jar: jar}, rpServer.URL+"/start", clerkUsername, clerkPassword)
	if err != nil {
		t.Fatalf("SignInFrom: %v", err)
	}
	drain(resp)
	if resp.StatusCode != http.StatusNoContent || resp.Request.URL.Path != "/back" {
		t.Errorf("ended at %s with %d, want the relying party's /back with 204", resp.Request.URL, resp.StatusCode)
	}
	if got := right.SignIns(); !slices.Equal(got, []string{clerkUsername}) {
		t.Errorf("SignIns() = %v", got)
	}
}
