package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's op.Storage: users and clients fixed at start,
// auth requests, codes and issued access tokens in memory.
type storage struct {
	usersByName    map[string]User
	usersBySubject map[string]User
	clients        map[string]*registeredClient
	accessLifetime time.Duration
	key            signingKey

	mu           sync.Mutex
	authRequests map[string]*authRequest // by ID
	codes        map[string]string       // code to auth request ID
	tokens       map[string]accessToken  // by token ID (the JWT's jti)
	signIns      []string
	signOuts     []string
}

// accessToken is what the provider remembers of a token it issued, to answer
// userinfo and introspection.
type accessToken struct {
	subject, clientID string
	audience, scopes  []string
	expiry            time.Time
}

var (
	errUnknownAuthRequest = errors.New("auth request unknown or already used")
	errWrongCredentials   = errors.New("wrong username or password")
	errUnknownClient      = errors.New("unknown client")
	errUnsupported        = errors.New("not supported by oidctest")
)

func newStorage(cfg Config, loginURL string, key signingKey) *storage {
	s := &storage{
		usersByName:    map[string]User{},
		usersBySubject: map[string]User{},
		clients:        map[string]*registeredClient{},
		accessLifetime: cfg.AccessTokenLifetime,
		key:            key,
		authRequests:   map[string]*authRequest{},
		codes:          map[string]string{},
		tokens:         map[string]accessToken{},
	}
	for _, u := range cfg.Users {
		s.usersByName[u.Username] = u
		s.usersBySubject[u.Subject] = u
	}
	for _, c := range cfg.Clients {
		s.clients[c.ID] = &registeredClient{
			cfg:             c,
			loginURL:        loginURL,
			idTokenLifetime: cfg.IDTokenLifetime,
		}
	}
	return s
}

// signIn completes the auth request for the user if the password matches.
func (s *storage) signIn(authRequestID, username, password string) error {
	user, known := s.usersByName[username]
	passwordOK := subtle.ConstantTimeCompare([]byte(user.Password), []byte(password)) == 1
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[authRequestID]
	if !ok {
		return errUnknownAuthRequest
	}
	if !known || !passwordOK {
		return errWrongCredentials
	}
	req.subject = user.Subject
	req.authTime = time.Now()
	req.done = true
	s.signIns = append(s.signIns, username)
	return nil
}

func (s *storage) authRequestPending(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.authRequests[id]
	return ok
}

func (s *storage) signInsSoFar() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.signIns)
}

