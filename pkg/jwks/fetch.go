package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// fetched is the outcome of one successful refresh round of a source.
type fetched struct {
	URI    string // the JWKS URI used (discovered or configured)
	Keys   keySet
	MaxAge time.Duration // Cache-Control max-age of the JWKS response; 0 when absent
}

// fetcher does the HTTP side: discovery, bounded GETs with retries, and validation.
type fetcher struct {
	client       *http.Client
	allowed      []string
	maxBody      int64
	retries      int
	retryInitial time.Duration
}

// fetch runs one refresh round: discovery when src.URI is empty (as Istio's jwks_resolver,
// SEMANTICS §2.4), then the JWKS itself. Discovery is repeated every round so a moved
// jwks_uri is followed; its failure is an ordinary fetch failure (last good keys stay).
func (f *fetcher) fetch(ctx context.Context, src Source) (fetched, error) {
	uri := src.URI
	if uri == "" {
		var err error
		if uri, err = f.discover(ctx, src); err != nil {
			return fetched{}, err
		}
	}
	body, hdr, err := f.get(ctx, uri, src.Timeout)
	if err != nil {
		return fetched{URI: uri}, err
	}
	ks, err := canonicalKeySet(body)
	return fetched{URI: uri, Keys: ks, MaxAge: maxAge(hdr)}, err
}

// discover reads jwks_uri from <issuer>/.well-known/openid-configuration.
func (f *fetcher) discover(ctx context.Context, src Source) (string, error) {
	u := strings.TrimSuffix(src.Issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := f.get(ctx, u, src.Timeout)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", &fetchError{reason: reasonDiscovery, err: fmt.Errorf("openid configuration of %q is not JSON: %w", src.Issuer, err)}
	}
	if pu, err := url.Parse(doc.JWKSURI); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") {
		return "", &fetchError{reason: reasonDiscovery, err: fmt.Errorf("openid configuration of %q has no http(s) jwks_uri", src.Issuer)}
	}
	return doc.JWKSURI, nil
}

// get fetches uri, retrying transient failures a few times with jittered exponential
// back-off. Each attempt has the source's timeout.
func (f *fetcher) get(ctx context.Context, uri string, timeout time.Duration) ([]byte, http.Header, error) {
	type result struct {
		body []byte
		hdr  http.Header
	}
	op := func() (result, error) {
		body, hdr, err := f.getOnce(ctx, uri, timeout)
		if fe, ok := errors.AsType[*fetchError](err); ok && !fe.retry {
			return result{}, backoff.Permanent(err)
		}
		return result{body, hdr}, err
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(f.retryInitial),
		backoff.WithMaxInterval(maxRetryInterval),
		backoff.WithMaxElapsedTime(0))
	r, err := backoff.RetryWithData(op, backoff.WithContext(backoff.WithMaxRetries(b, uint64(f.retries)), ctx))
	return r.body, r.hdr, err
}

// getOnce is one bounded GET: scheme and allow-list checked, status 200 required, body
// limited to maxBody.
func (f *fetcher) getOnce(ctx context.Context, uri string, timeout time.Duration) ([]byte, http.Header, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, nil, &fetchError{reason: reasonInvalidURI, err: err}
	}
	if err := checkURL(f.allowed, u); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, nil, &fetchError{reason: reasonInvalidURI, err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, nil, transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusRequestTimeout
		return nil, nil, &fetchError{reason: reasonStatus, retry: retry, err: fmt.Errorf("GET %s: status %d", u.Redacted(), resp.StatusCode)}
	}
	if resp.ContentLength > f.maxBody {
		return nil, nil, tooLarge(u, f.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBody+1))
	if err != nil {
		return nil, nil, transportError(fmt.Errorf("GET %s: read body: %w", u.Redacted(), err))
	}
	if int64(len(body)) > f.maxBody {
		return nil, nil, tooLarge(u, f.maxBody)
	}
	return body, resp.Header, nil
}

func tooLarge(u *url.URL, limit int64) error {
	return &fetchError{reason: reasonTooLarge, err: fmt.Errorf("GET %s: body over %d bytes", u.Redacted(), limit)}
}

// maxAge returns the Cache-Control max-age, or 0 when absent or malformed.
func maxAge(h http.Header) time.Duration {
	for _, directive := range strings.Split(h.Get("Cache-Control"), ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(directive), "=")
		if !ok || !strings.EqualFold(name, "max-age") {
			continue
		}
		if secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && secs > 0 {
			return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
		}
	}
	return 0
}
