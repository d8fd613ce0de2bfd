package explain

import (
	"fmt"
	"strconv"
)

// Outcome is what Envoy does with a request, and why.
type Outcome struct {
	// Allowed: the request (or connection) is sent upstream, to Cluster by Route.
	Allowed bool   `json:"allowed"`
	Cluster string `json:"cluster,omitempty"`
	Route   string `json:"route,omitempty"`
	// Status and Body are Envoy's own reply when it answers itself (denial, no route, redirect,
	// direct response); Status is 0 when the request goes upstream or for a TCP connection.
	Status  int               `json:"status,omitempty"`
	Body    string            `json:"body,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Closed: the connection is closed without an HTTP reply (no filter chain, a failed TLS
	// handshake, a TCP denial).
	Closed bool `json:"closed,omitempty"`
	// Decision names the step that decided a denial or local reply; nil when allowed.
	Decision *Decision `json:"decision,omitempty"`
	Trace    []Step    `json:"trace"`
}

// Decision is the filter, and for authorization the policy, that decided.
type Decision struct {
	Filter string `json:"filter"`
	// Policy is the Envoy RBAC policy name; Ref its Istio object, Origin where that is defined.
	Policy string     `json:"policy,omitempty"`
	Ref    *PolicyRef `json:"ref,omitempty"`
	Origin string     `json:"origin,omitempty"`
	Reason string     `json:"reason"`
}

// Step is one line of the trace: which part of the configuration was consulted and what it did.
type Step struct {
	Stage  string `json:"stage"`
	Name   string `json:"name,omitempty"`
	Detail string `json:"detail"`
}

// Result is the outcome in one phrase: "allowed", "403 RBAC: access denied", "404",
// "connection closed".
func (o Outcome) Result() string {
	switch {
	case o.Allowed:
		return "allowed"
	case o.Closed:
		return "connection closed"
	case o.Body != "":
		return strconv.Itoa(o.Status) + " " + o.Body
	}
	return strconv.Itoa(o.Status)
}

// By says what decided: the Istio policy rule when an authorization policy did, else the
// filter and reason.
func (o Outcome) By() string {
	d := o.Decision
	switch {
	case d == nil:
		return ""
	case d.Ref != nil:
		return d.Ref.String()
	case d.Policy != "":
		return d.Policy
	}
	return d.Filter + ": " + d.Reason
}

func (o *Outcome) step(stage, name, format string, args ...any) {
	o.Trace = append(o.Trace, Step{Stage: stage, Name: name, Detail: fmt.Sprintf(format, args...)})
}

// deny ends the evaluation with Envoy's local reply.
func (o *Outcome) deny(status int, body string, d Decision) {
	o.Allowed, o.Status, o.Body, o.Decision = false, status, body, &d
}

// close ends the evaluation with the connection closed.
func (o *Outcome) close(d Decision) {
	o.Allowed, o.Closed, o.Decision = false, true, &d
}
