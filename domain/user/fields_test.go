package user

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/locale"
)

func options(values ...string) []Option {
	out := make([]Option, len(values))
	for i, v := range values {
		out[i] = Option{Value: v, Label: locale.Text{"en": strings.ToUpper(v)}}
	}
	return out
}

// required returns f as a required question.
func required(f Field) Field {
	f.Required = true
	return f
}

// One question of each kind, optional.
var (
	textField   = Field{Key: "nickname", Kind: "text"}
	selectField = Field{Key: "district", Kind: "select", Options: options("north", "south")}
	multiField  = Field{Key: "topics", Kind: "multiselect", Options: options("mobility", "green", "housing")}
	dateField   = Field{Key: "born", Kind: "date"}
	numberField = Field{Key: "household", Kind: "number"}
	checkField  = Field{Key: "newsletter", Kind: "checkbox"}
)

func TestValidateAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fields  []Field
		in      Answers
		want    map[string]any
		wantErr *wantErr
	}{
		{name: "no questions, no answers", want: map[string]any{}},

		// text
		{name: "text is trimmed", fields: []Field{textField}, in: Answers{"nickname": "  Jo  "}, want: map[string]any{"nickname": "Jo"}},
		{name: "text from a form", fields: []Field{textField}, in: Answers{"nickname": []string{"Jo"}}, want: map[string]any{"nickname": "Jo"}},
		{
			name: "text of 500 characters", fields: []Field{textField},
			in: Answers{"nickname": strings.Repeat("é", 500)}, want: map[string]any{"nickname": strings.Repeat("é", 500)},
		},
		{
			name: "text of 501 characters", fields: []Field{textField},
			in: Answers{"nickname": strings.Repeat("é", 501)}, wantErr: invalid("fields.nickname", "too_long", 500),
		},
		{name: "optional text left out", fields: []Field{textField}, in: Answers{}, want: map[string]any{}},
		{name: "optional text left empty", fields: []Field{textField}, in: Answers{"nickname": ""}, want: map[string]any{}},
		{name: "required text left out", fields: []Field{required(textField)}, wantErr: invalid("fields.nickname", "required")},
		{name: "required text left empty", fields: []Field{required(textField)}, in: Answers{"nickname": ""}, wantErr: invalid("fields.nickname", "required")},
		{name: "required text, empty form list", fields: []Field{required(textField)}, in: Answers{"nickname": []string{}}, wantErr: invalid("fields.nickname", "required")},
		{name: "required text of white space only", fields: []Field{required(textField)}, in: Answers{"nickname": "  \t "}, wantErr: invalid("fields.nickname", "required")},

		// select
		{name: "select one of the choices", fields: []Field{selectField}, in: Answers{"district": "south"}, want: map[string]any{"district": "south"}},
		{name: "select outside the choices", fields: []Field{selectField}, in: Answers{"district": "east"}, wantErr: invalid("fields.district", "choice")},
		{name: "select by label, not value", fields: []Field{selectField}, in: Answers{"district": "NORTH"}, wantErr: invalid("fields.district", "choice")},
		{name: "required select left out", fields: []Field{required(selectField)}, in: Answers{}, wantErr: invalid("fields.district", "required")},
		{name: "optional select left empty", fields: []Field{selectField}, in: Answers{"district": ""}, want: map[string]any{}},

		// multiselect
		{
			name: "multiselect from a form", fields: []Field{multiField},
			in: Answers{"topics": []string{"green", "mobility"}}, want: map[string]any{"topics": []string{"green", "mobility"}},
		},
		{
			name: "multiselect from JSON", fields: []Field{multiField},
			in: Answers{"topics": []any{"housing", "green"}}, want: map[string]any{"topics": []string{"housing", "green"}},
		},
		{name: "multiselect of one string", fields: []Field{multiField}, in: Answers{"topics": "green"}, want: map[string]any{"topics": []string{"green"}}},
		{
			name: "multiselect with one unknown choice", fields: []Field{multiField},
			in: Answers{"topics": []any{"green", "parking"}}, wantErr: invalid("fields.topics", "choice"),
		},
		{name: "required multiselect, nothing chosen", fields: []Field{required(multiField)}, in: Answers{"topics": []any{}}, wantErr: invalid("fields.topics", "required")},

		// date
		{name: "date", fields: []Field{dateField}, in: Answers{"born": "1990-05-17"}, want: map[string]any{"born": "1990-05-17"}},
		{name: "date in another format", fields: []Field{dateField}, in: Answers{"born": "17/05/1990"}, wantErr: invalid("fields.born", "date")},
		{name: "date that does not exist", fields: []Field{dateField}, in: Answers{"born": "1990-02-30"}, wantErr: invalid("fields.born", "date")},
		{name: "date with a time", fields: []Field{dateField}, in: Answers{"born": "1990-05-17T10:00:00Z"}, wantErr: invalid("fields.born", "date")},
		{name: "required date left out", fields: []Field{required(dateField)}, wantErr: invalid("fields.born", "required")},

		// number
		{name: "number from a form", fields: []Field{numberField}, in: Answers{"household": "4"}, want: map[string]any{"household": 4.0}},
		{name: "number with spaces and a fraction", fields: []Field{numberField}, in: Answers{"household": " 2.5 "}, want: map[string]any{"household": 2.5}},
		{name: "number from JSON", fields: []Field{numberField}, in: Answers{"household": 3.0}, want: map[string]any{"household": 3.0}},
		{name: "negative number", fields: []Field{numberField}, in: Answers{"household": "-1"}, want: map[string]any{"household": -1.0}},
		{name: "not a number", fields: []Field{numberField}, in: Answers{"household": "four"}, wantErr: invalid("fields.household", "number")},
		{name: "NaN is not a number", fields: []Field{numberField}, in: Answers{"household": "NaN"}, wantErr: invalid("fields.household", "number")},
		{name: "infinity is not a number", fields: []Field{numberField}, in: Answers{"household": "-Inf"}, wantErr: invalid("fields.household", "number")},
		{name: "number out of range", fields: []Field{numberField}, in: Answers{"household": "1e400"}, wantErr: invalid("fields.household", "number")},
		{name: "required number left empty", fields: []Field{required(numberField)}, in: Answers{"household": ""}, wantErr: invalid("fields.household", "required")},

		// checkbox
		{name: "required checkbox ticked on a form", fields: []Field{required(checkField)}, in: Answers{"newsletter": []string{"on"}}, want: map[string]any{"newsletter": true}},
		{name: "checkbox true", fields: []Field{checkField}, in: Answers{"newsletter": "true"}, want: map[string]any{"newsletter": true}},
		{name: "checkbox 1", fields: []Field{checkField}, in: Answers{"newsletter": "1"}, want: map[string]any{"newsletter": true}},
		{name: "checkbox JSON true", fields: []Field{checkField}, in: Answers{"newsletter": true}, want: map[string]any{"newsletter": true}},
		{name: "checkbox JSON false", fields: []Field{checkField}, in: Answers{"newsletter": false}, want: map[string]any{"newsletter": false}},
		// An empty checkbox answer is an answer (unticked), not a missing one.
		{name: "optional checkbox empty", fields: []Field{checkField}, in: Answers{"newsletter": ""}, want: map[string]any{"newsletter": false}},
		{name: "optional checkbox left out", fields: []Field{checkField}, in: Answers{}, want: map[string]any{}},
		{name: "required checkbox left out", fields: []Field{required(checkField)}, wantErr: invalid("fields.newsletter", "required")},
		{name: "required checkbox empty", fields: []Field{required(checkField)}, in: Answers{"newsletter": ""}, wantErr: invalid("fields.newsletter", "required")},
		{name: "required checkbox false", fields: []Field{required(checkField)}, in: Answers{"newsletter": "false"}, wantErr: invalid("fields.newsletter", "required")},
		{name: "required checkbox JSON false", fields: []Field{required(checkField)}, in: Answers{"newsletter": false}, wantErr: invalid("fields.newsletter", "required")},

		// unknown keys and order
		{name: "answer to no question", fields: []Field{textField}, in: Answers{"nickname": "Jo", "shoe_size": "42"}, wantErr: invalid("fields.shoe_size", "unknown_question")},
		{name: "answer in a city without questions", in: Answers{"nickname": "Jo"}, wantErr: invalid("fields.nickname", "unknown_question")},
		{
			name:    "questions are checked in their order",
			fields:  []Field{dateField, numberField},
			in:      Answers{"born": "yesterday", "household": "many"},
			wantErr: invalid("fields.born", "date"),
		},
		{
			name:   "every kind at once",
			fields: []Field{required(textField), required(selectField), multiField, dateField, numberField, required(checkField)},
			in: Answers{
				"nickname": " Jo", "district": "north", "topics": []any{"green"},
				"born": "2001-12-31", "household": "1", "newsletter": "on",
			},
			want: map[string]any{
				"nickname": "Jo", "district": "north", "topics": []string{"green"},
				"born": "2001-12-31", "household": 1.0, "newsletter": true,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validateAnswers(tc.fields, tc.in)
			requireErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				require.Nil(t, got)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestStrings1(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want []string
	}{
		{"missing", nil, nil},
		{"string", "a", []string{"a"}},
		{"form values", []string{"a", "b"}, []string{"a", "b"}},
		{"JSON true", true, []string{"true"}},
		{"JSON false", false, []string{"false"}},
		{"JSON integer", 42.0, []string{"42"}},
		{"JSON fraction", 2.5, []string{"2.5"}},
		{"large JSON number, not in exponent form", 1e21, []string{"1000000000000000000000"}},
		{"JSON list", []any{"a", 2.0, true}, []string{"a", "2", "true"}},
		{"anything else", 7, []string{"7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, strings1(tc.in))
		})
	}
}

func TestFieldValidate(t *testing.T) {
	label := locale.Text{"nl": "Bijnaam"}
	for _, tc := range []struct {
		name    string
		field   Field
		wantErr *wantErr
	}{
		{name: "text", field: Field{Key: "nickname", Label: label, Kind: "text"}},
		{name: "key of one letter", field: Field{Key: "a", Label: label, Kind: "text"}},
		{name: "key with digits and underscores", field: Field{Key: "age_group_2", Label: label, Kind: "number"}},
		{name: "key of 41 characters", field: Field{Key: "a" + strings.Repeat("b", 40), Label: label, Kind: "text"}},
		{name: "key of 42 characters", field: Field{Key: "a" + strings.Repeat("b", 41), Label: label, Kind: "text"}, wantErr: invalid("key", "field_key")},
		{name: "no key", field: Field{Label: label, Kind: "text"}, wantErr: invalid("key", "field_key")},
		{name: "key with capitals", field: Field{Key: "Nickname", Label: label, Kind: "text"}, wantErr: invalid("key", "field_key")},
		{name: "key starting with a digit", field: Field{Key: "2nd", Label: label, Kind: "text"}, wantErr: invalid("key", "field_key")},
		{name: "key starting with an underscore", field: Field{Key: "_x", Label: label, Kind: "text"}, wantErr: invalid("key", "field_key")},
		{name: "key with a hyphen", field: Field{Key: "age-group", Label: label, Kind: "text"}, wantErr: invalid("key", "field_key")},
		{name: "label in any one language", field: Field{Key: "k", Label: locale.Text{"nl": "", "fr": "Surnom"}, Kind: "text"}},
		{name: "no label", field: Field{Key: "k", Kind: "text"}, wantErr: invalid("label", "required")},
		{name: "only empty labels", field: Field{Key: "k", Label: locale.Text{"nl": "", "fr": ""}, Kind: "text"}, wantErr: invalid("label", "required")},
		{name: "date", field: Field{Key: "k", Label: label, Kind: "date"}},
		{name: "checkbox", field: Field{Key: "k", Label: label, Kind: "checkbox"}},
		{name: "unknown kind", field: Field{Key: "k", Label: label, Kind: "boolean"}, wantErr: invalid("kind", "choice")},
		{name: "no kind", field: Field{Key: "k", Label: label}, wantErr: invalid("kind", "choice")},
		{name: "select with choices", field: Field{Key: "k", Label: label, Kind: "select", Options: options("a", "b")}},
		{name: "multiselect with choices", field: Field{Key: "k", Label: label, Kind: "multiselect", Options: options("a")}},
		{name: "select without choices", field: Field{Key: "k", Label: label, Kind: "select"}, wantErr: invalid("options", "options_required")},
		{name: "multiselect with an empty list", field: Field{Key: "k", Label: label, Kind: "multiselect", Options: []Option{}}, wantErr: invalid("options", "options_required")},
		{name: "text with choices", field: Field{Key: "k", Label: label, Kind: "text", Options: options("a")}, wantErr: invalid("options", "options_not_allowed")},
		{name: "choice without a value", field: Field{Key: "k", Label: label, Kind: "select", Options: options("a", "b", "")}, wantErr: invalid("options[2].value", "options_unique")},
		{name: "choice given twice", field: Field{Key: "k", Label: label, Kind: "multiselect", Options: options("a", "b", "a")}, wantErr: invalid("options[2].value", "options_unique")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.field
			requireErr(t, f.validate(), tc.wantErr)
		})
	}
	// Every kind a question may have is accepted (choice kinds with options).
	for _, k := range FieldKinds {
		f := Field{Key: "k", Label: label, Kind: k}
		if k == "select" || k == "multiselect" {
			f.Options = options("a")
		}
		require.NoError(t, f.validate(), "kind %s", k)
	}
}

func TestCreateFieldChecksBeforeWriting(t *testing.T) {
	_, err := (&Service{}).CreateField(context.Background(), Field{Key: "Bad Key", Label: locale.Text{"nl": "x"}, Kind: "text"})
	requireErr(t, err, invalid("key", "field_key"))
}
