package kit

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
)

// IDParam reads the path parameter name as a positive id; false when it is
// not one (the caller answers 404: no such thing).
func IDParam(c *gin.Context, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	return id, err == nil && id > 0
}

// ID reads the path parameter name as an id, 0 when it is not one.
func ID(c *gin.Context, name string) int64 {
	id, _ := IDParam(c, name)
	return id
}

// IntParams are a request's integer query parameters, absent ones 0.
type IntParams struct {
	V   map[string]int64
	Err error
}

// QueryInts reads the named query parameters as non-negative integers; the
// first malformed one is an error naming it.
func QueryInts(c *gin.Context, names ...string) IntParams {
	out := IntParams{V: map[string]int64{}}
	for _, n := range names {
		raw := c.Query(n)
		if raw == "" {
			continue
		}
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 0 {
			out.Err = errs.InvalidField("query", n, "%q is not a number", raw).WithRule("number")
			return out
		}
		out.V[n] = v
	}
	return out
}
