// Package errs defines Agora's application error: a stable code, the
// operation that failed and a message safe to show to users.
package errs

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error kind. Clients rely on these strings.
type Code string

const (
	NotFound           Code = "not_found"
	Invalid            Code = "invalid"
	Conflict           Code = "conflict"
	Forbidden          Code = "forbidden"
	Unauthenticated    Code = "unauthenticated"
	FeatureUnavailable Code = "feature_unavailable"
	RateLimited        Code = "rate_limited"
	Internal           Code = "internal"
)

// Error is an application error. Message is safe to show; Err, the cause, is
// for logs only.
type Error struct {
	Code    Code
	Op      string // e.g. "site.Page"
	Field   string // the input field at fault, for Invalid
	Message string
	// Rule names the broken rule ("format", "too_short", "required", "taken",
	// "not_offered", ...) and Args its parameters, so pages can say it in the
	// user's language; Message is the English fallback.
	Rule string
	Args []any
	Err  error
}

// WithRule sets the broken rule and its parameters and returns e.
func (e *Error) WithRule(rule string, args ...any) *Error {
	e.Rule, e.Args = rule, args
	return e
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Op != "" {
		return e.Op + ": " + msg
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error.
func E(op string, code Code, format string, a ...any) *Error {
	return &Error{Op: op, Code: code, Message: fmt.Sprintf(format, a...)}
}

// InvalidField reports bad input in a named field.
func InvalidField(op, field, format string, a ...any) *Error {
	return &Error{Op: op, Code: Invalid, Field: field, Message: fmt.Sprintf(format, a...)}
}

// CodeOf returns the Code of the first *Error in err's chain, Internal when
// there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// All returns every *Error in err's tree, in order: the one of a single
// error, each of several joined with errors.Join (a form refused for more
// than one field at once).
func All(err error) []*Error {
	switch x := err.(type) {
	case nil:
		return nil
	case *Error:
		return []*Error{x}
	case interface{ Unwrap() []error }:
		var out []*Error
		for _, e := range x.Unwrap() {
			out = append(out, All(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		return All(x.Unwrap())
	}
	return nil
}
