package user

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"agora/domain/errs"
	"agora/domain/locale"
	"agora/tenant"
)

// Field kinds of registration questions.
var FieldKinds = []string{"text", "select", "multiselect", "date", "number", "checkbox"}

// Option is one choice of a select or multiselect field.
type Option struct {
	Value string      `json:"value"`
	Label locale.Text `json:"label"`
}

// Field is a question the city asks at registration.
type Field struct {
	ID       int64       `db:"id" json:"id"`
	Key      string      `db:"key" json:"key"`
	Label    locale.Text `db:"label" json:"label"`
	Kind     string      `db:"kind" json:"kind"`
	Required bool        `db:"required" json:"required"`
	Options  []Option    `db:"-" json:"options"`
	Position int         `db:"position" json:"position"`
}

var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

type fieldRow struct {
	Field
	RawOptions string `db:"options"`
}

func loadFields(ctx context.Context, q sqlx.QueryerContext) ([]Field, error) {
	var rows []fieldRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, key, label, kind, required, options::text AS options, position
		FROM registration_fields ORDER BY position, id`); err != nil {
		return nil, err
	}
	out := make([]Field, len(rows))
	for i, r := range rows {
		out[i] = r.Field
		if err := json.Unmarshal([]byte(r.RawOptions), &out[i].Options); err != nil {
			return nil, fmt.Errorf("field %s options: %w", r.Key, err)
		}
	}
	return out, nil
}

// Fields lists the city's registration questions in order.
func (s *Service) Fields(ctx context.Context) ([]Field, error) {
	var out []Field
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		out, err = loadFields(ctx, tx)
		return err
	})
	return out, err
}

// validate checks a new registration question: its key, label, kind, and
// options (only choice fields have them, each with a present, unique value).
func (f *Field) validate() error {
	const op = "user.CreateField"
	switch {
	case !fieldKey.MatchString(f.Key):
		return errs.InvalidField(op, "key", "%q must be lower-case letters, digits and _ (starting with a letter)", f.Key).WithRule("field_key")
	case f.Label.Pick() == "":
		return errs.InvalidField(op, "label", "is required in at least one language").WithRule("required")
	case !slices.Contains(FieldKinds, f.Kind):
		return errs.InvalidField(op, "kind", "%q is not one of %s", f.Kind, strings.Join(FieldKinds, ", ")).WithRule("choice")
	}
	choice := f.Kind == "select" || f.Kind == "multiselect"
	if choice && len(f.Options) == 0 {
		return errs.InvalidField(op, "options", "a %s field needs options", f.Kind).WithRule("options_required")
	}
	if !choice && len(f.Options) > 0 {
		return errs.InvalidField(op, "options", "only select and multiselect fields have options").WithRule("options_not_allowed")
	}
	seen := map[string]bool{}
	for i, o := range f.Options {
		if o.Value == "" || seen[o.Value] {
			return errs.InvalidField(op, fmt.Sprintf("options[%d].value", i), "must be present and unique").WithRule("options_unique")
		}
		seen[o.Value] = true
	}
	return nil
}

// CreateField adds a registration question. Errors: errs.Invalid naming the
// field, errs.Conflict for a key in use.
func (s *Service) CreateField(ctx context.Context, f Field) (*Field, error) {
	const op = "user.CreateField"
	if err := f.validate(); err != nil {
		return nil, err
	}
	if f.Options == nil {
		f.Options = []Option{}
	}
	opts, _ := json.Marshal(f.Options)
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		err := tx.GetContext(ctx, &f.ID, `INSERT INTO registration_fields (key, label, kind, required, options, position)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, f.Key, f.Label, f.Kind, f.Required, string(opts), f.Position)
		if isUnique(err) {
			return errs.E(op, errs.Conflict, "a field with key %q exists", f.Key).WithRule("field_key_taken")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// DeleteField removes a question; answers already given stay in users'
// custom fields until they are deleted.
func (s *Service) DeleteField(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM registration_fields WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("user.DeleteField", errs.NotFound, "no field %d", id)
		}
		return nil
	})
}

// Answers are raw answers to registration questions, by key: a form gives
// lists of strings; JSON gives strings, numbers, booleans or lists.
type Answers map[string]any

// validateAnswers checks answers against the fields and returns the clean
// values to store. Unknown keys are refused; errors name "fields.<key>",
// one per question at fault, all of them joined.
func validateAnswers(fields []Field, in Answers) (map[string]any, error) {
	const op = "user.Register"
	known := map[string]bool{}
	out := map[string]any{}
	var all []error
	refuse := func(e error) { all = append(all, e) }
	for _, f := range fields {
		known[f.Key] = true
		name := "fields." + f.Key
		vals := strings1(in[f.Key])
		if len(vals) == 1 && f.Kind != "checkbox" {
			vals[0] = strings.TrimSpace(vals[0]) // white space alone is no answer
		}
		if len(vals) == 0 || (len(vals) == 1 && vals[0] == "" && f.Kind != "checkbox") {
			if f.Required {
				refuse(errs.InvalidField(op, name, "is required").WithRule("required"))
			}
			continue
		}
		switch f.Kind {
		case "text":
			if utf8.RuneCountInString(vals[0]) > 500 {
				refuse(errs.InvalidField(op, name, "must be at most 500 characters").WithRule("too_long", 500))
			}
			out[f.Key] = strings.TrimSpace(vals[0])
		case "select":
			if !hasOption(f, vals[0]) {
				refuse(errs.InvalidField(op, name, "%q is not one of the choices", vals[0]).WithRule("choice"))
			}
			out[f.Key] = vals[0]
		case "multiselect":
			for _, v := range vals {
				if !hasOption(f, v) {
					refuse(errs.InvalidField(op, name, "%q is not one of the choices", v).WithRule("choice"))
					break
				}
			}
			out[f.Key] = vals
		case "date":
			if _, err := time.Parse("2006-01-02", vals[0]); err != nil {
				refuse(errs.InvalidField(op, name, "%q is not a date like 1990-05-17", vals[0]).WithRule("date"))
			}
			out[f.Key] = vals[0]
		case "number":
			n, err := strconv.ParseFloat(vals[0], 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) { // NaN and infinity are not answers (nor JSON)
				refuse(errs.InvalidField(op, name, "%q is not a number", vals[0]).WithRule("number"))
			}
			out[f.Key] = n
		case "checkbox":
			on := vals[0] == "true" || vals[0] == "on" || vals[0] == "1"
			if f.Required && !on {
				refuse(errs.InvalidField(op, name, "must be ticked").WithRule("required"))
			}
			out[f.Key] = on
		}
	}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if !known[k] {
			refuse(errs.InvalidField(op, "fields."+k, "is not a question of this city").WithRule("unknown_question"))
		}
	}
	if len(all) > 0 {
		return nil, errors.Join(all...)
	}
	return out, nil
}

func hasOption(f Field, v string) bool {
	for _, o := range f.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// strings1 turns a raw answer into strings.
func strings1(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []string:
		return x
	case bool:
		return []string{strconv.FormatBool(x)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}
