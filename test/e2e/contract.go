package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// apiPrefix is where the JSON API lives; only its answers are held to the document.
const apiPrefix = "/api/v1/"

// The suite's clients send every request through the contract.
var (
	checked = &contract{next: http.DefaultTransport, routers: map[string]routers.Router{}}
	// suiteClient follows redirects, noRedirect hands them back to be checked.
	suiteClient = &http.Client{Transport: checked}
	noRedirect  = &http.Client{Transport: checked, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
)

// contract is the suite's transport. It holds every answer under /api/v1 to
// the OpenAPI document the server itself serves at /api/v1/openapi.yaml
// (openapi3filter.ValidateResponse), so the document cannot drift from the
// server: an operation it does not describe (unless the server refuses it
// with 404 or 405), a status it does not list or a body its schema does not
// admit (see closeObjects) fails the test that sent the request (see
// forTest), with method, path, status and what differs; the test goes on.
// A request that names no test gets the violation as its error instead.
type contract struct {
	next    http.RoundTripper
	mu      sync.Mutex
	routers map[string]routers.Router // by scheme and host of the server
}

// RoundTrip sends req and checks the answer when it comes from the API.
func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, apiPrefix) {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", req.Method, req.URL.Path, err)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if err := c.check(req, res, body); err != nil {
		msg := fmt.Sprintf("%s %s answered %d, which the API document does not admit: %v", req.Method, req.URL.Path, res.StatusCode, err)
		t, ok := req.Context().Value(testKey{}).(testing.TB)
		if !ok {
			return nil, fmt.Errorf("%s", msg)
		}
		if len(body) > 2000 {
			body = append(body[:2000:2000], "…"...)
		}
		t.Errorf("%s\n%s", msg, body)
	}
	return res, nil
}

func (c *contract) check(req *http.Request, res *http.Response, body []byte) error {
	router, err := c.router(req)
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound) && res.StatusCode == http.StatusNotFound,
		errors.Is(err, routers.ErrMethodNotAllowed) && res.StatusCode == http.StatusMethodNotAllowed:
		return nil // the server refuses what the document does not describe
	case err != nil:
		return fmt.Errorf("no operation described: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	// Where and what, without the schema and value dumped after each error.
	in.Options.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string { return err.Reason })
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

// router finds operations in the document served by req's server, loaded
// and validated on first use.
func (c *contract) router(req *http.Request) (routers.Router, error) {
	server := req.URL.Scheme + "://" + req.URL.Host
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.routers[server]; ok {
		return r, nil
	}
	get, err := http.NewRequestWithContext(req.Context(), http.MethodGet, server+apiPrefix+"openapi.yaml", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.next.RoundTrip(get)
	if err != nil {
		return nil, fmt.Errorf("load the API document: %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("load the API document: %d %v", res.StatusCode, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("read the API document: %w", err)
	}
	if err := doc.Validate(req.Context()); err != nil {
		return nil, fmt.Errorf("the API document is not valid: %w", err)
	}
	closeObjects(doc)
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the API document: %w", err)
	}
	c.routers[server] = r
	return r, nil
}

// closeObjects holds the server to the fields the document names: every
// object schema of an answer that lists properties and says nothing about
// others gets unevaluatedProperties: false, so a field the server sends and
// the document leaves out is drift too. A schema that is a branch of an
// allOf, anyOf or oneOf stays open; the schema combining it is closed.
func closeObjects(doc *openapi3.T) {
	branches := map[*openapi3.Schema]bool{}
	var all []*openapi3.Schema
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		all = append(all, s)
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, combined := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, b := range combined {
				if b.Value != nil {
					branches[b.Value] = true
				}
				walk(b)
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, res := range op.Responses.Map() {
				if res.Value == nil {
					continue
				}
				for _, mt := range res.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
	closed := false
	for _, s := range all {
		open := s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil &&
			s.UnevaluatedProperties.Has == nil && s.UnevaluatedProperties.Schema == nil
		if open && !branches[s] && (len(s.Properties) > 0 || len(s.AllOf) > 0) {
			s.UnevaluatedProperties.Has = &closed
		}
	}
}

type testKey struct{}

// forTest marks req as sent by t, which fails when the answer breaks the contract.
func forTest(req *http.Request, t testing.TB) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), testKey{}, t))
}
