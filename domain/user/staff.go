package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/token"
	"agora/tenant"
)

// SeatsFor is how many users of role the plan includes (feature.Seats;
// feature.Unlimited, -1, for no limit). Operator staff are platform
// operators, not city users, so they never take a seat.
func SeatsFor(p tenant.Plan, role Role) int {
	admins, moderators := feature.Seats(p)
	switch role {
	case RoleAdmin:
		return admins
	case RoleModerator:
		return moderators
	}
	return feature.Unlimited
}

// checkSeat fails with errs.Forbidden when the city's plan has no free seat
// for role. Pending invitations hold a seat too.
func checkSeat(ctx context.Context, tx *tenant.Tx, role Role) error {
	limit := SeatsFor(tx.Tenant.Plan, role)
	if limit < 0 {
		return nil
	}
	var used int
	if err := tx.GetContext(ctx, &used, `SELECT
		(SELECT count(*) FROM users WHERE role = $1 AND deleted_at IS NULL) +
		(SELECT count(*) FROM invitations WHERE role = $1 AND accepted_at IS NULL AND expires_at > now())`, role); err != nil {
		return err
	}
	if used >= limit {
		return errs.E("user.seats", errs.Forbidden,
			"the %s plan includes %d %s seats and all are taken; free one or ask your provider for a larger plan",
			tx.Tenant.Plan, limit, role).WithRule("seats", string(tx.Tenant.Plan), limit)
	}
	return nil
}

// Filter narrows the admin's user list.
type Filter struct {
	Query   string // matched against name and email
	Role    Role
	GroupID int64
	Page    int // from 1
}

// PageSize is the number of users per admin list page; MaxPage the last
// page asked for that is taken as it is.
const (
	PageSize = 50
	MaxPage  = 100_000
)

