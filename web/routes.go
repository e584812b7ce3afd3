package web

import (
	"io/fs"
	"net/http"
)

// routes is the whole HTTP surface. /healthz and /readyz answer on every host
// (ServeHTTP); everything else is either a city host or the platform host.
func (s *Server) routes() {
	static, _ := fs.Sub(staticFiles, "static")

	// City hosts: the portal and its JSON API. resolveCity runs before any
	// handler, so no city route can run without its city; authenticate looks
	// the caller up in that city's schema; csrf guards unsafe requests;
	// readScope makes the request's reads share one transaction.
	c := s.city
	c.Use(s.requestID, s.accessLog, s.recovery, s.securityHeaders, s.resolveCity, s.readScope, s.authenticate, s.csrf)
	c.GET("/", s.home)
	c.GET("/pages/:slug", s.page)
	c.GET("/projects/:slug", s.projectPage)
	c.POST("/projects/:slug/ideas", s.postIdeaSubmit)
	c.GET("/ideas/:id", s.ideaPage)
	c.POST("/ideas/:id/reaction", s.reactSubmit)
	c.POST("/ideas/:id/status", s.statusSubmit)
	c.POST("/ideas/:id/feedback", s.feedbackSubmit)
	c.GET("/locale", s.setLocale)
	c.GET("/theme.css", s.theme)
	c.GET("/login", s.loginPage)
	c.POST("/login", s.loginSubmit)
	c.POST("/logout", s.logoutSubmit)
	c.GET("/register", s.registerPage)
	c.POST("/register", s.registerSubmit)
	c.GET("/profile", s.profilePage)
	c.POST("/profile", s.profileSubmit)
	c.GET("/confirm", s.confirmLink)
	c.POST("/confirm", s.confirmCode)
	c.GET("/forgot", s.forgotPage)
	c.POST("/forgot", s.forgotSubmit)
	c.GET("/reset", s.resetPage)
	c.POST("/reset", s.resetSubmit)
	c.POST("/profile/data-exports", s.dataExportSubmit)
	c.GET("/profile/data-exports/:id", s.dataExportDownload)
	c.POST("/profile/delete", s.deleteAccountSubmit)
	c.POST("/profile/email", s.changeEmailSubmit)
	c.POST("/profile/avatar", s.avatarSubmit)
	c.GET("/avatars/:name", s.avatar)
	c.GET("/confirm-email", s.confirmEmailChange)
	c.GET("/invitations/:token", s.invitationPage)
	c.POST("/invitations/:token", s.invitationSubmit)

	// The back office: city admins only.
	admin := c.Group("/admin", s.requireAdmin)
	admin.GET("/users", s.adminUsers)
	admin.GET("/users/export.csv", s.adminExportUsers)
	admin.POST("/users/:id/role", s.adminSetRole)
	admin.POST("/users/:id/block", s.adminBlock)
	admin.POST("/invitations", s.adminInvite)
	admin.GET("/projects", s.adminProjects)
	admin.POST("/projects", s.adminCreateProject)
	admin.GET("/projects/:id", s.adminProject)
	admin.POST("/projects/:id", s.adminUpdateProject)
	admin.POST("/projects/:id/phases", s.adminAddPhase)
	c.StaticFS("/static", http.FS(static))

	api := c.Group("/api/v1")
	api.GET("/openapi.json", s.openAPI)
	api.GET("/site", s.apiSite)
	api.GET("/pages", s.apiPages)
	api.GET("/pages/:slug", s.apiPage)
	api.GET("/topics", s.apiTopics)
	api.POST("/users", s.apiRegister)
	api.POST("/session", s.apiLogin)
	api.DELETE("/session", s.apiLogout)
	api.DELETE("/sessions", s.apiLogoutEverywhere)
	api.GET("/me", s.apiMe)
	api.GET("/tokens", s.apiTokens)
	api.POST("/tokens", s.apiCreateToken)
	api.DELETE("/tokens/:id", s.apiRevokeToken)
	api.POST("/me/confirmation", s.apiConfirm)
	api.POST("/me/confirmation/resend", s.apiResendConfirmation)
	api.POST("/password-resets", s.apiRequestReset)
	api.POST("/password-resets/complete", s.apiCompleteReset)
	api.DELETE("/me", s.apiDeleteAccount)
	api.POST("/me/email", s.apiChangeEmail)
	api.PUT("/me/avatar", s.apiSetAvatar)
	api.GET("/me/data-exports", s.apiDataExports)
	api.POST("/me/data-exports", s.apiRequestDataExport)
	api.GET("/me/data-exports/:id/download", s.apiDownloadDataExport)
	api.GET("/projects", s.apiProjects)
	api.POST("/projects", s.apiCreateProject)
	api.GET("/projects/:id", s.apiProject)
	api.PATCH("/projects/:id", s.apiUpdateProject)
	api.POST("/projects/:id/phases", s.apiAddPhase)
	api.GET("/ideas", s.apiIdeas)
	api.POST("/ideas", s.apiPostIdea)
	api.GET("/ideas/:id", s.apiIdea)
	api.PUT("/ideas/:id/reaction", s.apiReact)
	api.DELETE("/ideas/:id/reaction", s.apiUnreact)
	api.POST("/ideas/:id/status", s.apiSetStatus)
	api.POST("/ideas/:id/feedback", s.apiAddFeedback)
	api.GET("/registration-fields", s.apiFields)
	api.POST("/registration-fields", s.requireAdmin, s.apiCreateField)
	api.DELETE("/registration-fields/:id", s.requireAdmin, s.apiDeleteField)
	api.GET("/users", s.requireAdmin, s.apiUsers)
	api.PATCH("/users/:id", s.requireAdmin, s.apiUpdateUser)
	api.GET("/invitations", s.requireAdmin, s.apiInvitations)
	api.POST("/invitations", s.requireAdmin, s.apiInvite)

	c.NoRoute(s.notFound)
	c.NoMethod(s.methodNotAllowed)

	// Platform host: the operator console.
	p := s.platform
	p.Use(s.requestID, s.accessLog, s.recovery, s.securityHeaders, s.platformLocale, s.authenticateOperator, s.csrf)
	p.GET("/", s.consoleHome)
	p.GET("/login", s.consoleLoginPage)
	p.POST("/login", s.consoleLoginSubmit)
	p.POST("/logout", s.consoleLogout)
	if s.devMail != nil {
		p.GET("/dev/mail", s.devMailPage)
	}
	p.GET("/locale", s.setLocale)
	p.StaticFS("/static", http.FS(static))
	p.NoRoute(s.notFound)
	p.NoMethod(s.methodNotAllowed)
}
