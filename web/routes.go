package web

import (
	"github.com/gin-gonic/gin"

	"agora/domain/feature"
	"agora/web/kit"
)

// routes is the whole HTTP surface. /healthz and /readyz answer on every host
// (ServeHTTP); everything else is either a city host or the platform host.
// Each route shows who may call it and the feature it needs: the roles
// (RequireAdmin, RequireStaff, RequireProjectStaff, RequireLogin) and gates
// (Gate refuses, ShowLocked lets the page say which plan has the feature)
// stand in front of the handler. What depends on the item itself (the
// author of this idea, the moderators of that project, the current phase's
// rules) is decided by the domain inside its write.
func (s *Server) routes() {
	k, portal, account, bo, console := s.kit, s.portal, s.account, s.backoffice, s.console
	gate, locked := k.Gate, k.ShowLocked

	// City hosts: the portal and its JSON API. resolveCity runs before any
	// handler, so no city route can run without its city. Every city route
	// then reads its whole body within its group's limit (ReadBody) and checks
	// it is text (CheckInput) before it opens the door: no database
	// connection is held while a client is still sending. readScope makes the
	// request's reads share one transaction; Authenticate looks the caller up
	// in the city's schema; CSRF guards unsafe requests. text is the default
	// group; long takes texts in every language; files takes multipart
	// uploads, and no other group parses multipart bodies.
	e := s.city
	e.Use(s.requestID, s.accessLog, s.recovery, s.securityHeaders, s.resolveCity)
	group := func(l kit.BodyLimit) *gin.RouterGroup {
		return e.Group("", k.ReadBody(l), k.CheckInput, s.readScope, k.Authenticate, k.CSRF)
	}
	c, long, files := group(kit.TextBody), group(kit.LongTextBody), group(kit.FileBody)

	// The portal's pages (citizens).
	c.GET("/", portal.Home)
	c.GET("/pages/:slug", portal.SitePage)
	c.GET("/projects/:slug", portal.ProjectPage)
	c.GET("/projects/:slug/header/:name", portal.ProjectHeader)
	c.POST("/projects/:slug/ideas", portal.PostIdeaSubmit)
	c.GET("/ideas/:id", portal.IdeaPage)
	c.POST("/ideas/:id/reaction", portal.ReactSubmit)
	c.POST("/ideas/:id/comments", portal.CommentSubmit)
	c.GET("/ideas/:id/edit", portal.IdeaEditPage)
	c.POST("/ideas/:id/edit", portal.IdeaEditSubmit)
	c.POST("/ideas/:id/delete", portal.IdeaDeleteSubmit)
	c.GET("/ideas/:id/images/:name", portal.IdeaImage)
	files.POST("/ideas/:id/images", portal.IdeaImageSubmit)
	c.POST("/ideas/:id/images/:name/delete", portal.IdeaImageDeleteSubmit)
	c.POST("/comments/:id/edit", portal.CommentEditSubmit)
	c.POST("/comments/:id/delete", portal.CommentDeleteSubmit)
	c.POST("/reports", portal.ReportSubmit)
	c.POST("/follows/:type/:id", portal.FollowSubmit)
	c.GET("/notifications", portal.NotificationsPage)
	c.GET("/theme.css", portal.Theme)
	c.GET("/locale", k.ChooseLocale)

	// A person's own account.
	c.GET("/login", account.LoginPage)
	c.POST("/login", account.LoginSubmit)
	c.POST("/logout", account.LogoutSubmit)
	c.GET("/register", account.RegisterPage)
	c.POST("/register", account.RegisterSubmit)
	c.GET("/profile", account.ProfilePage)
	c.POST("/profile", account.ProfileSubmit)
	c.GET("/confirm", account.ConfirmLink)
	c.POST("/confirm", account.ConfirmCode)
	c.GET("/forgot", account.ForgotPage)
	c.POST("/forgot", account.ForgotSubmit)
	c.GET("/reset", account.ResetPage)
	c.POST("/reset", account.ResetSubmit)
	c.POST("/profile/data-exports", account.DataExportSubmit)
	c.GET("/profile/data-exports/:id", account.DataExportDownload)
	c.POST("/profile/delete", account.DeleteAccountSubmit)
	c.POST("/profile/email", account.ChangeEmailSubmit)
	files.POST("/profile/avatar", account.AvatarSubmit)
	c.GET("/avatars/:name", account.Avatar)
	c.GET("/confirm-email", account.ConfirmEmailChange)
	c.POST("/profile/email-consents", account.ProfileConsentsSubmit)
	c.GET("/invitations/:token", account.InvitationPage)
	c.POST("/invitations/:token", account.InvitationSubmit)
	// One-click unsubscribe (RFC 8058): the signed token is the credential.
	c.GET("/unsubscribe", account.UnsubscribePage)
	c.POST("/unsubscribe", account.UnsubscribeSubmit)

	// Staff actions on portal pages: an idea's status and official answer
	// (the idea's project's staff, decided on the idea).
	c.POST("/ideas/:id/status", bo.StatusSubmit)
	c.POST("/ideas/:id/feedback", bo.FeedbackSubmit)
	// The moderation inbox and exports: admins, and project moderators for
	// their projects.
	c.GET("/admin/moderation", k.RequireStaff, bo.ModerationPage)
	c.POST("/admin/moderation/:id", k.RequireStaff, bo.ModerationAction)
	c.GET("/admin/exports", k.RequireLogin, locked(feature.Exports), bo.ExportsPage)
	c.POST("/admin/exports", k.RequireLogin, gate(feature.Exports), bo.RequestExportSubmit)
	c.GET("/exports/:id/download", gate(feature.Exports), bo.ExportDownload)

	// The back office: city admins only.
	admin := c.Group("/admin", k.RequireAdmin)
	adminLong := long.Group("/admin", k.RequireAdmin)
	adminFiles := files.Group("/admin", k.RequireAdmin)
	admin.GET("", bo.HomePage)
	admin.GET("/users", bo.UsersPage)
	admin.GET("/users/export.csv", gate(feature.Exports), bo.ExportUsersPage)
	admin.POST("/users/:id/role", bo.SetRoleSubmit)
	admin.POST("/users/:id/block", bo.BlockSubmit)
	adminFiles.POST("/invitations", bo.InviteSubmit)
	admin.GET("/projects", bo.ProjectsPage)
	adminLong.POST("/projects", bo.CreateProjectSubmit)
	admin.GET("/projects/:id", bo.ProjectPage)
	adminLong.POST("/projects/:id", bo.UpdateProjectSubmit)
	admin.POST("/projects/:id/phases", bo.AddPhaseSubmit)
	admin.POST("/projects/:id/phases/:phase", bo.UpdatePhaseSubmit)
	admin.POST("/projects/:id/phases/:phase/delete", bo.DeletePhaseSubmit)
	adminFiles.POST("/projects/:id/header", bo.ProjectHeaderSubmit)
	admin.POST("/projects/:id/move", bo.MoveProjectSubmit)
	admin.POST("/projects/:id/moderators", bo.AddModeratorSubmit)
	admin.POST("/projects/:id/moderators/:user/delete", bo.RemoveModeratorSubmit)
	admin.POST("/folders", bo.CreateFolderSubmit)
	admin.POST("/folders/:id/delete", bo.DeleteFolderSubmit)
	admin.POST("/areas", bo.CreateAreaSubmit)
	admin.GET("/features", bo.FeaturesPage)
	admin.POST("/features", bo.FeaturesSubmit)
	admin.GET("/digests", bo.DigestsPage)
	admin.POST("/digests", bo.DigestsSubmit)
	admin.GET("/digests/preview", bo.DigestPreviewPage) // the digest's own feature, by ?kind
	admin.GET("/campaigns", locked(feature.ManualEmailCampaigns), bo.CampaignsPage)
	adminLong.POST("/campaigns", gate(feature.ManualEmailCampaigns), bo.CreateCampaignSubmit)
	admin.GET("/campaigns/:id", gate(feature.ManualEmailCampaigns), bo.CampaignPage)
	adminLong.POST("/campaigns/:id", gate(feature.ManualEmailCampaigns), bo.UpdateCampaignSubmit)
	admin.GET("/campaigns/:id/preview", gate(feature.ManualEmailCampaigns), bo.CampaignPreviewPage)
	admin.POST("/campaigns/:id/test", gate(feature.ManualEmailCampaigns), bo.TestCampaignSubmit)
	admin.GET("/campaigns/:id/send", gate(feature.ManualEmailCampaigns), bo.ConfirmSendPage)
	admin.POST("/campaigns/:id/send", gate(feature.ManualEmailCampaigns), bo.SendCampaignSubmit)
	admin.POST("/campaign-settings", gate(feature.ManualEmailCampaigns), bo.CampaignSettingsSubmit)
	admin.GET("/statuses", locked(feature.CustomIdeaStatuses), bo.StatusesPage)
	admin.POST("/statuses", locked(feature.CustomIdeaStatuses), bo.CreateStatusSubmit) // refused by the domain, said on the form
	admin.POST("/statuses/:code/delete", bo.DeleteStatusSubmit)
	c.StaticFS("/static", kit.Static())
	c.GET("/favicon.ico", kit.Favicon)

	// The JSON API of the city.
	api := c.Group("/api/v1")
	apiLong, apiFiles := long.Group("/api/v1"), files.Group("/api/v1")
	api.GET("/openapi.json", s.openAPI)
	// The portal's data.
	api.GET("/site", portal.Site)
	api.GET("/pages", portal.Pages)
	api.GET("/pages/:slug", portal.Page)
	api.GET("/topics", portal.Topics)
	api.GET("/areas", portal.Areas)
	api.GET("/folders", portal.Folders)
	api.GET("/statuses", portal.Statuses)
	api.GET("/projects", portal.Projects)
	api.GET("/projects/:id", portal.Project)
	api.GET("/ideas", portal.Ideas)
	api.POST("/ideas", portal.PostIdea)
	api.GET("/ideas/:id", portal.Idea)
	api.PATCH("/ideas/:id", portal.UpdateIdea)
	api.DELETE("/ideas/:id", portal.DeleteIdea)
	apiFiles.POST("/ideas/:id/images", portal.AddIdeaImage)
	api.DELETE("/ideas/:id/images/:image", portal.RemoveIdeaImage)
	api.PUT("/ideas/:id/reaction", portal.React)
	api.DELETE("/ideas/:id/reaction", portal.Unreact)
	api.GET("/ideas/:id/comments", portal.Comments)
	api.POST("/ideas/:id/comments", portal.AddComment)
	api.PATCH("/comments/:id", portal.EditComment)
	api.DELETE("/comments/:id", portal.DeleteComment)
	api.PUT("/comments/:id/reaction", portal.ReactToComment)
	api.DELETE("/comments/:id/reaction", portal.ReactToComment)
	api.PUT("/follows/:type/:id", portal.Follow)
	api.DELETE("/follows/:type/:id", portal.Follow)
	api.GET("/me/follows", portal.MyFollows)
	api.POST("/reports", portal.Report)
	api.GET("/notifications", portal.Notifications)
	api.POST("/notifications/read", portal.MarkRead)
	// Accounts.
	api.POST("/users", account.Register)
	api.POST("/session", account.Login)
	api.DELETE("/session", account.Logout)
	api.DELETE("/sessions", account.LogoutEverywhere)
	api.GET("/me", account.Me)
	api.GET("/tokens", account.Tokens)
	api.POST("/tokens", account.CreateToken)
	api.DELETE("/tokens/:id", account.RevokeToken)
	api.POST("/me/confirmation", account.Confirm)
	api.POST("/me/confirmation/resend", account.ResendConfirmation)
	api.POST("/password-resets", account.RequestReset)
	api.POST("/password-resets/complete", account.CompleteReset)
	api.DELETE("/me", account.DeleteAccount)
	api.POST("/me/email", account.ChangeEmail)
	apiFiles.PUT("/me/avatar", account.SetAvatar)
	api.GET("/me/data-exports", account.DataExports)
	api.POST("/me/data-exports", account.RequestDataExport)
	api.GET("/me/data-exports/:id/download", account.DownloadDataExport)
	api.GET("/me/email-consents", account.EmailConsents)
	api.PUT("/me/email-consents", account.SetEmailConsents)
	api.GET("/registration-fields", account.Fields)
	// Staff: the project's staff (admins and its moderators).
	apiLong.POST("/projects", k.RequireAdmin, bo.CreateProject)
	apiLong.PATCH("/projects/:id", k.RequireProjectStaff("id"), bo.UpdateProject)
	api.POST("/projects/:id/phases", k.RequireProjectStaff("id"), bo.AddPhase)
	api.PATCH("/projects/:id/phases/:phase", k.RequireProjectStaff("id"), bo.UpdatePhase)
	api.DELETE("/projects/:id/phases/:phase", k.RequireProjectStaff("id"), bo.DeletePhase)
	apiFiles.PUT("/projects/:id/header", k.RequireProjectStaff("id"), bo.SetProjectHeader)
	api.POST("/ideas/:id/status", bo.SetStatus)
	api.POST("/ideas/:id/feedback", bo.AddFeedback)
	api.GET("/moderation/reports", k.RequireStaff, bo.Inbox)
	api.POST("/moderation/reports/:id/read", k.RequireStaff, bo.MarkReport)
	api.PUT("/moderation/hidden/:type/:id", k.RequireStaff, bo.Hide)
	api.DELETE("/moderation/hidden/:type/:id", k.RequireStaff, bo.Hide)
	api.GET("/exports", k.RequireLogin, gate(feature.Exports), bo.Exports)
	api.POST("/exports", k.RequireLogin, gate(feature.Exports), bo.RequestExport)
	api.GET("/exports/:id", k.RequireLogin, gate(feature.Exports), bo.Export)
	// Staff: city admins.
	api.POST("/areas", k.RequireAdmin, bo.CreateArea)
	api.GET("/projects/:id/moderators", k.RequireAdmin, bo.Moderators)
	api.POST("/projects/:id/moderators", k.RequireAdmin, bo.AddModerator)
	api.DELETE("/projects/:id/moderators/:user", k.RequireAdmin, bo.RemoveModerator)
	api.POST("/folders", k.RequireAdmin, bo.CreateFolder)
	api.DELETE("/folders/:id", k.RequireAdmin, bo.DeleteFolder)
	api.GET("/features", k.RequireAdmin, bo.Features)
	api.PATCH("/features", k.RequireAdmin, bo.SetFeatures)
	api.POST("/statuses", k.RequireAdmin, gate(feature.CustomIdeaStatuses), bo.CreateStatus)
	api.DELETE("/statuses/:code", k.RequireAdmin, bo.DeleteStatus)
	api.GET("/digest-settings", k.RequireAdmin, bo.DigestSettings)
	api.PATCH("/digest-settings", k.RequireAdmin, bo.SetDigestSettings)
	api.GET("/campaigns", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.Campaigns)
	apiLong.POST("/campaigns", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.CreateCampaign)
	api.GET("/campaigns/:id", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.Campaign)
	apiLong.PATCH("/campaigns/:id", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.UpdateCampaign)
	api.POST("/campaigns/:id/test", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.TestCampaign)
	api.POST("/campaigns/:id/send", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.SendCampaign)
	api.GET("/campaign-settings", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.CampaignSettings)
	api.PATCH("/campaign-settings", k.RequireAdmin, gate(feature.ManualEmailCampaigns), bo.SetCampaignSettings)
	api.POST("/registration-fields", k.RequireAdmin, bo.CreateField)
	api.DELETE("/registration-fields/:id", k.RequireAdmin, bo.DeleteField)
	api.GET("/users", k.RequireAdmin, bo.Users)
	api.PATCH("/users/:id", k.RequireAdmin, bo.UpdateUser)
	api.GET("/invitations", k.RequireAdmin, bo.Invitations)
	api.POST("/invitations", k.RequireAdmin, bo.Invite)

	e.NoRoute(k.ReadBody(kit.TextBody), k.CheckInput, s.readScope, k.Authenticate, k.NotFound)
	e.NoMethod(k.ReadBody(kit.TextBody), k.MethodNotAllowed)

	// Platform host: the operator console. No city is ever resolved here.
	p := s.platform
	p.Use(s.requestID, s.accessLog, s.recovery, s.securityHeaders, s.platformLocale,
		k.ReadBody(kit.TextBody), k.CheckInput, k.AuthenticateOperator, k.CSRF)
	p.GET("/", console.Home)
	p.GET("/login", console.LoginPage)
	p.POST("/login", console.LoginSubmit)
	p.POST("/logout", console.Logout)
	if console.HasDevMail() {
		p.GET("/dev/mail", console.DevMailPage)
	}
	// Background jobs: figures, failed tasks, retry and delete; operators only.
	p.GET("/jobs", k.RequireOperator, console.JobsPage)
	p.POST("/jobs/retry", k.RequireOperator, console.JobsRetry)
	p.POST("/jobs/retry-archived", k.RequireOperator, console.JobsRetryArchived)
	p.POST("/jobs/delete", k.RequireOperator, console.JobsDelete)
	p.GET("/new-city", k.RequireOperator, console.NewCityPage)
	p.POST("/new-city", k.RequireOperator, console.NewCitySubmit)
	p.GET("/cities/:slug", k.RequireOperator, console.CityPage)
	p.POST("/cities/:slug", k.RequireOperator, console.CitySubmit)
	papi := p.Group("/api/v1", k.RequireOperatorAPI)
	papi.GET("/cities", console.Cities)
	papi.POST("/cities", console.CreateCity)
	papi.GET("/cities/:slug", console.City)
	papi.PATCH("/cities/:slug", console.UpdateCity)
	p.GET("/locale", k.ChooseLocale)
	p.StaticFS("/static", kit.Static())
	p.GET("/favicon.ico", kit.Favicon)
	p.NoRoute(k.NotFound)
	p.NoMethod(k.MethodNotAllowed)
}
