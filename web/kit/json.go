package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
)

// List is the envelope of every list response.
type List[T any] struct {
	Data  []T `json:"data"`
	Total int `json:"total"`
}

// PagedList is a list response with a link to the next page.
type PagedList[T any] struct {
	Data  []T    `json:"data"`
	Total int    `json:"total"`
	Page  int    `json:"page"`
	Next  string `json:"next,omitempty"`
}

// NonNil is s, or an empty slice for nil, so a list is [] and never null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// BindJSON decodes a JSON body into v: one JSON value and nothing after it,
// no unknown fields. Malformed JSON is answered 400 (bad_request) saying
// where it breaks; a well-formed value of the wrong shape 422 naming the
// field.
func (k *Kit) BindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One value per body: anything after it but white space is an error.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailingData
		}
	}
	if err == nil {
		return true
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			k.APIError(c, errs.E("decode", errs.Invalid, "the body must be a JSON object"))
			return false
		}
		k.APIError(c, errs.InvalidField("decode", field, "must be a %s", jsonKind(te.Type.Kind())))
	case errors.As(err, &se):
		k.Malformed(c, fmt.Sprintf("the body is not valid JSON (at byte %d): %s", se.Offset, se.Error()))
	case errors.Is(err, io.EOF):
		k.Malformed(c, "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		k.Malformed(c, "the body is not valid JSON: it ends too early")
	case errors.Is(err, errTrailingData):
		k.Malformed(c, "the body must hold one JSON value and nothing after it")
	default:
		// Unknown fields and the like: well-formed JSON of the wrong shape.
		k.APIError(c, errs.E("decode", errs.Invalid, "%s", strings.TrimPrefix(err.Error(), "json: ")))
	}
	return false
}

var errTrailingData = errors.New("trailing data after the JSON value")

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	if k >= reflect.Int && k <= reflect.Uint64 {
		return "whole number"
	}
	return k.String()
}

// Malformed answers 400: the request's syntax is broken (not a rule).
func (k *Kit) Malformed(c *gin.Context, detail string) {
	c.Render(http.StatusBadRequest, problemRender{Problem{
		Type: "about:blank", Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest,
		Code: "bad_request", Detail: detail, Instance: c.Request.URL.Path,
	}})
	c.Abort()
}