// Search lists users for admins: two queries whatever the page size (the page
// and the total).
func (s *Service) Search(ctx context.Context, f Filter) ([]User, int, error) {
	// Pages past the last are empty; past MaxPage they are the last one
	// a list can have, so an offset never overflows.
	f.Page = min(max(f.Page, 1), MaxPage)
	where := []string{"u.deleted_at IS NULL"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		add("(u.email ILIKE '%%' || $%[1]d || '%%' OR (u.first_name || ' ' || u.last_name) ILIKE '%%' || $%[1]d || '%%')", q)
	}
	if f.Role != "" {
		add("u.role = $%d", f.Role)
	}
	if f.GroupID > 0 {
		add("u.id IN (SELECT user_id FROM group_members WHERE group_id = $%d)", f.GroupID)
	}
	cond := strings.Join(where, " AND ")
	var users []User
	var total int
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &total, `SELECT count(*) FROM users u WHERE `+cond, args...); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &users, `SELECT `+prefixed("u.", userColumns)+` FROM users u WHERE `+cond+
			fmt.Sprintf(` ORDER BY u.created_at DESC, u.id DESC LIMIT %d OFFSET %d`, PageSize, (f.Page-1)*PageSize), args...)
	})
	return users, total, err
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// SetRole changes a user's role within the plan's seats. An admin cannot
// demote themselves (so a city always keeps the admin who acts).
func (s *Service) SetRole(ctx context.Context, actor, id ID, role Role) (*User, error) {
	const op = "user.SetRole"
	if !role.Valid() {
		return nil, errs.InvalidField(op, "role", "%q is not one of admin, moderator, citizen", role).WithRule("choice")
	}
	if actor == id && role != RoleAdmin {
		return nil, errs.E(op, errs.Forbidden, "you cannot remove your own admin role; ask another admin").WithRule("own_admin_role")
	}
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var current Role
		err := tx.GetContext(ctx, &current, `SELECT role FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no such user")
		}
		if err != nil {
			return err
		}
		if current != role {
			// Serialise seat counting per city.
			if err := tx.Lock(ctx, "seats"); err != nil {
				return err
			}
			if err := checkSeat(ctx, tx, role); err != nil {
				return err
			}
		}
		return tx.GetContext(ctx, &u, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING `+userColumns, id, role)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Block stops a user from acting (they can still read) for days days, and
// ends their sessions. Unblock with days = 0. Staff cannot block themselves.
func (s *Service) Block(ctx context.Context, actor, id ID, days int) (*User, error) {
	const op = "user.Block"
	if days < 0 || days > 3650 {
		return nil, errs.InvalidField(op, "days", "must be between 0 and 3650").WithRule("range", 0, 3650)
	}
	if actor == id {
		return nil, errs.E(op, errs.Forbidden, "you cannot block yourself").WithRule("block_self")
	}
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var until any
		if days > 0 {
			until = s.now().Add(time.Duration(days) * 24 * time.Hour)
		}
		err := tx.GetContext(ctx, &u, `UPDATE users SET blocked_until = $2, updated_at = now()
			WHERE id = $1 AND deleted_at IS NULL RETURNING `+userColumns, id, until)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no such user")
		}
		if err != nil || days == 0 {
			return err
		}
		// A block takes effect at once: the user's sessions end (they may log
		// in again to read) and their API tokens stop working.
		return revokeAll(ctx, tx, id)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Invitation is a pending invitation to join the city with a role.
type Invitation struct {
	ID        int64     `db:"id" json:"id"`
	Email     string    `db:"email" json:"email"`
	Role      Role      `db:"role" json:"role"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	ExpiresAt time.Time `db:"expires_at" json:"expires_at"`
}

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 14 * 24 * time.Hour

// Invite invites each address with role, within the plan's seats, and queues
// the invitation emails. Addresses that already have an account or a pending
// invitation are reported in skipped, not invited twice. Errors name the
// faulty address; nothing is written when any address is invalid or the
// seats do not suffice.
func (s *Service) Invite(ctx context.Context, addrs []string, role Role) (invited []Invitation, skipped []string, err error) {
	const op = "user.Invite"
	if !role.Valid() {
		return nil, nil, errs.InvalidField(op, "role", "%q is not one of admin, moderator, citizen", role).WithRule("choice")
	}
	clean, err := inviteAddrs(addrs)
	if err != nil {
		return nil, nil, err
	}
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.Lock(ctx, "seats"); err != nil {
			return err
		}
		for _, a := range clean {
			var exists bool
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)
				OR EXISTS (SELECT 1 FROM invitations WHERE email = $1 AND accepted_at IS NULL AND expires_at > now())`, a); err != nil {
				return err
			}
			if exists {
				skipped = append(skipped, a)
				continue
			}
			if role != RoleCitizen {
				if err := checkSeat(ctx, tx, role); err != nil {
					return err
				}
			}
			// An expired invitation to the same address makes way for the new one.
			if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE email = $1 AND accepted_at IS NULL`, a); err != nil {
				return err
			}
			_, hash := token.New("") // replaced by the emailed token at send time
			var inv Invitation
			if err := tx.GetContext(ctx, &inv, `INSERT INTO invitations (email, role, token_hash, expires_at)
				VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id, email, role, created_at, expires_at`,
				a, role, hash, InvitationTTL.Seconds()); err != nil {
				return err
			}
			if err := tx.Enqueue(ctx, tenant.Task{Type: tenant.TaskEmail, Queue: "critical",
				ID:      fmt.Sprintf("email:invitation:%d", inv.ID),
				Payload: map[string]any{"kind": KindInvitation, "invitation_id": inv.ID, "event": fmt.Sprintf("invitation-%d", inv.ID)}}); err != nil {
				return err
			}
			invited = append(invited, inv)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return invited, skipped, nil
}

// inviteAddrs checks the addresses of one invitation round (1 to 1000) and
// returns them normalised, each once, in the order first given. Errors name
// the faulty address ("emails[i]").
func inviteAddrs(addrs []string) ([]string, error) {
	const op = "user.Invite"
	if len(addrs) == 0 || len(addrs) > 1000 {
		return nil, errs.InvalidField(op, "emails", "give 1 to 1000 addresses").WithRule("count", 1, 1000)
	}
	clean := make([]string, 0, len(addrs))
	seen := map[string]bool{}
	for i, a := range addrs {
		n, err := email.Normalize(op, fmt.Sprintf("emails[%d]", i), a)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			clean = append(clean, n)
		}
	}
	return clean, nil
}

// KindInvitation is the email kind of invitations.
const KindInvitation = "invitation"

// InvitationRecipient is what the invitation email needs.
type InvitationRecipient struct {
	ID    int64  `db:"id"`
	Email string `db:"email"`
	Role  Role   `db:"role"`
}

// PendingInvitation reads a pending invitation on tx (sql.ErrNoRows when it
// was accepted, expired or removed).
func PendingInvitation(ctx context.Context, tx *tenant.Tx, invitationID int64) (InvitationRecipient, error) {
	var r InvitationRecipient
	err := tx.GetContext(ctx, &r, `SELECT id, email, role FROM invitations
		WHERE id = $1 AND accepted_at IS NULL AND expires_at > now()`, invitationID)
	return r, err
}

// IssueInvitationToken gives a pending invitation a fresh token (replacing
// its hash) on tx and returns the invitation and the token for the link.
func IssueInvitationToken(ctx context.Context, tx *tenant.Tx, invitationID int64) (InvitationRecipient, string, error) {
	secret, hash := token.New("")
	var r InvitationRecipient
	err := tx.GetContext(ctx, &r, `UPDATE invitations SET token_hash = $2
		WHERE id = $1 AND accepted_at IS NULL AND expires_at > now() RETURNING id, email, role`, invitationID, hash)
	return r, secret, err
}

// InvitationByToken returns the pending invitation of a link token.
// Errors: errs.NotFound when unknown, accepted or expired.
func (s *Service) InvitationByToken(ctx context.Context, secret string) (*Invitation, error) {
	var inv Invitation
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &inv, `SELECT id, email, role, created_at, expires_at FROM invitations
			WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()`, token.Hash(secret))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("user.Invitation", errs.NotFound, "this invitation is unknown, already accepted or expired").WithRule("invitation")
	}
	return &inv, err
}

// AcceptInvitation creates the invited account with the invitation's role
// and a confirmed email (the link proved the address). Errors: errs.NotFound
// for a bad token, errs.Invalid for bad fields.
func (s *Service) AcceptInvitation(ctx context.Context, secret string, r Registration) (*User, error) {
	const op = "user.AcceptInvitation"
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var inv Invitation
		err := tx.GetContext(ctx, &inv, `UPDATE invitations SET accepted_at = now()
			WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now() RETURNING id, email, role, created_at, expires_at`, token.Hash(secret))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "this invitation is unknown, already accepted or expired").WithRule("invitation")
		}
		if err != nil {
			return err
		}
		r.Email = inv.Email
		u, err = insertUser(ctx, tx, op, r, inv.Role, true, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Invitations lists pending invitations, newest first.
func (s *Service) Invitations(ctx context.Context) ([]Invitation, error) {
	var out []Invitation
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT id, email, role, created_at, expires_at FROM invitations
			WHERE accepted_at IS NULL AND expires_at > now() ORDER BY created_at DESC`)
	})
	return out, err
}

// Staff is how many seats of each staff role are taken, counted as checkSeat
// counts them (accounts with the role and pending invitations to it), and
// how many pending invitations the city has in all.
type Staff struct {
	Admins, Moderators int // seats taken
	Pending            int // invitations not yet accepted nor expired, every role
}

// StaffCounts counts the city's staff seats and pending invitations (one
// query).
func (s *Service) StaffCounts(ctx context.Context) (Staff, error) {
	var st Staff
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(ctx, `WITH pending AS (
				SELECT role FROM invitations WHERE accepted_at IS NULL AND expires_at > now()
			), staff AS (
				SELECT role, count(*) AS n FROM users WHERE role IN ('admin', 'moderator') AND deleted_at IS NULL GROUP BY role
			)
			SELECT coalesce((SELECT n FROM staff WHERE role = 'admin'), 0) + (SELECT count(*) FROM pending WHERE role = 'admin'),
				coalesce((SELECT n FROM staff WHERE role = 'moderator'), 0) + (SELECT count(*) FROM pending WHERE role = 'moderator'),
				(SELECT count(*) FROM pending)`).Scan(&st.Admins, &st.Moderators, &st.Pending)
	})
	return st, err
}
