package user

// The sections of a personal data archive: every table of the city schema
// that names a person, and what the archive holds of it. The archive is the
// city's answer to "give me everything you hold about me", so it reads, and
// only reads, the tables of every feature, as the staff exports do.
//
// A table that names a person (a foreign key to users, or a column such as
// author_id) is either listed in archiveSections or in archiveExcluded, with
// the reason; TestArchiveCoversEveryTableNamingAPerson walks the live schema
// and fails on a table that is in neither, so a new table cannot forget the
// people it names.

// archiveSection is one part of the archive: a person's rows of one table.
type archiveSection struct {
	Key   string // the section's key in the archive
	Table string
	// Columns are the table's columns that name the person; a row is theirs
	// when one of them holds their id (their address, for invitations).
	Columns []string
	About   string // what the section holds, for the person reading it
	// Query selects the rows of user $1 with explicit
	// columns, each row carrying its Columns, and never a secret: password,
	// token and code hashes stay out; their dates go in.
	Query string
	One   bool // the section is one object (the profile), not a list
}

// archiveSections lists, in archive order, every table naming a person that
// the archive holds.
var archiveSections = []archiveSection{
	{Key: "profile", Table: "users", Columns: []string{"id"}, One: true,
		About: "Your account: name, addresses, profile, answers to the registration questions, role and dates. Your password is stored only as a hash, which is left out.",
		Query: `SELECT id, email, pending_email, first_name, last_name, handle, bio, avatar_path AS avatar, locale, role, custom_fields,
			email_confirmed_at, blocked_until, created_at, updated_at FROM users WHERE id = $1`},
	{Key: "sessions", Table: "sessions", Columns: []string{"user_id"},
		About: "The browsers you are logged in with: when, from which address and program. The session secrets are left out.",
		Query: `SELECT id, user_id, created_at, last_seen_at, expires_at, user_agent, ip FROM sessions WHERE user_id = $1 ORDER BY id`},
	{Key: "api_tokens", Table: "api_tokens", Columns: []string{"user_id"},
		About: "The API tokens you made, with when they were made, last used and revoked. The tokens themselves are left out.",
		Query: `SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id`},
	{Key: "email_codes", Table: "email_codes", Columns: []string{"user_id"},
		About: "The one-time codes and links we emailed you (confirmation, password reset, change of address). The codes are left out.",
		Query: `SELECT id, user_id, purpose, new_email, attempts, created_at, expires_at, used_at FROM email_codes WHERE user_id = $1 ORDER BY id`},
	{Key: "emails_sent", Table: "email_deliveries", Columns: []string{"user_id"},
		About: "The emails the city sent you (state sent), or was sending when this archive was made (state claimed).",
		Query: `SELECT id, user_id, campaign, recipient, event, state, claimed_at, sent_at FROM email_deliveries WHERE user_id = $1 ORDER BY id`},
	{Key: "email_consents", Table: "email_consents", Columns: []string{"user_id"},
		About: "The kinds of email you chose to receive or not. A kind not listed is one you never changed: you receive it.",
		Query: `SELECT user_id, campaign, subscribed, updated_at FROM email_consents WHERE user_id = $1 ORDER BY campaign`},
	{Key: "data_exports", Table: "data_exports", Columns: []string{"user_id"},
		About: "Your requests for this archive.",
		Query: `SELECT id, user_id, state, size_bytes, created_at, ready_at, expires_at FROM data_exports WHERE user_id = $1 ORDER BY id`},
	{Key: "invitations", Table: "invitations", Columns: []string{"email"},
		About: "Invitations the city sent to your address. The invitation links are left out.",
		Query: `SELECT id, email, role, created_at, expires_at, accepted_at FROM invitations
			WHERE email = (SELECT email FROM users WHERE id = $1) ORDER BY id`},
	{Key: "groups", Table: "group_members", Columns: []string{"user_id"},
		About: "The groups staff put you in.",
		Query: `SELECT m.group_id, m.user_id, g.title, m.added_at FROM group_members m JOIN groups g ON g.id = m.group_id
			WHERE m.user_id = $1 ORDER BY m.group_id`},
	{Key: "moderated_projects", Table: "project_moderators", Columns: []string{"user_id"},
		About: "The projects you moderate.",
		Query: `SELECT m.project_id, m.user_id, p.slug, p.title FROM project_moderators m JOIN projects p ON p.id = m.project_id
			WHERE m.user_id = $1 ORDER BY m.project_id`},
	{Key: "ideas", Table: "ideas", Columns: []string{"author_id"},
		About: "The ideas you posted, also those posted anonymously, deleted or hidden by moderators. Their pictures are under files.",
		Query: `SELECT i.id, i.author_id, i.project_id, p.title AS project_title, i.phase_id, i.anonymous, i.title, i.body, s.code AS status,
			i.location_lat, i.location_lng, i.location_name, i.likes_count, i.dislikes_count, i.comments_count,
			i.created_at, i.updated_at, i.deleted_at, i.hidden_at
			FROM ideas i JOIN idea_statuses s ON s.id = i.status_id JOIN projects p ON p.id = i.project_id
			WHERE i.author_id = $1 ORDER BY i.id`},
	{Key: "comments", Table: "comments", Columns: []string{"author_id"},
		About: "The comments you wrote, also deleted or hidden ones.",
		Query: `SELECT c.id, c.author_id, c.idea_id, i.title AS idea_title, c.parent_id, c.body, c.deleted_by, c.likes_count, c.dislikes_count,
			c.created_at, c.updated_at, c.hidden_at
			FROM comments c JOIN ideas i ON i.id = c.idea_id WHERE c.author_id = $1 ORDER BY c.id`},
	{Key: "reactions", Table: "reactions", Columns: []string{"user_id"},
		About: "Your likes and dislikes on ideas and comments.",
		Query: `SELECT r.id, r.user_id, r.item_type, r.item_id, i.title AS idea_title, r.mode, r.created_at
			FROM reactions r ` + onIdeaOfItem + ` WHERE r.user_id = $1 ORDER BY r.id`},
	{Key: "follows", Table: "follows", Columns: []string{"user_id"},
		About: "The projects, ideas, topics and areas you follow.",
		Query: `SELECT f.user_id, f.item_type, f.item_id, coalesce(p.title, t.title, a.title, to_jsonb(i.title)) AS item_title, f.created_at
			FROM follows f
			LEFT JOIN projects p ON f.item_type = 'project' AND p.id = f.item_id
			LEFT JOIN ideas i ON f.item_type = 'idea' AND i.id = f.item_id
			LEFT JOIN topics t ON f.item_type = 'topic' AND t.id = f.item_id
			LEFT JOIN areas a ON f.item_type = 'area' AND a.id = f.item_id
			WHERE f.user_id = $1 ORDER BY f.created_at, f.item_type, f.item_id`},
	{Key: "notifications", Table: "notifications", Columns: []string{"user_id"},
		About: "Your notifications, read or not.",
		Query: `SELECT n.id, n.user_id, n.kind, n.idea_id, i.title AS idea_title, n.actor_id, n.activity_id, n.payload, n.created_at, n.read_at
			FROM notifications n LEFT JOIN ideas i ON i.id = n.idea_id WHERE n.user_id = $1 ORDER BY n.id`},
	{Key: "reports", Table: "reports", Columns: []string{"reporter_id"},
		About: "The ideas and comments you reported to the moderators.",
		Query: `SELECT r.id, r.reporter_id, r.item_type, r.item_id, i.title AS idea_title, r.project_id, r.reason, r.note, r.created_at, r.read_at
			FROM reports r ` + onIdeaOfItem + ` WHERE r.reporter_id = $1 ORDER BY r.id`},
	{Key: "activities", Table: "activities", Columns: []string{"actor_id"},
		About: "The log of what you did on the platform.",
		Query: `SELECT id, actor_id, action, item_type, item_id, project_id, payload, created_at FROM activities WHERE actor_id = $1 ORDER BY id`},
	{Key: "idea_status_changes", Table: "idea_status_changes", Columns: []string{"actor_id"},
		About: "The status changes you made to ideas, as staff, with their notes.",
		Query: `SELECT c.id, c.actor_id, c.idea_id, i.title AS idea_title, f.code AS from_status, t.code AS to_status, c.note, c.created_at
			FROM idea_status_changes c JOIN ideas i ON i.id = c.idea_id
			JOIN idea_statuses f ON f.id = c.from_status JOIN idea_statuses t ON t.id = c.to_status
			WHERE c.actor_id = $1 ORDER BY c.id`},
	{Key: "idea_feedback", Table: "idea_feedback", Columns: []string{"author_id"},
		About: "The official feedback you gave on ideas, as staff.",
		Query: `SELECT f.id, f.author_id, f.idea_id, i.title AS idea_title, f.body, f.created_at
			FROM idea_feedback f JOIN ideas i ON i.id = f.idea_id WHERE f.author_id = $1 ORDER BY f.id`},
	{Key: "staff_exports", Table: "exports", Columns: []string{"requested_by"},
		About: "The spreadsheets of ideas, comments, reactions or users you asked for, as staff.",
		Query: `SELECT id, requested_by, kind, format, filters, status, rows_done, rows_total, size_bytes, error,
			created_at, started_at, finished_at, expires_at FROM exports WHERE requested_by = $1 ORDER BY id`},
	{Key: "campaigns", Table: "campaigns", Columns: []string{"created_by", "updated_by", "sent_by"},
		About: "The email campaigns you wrote, last edited or sent, as staff.",
		Query: `SELECT id, created_by, updated_by, sent_by, subject, body, audience, status, created_at, updated_at, sending_at, sent_at
			FROM campaigns WHERE $1 IN (created_by, updated_by, sent_by) ORDER BY id`},
	{Key: "campaign_tests", Table: "campaign_tests", Columns: []string{"user_id"},
		About: "The test emails of campaigns you sent yourself, as staff.",
		Query: `SELECT id, campaign_id, user_id, locale, created_at FROM campaign_tests WHERE user_id = $1 ORDER BY id`},
	{Key: "campaigns_received", Table: "campaign_recipients", Columns: []string{"user_id"},
		About: "The email campaigns the city sent you, and what became of each email.",
		Query: `SELECT r.campaign_id, r.user_id, c.subject, r.state, r.detail, r.updated_at
			FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id WHERE r.user_id = $1 ORDER BY r.campaign_id`},
	{Key: "feature_settings", Table: "feature_settings", Columns: []string{"updated_by"},
		About: "The features of the portal you last switched on or off, as staff.",
		Query: `SELECT feature, enabled, updated_by, updated_at FROM feature_settings WHERE updated_by = $1 ORDER BY feature`},
	{Key: "digest_settings", Table: "digest_settings", Columns: []string{"updated_by"},
		About: "The weekly digest schedule, if you last changed it, as staff.",
		Query: `SELECT weekday, hour, updated_by, updated_at FROM digest_settings WHERE updated_by = $1`},
	{Key: "campaign_settings", Table: "campaign_settings", Columns: []string{"updated_by"},
		About: "The campaign sending speed, if you last changed it, as staff.",
		Query: `SELECT per_second, updated_by, updated_at FROM campaign_settings WHERE updated_by = $1`},
}

// onIdeaOfItem joins, to a table r with an item_type and item_id of an idea
// or a comment, the idea i it is about, so a row reads with its idea's title.
const onIdeaOfItem = `LEFT JOIN comments c ON r.item_type = 'comment' AND c.id = r.item_id
			LEFT JOIN ideas i ON i.id = CASE r.item_type WHEN 'idea' THEN r.item_id ELSE c.idea_id END`

// archiveExcluded lists, as "table.column", the columns naming a person that
// the archive leaves out on purpose, each with the reason.
var archiveExcluded = map[string]string{
	// A notification sits in its recipient's inbox: the row is the
	// recipient's data (their archive holds it). What the person did to
	// cause it is in their activities.
	"notifications.actor_id": "another person's inbox; the action that caused it is in the actor's activities",
}

// archiveFilesAbout describes the files section.
const archiveFilesAbout = "The pictures you uploaded (your avatar, your ideas' pictures), each as base64 with its type; missing marks a file the city no longer has."
