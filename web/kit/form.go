package kit

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/locale"
)

// Form is a submitted page form: its values, the errors by field (in the
// visitor's language) and an error of the whole form. Multi holds fields
// with several values (registration questions).
type Form struct {
	Values map[string]string
	Errors map[string]string
	Multi  map[string][]string
	Error  string
}

// NewForm reads the named fields of a posted form.
func NewForm(c *gin.Context, fields ...string) *Form {
	f := EmptyForm()
	for _, k := range fields {
		f.Values[k] = c.PostForm(k)
	}
	return f
}

// EmptyForm is a form with nothing in it yet.
func EmptyForm() *Form {
	return &Form{Values: map[string]string{}, Errors: map[string]string{}, Multi: map[string][]string{}}
}

// Explain turns an application error into the form's errors, translated
// through the error's rule: every field's when err joins several. Errors
// that are not the user's fault are returned for a 500.
func (k *Kit) Explain(c *gin.Context, f *Form, err error) (status int, internal error) {
	all := errs.All(err)
	if e, ok := errs.As(err); ok && len(all) == 0 {
		all = []*errs.Error{e} // behind a wrapper errs.All does not open
	}
	if len(all) == 0 || slices.ContainsFunc(all, func(e *errs.Error) bool { return e.Code == errs.Internal }) {
		return http.StatusInternalServerError, err
	}
	loc := Locale(c)
	for _, e := range all {
		msg := e.Message
		if e.Rule != "" {
			if t := k.I18n.T(loc, "rule."+e.Rule, localArgs(c, loc, e.Args)...); t != "rule."+e.Rule {
				msg = t
			}
		} else if e.Code == errs.Unauthenticated {
			msg = k.I18n.T(loc, "login.failed")
		}
		switch {
		case e.Field == "" && f.Error == "":
			f.Error = msg
		case e.Field != "" && f.Errors[e.Field] == "":
			f.Errors[e.Field] = msg
		}
	}
	return StatusOf(all[0].Code), nil
}

// localArgs are a rule's parameters for a page in loc: city content (a
// phase's title, a locale.Text) in the page's language, then the city's
// others; anything else as it is.
func localArgs(c *gin.Context, loc string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if t, ok := a.(locale.Text); ok {
			prefs := []string{loc}
			if city := City(c); city != nil {
				prefs = append(prefs, city.Locales...)
			}
			a = t.Pick(prefs...)
		}
		out[i] = a
	}
	return out
}

// Refusal is the translated sentence of why err refused the request.
func (k *Kit) Refusal(c *gin.Context, err error) (status int, text string, internal error) {
	f := EmptyForm()
	status, internal = k.Explain(c, f, err)
	text = f.Error
	for _, e := range f.Errors {
		text = e
	}
	return status, text, internal
}

// LocalPath returns p if it is a path on this host, else "/".
func LocalPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || u.Host != "" || strings.Contains(p, "\\") {
		return "/"
	}
	return p
}

// TextFromForm reads a multilingual field posted as name_<locale> for each
// of the city's locales.
func TextFromForm(c *gin.Context, name string) locale.Text {
	t := locale.Text{}
	for _, l := range City(c).Locales {
		if v := strings.TrimSpace(c.PostForm(name + "_" + l)); v != "" {
			t[l] = v
		}
	}
	return t
}

// CheckedIDs reads the ids of a group of checkboxes named name.
func CheckedIDs(c *gin.Context, name string) []int64 {
	var out []int64
	for _, v := range c.PostFormArray(name) {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// BackToIdea returns to the :id idea's page after one of its forms, with
// the refusal (in the visitor's language) under key when err is one. Pages
// of ideas the visitor cannot see, a missing login and internal errors
// answer as such.
func (k *Kit) BackToIdea(c *gin.Context, key string, err error) {
	target := "/ideas/" + c.Param("id")
	if err == nil {
		c.Redirect(http.StatusSeeOther, target)
		return
	}
	status, text, internal := k.Refusal(c, err)
	switch {
	case internal != nil:
		k.PageError(c, internal)
	case status == http.StatusNotFound:
		k.PageError(c, err)
	case status == http.StatusUnauthorized:
		c.Redirect(http.StatusSeeOther, "/login?next="+target)
	default:
		c.Redirect(http.StatusSeeOther, target+"?"+key+"="+url.QueryEscape(text))
	}
}
