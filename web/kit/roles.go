package kit

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/domain/user"
	"agora/tenant"
)

// Roles and gates at the route: routes.go puts them in front of handlers,
// so the map shows who may call each route and which feature it needs.
// Rules about one item (the author of this idea, a moderator of that
// project) are the domain's, decided inside its write.

// RequireAdmin lets city admins through: others get 401 (or the login page)
// and 403.
func (k *Kit) RequireAdmin(c *gin.Context) {
	u, ok := CurrentUser(c)
	switch {
	case !ok && WantsJSON(c):
		k.APIError(c, errs.E("admin", errs.Unauthenticated, "log in as a city admin"))
	case !ok:
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
	case u.Role != user.RoleAdmin:
		if WantsJSON(c) {
			k.APIError(c, errs.E("admin", errs.Forbidden, "only city admins can do this"))
			return
		}
		k.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
	case u.Blocked(time.Now()):
		k.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
	default:
		c.Next()
	}
}

// User returns the caller of an API request, or answers 401.
func (k *Kit) User(c *gin.Context) (*user.User, bool) {
	u, ok := CurrentUser(c)
	if !ok {
		k.APIError(c, errs.E("auth", errs.Unauthenticated, "log in first"))
		return nil, false
	}
	return u, true
}

// PageUser returns the caller of a page request, or sends them to the
// login page, which brings them back.
func (k *Kit) PageUser(c *gin.Context) (*user.User, bool) {
	u, ok := CurrentUser(c)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return nil, false
	}
	return u, true
}

// Caller is who is asking, as a domain write wants them: anonymous, or a
// user with their role, confirmation and block, without their memberships,
// which the write reads itself inside its own transaction. It costs no
// query.
func Caller(c *gin.Context) permission.Actor {
	u, ok := CurrentUser(c)
	if !ok || u == nil {
		return permission.Actor{}
	}
	return permission.Actor{UserID: int64(u.ID), Role: string(u.Role), Confirmed: u.Confirmed(), BlockedUntil: u.BlockedUntil}
}

// Actor is the permission view of the caller: anonymous, or a user with
// their role, confirmation, block, moderated projects and groups (read in
// the request's read transaction, once per request).
func (k *Kit) Actor(c *gin.Context) (permission.Actor, error) {
	if v, ok := c.Get(keyActor); ok {
		return v.(permission.Actor), nil
	}
	a, err := k.actor(c)
	if err == nil {
		c.Set(keyActor, a)
	}
	return a, err
}

func (k *Kit) actor(c *gin.Context) (permission.Actor, error) {
	a := Caller(c)
	if a.Anonymous() {
		return a, nil
	}
	ctx := c.Request.Context()
	err := k.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		a, err = project.WithMemberships(ctx, tx, a)
		return err
	})
	return a, err
}

// Gate lets a request through only when the city may use feature k now (its
// plan has it and its admins left it on); otherwise it answers the
// feature_unavailable problem, or the page saying which plan has it.
func (k *Kit) Gate(f feature.Key) gin.HandlerFunc {
	return func(c *gin.Context) {
		if k.Require(c, f) {
			c.Next()
		}
	}
}

// Require is Gate inside a handler, for a feature that depends on the
// request (the digest a preview asks for): false when it answered.
func (k *Kit) Require(c *gin.Context, f feature.Key) bool {
	if err := k.features.Enabled(c.Request.Context(), f); err != nil {
		k.Error(c, err)
		return false
	}
	return true
}

// RequireLogin lets any logged-in caller through: an API call without one
// gets 401, a page the way to the login page.
func (k *Kit) RequireLogin(c *gin.Context) {
	if _, ok := CurrentUser(c); ok {
		c.Next()
		return
	}
	if WantsJSON(c) {
		k.APIError(c, errs.E("auth", errs.Unauthenticated, "log in first"))
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	c.Abort()
}

// ShowLocked is the gate of a page that shows a locked feature instead of
// refusing: the page renders, and Locked tells it the plan that has the
// feature when the city may not use it.
func (k *Kit) ShowLocked(f feature.Key) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := k.features.Enabled(c.Request.Context(), f); err != nil {
			if errs.CodeOf(err) != errs.FeatureUnavailable {
				k.PageError(c, err)
				return
			}
			c.Set(keyLocked, string(feature.MinPlan(f)))
		}
		c.Next()
	}
}

// Locked is the plan that has the feature of the page's ShowLocked gate,
// when the city may not use it; "" when it may.
func Locked(c *gin.Context) string { return c.GetString(keyLocked) }

// Enabled reports whether the city may use feature f now, for a page that
// shows it in part (a link, a note).
func (k *Kit) Enabled(c *gin.Context, f feature.Key) bool {
	return k.features.Enabled(c.Request.Context(), f) == nil
}

// RequireStaff lets city staff through: admins and the moderators of at
// least one project (what each may see of a project is the domain's to
// say). Others get 401 (or the login page) and 403.
func (k *Kit) RequireStaff(c *gin.Context) {
	k.requireActor(c, func(a permission.Actor) bool { return a.Role == string(user.RoleAdmin) || len(a.ModeratorOf) > 0 },
		"only admins and project moderators can do this")
}

// RequireProjectStaff lets through admins, and moderators of the project
// whose id is the path parameter param, when they are not blocked.
func (k *Kit) RequireProjectStaff(param string) gin.HandlerFunc {
	return func(c *gin.Context) {
		k.requireActor(c, func(a permission.Actor) bool {
			return a.Staff(ID(c, param)) && (a.BlockedUntil == nil || !a.BlockedUntil.After(time.Now()))
		}, "only admins and the project's moderators can change it")
	}
}

// requireActor lets through a caller for whom ok holds.
func (k *Kit) requireActor(c *gin.Context, ok func(permission.Actor) bool, refusal string) {
	a, err := k.Actor(c)
	switch {
	case err != nil:
		k.Error(c, err)
	case a.Anonymous() && WantsJSON(c):
		k.APIError(c, errs.E("staff", errs.Unauthenticated, "log in as city staff"))
	case a.Anonymous() && c.Request.Method == http.MethodGet:
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
	case a.Anonymous():
		k.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden") // a form posted without a login
	case !ok(a) && WantsJSON(c):
		k.APIError(c, errs.E("staff", errs.Forbidden, "%s", refusal))
	case !ok(a):
		k.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
	default:
		c.Next()
	}
}
