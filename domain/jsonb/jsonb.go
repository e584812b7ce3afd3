// Package jsonb reads PostgreSQL json and jsonb values into Go values: the
// one Scan that every JSON-backed column type shares.
package jsonb

import (
	"encoding/json"
	"fmt"
)

// Scan decodes src (a json or jsonb column: []byte, string or NULL) into
// dst. NULL leaves dst as it is, so callers set their empty value first.
func Scan(name string, src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		return nil
	default:
		return fmt.Errorf("%s: cannot scan %T", name, src)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