func (s *storage) signOutsSoFar() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.signOuts)
}

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	client, ok := s.clients[req.ClientID]
	if !ok {
		return nil, errUnknownClient
	}
	stored := &authRequest{
		id:           rand.Text(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		audience:     client.audience(),
	}
	if req.CodeChallenge != "" {
		stored.codeChallenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authRequests[stored.id] = stored
	return stored.copy(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return nil, errUnknownAuthRequest
	}
	return req.copy(), nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errUnknownAuthRequest
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.authRequests[id]; !ok {
		return errUnknownAuthRequest
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once tokens are issued, so a code works once.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	maps.DeleteFunc(s.codes, func(_, requestID string) bool { return requestID == id })
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	var clientID string
	switch r := req.(type) {
	case *authRequest:
		clientID = r.clientID
	case *clientCredentialsRequest:
		clientID = r.clientID
	default:
		return "", time.Time{}, fmt.Errorf("access token for a %T: %w", req, errUnsupported)
	}
	lifetime := s.accessLifetime
	if c, ok := s.clients[clientID]; ok && c.cfg.AccessTokenLifetime > 0 {
		lifetime = c.cfg.AccessTokenLifetime
	}
	id := rand.Text()
	expiry := time.Now().Add(lifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = accessToken{
		subject:  req.GetSubject(),
		clientID: clientID,
		audience: req.GetAudience(),
		scopes:   req.GetScopes(),
		expiry:   expiry,
	}
	return id, expiry, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, fmt.Errorf("refresh tokens: %w", errUnsupported)
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, fmt.Errorf("refresh tokens: %w", errUnsupported)
}

// TerminateSession is not called: TerminateSessionFromRequest takes its place.
func (s *storage) TerminateSession(_ context.Context, userID, _ string) error {
	s.endSession(userID)
	return nil
}

// TerminateSessionFromRequest records the logout of the id_token_hint's
// subject and sends the browser to the validated post_logout_redirect_uri.
func (s *storage) TerminateSessionFromRequest(_ context.Context, req *op.EndSessionRequest) (string, error) {
	s.endSession(req.UserID)
	return req.RedirectURI, nil
}

// endSession records the subject's logout and forgets its access tokens, so
// userinfo refuses them afterwards.
func (s *storage) endSession(subject string) {
	if subject == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signOuts = append(s.signOuts, subject)
	maps.DeleteFunc(s.tokens, func(_ string, t accessToken) bool { return t.subject == subject })
}

func (s *storage) RevokeToken(_ context.Context, tokenID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenID]; ok && t.clientID == clientID {
		delete(s.tokens, tokenID)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.SignatureAlgorithm()}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	client, ok := s.clients[id]
	if !ok {
		return nil, errUnknownClient
	}
	return client, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	_, err := s.authenticate(id, secret)
	return err
}

func (s *storage) authenticate(id, secret string) (*registeredClient, error) {
	client, ok := s.clients[id]
	if !ok {
		return nil, errUnknownClient
	}
	if subtle.ConstantTimeCompare([]byte(client.cfg.Secret), []byte(secret)) != 1 {
		return nil, errors.New("wrong client secret")
	}
	return client, nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token with the user's name, email,
// username and extra claims, whatever the scopes, so that a relying party
// reading only the ID token sees roles and groups.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	user, ok := s.usersBySubject[req.GetSubject()]
	if !ok {
		return fmt.Errorf("no user with subject %q", req.GetSubject())
	}
	fillUserinfo(info, user)
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	t, err := s.liveToken(tokenID)
	if err != nil {
		return err
	}
	user, ok := s.usersBySubject[t.subject]
	if !ok {
		return errors.New("the access token belongs to a client, not a user")
	}
	fillUserinfo(info, user)
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, _, _ string) error {
	t, err := s.liveToken(tokenID)
	if err != nil {
		resp.Active = false
		return nil
	}
	resp.Active = true
	resp.Subject = t.subject
	resp.ClientID = t.clientID
	resp.Audience = t.audience
	resp.Scope = t.scopes
	resp.Expiration = oidc.FromTime(t.expiry)
	if user, ok := s.usersBySubject[t.subject]; ok {
		resp.Username = user.Username
	}
	return nil
}

func (s *storage) liveToken(id string) (accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok || time.Now().After(t.expiry) {
		return accessToken{}, errors.New("access token unknown, expired or ended by logout")
	}
	return t, nil
}

// GetPrivateClaimsFromScopes is not called: GetPrivateClaimsFromRequest takes its place.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest puts the scope and the user's or client's extra
// claims into a JWT access token.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	claims := map[string]any{}
	switch r := req.(type) {
	case *authRequest:
		user := s.usersBySubject[r.subject]
		maps.Copy(claims, user.Claims)
		claims["preferred_username"] = user.Username
		if user.Name != "" {
			claims["name"] = user.Name
		}
		if user.Email != "" {
			claims["email"] = user.Email
		}
	case *clientCredentialsRequest:
		maps.Copy(claims, s.clients[r.clientID].cfg.Claims)
	}
	if scopes := req.GetScopes(); len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	return claims, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, fmt.Errorf("JWT client authentication: %w", errUnsupported)
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, fmt.Errorf("JWT profile grant: %w", errUnsupported)
}

func (s *storage) Health(context.Context) error { return nil }

// ClientCredentials authenticates a client for the client_credentials grant;
// op refuses it there unless Client.Credentials is set.
func (s *storage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	return s.authenticate(id, secret)
}

// ClientCredentialsTokenRequest refuses scopes the client was not given.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	client, ok := s.clients[id]
	if !ok {
		return nil, errUnknownClient
	}
	for _, scope := range scopes {
		if !client.IsScopeAllowed(scope) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for client %q", scope, id)
		}
	}
	return &clientCredentialsRequest{clientID: id, audience: client.audience(), scopes: slices.Clone(scopes)}, nil
}

func fillUserinfo(info *oidc.UserInfo, user User) {
	info.Subject = user.Subject
	info.Name = user.Name
	info.PreferredUsername = user.Username
	info.Email = user.Email
	for name, value := range user.Claims {
		info.AppendClaims(name, value)
	}
}

// authRequest is an authorization request between /authorize and the token
// exchange. The storage hands out copies, so op never reads a request while
// the login page completes it, and its getters hand out copies of slices,
// which op appends to.
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes, audience                        []string
	responseType                            oidc.ResponseType
	responseMode                            oidc.ResponseMode
	codeChallenge                           *oidc.CodeChallenge
	subject                                 string
	authTime                                time.Time
	done                                    bool
}

func (r *authRequest) copy() *authRequest {
	c := *r
	return &c
}

func (r *authRequest) GetID() string                         { return r.id }
func (r *authRequest) GetACR() string                        { return "" }
func (r *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (r *authRequest) GetAudience() []string                 { return slices.Clone(r.audience) }
func (r *authRequest) GetAuthTime() time.Time                { return r.authTime }
func (r *authRequest) GetClientID() string                   { return r.clientID }
func (r *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return r.codeChallenge }
func (r *authRequest) GetNonce() string                      { return r.nonce }
func (r *authRequest) GetRedirectURI() string                { return r.redirectURI }
func (r *authRequest) GetResponseType() oidc.ResponseType    { return r.responseType }
func (r *authRequest) GetResponseMode() oidc.ResponseMode    { return r.responseMode }
func (r *authRequest) GetScopes() []string                   { return slices.Clone(r.scopes) }
func (r *authRequest) GetState() string                      { return r.state }
func (r *authRequest) GetSubject() string                    { return r.subject }
func (r *authRequest) Done() bool                            { return r.done }

// clientCredentialsRequest is a client_credentials grant; the client is its
// own subject.
type clientCredentialsRequest struct {
	clientID         string
	audience, scopes []string
}

func (r *clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string { return slices.Clone(r.audience) }
func (r *clientCredentialsRequest) GetScopes() []string   { return slices.Clone(r.scopes) }
